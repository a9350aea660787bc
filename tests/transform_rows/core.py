"""Transform rows of the shared numerical pieces: tridiagonal solves, root finding, result codes.

The root finders take callables, so each row wraps them in a module-level jitted function (the
way they are meant to be used: inside the caller's compiled code)."""

import jax
import jax.numpy as jnp

from jaxneuro import results, rootfinding, tridiagonal
from transform_rows import Row

N = 17
RHS = jnp.sin(jnp.arange(N, dtype=float))


def _diagonals(r):
    return jnp.full(N, -r / 2), jnp.full(N, 1.0 + r), jnp.full(N, -r / 2)


def _factor(r):
    return tridiagonal.factor(*_diagonals(r))


@jax.jit
def _sqrt_by_newton(a):
    return rootfinding.newton(lambda x: x * x - a, jnp.asarray(1.0))


@jax.jit
def _sqrt_by_bisection(a):
    lo, hi, _, result, _ = rootfinding.bisect(lambda x, c: (jnp.sign(x * x - a), c), jnp.asarray(0.0),
                                              jnp.asarray(10.0), atol=1e-12)
    return 0.5 * (lo + hi), result


ROWS = [
    Row("tridiagonal.factor", _factor, 1.8),
    Row("tridiagonal.solve", lambda r: tridiagonal.solve(_factor(r), RHS), 1.8),
    Row("tridiagonal.solve_doubling", lambda r: tridiagonal.solve_doubling(_factor(r), RHS), 1.8),
    Row("tridiagonal.solve_system", lambda r: tridiagonal.solve_system(_diagonals(r), _factor(r), RHS), 1.8),
    Row("tridiagonal.matvec", lambda r: tridiagonal.matvec(*_diagonals(r), RHS), 1.8),
    Row("rootfinding.newton", _sqrt_by_newton, 2.0),
    Row("rootfinding.bisect", _sqrt_by_bisection, 2.0,
        skip={"grad": "a bisection's bracket is piecewise constant in the parameters; derivatives of roots "
                      "come from the implicit function theorem (wave.wave_speed)"}),
    Row("results.first_failure", lambda x: results.first_failure(jnp.where(x > 1.0, 3, 0), jnp.asarray(5)), 2.0,
        skip={"grad": "integer result codes have no derivative"}),
]

HOST_SIDE = {
    "results.message": "text of a code, on the host",
    "results.name": "name of a code, on the host",
    "results.is_concrete": "inspects whether values are traced",
    "results.raise_if_failed": "raises on concrete codes (does nothing under a trace)",
    **{f"validation.{name}": "input check on concrete values, before tracing"
       for name in ("batch_shape", "check_choice", "check_integer", "check_interval", "check_number",
                    "check_temperature", "is_finite_number", "is_tracer", "leaves_with_names")},
}
