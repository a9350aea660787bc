"""Cooley–Dodge cable benchmark: jaxneuro against the notebook's algorithm in NumPy, NEURON and Jaxley.

    python benchmarks/cable.py [--repeats 5] [--batches 16 64 256] [--solvers]

Prints one table, and writes it to ``benchmarks/results/cable.json`` and ``benchmarks/CABLE.md``
(machine, versions, date): wall time (median of the repeats, after compilation, which is reported on its
own), and throughput in compartment-steps per second (nodes × steps × cables / wall).  The cable
is Cooley & Dodge's: 281 nodes × 5000 steps of 1 µs, float64.  Batches vary the radius
(200–300 µm), so every member has its own matrix.  NEURON (``pip install neuron``) runs the same
cable with its Crank–Nicolson (``secondorder = 2``) when it is installed: with exact rates
(jaxneuro's model) and with its default rate tables (faster, and 1.6e-4 fast in velocity).  So
does Jaxley (``pip install jaxley``), with ``solver="crank_nicolson"`` (``jaxley_cable.py``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jaxneuro import notebook_reference as notebook_numpy
from timing import timed  # noqa: E402

import jaxneuro as jn  # noqa: E402

NODES, STEPS = 281, 5000
RESULTS = Path(__file__).resolve().parent / "results" / "cable.json"
REPORT = Path(__file__).resolve().parent / "CABLE.md"


def neuron_run(repeats, tables=False):
    """NEURON on the same cable: (median wall seconds, velocity 2–3 cm in m/s), or None; exact
    rates (jaxneuro's model), or with ``tables`` NEURON's default rate tables."""
    try:
        from neuron_cable import NeuronCable

        model = NeuronCable(NODES, 0.001, tables=tables)
    except ImportError:
        return None
    model.run()
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.run()
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), model.velocity()


def jaxley_run(repeats):
    """Jaxley on the same cable: (setup s, compile + first run s, median wall s, velocity 2–3 cm
    in m/s), or None."""
    try:
        start = time.perf_counter()
        from jaxley_cable import JaxleyCable

        model = JaxleyCable(NODES, 0.001)
    except ImportError:
        return None
    setup = time.perf_counter() - start
    v, first, wall = timed(model.run, repeats)
    return setup, first, wall, model.velocity(v)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="*", default=[16, 64, 256])
    parser.add_argument("--solvers", action="store_true", help="also time the 'doubling' and 'lapack' linear solvers")
    args = parser.parse_args(argv)

    axon, grid, stim = jn.cooley_dodge_axon(), jn.cooley_dodge_grid(), jn.cooley_dodge_stimulus()
    rows = []

    def add(name, cables, first, wall, note=""):
        rate = NODES * STEPS * cables / wall
        rows.append((name, cables, first, wall, rate, note))

    start = time.perf_counter()
    v, *_ = notebook_numpy.simulate()
    first = time.perf_counter() - start
    walls = []
    for _ in range(max(1, args.repeats)):
        start = time.perf_counter()
        notebook_numpy.simulate()
        walls.append(time.perf_counter() - start)
    add("NumPy baseline (notebook algorithm, matrix factored once)", 1, None, statistics.median(walls),
        f"{notebook_numpy.velocity(v, 0.025, 0.001, 80, 120):.6f} m/s")

    for label, record in (("reductions", jn.Record.reductions()), ("full v history", jn.Record())):
        solvers = ("thomas", "doubling", "lapack") if args.solvers else ("thomas",)
        for solver in solvers:
            fn = lambda: jn.simulate_cable(axon, grid, stim, record=record, linear_solver=solver)  # noqa: E731
            _, first, wall = timed(fn, args.repeats)
            vel = float(jn.conduction_velocity(fn(), 20_000, 30_000))
            add(f"jaxneuro single run, {label}, {solver}", 1, first, wall, f"{vel:.6f} m/s")

    for size in args.batches:
        radii = jnp.linspace(200.0, 300.0, size)
        batch_axon = axon._replace(radius=radii)
        batch_stim = stim._replace(amplitude=stim.amplitude * (radii / 238.0) ** 1.5)
        fn = lambda: jn.simulate_cable(batch_axon, grid, batch_stim, record=jn.Record.reductions())  # noqa: E731
        _, first, wall = timed(fn, args.repeats)
        add(f"jaxneuro batch of {size} (one program, reductions)", size, first, wall, f"{wall / size * 1e3:.2f} ms per cable")

    neuron = neuron_run(args.repeats)
    if neuron is not None:
        add("NEURON (hh, exact rates, secondorder=2, nseg=281)", 1, None, neuron[0], f"{neuron[1]:.6f} m/s (β_m 1/18)")
        tables = neuron_run(args.repeats, tables=True)
        add("NEURON (hh, its default rate tables, same)", 1, None, tables[0], f"{tables[1]:.6f} m/s (β_m 1/18)")
    else:
        rows.append(("NEURON: not installed (pip install neuron)", None, None, None, None, ""))
    jaxley = jaxley_run(args.repeats)
    if jaxley is not None:
        setup, first, wall, velocity = jaxley
        add("Jaxley (HH x Q10, crank_nicolson, ncomp=281)", 1, first, wall,
            f"{velocity:.6f} m/s (β_m 1/18); import + build {setup:.1f} s")
    else:
        rows.append(("Jaxley: not installed (pip install jaxley)", None, None, None, None, ""))

    print(f"Cooley–Dodge cable, {NODES} nodes x {STEPS} steps, float64 | {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores | jax {jax.__version__} on {jax.devices()[0].platform}")
    header = f"{'case':58} {'cables':>6} {'compile+1st (s)':>15} {'wall (ms)':>10} {'Mcomp-steps/s':>14}  note"
    print(header)
    print("-" * len(header))
    for name, cables, first, wall, rate, note in rows:
        if wall is None:
            print(name)
            continue
        first_s = f"{first:.2f}" if first is not None else "-"
        print(f"{name:58} {cables:>6} {first_s:>15} {wall * 1e3:>10.1f} {rate / 1e6:>14.1f}  {note}")
    print("Targets (issue 2, 2-core CPU): single run <= 30 ms after compile; batched >= 60 M compartment-steps/s.")
    write_results(rows, args.repeats)


def write_results(rows, repeats: int) -> None:
    """``benchmarks/results/cable.json`` and ``benchmarks/CABLE.md``: the table with the machine,
    versions and date."""
    import json

    from timing import environment

    env = environment()
    for name in ("neuron", "jaxley"):
        try:
            env[name] = __import__(name).__version__
        except (ImportError, AttributeError):
            pass
    records = [{"case": name, "cables": cables, "compile_and_first_s": first, "wall_s": wall,
                "compartment_steps_per_s": rate, "note": note} for name, cables, first, wall, rate, note in rows]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"environment": env, "repeats": repeats, "rows": records}, indent=2) + "\n")
    versions = ", ".join(f"{k} {env[k]}" for k in ("jax", "jaxneuro", "neuron", "jaxley") if k in env)
    text = ["# The Cooley–Dodge cable: jaxneuro, the notebook's algorithm, NEURON, Jaxley", "",
            "Written by `python benchmarks/cable.py` from `benchmarks/results/cable.json`. One cable of "
            f"{NODES} nodes × {STEPS} steps of 1 µs (7 cm, float64); wall times are medians of {repeats} runs after "
            "compilation, which is reported on its own. jaxneuro's runs use the notebook's β_m, NEURON's and "
            "Jaxley's H&H's (1/18 per mV); NEURON and Jaxley put their potentials at compartment centres, jaxneuro "
            "at nodes, so their velocities on this grid differ (NEURON with exact rates and Jaxley discretise alike: "
            "theirs agree); converged, NEURON's and jaxneuro's agree (CONVERGED.md). Compile "
            "times are measured in one process, in the order of the rows: the first row also pays JAX's own "
            "warm-up, and Jaxley's builds its cell (JAX operations) before it compiles.", "",
            f"{env['device']}, {env['cpu']}, {os.cpu_count()} cores; {versions}; {env['date']}", "",
            "| case | cables | compile + first run (s) | wall (ms) | M compartment-steps/s | note |",
            "|---|---:|---:|---:|---:|---|"]
    for r in records:
        if r["wall_s"] is None:
            text.append(f"| {r['case']} | | | | | |")
            continue
        first = "-" if r["compile_and_first_s"] is None else f"{r['compile_and_first_s']:.2f}"
        text.append(f"| {r['case']} | {r['cables']} | {first} | {r['wall_s'] * 1e3:.1f} | "
                    f"{r['compartment_steps_per_s'] / 1e6:.1f} | {r['note']} |")
    REPORT.write_text("\n".join(text) + "\n")
    print(f"wrote {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
