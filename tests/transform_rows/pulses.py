"""Transform-table rows of jaxneuro.pulses and jaxneuro.bvp."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import jaxneuro as jn
from jaxneuro import bvp, pulses

from . import Row

AXON = jn.cooley_dodge_axon()


def _solve_pulse(temperature):
    pulse = pulses.solve_pulse(AXON._replace(membrane=AXON.membrane._replace(temperature=temperature)),
                               throw=False)
    # The mesh is equidistributed on each guess (the shooting pulse: a change in its last bits
    # moves the mesh), so the row checks the outputs that depend on the mesh only through its
    # discretisation error, ~1e-10: the speed, and the width (its ends lie on the upstroke and
    # downstroke, where the mesh is dense).  The peak sits where the mesh is coarsest (|V'| = 0):
    # mesh-to-mesh it moves by ~1e-7 mV, too much for central differences.
    return pulse.speed, pulse.width


_RNG = np.random.default_rng(7)
_N, _D, _P, _S, _G, _Q = 6, 3, 2, 1, 1, 1
_BLOCKS = {name: jnp.asarray(_RNG.normal(size=shape)) for name, shape in dict(
    left=(_P, _D), left_theta=(_P, _Q), left_rhs=(_P,), a=(_N, _D, _D), b=(_N, _D, _D), c=(_N, _D, _Q),
    rhs=(_N, _D), right=(_S, _D), right_theta=(_S, _Q), right_rhs=(_S,), g=(_N + 1, _G, _D), g_theta=(_G, _Q),
    g_rhs=(_G,)).items()}


def _solve_bordered(scale):
    blocks = dict(_BLOCKS)
    blocks["b"] = blocks["b"] + scale * jnp.eye(_D)  # diagonally dominant enough to be regular
    return bvp.solve_bordered(bvp.Bordered(**blocks))


def _oscillator(y, theta, frequency):
    return jnp.stack([y[1], -frequency**2 * y[0]])


def _collocation_residual(frequency):
    mesh = jnp.linspace(0.0, 1.0, 9)
    x = jnp.stack([jnp.cos(mesh), -jnp.sin(mesh)], axis=1)
    return bvp.collocation_residual(_oscillator, x, jnp.zeros(0), mesh, frequency)


ROWS = [
    Row("pulses.solve_pulse", _solve_pulse, 18.5, batch=(18.0, 18.5, 19.0), atol=1e-8, eps=1e-4, rtol=1e-5),
    Row("bvp.solve_bordered", _solve_bordered, 3.0),
    Row("bvp.collocation_residual", _collocation_residual, 1.0),
]

HOST_SIDE = {
    "pulses.wave_train": "a host-side driver: pulses.dispersion_curve's walk until its slow side passes the speed, "
                         "then one compiled solve with the period unknown",
    "pulses.dispersion_curve": "a host-side driver: pseudo-arclength continuation of wave trains in (speed, period) "
                               "with a new mesh after every step, decided on the host; each step is one compiled "
                               "corrector, tangent and remeshing (cached per mesh size)",
    "pulses.continue_pulses": "a host-side driver: the arclength step, its halving on failure and the fold's "
                              "secant refinement are decided on the host; each step is one compiled corrector "
                              "(cached per mesh size and parameter)",
    "pulses.slow_pulse": "a host-side driver: pulses.continue_pulses up through the fold and back down to the "
                         "temperature, then one compiled solve there",
}
