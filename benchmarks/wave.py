"""Travelling-wave speed finder: one speed to a 1e-13 bracket, and a 64-point speed–temperature
curve in one vmapped call (Cooley–Dodge axon, notebook β_m, RK4, dz = 1 µs).

    python benchmarks/wave.py [--repeats 5]

Wall times are medians after compilation (reported separately).  The notebook's way, trial and
error by hand, has no wall time to compare with; its algorithm is reproduced to 3.6e-14 by the
test ``test_notebook_start_gives_the_hand_tuned_speed``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import print_table, timed  # noqa: E402

import jaxneuro as jn  # noqa: E402
from jaxneuro import wave  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    axon = jn.cooley_dodge_axon()
    rows = []
    for sections in (1, 3, 7):
        result, c, w = timed(lambda: wave.find_wave_speed(axon, sections=sections), args.repeats)
        width = float(result.bracket[1] - result.bracket[0]) / float(result.speed)
        rows.append((f"one speed, {sections + 1}-section", c, w,
                     f"{float(result.speed):.13f} m/s, bracket {width:.1e}, {int(result.iterations)} iterations"))
    result, c, w = timed(lambda: wave.wave_speed(axon), args.repeats)
    gradient = jax.jit(jax.grad(lambda a: wave.wave_speed(axon._replace(radius=a))))
    grad, cg, wg = timed(lambda: gradient(238.0), args.repeats)
    rows.append(("speed and d speed / d radius (IFT)", cg, wg, f"d ln u / d ln a = {float(grad) * 238.0 / float(result):.10f}"))
    temperatures = jnp.linspace(6.3, 33.0, 64)
    batch = axon._replace(membrane=axon.membrane._replace(temperature=temperatures))
    curve, c, w = timed(lambda: wave.find_wave_speed(batch), args.repeats)
    rows.append(("64-point speed-temperature curve (vmap)", c, w,
                 f"{int(curve.found.sum())}/64 found, {float(curve.speed[0]):.4f} .. {float(jnp.nanmax(curve.speed)):.4f} m/s"))

    print_table("travelling-wave speed finder", rows,
                "Target (issue 3, 2-core CPU): one speed to <= 1e-12 relative bracket in <= 1 s after compile.", 42)

if __name__ == "__main__":
    main()
