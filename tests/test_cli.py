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


def test_reproduce_only_and_format(tmp_path, capsys):
    """--only takes comma-separated sections; --format svg writes SVG figures; bad names are one line."""
    assert cli.main(["--no-cache", "reproduce", "--quick", "--only", "extracellular", "--format", "svg",
                     "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("*.svg"))) == 6 and not list(tmp_path.glob("*.png"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["wall_seconds"]) == {"extracellular", "total"} and "cable_fig2" not in summary
    out = capsys.readouterr().out
    assert "[4/5 extracellular |" in out and "report.html" in out
    assert cli.main(["reproduce", "--only", "cable,waves", "--out", str(tmp_path / "x")]) == 2
    assert "--only takes sections among" in capsys.readouterr().err and not (tmp_path / "x").exists()


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
