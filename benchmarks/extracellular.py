"""Extracellular sweeps: the notebook's 29 radii x 9 distances (scipy splrep + quad in Python
loops) against jaxneuro's one compiled call, and a 1000 x 100 sweep.

    python benchmarks/extracellular.py [--repeats 5] [--skip-scipy]

Same spike profile for both (the notebook's own, from its cable algorithm in
``jaxneuro.notebook_reference``); notebook units and limits (±1000 µm) so the numbers can be compared.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jaxneuro import notebook_reference as notebook_numpy
from timing import print_table, timed  # noqa: E402

from jaxneuro import extracellular as ex  # noqa: E402
from jaxneuro.reproduce import NOTEBOOK_DISTANCES, NOTEBOOK_RADII  # noqa: E402


def scipy_sweep(profile_x, profile_v, radii, distances):
    """The notebook's loop: splrep of the widened profile, quad of eq. 10 over ±1000 µm."""
    from scipy import interpolate
    from scipy.integrate import quad

    out = np.zeros((len(radii), len(distances)))
    for i, a in enumerate(radii):
        tck = interpolate.splrep(profile_x * np.sqrt(a), profile_v)
        for j, h in enumerate(distances):
            out[i, j] = quad(lambda u: a**2 * (3 * u**2 / (u**2 + h**2) ** 2.5 - 1 / (u**2 + h**2) ** 1.5)
                             * interpolate.splev(u, tck, ext=1), -1000, 1000, limit=400)[0]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-scipy", action="store_true")
    args = parser.parse_args(argv)
    v = notebook_numpy.simulate(a=1e-4, L=1.0, duration=20.0, Delta_x=2e-3, Delta_t=0.01, Ia_amp=500.0,
                                Ia_duration=0.5, rho=150.0, T=30.0, EL=10.5987)[0]
    row = v[np.argmax(v[:, 250])]
    x = (np.arange(row.size) - np.argmax(row)) * 20.0
    profile = ex.SpikeProfile.from_samples(x, row, ex.NOTEBOOK_AXON, centre="node")
    distances = np.concatenate([NOTEBOOK_DISTANCES, [250.0]])
    options = dict(units="notebook", limits=(-1000.0, 1000.0))
    axons = profile.axon._replace(radius=NOTEBOOK_RADII)
    rows = []
    ours, c, w = timed(lambda: ex.sweep(profile, axons, distances, **options).value, args.repeats)
    rows.append(("jaxneuro 29 x 9 (one compiled call)", c, w, ""))
    if not args.skip_scipy:
        start = time.perf_counter()
        reference = scipy_sweep(x, row, NOTEBOOK_RADII, distances)
        wall = time.perf_counter() - start
        worst = float(np.max(np.abs(np.asarray(ours) / reference - 1)))
        rows.insert(0, ("notebook: scipy splrep + quad loops, 29 x 9", None, wall, ""))
        rows[1] = rows[1][:3] + (f"{wall / w:.0f}x faster; max relative difference {worst:.1e}",)
    big_r, big_d = np.geomspace(0.1, 20.0, 1000), np.geomspace(25.0, 2000.0, 100)
    big_axons = profile.axon._replace(radius=big_r)
    _, c, w = timed(lambda: ex.sweep(profile, big_axons, big_d, **options).value, max(1, args.repeats // 2))
    rows.append(("jaxneuro 1000 x 100 (one compiled call)", c, w, f"{w / 1e5 * 1e6:.1f} µs per (radius, distance)"))

    print_table("extracellular sweeps", rows, "Target (issue 4, 2-core CPU): 29 x 9 sweep <= 0.5 s after compile.", 44)

if __name__ == "__main__":
    main()
