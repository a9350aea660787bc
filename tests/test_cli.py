import json
import subprocess
import sys

import pytest

from jaxneuro import cli


def test_cable_json(capsys):
    rc = cli.main(["cable", "--length", "30000", "--dx", "500", "--dt", "0.002", "--t-stop", "3",
                   "--x1", "15000", "--x2", "25000", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert 17.0 < out["velocity_m_per_s"] < 20.0
    assert out["compartments"] == 61 and out["steps"] == 1500
    assert out["peak_mV_max"] > 90.0 and out["wall_seconds_with_compile"] > 0


def test_cable_current_stimulus_and_richardson(capsys):
    rc = cli.main(["cable", "--length", "30000", "--dx", "500", "--dt", "0.002", "--t-stop", "3",
                   "--stim-current", "5000", "--x1", "15000", "--x2", "25000", "--richardson"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Richardson" in text and "m/s" in text


def test_cable_bad_input_is_a_clear_error(capsys):
    assert cli.main(["cable", "--radius", "0"]) == 2
    assert "axon.radius must be > 0" in capsys.readouterr().err
    assert cli.main(["cable", "--dx", "-1"]) == 2
    assert "dx" in capsys.readouterr().err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "jaxneuro.cli", "cable", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--temperature" in out.stdout and "µm" in out.stdout


@pytest.mark.slow
def test_reproduce_writes_figures_and_summary(tmp_path):
    # The wave section (~3 min) is left to its own tests (tests/test_wave.py) to keep the suite short.
    assert cli.main(["reproduce", "--out", str(tmp_path), "--only", "cable", "extracellular"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    for name in ("cable_fig2_profiles.png", "cable_fig3_cooley_dodge.png", "cable_convergence.png",
                 "cable_radius_sweep.png", "cable_peak_along_axon.png", "extracellular_fig5_profiles_1_vs_4um.png",
                 "extracellular_fig6_prototypical_profile.png", "extracellular_fig7_spline_check.png",
                 "extracellular_fig8_phi_vs_radius.png", "extracellular_fig9_phi_vs_distance.png",
                 "extracellular_waveform_over_time.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert summary["extracellular"]["notebook_max_relative_error"] < 1e-5
    assert summary["extracellular"]["eq9_vs_eq10_spline_max_relative"] < 1e-6
    assert "travelling_wave" not in summary
    assert abs(summary["cooley_dodge_notebook_beta_m"]["velocity_2_3cm"] - 18.7215) < 1e-3
    assert abs(summary["radius_sweep"]["exponent"] - 0.5) < 0.01
    for label in summary["converged_velocity"].values():
        assert abs(label["observed_order"] - 2.0) < 0.1


def test_version_and_python_m(capsys):
    import jaxneuro

    out = subprocess.run([sys.executable, "-m", "jaxneuro", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"jaxneuro {jaxneuro.__version__}"
    assert jaxneuro.__version__ != "0+unknown"


def test_errors_are_one_line_and_json_is_strict(capsys):
    assert cli.main(["cable", "--temperature", "-300"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("jaxneuro: error: axon.membrane.temperature")
    # A weak stimulus: the run succeeds, the velocity does not exist: null with its reason, exit 3.
    rc = cli.main(["cable", "--length", "10000", "--dx", "500", "--dt", "0.005", "--t-stop", "1",
                   "--x1", "2000", "--x2", "8000", "--stim-density", "10", "--json"])
    text = capsys.readouterr().out
    out = json.loads(text)  # strict JSON: no NaN
    assert rc == 3 and out["velocity_m_per_s"] is None and out["result"] == "did_not_fire"
    assert "no spike" in out["velocity_m_per_s_reason"] and "NaN" not in text
