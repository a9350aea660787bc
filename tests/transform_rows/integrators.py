"""Transform-table rows of jaxneuro.integrators (a damped pendulum; x is its damping rate)."""

from __future__ import annotations

import jax.numpy as jnp

from jaxneuro import integrators

from . import Row

_Y0 = jnp.array([1.0, 0.0])


def _pendulum(y, damping):
    """A damped pendulum (θ, ω): module-level, so every call shares one compiled program."""
    return jnp.stack([y[1], -jnp.sin(y[0]) - damping * y[1]])


def _swung_back(y, damping):
    return y[0] < 0.0


def _rk4_step(x):
    return integrators.rk4_step(_pendulum, _Y0, 0.05, args=x)


def _ab5_start(x):
    return integrators.ab5_start(_pendulum, _Y0, 0.05, args=x)


def _ab5_step(x):
    return integrators.ab5_step(_pendulum, integrators.ab5_start(_pendulum, _Y0, 0.05, args=x), 0.05, args=x)


def _integrate(x):
    return integrators.integrate(_pendulum, _Y0, 0.05, 40, "ab5", 4, args=x)


def _integrate_until(x):
    return integrators.integrate_until(_pendulum, _Y0, 0.01, 1000, _swung_back, "rk4", args=x)


ROWS = [
    Row("integrators.rk4_step", _rk4_step, 0.3),
    Row("integrators.ab5_start", _ab5_start, 0.3),
    Row("integrators.ab5_step", _ab5_step, 0.3),
    Row("integrators.integrate", _integrate, 0.3),
    Row("integrators.integrate_until", _integrate_until, 0.3,
        skip={"grad": "a while_loop with a data-dependent stop: reverse mode is not defined (jax.jvp works), "
                      "and the stopping step is piecewise constant in x"}),
]
