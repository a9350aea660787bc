"""jaxneuro: differentiable, batched computational neuroscience in JAX.

Importing jaxneuro switches JAX to float64 (``jax_enable_x64``): the cable and the speed finder
need it.  Units everywhere: µm, ms, mV (from rest), mS/cm², µF/cm², µA/cm², nA, Ω·cm, °C, m/s,
µV (extracellular).

Contents (``import jaxneuro as jn``):

==========================  ===================================================================
``jn.simulate_cable``       the H&H cable (Lees/Crank–Nicolson), single runs and batches
``jn.conduction_velocity``  velocity (m/s) from a cable run; ``jn.converged_velocity``: Richardson
``jn.Axon`` ...             parameters: ``Axon``, ``HHParams``, ``Grid``, ``Stimulus``, ``Record``
``jn.find_wave_speed``      the travelling pulse's speed, found automatically (``jn.wave``)
``jn.wave_speed``           the same, differentiable (implicit function theorem)
``jn.propagation_failure``  temperature (°C) above which no pulse propagates
``jn.solve_pulse``          the pulse as a boundary-value problem (``jn.pulses``); also
                            ``jn.continue_pulses`` (branch through the fold), ``jn.slow_pulse``
``jn.grid_potential``       extracellular waveform (µV) from a cable run (``jn.extracellular``)
``jn.extracellular_sweep``  Φe (µV) over radii × distances (``jn.extracellular.sweep``)
``jn.simulate_population``  the E/I oscillator (``jn.population``); ``jn.fixed_points``,
                            ``jn.phase_plane_field``, ``jn.population_scan``
``jn.run_sweep``            any batched job (``jn.jobs``) over thousands of members: chunks within
                            a memory budget, all devices (JAX sharding), progress (``jn.sweep``)
``jn.results``              result codes of failed computations (failures are values)
==========================  ===================================================================

The submodules (``wave``, ``extracellular``, ``population``, ``sweep``, ...) are imported on first use, so
``import jaxneuro`` stays light.

Examples:
    >>> import jaxneuro as jn
    >>> jn.Axon().radius, jn.Axon().membrane.temperature   # Cooley & Dodge's squid axon
    (238.0, 18.5)
"""

import importlib as _importlib
from importlib.metadata import PackageNotFoundError as _NotFound
from importlib.metadata import version as _version

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from . import membrane, results, rootfinding, tridiagonal, validation  # noqa: E402
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
    arrival_result,
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
from .results import NumericalError  # noqa: E402

try:
    __version__ = _version("jaxneuro")
except _NotFound:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_SUBMODULES = ("wave", "extracellular", "population", "plotting", "reproduce", "cli", "integrators",
               "notebook_reference", "fitting", "recordings", "pulses", "bvp", "sweep", "jobs")
#: Headline functions of the lazily imported submodules: name -> (module, attribute).
_HEADLINES = {
    "find_wave_speed": ("wave", "find_wave_speed"),
    "wave_speed": ("wave", "wave_speed"),
    "propagation_failure": ("wave", "propagation_failure"),
    "solve_pulse": ("pulses", "solve_pulse"),
    "slow_pulse": ("pulses", "slow_pulse"),
    "continue_pulses": ("pulses", "continue_pulses"),
    "grid_potential": ("extracellular", "grid_potential"),
    "extracellular_sweep": ("extracellular", "sweep"),
    "profile_potential": ("extracellular", "profile_potential"),
    "Electrode": ("extracellular", "Electrode"),
    "SpikeProfile": ("extracellular", "SpikeProfile"),
    "simulate_population": ("population", "simulate"),
    "PopulationParams": ("population", "PopulationParams"),
    "fixed_points": ("population", "fixed_points"),
    "phase_plane_field": ("population", "field"),
    "population_scan": ("population", "scan"),
    "fit": ("fitting", "fit"),
    "trace_problem": ("fitting", "trace_problem"),
    "waveform_problem": ("fitting", "waveform_problem"),
    "speed_problem": ("fitting", "speed_problem"),
    "TraceRecording": ("recordings", "TraceRecording"),
    "WaveformRecording": ("recordings", "WaveformRecording"),
    "SpeedRecording": ("recordings", "SpeedRecording"),
    "load_recording": ("recordings", "load"),
    "run_sweep": ("sweep", "run"),
}


def __getattr__(name):
    if name in _SUBMODULES:
        return _importlib.import_module(f".{name}", __name__)
    if name in _HEADLINES:
        module, attribute = _HEADLINES[name]
        return getattr(_importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'jaxneuro' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_HEADLINES))


__all__ = [
    "Axon", "Boundary", "CableDivergenceError", "CableSolution", "CableState", "ConvergedVelocity",
    "Gates", "Grid", "HHParams", "NumericalError", "Record", "Stimulus", "BETA_M_EXPONENT_HH",
    "BETA_M_EXPONENT_NOTEBOOK", "arrival_result", "arrival_time", "conduction_velocity", "converged_velocity",
    "cooley_dodge_axon", "cooley_dodge_grid", "cooley_dodge_stimulus", "membrane", "results", "rootfinding",
    "simulate_cable", "solve_cable", "tridiagonal", "validation", *_SUBMODULES, *_HEADLINES,
]
