"""Population oscillator: simulation, vector field on a 1000 x 1000 grid (against the notebook's
nested Python loops) and a 256-value h_E bifurcation scan with fixed points, types and periods.

Every jaxneuro case is timed twice, separately: its first call (compilation included) and the
median of later calls (the compiled program, reused: nothing recompiles).

    python benchmarks/population.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import print_table, timed  # noqa: E402

from jaxneuro import population as pop  # noqa: E402


def notebook_loops(n):
    """The notebook's dX_dt in nested Python loops (SNIC preset: rate factors 1 and 1.5) on an n x n grid."""
    h_ex, h_in, tau_ex, tau_in, c2, c4, c_EE, c_EI = (-7.1, -4.0, 1, 1.5, 10, 0, 5, 10)
    X, Y = np.meshgrid(np.linspace(-10, 10, n), np.linspace(-20, 10, n))
    magnitudes = np.zeros_like(X)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            dx = (h_ex - X[i, j] - c2 * np.tanh(Y[i, j]) + c_EE * np.tanh(X[i, j])) * tau_ex
            dy = (h_in - Y[i, j] - c4 * np.tanh(Y[i, j]) + c_EI * np.tanh(X[i, j])) * tau_in
            magnitudes[i, j] = np.sqrt(dx**2 + dy**2)
    return magnitudes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    params = pop.preset("snic")
    rows = []

    run, first, wall = timed(lambda: pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START).state,
                             max(args.repeats, 5))
    rows.append(("simulate, notebook homoclinic run (10 000 samples)", first, wall,
                 f"end {np.round(np.asarray(run[-1]), 3).tolist()}; target: later calls <= 50 ms"))

    start = time.perf_counter()
    loops = notebook_loops(1000)
    rows.append(("notebook nested loops, 1000 x 1000 field", None, time.perf_counter() - start, ""))
    window = pop.Grid2D(-10, 10, -20, 10, 1000, 1000)
    speed, first, wall = timed(lambda: pop.field(params, window).speed, args.repeats)
    rows.append(("jaxneuro field + speed, 1000 x 1000", first, wall,
                 f"max |difference| {float(np.max(np.abs(np.asarray(speed) - loops))):.1e}"))

    points, first, wall = timed(lambda: len(pop.fixed_points(params)), args.repeats)
    rows.append(("fixed_points (4001 samples of E, refined)", first, wall, f"{points} fixed points"))

    batch = params._replace(h_E=jnp.linspace(-7.6, -6.6, 256))
    period, first, wall = timed(lambda: pop.scan(batch).oscillation.period, max(1, args.repeats // 2))
    rows.append(("h_E scan, 256 values (fixed points, types, periods)", first, wall,
                 f"{int(np.sum(np.isfinite(np.asarray(period))))} oscillating; first / later call "
                 f"{first / wall:.1f}x (target >= 10x)"))

    print_table("population oscillator", rows,
                "Targets (issue 10, 2-core CPU): simulate later calls <= 50 ms; 256-value scan: later calls >= 10x "
                "faster than the first (nothing recompiles); 1000 x 1000 field <= 0.1 s after compile.")


if __name__ == "__main__":
    main()
