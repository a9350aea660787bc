"""Fitting model parameters to recordings by gradients, with uncertainty and identifiability.

A fit has three parts:

* a **problem**: a recording (:mod:`jaxneuro.recordings`), the model that predicts it and the
  names of the parameters to fit, with bounds.  :func:`trace_problem` (the cable: membrane
  potential at positions along the axon), :func:`waveform_problem` (the extracellular potential
  of a travelling spike at one electrode) and :func:`speed_problem` (conduction speeds from the
  differentiable travelling-wave speed, :func:`jaxneuro.wave.wave_speed`).  The model is
  sampled at the recording's own times and positions (linear interpolation of the model's
  samples), so its grid need not match the data's.
* an **optimiser**: ``"lm"`` (Levenberg–Marquardt on the weighted residuals, Nielsen's damping
  update, Marquardt's diagonal scaling), or optax's ``"adam"`` (with an exponentially decaying
  learning rate) or ``"lbfgs"`` on the least-squares loss.  Bounded parameters are optimised in
  an unconstrained space: θ = lower + (upper - lower)·sigmoid(u).  Jacobians (LM) and gradients
  (Adam, L-BFGS) are taken in forward mode when the parameters are few (``jacobian="auto"``:
  forward for at most 4 parameters, and for LM whenever the parameters are fewer than the
  residuals) and in reverse mode otherwise; the cable's reverse mode can checkpoint its time
  loop (``checkpoint=``, see :func:`jaxneuro.cable.simulate_cable`).  Several starts run in one
  vmapped program; the best is kept and all are reported.
* the **uncertainty** at the optimum (:func:`uncertainty`): the Gauss–Newton covariance
  s²(JᵀJ)⁻¹ from the Jacobian in physical units (s² = 1 when the recording gives its noise,
  else the residual variance), standard errors and correlations, and an identifiability report
  from the singular values of the relatively scaled Jacobian J·diag(θ): a singular value below
  ``rcond`` times the largest names the parameter combination the data cannot determine
  (from conduction speeds alone, radius and ρ enter only through a/ρ).  :func:`profile_likelihood`
  re-fits the other parameters with one held at each of a list of values.

Loss: ½ Σ ((model - data)/σ)², σ the recording's noise (1 in the data's unit without one).

Failures are values: a model that fails (a cable run that diverges, a speed that cannot be
bracketed) makes the loss infinite and the step is rejected; a fit ends with a result code
(:mod:`jaxneuro.results`): ``SUCCESSFUL`` (converged), ``MAX_ITERATIONS``, or the model's own
code when it fails at the start.  Bad input raises ``ValueError`` before anything is compiled.

Examples:
    >>> import jaxneuro as jn
    >>> from jaxneuro import fitting, recordings
    >>> speeds = recordings.SpeedRecording.make("temperature", [6.3, 12.0, 18.5], [10.6, 14.2, 18.6])
    >>> problem = fitting.speed_problem(speeds, ("q10",), axon=jn.cooley_dodge_axon(), dt=0.01)
    >>> problem.names, problem.units
    (('q10',), ('',))
"""

from __future__ import annotations

import math
import sys
import time
from functools import partial
from typing import NamedTuple, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import cable, extracellular, output, results, validation, wave
from .cable import Axon, Grid, Record, Stimulus
from .recordings import SpeedRecording, TraceRecording, WaveformRecording

__all__ = [
    "PARAMETERS", "METHODS", "JACOBIANS", "Problem", "Fit", "Uncertainty", "Identifiability", "ProfileLikelihood",
    "trace_problem", "waveform_problem", "speed_problem", "residuals", "loss", "fit", "uncertainty",
    "profile_likelihood", "prediction", "summary", "summary_json", "report", "check_names", "fit_starts_traced",
]

Array = jax.Array


class Parameter(NamedTuple):
    """A fittable quantity: its unit, default bounds and where it lives in the model."""

    unit: str
    lower: float
    upper: float
    where: str  # "axon", "membrane", "stimulus", "electrode", "timing"


#: Every fittable parameter: unit, default bounds (a fit may narrow them), where it acts.
PARAMETERS = {
    "radius": Parameter("µm", 0.05, 2000.0, "axon"),
    "rho": Parameter("Ω·cm", 1.0, 1000.0, "axon"),
    "temperature": Parameter("°C", -10.0, 50.0, "membrane"),
    "gNa": Parameter("mS/cm²", 0.0, 1000.0, "membrane"),
    "gK": Parameter("mS/cm²", 0.0, 500.0, "membrane"),
    "gL": Parameter("mS/cm²", 0.0, 20.0, "membrane"),
    "ENa": Parameter("mV", 0.0, 250.0, "membrane"),
    "EK": Parameter("mV", -100.0, 50.0, "membrane"),
    "EL": Parameter("mV", -50.0, 50.0, "membrane"),
    "Cm": Parameter("µF/cm²", 0.05, 20.0, "membrane"),
    "q10": Parameter("", 1.0, 10.0, "membrane"),
    "amplitude": Parameter("nA", -1e6, 1e6, "stimulus"),
    "distance": Parameter("µm", 0.0, 1e4, "electrode"),
    "sigma_e": Parameter("S/m", 1e-3, 100.0, "electrode"),
    "offset": Parameter("ms", -5.0, 5.0, "timing"),
}
#: Optimisers of :func:`fit`.
METHODS = ("lm", "adam", "lbfgs")
#: Ways of taking derivatives.
JACOBIANS = ("auto", "forward", "reverse")
# The parameters each kind of problem can fit.
_FITTABLE = {
    "trace": ("radius", "rho", "temperature", "gNa", "gK", "gL", "ENa", "EK", "EL", "Cm", "q10", "amplitude", "offset"),
    "waveform": ("radius", "rho", "distance", "sigma_e", "offset"),
    "speed": ("radius", "rho", "temperature", "gNa", "gK", "gL", "ENa", "EK", "EL", "Cm", "q10"),
}


def _with_values(axon: Axon, stimulus: Optional[Stimulus], values: dict):
    """``axon`` and ``stimulus`` with the fitted values put in their places."""
    membrane = axon.membrane._replace(**{k: v for k, v in values.items() if PARAMETERS[k].where == "membrane"})
    axon = axon._replace(membrane=membrane, **{k: v for k, v in values.items() if PARAMETERS[k].where == "axon"})
    if stimulus is not None and "amplitude" in values:
        stimulus = stimulus._replace(amplitude=values["amplitude"])
    return axon, stimulus


# ------------------------------------------------------------------------------------------------
# Models: predictions at the recording's samples (pytrees; configuration static).


class _TraceModel(eqx.Module):
    axon: Axon
    stimulus: Stimulus
    t: Array  # data times (ms)
    grid: Grid = eqx.field(static=True)
    record: Record = eqx.field(static=True)
    linear_solver: str = eqx.field(static=True)
    checkpoint: int = eqx.field(static=True)

    def predict(self, values: dict):
        axon, stimulus = _with_values(self.axon, self.stimulus, values)
        # Unrolled by 2 (fastest forward, and forward-mode Jacobians); not unrolled with checkpoints
        # (reverse mode measured 1.5x faster so on the Cooley-Dodge run).
        sol = cable.solve_cable(axon, self.grid, stimulus, self.record, linear_solver=self.linear_solver,
                                checkpoint=self.checkpoint, unroll=1 if self.checkpoint else 2)
        times = self.t - values.get("offset", 0.0)
        v = jax.vmap(lambda trace: jnp.interp(times, sol.t, trace), in_axes=1)(sol.probe_v)  # (probes, times)
        return v, sol.result


class _WaveformModel(eqx.Module):
    profile: extracellular.SpikeProfile
    axon: Axon
    speed: Array  # of the profile's axon (m/s)
    distance: Array
    sigma_e: Array
    t: Array

    def predict(self, values: dict):
        axon, _ = _with_values(self.axon, None, values)
        distance = values.get("distance", self.distance)
        sigma_e = values.get("sigma_e", self.sigma_e)
        # The spike's speed scales like its length, by sqrt((a/ρ)/(a0/ρ0)) (cable invariance).
        speed = self.speed * extracellular._widening(self.profile.axon, axon) * 1e3  # µm/ms
        along = -speed * (self.t - values.get("offset", 0.0))  # electrode relative to the peak (µm)
        phi = jax.vmap(lambda x: extracellular.profile_potential(
            self.profile, axon, distance, x=x, sigma_e=sigma_e).value)(along)
        return phi, jnp.asarray(results.SUCCESSFUL, jnp.int32)


class _SpeedModel(eqx.Module):
    axon: Axon
    conditions: Array
    condition: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    rtol: float = eqx.field(static=True)

    def predict(self, values: dict):
        axon, _ = _with_values(self.axon, None, values)
        n = self.conditions.shape[0]
        axon = jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, (n,)), axon)
        if self.condition == "temperature":
            axon = axon._replace(membrane=axon.membrane._replace(temperature=self.conditions))
        else:
            axon = axon._replace(radius=self.conditions)
        speed, result = wave.wave_speed(axon, dt=self.dt, rtol=self.rtol, throw=False, return_result=True)
        return speed, results.first_failure(*result)


class Problem(eqx.Module):
    """What to fit: a model, its data, the fitted parameters' names and bounds (a pytree).

    Made by :func:`trace_problem`, :func:`waveform_problem` or :func:`speed_problem`.

    Attributes:
        model: the prediction (private type).
        data: the recording's values (mV, µV or m/s), flattened.
        sigma: the noise level per value (data's unit; 1 where the recording gives none).
        start: the default start (physical units), (p,).
        lower, upper: bounds (physical units), (p,).
        names: the fitted parameters (static).
        units: their units (static).
        kind: ``"trace"``, ``"waveform"`` or ``"speed"`` (static).
        noise_given: whether the recording gave its noise (static).
        shape: the recording's values' shape (static).
    """

    model: eqx.Module
    data: Array
    sigma: Array
    start: Array
    lower: Array
    upper: Array
    names: tuple = eqx.field(static=True)
    units: tuple = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    noise_given: bool = eqx.field(static=True)
    shape: tuple = eqx.field(static=True)

    def predict(self, theta: Array):
        """The model's values at the recording's samples (flattened) and its result code."""
        values = dict(zip(self.names, theta))
        prediction, result = self.model.predict(values)
        return jnp.ravel(prediction), result


def check_names(fit, kind: str, extra_invalid: dict = None) -> tuple:
    """The fitted names as a tuple (``fit``: a tuple or ``"a,b"``), checked for a ``kind`` of
    recording (``"trace"``, ``"waveform"``, ``"speed"``); ``ValueError`` naming a bad one."""
    if isinstance(fit, str):
        fit = tuple(n.strip() for n in fit.split(",") if n.strip())
    if not isinstance(fit, (tuple, list)) or not fit or not all(isinstance(n, str) for n in fit):
        raise ValueError(f"fit must name at least one parameter (e.g. ('radius', 'temperature')), got {fit!r}")
    for name in fit:
        if name not in PARAMETERS:
            raise ValueError(f"unknown parameter {name!r}: fittable are {', '.join(PARAMETERS)}")
        if name not in _FITTABLE[kind]:
            raise ValueError(f"parameter {name!r} cannot be fitted to a {kind} recording "
                             f"(fittable: {', '.join(_FITTABLE[kind])})")
        if extra_invalid and name in extra_invalid:
            raise ValueError(extra_invalid[name])
    if len(set(fit)) != len(fit):
        raise ValueError(f"fit names a parameter twice: {fit}")
    return tuple(fit)


def _bounds(names: tuple, bounds, start: np.ndarray) -> tuple:
    bounds = {} if bounds is None else dict(bounds)
    for name in bounds:
        if name not in names:
            raise ValueError(f"bounds given for {name!r}, which is not fitted ({', '.join(names)})")
    lower, upper = [], []
    for name, value in zip(names, start):
        p = PARAMETERS[name]
        pair = bounds.get(name, (p.lower, p.upper))
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"bounds[{name!r}] must be a pair (lower, upper) in {p.unit or 'its unit'}, got {pair!r}")
        lo, hi = pair
        validation.check_number(f"bounds[{name!r}]", [lo, hi], unit=p.unit)
        if not lo < hi:
            raise ValueError(f"bounds for {name} must have lower < upper, got ({lo}, {hi}) {p.unit}")
        if not lo < value < hi:
            raise ValueError(f"the start of {name}, {value} {p.unit}, lies outside its bounds ({lo}, {hi}) {p.unit}")
        lower.append(float(lo))
        upper.append(float(hi))
    return np.array(lower), np.array(upper)


def _current(name: str, axon: Axon, stimulus=None, extra: dict = None) -> float:
    where = PARAMETERS[name].where
    if extra and name in extra:
        return float(extra[name])
    if where == "membrane":
        return float(getattr(axon.membrane, name))
    if where == "axon":
        return float(getattr(axon, name))
    if where == "stimulus":
        return float(stimulus.amplitude)
    return 0.0


def _start(names, start, defaults: dict) -> np.ndarray:
    start = {} if start is None else dict(start)
    for name in start:
        if name not in names:
            raise ValueError(f"start given for {name!r}, which is not fitted ({', '.join(names)})")
    values = [start[n] if n in start else defaults[n] for n in names]
    for name, value in zip(names, values):
        validation.check_number(f"start[{name!r}]", value, unit=PARAMETERS[name].unit, scalar=True)
    return np.asarray(values, float)


def _sigma(noise, shape) -> np.ndarray:
    return np.ones(shape) if noise is None else np.broadcast_to(np.asarray(noise, float), shape)


def _problem(model, recording_values, noise, names, start, lower, upper, kind) -> Problem:
    data = np.ravel(np.asarray(recording_values, float))
    sigma = np.ravel(_sigma(noise, np.shape(recording_values)))
    return Problem(model, jnp.asarray(data), jnp.asarray(sigma), jnp.asarray(start), jnp.asarray(lower),
                   jnp.asarray(upper), names, tuple(PARAMETERS[n].unit for n in names), kind, noise is not None,
                   tuple(np.shape(recording_values)))


def trace_problem(recording: TraceRecording, fit, *, axon: Axon = Axon(), stimulus: Optional[Stimulus] = None,
                  grid: Optional[Grid] = None, start: Optional[dict] = None, bounds: Optional[dict] = None,
                  linear_solver: str = "thomas", checkpoint: int = 0) -> Problem:
    """Fit the cable to membrane-potential traces.

    Args:
        recording: the :class:`jaxneuro.recordings.TraceRecording` (t ms, x µm, v mV from rest).
        fit: names of the fitted parameters (a tuple, or a comma-separated string), from
            radius, rho, temperature, gNa, gK, gL, ENa, EK, EL, Cm, q10, amplitude (stimulus,
            nA) and offset (ms: the model is sampled at t - offset).
        axon: the values of everything not fitted, and the default start.
        stimulus: the current pulse (default: the Cooley–Dodge stimulus on ``grid``).
        grid: the model's discretisation (default: the Cooley–Dodge grid, 250 µm × 1 µs, long
            enough for the recording: t_stop >= its last time, every position on the cable).
        start: start values by name (physical units; default: ``axon``'s values, 0 for offset).
        bounds: ``{name: (lower, upper)}`` overriding :data:`PARAMETERS`' defaults.
        linear_solver, checkpoint: as in :func:`jaxneuro.cable.simulate_cable`.

    Returns:
        A :class:`Problem`.
    """
    if not isinstance(recording, TraceRecording):
        raise ValueError(f"recording must be a TraceRecording, got {type(recording).__name__}")
    names = check_names(fit, "trace")
    cable.validate_axon(axon)
    if grid is None:
        t_stop = max(5.0, float(recording.t[-1]) + 0.01)
        grid = cable.cooley_dodge_grid(t_stop=t_stop)
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a jaxneuro.Grid, got {type(grid).__name__}")
    stimulus = cable.cooley_dodge_stimulus(axon.radius, grid.dx) if stimulus is None else stimulus
    if float(recording.t[-1]) > grid.t_stop + 1e-12 or float(recording.t[0]) < 0:
        raise ValueError(f"the recording's times ({recording.t[0]} to {recording.t[-1]} ms) must lie in the model's "
                         f"run, [0, {grid.t_stop}] ms (lengthen grid.t_stop)")
    if np.any(recording.x < 0) or np.any(recording.x > grid.length):
        raise ValueError(f"the recording's positions {recording.x.tolist()} µm must lie on the cable, [0, {grid.length}] µm")
    record = Record(every=1, history=False, probes=tuple(recording.x), peaks=False, threshold=None)
    x0 = _start(names, start, {n: _current(n, axon, stimulus) for n in names})
    lower, upper = _bounds(names, bounds, x0)
    cable.validate_cable_input(axon, grid, stimulus, record)
    validation.check_choice("linear_solver", linear_solver, cable.LINEAR_SOLVERS)
    validation.check_integer("checkpoint", checkpoint, minimum=0)
    model = _TraceModel(jax.tree.map(jnp.asarray, axon), jax.tree.map(jnp.asarray, stimulus),
                        jnp.asarray(recording.t), grid, record, linear_solver, checkpoint)
    return _problem(model, recording.v, recording.noise, names, x0, lower, upper, "trace")


def waveform_problem(recording: WaveformRecording, fit, *, profile: extracellular.SpikeProfile, speed: float,
                     axon: Optional[Axon] = None, distance: Optional[float] = None,
                     sigma_e: float = extracellular.SIGMA_E, start: Optional[dict] = None,
                     bounds: Optional[dict] = None) -> Problem:
    """Fit a travelling spike's extracellular potential at one electrode (µV).

    The spike is ``profile`` widened for the axon (its length and speed both scale by
    sqrt((a/ρ)/(a0/ρ0)), the cable equation's invariance, for the same membrane), passing the
    electrode at time ``offset`` (ms); Φ_e by :func:`jaxneuro.extracellular.profile_potential`.

    Args:
        recording: the :class:`jaxneuro.recordings.WaveformRecording` (t ms, phi µV).
        fit: from radius, rho, distance (µm, from the axis), sigma_e (S/m), offset (ms).
        profile: the spike's spatial profile (:class:`jaxneuro.extracellular.SpikeProfile`).
        speed: the profile's conduction speed (m/s) on ``profile.axon``.
        axon: values not fitted and the default start (default: ``profile.axon``).
        distance: the electrode distance when not fitted, and its default start (µm; default
            the recording's nominal distance).
        sigma_e: extracellular conductivity (S/m).
        start, bounds: as in :func:`trace_problem`.
    """
    if not isinstance(recording, WaveformRecording):
        raise ValueError(f"recording must be a WaveformRecording, got {type(recording).__name__}")
    names = check_names(fit, "waveform")
    if not isinstance(profile, extracellular.SpikeProfile):
        raise ValueError(f"profile must be a SpikeProfile, got {type(profile).__name__}")
    validation.check_number("speed", speed, positive=True, scalar=True, unit="m/s")
    axon = profile.axon if axon is None else axon
    cable.validate_axon(axon)
    distance = recording.distance if distance is None else distance
    if start and "distance" in start:
        distance = start["distance"]
    if distance is None or not np.isfinite(distance):
        raise ValueError("the electrode distance is unknown: give distance= (µm) or a recording with a nominal distance")
    validation.check_number("distance", distance, positive=True, scalar=True, unit="µm")
    validation.check_number("sigma_e", sigma_e, positive=True, scalar=True, unit="S/m")
    x0 = _start(names, start, {n: _current(n, axon, extra={"distance": distance, "sigma_e": sigma_e}) for n in names})
    lower, upper = _bounds(names, bounds, x0)
    radius = dict(zip(names, x0)).get("radius", float(axon.radius))
    if distance <= radius:
        raise ValueError(f"the electrode distance {distance} µm must exceed the radius {radius} µm")
    model = _WaveformModel(profile, jax.tree.map(jnp.asarray, axon), jnp.asarray(float(speed)),
                           jnp.asarray(float(distance)), jnp.asarray(float(sigma_e)), jnp.asarray(recording.t))
    return _problem(model, recording.phi, recording.noise, names, x0, lower, upper, "waveform")


def speed_problem(recording: SpeedRecording, fit, *, axon: Axon = Axon(), dt: float = 0.01, rtol: float = 1e-10,
                  start: Optional[dict] = None, bounds: Optional[dict] = None) -> Problem:
    """Fit the axon to conduction speeds (m/s) under several temperatures or radii.

    The model is the travelling-wave speed (:func:`jaxneuro.wave.wave_speed`, differentiated by
    the implicit function theorem) of ``axon`` with the fitted values, at each condition.

    Args:
        recording: the :class:`jaxneuro.recordings.SpeedRecording`.
        fit: from radius, rho, temperature, gNa, gK, gL, ENa, EK, EL, Cm, q10 (not the
            recording's own condition).
        axon: values not fitted and the default start.
        dt: the wave solver's step (ms); rtol: its bisection tolerance (static).
        start, bounds: as in :func:`trace_problem`.
    """
    if not isinstance(recording, SpeedRecording):
        raise ValueError(f"recording must be a SpeedRecording, got {type(recording).__name__}")
    names = check_names(fit, "speed", {recording.condition: f"{recording.condition} is the recording's condition "
                                                       "(one value per speed): it cannot also be fitted"})
    cable.validate_axon(axon)
    validation.check_number("dt", dt, positive=True, scalar=True, unit="ms")
    validation.check_number("rtol", rtol, positive=True, scalar=True)
    if recording.condition == "temperature":
        validation.check_temperature("recording temperature", recording.conditions)
    x0 = _start(names, start, {n: _current(n, axon) for n in names})
    lower, upper = _bounds(names, bounds, x0)
    model = _SpeedModel(jax.tree.map(jnp.asarray, axon), jnp.asarray(recording.conditions), recording.condition,
                        float(dt), float(rtol))
    return _problem(model, recording.speed, recording.noise, names, x0, lower, upper, "speed")


# ------------------------------------------------------------------------------------------------
# The loss and its derivatives.


def _to_physical(problem: Problem, u):
    return problem.lower + (problem.upper - problem.lower) * jax.nn.sigmoid(u)


def _to_unconstrained(problem: Problem, theta):
    fraction = (theta - problem.lower) / (problem.upper - problem.lower)
    return jnp.log(fraction) - jnp.log1p(-fraction)


def _residuals(problem: Problem, theta):
    prediction, result = problem.predict(theta)
    r = (prediction - problem.data) / problem.sigma
    bad = (result != results.SUCCESSFUL) | ~jnp.all(jnp.isfinite(r))
    return r, jnp.where(bad, jnp.where(result != results.SUCCESSFUL, result, results.DIVERGED), results.SUCCESSFUL)


@jax.jit
def residuals(problem: Problem, theta: Array):
    """Weighted residuals (model - data)/σ at the parameter values ``theta`` (physical units,
    in ``problem.names``' order) and the model's result code.

    Examples:
        >>> import jaxneuro as jn
        >>> from jaxneuro import fitting, recordings
        >>> rec = recordings.SpeedRecording.make("temperature", [18.5], [18.6], noise=0.1)
        >>> problem = fitting.speed_problem(rec, "gNa", axon=jn.cooley_dodge_axon(), dt=0.01)
        >>> r, code = fitting.residuals(problem, problem.start)
        >>> r.shape, int(code)
        ((1,), 0)
    """
    return _residuals(problem, theta)


@jax.jit
def loss(problem: Problem, theta: Array):
    """½ Σ residuals² at ``theta`` (physical units); ``inf`` where the model fails."""
    r, result = _residuals(problem, theta)
    return jnp.where(result == results.SUCCESSFUL, 0.5 * jnp.sum(r * r), jnp.inf)


def _forward(jacobian: str, p: int, n: int, least_squares: bool) -> bool:
    if jacobian == "auto":
        return p <= n if least_squares else p <= 4
    return jacobian == "forward"


def _jacobian(problem: Problem, u, free, forward: bool):
    """Residuals, their Jacobian w.r.t. the unconstrained u (frozen columns zero), result."""
    def f(u):
        r, result = _residuals(problem, _to_physical(problem, u))
        return r, (r, result)

    jac, (r, result) = (jax.jacfwd if forward else jax.jacrev)(f, has_aux=True)(u)
    return r, jac * free, result


# ------------------------------------------------------------------------------------------------
# Levenberg–Marquardt, one iteration per call (vmapped over starts).


class _LMState(NamedTuple):
    u: Array
    r: Array
    jac: Array
    cost: Array
    damping: Array
    nu: Array
    result: Array  # of the model at u
    done: Array
    converged: Array
    iterations: Array


def _lm_cost(r, result):
    return jnp.where(result == results.SUCCESSFUL, 0.5 * jnp.sum(r * r), jnp.inf)


def _lm_init(problem: Problem, u, free, forward: bool) -> _LMState:
    r, jac, result = _jacobian(problem, u, free, forward)
    cost = _lm_cost(r, result)
    damping = jnp.asarray(1e-3, r.dtype)  # relative to diag(JᵀJ) (Marquardt's scaling)
    return _LMState(u, r, jac, cost, damping, jnp.asarray(2.0), result, result != results.SUCCESSFUL,
                    jnp.asarray(False), jnp.asarray(0))


def _lm_step(problem: Problem, state: _LMState, free, forward: bool, tolerance: float) -> _LMState:
    jac, r = state.jac, state.r
    g = jac.T @ r
    h = jac.T @ jac
    scale = jnp.maximum(jnp.diag(h), 1e-12 * jnp.max(jnp.diag(h)) + 1e-300)
    frozen = jnp.diag(jnp.where(free, 0.0, 1.0))
    delta = jnp.linalg.solve(h + state.damping * jnp.diag(scale) + frozen, -g) * free
    predicted = -(g @ delta + 0.5 * delta @ h @ delta)
    r_new, jac_new, result_new = _jacobian(problem, state.u + delta, free, forward)
    cost_new = _lm_cost(r_new, result_new)
    gain = (state.cost - cost_new) / jnp.maximum(predicted, 1e-300)
    accept = (cost_new < state.cost) & jnp.isfinite(cost_new)
    # Nielsen's update of the damping.
    damping = jnp.where(accept, state.damping * jnp.maximum(1 / 3, 1 - (2 * gain - 1) ** 3), state.damping * state.nu)
    nu = jnp.where(accept, 2.0, 2.0 * state.nu)
    small_step = accept & (jnp.linalg.norm(delta) <= tolerance * (jnp.linalg.norm(state.u) + tolerance))
    small_change = accept & (state.cost - cost_new <= tolerance * state.cost)
    flat = jnp.max(jnp.abs(g)) <= 1e-12 * (1.0 + state.cost)
    converged = state.converged | (~state.done & (small_step | small_change | flat))
    # Damping this large means no step of any length lowers the loss away from a stationary
    # point: the fit has stalled (reported STALLED, not converged).
    done = state.done | converged | (damping > 1e16)
    pick = lambda new, old: jnp.where(accept & ~state.done, new, old)  # noqa: E731
    return _LMState(pick(state.u + delta, state.u), pick(r_new, r), pick(jac_new, jac), pick(cost_new, state.cost),
                    jnp.where(state.done, state.damping, damping), jnp.where(state.done, state.nu, nu),
                    pick(result_new, state.result), done, converged, state.iterations + jnp.where(state.done, 0, 1))


_lm_init_many = jax.jit(jax.vmap(_lm_init, in_axes=(None, 0, None, None)), static_argnames=("forward",))
_lm_step_many = jax.jit(jax.vmap(_lm_step, in_axes=(None, 0, None, None, None)), static_argnames=("forward",))


def _lm_codes(result, done, converged):
    return jnp.where(result != results.SUCCESSFUL, result,
                     jnp.where(converged, results.SUCCESSFUL,
                               jnp.where(done, results.STALLED, results.MAX_ITERATIONS))).astype(jnp.int32)


@partial(jax.jit, static_argnames=("max_iterations", "jacobian"))
def fit_starts_traced(problem: Problem, starts: Array, *, max_iterations: int = 100, tolerance: float = 1e-10,
                      jacobian: str = "auto") -> dict:
    """Levenberg–Marquardt from each row of ``starts`` (S, p) (physical units), every start run to
    convergence inside one program (a ``while_loop``; no host loop, no progress), with no checks:
    the device-side multi-start of :func:`fit`, for :class:`jaxneuro.jobs.FitStarts` and
    :func:`jaxneuro.sweep.run`.  Each start takes the Levenberg–Marquardt steps it takes in :func:`fit`
    (to rounding: near the optimum the stopping test can react to the last bits).

    Returns:
        dict with ``values`` (S, p) fitted values (physical units), ``loss`` (S,) ½ Σ ((model -
        data)/σ)², ``iterations`` (S,), ``result`` (S,) codes as :class:`Fit`'s.
    """
    p, n = starts.shape[-1], int(problem.data.size)
    forward = _forward(jacobian, p, n, least_squares=True)
    free = jnp.ones(p)
    tolerance = jnp.asarray(tolerance, float)

    def one(u):
        state = _lm_init(problem, u, free, forward)
        return jax.lax.while_loop(lambda s: ~s.done & (s.iterations < max_iterations),
                                  lambda s: _lm_step(problem, s, free, forward, tolerance), state)

    state = jax.vmap(one)(_to_unconstrained(problem, starts))
    return {"values": _to_physical(problem, state.u), "loss": state.cost, "iterations": state.iterations,
            "result": _lm_codes(state.result, state.done, state.converged)}


# ------------------------------------------------------------------------------------------------
# optax: Adam and L-BFGS on the loss.


def _gradient(problem: Problem, u, free, forward: bool):
    def f(u):
        r, result = _residuals(problem, _to_physical(problem, u))
        return _lm_cost(r, result)

    if forward:
        value, grad = f(u), jax.jacfwd(f)(u)
    else:
        value, grad = jax.value_and_grad(f)(u)
    # A non-finite gradient makes the loss non-finite too: the step is refused, the fit fails.
    return jnp.where(jnp.all(jnp.isfinite(grad)), value, jnp.inf), jnp.where(jnp.isfinite(grad), grad, 0.0) * free


def _optimiser(method: str, learning_rate, max_iterations):
    if method == "adam":  # halved every quarter of the run (traced values: no recompilation)
        return optax.adam(lambda count: learning_rate * 0.5 ** (count / jnp.maximum(1.0, max_iterations / 4)))
    return optax.lbfgs()


def _line_search_loss(problem, free, forward: bool):
    """The loss for L-BFGS's zoom line search, which takes ``value_and_grad`` of it at each trial
    point: with few parameters its reverse mode is the forward-mode gradient (through the cable
    ~5 runs instead of ~16 for a plain reverse pass)."""
    def plain(u):
        return _lm_cost(*_residuals(problem, _to_physical(problem, u)))

    if not forward:
        return plain
    value = jax.custom_vjp(plain)
    value.defvjp(lambda u: _gradient(problem, u, free, True), lambda grad, g: (g * grad,))
    return value


class _OptaxState(NamedTuple):
    u: Array
    cost: Array
    grad: Array
    opt: tuple
    done: Array
    converged: Array
    failed: Array  # a step, or the start, gave a non-finite loss or gradient
    iterations: Array


def _optax_init(problem, u, free, forward, method, learning_rate, max_iterations):
    cost, grad = _gradient(problem, u, free, forward)
    opt = _optimiser(method, learning_rate, max_iterations).init(u)
    bad = ~jnp.isfinite(cost)
    return _OptaxState(u, cost, grad, opt, bad, jnp.asarray(False), bad, jnp.asarray(0))


def _optax_step(problem, state: _OptaxState, free, forward, method, learning_rate, max_iterations, tolerance):
    optimiser = _optimiser(method, learning_rate, max_iterations)
    value_fn = _line_search_loss(problem, free, forward)
    updates, opt = optimiser.update(state.grad, state.opt, state.u, value=state.cost, grad=state.grad,
                                    value_fn=value_fn)
    u = state.u + updates * free
    cost, grad = _gradient(problem, u, free, forward)
    failed = ~state.done & ~jnp.isfinite(cost)
    converged = ~state.done & ~failed & (jnp.abs(state.cost - cost) <= tolerance * jnp.abs(state.cost))
    keep = state.done | failed
    pick = lambda new, old: jnp.where(keep, old, new)  # noqa: E731
    return _OptaxState(pick(u, state.u), pick(cost, state.cost), pick(grad, state.grad),
                       jax.tree.map(pick, opt, state.opt), state.done | converged | failed,
                       state.converged | converged, state.failed | failed, state.iterations + jnp.where(state.done, 0, 1))


_OPTAX_STATIC = ("forward", "method")
_optax_init_many = jax.jit(jax.vmap(_optax_init, in_axes=(None, 0, None, None, None, None, None)),
                           static_argnames=_OPTAX_STATIC)
_optax_step_many = jax.jit(jax.vmap(_optax_step, in_axes=(None, 0, None, None, None, None, None, None)),
                           static_argnames=_OPTAX_STATIC)


# ------------------------------------------------------------------------------------------------
# Uncertainty and identifiability.


class Identifiability(NamedTuple):
    """Which parameter combinations the data determine.

    Attributes:
        singular_values: of the Jacobian scaled by the parameter values, J·diag(|θ|),
            descending (residual units per relative change).
        relative: ``singular_values / singular_values[0]``.
        directions: right singular vectors (rows), in relative (logarithmic) parameter changes.
        identifiable: whether every relative singular value exceeds ``rcond``.
        combinations: for each near-zero singular value, a sentence naming the direction the
            data cannot see and the combination they do determine.
    """

    singular_values: np.ndarray
    relative: np.ndarray
    directions: np.ndarray
    identifiable: bool
    combinations: tuple


class Uncertainty(NamedTuple):
    """The curvature of the loss at a point: Gauss–Newton (Fisher) covariance.

    Attributes:
        standard_errors: (p,) in the parameters' units; ``inf`` for a parameter in a
            direction the data cannot determine.
        correlation: (p, p); NaN where a standard error is infinite.
        covariance: (p, p).
        noise: the noise level (data's unit): the recording's when it gives one (then
            ``noise_estimated`` is False), else sqrt(RSS/(n - p)).
        noise_estimated: whether ``noise`` came from the residuals.
        identifiability: :class:`Identifiability`.
    """

    standard_errors: np.ndarray
    correlation: np.ndarray
    covariance: np.ndarray
    noise: float
    noise_estimated: bool
    identifiability: Identifiability


@jax.jit
def _physical_jacobian(problem: Problem, theta):
    def f(theta):
        r, result = _residuals(problem, theta)
        return r, (r, result)

    return jax.jacfwd(f, has_aux=True)(theta)


def _combination(direction: np.ndarray, names: tuple) -> str:
    involved = [i for i in range(direction.size) if abs(direction[i]) > 1e-3 * np.max(np.abs(direction))]
    moves = " : ".join(f"{direction[i] / direction[involved[0]]:.3g}" for i in involved)
    text = (f"changing {', '.join(names[i] for i in involved)} together with d ln {' : d ln '.join(names[i] for i in involved)}"
            f" = {moves} leaves the fit unchanged")
    if len(involved) == 2:
        i, j = involved
        ratio = -direction[i] / direction[j]  # x_i · x_j^(ratio) stays fixed along the direction
        if abs(ratio + 1) < 1e-2:
            text += f"; only {names[i]}/{names[j]} is determined, not {names[i]} and {names[j]} separately"
        elif abs(ratio - 1) < 1e-2:
            text += f"; only {names[i]}·{names[j]} is determined, not {names[i]} and {names[j]} separately"
        else:
            text += f"; only {names[i]}·{names[j]}^({ratio:.3g}) is determined"
    return text


def uncertainty(problem: Problem, theta, *, rcond: float = 1e-6) -> Uncertainty:
    """Standard errors, correlations and identifiability at ``theta`` (physical units).

    Args:
        problem: the :class:`Problem`.
        theta: parameter values (p,) in ``problem.names``' order (e.g. ``Fit.values``).
        rcond: a relative singular value of J·diag(|θ|) below this marks a combination the data
            cannot determine.

    Returns:
        :class:`Uncertainty` (host NumPy values).

    Raises:
        ValueError: ``theta`` of the wrong length or not finite.
        jaxneuro.results.NumericalError: the model fails at ``theta``.
    """
    theta = np.asarray(theta, float)
    if theta.shape != (len(problem.names),) or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta must hold {len(problem.names)} finite values ({', '.join(problem.names)}), got {theta}")
    validation.check_number("rcond", rcond, positive=True, scalar=True)
    jac, (r, result) = _physical_jacobian(problem, jnp.asarray(theta))
    results.raise_if_failed(result, "the model at the fitted values")
    jac, r = np.asarray(jac), np.asarray(r)
    n, p = jac.shape
    if problem.noise_given:
        s2, estimated = 1.0, False
    else:  # with no more values than parameters the residuals say nothing of the noise
        s2, estimated = (float(r @ r) / (n - p) if n > p else float("nan")), True
    scale = np.where(theta != 0, np.abs(theta), 1.0)
    _, sv, vt = np.linalg.svd(jac * scale, full_matrices=False)
    relative = sv / sv[0] if sv[0] > 0 else np.zeros_like(sv)
    weak = relative <= rcond
    inverse = np.where(weak, 0.0, 1.0 / np.where(weak, 1.0, sv) ** 2)
    covariance = s2 * (vt.T * inverse) @ vt * np.outer(scale, scale)
    unseen = np.any(np.abs(vt[weak]) > 1e-3, axis=0) if weak.any() else np.zeros(p, bool)
    se = np.where(unseen, np.inf, np.sqrt(np.maximum(np.diag(covariance), 0.0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(se, se)
    correlation[np.ix_(unseen, np.ones(p, bool))] = np.nan
    correlation[np.ix_(np.ones(p, bool), unseen)] = np.nan
    # Columns scaled by |θ|: a direction's entries are sign(θ)·d ln|θ| (d θ where θ = 0).
    combos = tuple(_combination(vt[k] * np.sign(np.where(theta != 0, theta, 1.0)), problem.names)
                   for k in np.flatnonzero(weak))
    ident = Identifiability(sv, relative, vt, not weak.any(), combos)
    noise = math.sqrt(s2) if estimated else float(np.mean(np.asarray(problem.sigma)))
    return Uncertainty(se, correlation, covariance, noise, estimated, ident)


# ------------------------------------------------------------------------------------------------
# The driver.


class Fit(NamedTuple):
    """The result of :func:`fit` (host values).

    Attributes:
        names, units: the fitted parameters and their units.
        values: the best start's final values (p,), physical units.
        standard_errors, correlation, uncertainty: at ``values`` (:func:`uncertainty`).
        result: int code (:mod:`jaxneuro.results`) of the best start: SUCCESSFUL (converged),
            MAX_ITERATIONS, STALLED (no step lowers the loss, away from a converged point),
            DIVERGED (a step of Adam/L-BFGS gave a non-finite loss or gradient) or the model's
            own code when it fails at the start.
        iterations: its iterations.
        loss: its final loss ½ Σ ((model - data)/σ)².
        loss_history: its loss at the start and after each iteration of the vmapped run (as
            long as the longest start's run; constant once it stopped).
        at_bound: (p,) bool: whether a value ended within 1e-4 of a bound's span from it.
        starts: (S, p) the start values; finals: (S, p) their final values; final_losses (S,);
            final_results (S,).
        method: the optimiser; elapsed: wall time (s) of the iterations (compilation included).
    """

    names: tuple
    units: tuple
    values: np.ndarray
    standard_errors: np.ndarray
    correlation: np.ndarray
    uncertainty: Optional[Uncertainty]
    result: int
    iterations: int
    loss: float
    loss_history: np.ndarray
    at_bound: np.ndarray
    starts: np.ndarray
    finals: np.ndarray
    final_losses: np.ndarray
    final_results: np.ndarray
    method: str
    elapsed: float
    kind: str = "trace"

    def value(self, name: str) -> float:
        """The fitted value of ``name``."""
        return float(self.values[self.names.index(name)])


def _starts(problem: Problem, start, starts, seed: int) -> np.ndarray:
    lower, upper = np.asarray(problem.lower), np.asarray(problem.upper)
    x0 = np.asarray(problem.start if start is None else _start(problem.names, start, dict(zip(problem.names, np.asarray(problem.start)))), float)
    if start is not None:
        for name, value, lo, hi in zip(problem.names, x0, lower, upper):
            if not lo < value < hi:
                raise ValueError(f"the start of {name}, {value}, lies outside its bounds ({lo}, {hi})")
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, bool):
        validation.check_integer("starts", starts, minimum=1)
        rng = np.random.default_rng(seed)
        # Further starts: within ±50 % of the first (clipped inside the bounds).
        span = upper - lower
        spread = np.where(x0 != 0, 0.5 * np.abs(x0), 0.05 * span)  # ±50 % (±5 % of the span at 0)
        others = x0 + spread * rng.uniform(-1.0, 1.0, size=(starts - 1, x0.size))
        others = np.clip(others, lower + 1e-3 * span, upper - 1e-3 * span)
        return np.vstack([x0[None], others])
    array = np.asarray(starts, float)
    if array.ndim != 2 or array.shape[1] != x0.size:
        raise ValueError(f"starts must be a count or an array (S, {x0.size}), got shape {array.shape}")
    validation.check_number("starts", array)
    if np.any(array <= lower) or np.any(array >= upper):
        raise ValueError("every start must lie inside the bounds")
    return array


def _show(progress, k, cost, t0, method):
    if progress:
        print(f"\r{method} iteration {k:4d}  loss {cost:.6e}  {time.perf_counter() - t0:7.1f} s", end="",
              file=sys.stderr, flush=True)


def fit(problem: Problem, start: Optional[dict] = None, *, method: str = "lm", starts=1, seed: int = 0,
        max_iterations: int = 100, tolerance: float = 1e-10, jacobian: str = "auto", learning_rate: float = 0.05,
        fixed: tuple = (), progress: Optional[bool] = None, with_uncertainty: bool = True) -> Fit:
    """Fit ``problem``'s parameters.

    Args:
        problem: from :func:`trace_problem`, :func:`waveform_problem` or :func:`speed_problem`.
        start: start values by name (physical units; default ``problem.start``).
        method: ``"lm"`` (Levenberg–Marquardt), ``"adam"`` or ``"lbfgs"`` (optax).
        starts: how many starts (the first is ``start``, the others within ±50 % of it (±5 % of
            the bounds' span for a parameter at 0), drawn
            with ``seed``), or an array (S, p) of starts; all run in one vmapped program.
        seed: for the extra starts.
        max_iterations: iteration limit (``result`` MAX_ITERATIONS when reached unconverged).
        tolerance: relative change of the loss (and, for LM, of the unconstrained step) that
            ends a fit; one that reaches ``max_iterations`` first ends MAX_ITERATIONS.
        jacobian: ``"auto"``, ``"forward"`` or ``"reverse"`` (see the module's docstring).
        learning_rate: Adam's initial rate (in the unconstrained variables), halved every
            quarter of ``max_iterations``.
        fixed: names held at their start values (for profiles; no uncertainty is computed).
        progress: show iterations, loss and time on stderr (default: when stderr is a terminal).
        with_uncertainty: compute standard errors and identifiability at the optimum.

    Returns:
        :class:`Fit`.

    Raises:
        ValueError: bad options or starts, before anything is compiled.
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a fitting.Problem (trace_problem, ...), got {type(problem).__name__}")
    validation.check_choice("method", method, METHODS)
    validation.check_choice("jacobian", jacobian, JACOBIANS)
    validation.check_integer("max_iterations", max_iterations, minimum=1)
    validation.check_number("tolerance", tolerance, positive=True, scalar=True)
    validation.check_number("learning_rate", learning_rate, positive=True, scalar=True)
    for name in fixed:
        if name not in problem.names:
            raise ValueError(f"fixed names {name!r}, which is not fitted ({', '.join(problem.names)})")
    progress = sys.stderr.isatty() if progress is None else bool(progress)
    x0 = _starts(problem, start, starts, seed)
    free = jnp.asarray([n not in fixed for n in problem.names], float)
    u0 = _to_unconstrained(problem, jnp.asarray(x0))
    p, n = x0.shape[1], problem.data.size
    forward = _forward(jacobian, p, n, least_squares=method == "lm")
    t0 = time.perf_counter()
    if method == "lm":
        state = _lm_init_many(problem, u0, free, forward)
        step = lambda s: _lm_step_many(problem, s, free, forward, jnp.asarray(float(tolerance)))  # noqa: E731
    else:
        options = (jnp.asarray(float(learning_rate)), jnp.asarray(float(max_iterations)))
        state = _optax_init_many(problem, u0, free, forward, method, *options)
        step = lambda s: _optax_step_many(problem, s, free, forward, method, *options,  # noqa: E731
                                          jnp.asarray(float(tolerance)))
    history = [np.asarray(state.cost)]
    for k in range(max_iterations):
        if bool(np.all(np.asarray(state.done))):
            break
        state = step(state)
        history.append(np.asarray(state.cost))
        _show(progress, k + 1, float(np.min(history[-1])), t0, method)
    if progress:
        print(file=sys.stderr)
    elapsed = time.perf_counter() - t0
    costs = np.asarray(state.cost)
    best = int(np.nanargmin(np.where(np.isfinite(costs), costs, np.nan))) if np.isfinite(costs).any() else 0
    finals = np.asarray(_to_physical(problem, state.u))
    done, converged = np.asarray(state.done), np.asarray(state.converged)
    if method == "lm":
        model_result = np.asarray(state.result)
    else:  # the model's code where the loss is not finite (a failed step keeps the last good point)
        model_result = np.where(np.asarray(state.failed), results.DIVERGED, results.SUCCESSFUL)
    codes = np.asarray(_lm_codes(model_result, done, converged)).astype(int)
    values = finals[best]
    lower, upper = np.asarray(problem.lower), np.asarray(problem.upper)
    span = upper - lower
    at_bound = (values - lower < 1e-4 * span) | (upper - values < 1e-4 * span)
    unc = None
    se = np.full(p, np.nan)
    corr = np.full((p, p), np.nan)
    if with_uncertainty and codes[best] == results.SUCCESSFUL and not fixed:
        unc = uncertainty(problem, values)
        se, corr = unc.standard_errors, unc.correlation
    return Fit(problem.names, problem.units, values, se, corr, unc, int(codes[best]),
               int(np.asarray(state.iterations)[best]), float(costs[best]), np.array([h[best] for h in history]),
               at_bound, x0, finals, costs, codes, method, elapsed, problem.kind)


def prediction(problem: Problem, result: Fit):
    """The model at the fitted values, in the recording's shape, and its standard error from
    the parameters' covariance (J Σ Jᵀ, J the Jacobian of the predictions; None without an
    uncertainty, or when a parameter combination is not identifiable).  Host NumPy values in
    the data's unit."""
    jac, (r, result_code) = _physical_jacobian(problem, jnp.asarray(result.values))
    results.raise_if_failed(result_code, "the model at the fitted values")
    sigma = np.asarray(problem.sigma)
    values = np.asarray(r) * sigma + np.asarray(problem.data)
    band = None
    if (result.uncertainty is not None and result.uncertainty.identifiability.identifiable
            and np.all(np.isfinite(result.uncertainty.standard_errors))):
        jp = np.asarray(jac) * sigma[:, None]
        band = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jp, result.uncertainty.covariance, jp), 0.0))
    out_shape = problem.shape
    return values.reshape(out_shape), None if band is None else band.reshape(out_shape)


# ------------------------------------------------------------------------------------------------
# Profile likelihood.


class ProfileLikelihood(NamedTuple):
    """The loss with one parameter held at each of ``values``, the others re-fitted.

    Attributes:
        name: the profiled parameter; values: its values (its unit).
        loss: the re-fitted loss at each value (½ Σ weighted residuals²); NaN where the re-fit
            did not converge.
        others: (len(values), p) all parameters at each point.
        interval: the 95 % interval: where 2 (loss - min loss) <= 3.84 (χ²₁; with an
            estimated noise level, divided by its variance), by linear interpolation; NaN
            where the profile does not rise that far inside ``values``.
    """

    name: str
    values: np.ndarray
    loss: np.ndarray
    others: np.ndarray
    interval: tuple


def profile_likelihood(problem: Problem, result: Fit, name: str, values, *, max_iterations: int = 50,
                       progress: Optional[bool] = None) -> ProfileLikelihood:
    """The profile likelihood of ``name`` around a fit (all points in one vmapped fit).

    Args:
        problem: the fitted :class:`Problem`.
        result: its :class:`Fit` (the other parameters start from its values).
        name: the profiled parameter.
        values: where to hold it (its unit), 1-D, inside its bounds.
    """
    if name not in problem.names:
        raise ValueError(f"{name!r} is not fitted ({', '.join(problem.names)})")
    validation.check_number("values", values, unit=PARAMETERS[name].unit)
    values = np.asarray(values, float)
    if values.ndim != 1 or values.size < 2 or not np.all(np.diff(values) > 0):
        raise ValueError("values must be 1-D, increasing, with at least 2 entries")
    if result.uncertainty is None and not problem.noise_given:
        raise ValueError("the recording gives no noise level: pass a Fit with its uncertainty (with_uncertainty=True), "
                         "whose noise estimate scales the profile")
    k = problem.names.index(name)
    starts = np.repeat(result.values[None], values.size, axis=0)
    starts[:, k] = values
    held = fit(problem, method="lm", starts=starts, max_iterations=max_iterations, fixed=(name,),
               progress=progress, with_uncertainty=False)
    # Points whose re-fit did not converge have no profile value (NaN), rather than a false rise.
    losses = np.where(held.final_results == results.SUCCESSFUL, held.final_losses, np.nan)
    variance = 1.0 if problem.noise_given else result.uncertainty.noise ** 2
    rise = 2.0 * (losses - min(result.loss, np.min(losses))) / variance
    inside = np.where(np.isnan(rise), False, rise <= 3.84)
    lo = hi = float("nan")
    if inside.any():
        first, last = np.flatnonzero(inside)[[0, -1]]
        if first > 0 and np.isfinite(rise[first - 1]):
            lo = float(np.interp(3.84, [rise[first], rise[first - 1]], [values[first], values[first - 1]]))
        if last < values.size - 1 and np.isfinite(rise[last + 1]):
            hi = float(np.interp(3.84, [rise[last], rise[last + 1]], [values[last], values[last + 1]]))
    return ProfileLikelihood(name, values, losses, held.finals, (lo, hi))


# ------------------------------------------------------------------------------------------------
# JSON.


_DATA_UNIT_KEY = {"trace": "mV", "waveform": "uV", "speed": "m_per_s"}


def summary(result: Fit) -> dict:
    """A JSON-ready summary (units in every key) of a :class:`Fit`; see :func:`jaxneuro.output.json_text`."""
    out = {
        "method": result.method,
        "result": results.name(result.result),
        "result_code": result.result,
        "iterations": result.iterations,
        "loss": result.loss,
        "elapsed_s": result.elapsed,
        "parameters": {},
    }
    for i, (name, unit) in enumerate(zip(result.names, result.units)):
        out["parameters"][output.unit_key(name, unit)] = {
            "value": result.values[i], "standard_error": result.standard_errors[i], "at_bound": bool(result.at_bound[i]),
        }
    out["correlation"] = {"order": list(result.names), "matrix": result.correlation}
    if result.uncertainty is not None:
        unc = result.uncertainty
        out["noise_estimated"] = unc.noise_estimated
        out[f"noise_{_DATA_UNIT_KEY[result.kind]}"] = unc.noise
        out["identifiable"] = unc.identifiability.identifiable
        out["relative_singular_values"] = unc.identifiability.relative
        out["not_identifiable"] = list(unc.identifiability.combinations)
    keys = [output.unit_key(n, u) for n, u in zip(result.names, result.units)]
    out["starts"] = {"start": {k: result.starts[:, i] for i, k in enumerate(keys)},
                     "final": {k: result.finals[:, i] for i, k in enumerate(keys)},
                     "final_losses": result.final_losses,
                     "final_results": [results.name(c) for c in result.final_results]}
    out["loss_history"] = result.loss_history
    return out


def report(result: Fit) -> str:
    """A plain-text account of a :class:`Fit`: values ± standard errors, correlations,
    identifiability, the starts."""
    lines = [f"fit: {results.name(result.result)} after {result.iterations} iterations ({result.method}), "
             f"loss {result.loss:.6g}, {result.elapsed:.1f} s"]
    lines.append(f"  {'parameter':<12} {'value':>14} {'± SE':>12}  unit")
    for i, (name, unit) in enumerate(zip(result.names, result.units)):
        flag = "  (at a bound)" if result.at_bound[i] else ""
        lines.append(f"  {name:<12} {result.values[i]:>14.6g} {result.standard_errors[i]:>12.3g}  {unit}{flag}")
    unc = result.uncertainty
    if unc is not None:
        lines.append(f"  noise: {unc.noise:.4g} ({'estimated from the residuals' if unc.noise_estimated else 'given'})")
        if len(result.names) > 1:
            pairs = [f"{result.names[i]}/{result.names[j]} {result.correlation[i, j]:+.3f}"
                     for i in range(len(result.names)) for j in range(i + 1, len(result.names))]
            lines.append("  correlations: " + ", ".join(pairs))
        ident = unc.identifiability
        if ident.identifiable:
            lines.append(f"  identifiable: yes (smallest relative singular value {ident.relative[-1]:.2e})")
        else:
            lines.extend(f"  NOT identifiable: {text}" for text in ident.combinations)
    if len(result.final_losses) > 1:
        lines.append(f"  starts: {len(result.final_losses)}, final losses " +
                     ", ".join(f"{c:.6g}" for c in result.final_losses))
    return "\n".join(lines)


def summary_json(result: Fit) -> str:
    """:func:`summary` as strict JSON text."""
    return output.json_text(summary(result), indent=2)
