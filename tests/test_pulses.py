"""Travelling pulses as boundary-value problems (jaxneuro.pulses, jaxneuro.bvp)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuro as jn
from jaxneuro import bvp, pulses, results, wave

AXON = jn.cooley_dodge_axon()


def at(temperature):
    return AXON._replace(membrane=AXON.membrane._replace(temperature=temperature))


def crossing(z, v, w, level):
    i = int(np.where((v[:-1] < level) & (v[1:] >= level))[0][0])
    return float(pulses._hermite_root(z[i], z[i + 1], v[i], v[i + 1], w[i], w[i + 1], level, False)[0])


@pytest.mark.parametrize("temperature", [18.5, 30.0])
def test_bvp_pulse_equals_the_shooting_pulse(temperature):
    """Speed within 1e-9 relative; on the foot and upstroke (where the shooting trajectory is
    determined: it leaves the pulse soon after), V within 1e-6 mV once aligned at 50 mV."""
    axon = at(temperature)
    shot = wave.find_wave_speed(axon, dt=5e-4, t_record=4.0, every=1)
    pulse = pulses.solve_pulse(axon)
    assert int(pulse.result) == results.SUCCESSFUL and float(pulse.residual) < 1e-10
    assert abs(float(pulse.speed) / float(shot.speed) - 1.0) < 1e-9
    zs, vs, ws = (np.asarray(a) for a in (shot.z, shot.trajectory.v, shot.trajectory.w))
    keep = np.isfinite(vs)
    zs, vs, ws = zs[keep], vs[keep], ws[keep]
    zb, vb, wb = (np.asarray(a) for a in (pulse.z, pulse.profile.v, pulse.profile.w))
    shift = crossing(zs, vs, ws, 50.0) - crossing(zb, vb, wb, 50.0)
    select = (zb + shift >= zs[0]) & (zb <= zb[np.argmax(vb)])
    assert select.sum() > 100
    shot_v = pulses._hermite(jnp.asarray(zs), jnp.asarray(vs)[:, None], jnp.asarray(ws)[:, None],
                             jnp.asarray(zb[select] + shift))[:, 0]
    assert np.max(np.abs(np.asarray(shot_v) - vb[select])) < 1e-6


def test_speed_converges_at_fourth_order():
    """Nested meshes (each interval halved): successive speed differences fall ~16-fold."""
    axon = wave._as_float(at(18.5))
    mesh, x, speed, code = jax.jit(pulses._fast_guess, static_argnums=1)(axon, 150)
    assert int(code) == results.SUCCESSFUL
    fixed = pulses._Fixed(axon, jnp.zeros(()), jnp.zeros(()))
    config = pulses._Config(*pulses._PINNED, 20)
    speeds = []
    for _ in range(4):
        out = pulses._pinned(axon, mesh, x, speed, jnp.asarray(1e-13), 20)
        assert int(out.result) == results.SUCCESSFUL
        speeds.append(float(out.theta[0]))
        slope = pulses._slopes_jit(out.x, out.theta, mesh, fixed, config=config)
        finer = jnp.sort(jnp.concatenate([mesh, 0.5 * (mesh[1:] + mesh[:-1])]))
        x, mesh, speed = pulses._hermite(mesh, out.x, slope, finer), finer, out.theta[0]
    differences = np.abs(np.diff(speeds))
    ratios = differences[:-1] / differences[1:]
    assert np.all((ratios > 12.0) & (ratios < 22.0)), (speeds, ratios)


def test_continuation_passes_the_fold_at_the_propagation_failure_temperature():
    branch = pulses.continue_pulses(at(33.0), max_points=16, ds=0.5, ds_max=2.0, n_intervals=1000)
    assert branch.result == results.SUCCESSFUL
    # wave.propagation_failure (shooting, 5 mK bracket): 33.6705 °C; the continuation's fold, at 1500
    # intervals: 33.6706853 °C.
    assert abs(branch.fold_value - 33.67069) < 2e-4
    assert branch.fast[0] and not branch.fast[-1]
    assert np.all(branch.values <= branch.fold_value + 1e-9)
    slow, fast = branch.speed[~branch.fast], branch.speed[branch.fast]
    assert np.all(slow < branch.fold_speed) and branch.fold_speed < fast.max()
    assert np.all(np.diff(branch.values[~branch.fast]) < 0)  # back down the slow branch


def test_slow_pulse_returns_to_rest_and_is_not_the_shooting_root():
    pulse = pulses.slow_pulse(at(18.5), start=15.0, n_intervals=1500)
    assert int(pulse.result) == results.SUCCESSFUL and float(pulse.residual) < 1e-10
    assert abs(float(pulse.speed) - 5.62677) < 2e-4
    assert abs(float(pulse.peak_v) - 17.518) < 0.01
    rest = float(wave.resting_state(AXON).v)
    assert abs(float(pulse.profile.v[0]) - rest) < 1e-6 and abs(float(pulse.profile.v[-1]) - rest) < 1e-6
    assert abs(float(pulse.speed) - 5.5445) > 0.05


def test_slow_pulse_from_a_branch_walked_before():
    """slow_pulse(branch=) polishes the branch's slow-side points around the temperature: the
    same pulse as the walk of slow_pulse, without walking again; a branch that never comes
    back down to the temperature gives NO_PULSE."""
    branch = pulses.continue_pulses(at(15.0), lower=14.0, max_points=80, ds=1.0, ds_max=4.0)
    assert branch.states.shape == (branch.values.size, branch.mesh.size, 5) and not branch.fast[-1]
    pulse = pulses.slow_pulse(at(18.5), branch=branch, n_intervals=1500)
    assert int(pulse.result) == results.SUCCESSFUL and float(pulse.residual) < 1e-10
    assert abs(float(pulse.speed) - 5.62677) < 2e-4 and abs(float(pulse.peak_v) - 17.518) < 0.01
    short = branch._replace(values=branch.values[:3], speed=branch.speed[:3], fast=branch.fast[:3],
                            states=branch.states[:3])
    failed = pulses.slow_pulse(at(18.5), branch=short, n_intervals=1500, throw=False)
    assert int(failed.result) == results.NO_PULSE and np.isnan(float(failed.speed))
    with pytest.raises(results.NumericalError, match="did not reach 18.5"):
        pulses.slow_pulse(at(18.5), branch=short, n_intervals=1500)


def test_the_shooting_slow_root_settles_on_a_wave_train():
    """The second root of the shooting (5.5445 m/s at 18.5 °C) is not a pulse: after a first
    17.5 mV hump its trajectory settles on humps of 31.7 mV every 3.27 ms and stays > 0.3 mV."""
    shot = wave.find_wave_speed(AXON, branch="train_front", dt=1e-3, t_record=30.0, every=1)
    z, v = np.asarray(shot.z), np.asarray(shot.trajectory.v)
    finite = np.isfinite(v)
    peaks = np.where((v[1:-1] > v[:-2]) & (v[1:-1] >= v[2:]) & finite[1:-1])[0] + 1
    assert abs(v[peaks[0]] - 17.5) < 0.1
    assert np.all(np.abs(v[peaks[2:5]] - 31.65) < 0.3)
    assert np.all(np.abs(np.diff(z[peaks[2:6]]) - 3.267) < 0.02)
    late = (z > 8.0) & (z < z[peaks[5]]) & finite
    assert v[late].min() > 0.3


def test_dispersion_curve_starts_on_the_pulse_and_turns_at_a_shortest_period():
    """Wave trains from the solitary pulse (period 54 ms at 18.5 °C) towards shorter periods: the
    speed stays the pulse's to 1e-5 while the period is long (the tail has decayed), and the curve
    turns at a shortest period of ~2.46 ms (coarse steps here; the benchmark walks it finely)."""
    curve = pulses.dispersion_curve(AXON, max_points=12, n_intervals=600, ds=2.0, ds_max=20.0)
    assert curve.result == results.SUCCESSFUL
    assert curve.period[0] == pytest.approx(54.0) and curve.speed[0] == pytest.approx(curve.pulse_speed, rel=1e-9)
    long = curve.period > 25.0
    assert long.sum() >= 3 and np.all(np.abs(curve.speed[long] / curve.pulse_speed - 1.0) < 1e-5)
    assert np.all(np.diff(curve.period[curve.fast]) < 0)
    np.testing.assert_allclose(curve.wavelength, curve.speed * curve.period * 1e-3)


@pytest.mark.parametrize("call, message", [
    (lambda: pulses.solve_pulse(AXON._replace(radius=jnp.array([200.0, 238.0]))), "one axon"),
    (lambda: pulses.solve_pulse(AXON, n_intervals=3), "n_intervals"),
    (lambda: pulses.solve_pulse(AXON, tol=0.0), "tol"),
    (lambda: pulses.continue_pulses(AXON, parameter="colour"), "parameter"),
    (lambda: pulses.continue_pulses(AXON, lower=30.0, upper=20.0), "lower"),
    (lambda: pulses.continue_pulses(AXON, direction=0), "direction"),
    (lambda: pulses.slow_pulse(at(18.5), start=20.0), "start"),
    (lambda: pulses.dispersion_curve(AXON, min_period=-1.0), "min_period"),
    (lambda: pulses.dispersion_curve(AXON, max_points=1), "max_points"),
    (lambda: pulses.wave_train(AXON, -1.0), "speed"),
])
def test_bad_input_is_refused_before_compiling(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_value_and_jacobian_equals_jacfwd():
    def fun(u, v, t):
        return jnp.sin(u * v[:3]) * t[0], jnp.stack([jnp.sum(u**2) * t[1], jnp.prod(v) - t[0]])

    args = (jnp.array([0.3, -1.2, 2.0]), jnp.array([1.5, 0.2, -0.7, 3.0]), jnp.array([0.9, -2.1]))
    value, jacobians = bvp.value_and_jacobian(fun, *args)
    expected_value, expected = fun(*args), jax.jacfwd(fun, argnums=(0, 1, 2))(*args)
    for got, want in zip(jax.tree.leaves((value, jacobians)), jax.tree.leaves((expected_value, expected))):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_bordered_solve_equals_a_dense_solve():
    rng = np.random.default_rng(3)
    n, d, p, s, g, q = 5, 4, 2, 1, 2, 1
    shapes = dict(left=(p, d), left_theta=(p, q), left_rhs=(p,), a=(n, d, d), b=(n, d, d), c=(n, d, q), rhs=(n, d),
                  right=(s, d), right_theta=(s, q), right_rhs=(s,), g=(n + 1, g, d), g_theta=(g, q), g_rhs=(g,))
    system = bvp.Bordered(**{k: jnp.asarray(rng.normal(size=v)) for k, v in shapes.items()})
    size = (n + 1) * d + q
    dense, rhs, row = np.zeros((size, size)), np.zeros(size), 0
    dense[:p, :d], dense[:p, -q:], rhs[:p] = system.left, system.left_theta, system.left_rhs
    row = p
    for k in range(n):
        dense[row:row + d, k * d:(k + 2) * d] = np.concatenate([system.a[k], system.b[k]], axis=1)
        dense[row:row + d, -q:], rhs[row:row + d] = system.c[k], system.rhs[k]
        row += d
    dense[row:row + s, n * d:(n + 1) * d], dense[row:row + s, -q:], rhs[row:row + s] = (
        system.right, system.right_theta, system.right_rhs)
    row += s
    dense[row:, :-q] = np.asarray(system.g).transpose(1, 0, 2).reshape(g, -1)
    dense[row:, -q:], rhs[row:] = system.g_theta, system.g_rhs
    x, theta = bvp.solve_bordered(system)
    np.testing.assert_allclose(np.r_[np.ravel(x), theta], np.linalg.solve(dense, rhs), rtol=1e-10, atol=1e-12)
