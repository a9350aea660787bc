import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuro as jn
from jaxneuro import membrane as mb

P = jn.HHParams()


def test_notebook_gate_checks():
    # F_n(20, 0.6) and the vF_n / vF_m / vF_h arrays printed in the notebook (6.3 °C).
    assert float(mb.gate_derivatives(20.0, jn.Gates(0.6, 0.6, 0.6), P).n) == pytest.approx(0.0048690095444177128, rel=1e-14)
    v = jnp.array([-10.0, 0, 10, 20, 30])
    x = jnp.array([0.1, 0.2, 0.3, 0.4, 0.5])
    d = mb.gate_derivatives(v, jn.Gates(x, x, x), P)
    np.testing.assert_allclose(d.n, [0.01400882, 0.02155814, 0.03690637, 0.05597856, 0.07269618], atol=5e-9)
    np.testing.assert_allclose(d.m, [-0.59869277, -0.62114902, -0.38730895, -0.06484611, 0.2569922], atol=5e-9)
    np.testing.assert_allclose(d.h, [0.10207082, 0.04651483, -0.00604087, -0.09212563, -0.24219044], atol=5e-9)


def test_resting_conductance_and_length_constant():
    assert float(mb.membrane_conductance(0.0, P)) / 1000 == pytest.approx(0.00067725364844574128, rel=1e-13)
    # λ in cm for a = 1 µm, ρ = 35.4 Ω·cm (notebook: 0.045667548060889344 cm).
    assert float(mb.length_constant(1.0, 35.4, P)) / 1e4 == pytest.approx(0.045667548060889344, rel=1e-13)


def x_over_expm1(x):
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 1.0, safe / np.expm1(safe))  # the limit at the removable singularity


def reference_rates(v, k=0.0555):
    v = np.asarray(v, dtype=np.float64)
    xn, xm = (10 - v) / 10, (25 - v) / 10
    return (0.1 * x_over_expm1(xn), 0.125 * np.exp(-v / 80), x_over_expm1(xm), 4 * np.exp(-k * v),
            0.07 * np.exp(-v / 20), 1 / (np.exp((30 - v) / 10) + 1))


@pytest.mark.parametrize("centre", [10.0, 25.0])
def test_rates_match_direct_formulas_even_near_the_singularities(centre):
    offsets = np.array([-3, -0.5, -0.1, -1e-2, -1e-3, -1e-6, 1e-6, 1e-3, 1e-2, 0.1, 0.5, 3])
    v = np.concatenate([np.linspace(-50, 110, 321), centre + offsets])
    ours = (mb.alpha_n(v), mb.beta_n(v), mb.alpha_m(v), mb.beta_m(v), mb.alpha_h(v), mb.beta_h(v))
    for got, want in zip(ours, reference_rates(v)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_removable_singularities_are_finite_with_correct_gradients():
    assert float(mb.alpha_n(10.0)) == 0.1
    assert float(mb.alpha_m(25.0)) == 1.0
    # d/dv [0.1 x/(e^x - 1)], x = (10 - v)/10, at x = 0: 0.1 · (-1/2) · (-1/10) = 0.005.
    assert float(jax.grad(mb.alpha_n)(10.0)) == pytest.approx(0.005, rel=1e-12)
    assert float(jax.grad(mb.alpha_m)(25.0)) == pytest.approx(0.05, rel=1e-12)
    # And the gradient is continuous across the series / formula switch.
    for f, c in ((mb.alpha_n, 10.0), (mb.alpha_m, 25.0)):
        for dv in (1e-9, 0.099, 0.101, 1.0):
            h = 1e-6
            fd = (reference_rates(c + dv + h)[0 if f is mb.alpha_n else 2] - reference_rates(c + dv - h)[0 if f is mb.alpha_n else 2]) / (2 * h)
            assert float(jax.grad(f)(c + dv)) == pytest.approx(float(fd), rel=1e-7)
    # Gradients with respect to every parameter are finite at the singular points.
    g = jax.grad(lambda p: mb.ionic_current(10.0, mb.steady_state(25.0, p), p))(P)
    assert all(np.isfinite(leaf) for leaf in jax.tree.leaves(g))


def test_q10_and_steady_state():
    assert float(mb.q10_factor(6.3)) == 1.0
    assert float(mb.q10_factor(16.3)) == pytest.approx(3.0)
    ss = mb.steady_state(0.0, P)
    d = mb.gate_derivatives(0.0, ss, P._replace(temperature=30.0))
    np.testing.assert_allclose(jnp.stack(d), 0.0, atol=1e-16)


def test_resting_potential_zeroes_the_current():
    for el in (10.5987, 10.598, 12.0):
        p = P._replace(EL=el)
        v = mb.resting_potential(p)
        assert abs(float(mb.ionic_current(v, mb.steady_state(v, p), p))) < 1e-13
    assert abs(float(mb.resting_potential(P))) < 1e-4  # the notebook's EL puts rest at ~0
    # No conductance at all: the start value is kept, not a NaN.
    assert float(mb.resting_potential(P._replace(gNa=0.0, gK=0.0, gL=0.0))) == 0.0
