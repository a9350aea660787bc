"""Every script in examples/ runs in its quick mode, as a user runs it, and says what it should.

(examples/fit_recording.py runs in tests/test_fitting.py and examples/sweep_radius_temperature.py
in tests/test_sweep.py, each next to the module it shows.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figure = tmp_path / f"{name}.png"
    result = module.main(["--quick", "--out", str(figure)])
    assert figure.stat().st_size > 10_000
    return result, capsys.readouterr().out


def test_every_example_is_tested():
    tested = {"cooley_dodge", "wave_speed", "extracellular", "phase_plane", "fit_recording",
              "sweep_radius_temperature"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_cooley_dodge_example(tmp_path, capsys):
    converged, out = run_example("cooley_dodge", tmp_path, capsys)
    assert abs(converged.velocity - 18.7318) < 2e-3 and abs(converged.observed_order - 2.0) < 0.2
    assert "Richardson:" in out


def test_wave_speed_example(tmp_path, capsys):
    (found, (d_radius, d_temperature, d_gNa)), out = run_example("wave_speed", tmp_path, capsys)
    assert abs(float(found.speed) - 18.7289) < 0.01
    assert abs(float(d_radius) - float(found.speed) / 476.0) < 0.2 * float(found.speed) / 476.0  # ~ √radius
    assert float(d_temperature) > 0 and float(d_gNa) > 0
    assert "boundary-value problem: 18.7288" in out


def test_extracellular_example(tmp_path, capsys):
    phi, out = run_example("extracellular", tmp_path, capsys)
    value = np.asarray(phi.value)
    assert value.shape == (20, 10) and np.all(value < 0)
    assert np.all(np.diff(value, axis=0) < 0) and np.all(np.diff(value, axis=1) > 0)  # louder: thicker, closer


def test_phase_plane_example(tmp_path, capsys):
    scan, out = run_example("phase_plane", tmp_path, capsys)
    assert "saddle-node at h_E = -6.97149952" in out
    assert "end of run: E = 1.894, I = -1.238" in out
    assert np.any(np.asarray(scan.oscillation.oscillating)) and not np.all(np.asarray(scan.oscillation.oscillating))
