"""Travelling-wave speed finder: one speed to a 1e-13 bracket, its derivative, a 64-point
speed–temperature curve in one vmapped call, and what a change of a numerical option costs
(Cooley–Dodge axon, notebook β_m, RK4, dt = 1 µs).

    python benchmarks/wave.py [--repeats 5]

Wall times are medians after compilation; the first call (compilation included) is reported
separately.  The last rows change one traced option (``rtol``, ``branch``, ``t_stop``, ``dt``)
and time the first call with the new value: no recompilation of the search (a new ``dt``
recompiles only the small program that records the pulse).  The notebook's way, trial and
error by hand, has no wall time to compare with; its algorithm is reproduced to 3.6e-14 by the
test ``test_notebook_start_gives_the_hand_tuned_speed``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import print_table, timed  # noqa: E402

import jaxneuro as jn  # noqa: E402
from jaxneuro import wave  # noqa: E402


def _first_call(fn):
    start = time.perf_counter()
    result = jax.block_until_ready(fn())
    return result, time.perf_counter() - start


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
    rows.append(("wave_speed (same compiled search)", c, w, f"{float(result):.13f} m/s"))
    gradient = jax.jit(jax.grad(lambda a: wave.wave_speed(axon._replace(radius=a))))
    grad, cg, wg = timed(lambda: gradient(238.0), args.repeats)
    rows.append(("speed and d speed / d radius (IFT), jitted", cg, wg,
                 f"d ln u / d ln a = {float(grad) * 238.0 / float(result):.10f}"))
    eager_gradient = jax.grad(lambda t: wave.wave_speed(axon._replace(membrane=axon.membrane._replace(temperature=t))))
    grad, cg, wg = timed(lambda: eager_gradient(18.5), args.repeats)
    rows.append(("d speed / d temperature (IFT), eager", cg, wg, f"{float(grad):.8f} m/s/°C"))
    temperatures = jnp.linspace(6.3, 33.0, 64)
    batch = axon._replace(membrane=axon.membrane._replace(temperature=temperatures))
    curve, c, w = timed(lambda: wave.find_wave_speed(batch, throw=False), args.repeats)
    found = int((curve.result == jn.results.SUCCESSFUL).sum())
    rows.append(("64-point speed-temperature curve (vmap)", c, w,
                 f"{found}/64 found, {float(curve.speed[0]):.4f} .. {float(jnp.nanmax(curve.speed)):.4f} m/s"))

    wave.find_wave_speed(axon)  # the default configuration is compiled (above); now change traced options
    for label, options in (("rtol 1e-10", dict(rtol=1e-10)), ("branch train_front", dict(branch="train_front")),
                           ("t_stop 30 ms", dict(t_stop=30.0)), ("dt 2 µs (new recording only)", dict(dt=2e-3)),
                           ("dt 2 µs, t_record 20 ms: same samples", dict(dt=2e-3, t_record=20.0))):
        result, first = _first_call(lambda: wave.find_wave_speed(axon, **options))
        _, _, w = timed(lambda: wave.find_wave_speed(axon, **options), args.repeats)
        rows.append((f"changed option: {label}", first, w, f"{float(result.speed):.10f} m/s"))

    print_table("travelling-wave speed finder", rows,
                "Target (issue 3, 2-core CPU): one speed to <= 1e-12 relative bracket in <= 1 s after compile; "
                "issue 10: a changed numerical option does not recompile the search.", 44)


if __name__ == "__main__":
    main()
