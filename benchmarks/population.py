"""Population oscillator: vector field on a 1000 x 1000 grid (against the notebook's nested
Python loops) and a 256-value h_ex bifurcation scan with fixed points, types and periods.

    python benchmarks/population.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import print_table, timed  # noqa: E402

from jaxneuro import population as pop  # noqa: E402


def notebook_loops(n):
    """The notebook's dX_dt in nested Python loops (SNIC preset) on an n x n grid."""
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
    start = time.perf_counter()
    loops = notebook_loops(1000)
    rows.append(("notebook nested loops, 1000 x 1000 field", None, time.perf_counter() - start, ""))
    grid = pop.Grid2D(-10, 10, -20, 10, 1000, 1000)
    speed = jax.jit(lambda p: pop.field(p, grid).speed)
    out, c, w = timed(lambda: speed(params), args.repeats)
    rows.append(("jaxneuro field + speed, 1000 x 1000", c, w,
                 f"max |difference| {float(np.max(np.abs(np.asarray(out) - loops))):.1e}"))
    batch = params._replace(h_ex=jnp.linspace(-7.6, -6.6, 256))
    result, c, w = timed(lambda: pop.scan(batch).oscillation.period, max(1, args.repeats // 2))
    rows.append(("h_ex scan, 256 values (fixed points, types, periods)", c, w,
                 f"{int(np.sum(np.isfinite(np.asarray(result))))} oscillating"))

    print_table("population oscillator", rows,
                "Targets (issue 5, 2-core CPU): 1000 x 1000 field <= 0.1 s after compile; 256-value scan <= 10 s.")

if __name__ == "__main__":
    main()
