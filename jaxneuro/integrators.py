"""Fixed-step explicit integrators for autonomous ODEs y' = f(y), in ``lax`` loops.

One implementation of each, shared by every module that needs one:

==========================  ==============================================================
:func:`rk4_step`            one classical fourth-order Runge–Kutta step
:func:`ab5_start`           four RK4 steps that start the Adams–Bashforth 5 method (as in
                            the notebook)
:func:`ab5_step`            one fifth-order Adams–Bashforth step (one evaluation of f)
:func:`integrate`           a fixed number of steps, keeping every k-th state (``lax.scan``)
:func:`integrate_until`     until a condition holds (``lax.while_loop``), for shooting
                            methods that only need to know where a trajectory goes
:data:`SOLVERS`             the solver names, ``("rk4", "ab5")``
==========================  ==============================================================

``f`` maps a state (any pytree of arrays) to its derivative with the same structure:
``f(y)``, or ``f(y, args)`` when ``args`` (any pytree, e.g. the parameters) is given.  Pass the
parameters as ``args`` rather than in a fresh closure: ``f`` is a static argument of the
compiled functions (one compilation per function object, solver and static count), while
``args``, ``y0`` and ``dt`` are traced values, so a module-level ``f`` with new parameters
compiles nothing.  Everything is pure: ``jit``, ``vmap`` and forward-mode differentiation go
through; :func:`integrate` is also reverse-differentiable (:func:`integrate_until` is a
``while_loop``: forward mode only).

The time unit is the caller's (``dt`` and ``f``'s must agree); the travelling wave uses ms.

Examples:
    >>> import jax.numpy as jnp
    >>> from jaxneuro import integrators
    >>> def decay(y, rate):
    ...     return -rate * y
    >>> ys = integrators.integrate(decay, jnp.array(1.0), 0.01, 100, args=2.0)
    >>> ys.shape, abs(float(ys[-1]) - float(jnp.exp(-2.0))) < 1e-9
    ((101,), True)
    >>> hit = integrators.integrate_until(decay, jnp.array(1.0), 0.01, 1000, lambda y, r: y < 0.5, args=1.0)
    >>> int(hit.steps), bool(hit.stopped), int(hit.result)
    (70, True, 0)
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import results, validation

Array = jax.Array

__all__ = ["SOLVERS", "AB5State", "Stopped", "rk4_step", "ab5_start", "ab5_step", "integrate", "integrate_until"]

#: Solver names: classical Runge–Kutta 4, and Adams–Bashforth 5 started by four RK4 steps.
SOLVERS = ("rk4", "ab5")

# Adams–Bashforth 5 weights, oldest derivative first (the notebook's w).
_AB5_WEIGHTS = (251 / 720, -637 / 360, 109 / 30, -1387 / 360, 1901 / 720)


def _call(f: Callable, y, args):
    return f(y) if args is None else f(y, args)


def _axpy(a, x, y):
    """y + a * x on pytrees."""
    return jax.tree.map(lambda xi, yi: yi + a * xi, x, y)


def _rk4_step(f: Callable, y, dt, args):
    k1 = _call(f, y, args)
    k2 = _call(f, _axpy(dt / 2, k1, y), args)
    k3 = _call(f, _axpy(dt / 2, k2, y), args)
    k4 = _call(f, _axpy(dt, k3, y), args)
    return jax.tree.map(lambda yi, a, b, c, d: yi + dt / 6 * (a + 2 * b + 2 * c + d), y, k1, k2, k3, k4)


class AB5State(NamedTuple):
    """The Adams–Bashforth 5 carry.

    Attributes:
        y: the present state (pytree).
        derivatives: f at the last five steps, oldest first (a tuple of five pytrees).
    """

    y: object
    derivatives: tuple


def _ab5_start(f: Callable, y0, dt, args):
    ys = [y0]
    for _ in range(4):
        ys.append(_rk4_step(f, ys[-1], dt, args))
    return AB5State(ys[-1], tuple(_call(f, y, args) for y in ys)), ys


def _ab5_step(f: Callable, state: AB5State, dt, args) -> AB5State:
    increment = jax.tree.map(lambda *d: dt * sum(w * di for w, di in zip(_AB5_WEIGHTS, d)), *state.derivatives)
    y = jax.tree.map(jnp.add, state.y, increment)
    return AB5State(y, state.derivatives[1:] + (_call(f, y, args),))


class _Stepper(NamedTuple):
    start: Callable  # y0 -> (carry, states at steps 0..taken)
    step: Callable  # carry -> carry
    value: Callable  # carry -> y


def _stepper(f: Callable, dt, solver: str, args) -> _Stepper:
    if solver == "rk4":
        return _Stepper(lambda y0: (y0, [y0]), lambda y: _rk4_step(f, y, dt, args), lambda y: y)
    return _Stepper(lambda y0: _ab5_start(f, y0, dt, args), lambda s: _ab5_step(f, s, dt, args), lambda s: s.y)


def _stack(states: list):
    return jax.tree.map(lambda *a: jnp.stack(a), *states)


def _integrate(f, y0, dt, args, *, n_steps: int, solver: str, every: int):
    if solver == "ab5" and n_steps < 4:
        solver = "rk4"  # AB5 takes RK4 steps until it has five derivatives
    stepper = _stepper(f, dt, solver, args)
    carry, early = stepper.start(y0)
    taken = len(early) - 1
    head = early[::every]
    first_later = len(head) * every  # first sample the start did not reach
    n_later = n_steps // every + 1 - len(head)
    if n_later <= 0:
        return _stack(head)

    def advance(c, n):
        return jax.lax.fori_loop(0, n, lambda _, s: stepper.step(s), c)

    def chunk(c, _):
        return advance(c, every), stepper.value(c)

    carry = advance(carry, first_later - taken)
    carry, later = jax.lax.scan(chunk, carry, None, length=n_later - 1)
    later = jax.tree.map(lambda t, last: jnp.concatenate([t, last[None]]), later, stepper.value(carry))
    return jax.tree.map(lambda h, t: jnp.concatenate([h, t]), _stack(head), later)


class Stopped(NamedTuple):
    """Where :func:`integrate_until` stopped.

    Attributes:
        y: the first state at which ``stop`` held (or the last one, if it never did; or the
            first non-finite one).
        steps: the number of steps taken to reach ``y`` (int).
        stopped: whether ``stop`` held there (bool).
        result: ``SUCCESSFUL``, or ``DIVERGED`` if the state became non-finite (int32, see
            :mod:`jaxneuro.results`); not reaching the condition within ``max_steps`` is an
            answer (``stopped`` False), not a failure.
    """

    y: object
    steps: Array
    stopped: Array
    result: Array


def _all_finite(y) -> Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(y)]))


def _integrate_until(f, y0, dt, max_steps, args, *, stop: Callable, solver: str) -> Stopped:
    stepper = _stepper(f, dt, solver, args)
    carry, early = stepper.start(y0)

    def check(c):
        y = stepper.value(c)
        return _call(stop, y, args), _all_finite(y)

    def cond(state):
        _, k, done, finite = state
        return ~done & finite & (k < max_steps)

    def body(state):
        c, k, _, _ = state
        c = stepper.step(c)
        return (c, k + 1, *check(c))

    # (AB5's four RK4 start-up steps are always taken.)
    c, k, done, finite = jax.lax.while_loop(cond, body, (carry, jnp.asarray(len(early) - 1), *check(carry)))
    result = jnp.where(finite, results.SUCCESSFUL, results.DIVERGED).astype(jnp.int32)
    return Stopped(stepper.value(c), k, done & finite, result)


# The compiled versions: ``f`` and ``stop`` are static (hashed by identity), so pass a
# module-level function and give it its parameters through ``args``.
_rk4_step_jit = jax.jit(_rk4_step, static_argnums=(0,))
_ab5_start_jit = jax.jit(lambda f, y0, dt, args: _ab5_start(f, y0, dt, args)[0], static_argnums=(0,))
_ab5_step_jit = jax.jit(_ab5_step, static_argnums=(0,))
_integrate_jit = jax.jit(_integrate, static_argnums=(0,), static_argnames=("n_steps", "solver", "every"))
_integrate_until_jit = jax.jit(_integrate_until, static_argnums=(0,), static_argnames=("stop", "solver"))


def _check(y0, dt, solver: str | None = None, f=None) -> None:
    if f is not None and not callable(f):
        raise ValueError(f"f must be a function y -> dy/dt (or (y, args) -> dy/dt), got {type(f).__name__}")
    for name, leaf in validation.leaves_with_names(y0, "y0"):
        validation.check_number(name, leaf)
    validation.check_number("dt", dt, positive=True, scalar=True)
    if solver is not None:
        validation.check_choice("solver", solver, SOLVERS)


def rk4_step(f: Callable, y, dt, args=None):
    """One classical Runge–Kutta step of size ``dt``.

    Args:
        f: the right-hand side, ``f(y)`` or ``f(y, args)`` (derivative per unit time).
        y: the state (pytree of arrays).
        dt: the step (> 0, the time unit of ``f``).
        args: parameters passed to ``f`` (pytree), or ``None`` for ``f(y)``.

    Returns:
        The state after the step (``y``'s structure).
    """
    _check(y, dt, f=f)
    return _rk4_step_jit(f, y, dt, args)


def ab5_start(f: Callable, y0, dt, args=None) -> AB5State:
    """Four RK4 steps from ``y0``: the Adams–Bashforth 5 state after them (the notebook's start).

    Args:
        f, dt, args: as in :func:`rk4_step`.
        y0: the initial state (pytree).

    Returns:
        The :class:`AB5State` at step 4 (state and the derivatives at steps 0–4).
    """
    _check(y0, dt, f=f)
    return _ab5_start_jit(f, y0, dt, args)


def ab5_step(f: Callable, state: AB5State, dt, args=None) -> AB5State:
    """One fifth-order Adams–Bashforth step (one new evaluation of f).

    Args:
        f, dt, args: as in :func:`rk4_step`.
        state: the :class:`AB5State` (from :func:`ab5_start` or a previous step).

    Returns:
        The next :class:`AB5State`.
    """
    if not isinstance(state, AB5State):
        raise ValueError(f"state must be an AB5State (from ab5_start), got {type(state).__name__}")
    _check(state, dt, f=f)
    return _ab5_step_jit(f, state, dt, args)


def integrate(f: Callable, y0, dt, n_steps: int, solver: str = "rk4", every: int = 1, *, args=None):
    """March ``n_steps`` steps of size ``dt`` from ``y0``; return the states at steps 0, k, 2k, ...

    Compiled once per ``f``, ``n_steps``, ``solver``, ``every`` and shapes; ``y0``, ``dt`` and
    ``args`` are traced.

    Args:
        f: the right-hand side, ``f(y)`` or ``f(y, args)``.
        y0: initial state (pytree of finite arrays).
        dt: step (> 0; sample i is at time ``i * every * dt``, in the time unit of ``f``).
        n_steps: number of steps (int >= 0, static).
        solver: ``"rk4"`` or ``"ab5"`` (RK4-started: its first four steps are RK4's).
        every: keep every ``every``-th state (int >= 1, static): ``n_steps // every + 1`` samples.
        args: parameters passed to ``f`` (pytree), or ``None``.

    Returns:
        A pytree of ``y0``'s structure with a leading sample axis.

    Raises:
        ValueError: bad ``solver``, ``n_steps``, ``every``, ``dt`` or a non-finite ``y0``.
    """
    _check(y0, dt, solver, f)
    validation.check_integer("n_steps", n_steps, minimum=0)
    validation.check_integer("every", every, minimum=1)
    return _integrate_jit(f, y0, dt, args, n_steps=int(n_steps), solver=solver, every=int(every))


def integrate_until(f: Callable, y0, dt, max_steps, stop: Callable, solver: str = "rk4", *, args=None) -> Stopped:
    """March from ``y0`` until ``stop(y)`` holds, the state becomes non-finite, or ``max_steps``
    steps have been taken.

    Compiled once per ``f``, ``stop``, ``solver`` and shapes; ``max_steps`` is a traced value
    (a change does not recompile).

    Args:
        f: the right-hand side, ``f(y)`` or ``f(y, args)``.
        y0: initial state (pytree of finite arrays).
        dt: step (> 0, the time unit of ``f``).
        max_steps: the most steps to take (int >= 0).
        stop: the condition, ``stop(y)`` or ``stop(y, args)`` -> bool.
        solver: ``"rk4"`` or ``"ab5"`` (AB5's four RK4 start-up steps are always taken).
        args: parameters passed to ``f`` and ``stop``, or ``None``.

    Returns:
        A :class:`Stopped`.
    """
    _check(y0, dt, solver, f)
    if not callable(stop):
        raise ValueError(f"stop must be a function y -> bool (or (y, args) -> bool), got {type(stop).__name__}")
    if not validation.is_tracer(max_steps):
        validation.check_integer("max_steps", max_steps, minimum=0)
    return _integrate_until_jit(f, y0, dt, max_steps, args, stop=stop, solver=solver)
