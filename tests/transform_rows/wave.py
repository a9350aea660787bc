"""Transform-table rows of jaxneuro.wave, at cheap settings (dt = 10 µs, loose bracket, 1 ms of
recorded pulse).  The speed rows share one static configuration (rk4, bisection, 200
iterations), so their eager, batched and differentiated calls share compiled programs."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import jaxneuro as jn
from jaxneuro import wave

from . import Row

AXON = jn.cooley_dodge_axon()
#: Cheap numerical options (traced: they do not change the compiled search).
CHEAP = dict(dt=0.01, t_stop=40.0)
_STATE = wave.WaveState(5.0, 1.0, 0.35, 0.1, 0.55)


def _temperature(t):
    return AXON._replace(membrane=AXON.membrane._replace(temperature=t))


def _find_wave_speed(t):
    return wave.find_wave_speed(_temperature(t), rtol=1e-8, t_record=1.0, every=10, **CHEAP)


def _wave_speed(t):
    # A tight bracket, so that central differences (step 1.85e-4 °C) resolve the speed.
    return wave.wave_speed(_temperature(t), rtol=1e-12, **CHEAP)


def _divergence_direction(speed):
    return wave.divergence_direction(AXON, speed, **CHEAP)


def _wave_rhs(speed):
    return wave.wave_rhs(_STATE, speed, AXON)


def _resting_state(leak_reversal):
    return wave.resting_state(AXON._replace(membrane=AXON.membrane._replace(EL=leak_reversal)))


def _unstable_eigenpair(t):
    return wave.unstable_eigenpair(_temperature(t), 18.73)


def _manifold_start(radius):
    return wave.manifold_start(AXON._replace(radius=radius), 18.73)


def _speed_estimate(radius):
    return wave.speed_estimate(AXON._replace(radius=radius))


_HISTORY = tuple(jnp.linspace(0.0, 1.0, 12).reshape(3, 4) * k for k in (90.0, 0.5, 0.4, 0.6))


ROWS = [
    Row("wave.start_from_cable", lambda dt: wave.start_from_cable(*_HISTORY, dt, step=1, node=2).w, 0.001),
    Row("wave.wave_speed_traced", lambda t: wave.wave_speed_traced(
        jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, (1,)), _temperature(t)), rtol=1e-12, **CHEAP)[0],
        18.5, batch=(10.0, 18.5, 25.0), atol=1e-10, eps=1e-5, rtol=1e-4),
    Row("wave.find_wave_speed", _find_wave_speed, 18.5, batch=(10.0, 18.5, 25.0), atol=1e-10,
        skip={"grad": "the bisection's outputs are piecewise constant in the parameters; wave.wave_speed "
                      "differentiates the same speed (implicit function theorem)"}),
    Row("wave.wave_speed", _wave_speed, 18.5, batch=(10.0, 18.5, 25.0), atol=1e-10, eps=1e-5, rtol=1e-4),
    Row("wave.divergence_direction", _divergence_direction, 18.0,
        skip={"grad": "the direction is an integer and z a whole number of steps: piecewise constant"}),
    Row("wave.wave_rhs", _wave_rhs, 18.73),
    Row("wave.resting_state", _resting_state, 10.598),
    Row("wave.unstable_eigenpair", _unstable_eigenpair, 18.5),
    Row("wave.manifold_start", _manifold_start, 238.0),
    Row("wave.speed_estimate", _speed_estimate, 238.0),
]

HOST_SIDE = {
    "wave.check_speed_options": "checks Python options on the host and returns nothing",
    "wave.propagation_failure": "a driver that picks the temperature bracket from a scan on the host (NumPy) "
                                "before the bisection; its three compiled programs are cached (no recompilation "
                                "on a second call); batch over axons with wave.find_wave_speed",
}
