"""Bad input and faults, as a new user meets them: one table of cases over the CLI (every
command) and the API.  Each bad-input case must fail with a clear one-line message before any
compilation (checked: no XLA compilation happens, and it takes well under a second); each fault
case (a run that diverges, a spike that does not arrive) must end with its own exit code and a
one-line message, never a traceback.

``python tests/test_bad_input.py`` prints the table with each message and its time.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pytest

import jaxneuro as jn
from jaxneuro import cli


class Case(NamedTuple):
    name: str
    run: Callable  # tmp folder -> exit code (CLI) or raises (API)
    match: str  # expected in the message
    kind: str = "input"  # "input": before compiling; "fault": a numerical failure after running
    exit_code: int = 2  # CLI: 2 bad input, 3 numerical failure; API: unused
    setup: Callable = None  # builds an argument beforehand (not timed)


def cli_case(name, argv, match, kind="input", exit_code=None):
    """``argv`` items may be callables of the test's temporary folder (paths made when run)."""
    def run(tmp):
        return cli.main([a(tmp) if callable(a) else a for a in argv])

    return Case(name, run, match, kind, exit_code or (2 if kind == "input" else 3))


def api_case(name, thunk, match, kind="input", setup=None):
    return Case(name, lambda tmp: thunk(), match, kind, 0, setup)


CABLE = ["cable", "--length", "10000", "--x1", "2000", "--x2", "8000", "--t-stop", "1"]
GRID = jn.Grid(length=10_000.0, dx=250.0, dt=0.01, t_stop=1.0)


def _tmp_file(tmp: Path) -> str:
    path = tmp / "a-file"
    path.write_text("not a folder")
    return str(path)


def _foreign(tmp: Path) -> str:
    folder = tmp / "user-folder"
    folder.mkdir(exist_ok=True)
    (folder / "summary.json").write_text('{"mine": true}')
    return str(folder)


def _with_link(tmp: Path) -> str:
    folder = tmp / "linked-folder"
    folder.mkdir(exist_ok=True)
    outside = tmp / "outside.png"
    outside.write_text("precious")
    link = folder / "cable_fig2_profiles.png"
    if not link.is_symlink():
        link.symlink_to(outside)
    return str(folder)


def cases() -> list:
    c = [
        # --- the command line in general
        cli_case("no command", [], "required"),
        cli_case("unknown command", ["simulate"], "invalid choice"),
        cli_case("unknown flag", ["cable", "--radius-um", "3"], "unrecognized arguments"),
        # --- jaxneuro cable
        cli_case("cable --radius 0", CABLE + ["--radius", "0"], "axon.radius must be > 0"),
        cli_case("cable --radius -3", CABLE + ["--radius", "-3"], "axon.radius must be > 0"),
        cli_case("cable --radius nan", CABLE + ["--radius", "nan"], "axon.radius must be finite"),
        cli_case("cable --radius abc", CABLE + ["--radius", "abc"], "invalid float value"),
        cli_case("cable --rho 0", CABLE + ["--rho", "0"], "axon.rho must be > 0"),
        cli_case("cable --rho inf", CABLE + ["--rho", "inf"], "axon.rho must be finite"),
        cli_case("cable --temperature -300", CABLE + ["--temperature", "-300"], "above absolute zero"),
        cli_case("cable --temperature 1e6", CABLE + ["--temperature", "1e6"], "temperature must lie in"),
        cli_case("cable --gNa -1", CABLE + ["--gNa", "-1"], "axon.membrane.gNa must be >= 0"),
        cli_case("cable --Cm 0", CABLE + ["--Cm", "0"], "axon.membrane.Cm must be > 0"),
        cli_case("cable --beta-m-exponent inf", CABLE + ["--beta-m-exponent", "inf"], "beta_m_exponent must be finite"),
        cli_case("cable --dx -1", CABLE + ["--dx", "-1"], "Grid.dx must be > 0"),
        cli_case("cable --dt 0", CABLE + ["--dt", "0"], "Grid.dt must be > 0"),
        cli_case("cable --dx 300 (not a divisor)", CABLE + ["--dx", "300"], "whole number of dx"),
        cli_case("cable --t-stop nan", CABLE + ["--t-stop", "nan"], "Grid.t_stop must be a finite number"),
        cli_case("cable --length 10", CABLE + ["--length", "10"], "Grid.length must be > dx"),
        cli_case("cable --x1 > --x2", CABLE + ["--x1", "8000", "--x2", "2000"], "need --x1 < --x2"),
        cli_case("cable --x2 off the cable", CABLE + ["--x2", "80000"], "--x2 must lie on the cable"),
        cli_case("cable --stim-position -100", CABLE + ["--stim-position", "-100"], "--stim-position must lie on the cable"),
        cli_case("cable --stim-position 100 with a density", CABLE + ["--stim-position", "100"], "must be a node"),
        cli_case("cable --stim-duration -1", CABLE + ["--stim-duration", "-1"], "stimulus.duration must be >= 0"),
        cli_case("cable --stim-current nan", CABLE + ["--stim-current", "nan"], "stimulus.amplitude must be finite"),
        cli_case("cable --stim-duration shorter than dt", CABLE + ["--stim-duration", "0.0001"], "inject nothing"),
        cli_case("cable --stim-start after the run", CABLE + ["--stim-start", "5"], "inject nothing"),
        cli_case("cable --dt 0.05 (unstable at 18.5 °C)", CABLE + ["--dt", "0.05"], "diverged", kind="fault"),
        cli_case("cable --stim-density 10 (no spike)", CABLE + ["--stim-density", "10", "--json"],
                 "no spike reached", kind="fault"),
        # --- jaxneuro reproduce
        cli_case("reproduce --out at a file", ["reproduce", "--out", _tmp_file], "is a file"),
        cli_case("reproduce --out not creatable", ["reproduce", "--out", "/proc/jaxneuro-out"], "cannot create"),
        cli_case("reproduce --out holding a user's summary.json", ["reproduce", "--out", _foreign],
                 "did not write: summary.json"),
        cli_case("reproduce --out holding a symlink", ["reproduce", "--out", _with_link], "did not write"),
        cli_case("reproduce --levels 2", ["reproduce", "--out", lambda tmp: str(tmp / "new"), "--levels", "2"],
                 "converged_levels must be an integer >= 3"),
        cli_case("reproduce --only bogus", ["reproduce", "--out", lambda tmp: str(tmp / "new"), "--only", "bogus"], "--only takes sections among"),
        # --- jaxneuro speed
        cli_case("speed --temperature 1e6", ["speed", "--temperature", "1e6"], "temperature must lie in"),
        cli_case("speed --temperature -300", ["speed", "--temperature", "-300"], "above absolute zero"),
        cli_case("speed --dt -1", ["speed", "--dt", "-1"], "--dt must be > 0"),
        cli_case("speed --dt 50 (>= --t-stop)", ["speed", "--dt", "50"], "must be smaller than --t-stop"),
        cli_case("speed --rtol 0", ["speed", "--rtol", "0"], "--rtol must be > 0"),
        cli_case("speed --sections 0", ["speed", "--sections", "0"], "--sections must be an integer >= 1"),
        cli_case("speed --solver euler", ["speed", "--solver", "euler"], "invalid choice"),
        cli_case("speed --gNa inf", ["speed", "--gNa", "inf"], "axon.membrane.gNa must be finite"),
        # --- jaxneuro extracellular
        cli_case("extracellular --sigma-e 0", ["extracellular", "--sigma-e", "0"], "--sigma-e must be > 0"),
        cli_case("extracellular --rho -150", ["extracellular", "--rho", "-150"], "--rho must be > 0"),
        cli_case("extracellular --radii -1", ["extracellular", "--radii", "-1"], "--radii must be > 0"),
        cli_case("extracellular --distances nan", ["extracellular", "--distances", "nan"], "--distances must be finite"),
        cli_case("extracellular electrode inside the axon", ["extracellular", "--radii", "30", "--distances", "25"],
                 "inside the axon"),
        # --- jaxneuro population
        cli_case("population --start nan 1", ["population", "--start", "nan", "1"], "start"),
        cli_case("population --t-stop inf", ["population", "--t-stop", "inf"], "t_stop"),
        cli_case("population --tau-E 0", ["population", "--tau-E", "0"], "params.tau_E"),
        cli_case("population --samples-per-unit 0", ["population", "--samples-per-unit", "0"], "samples_per_unit"),
        cli_case("population --rtol -1", ["population", "--rtol", "-1"], "rtol"),
        cli_case("population --preset wilson", ["population", "--preset", "wilson"], "invalid choice"),
        # --- jaxneuro phase-plane
        cli_case("phase-plane --window 10 -10 -20 10", ["phase-plane", "--window", "10", "-10", "-20", "10"], "window"),
        cli_case("phase-plane --points 0 5", ["phase-plane", "--points", "0", "5"], "window"),
        cli_case("phase-plane --c4 -2", ["phase-plane", "--c4", "-2"], "c4"),
        # --- the cable API
        api_case("Axon(radius='abc')", lambda: jn.simulate_cable(jn.Axon(radius="abc"), GRID), "axon.radius must be a number"),
        api_case("HHParams(gNa='120')", lambda: jn.simulate_cable(jn.Axon(membrane=jn.HHParams(gNa="120")), GRID),
                 "axon.membrane.gNa must be a number"),
        api_case("Stimulus(amplitude=None)", lambda: jn.simulate_cable(jn.Axon(), GRID, jn.Stimulus(amplitude=None)),
                 "stimulus.amplitude must be a number"),
        api_case("temperature -300 °C", lambda: jn.simulate_cable(
            jn.Axon(membrane=jn.HHParams(temperature=-300.0)), GRID), "above absolute zero"),
        api_case("radius array with NaN", lambda: jn.simulate_cable(jn.Axon(radius=np.array([1.0, np.nan])), GRID),
                 "axon.radius must be finite"),
        api_case("batch shapes disagree", lambda: jn.simulate_cable(
            jn.Axon(radius=np.ones(3)), GRID, jn.Stimulus(amplitude=np.ones(4))), "same shape"),
        api_case("stimulus off the cable", lambda: jn.simulate_cable(jn.Axon(), GRID, jn.Stimulus(1.0, 0.0, 1.0, 2e4)),
                 "stimulus must lie on the cable"),
        api_case("stimulus between step midpoints", lambda: jn.simulate_cable(
            jn.Axon(), GRID, jn.Stimulus(100.0, 0.0, 0.001)), "inject nothing"),
        api_case("initial_v wrong length", lambda: jn.simulate_cable(jn.Axon(), GRID, initial_v=np.zeros(3)),
                 "initial_v must have shape"),
        api_case("initial_v with inf", lambda: jn.simulate_cable(jn.Axon(), GRID, initial_v=np.full(41, np.inf)),
                 "initial_v must be finite"),
        api_case("linear_solver='lu'", lambda: jn.simulate_cable(jn.Axon(), GRID, linear_solver="lu"),
                 "linear_solver must be one of"),
        api_case("Record(probes=(-5,))", lambda: jn.simulate_cable(jn.Axon(), GRID, record=jn.Record(probes=(-5.0,))),
                 "Record.probes must lie in"),
        api_case("Grid(dt=nan)", lambda: jn.Grid(1000.0, 10.0, float("nan"), 1.0), "Grid.dt must be a finite number"),
        api_case("Boundary('open')", lambda: jn.Boundary("open"), "Boundary.kind must be"),
        api_case("from_density node past the end", lambda: jn.Stimulus.from_density(100.0, 1.0, 250.0, 1.0, node=50,
                                                                                   n_nodes=41), "node must be a node"),
        api_case("converged_velocity levels=2", lambda: jn.converged_velocity(
            jn.Axon(), GRID, jn.Stimulus(), levels=2), "levels must be an integer >= 3"),
        api_case("converged_velocity x2 off the cable", lambda: jn.converged_velocity(
            jn.Axon(), GRID, jn.Stimulus(), 2_000.0, 50_000.0), "x2 must lie on the cable"),
        api_case("converged_velocity unknown option", lambda: jn.converged_velocity(
            jn.Axon(), GRID, jn.Stimulus(), record=None), "unknown option"),
        # --- the other modules' APIs (their full tables: tests/test_wave.py, test_extracellular.py, test_population.py)
        api_case("find_wave_speed(dt=0)", lambda: jn.find_wave_speed(dt=0.0), "dt"),
        api_case("find_wave_speed(branch='medium')", lambda: jn.find_wave_speed(branch="medium"), "branch"),
        api_case("wave_speed at 1e6 °C", lambda: jn.wave_speed(jn.Axon(membrane=jn.HHParams(temperature=1e6))),
                 "temperature"),
        api_case("extracellular_sweep(sigma_e=0)", lambda: jn.extracellular_sweep(
            _profile(), jn.Axon(radius=1.0), [50.0], sigma_e=0.0), "sigma_e", setup=_profile),
        api_case("extracellular_sweep(limits=(1000, -1000))", lambda: jn.extracellular_sweep(
            _profile(), jn.Axon(radius=1.0), [50.0], limits=(1000.0, -1000.0)), "limits", setup=_profile),
        api_case("grid_potential rho < 0", lambda: jn.grid_potential(
            np.zeros((3, 41)), np.arange(41) * 250.0, jn.Electrode(5000.0, 50.0), jn.Axon(radius=1.0, rho=-150.0)),
            "rho"),
        api_case("simulate_population(start=(nan, 1))", lambda: jn.simulate_population(
            jn.PopulationParams(), (np.nan, 1.0)), "start"),
        api_case("PopulationParams(tau_E=0)", lambda: jn.simulate_population(
            jn.PopulationParams(tau_E=0.0), (1.0, 1.0)), "tau_E"),
        api_case("resting_potential of a string", lambda: jn.simulate_cable(
            jn.Axon(membrane=jn.HHParams(EL="10")), GRID), "axon.membrane.EL must be a number"),
    ]
    return c


def _write(name: str, text: str):
    """A callable of the temporary folder that writes ``text`` to ``name`` and returns its path."""
    def make(tmp: Path) -> str:
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return make


_TRACE = "# jaxneuro recording: trace\nt [ms],x [µm],v [mV]\n0.0,1000.0,0.0\n0.5,1000.0,1.0\n1.0,1000.0,80.0\n"
_SPEEDS = "# jaxneuro recording: speed\ntemperature [°C],speed [m/s]\n6.3,12.3\n18.5,18.7\n"
FIT = ["fit", "--recording", _write("trace.csv", _TRACE), "--length", "10000", "--dx", "500", "--dt", "0.01"]


def fit_cases() -> list:
    from jaxneuro import fitting, recordings

    rec = recordings.TraceRecording.make([0.0, 0.5, 1.0], [1000.0], [[0.0, 1.0, 80.0]])
    return [
        cli_case("fit unknown parameter", FIT + ["--fit", "radius,diameter"], "unknown parameter 'diameter'"),
        cli_case("fit a parameter twice", FIT + ["--fit", "radius,radius"], "names a parameter twice"),
        cli_case("fit bounds reversed", FIT + ["--fit", "radius", "--bounds", "radius=400:100"],
                 "lower < upper"),
        cli_case("fit bounds unreadable", FIT + ["--fit", "radius", "--bounds", "radius=100"], "cannot read"),
        cli_case("fit start outside its bounds", FIT + ["--fit", "radius", "--bounds", "radius=100:200"],
                 "outside its bounds"),
        cli_case("fit bounds of an unfitted name", FIT + ["--fit", "radius", "--bounds", "gNa=1:200"], "not fitted"),
        cli_case("fit a recording with NaN", ["fit", "--fit", "radius", "--recording",
                 _write("nan.csv", _TRACE.replace("80.0", "nan"))], "non-finite"),
        cli_case("fit a recording with a missing value", ["fit", "--fit", "radius", "--recording",
                 _write("short.csv", _TRACE.replace(",80.0", ""))], "every row must hold 3 numbers"),
        cli_case("fit a recording of mismatched shapes", ["fit", "--fit", "radius", "--recording",
                 _write("ragged.csv", _TRACE + "1.0,2000.0,3.0\n")], "one row per (x, t) pair"),
        cli_case("fit a recording in unknown units", ["fit", "--fit", "radius", "--recording",
                 _write("furlong.csv", _TRACE.replace("x [µm]", "x [furlong]"))], "not a known length unit"),
        cli_case("fit a recording without units", ["fit", "--fit", "radius", "--recording",
                 _write("bare.csv", _TRACE.replace("v [mV]", "v"))], "has no unit"),
        cli_case("fit a recording without its kind", ["fit", "--fit", "radius", "--recording",
                 _write("kindless.csv", _TRACE.split("\n", 1)[1])], "first line must be"),
        cli_case("fit a missing recording", ["fit", "--fit", "radius", "--recording", "/nonexistent/r.csv"],
                 "does not exist"),
        cli_case("fit positions outside the cable", FIT[:2] + [_write("far.csv", _TRACE.replace("1000.0", "90000.0"))]
                 + FIT[3:] + ["--fit", "radius"], "must lie on the cable"),
        cli_case("fit --starts 0", ["fit", "--fit", "gNa", "--recording",
                 _write("t.csv", _TRACE.replace("1.0,1000.0,80.0", "1.0,1000.0,80.0\n")),
                 "--length", "10000", "--dx", "500", "--dt", "0.01", "--starts", "0"], "--starts must be"),
        cli_case("fit speeds over their own condition", ["fit", "--fit", "temperature", "--recording",
                 _write("speeds.csv", _SPEEDS)], "recording's condition"),
        cli_case("fit a trace parameter to speeds", ["fit", "--fit", "offset", "--recording",
                 _write("speeds.csv", _SPEEDS)], "cannot be fitted to a speed recording"),
        api_case("fitting.fit with an unknown method", lambda: fitting.fit(
            fitting.trace_problem(rec, "gNa", grid=GRID), method="newton"), "method must be one of"),
        api_case("fitting.fit start outside its bounds", lambda: fitting.fit(
            fitting.trace_problem(rec, "gNa", grid=GRID), {"gNa": -5.0}), "outside its bounds"),
        api_case("trace_problem with a waveform", lambda: fitting.trace_problem(
            recordings.WaveformRecording.make([0.0, 1.0], [1.0, 2.0]), "radius"), "must be a TraceRecording"),
        api_case("TraceRecording v of the wrong shape", lambda: recordings.TraceRecording.make(
            [0.0, 1.0], [10.0, 20.0], [[1.0, 2.0]]), "must have shape (len(x), len(t))"),
        api_case("TraceRecording times not increasing", lambda: recordings.TraceRecording.make(
            [1.0, 0.0], [10.0], [[1.0, 2.0]]), "strictly increasing"),
        api_case("SpeedRecording negative noise", lambda: recordings.SpeedRecording.make(
            "radius", [1.0, 2.0], [1.0, 2.0], noise=-1.0), "noise (m/s) must be > 0"),
    ]


@functools.lru_cache(maxsize=1)
def _profile():
    from jaxneuro import extracellular as ex

    x = np.arange(0.0, 4_000.0, 20.0)
    return ex.SpikeProfile.from_samples(x, 100.0 * np.exp(-((x - 2_000.0) / 300.0) ** 2), ex.NOTEBOOK_AXON)


CASES = cases() + fit_cases()


def _run_case(case: Case, tmp: Path, capsys=None):
    """(outcome, message, seconds, compilations)."""
    from test_transforms import count_compiles

    if case.setup is not None:
        case.setup()
    start = time.perf_counter()
    outcome, message, compiles = None, "", []
    try:
        outcome, compiles = count_compiles(lambda: case.run(tmp))
    except SystemExit as exit_:  # argparse's own errors and --help
        outcome = exit_.code
    except Exception as error:  # noqa: BLE001  (the API cases raise; the message is checked)
        outcome, message = type(error).__name__, str(error)
    seconds = time.perf_counter() - start
    if capsys is not None:
        captured = capsys.readouterr()
        message = message or (captured.err.strip() or captured.out.strip())
    return outcome, message, seconds, compiles


def test_the_table_is_large_enough():
    assert len(CASES) >= 80
    assert {"cable", "speed", "extracellular", "population", "phase-plane", "reproduce", "fit"} <= {
        case.name.split()[0] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case, tmp_path, capsys):
    outcome, message, seconds, compiles = _run_case(case, tmp_path, capsys)
    assert case.match in message, (case.name, message)
    assert "Traceback" not in message
    if case.exit_code:  # CLI: one line, its exit code
        assert outcome == case.exit_code, (case.name, outcome, message)
        assert message.startswith("jaxneuro: error:") or case.kind == "fault", message
    else:
        assert outcome in ("ValueError", "NumericalError", "CableDivergenceError"), (case.name, outcome)
    if case.kind == "input":
        assert not compiles and seconds < 1.0, (case.name, seconds, compiles)


def test_reproduce_refusals_leave_the_users_files_alone(tmp_path):
    folder = Path(_foreign(tmp_path))
    assert cli.main(["reproduce", "--out", str(folder)]) == 2
    assert (folder / "summary.json").read_text() == '{"mine": true}'
    linked = Path(_with_link(tmp_path))
    assert cli.main(["reproduce", "--out", str(linked)]) == 2
    assert (tmp_path / "outside.png").read_text() == "precious"


def test_debug_shows_the_traceback():
    with pytest.raises(ValueError, match="axon.radius must be > 0"):
        cli.main(CABLE + ["--radius", "0", "--debug"])


if __name__ == "__main__":  # print the table: python tests/test_bad_input.py
    import tempfile
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            out, err = StringIO(), StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                outcome, message, seconds, compiles = _run_case(case, Path(tmp))
            message = message or err.getvalue().strip().splitlines()[-1:] and err.getvalue().strip().splitlines()[-1]
            if not message and out.getvalue():
                message = out.getvalue().strip().splitlines()[-1]
            rows.append((case.name, case.kind, outcome, str(message).replace("|", "/")[:150], seconds, len(compiles)))
    print("| # | case | kind | exit / exception | message | s | compiles |")
    print("|---|---|---|---|---|---|---|")
    for i, (name, kind, outcome, message, seconds, compiles) in enumerate(rows, 1):
        print(f"| {i} | {name} | {kind} | {outcome} | {message} | {seconds:.3f} | {compiles} |")
    os._exit(0)
