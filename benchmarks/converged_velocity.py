"""A converged conduction velocity from a fresh process: ``jaxneuro cable --richardson`` against
NEURON doing the same Richardson extrapolation.

    python benchmarks/converged_velocity.py [--repeats 3]

The cable is Cooley & Dodge's (7 cm, radius 238 µm, 18.5 °C) with H&H's β_m (1/18 per mV, as
NEURON's ``hh``); the velocity is that between 2 and 3 cm from sub-step peak times.  Each level
halves dx and dt (281 nodes × 5000 steps of 1 µs first).  Two levels give one extrapolation
and no error estimate; three give two extrapolations, whose difference is the estimate that
``jaxneuro cable --richardson`` reports.  Every timing is a whole fresh process: Python start,
imports, compilation or cache loads, the runs.  jaxneuro: with an empty compilation cache
(cold), then with the cache it filled (warm, the median of the repeats).  NEURON is timed when
it is installed (``pip install neuron``): with exact rates (``usetable_hh = 0``, jaxneuro's model)
and with its default rate tables, each from its own resting potential (as jaxneuro).  So is
Jaxley (``pip install jaxley``; ``jaxley_cable.py``), cold and warm like jaxneuro, with JAX's
persistent compilation cache switched on for it as jaxneuro's CLI does.

A second table checks agreement, not speed: the converged velocities on a 12 cm cable in
windows at 2–3, 4–5 and 8–9 cm, jaxneuro against NEURON (exact rates) and the travelling-wave
speed, where the pulse has left the stimulus behind.

Prints the tables and writes ``benchmarks/results/converged_velocity.json`` and
``benchmarks/CONVERGED.md`` (machine, versions, date).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "converged_velocity.json"
REPORT = HERE / "CONVERGED.md"
BETA_M_HH = 1.0 / 18.0  # 1/mV


#: The agreement check: a 12 cm cable, velocities in these windows (µm); in the last the pulse
#: has settled onto the travelling wave.
FAR_LENGTH = 120_000.0
FAR_WINDOWS = ((20_000.0, 30_000.0), (40_000.0, 50_000.0), (80_000.0, 90_000.0))


def neuron_velocities(levels: int, tables: bool = False, length: float = None, windows=None) -> list:
    """NEURON's velocities (m/s), [level][window], on grids from dx ≈ 250 µm and dt 1 µs halving
    both (2–3 cm of the 7 cm cable by default); exact rates, or NEURON's rate tables."""
    from neuron_cable import LENGTH, WINDOW, NeuronCable

    length = LENGTH if length is None else length
    out = []
    for level in range(levels):
        nseg = (round(length / 250.0) + 1) * 2**level  # 281 on 7 cm, as jaxneuro's nodes
        model = NeuronCable(nseg, 0.001 / 2**level, tables=tables, length=length, windows=windows or (WINDOW,))
        model.run()
        out.append(model.velocities())
    return out


def jaxley_velocities(levels: int, cache: str) -> list:
    """Jaxley's velocity (m/s) between 2 and 3 cm on each level (as NEURON's, float64), with
    JAX's persistent compilation cache in the folder ``cache`` (as jaxneuro's)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_compilation_cache_dir", cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    from jaxley_cable import JaxleyCable

    out = []
    for level in range(levels):
        model = JaxleyCable(281 * 2**level, 0.001 / 2**level)
        out.append(model.velocity(model.run()))
    return out


def richardson(values) -> tuple:
    """(extrapolated velocity, error estimate or None) from velocities on grids halving dx, dt."""
    ext = [fine + (fine - coarse) / 3.0 for coarse, fine in zip(values, values[1:])]
    return ext[-1], (abs(ext[-1] - ext[-2]) if len(ext) > 1 else None)


def far_windows(have_neuron: bool) -> list:
    """Rows of the agreement check: per window, jaxneuro's and NEURON's (exact rates) converged
    velocities with their estimates, and the travelling wave's speed (m/s)."""
    import jaxneuro as jn
    from jaxneuro import wave

    axon = jn.cooley_dodge_axon(BETA_M_HH)
    grid = jn.Grid(length=FAR_LENGTH, dx=250.0, dt=0.001, t_stop=FAR_LENGTH / 18.0e3 + 1.0)
    ours = jn.cable.converged_velocities(axon, grid, jn.cooley_dodge_stimulus(), FAR_WINDOWS)
    speed = float(wave.find_wave_speed(axon, dt=5e-4, t_stop=20.0, t_record=0.0).speed)
    theirs = [None] * len(FAR_WINDOWS)
    if have_neuron:
        per_level = neuron_velocities(3, length=FAR_LENGTH, windows=FAR_WINDOWS)
        theirs = [richardson([level[k] for level in per_level]) for k in range(len(FAR_WINDOWS))]
    rows = []
    for (x1, x2), cv, neuron in zip(FAR_WINDOWS, ours, theirs):
        rows.append({"window_um": [x1, x2], "jaxneuro_m_per_s": cv.velocity, "jaxneuro_error_estimate_m_per_s":
                     cv.error_estimate, "neuron_m_per_s": neuron and neuron[0],
                     "neuron_error_estimate_m_per_s": neuron and neuron[1], "travelling_wave_m_per_s": speed})
    return rows


def fresh(arguments: list) -> tuple:
    """(wall seconds, stdout) of one fresh ``python ARGS`` process (raises if it fails)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *arguments], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--neuron-levels", type=int, help=argparse.SUPPRESS)  # the NEURON child process
    parser.add_argument("--neuron-tables", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jaxley-cache", help=argparse.SUPPRESS)  # the Jaxley child process
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    if args.jaxley_cache:
        print(json.dumps(jaxley_velocities(3, args.jaxley_cache)))
        return
    if args.neuron_levels:
        print(json.dumps([level[0] for level in neuron_velocities(args.neuron_levels, args.neuron_tables)]))
        return
    from timing import environment, table

    rows = []
    command = ["-m", "jaxneuro", "cable", "--richardson", "--json", "--beta-m-exponent", repr(BETA_M_HH)]
    with tempfile.TemporaryDirectory() as cache:
        cold, out = fresh(["-m", "jaxneuro", "--cache-dir", cache, *command[2:]])
        warm = [fresh(["-m", "jaxneuro", "--cache-dir", cache, *command[2:]])[0] for _ in range(args.repeats)]
    cv = json.loads(out)["richardson"]
    for name, wall in (("jaxneuro, cold cache", cold), ("jaxneuro, warm cache", statistics.median(warm))):
        rows.append({"case": name, "levels": 3, "wall_s": wall, "velocity_m_per_s": cv["velocity_m_per_s"],
                     "error_estimate_m_per_s": cv["error_estimate_m_per_s"], "velocities_m_per_s": cv["velocities_m_per_s"]})
    try:
        import neuron  # noqa: F401

        have_neuron = True
    except ImportError:
        have_neuron = False
    if have_neuron:
        for tables, levels in ((False, 2), (False, 3), (True, 2), (True, 3)):
            extra = ["--neuron-tables"] if tables else []
            runs = [fresh([__file__, "--neuron-levels", str(levels), *extra]) for _ in range(args.repeats)]
            values = json.loads(runs[0][1].strip().splitlines()[-1])
            velocity, error = richardson(values)
            rates = "its default rate tables" if tables else "exact rates"
            rows.append({"case": f"NEURON (hh, {rates}, secondorder=2)", "levels": levels,
                         "wall_s": statistics.median(w for w, _ in runs), "velocity_m_per_s": velocity,
                         "error_estimate_m_per_s": error, "velocities_m_per_s": values})
    else:
        rows.append({"case": "NEURON: not installed (pip install neuron)", "levels": None, "wall_s": None,
                     "velocity_m_per_s": None, "error_estimate_m_per_s": None, "velocities_m_per_s": None})
    try:
        import jaxley  # noqa: F401

        have_jaxley = True
    except ImportError:
        have_jaxley = False
    if have_jaxley:
        with tempfile.TemporaryDirectory() as cache:
            cold, out = fresh([__file__, "--jaxley-cache", cache])
            warm = [fresh([__file__, "--jaxley-cache", cache])[0] for _ in range(args.repeats)]
        values = json.loads(out.strip().splitlines()[-1])
        velocity, error = richardson(values)
        for name, wall in (("Jaxley (crank_nicolson), cold cache", cold),
                           ("Jaxley (crank_nicolson), warm cache", statistics.median(warm))):
            rows.append({"case": name, "levels": 3, "wall_s": wall, "velocity_m_per_s": velocity,
                         "error_estimate_m_per_s": error, "velocities_m_per_s": values})
    else:
        rows.append({"case": "Jaxley: not installed (pip install jaxley)", "levels": None, "wall_s": None,
                     "velocity_m_per_s": None, "error_estimate_m_per_s": None, "velocities_m_per_s": None})

    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    header = ("case", "levels", "wall from a fresh process (s)", "velocity (m/s)", "error estimate (m/s)")
    lines = [(r["case"], fmt(r["levels"], "d"), fmt(r["wall_s"], ".2f"), fmt(r["velocity_m_per_s"], ".6f"),
              fmt(r["error_estimate_m_per_s"], ".1e")) for r in rows]
    table("converged velocity 2–3 cm, Cooley–Dodge cable, H&H β_m", header, lines)

    far = far_windows(have_neuron)
    far_header = ("window (cm)", "jaxneuro (m/s)", "± (m/s)", "NEURON, exact rates (m/s)", "± (m/s)",
                  "NEURON − jaxneuro (relative)", "travelling wave (m/s)", "jaxneuro − wave (relative)")
    far_lines = [(f"{r['window_um'][0] / 1e4:g}–{r['window_um'][1] / 1e4:g}", f"{r['jaxneuro_m_per_s']:.7f}",
                  f"{r['jaxneuro_error_estimate_m_per_s']:.1e}", fmt(r["neuron_m_per_s"], ".7f"),
                  fmt(r["neuron_error_estimate_m_per_s"], ".1e"),
                  fmt(r["neuron_m_per_s"] and r["neuron_m_per_s"] / r["jaxneuro_m_per_s"] - 1.0, "+.1e"),
                  f"{r['travelling_wave_m_per_s']:.7f}", f"{r['jaxneuro_m_per_s'] / r['travelling_wave_m_per_s'] - 1:+.1e}")
                 for r in far]
    table(f"agreement on a {FAR_LENGTH / 1e4:g} cm cable (Richardson over 3 grids each)", far_header, far_lines)
    env = environment()
    if have_neuron:
        env["neuron"] = neuron.__version__
    if have_jaxley:
        env["jaxley"] = jaxley.__version__
    from jaxneuro.output import json_text

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json_text({"environment": env, "repeats": args.repeats, "rows": rows, "far_windows": far},
                                 indent=2))
    text = ["# A converged velocity from a fresh process: jaxneuro, NEURON and Jaxley", "",
            "Written by `python benchmarks/converged_velocity.py` from `benchmarks/results/converged_velocity.json`.",
            "Cooley & Dodge's cable with H&H's β_m (NEURON's `hh`), velocity 2–3 cm from sub-step peak times,",
            "Richardson extrapolation over grids halving dx and dt from 281 nodes × 5000 steps of 1 µs. Each wall",
            "time is a whole fresh process (Python start, imports, compilation or cache loads, the runs); warm",
            f"and NEURON rows are medians of {args.repeats}. Two levels give no error estimate. Jaxley builds its cells",
            "(`benchmarks/jaxley_cable.py`) in each process; its compiled programs come from JAX's persistent cache",
            "when warm, as jaxneuro's do.", "",
            f"{env['device']}, {env['cpu']}; jax {env['jax']}, jaxneuro {env['jaxneuro']}, "
            f"Python {env['python']}" + (f", NEURON {env['neuron']}" if have_neuron else "")
            + (f", Jaxley {env['jaxley']}" if have_jaxley else "") + f"; {env['date']}", "",
            "| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|"]
    text += ["| " + " | ".join(line) + " |" for line in lines]
    if have_neuron:
        by_case = {(r["case"], r["levels"]): r["velocity_m_per_s"] for r in rows}
        bias = (by_case[("NEURON (hh, its default rate tables, secondorder=2)", 3)]
                / by_case[("NEURON (hh, exact rates, secondorder=2)", 3)] - 1.0)
        text += ["", "NEURON's `hh` reads its rates from tables by default (`TABLE ... FROM -100 TO 100 WITH 200`:",
                 f"1 mV apart, interpolated linearly): its converged velocity is then {bias:+.1e} (relative) from",
                 "the one with exact rates (`h.usetable_hh = 0`), which is jaxneuro's model."]
    text += ["",
             f"## Agreement far from the stimulus ({FAR_LENGTH / 1e4:g} cm cable)", "",
             "Converged velocities (3 grids each, from dx 250 µm and dt 1 µs) in windows ever farther from the",
             "stimulus, NEURON with exact rates, both from their exact resting potential, and the",
             "travelling-wave speed (RK4, steps of 0.5 µs).", ""]
    if have_neuron:
        for r in far:
            gap = abs(r["neuron_m_per_s"] - r["jaxneuro_m_per_s"])
            both = r["neuron_error_estimate_m_per_s"] + r["jaxneuro_error_estimate_m_per_s"]
            text.append(f"- {r['window_um'][0] / 1e4:g}–{r['window_um'][1] / 1e4:g} cm: they differ by {gap:.1e} m/s, "
                        f"{'within' if gap <= both else 'more than'} the sum of their error estimates ({both:.1e} m/s).")
        text.append("")
    text += ["| " + " | ".join(far_header) + " |", "|---|" + "---:|" * (len(far_header) - 1)]
    text += ["| " + " | ".join(line) + " |" for line in far_lines]
    REPORT.write_text("\n".join(text) + "\n")
    print(f"wrote {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
