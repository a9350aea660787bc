import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxneuro import integrators, results


def pendulum(y):
    return jnp.stack([y[1], -jnp.sin(y[0])])


def notebook_adams5(y0, dt, n, F):
    """The notebook's rk4 + adams5, transcribed (NumPy)."""
    res = [np.array(y0, float)]
    for _ in range(4):
        cur = res[-1]
        k1 = F(cur); k2 = F(cur + dt / 2 * k1); k3 = F(cur + dt / 2 * k2); k4 = F(cur + dt * k3)  # noqa: E702
        res.append(cur + (k1 + 2 * k2 + 2 * k3 + k4) * dt / 6)
    fV = np.array([F(r) for r in res])
    w = np.array([251 / 720, -637 / 360, 109 / 30, -1387 / 360, 1901 / 720]) * dt
    for _ in range(5, n + 1):
        res.append(res[-1] + w @ fV)
        fV = np.roll(fV, -1, 0)
        fV[4] = F(res[-1])
    return np.array(res)


def test_ab5_is_the_notebooks_algorithm():
    F = lambda y: np.array([y[1], -np.sin(y[0])])  # noqa: E731
    got = integrators.integrate(pendulum, jnp.array([1.0, 0.0]), 0.05, 60, "ab5")
    np.testing.assert_allclose(got, notebook_adams5([1.0, 0.0], 0.05, 60, F), rtol=0, atol=1e-14)


def decay(y, rate):
    return -rate * y


@pytest.mark.parametrize("solver, order", [("rk4", 4), ("ab5", 5)])
def test_convergence_order(solver, order):
    exact = 1.0 * np.exp(-2.0)
    errors = [abs(float(integrators.integrate(decay, jnp.array(1.0), 2.0 / n, n, solver, args=1.0)[-1]) - exact)
              for n in (20, 40, 80)]
    observed = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(observed - order) < 0.35), observed


@pytest.mark.parametrize("solver", ["rk4", "ab5"])
@pytest.mark.parametrize("n_steps, every", [(0, 1), (3, 1), (10, 3), (23, 7), (9, 10)])
def test_sampling_every_k_steps(solver, n_steps, every):
    full = integrators.integrate(pendulum, jnp.array([0.5, 0.1]), 0.01, n_steps, solver)
    sampled = integrators.integrate(pendulum, jnp.array([0.5, 0.1]), 0.01, n_steps, solver, every)
    assert sampled.shape == (n_steps // every + 1, 2)
    np.testing.assert_allclose(sampled, full[::every], rtol=0, atol=1e-15)


def below_half(y, rate):
    return y < 0.5


def test_integrate_until_stops_at_the_first_step_past_the_condition():
    stopped = integrators.integrate_until(decay, jnp.array(1.0), 0.01, 1000, below_half, args=1.0)
    assert bool(stopped.stopped) and int(stopped.steps) == int(np.ceil(np.log(2) / 0.01))
    assert int(stopped.result) == results.SUCCESSFUL
    never = integrators.integrate_until(lambda y: -y, jnp.array(1.0), 0.01, 50, lambda y: y < 0.0)
    assert not bool(never.stopped) and int(never.steps) == 50 and int(never.result) == results.SUCCESSFUL


def test_integrate_until_stops_where_the_state_blows_up():
    # y' = y² from 1 reaches infinity at t = 1: the loop stops at the first non-finite state.
    blown = integrators.integrate_until(lambda y: y * y, jnp.array(1.0), 0.01, 10_000, lambda y: y < 0.0)
    assert int(blown.result) == results.DIVERGED and not bool(blown.stopped) and int(blown.steps) < 200


def test_parameters_as_args_compile_once():
    from test_transforms import count_compiles

    integrators.integrate(decay, jnp.array(1.0), 0.01, 30, args=1.0)
    for rate, dt in ((2.0, 0.01), (0.5, 0.02)):
        out, compiles = count_compiles(lambda: integrators.integrate(decay, jnp.array(1.0), dt, 30, args=rate))
        assert not compiles, compiles
        assert float(out[-1]) == pytest.approx(np.exp(-rate * 30 * dt), rel=1e-8)


def test_pytrees_jit_vmap_and_grad():
    f = lambda y: {"x": y["v"], "v": -y["x"]}  # noqa: E731

    def end(x0):
        return integrators.integrate(f, {"x": x0, "v": 0.0 * x0}, 0.01, 100, "rk4")["x"][-1]

    np.testing.assert_allclose(jax.jit(jax.vmap(end))(jnp.array([1.0, 2.0])), np.cos(1.0) * np.array([1.0, 2.0]), rtol=1e-9)
    assert float(jax.grad(end)(1.0)) == pytest.approx(np.cos(1.0), rel=1e-9)


@pytest.mark.parametrize("call, words", [
    (lambda: integrators.integrate(pendulum, jnp.zeros(2), 0.1, 10, "euler"), "solver"),
    (lambda: integrators.integrate(pendulum, jnp.zeros(2), 0.1, -1), "n_steps"),
    (lambda: integrators.integrate(pendulum, jnp.zeros(2), 0.1, 2.5), "n_steps"),
    (lambda: integrators.integrate(pendulum, jnp.zeros(2), 0.1, 10, "rk4", 0), "every"),
    (lambda: integrators.integrate(pendulum, jnp.zeros(2), 0.0, 10), "dt"),
    (lambda: integrators.integrate(pendulum, jnp.zeros(2), float("nan"), 10), "dt"),
    (lambda: integrators.integrate(pendulum, jnp.array([np.nan, 0.0]), 0.1, 10), "y0"),
    (lambda: integrators.integrate(pendulum, {"x": "a"}, 0.1, 10), "y0"),
    (lambda: integrators.integrate("f", jnp.zeros(2), 0.1, 10), "f must be a function"),
    (lambda: integrators.integrate_until(pendulum, jnp.zeros(2), 0.1, -5, below_half), "max_steps"),
    (lambda: integrators.integrate_until(pendulum, jnp.zeros(2), 0.1, 5, None), "stop"),
    (lambda: integrators.rk4_step(pendulum, jnp.zeros(2), -0.1), "dt"),
    (lambda: integrators.ab5_step(pendulum, jnp.zeros(2), 0.1), "AB5State"),
])
def test_bad_input(call, words):
    with pytest.raises(ValueError, match=words):
        call()
