"""jaxneuro: differentiable, batched computational neuroscience in JAX.

Importing jaxneuro switches JAX to float64 (``jax_enable_x64``): the cable and speed finder need
it.  Pass float32 arrays explicitly where throughput matters more than digits.

Units everywhere: µm, ms, mV (from rest), mS/cm², µF/cm², µA/cm², nA, Ω·cm, °C, m/s.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from . import membrane, tridiagonal  # noqa: E402
from .cable import (  # noqa: E402
    Axon,
    Boundary,
    CableDivergenceError,
    CableSolution,
    CableState,
    ConvergedVelocity,
    Grid,
    Record,
    Stimulus,
    arrival_time,
    conduction_velocity,
    converged_velocity,
    cooley_dodge_axon,
    cooley_dodge_grid,
    cooley_dodge_stimulus,
    simulate_cable,
    solve_cable,
)
from .membrane import BETA_M_EXPONENT_HH, BETA_M_EXPONENT_NOTEBOOK, Gates, HHParams  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Axon", "Boundary", "CableDivergenceError", "CableSolution", "CableState", "ConvergedVelocity",
    "Gates", "Grid", "HHParams", "Record", "Stimulus", "BETA_M_EXPONENT_HH", "BETA_M_EXPONENT_NOTEBOOK",
    "arrival_time", "conduction_velocity", "converged_velocity", "cooley_dodge_axon",
    "cooley_dodge_grid", "cooley_dodge_stimulus", "membrane", "simulate_cable", "solve_cable",
    "tridiagonal",
]
