"""Boundary-value problems on a mesh: collocation, a structured Newton solver, continuation.

The machinery behind :mod:`jaxneuro.pulses` (travelling pulses as homoclinic orbits, wave
trains as periodic orbits), independent of the H&H model.

* **Discretisation**: the 3-stage Lobatto IIIA collocation (Hermite–Simpson, compressed: the
  midpoint is eliminated), the method of MATLAB's ``bvp4c``: fourth order, A-stable (the
  travelling-wave system has fast modes in both directions), one residual per interval

      r_k = x_{k+1} - x_k - h/6 (f_k + 4 f(x_mid) + f_{k+1}),
      x_mid = (x_k + x_{k+1})/2 - h/8 (f_{k+1} - f_k).

* **The linear algebra**: the Newton matrix is *almost block diagonal* (each interval couples
  two neighbouring nodes; boundary conditions are separated, rows at the first node and at
  the last), bordered by a few dense columns (unknown parameters: speed, temperature,
  period) and dense rows (phase condition, arclength).  :func:`solve_bordered` eliminates it
  node by node with partial pivoting inside each block (Gaussian elimination with row
  pivoting restricted to the rows that can hold a pivot: stable like dense GEPP), carrying
  the dense rows and columns along: O(N d³) work and O(N d²) memory, never a dense matrix of
  the whole discretisation.
* **Newton**: ``newton`` (a building block for use inside a program) iterates in a ``lax.while_loop`` and returns a result code
  (:mod:`jaxneuro.results`) with the solution: ``SUCCESSFUL``, ``MAX_ITERATIONS`` or
  ``DIVERGED`` (a non-finite iterate).

Shapes: N + 1 nodes of dimension d (``x`` is (N + 1, d)), q parameters ``theta`` (q,),
p left and s right boundary rows, g global rows, with p + s + g = d + q.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import results

Array = jax.Array

__all__ = ["Bordered", "NewtonResult", "collocation_residual", "solve_bordered"]


class Bordered(NamedTuple):
    """A linear system in the structure of a boundary-value problem's Newton step.

    Equations (each block's rows = its right-hand side):

    * left boundary: ``left @ x[0] + left_theta @ theta = left_rhs`` (p rows),
    * interval k: ``a[k] @ x[k] + b[k] @ x[k+1] + c[k] @ theta = rhs[k]`` (d rows each),
    * right boundary: ``right @ x[N] + right_theta @ theta = right_rhs`` (s rows),
    * global: ``sum_k g[k] @ x[k] + g_theta @ theta = g_rhs`` (g rows, dense in x).
    """

    left: Array  # (p, d)
    left_theta: Array  # (p, q)
    left_rhs: Array  # (p,)
    a: Array  # (N, d, d)
    b: Array  # (N, d, d)
    c: Array  # (N, d, q)
    rhs: Array  # (N, d)
    right: Array  # (s, d)
    right_theta: Array  # (s, q)
    right_rhs: Array  # (s,)
    g: Array  # (N + 1, g, d)
    g_theta: Array  # (g, q)
    g_rhs: Array  # (g,)


def solve_bordered(system: Bordered) -> tuple:
    """Solve a :class:`Bordered` system: returns ``(x (N + 1, d), theta (q,))``.

    Elimination node by node (``lax.scan``): at node k the p rows left over from the previous
    node (they involve x[k] and theta only) and interval k's d rows form a (p + d)-row block;
    LU with partial pivoting on its x[k] columns gives d pivot rows (kept for the back
    substitution) and p new left-over rows in x[k+1].  The dense rows are reduced by the pivot
    rows as they pass.  The last p left-over rows, the right boundary and the dense rows form
    a (d + q) square system for x[N] and theta.

    The right-hand sides travel apart from the matrix and only through linear operations with
    coefficients computed from the matrix, so the solution is linear in them in the sense of
    JAX: a tangent or cotangent right-hand side (implicit derivatives) transposes.
    """
    d = system.a.shape[-1]
    p = system.left.shape[0]

    def eliminate(carry, block):
        rows, rows_rhs, g_rows, g_rhs = carry  # (p, d + q) [x_k | theta], (p,), (g, d + q), (g,)
        a, b, c, r, g_next = block
        left_over = jnp.concatenate([rows[:, :d], jnp.zeros((p, d), rows.dtype), rows[:, d:]], axis=1)
        m = jnp.concatenate([left_over, jnp.concatenate([a, b, c], axis=1)], axis=0)  # (p + d, 2d + q)
        rhs = jnp.concatenate([rows_rhs, r])
        lu, _, perm = jax.lax.linalg.lu(m[:, :d])
        m, rhs = m[perm], rhs[perm]
        lower = jnp.tril(lu, -1) + jnp.eye(p + d, d, dtype=lu.dtype)
        upper = jnp.triu(lu[:d])
        top = jax.scipy.linalg.solve_triangular(lower[:d], m[:d, d:], lower=True, unit_diagonal=True)
        top_rhs = jax.scipy.linalg.solve_triangular(lower[:d], rhs[:d], lower=True, unit_diagonal=True)
        new_rows, new_rhs = m[d:, d:] - lower[d:] @ top, rhs[d:] - lower[d:] @ top_rhs
        # Dense rows: remove their x_k part with the pivot rows [upper | top].
        w = jax.scipy.linalg.solve_triangular(upper, g_rows[:, :d].T, lower=False, trans=1).T  # g_x U^-1
        g_new = jnp.concatenate([g_next, g_rows[:, d:]], axis=1) - w @ top
        return (new_rows, new_rhs, g_new, g_rhs - w @ top_rhs), (upper, top, top_rhs)

    rows0 = jnp.concatenate([system.left, system.left_theta], axis=1)
    g0 = jnp.concatenate([system.g[0], system.g_theta], axis=1)
    (rows, rows_rhs, g_rows, g_rhs), (uppers, tops, tops_rhs) = jax.lax.scan(
        eliminate, (rows0, system.left_rhs, g0, system.g_rhs), (system.a, system.b, system.c, system.rhs, system.g[1:]))
    last = jnp.concatenate([rows, jnp.concatenate([system.right, system.right_theta], axis=1), g_rows], axis=0)
    end = jnp.linalg.solve(last, jnp.concatenate([rows_rhs, system.right_rhs, g_rhs]))
    x_last, theta = end[:d], end[d:]

    def back(x_next, block):
        upper, top, top_rhs = block
        x = jax.scipy.linalg.solve_triangular(upper, top_rhs - top[:, :d] @ x_next - top[:, d:] @ theta, lower=False)
        return x, x

    _, xs = jax.lax.scan(back, x_last, (uppers, tops, tops_rhs), reverse=True)
    return jnp.concatenate([xs, x_last[None]], axis=0), theta


def collocation_residual(field: Callable, x: Array, theta: Array, mesh: Array, args) -> Array:
    """Residuals (N, d) of the compressed Lobatto IIIA (Hermite–Simpson) collocation of
    ``x' = field(x, theta, args)`` on ``mesh`` (N + 1,) for nodes ``x`` (N + 1, d)."""
    f = jax.vmap(field, in_axes=(0, None, None))(x, theta, args)
    h = jnp.diff(mesh)[:, None]
    mid = 0.5 * (x[:-1] + x[1:]) - h / 8.0 * (f[1:] - f[:-1])
    f_mid = jax.vmap(field, in_axes=(0, None, None))(mid, theta, args)
    return x[1:] - x[:-1] - h / 6.0 * (f[:-1] + 4.0 * f_mid + f[1:])


def _interval_residual(field, xk, xk1, theta, h, args):
    fk, fk1 = field(xk, theta, args), field(xk1, theta, args)
    mid = 0.5 * (xk + xk1) - h / 8.0 * (fk1 - fk)
    return xk1 - xk - h / 6.0 * (fk + 4.0 * field(mid, theta, args) + fk1)


def value_and_jacobian(fun: Callable, *args: Array) -> tuple:
    """``(fun(*args), Jacobians)`` by forward mode, the value computed once with them.

    ``args`` are 1-D arrays; ``fun`` returns an array or a tuple of arrays.  The Jacobians
    follow the output's structure, each a tuple with one array per argument, of shape
    ``output.shape + arg.shape`` (as ``jax.jacfwd(fun, argnums=(0, 1, ...))``)."""
    splits = [int(k) for k in np.cumsum([jnp.shape(a)[0] for a in args])[:-1]]
    flat = jnp.concatenate(args)

    def flat_fun(z):
        return fun(*jnp.split(z, splits))

    value, columns = jax.vmap(lambda t: jax.jvp(flat_fun, (flat,), (t,)), out_axes=(None, -1))(
        jnp.eye(flat.size, dtype=flat.dtype))
    jacobians = jax.tree.map(lambda j: tuple(jnp.split(j, splits, axis=-1)), columns)
    return value, jacobians


def collocation_blocks(field: Callable, x: Array, theta: Array, mesh: Array, args) -> tuple:
    """``(residual (N, d), a, b, c)``: the residuals and their Jacobians with respect to
    x[k], x[k+1] and theta, one forward-mode evaluation per interval (vmapped)."""
    h = jnp.diff(mesh)

    def one(xk, xk1, hk):
        r, (a, b, c) = value_and_jacobian(lambda u, v, t: _interval_residual(field, u, v, t, hk, args), xk, xk1, theta)
        return r, a, b, c

    return jax.vmap(one)(x[:-1], x[1:], h)


class NewtonResult(NamedTuple):
    x: Array
    theta: Array
    iterations: Array
    step: Array  # max-norm of the last Newton correction
    residual: Array  # max-norm of the residual at the returned point
    result: Array


def newton(assemble: Callable, residual_norm: Callable, x0: Array, theta0: Array, *, tol: float,
           max_iterations: int) -> NewtonResult:
    """Newton's method for F(x, theta) = 0, where ``assemble(x, theta)`` returns the
    :class:`Bordered` system with the Jacobian and rhs = -F, and ``residual_norm(x, theta)``
    the max-norm of F (at the returned point).

    Stops when the correction's max-norm is below ``tol`` times (1 + the iterate's), after at
    least one step.  Codes: ``SUCCESSFUL``, ``MAX_ITERATIONS``, ``DIVERGED`` (non-finite)."""

    def cond(state):
        x, theta, k, step = state
        scale = 1.0 + jnp.maximum(jnp.max(jnp.abs(x)), jnp.max(jnp.abs(theta)))
        return (k < max_iterations) & ~(step <= tol * scale)

    def body(state):
        x, theta, k, _ = state
        dx, dtheta = solve_bordered_traced(assemble(x, theta))
        step = jnp.maximum(jnp.max(jnp.abs(dx)), jnp.max(jnp.abs(dtheta)))
        return x + dx, theta + dtheta, k + 1, step

    init = (x0, theta0, jnp.asarray(0), jnp.asarray(jnp.inf, x0.dtype))
    x, theta, k, step = jax.lax.while_loop(cond, body, init)
    residual = residual_norm(x, theta)
    finite = jnp.isfinite(step) & jnp.all(jnp.isfinite(x)) & jnp.isfinite(residual)
    scale = 1.0 + jnp.maximum(jnp.max(jnp.abs(x)), jnp.max(jnp.abs(theta)))
    result = jnp.where(~finite, results.DIVERGED,
                       jnp.where(step <= tol * scale, results.SUCCESSFUL, results.MAX_ITERATIONS)).astype(jnp.int32)
    return NewtonResult(x, theta, k, step, residual, result)


# The plain functions, for use inside a caller's program (pulses); the public ones compile
# once per shape (and field) when called eagerly.
solve_bordered_traced, collocation_residual_traced = solve_bordered, collocation_residual
solve_bordered = jax.jit(solve_bordered)
collocation_residual = jax.jit(collocation_residual, static_argnums=(0,))
