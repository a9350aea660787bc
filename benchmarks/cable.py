"""Cooley–Dodge cable benchmark: jaxneuro against the notebook's algorithm in NumPy and NEURON.

    python benchmarks/cable.py [--repeats 5] [--batches 16 64 256] [--solvers]

Prints one table: wall time (median of the repeats, after compilation, which is reported on its
own), and throughput in compartment-steps per second (nodes × steps × cables / wall).  The cable
is Cooley & Dodge's: 281 nodes × 5000 steps of 1 µs, float64.  Batches vary the radius
(200–300 µm), so every member has its own matrix.  NEURON (``pip install neuron``) runs the same
cable with its Crank–Nicolson (``secondorder = 2``) when it is installed: with exact rates
(jaxneuro's model) and with its default rate tables (faster, and 1.6e-4 fast in velocity).
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


if __name__ == "__main__":
    main()
