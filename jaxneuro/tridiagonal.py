"""Solving a constant tridiagonal system many times: factor once, substitute each step.

The Lees/Crank–Nicolson matrix of a uniform cable does not change during a run, so its LU
(Thomas) factorisation is computed once per run and each step only substitutes.  Forward and
back substitution are first-order linear recurrences, ``y[i] = b[i] + a[i] * y[i-1]``, and two
ways of evaluating them are offered:

* :func:`solve` walks the nodes (``lax.scan``, partially unrolled).  On the CPU this is the
  fastest (measured on 281 nodes: 2.4 µs per solve, 1.0 µs per system in a node-major batch of
  64, against 3.2 µs for ``lax.linalg.tridiagonal_solve``, which also refactors every call).
  A SPIKE-style partition into blocks was tried and measured no faster inside the cable step.
* :func:`solve_doubling` uses recursive doubling: after ceil(log2 n) rounds of
  ``y += A_k * shift(y, 2**k)`` every node holds the exact recurrence sum.  The ``A_k``
  (products of the multipliers over windows of 2**k nodes) depend only on the matrix and are
  tabulated by :func:`factor`.  It has no sequential dependence along the cable, which suits
  accelerators, but it makes 2·log2(n) passes over memory and is ~5x slower on the CPU.

The factorisation is Thomas' algorithm without pivoting, stable for the diagonally dominant
matrices the cable produces.  The node axis is an argument (default: last); every other axis
is a batch axis.  Factors are stored node-major (nodes first), the layout the cable solver uses
for batches so that each substitution step reads one contiguous row.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp

__all__ = [
    "TridiagonalFactor",
    "factor",
    "solve",
    "solve_doubling",
    "solve_system",
    "matvec",
]

Array = jax.Array

# Products of multipliers below this are flushed to zero: their contribution is far below
# round-off, and keeping them would drag the arithmetic into slow subnormal numbers.
_NEGLIGIBLE = 1e-200


class TridiagonalFactor(NamedTuple):
    """A factored tridiagonal matrix, ready for :func:`solve`.

    Stored node-major (nodes on the first axis, batch axes after it) whatever axis the caller
    used, so that each substitution step reads one contiguous row of a batch.

    Attributes:
        inverse_pivot: 1 / (pivots of the LU factorisation), shape (n, ...).
        forward: doubling tables of the forward-substitution multipliers, shape (levels, n, ...).
        backward: doubling tables of the back-substitution multipliers, shape (levels, n, ...).
    """

    inverse_pivot: Array
    forward: Array
    backward: Array


def _doubling_tables(multiplier: Array, levels: int, direction: int) -> Array:
    """Window products of ``multiplier`` for strides 1, 2, 4, ... (direction +1: look left)."""
    tables = []
    window = multiplier
    for level in range(levels):
        tables.append(jnp.where(jnp.abs(window) < _NEGLIGIBLE, 0.0, window))
        window = window * _shift(window, 2**level, direction, fill=0.0)
    return jnp.stack(tables)


def _shift(x: Array, stride: int, direction: int, fill: float = 0.0) -> Array:
    """x[i - stride] (direction +1) or x[i + stride] (direction -1) along the first axis."""
    pad = [(0, 0)] * (x.ndim - 1)
    if direction > 0:
        return jnp.pad(x[:-stride], [(stride, 0)] + pad, constant_values=fill)
    return jnp.pad(x[stride:], [(0, stride)] + pad, constant_values=fill)


def _full_levels(n: int) -> int:
    return max(1, (n - 1).bit_length())


def factor(lower: Array, diagonal: Array, upper: Array, axis: int = -1, *, levels: Optional[int] = None
           ) -> TridiagonalFactor:
    """Factor the tridiagonal matrix with sub-diagonal ``lower[i]`` (coefficient of x[i-1] in
    row i; ``lower[0]`` unused), ``diagonal[i]`` and super-diagonal ``upper[i]`` (coefficient of
    x[i+1]; ``upper[-1]`` unused).  The three broadcast together; ``axis`` is the node axis and
    the other axes are batch axes.

    ``levels`` (static) is the number of doubling tables built: ``None`` for all
    ceil(log2 n) that :func:`solve_doubling` needs; :func:`solve` reads only the first, so
    ``levels=1`` factors for it alone in a smaller program.
    """
    lower, diagonal, upper = (jnp.moveaxis(a, axis, 0) for a in jnp.broadcast_arrays(lower, diagonal, upper))
    n = diagonal.shape[0]
    if levels is None:
        levels = _full_levels(n)
    elif isinstance(levels, bool) or not (isinstance(levels, int) and levels >= 1):
        raise ValueError(f"levels must be an integer >= 1 or None, got {levels!r}")

    def pivot_step(previous_ratio, row):
        lower_i, diagonal_i, upper_i = row
        pivot = diagonal_i - lower_i * previous_ratio
        return upper_i / pivot, (pivot, upper_i / pivot)

    # The factorisation itself is a sequential sweep, done once per run.
    rows = (lower.at[0].set(0.0), diagonal, upper)
    _, (pivot, ratio) = jax.lax.scan(pivot_step, jnp.zeros(diagonal.shape[1:], diagonal.dtype), rows)
    inverse_pivot = 1.0 / pivot
    forward_multiplier = (-lower * inverse_pivot).at[0].set(0.0)
    backward_multiplier = (-ratio).at[-1].set(0.0)
    return TridiagonalFactor(
        inverse_pivot=inverse_pivot,
        forward=_doubling_tables(forward_multiplier, levels, +1),
        backward=_doubling_tables(backward_multiplier, levels, -1),
    )


def _node_major(fac: TridiagonalFactor, rhs: Array, axis: int):
    """rhs with its node axis first, and the factor's batch axes aligned with rhs's."""
    b = jnp.moveaxis(rhs, axis, 0)
    extra = b.ndim - fac.inverse_pivot.ndim
    if extra > 0:  # batch axes the factor lacks lead, as they would in broadcasting
        n, batch = fac.inverse_pivot.shape[0], fac.inverse_pivot.shape[1:]
        levels = fac.forward.shape[0]
        fac = TridiagonalFactor(
            fac.inverse_pivot.reshape((n,) + (1,) * extra + batch),
            fac.forward.reshape((levels, n) + (1,) * extra + batch),
            fac.backward.reshape((levels, n) + (1,) * extra + batch),
        )
    return fac, b


def solve(fac: TridiagonalFactor, rhs: Array, axis: int = -1, unroll: Optional[int] = None) -> Array:
    """Solve the factored system for ``rhs`` (node axis ``axis``) by node-by-node substitution.

    ``unroll`` partially unrolls the node loop.  The default is what measured fastest on the
    CPU (281 nodes, float64): 8 for a single system (2.4 µs against 2.7 µs not unrolled); none
    for a batch, whose rows are already vectors (64 systems: 62 µs against 126 µs unrolled by 8).
    Full unrolling makes compilation explode and runs slower.
    """
    fac, b = _node_major(fac, rhs, axis)
    if unroll is None:
        unroll = 8 if math.prod(jnp.broadcast_shapes(b.shape, fac.inverse_pivot.shape)[1:]) == 1 else 1

    def forward(previous, row):
        b, a = row
        y = b + a * previous
        return y, y

    def backward(following, row):
        y, e = row
        x = y + e * following
        return x, x

    b = b * fac.inverse_pivot
    zero = jnp.zeros(b.shape[1:], b.dtype)
    _, y = jax.lax.scan(forward, zero, (b, jnp.broadcast_to(fac.forward[0], b.shape)), unroll=unroll)
    _, x = jax.lax.scan(backward, zero, (y, jnp.broadcast_to(fac.backward[0], b.shape)), reverse=True, unroll=unroll)
    return jnp.moveaxis(x, 0, axis)


def solve_doubling(fac: TridiagonalFactor, rhs: Array, axis: int = -1) -> Array:
    """Same result as :func:`solve`, by recursive doubling (no loop along the nodes)."""
    fac, y = _node_major(fac, rhs, axis)
    if fac.forward.shape[0] < _full_levels(y.shape[0]):
        raise ValueError(f"solve_doubling needs the factor's {_full_levels(y.shape[0])} doubling tables for "
                         f"{y.shape[0]} nodes, got {fac.forward.shape[0]} (factor(..., levels=None))")
    y = y * fac.inverse_pivot
    for level in range(fac.forward.shape[0]):
        y = y + fac.forward[level] * _shift(y, 2**level, +1)
    for level in range(fac.backward.shape[0]):
        y = y + fac.backward[level] * _shift(y, 2**level, -1)
    return jnp.moveaxis(y, 0, axis)


def matvec(lower: Array, diagonal: Array, upper: Array, x: Array, axis: int = -1) -> Array:
    """The product of the tridiagonal matrix (as in :func:`factor`; ``lower[0]`` and
    ``upper[-1]`` unused) with ``x`` along the node axis ``axis``."""
    lower, diagonal, upper, x = (jnp.moveaxis(a, axis, 0) for a in jnp.broadcast_arrays(lower, diagonal, upper, x))
    y = diagonal * x
    y = y.at[1:].add(lower[1:] * x[:-1])
    y = y.at[:-1].add(upper[:-1] * x[1:])
    return jnp.moveaxis(y, 0, axis)


def _solve_factored(diagonals: tuple, fac: TridiagonalFactor, rhs: Array, axis: int, doubling: bool) -> Array:
    return solve_doubling_traced(fac, rhs, axis) if doubling else solve_traced(fac, rhs, axis)


_solve_factored = jax.custom_jvp(_solve_factored, nondiff_argnums=(3, 4))


@_solve_factored.defjvp
def _solve_factored_jvp(axis, doubling, primals, tangents):
    # x = A⁻¹ b, so dx = A⁻¹ (db - dA x): one more substitution with the same factor, linear in
    # the tangents (reverse mode transposes it: no residuals of the node loop are stored).  The
    # factor is a function of the diagonals, whose tangents carry its dependence; its own tangent
    # is not needed.
    diagonals, fac, rhs = primals
    d_diagonals, _, d_rhs = tangents
    x = _solve_factored(diagonals, fac, rhs, axis, doubling)
    d_matrix_x = matvec_traced(*d_diagonals, x, axis=axis)
    return x, _solve_factored(diagonals, fac, d_rhs - d_matrix_x, axis, doubling)


def solve_system(diagonals: tuple, fac: TridiagonalFactor, rhs: Array, axis: int = -1, *,
                 doubling: bool = False) -> Array:
    """Solve ``A x = rhs`` with ``fac = factor(*diagonals)``, differentiated through the
    diagonals by the implicit rule dx = A⁻¹ (db - dA x) rather than through the node loop.

    The same solution as :func:`solve` (``doubling``: :func:`solve_doubling`); forward- and
    reverse-mode derivatives cost one more substitution each and store no per-node history,
    where differentiating the substitution itself would.  ``fac`` must be the factor of
    ``diagonals`` (its own derivative is ignored).

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from jaxneuro import tridiagonal
        >>> def x0(r):   # (I - r/2 Λ) x = e0 on 4 nodes, first component
        ...     lower, diagonal, upper = -r / 2 * jnp.ones(4), (1 + r) * jnp.ones(4), -r / 2 * jnp.ones(4)
        ...     fac = tridiagonal.factor(lower, diagonal, upper)
        ...     return tridiagonal.solve_system((lower, diagonal, upper), fac, jnp.eye(4)[0])[0]
        >>> bool(jnp.isclose(jax.grad(x0)(0.3), (x0(0.3 + 1e-6) - x0(0.3 - 1e-6)) / 2e-6))
        True
    """
    return _solve_factored(tuple(diagonals), fac, rhs, axis, doubling)


# The plain functions, for use inside a caller's program: a nested jit would be a separate
# call in the loop body that XLA's CPU backend does not always fuse into its surroundings
# (measured: the Cooley–Dodge run ~15 % slower).
factor_traced, solve_traced, solve_doubling_traced = factor, solve, solve_doubling
solve_system_traced, matvec_traced = solve_system, matvec
# The public functions compile once per shape and static configuration when called eagerly.
factor = jax.jit(factor, static_argnames=("axis", "levels"))
solve = jax.jit(solve, static_argnames=("axis", "unroll"))
solve_doubling = jax.jit(solve_doubling, static_argnames=("axis",))
solve_system = jax.jit(solve_system, static_argnames=("axis", "doubling"))
matvec = jax.jit(matvec, static_argnames=("axis",))
