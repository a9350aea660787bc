import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxneuro import tridiagonal as tri


def random_system(n, rng, batch=()):
    lower = rng.uniform(-1, 0, batch + (n,))
    upper = rng.uniform(-1, 0, batch + (n,))
    diagonal = 1.0 + np.abs(lower) + np.abs(upper) + rng.uniform(0, 1, batch + (n,))
    return lower, diagonal, upper


def dense(lower, diagonal, upper):
    n = diagonal.shape[-1]
    return np.diag(diagonal) + np.diag(lower[1:], -1) + np.diag(upper[:-1], 1) if n > 1 else np.diag(diagonal)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 281, 1000])
@pytest.mark.parametrize("method", [tri.solve, tri.solve_doubling])
def test_solves_match_dense(n, method):
    rng = np.random.default_rng(n)
    lower, diagonal, upper = random_system(n, rng)
    rhs = rng.normal(size=n)
    x = method(tri.factor(jnp.asarray(lower), jnp.asarray(diagonal), jnp.asarray(upper)), jnp.asarray(rhs))
    np.testing.assert_allclose(x, np.linalg.solve(dense(lower, diagonal, upper), rhs), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("method", [tri.solve, tri.solve_doubling])
def test_batched_factor_and_rhs(method):
    rng = np.random.default_rng(0)
    lower, diagonal, upper = random_system(50, rng, (4,))
    rhs = rng.normal(size=(4, 50))
    x = method(tri.factor(*map(jnp.asarray, (lower, diagonal, upper))), jnp.asarray(rhs))
    for b in range(4):
        np.testing.assert_allclose(x[b], np.linalg.solve(dense(lower[b], diagonal[b], upper[b]), rhs[b]), rtol=1e-12)


def test_gradient_through_factor_and_solve():
    rng = np.random.default_rng(1)
    lower, diagonal, upper = map(jnp.asarray, random_system(20, rng))
    rhs = jnp.asarray(rng.normal(size=20))

    def f(scale):
        return jnp.sum(tri.solve(tri.factor(lower, diagonal * scale, upper), rhs) ** 2)

    h = 1e-6
    fd = (f(1.0 + h) - f(1.0 - h)) / (2 * h)
    assert float(jax.grad(f)(1.0)) == pytest.approx(float(fd), rel=1e-7)


@pytest.mark.parametrize("method", [tri.solve, tri.solve_doubling])
def test_node_axis_first_with_trailing_batch(method):
    # The cable's layout: nodes first, batch axes after (contiguous rows for the sweeps).
    rng = np.random.default_rng(2)
    lower, diagonal, upper = random_system(40, rng, (3,))
    rhs = rng.normal(size=(3, 40))
    fac = tri.factor(*(jnp.asarray(a.T) for a in (lower, diagonal, upper)), axis=0)
    x = method(fac, jnp.asarray(rhs.T), axis=0)
    assert x.shape == (40, 3)
    for b in range(3):
        np.testing.assert_allclose(x[:, b], np.linalg.solve(dense(lower[b], diagonal[b], upper[b]), rhs[b]), rtol=1e-12)


def test_one_factor_many_right_hand_sides():
    rng = np.random.default_rng(3)
    lower, diagonal, upper = random_system(30, rng)
    rhs = rng.normal(size=(5, 30))
    x = tri.solve(tri.factor(*map(jnp.asarray, (lower, diagonal, upper))), jnp.asarray(rhs))
    np.testing.assert_allclose(x, np.linalg.solve(dense(lower, diagonal, upper), rhs.T).T, rtol=1e-12)


def test_factor_with_one_level_serves_solve_and_is_refused_by_solve_doubling():
    # solve reads only the first doubling table: levels=1 (the cable's Thomas factor) gives the
    # same solution bit for bit; solve_doubling needs all ceil(log2 n) and says so.
    rng = np.random.default_rng(4)
    system = tuple(map(jnp.asarray, random_system(281, rng)))
    rhs = jnp.asarray(rng.normal(size=281))
    full, one = tri.factor(*system), tri.factor(*system, levels=1)
    assert full.forward.shape[0] == 9 and one.forward.shape[0] == one.backward.shape[0] == 1
    np.testing.assert_array_equal(tri.solve(one, rhs), tri.solve(full, rhs))
    with pytest.raises(ValueError, match="9 doubling tables"):
        tri.solve_doubling(one, rhs)
    for bad in (0, True, 1.0):
        with pytest.raises(ValueError, match="levels must be an integer"):
            tri.factor(*system, levels=bad)
