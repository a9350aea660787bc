"""Fixed-step explicit integrators for autonomous ODEs y' = f(y), in ``lax`` loops.

One implementation of each, shared by every module that needs one:

* :func:`rk4_step`, the classical fourth-order Runge–Kutta step;
* the fifth-order Adams–Bashforth method, started by four RK4 steps as in the notebook
  (:func:`ab5_start`, :func:`ab5_step`), which costs one evaluation of f per step;
* :func:`integrate`, which marches either of them for a fixed number of steps and keeps every
  k-th state (``lax.scan``), and :func:`integrate_until`, which stops at the first step where a
  condition holds (``lax.while_loop``), for shooting methods that only need to know where a
  trajectory goes.

``f`` maps a state (any pytree of arrays) to its derivative with the same structure.  Everything
is pure: ``jit``, ``vmap`` and forward-mode differentiation go through; :func:`integrate` is
also reverse-differentiable (:func:`integrate_until` is a ``while_loop``, so forward mode only).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array

METHODS = ("rk4", "ab5")

# Adams–Bashforth 5 weights, oldest derivative first (the notebook's w).
_AB5_WEIGHTS = (251 / 720, -637 / 360, 109 / 30, -1387 / 360, 1901 / 720)


def _axpy(a, x, y):
    """y + a * x on pytrees."""
    return jax.tree.map(lambda xi, yi: yi + a * xi, x, y)


def rk4_step(f: Callable, y, dt):
    """One classical Runge–Kutta step of size ``dt``."""
    k1 = f(y)
    k2 = f(_axpy(dt / 2, k1, y))
    k3 = f(_axpy(dt / 2, k2, y))
    k4 = f(_axpy(dt, k3, y))
    return jax.tree.map(lambda yi, a, b, c, d: yi + dt / 6 * (a + 2 * b + 2 * c + d), y, k1, k2, k3, k4)


class AB5State(NamedTuple):
    """The present state and the derivatives at the last five steps (oldest first)."""

    y: object
    derivatives: tuple


def ab5_start(f: Callable, y0, dt) -> tuple[AB5State, list]:
    """Four RK4 steps from ``y0``: the AB5 state after them, and the states at steps 0..4."""
    ys = [y0]
    for _ in range(4):
        ys.append(rk4_step(f, ys[-1], dt))
    return AB5State(ys[-1], tuple(f(y) for y in ys)), ys


def ab5_step(f: Callable, state: AB5State, dt) -> AB5State:
    """One fifth-order Adams–Bashforth step (one new evaluation of f)."""
    increment = jax.tree.map(lambda *d: dt * sum(w * di for w, di in zip(_AB5_WEIGHTS, d)), *state.derivatives)
    y = jax.tree.map(jnp.add, state.y, increment)
    return AB5State(y, state.derivatives[1:] + (f(y),))


class _Stepper(NamedTuple):
    start: Callable  # y0 -> (carry, states at steps 0..taken)
    step: Callable  # carry -> carry
    value: Callable  # carry -> y


def _stepper(f: Callable, dt, method: str) -> _Stepper:
    if method == "rk4":
        return _Stepper(lambda y0: (y0, [y0]), lambda y: rk4_step(f, y, dt), lambda y: y)
    if method == "ab5":
        return _Stepper(lambda y0: ab5_start(f, y0, dt), lambda s: ab5_step(f, s, dt), lambda s: s.y)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _stack(states: list):
    return jax.tree.map(lambda *a: jnp.stack(a), *states)


def integrate(f: Callable, y0, dt, n_steps: int, method: str = "rk4", every: int = 1):
    """March ``n_steps`` steps of size ``dt`` from ``y0``; return the states at steps 0, k, 2k, ...

    Args:
        f: the right-hand side, y -> dy/dt.
        y0: initial state (pytree).
        dt: step (any unit; sample i is at time ``i * every * dt``).
        n_steps: number of steps (static).
        method: ``"rk4"`` or ``"ab5"`` (RK4-started: its first four steps are RK4's).
        every: keep every ``every``-th state (static): ``n_steps // every + 1`` samples.

    Returns:
        A pytree of y0's structure with a leading sample axis.
    """
    if n_steps < 0 or every < 1:
        raise ValueError(f"need n_steps >= 0 and every >= 1, got {n_steps} and {every}")
    if method == "ab5" and n_steps < 4:
        method = "rk4"  # AB5 takes RK4 steps until it has five derivatives
    stepper = _stepper(f, dt, method)
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
        y: the first state at which ``stop(y)`` held (or the last one, if none did).
        steps: the number of steps taken to reach ``y``.
        stopped: whether ``stop`` held.
    """

    y: object
    steps: Array
    stopped: Array


def integrate_until(f: Callable, y0, dt, max_steps: int, stop: Callable, method: str = "rk4") -> Stopped:
    """March from ``y0`` until ``stop(y)`` is true or ``max_steps`` steps have been taken."""
    stepper = _stepper(f, dt, method)
    carry, early = stepper.start(y0)

    def cond(state):
        c, k, done = state
        return (~done) & (k < max_steps)

    def body(state):
        c, k, _ = state
        c = stepper.step(c)
        return c, k + 1, stop(stepper.value(c))

    # (AB5's four RK4 start-up steps are always taken.)
    c, k, done = jax.lax.while_loop(cond, body, (carry, jnp.asarray(len(early) - 1), stop(stepper.value(carry))))
    return Stopped(stepper.value(c), k, done)
