"""The notebook's cable algorithm in plain NumPy: the baseline jaxneuro is checked and timed against.

This is ``mk_cable_fcts``/``sim_with_lees`` of the notebook (section 3.3), vectorised (no
``np.vectorize``), with two changes only:

* the lower diagonal of the banded matrix is filled completely (the notebook's ``A[2,:-3]``
  leaves row M-1's coefficient at zero), and
* the matrix is LU-factored once (LAPACK ``dgttrf``) and each step only substitutes (``dgttrs``)
  instead of calling ``solve_banded`` every step.

Everything else is the notebook's: cm, ms, mV; start at v = 0 with gates at their v = 0 steady
state; the stimulus as a current density on node 0 whose "midpoint" value is extrapolated like
the state (so the step where it stops sees -Ia/2); ``N = ceil(duration/dt)`` stored time levels.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack


def _x_over_expm1(x):
    near = np.abs(x) < 1e-10  # the notebook's own guard, as a limit
    safe = np.where(near, 1.0, x)
    return np.where(near, 1.0, safe / np.expm1(safe))


def rates(v, beta_m_exponent=0.0555):
    """(α_n, β_n, α_m, β_m, α_h, β_h) of the notebook at 6.3 °C (1/ms)."""
    return (
        0.1 * _x_over_expm1((10.0 - v) / 10.0),
        0.125 * np.exp(-0.0125 * v),
        _x_over_expm1((25.0 - v) / 10.0),
        4.0 * np.exp(-beta_m_exponent * v),
        0.07 * np.exp(-0.05 * v),
        1.0 / (np.exp((30.0 - v) / 10.0) + 1.0),
    )


def simulate(
    a=0.0238, L=7.0, duration=5.0, Delta_x=0.025, Delta_t=0.001, Ia_amp=2500.0, Ia_duration=0.2,
    Cm=1.0, rho=35.4, GNa=120.0, ENa=115.0, GK=36.0, EK=-12.0, GL=0.3, EL=10.598, T=18.5,
    beta_m_exponent=0.0555,
):
    """``sim_with_lees`` (lengths in cm, times in ms) with the corrected, pre-factored matrix.

    Returns ``(v, n, m, h)``, each of shape (N, M + 1); defaults are Cooley & Dodge's run.
    """
    Q = 3 ** ((T - 6.3) / 10)
    r = a / (2.0 * rho * Cm) * Delta_t * 1000 / Delta_x**2
    M = int(np.ceil(L / Delta_x))
    N = int(np.ceil(duration / Delta_t))
    Na = int(np.ceil(Ia_duration / Delta_t))

    def gate_rates(v, n, m, h):
        an, bn, am, bm, ah, bh = rates(v, beta_m_exponent)
        return Q * (an * (1 - n) - bn * n), Q * (am * (1 - m) - bm * m), Q * (ah * (1 - h) - bh * h)

    def F_V(v, n, m, h, Ia):
        return (GK * n**4 * (EK - v) + GNa * m**3 * h * (ENa - v) + GL * (EL - v) + Ia) / Cm

    an, bn, am, bm, ah, bh = rates(np.zeros(M + 1), beta_m_exponent)
    v = np.zeros((N, M + 1))
    n = np.zeros((N, M + 1))
    m = np.zeros((N, M + 1))
    h = np.zeros((N, M + 1))
    n[0], m[0], h[0] = an / (an + bn), am / (am + bm), ah / (ah + bh)
    Ia_0 = np.zeros(M + 1)
    Ia_0[0] = Ia_amp

    # Explicit first step (eqs. 27, 38, 40).
    diffusion = np.empty(M + 1)
    diffusion[1:-1] = (v[0, :-2] - 2 * v[0, 1:-1] + v[0, 2:]) * r
    diffusion[0] = 2 * r * (v[0, 1] - v[0, 0])
    diffusion[-1] = 2 * r * (v[0, -2] - v[0, -1])
    v[1] = v[0] + diffusion + Delta_t * F_V(v[0], n[0], m[0], h[0], Ia_0)
    dn, dm, dh = gate_rates(v[0], n[0], m[0], h[0])
    n[1], m[1], h[1] = n[0] + Delta_t * dn, m[0] + Delta_t * dm, h[0] + Delta_t * dh

    # The banded matrix, every coefficient filled, factored once.
    upper = np.full(M, -r / 2.0)
    upper[0] = -r
    lower = np.full(M, -r / 2.0)
    lower[-1] = -r
    diagonal = np.full(M + 1, 1.0 + r)
    dl, d, du, du2, ipiv, info = lapack.dgttrf(lower, diagonal, upper)
    assert info == 0

    zero = np.zeros(M + 1)
    for i in range(2, N):
        Ia_old = Ia_0 if i <= Na else zero
        Ia_present = Ia_0 if i < Na else zero
        ve = 1.5 * v[i - 1] - 0.5 * v[i - 2]
        ne = 1.5 * n[i - 1] - 0.5 * n[i - 2]
        me = 1.5 * m[i - 1] - 0.5 * m[i - 2]
        he = 1.5 * h[i - 1] - 0.5 * h[i - 2]
        Ie = 1.5 * Ia_present - 0.5 * Ia_old
        dn, dm, dh = gate_rates(ve, ne, me, he)
        n[i], m[i], h[i] = n[i - 1] + Delta_t * dn, m[i - 1] + Delta_t * dm, h[i - 1] + Delta_t * dh
        rhs = (1 - r) * v[i - 1] + Delta_t * F_V(ve, ne, me, he, Ie)
        rhs[1:-1] += (v[i - 1, :-2] + v[i - 1, 2:]) * r / 2.0
        rhs[0] += r * v[i - 1, 1]
        rhs[-1] += r * v[i - 1, -2]
        v[i], info = lapack.dgttrs(dl, d, du, du2, ipiv, rhs)
    return v, n, m, h


def peak_times(v, Delta_t):
    """Per-node time (ms) of the maximum of v, refined by a parabola through the three samples
    around it (the same sub-step interpolation jaxneuro uses)."""
    k = np.clip(np.argmax(v, axis=0), 1, v.shape[0] - 2)
    cols = np.arange(v.shape[1])
    before, at, after = v[k - 1, cols], v[k, cols], v[k + 1, cols]
    offset = 0.5 * (before - after) / (before - 2 * at + after)
    return (k + offset) * Delta_t


def velocity(v, Delta_x, Delta_t, i1, i2):
    """Velocity (m/s) between nodes i1 and i2 from interpolated peak times."""
    t = peak_times(v[:, [i1, i2]], Delta_t)
    return (i2 - i1) * Delta_x / (t[1] - t[0]) * 10.0  # cm/ms -> m/s


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    v, n, m, h = simulate()
    elapsed = time.perf_counter() - t0
    print(f"Cooley-Dodge, NumPy baseline: {elapsed:.3f} s, velocity 2-3 cm {velocity(v, 0.025, 0.001, 80, 120):.9f} m/s")
