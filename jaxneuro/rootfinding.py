"""The one bisection and the one Newton iteration that every module uses.

Both are pure JAX (``lax`` loops), so they ``jit`` and ``vmap`` (each batch member stops on its
own terms), and both return a result code (:mod:`jaxneuro.results`) beside their values instead
of failing silently.

* :func:`bisect` narrows an interval ``[lower, upper]`` whose ends lie on different sides of a
  decision (``side(trial) -> +1 upper side, -1 lower side, 0 undecided``), by bisection or by
  (K+1)-section (``sections=K`` trials per iteration, for vmap/GPU), until its width is at most
  ``atol + rtol * |upper|``.  An undecided trial stops it with ``STALLED``; running out of
  iterations gives ``MAX_ITERATIONS``.  The decision may carry state from one iteration to the
  next (``carry``), for searches that follow a moving target.
* :func:`newton` runs a fixed number of Newton steps (differentiable: forward and reverse mode
  go through the fixed-count loop) and reports ``MAX_ITERATIONS`` if the last step was still
  larger than the tolerance and ``DIVERGED`` if the iterate became non-finite.

Examples:
    >>> import jax.numpy as jnp
    >>> from jaxneuro import rootfinding
    >>> lo, hi, iterations, result, _ = rootfinding.bisect(
    ...     lambda x, c: (jnp.sign(x * x - 2.0), c), jnp.array(1.0), jnp.array(2.0), atol=1e-12)
    >>> round(float(0.5 * (lo + hi)), 10), int(result)
    (1.4142135624, 0)
    >>> root, result = rootfinding.newton(lambda x: x * x - 2.0, jnp.array(1.0))
    >>> round(float(root), 12), int(result)
    (1.414213562373, 0)
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from . import results

__all__ = [
    "bisect",
    "newton",
]

Array = jax.Array


def _at_precision(x, rtol, atol):
    """In float32 (ε = 1.2e-7), tolerances no finer than 8 ε relative and 8 ε absolute (unknowns of
    order one): a float64 tolerance would otherwise never be met.  float64: unchanged."""
    dtype = jnp.result_type(x, float)
    if dtype == jnp.float64:
        return rtol, atol
    floor = 8.0 * float(jnp.finfo(dtype).eps)
    return jnp.maximum(rtol, floor), jnp.maximum(atol, floor)


def bisect(
    side: Callable,
    lower: Array,
    upper: Array,
    carry=None,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    sections: int = 1,
    max_iterations: int = 200,
    check_ends: bool = False,
):
    """Narrow ``[lower, upper]`` around the point where ``side`` changes.

    Args:
        side: ``(trials, carry) -> (sides, carry)``: for the ``sections`` ordered trial points
            (an array), +1 where a trial lies on ``upper``'s side, -1 on ``lower``'s, 0 where
            undecided; and the carry for the next iteration.
        lower, upper: the bracket (scalars; ``lower < upper``).
        carry: state passed to ``side`` (any pytree; ``None`` for none).
        rtol, atol: stop when ``upper - lower <= atol + rtol * |upper|``.
        sections: trial points per iteration (1: bisection).
        max_iterations: cap on iterations.
        check_ends: first evaluate ``side`` at ``lower`` and ``upper`` and return ``NO_BRACKET``
            (and the interval unchanged) unless they give -1 and +1; otherwise the ends are
            trusted to bracket the change.  The ends are the loop's first trials (one
            iteration, or two with ``sections=1``; not counted in ``iterations``; the carry
            they return is dropped), so that ``side`` is traced once.

    Returns:
        ``(lower, upper, iterations, result, carry)``; result is ``SUCCESSFUL``, ``STALLED``,
        ``MAX_ITERATIONS`` or (with ``check_ends``) ``NO_BRACKET``.
    """
    fractions = jnp.arange(1, sections + 1) / (sections + 1)

    rtol, atol = _at_precision(jnp.asarray(lower), rtol, atol)

    def narrow_enough(lo, hi):
        return hi - lo <= atol + rtol * jnp.abs(hi)

    def cond(state):
        lo, hi, k, stalled, _ = state
        return ~narrow_enough(lo, hi) & (k < max_iterations) & ~stalled

    def body(state):
        lo, hi, k, _, c = state
        trial = lo + (hi - lo) * fractions
        sides, new_c = side(trial, c)
        stalled = jnp.any(sides == 0)
        new_lo, new_hi = _narrowed(lo, hi, trial, sides)
        keep = lambda new, old: jnp.where(stalled, old, new)  # noqa: E731
        return keep(new_lo, lo), keep(new_hi, hi), k + 1, stalled, jax.tree.map(keep, new_c, c)

    if check_ends:
        lo, hi, k, stalled, carry, bracketed = _bisect_checking_ends(side, lower, upper, carry, fractions, cond)
    else:
        bracketed = jnp.asarray(True)
        lo, hi, k, stalled, carry = jax.lax.while_loop(cond, body, (lower, upper, 0, jnp.asarray(False), carry))
    result = jnp.where(
        narrow_enough(lo, hi), results.SUCCESSFUL, jnp.where(stalled, results.STALLED, results.MAX_ITERATIONS)
    )
    result = jnp.where(bracketed, result, results.NO_BRACKET).astype(jnp.int32)
    return lo, hi, k, result, carry


def _narrowed(lo, hi, trial, sides):
    """The interval between the last trial on the lower side and the first on the upper side."""
    sections = trial.shape[0]
    j = jnp.sum(jnp.cumprod(sides < 0))  # leading trials on the lower side
    new_lo = jnp.where(j > 0, trial[jnp.maximum(j - 1, 0)], lo)
    new_hi = jnp.where(j < sections, trial[jnp.minimum(j, sections - 1)], hi)
    return new_lo, new_hi


def _bisect_checking_ends(side, lower, upper, carry, fractions, cond):
    """:func:`bisect`'s loop with ``check_ends``: the first phase(s) evaluate the ends, then the
    bisection runs if they bracket the change.  Returns ``(lo, hi, k, stalled, carry, bracketed)``."""
    sections = fractions.shape[0]
    checks = 2 if sections == 1 else 1  # iterations spent on the ends

    def ends_trial(lo, hi, phase):
        if sections == 1:
            return jnp.where(phase == 0, lo, hi)[None]
        return jnp.concatenate([jnp.reshape(lo, (1,)), jnp.full((sections - 1,), hi, jnp.result_type(hi))])

    def ends_ok(sides, phase):
        if sections == 1:
            return jnp.where(phase == 0, sides[0] < 0, sides[0] > 0)
        return (sides[0] < 0) & (sides[1] > 0)

    def loop_cond(state):
        *inner, phase, bracketed = state
        return (phase < checks) | (bracketed & cond(tuple(inner)))

    def loop_body(state):
        lo, hi, k, stalled, c, phase, bracketed = state
        checking = phase < checks
        trial = jnp.where(checking, ends_trial(lo, hi, phase), lo + (hi - lo) * fractions)
        sides, new_c = side(trial, c)
        bracketed = jnp.where(checking, bracketed & ends_ok(sides, phase), bracketed)
        now_stalled = ~checking & jnp.any(sides == 0)
        new_lo, new_hi = _narrowed(lo, hi, trial, sides)
        keep = lambda new, old: jnp.where(checking | now_stalled, old, new)  # noqa: E731
        return (keep(new_lo, lo), keep(new_hi, hi), jnp.where(checking, k, k + 1), now_stalled,
                jax.tree.map(keep, new_c, c), phase + 1, bracketed)

    state = (lower, upper, 0, jnp.asarray(False), carry, 0, jnp.asarray(True))
    lo, hi, k, stalled, carry, _, bracketed = jax.lax.while_loop(loop_cond, loop_body, state)
    return lo, hi, k, stalled, carry, bracketed


def newton(fn: Callable, x0, *, iterations: int = 30, rtol: float = 1e-10, atol: float = 1e-12, system: bool = False):
    """Fixed-count Newton iteration for ``fn(x) = 0``.

    Args:
        fn: the function.  Elementwise by default (x a scalar or an array of independent
            unknowns, e.g. one per batch member); with ``system=True``, x is a vector and
            ``fn`` returns a vector of the same length (Jacobian by ``jax.jacfwd``).
        x0: start.
        iterations: number of Newton steps (static; differentiable through them).
        rtol, atol: an unknown has converged when its last step was at most
            ``atol + rtol * |x|`` (or ``fn`` is exactly 0 there).
        system: solve one vector system instead of independent scalar equations.

    Returns:
        ``(x, result)``: the root and, per unknown (one code for a system), ``SUCCESSFUL``,
        ``MAX_ITERATIONS``, ``DIVERGED``, or ``STALLED`` where the derivative vanishes (or
        underflows) at a point where ``fn`` is not zero (the step is then zero: no progress).
    """
    x0 = jnp.asarray(x0)

    if system:
        def body(_, state):
            x, _ = state
            delta = -jnp.linalg.solve(jax.jacfwd(fn)(x), fn(x))
            return x + delta, delta

        x, last = jax.lax.fori_loop(0, iterations, body, (x0, jnp.full_like(x0, jnp.inf)))
        value = fn(x)
        flat = ~jnp.all(jnp.isfinite(jnp.linalg.solve(jax.jacfwd(fn)(x), value)))
    else:
        # One trip more, which evaluates fn and its slope at the last iterate without stepping:
        # the program holds one copy of fn and its derivative, not a second one after the loop.
        def body(i, state):
            x, last, _, _ = state
            value, slope = jax.jvp(fn, (x,), (jnp.ones_like(x),))
            flat = slope == 0.0
            delta = jnp.where(flat, 0.0, -value / jnp.where(flat, 1.0, slope))
            stepping = i < iterations
            return jnp.where(stepping, x + delta, x), jnp.where(stepping, delta, last), value, slope

        inf = jnp.full_like(x0, jnp.inf)
        if iterations == 0:  # no step: no loop (its discarded step would still be differentiated)
            x, last = x0, inf
            value, slope = jax.jvp(fn, (x0,), (jnp.ones_like(x0),))
        else:
            x, last, value, slope = jax.lax.fori_loop(0, iterations + 1, body, (x0, inf, inf, inf))
        flat = slope == 0.0
    rtol, atol = _at_precision(x, rtol, atol)
    zero = value == 0.0
    small = (jnp.abs(last) <= atol + rtol * jnp.abs(x)) & ~(flat & ~zero) | zero
    finite = jnp.isfinite(x)
    stalled = flat & ~zero
    if system:
        small, finite, stalled = jnp.all(small), jnp.all(finite), jnp.any(stalled)
    result = jnp.where(
        ~finite, results.DIVERGED,
        jnp.where(small, results.SUCCESSFUL, jnp.where(stalled, results.STALLED, results.MAX_ITERATIONS)),
    ).astype(jnp.int32)
    return x, result
