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
it is installed (``pip install neuron``).

Prints a table and writes ``benchmarks/results/converged_velocity.json`` and
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


def neuron_velocities(levels: int) -> list:
    """NEURON's velocity (m/s) between 2 and 3 cm on each level (run inside the fresh process)."""
    from neuron_cable import NeuronCable

    out = []
    for level in range(levels):
        model = NeuronCable(281 * 2**level, 0.001 / 2**level)
        model.run()
        out.append(model.velocity())
    return out


def richardson(values) -> tuple:
    """(extrapolated velocity, error estimate or None) from velocities on grids halving dx, dt."""
    ext = [fine + (fine - coarse) / 3.0 for coarse, fine in zip(values, values[1:])]
    return ext[-1], (abs(ext[-1] - ext[-2]) if len(ext) > 1 else None)


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
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    if args.neuron_levels:
        print(json.dumps(neuron_velocities(args.neuron_levels)))
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
        for levels in (2, 3):
            runs = [fresh([__file__, "--neuron-levels", str(levels)]) for _ in range(args.repeats)]
            values = json.loads(runs[0][1].strip().splitlines()[-1])
            velocity, error = richardson(values)
            rows.append({"case": "NEURON (hh, secondorder=2)", "levels": levels,
                         "wall_s": statistics.median(w for w, _ in runs), "velocity_m_per_s": velocity,
                         "error_estimate_m_per_s": error, "velocities_m_per_s": values})
    else:
        rows.append({"case": "NEURON: not installed (pip install neuron)", "levels": None, "wall_s": None,
                     "velocity_m_per_s": None, "error_estimate_m_per_s": None, "velocities_m_per_s": None})

    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    header = ("case", "levels", "wall from a fresh process (s)", "velocity (m/s)", "error estimate (m/s)")
    lines = [(r["case"], fmt(r["levels"], "d"), fmt(r["wall_s"], ".2f"), fmt(r["velocity_m_per_s"], ".6f"),
              fmt(r["error_estimate_m_per_s"], ".1e")) for r in rows]
    table("converged velocity 2–3 cm, Cooley–Dodge cable, H&H β_m", header, lines)
    env = environment()
    if have_neuron:
        env["neuron"] = neuron.__version__
    from jaxneuro.output import json_text

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json_text({"environment": env, "repeats": args.repeats, "rows": rows}, indent=2))
    text = ["# A converged velocity from a fresh process: jaxneuro and NEURON", "",
            "Written by `python benchmarks/converged_velocity.py` from `benchmarks/results/converged_velocity.json`.",
            "Cooley & Dodge's cable with H&H's β_m (NEURON's `hh`), velocity 2–3 cm from sub-step peak times,",
            "Richardson extrapolation over grids halving dx and dt from 281 nodes × 5000 steps of 1 µs. Each wall",
            "time is a whole fresh process (Python start, imports, compilation or cache loads, the runs); warm",
            f"and NEURON rows are medians of {args.repeats}. Two levels give no error estimate.", "",
            f"{env['device']}, {env['cpu']}; jax {env['jax']}, jaxneuro {env['jaxneuro']}, "
            f"Python {env['python']}" + (f", NEURON {env['neuron']}" if have_neuron else "") + f"; {env['date']}", "",
            "| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|"]
    text += ["| " + " | ".join(line) + " |" for line in lines]
    REPORT.write_text("\n".join(text) + "\n")
    print(f"wrote {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
