"""``jaxneuro reproduce --quick``: every section, every file, a report that renders, no NaN.

The whole quick reproduction runs once, in one test (a few minutes with compilation), which then
reads what it wrote.  The report is loaded in headless Chromium where the Debian package
``chromium`` is installed (``.ci/run`` installs it); elsewhere that last part is skipped, saying why."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from jaxneuro import cli, references, reproduce


def test_reproduce_quick(tmp_path):
    quick = tmp_path / "out"
    assert cli.main(["--no-cache", "reproduce", "--quick", "--out", str(quick)]) == 0
    check_every_section_every_file(quick)
    check_the_numbers(quick)
    check_report_has_every_figure_and_the_table(quick)
    if _chromium() is None:
        pytest.skip("everything else passed; Chromium is not installed (Debian package chromium; .ci/run installs "
                    "it with apt-get where it can), so report.html was not rendered")
    check_report_renders_in_headless_chromium(quick, tmp_path)


def test_extracellular_study_takes_fig5_from_a_4um_check_only_when_there_is_one():
    with pytest.raises(ValueError, match="needs radius 4.0 µm, got radii \\[0.25\\]"):
        reproduce.extracellular_study(((0.25, 5.0, 1000.0),), notebook_4um=False)


def _nulls(value, path=""):
    if value is None:
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _nulls(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nulls(v, f"{path}[{i}]")


def check_every_section_every_file(quick):
    summary = json.loads((quick / "summary.json").read_text())  # strict JSON: NaN is not JSON
    assert summary["quick"] is True
    assert set(summary["wall_seconds"]) == {*reproduce.SECTIONS, "total"}
    report = (quick / "report.md").read_text()
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(figures) == 21 and len(set(figures)) == 21
    for name in figures:
        assert (quick / name).stat().st_size > 10_000, name
    assert sorted(p.name for p in quick.glob("*.png")) == sorted(figures)
    # The only numbers that do not exist: the fast pulse's speed above the fold, marked why.
    nulls = list(_nulls({k: v for k, v in summary.items() if k != "comparison"}))  # a row may have no notebook value
    st = summary["speed_temperature"]
    assert all(re.fullmatch(r"speed_temperature\.fast_m_per_s\[\d+\]", n) for n in nulls), nulls
    assert all(st["fast_result"][int(re.findall(r"\d+", n)[-1])] == "no_pulse" for n in nulls)
    assert all(t > st["failure_temperature_degC"] for t, s in zip(st["temperatures_degC"], st["fast_m_per_s"])
               if s is None)


def check_the_numbers(quick):
    summary = json.loads((quick / "summary.json").read_text())
    rows = {row["quantity"]: row for row in summary["comparison"]}
    assert all(row["jaxneuro"] is not None and np.isfinite(row["jaxneuro"]) for row in rows.values())
    cd = summary["cooley_dodge_notebook_beta_m"]
    assert abs(cd["velocity_2_3cm_m_per_s"] - 18.721483) < 1e-5 and cd["peak_far_end_mV"] > 100.0
    converged = summary["converged_velocity_m_per_s"]["notebook β_m 0.0555"]
    assert abs(converged["velocity"] - 18.7318150) < 1e-5 and abs(converged["observed_order"] - 2.0) < 0.05
    wave = summary["travelling_wave"]
    assert abs(wave["automatic_from_notebook_cable_ab5_dt1e-4_m_per_s"] / references.NOTEBOOK_WAVE_SPEED - 1) < 1e-12
    # Quick's coarser shooting steps are recorded with the numbers they gave.
    finest_dt, finest_speed = wave["manifold_rk4_dt_ms_vs_speed_m_per_s"][-1]
    cable_vs_wave = wave["cable_versus_wave"]["beta_m_0.055500"]
    assert (cable_vs_wave["wave_dt_ms"], cable_vs_wave["wave_speed"]) == (finest_dt, finest_speed) == (5e-4, finest_speed)
    assert summary["speed_temperature"]["shooting_dt_ms"] == 2e-3
    pulses = summary["pulses"]
    assert abs(pulses["fold_temperature_degC"] - summary["speed_temperature"]["failure_temperature_degC"]) < 0.05
    assert abs(pulses["slow_pulse_18_5_degC"]["speed_m_per_s"] - 5.62677) < 2e-4
    assert abs(pulses["fast_pulse_18_5_degC"]["speed_m_per_s"] / 18.7288787276638 - 1) < 1e-9
    assert summary["extracellular"]["notebook_max_relative_error"] < 1e-5
    population = summary["population"]
    np.testing.assert_allclose(np.round(population["homoclinic_end_of_run_E_I_unitless"], 3), [1.894, -1.238])
    np.testing.assert_allclose(population["snic_speed_min_max_mean_per_model_time"], [0.4984, 40.7814, 19.6661],
                               atol=5e-5)
    assert abs(summary["radius_sweep"]["exponent"] - 0.5) < 0.01


def check_report_has_every_figure_and_the_table(quick):
    html = (quick / "report.html").read_text()
    assert html.count("<figure") == 21 and html.count("<figcaption>") == 21
    assert '<table id="comparison">' in html
    for header in ("quantity", "notebook", "jaxneuro", "converged or reference", "relative difference"):
        assert f"<th>{header}</th>" in html
    assert "wall time per section" in html and "jaxneuro" in html.split("<h2>Machine</h2>")[1]


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def check_report_renders_in_headless_chromium(quick, tmp_path):
    browser = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
    url = (quick / "report.html").as_uri()
    dom = subprocess.run([*browser, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    images = re.findall(r'<img src="([^"]+)"', dom.stdout)
    assert len(images) == 21 and all((quick / name).exists() for name in images)
    assert re.search(r'<table id="comparison">.*?</table>', dom.stdout, re.S).group(0).count("<tr>") >= 15
    shot = tmp_path / "report.png"
    done = subprocess.run([*browser, f"--screenshot={shot}", "--window-size=1200,2400", url], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.std() > 0.05  # text, a table and figures, not a blank page


def test_workers_compile_with_the_fast_compile_flag_and_keep_the_users(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    reproduce._worker_start(None)
    import os

    assert os.environ["XLA_FLAGS"] == f"{reproduce.WORKER_XLA_FLAGS} --xla_dump_to=/tmp/x"  # the user's last: they win
    monkeypatch.delenv("XLA_FLAGS")
    reproduce._worker_start(None)
    assert os.environ["XLA_FLAGS"] == reproduce.WORKER_XLA_FLAGS


def test_the_workers_flags_reach_xla(tmp_path):
    """The flags set in a worker take effect: nothing jaxneuro imports starts JAX's backend
    first (XLA reads XLA_FLAGS once, when it starts).  Seen through a flag that leaves files."""
    dump = tmp_path / "dump"
    code = ("import os, jax; from jaxneuro import cli, reproduce; "
            f"os.environ['XLA_FLAGS'] = '--xla_dump_to={dump}'; reproduce._worker_start(None); "
            "jax.jit(lambda x: x + 1.0)(1.0).block_until_ready()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert any(dump.iterdir())
