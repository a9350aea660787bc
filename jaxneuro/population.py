"""The excitatory/inhibitory population oscillator (Wilson & Cowan 1972) and its phase plane.

The model of ``population_oscillator_notebook.txt``, with a tanh sigmoid, written with the
parameter names of Wilson & Cowan (1972):

    τ_E dE/dt = h_E - E - c2 tanh(I) + c1 tanh(E)        E: excitatory activity
    τ_I dI/dt = h_I - I - c4 tanh(I) + c3 tanh(E)        I: inhibitory activity

E, I, the inputs h_E, h_I and the couplings c1 (E→E), c2 (I→E), c3 (E→I), c4 (I→I) are
unitless; τ_E, τ_I are time constants and every time (``t_stop``, periods, ``dt``...) is in the
model's time unit, the unit of τ (the presets have τ_E = 1, so time is in units of τ_E).  The
notebook wrote rate factors ``tau_ex``, ``tau_in`` multiplying the right-hand sides: τ_E =
1/tau_ex, τ_I = 1/tau_in.  Two presets: ``"homoclinic"`` (h_E -7, h_I -4, τ_E 1, τ_I 0.4,
c1 5, c2 10, c3 10, c4 0) and ``"snic"`` (h_E -7.1, τ_I 1/1.5, the rest the same).

The phase plane's axes are x = E and y = I: :class:`Grid2D` windows, :func:`x_nullcline`
(dE/dt = 0) and :func:`y_nullcline` (dI/dt = 0) use those axis names; everything that holds
a state calls it E, I.

Contents:

* Parameters: :class:`PopulationParams`, :data:`PRESETS`, :func:`preset`, :func:`validate`,
  :data:`HOMOCLINIC_START`; input checks alone: :func:`check_simulation`, :func:`check_phase_plane`.
* Simulation: :func:`simulate` → :class:`Trajectory` (diffrax Tsit5, adaptive, or fixed-step RK4).
* Phase plane: :func:`vector_field`, :func:`jacobian`, :func:`field` → :class:`Field` on a
  :class:`Grid2D` window, :func:`x_nullcline`, :func:`y_nullcline`, :func:`x_nullcline_curve`,
  :func:`fixed_points` → :class:`FixedPoint`, :func:`classify`, :func:`saddle_nodes` →
  :class:`SaddleNode`.
* Limit cycles and bifurcations: :func:`oscillation` → :class:`Oscillation`, :func:`scan` →
  :class:`Scan` (vmapped over a batch of parameters), :func:`oscillation_onset`,
  :func:`period_scaling` → :class:`PeriodScaling`; :data:`KINDS` (fixed-point type codes).

Every function that returns arrays is pure JAX: it compiles once per shape and static
configuration and works under ``jit``, ``vmap`` and ``grad``.  :func:`fixed_points`,
:func:`saddle_nodes`, :func:`classify`, :func:`x_nullcline_curve`, :func:`oscillation_onset`
and :func:`period_scaling` are host-side (they return Python lists and floats), built on the
same compiled pieces, so they do not recompile either.  Failures are values
(:mod:`jaxneuro.results`): the solvers, the root finder and the onset search return a ``result``
code; called eagerly, the public functions raise :class:`jaxneuro.results.NumericalError` on a
failure unless ``throw=False``.  Bad input raises ``ValueError`` naming the argument, before
anything is compiled.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import integrators, results, rootfinding, sweep, validation

Array = jax.Array

__all__ = [
    "PopulationParams", "PRESETS", "HOMOCLINIC_START", "KINDS", "SOLVERS",
    "Trajectory", "Grid2D", "Field", "FixedPoint", "SaddleNode", "Oscillation", "Scan", "PeriodScaling",
    "preset", "validate", "check_simulation", "check_phase_plane", "vector_field", "jacobian", "simulate",
    "field", "x_nullcline", "y_nullcline", "x_nullcline_curve", "fixed_points", "classify", "saddle_nodes",
    "oscillation", "scan", "oscillation_onset", "period_scaling", "scan_traced",
]


class PopulationParams(NamedTuple):
    """Inputs, time constants and couplings of the E/I oscillator (a pytree).

    Leaves are numbers, or arrays of one batch shape for :func:`scan` (or under ``jax.vmap``).

    Attributes:
        h_E, h_I: external inputs to the E and I populations (unitless).
        tau_E, tau_I: time constants (model time unit; > 0).
        c1: E→E coupling; c2: I→E; c3: E→I; c4: I→I (unitless).
    """

    h_E: ArrayLike = -7.0
    h_I: ArrayLike = -4.0
    tau_E: ArrayLike = 1.0
    tau_I: ArrayLike = 0.4
    c1: ArrayLike = 5.0
    c2: ArrayLike = 10.0
    c3: ArrayLike = 10.0
    c4: ArrayLike = 0.0


#: The notebook's parameter sets.
PRESETS = {
    "homoclinic": PopulationParams(h_E=-7.0, h_I=-4.0, tau_E=1.0, tau_I=0.4, c1=5.0, c2=10.0, c3=10.0, c4=0.0),
    "snic": PopulationParams(h_E=-7.1, h_I=-4.0, tau_E=1.0, tau_I=1.0 / 1.5, c1=5.0, c2=10.0, c3=10.0, c4=0.0),
}
#: The notebook's initial (E, I) for the homoclinic run.
HOMOCLINIC_START = (1.088, 1.071)
#: Integrators of :func:`simulate`.
SOLVERS = ("tsit5", "rk4")
#: Fixed-point type codes used by :func:`scan` (``Scan.kind``; -1 pads).
KINDS = ("saddle", "stable node", "unstable node", "stable focus", "unstable focus", "degenerate")


# ----------------------------------------------------------------------------------------
# Input checks (concrete values only; tracers pass unchecked).


def preset(name: str) -> PopulationParams:
    """The notebook's parameter sets.

    Args:
        name: ``"homoclinic"`` or ``"snic"``.

    Returns:
        The :class:`PopulationParams`.
    """
    validation.check_choice("preset", name, tuple(PRESETS))
    return PRESETS[name]


def validate(params: PopulationParams, *, scalar: bool = False) -> None:
    """``ValueError`` naming the field for a leaf that is not a finite number, or τ <= 0.

    Args:
        params: the parameters.
        scalar: require every leaf to be a single number (the single-run functions; batch
            with :func:`scan` or ``jax.vmap``).
    """
    if not isinstance(params, PopulationParams):
        raise ValueError(f"params must be a PopulationParams, got {type(params).__name__}")
    for name, leaf in zip(PopulationParams._fields, params):
        positive = name in ("tau_E", "tau_I")
        validation.check_number(f"params.{name}", leaf, positive=positive, scalar=scalar,
                                unit="(model time unit)" if positive else "")


def _check_phase_plane(params: PopulationParams, *, scalar: bool = True) -> None:
    validate(params, scalar=scalar)
    c4 = params.c4
    if not validation.is_tracer(c4) and not np.all(np.asarray(c4, float) > -1.0):
        raise ValueError(f"params.c4 must be > -1 for the I-nullcline to be a function of E (unique I at each E), "
                         f"got {c4}")


def _check_start(start) -> None:
    validation.check_number("start", start)
    if not validation.is_tracer(start) and np.shape(start) != (2,):
        raise ValueError(f"start must be the initial (E, I), 2 numbers, got shape {np.shape(start)}")


def _check_state(state) -> None:
    validation.check_number("state", state)
    if not validation.is_tracer(state) and (np.ndim(state) == 0 or np.shape(state)[-1] != 2):
        raise ValueError(f"state must have a last axis of length 2, (E, I), got shape {np.shape(state)}")


def _check_window(window) -> "Grid2D":
    if not isinstance(window, tuple) or len(window) != 6:
        raise ValueError(f"window must be a Grid2D (x_min, x_max, y_min, y_max, nx, ny), got {window!r}")
    window = Grid2D(*window)
    window.validate()
    return window


def _check_throw(throw) -> None:
    if not isinstance(throw, bool):
        raise ValueError(f"throw must be True or False, got {throw!r}")


def _concrete_float(name: str, value) -> float:
    """A concrete Python float (values that set array shapes or loop counts)."""
    if validation.is_tracer(value):
        raise ValueError(f"{name} sets an array shape or a step count and must be a concrete number, not traced "
                         "(pass it as a Python float outside jit/vmap)")
    return float(value)


# ----------------------------------------------------------------------------------------
# The model.


def _vector_field(state, params):
    E, I = state[..., 0], state[..., 1]
    p = params
    dE = (p.h_E - E - p.c2 * jnp.tanh(I) + p.c1 * jnp.tanh(E)) / p.tau_E
    dI = (p.h_I - I - p.c4 * jnp.tanh(I) + p.c3 * jnp.tanh(E)) / p.tau_I
    return jnp.stack([dE, dI], axis=-1)


_vector_field_jit = jax.jit(_vector_field)
_jacobian_jit = jax.jit(jnp.vectorize(jax.jacfwd(_vector_field), excluded=(1,), signature="(2)->(2,2)"))


def vector_field(state: ArrayLike, params: PopulationParams = PRESETS["homoclinic"]) -> Array:
    """(dE/dt, dI/dt) at ``state``.

    Args:
        state: (..., 2) array of (E, I) (unitless).
        params: the parameters (leaves broadcast against ``state[..., 0]``).

    Returns:
        (..., 2) array of (dE/dt, dI/dt) (1 / model time unit).
    """
    validate(params)
    _check_state(state)
    return _vector_field_jit(jnp.asarray(state, float), params)


def jacobian(state: ArrayLike, params: PopulationParams) -> Array:
    """∂(dE/dt, dI/dt)/∂(E, I) at ``state``, by autodiff.

    Args:
        state: (..., 2) array of (E, I) (unitless).
        params: the parameters (single numbers).

    Returns:
        (..., 2, 2) Jacobian (1 / model time unit); rows dE/dt, dI/dt, columns E, I.
    """
    validate(params, scalar=True)
    _check_state(state)
    return _jacobian_jit(jnp.asarray(state, float), params)


# ----------------------------------------------------------------------------------------
# Simulation.


class Trajectory(NamedTuple):
    """A simulated time course.

    Attributes:
        t: (samples,) sample times (model time unit).
        state: (samples, 2) state (E, I) at the samples (unitless); NaN after a failure.
        steps: accepted solver steps (int; Tsit5) or fixed RK4 steps taken.
        result: result code (int32, :mod:`jaxneuro.results`): ``SUCCESSFUL``,
            ``MAX_ITERATIONS`` (the adaptive solver ran out of ``max_steps``) or ``DIVERGED``.
    """

    t: Array
    state: Array
    steps: Array
    result: Array

    @property
    def E(self) -> Array:
        """(samples,) excitatory activity."""
        return self.state[..., 0]

    @property
    def I(self) -> Array:  # noqa: E743  (the literature's name)
        """(samples,) inhibitory activity."""
        return self.state[..., 1]


def _rhs(t, y, params):
    return _vector_field(y, params)


_TERM = diffrax.ODETerm(_rhs)
_TSIT5 = diffrax.Tsit5()


def _diffrax_code(solution) -> Array:
    ok = solution.result == diffrax.RESULTS.successful
    out_of_steps = solution.result == diffrax.RESULTS.max_steps_reached
    code = jnp.where(ok, results.SUCCESSFUL, jnp.where(out_of_steps, results.MAX_ITERATIONS, results.DIVERGED))
    finite = jnp.all(jnp.isfinite(solution.ys))
    return jnp.where((code == results.SUCCESSFUL) & ~finite, results.DIVERGED, code).astype(jnp.int32)


#: Samples saved per diffrax solve (see :func:`_solve_at`).
_CHUNK = 100


def _solve_at(params, y0, t0, ts, rtol, atol, max_steps):
    """Tsit5 from ``y0`` at ``t0`` to the increasing times ``ts`` (``ts[0] >= t0``).

    Returns the states at ``ts`` (NaN from a failure on), the accepted steps and the result
    code.  The samples are saved in chunks of :data:`_CHUNK`, one diffrax solve per chunk
    (``lax.scan``): under ``vmap`` each iteration of the batched solver loop selects its whole
    carry, the saved buffer included, so one solve saving every sample costs O(steps x samples);
    chunks keep it O(steps x chunk).  ``max_steps`` bounds each chunk's solve."""
    n = ts.shape[0]
    m = min(_CHUNK, n)
    chunks = -(-n // m)
    if chunks * m > n:  # continue the last spacing; the extra samples are dropped
        spacing = ts[-1] - ts[-2] if n > 1 else jnp.ones_like(ts[-1])
        ts = jnp.concatenate([ts, ts[-1] + spacing * jnp.arange(1, chunks * m - n + 1)])
    ts = ts.reshape(chunks, m)
    starts = jnp.concatenate([jnp.reshape(jnp.asarray(t0, ts.dtype), (1,)), ts[:-1, -1]])

    def chunk(carry, times):
        y, steps, code = carry
        t_start, t_save = times
        solution = diffrax.diffeqsolve(
            _TERM, _TSIT5, t_start, t_save[-1], None, y, args=params,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            saveat=diffrax.SaveAt(ts=t_save), max_steps=max_steps, throw=False,
        )
        failed = code != results.SUCCESSFUL
        ys = jnp.where(failed | ~jnp.isfinite(solution.ys), jnp.nan, solution.ys)
        code = results.first_failure(code, _diffrax_code(solution))
        # After a failure, later chunks run from a harmless state and are masked.
        y_next = jnp.where(code != results.SUCCESSFUL, jnp.zeros_like(y), solution.ys[-1])
        return (y_next, steps + solution.stats["num_accepted_steps"], code), ys

    initial = (y0, jnp.zeros((), int), jnp.asarray(results.SUCCESSFUL, jnp.int32))
    (_, steps, code), ys = jax.lax.scan(chunk, initial, (starts, ts))
    return ys.reshape((chunks * m,) + ys.shape[2:])[:n], steps, code


@functools.partial(jax.jit, static_argnames=("samples", "max_steps"))
def _simulate_tsit5(params, y0, t_stop, rtol, atol, *, samples, max_steps):
    t = jnp.linspace(0.0, t_stop, samples)
    ys, steps, code = _solve_at(params, y0, 0.0, t, rtol, atol, max_steps)
    return Trajectory(t, ys, steps, code)


@functools.partial(jax.jit, static_argnames=("samples", "n_steps"))
def _simulate_rk4(params, y0, t_stop, *, samples, n_steps):
    t = jnp.linspace(0.0, t_stop, samples)
    states = integrators.integrate(_vector_field, y0, t_stop / n_steps, n_steps, args=params)
    grid = jnp.linspace(0.0, t_stop, n_steps + 1)
    ys = jnp.stack([jnp.interp(t, grid, states[:, k]) for k in range(2)], axis=-1)
    finite = jnp.all(jnp.isfinite(ys))
    code = jnp.where(finite, results.SUCCESSFUL, results.DIVERGED).astype(jnp.int32)
    return Trajectory(t, jnp.where(jnp.isfinite(ys), ys, jnp.nan), jnp.asarray(n_steps), code)


def _simulation_samples(params, start, t_stop, samples_per_unit, solver, rtol, atol, dt, max_steps, throw) -> int:
    validate(params, scalar=True)
    _check_start(start)
    validation.check_number("t_stop", t_stop, positive=True, scalar=True, unit="(model time unit)")
    validation.check_integer("samples_per_unit", samples_per_unit, minimum=1)
    validation.check_choice("solver", solver, SOLVERS)
    validation.check_number("rtol", rtol, positive=True, scalar=True)
    validation.check_number("atol", atol, positive=True, scalar=True)
    validation.check_number("dt", dt, positive=True, scalar=True, unit="(model time unit)")
    validation.check_integer("max_steps", max_steps, minimum=1)
    _check_throw(throw)
    samples = int(round(_concrete_float("t_stop", t_stop) * samples_per_unit))
    if samples < 2:
        raise ValueError(f"t_stop * samples_per_unit must give at least 2 samples, got t_stop = {t_stop}, "
                         f"samples_per_unit = {samples_per_unit}")
    return samples


def check_simulation(params: PopulationParams, start: ArrayLike, t_stop: float = 10.0, samples_per_unit: int = 1000,
                     *, solver: str = "tsit5", rtol: float = 1e-10, atol: float = 1e-12, dt: float = 1e-3,
                     max_steps: int = 1_000_000, throw: bool = True) -> None:
    """The input checks of :func:`simulate`, alone (host-side; nothing is compiled or run).

    Args:
        params, start, t_stop, samples_per_unit, solver, rtol, atol, dt, max_steps, throw:
            as in :func:`simulate`.

    Raises:
        ValueError: naming the first bad argument.
    """
    _simulation_samples(params, start, t_stop, samples_per_unit, solver, rtol, atol, dt, max_steps, throw)


def simulate(
    params: PopulationParams,
    start: ArrayLike,
    t_stop: float = 10.0,
    samples_per_unit: int = 1000,
    *,
    solver: str = "tsit5",
    rtol: float = 1e-10,
    atol: float = 1e-12,
    dt: float = 1e-3,
    max_steps: int = 1_000_000,
    throw: bool = True,
) -> Trajectory:
    """Integrate from ``start`` to ``t_stop``, sampled as the notebook does.

    The samples are ``linspace(0, t_stop, round(t_stop * samples_per_unit))`` (the notebook's
    ``sr``), so the last sample is at ``t_stop``.  ``solver="tsit5"``: diffrax Tsit5 with a PID
    step-size controller at ``rtol``/``atol`` and dense output at the samples.
    ``solver="rk4"``: fixed steps of about ``dt`` (:mod:`jaxneuro.integrators`), samples by
    linear interpolation between steps.  Compiles once per sample count and ``solver``
    (``max_steps`` or the RK4 step count); the tolerances, ``t_stop`` (at a fixed sample count),
    ``start`` and the parameters are traced values.  Differentiable in reverse mode
    (``jax.grad``); with Tsit5 not in forward mode (``jax.jvp``/``jacfwd``: diffrax's
    checkpointed adjoint).

    Args:
        params: the parameters (single numbers; batch with ``jax.vmap``).
        start: initial state (E, I) (unitless).
        t_stop: duration (model time unit; > 0; concrete).
        samples_per_unit: samples per unit of time (int >= 1).
        solver: ``"tsit5"`` or ``"rk4"``.
        rtol, atol: tolerances of the adaptive solver (relative; absolute, unitless).
        dt: RK4 step (model time unit; concrete); ``t_stop`` is split into
            ``round(t_stop / dt)`` equal steps.
        max_steps: most steps of the adaptive solver per chunk of 100 samples (int; the
            samples are saved chunk by chunk); reaching it is ``MAX_ITERATIONS``.
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and the
            solver failed; under ``jit``/``vmap`` the code is returned in ``result``.

    Returns:
        A :class:`Trajectory`: times (model time unit), states (E, I), steps and result code.

    Examples:
        >>> from jaxneuro import population as pop
        >>> run = pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START, t_stop=1.0, samples_per_unit=10)
        >>> run.state.shape, float(run.t[-1]), int(run.result)
        ((10, 2), 1.0, 0)
    """
    samples = _simulation_samples(params, start, t_stop, samples_per_unit, solver, rtol, atol, dt, max_steps, throw)
    y0 = jnp.asarray(start, float)
    if solver == "tsit5":
        run = _simulate_tsit5(params, y0, t_stop, rtol, atol, samples=samples, max_steps=max_steps)
    else:
        n_steps = max(1, int(round(float(t_stop) / _concrete_float("dt", dt))))
        run = _simulate_rk4(params, y0, t_stop, samples=samples, n_steps=n_steps)
    if throw:
        results.raise_if_failed(run.result, f"population simulation ({solver})")
    return run


# ----------------------------------------------------------------------------------------
# Phase plane.


class Grid2D(NamedTuple):
    """A window [x_min, x_max] × [y_min, y_max] of the phase plane (x = E, y = I), sampled nx × ny.

    Attributes:
        x_min, x_max: range of E (unitless; x_min < x_max).
        y_min, y_max: range of I (unitless; y_min < y_max).
        nx, ny: samples along E and I (int >= 1; set array shapes).
    """

    x_min: float = -10.0
    x_max: float = 10.0
    y_min: float = -20.0
    y_max: float = 10.0
    nx: int = 25
    ny: int = 25

    def validate(self) -> None:
        """``ValueError`` naming the field for non-finite or unordered bounds or bad counts."""
        for name in ("x_min", "x_max", "y_min", "y_max"):
            validation.check_number(f"window.{name}", getattr(self, name), scalar=True)
        for axis in ("x", "y"):
            lo, hi = getattr(self, f"{axis}_min"), getattr(self, f"{axis}_max")
            if not validation.is_tracer(lo) and not validation.is_tracer(hi) and not float(lo) < float(hi):
                raise ValueError(f"window needs {axis}_min < {axis}_max (min < max), got [{lo}, {hi}]")
        validation.check_integer("window.nx", self.nx, minimum=1)
        validation.check_integer("window.ny", self.ny, minimum=1)

    def mesh(self):
        """(E, I) sample meshes, (ny, nx) each, as ``numpy.meshgrid``."""
        return _mesh(self.x_min, self.x_max, self.y_min, self.y_max, self.nx, self.ny)


def _mesh(x_min, x_max, y_min, y_max, nx, ny):
    return jnp.meshgrid(jnp.linspace(x_min, x_max, nx), jnp.linspace(y_min, y_max, ny))


class Field(NamedTuple):
    """The vector field on a window.

    Attributes:
        E, I: (ny, nx) sample meshes (unitless).
        dE_dt, dI_dt: (ny, nx) components (1 / model time unit).
        speed: (ny, nx) |(dE/dt, dI/dt)| (1 / model time unit).
    """

    E: Array
    I: Array  # noqa: E741
    dE_dt: Array
    dI_dt: Array
    speed: Array


@functools.partial(jax.jit, static_argnames=("nx", "ny"))
def _field(params, x_min, x_max, y_min, y_max, *, nx, ny):
    E, I = _mesh(x_min, x_max, y_min, y_max, nx, ny)  # noqa: E741
    d = _vector_field(jnp.stack([E, I], axis=-1), params)
    return Field(E, I, d[..., 0], d[..., 1], jnp.hypot(d[..., 0], d[..., 1]))


def field(params: PopulationParams, window: Grid2D = Grid2D()) -> Field:
    """Vector field and speed on ``window`` (one vectorised evaluation).

    Compiles once per ``(nx, ny)``; the bounds and parameters are traced.

    Args:
        params: the parameters (single numbers).
        window: the :class:`Grid2D` (E along x, I along y).

    Returns:
        A :class:`Field` (meshes unitless; components and speed in 1 / model time unit).
    """
    validate(params, scalar=True)
    window = _check_window(window)
    return _field(params, window.x_min, window.x_max, window.y_min, window.y_max, nx=window.nx, ny=window.ny)


def check_phase_plane(params: PopulationParams, window: Grid2D = Grid2D(), resolution: int = 4001) -> None:
    """The input checks of :func:`field`, :func:`fixed_points` and :func:`saddle_nodes`, alone
    (host-side; nothing is compiled or run).

    Args:
        params, window, resolution: as in :func:`fixed_points`.

    Raises:
        ValueError: naming the first bad argument.
    """
    _check_phase_plane(params)
    _check_window(window)
    validation.check_integer("resolution", resolution, minimum=2)


def _x_nullcline(x, params):
    p = params
    arg = (p.h_E - x + p.c1 * jnp.tanh(x)) / p.c2
    inside = jnp.abs(arg) < 1.0
    return jnp.where(inside, jnp.arctanh(jnp.where(inside, arg, 0.0)), jnp.nan)


_x_nullcline_jit = jax.jit(_x_nullcline)


def x_nullcline(x: ArrayLike, params: PopulationParams) -> Array:
    """The E-nullcline, dE/dt = 0, as I(E) = artanh((h_E - E + c1 tanh E) / c2); NaN where no I solves it.

    Ill-conditioned where |tanh I| -> 1 (|I| > ~8): an argument within 1e-12 of ±1 loses ~1e-5
    in I.  Good for drawing; fixed points are found on the I-nullcline instead.

    Args:
        x: values of E (any shape; unitless).
        params: the parameters (leaves broadcast against ``x``).

    Returns:
        I on the E-nullcline at each E (unitless), NaN where it does not exist.
    """
    validate(params)
    validation.check_number("x", x)
    return _x_nullcline_jit(jnp.asarray(x, float), params)


def x_nullcline_curve(params: PopulationParams, x_min: float = -10.0, x_max: float = 10.0, points: int = 4001):
    """Points (E, I) on the E-nullcline for drawing (host-side, NumPy).

    A uniform E grid plus points crowded (geometrically, down to 1e-15) towards the E where the
    artanh argument reaches ±1 and I runs off to ∓∞ (found by bisection to machine precision),
    so the near-vertical parts are drawn.

    Args:
        params: the parameters (single numbers).
        x_min, x_max: range of E (unitless; x_min < x_max).
        points: uniform samples (int >= 2).

    Returns:
        ``(E, I)``: two NumPy arrays (unitless); I is NaN where the nullcline does not exist.
    """
    validate(params, scalar=True)
    x_min, x_max = validation.check_interval("(x_min, x_max)", (x_min, x_max))
    validation.check_integer("points", points, minimum=3)
    p = PopulationParams(*(float(v) for v in params))

    def arg(x):
        return (p.h_E - x + p.c1 * np.tanh(x)) / p.c2

    x = np.linspace(x_min, x_max, points)
    extra = []
    for target in (-1.0, 1.0):
        f = arg(x) - target
        for i in np.nonzero(np.sign(f[:-1]) != np.sign(f[1:]))[0]:
            a, b = x[i], x[i + 1]
            for _ in range(200):
                m = 0.5 * (a + b)
                if m in (a, b):
                    break
                a, b = (m, b) if np.sign(arg(m) - target) == np.sign(f[i]) else (a, m)
            offsets = np.geomspace(1e-15, 1e-1, 600)
            extra.append(np.concatenate([a - offsets, b + offsets]))
    x = np.sort(np.concatenate([x] + extra))
    x = x[(x >= x_min) & (x <= x_max)]
    a = arg(x)
    inside = np.abs(a) < 1.0
    return x, np.where(inside, np.arctanh(np.where(inside, a, 0.0)), np.nan)


def _y_nullcline(x, params, iterations: int = 30):
    """I on the I-nullcline at E = ``x`` (NaN where Newton failed) and the result codes.

    Solves I + c4 tanh I = T with T = h_I + c3 tanh E.  The left side is increasing (c4 > -1),
    concave for I > 0 and convex for I < 0 when c4 >= 0 (the other way round when c4 < 0):
    Newton from 0 (c4 >= 0), or from T ± |c4| beyond the root (c4 < 0), then converges
    monotonically.  For c4 = 0 its first step is the closed form I = T."""
    p = params
    target = p.h_I + p.c3 * jnp.tanh(jnp.asarray(x, float))
    beyond = target + jnp.abs(p.c4) * jnp.sign(target)
    start = jnp.where(p.c4 >= 0, jnp.zeros_like(target), beyond)
    y, code = rootfinding.newton(lambda y: y + p.c4 * jnp.tanh(y) - target, start, iterations=iterations)
    return jnp.where(code == results.SUCCESSFUL, y, jnp.nan), code


_y_nullcline_jit = jax.jit(_y_nullcline, static_argnames=("iterations",))


def y_nullcline(x: ArrayLike, params: PopulationParams, iterations: int = 30, *, throw: bool = True) -> Array:
    """The I-nullcline, dI/dt = 0, as I(E): I + c4 tanh I = h_I + c3 tanh E.

    Closed form for c4 = 0 (Newton's first step); Newton otherwise, from a start where it
    converges monotonically (the left side is increasing in I when c4 > -1, so the root is
    unique).

    Args:
        x: values of E (any shape; unitless).
        params: the parameters (leaves broadcast against ``x``; c4 > -1).
        iterations: Newton steps (int >= 1; static).
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and Newton
            did not converge somewhere (NaN there otherwise).

    Returns:
        I on the I-nullcline at each E (unitless); NaN where Newton did not converge.
    """
    _check_phase_plane(params, scalar=False)
    validation.check_number("x", x)
    validation.check_integer("iterations", iterations, minimum=1)
    _check_throw(throw)
    y, code = _y_nullcline_jit(jnp.asarray(x, float), params, iterations=iterations)
    if throw:
        results.raise_if_failed(code, "I-nullcline (Newton)")
    return y


#: Newton steps on the I-nullcline inside the fixed-point search (monotone convergence from the
#: chosen start: 5 or fewer steps for the presets, exact after one for c4 = 0).
_NULLCLINE_ITERATIONS = 16


def _reduced(x, params):
    """τ_E dE/dt on the I-nullcline: its roots are the fixed points' E."""
    p = params
    return p.h_E - x - p.c2 * jnp.tanh(_y_nullcline(x, p, _NULLCLINE_ITERATIONS)[0]) + p.c1 * jnp.tanh(x)


def _fold_function(x, params):
    """dG/dE with G(E) = -E - c2 tanh(I(E)) + c1 tanh(E): zero at a saddle-node."""
    return jax.grad(_reduced)(x, params._replace(h_E=0.0))


def _roots(fn, params, lo, hi, points: int, max_roots: int):
    """Roots of ``fn(x, params)`` in [lo, hi]: sign changes on a grid of ``points``, each
    narrowed to 1e-7 by bisection (:func:`jaxneuro.rootfinding.bisect`) and polished by three
    Newton steps (:func:`jaxneuro.rootfinding.newton`; quadratic convergence takes 1e-7 to
    round-off), which also carry the derivative with respect to the parameters (the
    implicit-function derivative; the bisection does not need one).

    Fixed shapes, as JAX needs: (max_roots,) roots, a validity mask, the number of sign changes
    (may exceed ``max_roots``) and (max_roots,) result codes."""
    frozen = jax.lax.stop_gradient(params)
    xs = jnp.linspace(lo, hi, points)
    fs = jax.vmap(fn, in_axes=(0, None))(xs, frozen)
    finite = jnp.isfinite(fs)
    changes = ((jnp.sign(fs[:-1]) != jnp.sign(fs[1:])) | (fs[:-1] == 0)) & finite[:-1] & finite[1:]
    count = jnp.sum(changes)
    index = jnp.nonzero(changes, size=max_roots, fill_value=0)[0]
    valid = jnp.arange(max_roots) < count

    def refine(a, b, fa):
        a, b, fa = jax.lax.stop_gradient((a, b, fa))
        lower_sign = jnp.sign(fa)

        def side(trials, carry):
            ft = jax.vmap(fn, in_axes=(0, None))(trials, frozen)
            sides = jnp.where(jnp.sign(ft) == lower_sign, -1, 1)
            return jnp.where(jnp.isfinite(ft), sides, 0), carry

        lo_, hi_, _, bracket_code, _ = rootfinding.bisect(side, a, b, atol=1e-7)
        middle = 0.5 * (lo_ + hi_)
        x, newton_code = rootfinding.newton(lambda x: fn(x, params), middle, iterations=3)
        x = jnp.where(jnp.abs(x - middle) <= b - a, x, middle)  # a Newton step off a flat spot
        return x, results.first_failure(bracket_code, newton_code)

    roots, codes = jax.vmap(refine)(xs[index], xs[index + 1], fs[index])
    grid_code = jnp.where(jnp.all(finite), results.SUCCESSFUL, results.DIVERGED)
    codes = jnp.where(valid, results.first_failure(grid_code, codes), results.SUCCESSFUL).astype(jnp.int32)
    return roots, valid, count, codes


#: Most fixed points (or folds) :func:`fixed_points` and :func:`saddle_nodes` look for in a window.
_MAX_ROOTS = 16


@functools.partial(jax.jit, static_argnames=("resolution", "max_roots"))
def _fixed_point_data(params, x_min, x_max, *, resolution, max_roots):
    xs, valid, count, codes = _roots(_reduced, params, x_min, x_max, resolution, max_roots)
    ys, y_codes = _y_nullcline(xs, params, _NULLCLINE_ITERATIONS)
    states = jnp.stack([xs, ys], axis=-1)
    jac = jax.vmap(jax.jacfwd(_vector_field), in_axes=(0, None))(states, params)
    residual = jnp.linalg.norm(_vector_field(states, params), axis=-1)
    return xs, ys, valid, count, results.first_failure(codes, jnp.where(valid, y_codes, 0)), jac, residual


class FixedPoint(NamedTuple):
    """A fixed point, its Jacobian's eigenvalues and its type.

    Attributes:
        E, I: the state (unitless).
        residual: |(dE/dt, dI/dt)| there (1 / model time unit).
        eigenvalues: (2,) complex eigenvalues of the Jacobian (1 / model time unit).
        kind: ``"saddle"``, ``"stable node"``, ``"unstable focus"``, ... (:func:`classify`).
    """

    E: float
    I: float  # noqa: E741
    residual: float
    eigenvalues: np.ndarray
    kind: str


def classify(jacobian: ArrayLike, atol: float = 1e-12) -> str:
    """Type of a 2-D fixed point from its Jacobian (host-side, NumPy).

    Args:
        jacobian: (2, 2) Jacobian (1 / model time unit).
        atol: |det| (1 / time²) and |trace| (1 / time) below which they count as zero.

    Returns:
        ``"saddle"``, ``"stable node"``, ``"unstable node"``, ``"stable focus"``,
        ``"unstable focus"``, ``"centre"`` or ``"degenerate"``.
    """
    validation.check_number("jacobian", jacobian)
    validation.check_number("atol", atol, non_negative=True, scalar=True)
    j = np.asarray(jacobian, float)
    if j.shape != (2, 2):
        raise ValueError(f"jacobian must be a 2 x 2 matrix, got shape {j.shape}")
    trace, det = np.trace(j), np.linalg.det(j)
    if det < -atol:
        return "saddle"
    if abs(det) <= atol:
        return "degenerate"
    if trace * trace - 4.0 * det < 0:
        if abs(trace) <= atol:
            return "centre"
        return "stable focus" if trace < 0 else "unstable focus"
    return "stable node" if trace < 0 else "unstable node"


def _check_roots(count, codes, valid, what: str, throw: bool) -> None:
    if int(count) > _MAX_ROOTS:
        raise ValueError(f"more than {_MAX_ROOTS} {what} in the window (x range); narrow window.x_min, window.x_max")
    if throw:
        results.raise_if_failed(np.where(np.asarray(valid), np.asarray(codes), 0), what)


def fixed_points(params: PopulationParams, window: Grid2D = Grid2D(), resolution: int = 4001, *,
                 throw: bool = True) -> list:
    """Every fixed point in ``window``, sorted by E, each with eigenvalues and type (host-side).

    On the I-nullcline I(E) the fixed points are the roots of one function of E; its sign
    changes on ``resolution`` samples of [x_min, x_max] are bisected to 1e-7 and polished by
    Newton to round-off.  Two fixed points closer than the sample spacing (near a saddle-node) may be
    missed together.  One compiled program per ``resolution``; no recompilation on later calls.

    Args:
        params: the parameters (single numbers; c4 > -1).
        window: the :class:`Grid2D` searched (its nx, ny are not used).
        resolution: samples of E (int >= 2).
        throw: raise :class:`jaxneuro.results.NumericalError` if a root could not be refined
            (otherwise such a point is returned with its residual showing it).

    Returns:
        A list of :class:`FixedPoint` (E, I unitless; residual and eigenvalues in 1 / model
        time unit).

    Examples:
        >>> from jaxneuro import population as pop
        >>> [p.kind for p in pop.fixed_points(pop.preset("snic"))]
        ['stable node', 'saddle', 'unstable focus']
    """
    _check_phase_plane(params)
    window = _check_window(window)
    validation.check_integer("resolution", resolution, minimum=2)
    _check_throw(throw)
    xs, ys, valid, count, codes, jac, residual = _fixed_point_data(
        params, window.x_min, window.x_max, resolution=resolution, max_roots=_MAX_ROOTS)
    _check_roots(count, codes, valid, "fixed points", throw)
    xs, ys, valid, jac, residual = (np.asarray(a) for a in (xs, ys, valid, jac, residual))
    points = []
    for k in np.nonzero(valid)[0]:
        if not window.y_min <= ys[k] <= window.y_max:
            continue
        points.append(FixedPoint(float(xs[k]), float(ys[k]), float(residual[k]), np.linalg.eigvals(jac[k]),
                                 classify(jac[k])))
    return points


class SaddleNode(NamedTuple):
    """A fold of fixed points: at h_E = ``h_E`` two fixed points meet at (E, I).

    Attributes:
        h_E: the input at the fold (unitless).
        E, I: where the two fixed points meet (unitless).
        det_jacobian: det of the Jacobian there (≈ 0; 1 / model time unit²).
    """

    h_E: float
    E: float
    I: float  # noqa: E741
    det_jacobian: float


@functools.partial(jax.jit, static_argnames=("resolution", "max_roots"))
def _fold_data(params, x_min, x_max, *, resolution, max_roots):
    xs, valid, count, codes = _roots(_fold_function, params, x_min, x_max, resolution, max_roots)
    h = -jax.vmap(_reduced, in_axes=(0, None))(xs, params._replace(h_E=0.0))

    def at(x, h):
        p = params._replace(h_E=h)
        y, code = _y_nullcline(x, p, _NULLCLINE_ITERATIONS)
        return y, jnp.linalg.det(jax.jacfwd(_vector_field)(jnp.stack([x, y]), p)), code

    ys, det, y_codes = jax.vmap(at)(xs, h)
    return h, xs, ys, det, valid, count, results.first_failure(codes, jnp.where(valid, y_codes, 0))


def saddle_nodes(params: PopulationParams, window: Grid2D = Grid2D(), resolution: int = 4001, *,
                 throw: bool = True) -> list:
    """The values of h_E where fixed points appear or vanish in pairs, solved exactly (host-side).

    f = 0 and det J = 0 together: on the I-nullcline the fixed points solve h_E + G(E) = 0 with
    G(E) = -E - c2 tanh(I(E)) + c1 tanh(E), and det J ∝ G'(E); so the folds are the critical
    points of G in [x_min, x_max] (bisection and Newton on G' = 0), at h_E = -G(E).  The
    parameter h_E itself is not used.

    Args:
        params: the parameters (single numbers; c4 > -1).
        window: the :class:`Grid2D` whose E range is searched.
        resolution: samples of E (int >= 2).
        throw: raise :class:`jaxneuro.results.NumericalError` if a root could not be refined.

    Returns:
        A list of :class:`SaddleNode`, sorted by E.
    """
    _check_phase_plane(params)
    window = _check_window(window)
    validation.check_integer("resolution", resolution, minimum=2)
    _check_throw(throw)
    h, xs, ys, det, valid, count, codes = _fold_data(params, window.x_min, window.x_max,
                                                     resolution=resolution, max_roots=_MAX_ROOTS)
    _check_roots(count, codes, valid, "saddle-nodes", throw)
    h, xs, ys, det = (np.asarray(a) for a in (h, xs, ys, det))
    return [SaddleNode(float(h[k]), float(xs[k]), float(ys[k]), float(det[k]))
            for k in np.nonzero(np.asarray(valid))[0]]


# ----------------------------------------------------------------------------------------
# Limit cycles and bifurcation scans (pure JAX: they vmap over parameters).


def _kind_code(jac: Array, atol: float = 1e-12) -> Array:
    trace, det = jnp.trace(jac), jnp.linalg.det(jac)
    focus = trace * trace - 4.0 * det < 0
    code = jnp.where(focus, jnp.where(trace < 0, 3, 4), jnp.where(trace < 0, 1, 2))
    return jnp.where(det < -atol, 0, jnp.where(jnp.abs(det) <= atol, 5, code))


class Oscillation(NamedTuple):
    """The attractor reached from a start, measured on the recorded part of the run.

    Attributes:
        period: mean period (model time unit); NaN if the run settles on a fixed point.
        amplitude_E, amplitude_I: peak-to-peak ranges of E and I (unitless).
        E_min, E_max: E's range (unitless).
        oscillating: at least two upward crossings of mid-range and a range above
            ``min_amplitude``.
        result: result code of the solver (int32, :mod:`jaxneuro.results`).
    """

    period: Array
    amplitude_E: Array
    amplitude_I: Array
    E_min: Array
    E_max: Array
    oscillating: Array
    result: Array


def _hermite(y0, d0, y1, d1, h, s):
    """The cubic Hermite interpolant between two samples (values y, time derivatives d, spacing
    h) at s in [0, 1], and its first and second derivatives with respect to s."""
    s2, s3 = s * s, s * s * s
    value = (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * h * d0 + (3 * s2 - 2 * s3) * y1 + (s3 - s2) * h * d1
    slope = (6 * s2 - 6 * s) * (y0 - y1) + (3 * s2 - 4 * s + 1) * h * d0 + (3 * s2 - 2 * s) * h * d1
    curvature = (12 * s - 6) * (y0 - y1) + (6 * s - 4) * h * d0 + (6 * s - 2) * h * d1
    return value, slope, curvature


def _newton_on_unit_interval(fn, s, iterations: int = 4):
    """A few Newton steps for fn(s) = (value, slope) = 0, kept in [0, 1]."""
    for _ in range(iterations):
        value, slope = fn(s)
        flat = slope == 0
        s = jnp.clip(s - jnp.where(flat, 0.0, value / jnp.where(flat, 1.0, slope)), 0.0, 1.0)
    return s


def _extreme(values, slopes, h, sign):
    """The largest (sign 1) or smallest (sign -1) value of a sampled solution, between samples:
    the stationary point of the cubic Hermite interpolant (the samples' time derivatives are
    the vector field) next to the extreme sample.  Error O(h⁴), and it moves smoothly as the
    extreme passes from one sample to the next, so it differentiates."""
    v, d = sign * values, sign * slopes
    k = jnp.argmax(v)
    j = jnp.clip(jnp.where(d[k] >= 0, k, k - 1), 0, v.shape[0] - 2)
    y0, d0, y1, d1 = v[j], d[j], v[j + 1], d[j + 1]
    falls = d0 > d1
    s = jnp.clip(jnp.where(falls, d0 / jnp.where(falls, d0 - d1, 1.0), 0.5), 0.0, 1.0)
    s = _newton_on_unit_interval(lambda s: _hermite(y0, d0, y1, d1, h, s)[1:], s)
    return sign * jnp.maximum(_hermite(y0, d0, y1, d1, h, s)[0], v[k])


def _oscillation(params, start, t_transient, dt_save, rtol, atol, min_amplitude, samples, max_steps):
    ts = t_transient + jnp.arange(samples) * dt_save
    ys, _, code = _solve_at(params, start, 0.0, ts, rtol, atol, max_steps)
    slopes = _vector_field(ys, params)
    E, I, dE = ys[:, 0], ys[:, 1], slopes[:, 0]  # noqa: E741
    lo, hi = _extreme(E, dE, dt_save, -1.0), _extreme(E, dE, dt_save, 1.0)
    level = 0.5 * (lo + hi)
    up = (E[:-1] < level) & (E[1:] >= level)
    # Upward crossings of mid-range: linear interpolation, then Newton on the Hermite cubic.
    linear = jnp.clip((level - E[:-1]) / jnp.where(up, E[1:] - E[:-1], 1.0), 0.0, 1.0)
    s = _newton_on_unit_interval(
        lambda s: (lambda v, sl, _: (v - level, sl))(*_hermite(E[:-1], dE[:-1], E[1:], dE[1:], dt_save, s)), linear)
    times = jnp.where(up, ts[:-1] + s * dt_save, jnp.nan)
    count = jnp.sum(up)
    period = (jnp.nanmax(times) - jnp.nanmin(times)) / jnp.maximum(count - 1, 1)
    oscillating = (count >= 2) & (hi - lo > min_amplitude) & (code == results.SUCCESSFUL)
    amplitude_I = _extreme(I, slopes[:, 1], dt_save, 1.0) - _extreme(I, slopes[:, 1], dt_save, -1.0)
    return Oscillation(jnp.where(oscillating, period, jnp.nan), hi - lo, amplitude_I, lo, hi, oscillating, code)


_oscillation_jit = jax.jit(_oscillation, static_argnames=("samples", "max_steps"))


def _record_samples(t_record, dt_save) -> int:
    return int(round(_concrete_float("t_record", t_record) / _concrete_float("dt_save", dt_save))) + 1


def _check_cycle_options(t_transient, t_record, dt_save, rtol, atol, min_amplitude, max_steps, throw) -> int:
    """The checks shared by :func:`oscillation` and :func:`scan`; returns the number of samples."""
    samples = _check_record(t_transient, t_record, dt_save)
    validation.check_number("rtol", rtol, positive=True, scalar=True)
    validation.check_number("atol", atol, positive=True, scalar=True)
    validation.check_number("min_amplitude", min_amplitude, non_negative=True, scalar=True)
    validation.check_integer("max_steps", max_steps, minimum=1)
    _check_throw(throw)
    return samples


def _check_record(t_transient, t_record, dt_save) -> int:
    validation.check_number("t_transient", t_transient, non_negative=True, scalar=True, unit="(model time unit)")
    validation.check_number("t_record", t_record, positive=True, scalar=True, unit="(model time unit)")
    validation.check_number("dt_save", dt_save, positive=True, scalar=True, unit="(model time unit)")
    samples = _record_samples(t_record, dt_save)
    if samples < 3:
        raise ValueError(f"t_record / dt_save must give at least 3 samples, got t_record = {t_record}, "
                         f"dt_save = {dt_save}")
    return samples


def oscillation(params: PopulationParams, start: ArrayLike, t_transient: float = 60.0, t_record: float = 120.0,
                dt_save: float = 0.05, rtol: float = 1e-8, atol: float = 1e-10, min_amplitude: float = 1e-3, *,
                max_steps: int = 2_000_000, throw: bool = True) -> Oscillation:
    """The attractor reached from ``start``: limit cycle (period, amplitudes) or fixed point.

    Integrates (diffrax Tsit5, adaptive) past a transient, then measures the recorded part,
    sampled every ``dt_save``, on the cubic Hermite interpolant of the samples (their time
    derivatives are the vector field; error O(dt_save⁴)): the range of E and I, and the period
    from the upward crossings of E through the middle of its range, averaged over all recorded
    cycles.  The period is differentiable (``jax.grad``; reverse mode: diffrax's checkpointed
    adjoint has no forward mode); the amplitudes are smooth only to ~1e-5.  Compiles once per
    sample count (``t_record / dt_save``) and ``max_steps``.

    Args:
        params: the parameters (single numbers).
        start: initial state (E, I) (unitless).
        t_transient: time discarded before recording (model time unit; >= 0).
        t_record: recorded time (model time unit; > 0; concrete); it should hold a few periods.
        dt_save: interval between recorded samples (model time unit; concrete).  Not a solver
            step: the solver is adaptive.  The default 0.05 gives periods to ~3e-7 and
            amplitudes to ~1e-4 of those at 0.02.
        rtol, atol: tolerances of the adaptive solver.
        min_amplitude: smallest range of E counted as an oscillation (unitless).
        max_steps: most solver steps per chunk of 100 samples (int).
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and the
            solver failed.

    Returns:
        An :class:`Oscillation` (period in model time units, NaN when not oscillating).
    """
    validate(params, scalar=True)
    _check_start(start)
    samples = _check_cycle_options(t_transient, t_record, dt_save, rtol, atol, min_amplitude, max_steps, throw)
    out = _oscillation_jit(params, jnp.asarray(start, float), t_transient, dt_save, rtol, atol, min_amplitude,
                           samples, max_steps)
    if throw:
        results.raise_if_failed(out.result, "population oscillation")
    return out


class Scan(NamedTuple):
    """Fixed points, their types and the oscillation, per parameter set of a batch.

    Attributes:
        fixed_E, fixed_I: (..., max_points) fixed points in the window, sorted by E, NaN padded.
        kind: (..., max_points) type codes (:data:`KINDS`), -1 padded.
        valid: (..., max_points) which entries are fixed points.
        count: (...,) fixed points in the window (may exceed max_points: the rest are dropped).
        oscillation: :class:`Oscillation` from near the fixed point of largest E, (...,) leaves.
        result: (...,) result code (int32): the first failure of the root refinement, the
            I-nullcline Newton or the solver.
    """

    fixed_E: Array
    fixed_I: Array
    kind: Array
    valid: Array
    count: Array
    oscillation: Oscillation
    result: Array


def _scan_one(params, x_min, x_max, y_min, y_max, t_transient, dt_save, rtol, atol, min_amplitude, *,
              resolution, max_points, samples, max_steps):
    xs, found, _, root_codes = _roots(_reduced, params, x_min, x_max, resolution, 2 * max_points)
    ys, y_codes = _y_nullcline(xs, params, _NULLCLINE_ITERATIONS)
    codes = jnp.where(found, results.first_failure(root_codes, y_codes), results.SUCCESSFUL)
    valid = found & (ys >= y_min) & (ys <= y_max)
    index = jnp.nonzero(valid, size=max_points, fill_value=0)[0]
    keep = jnp.arange(max_points) < jnp.sum(valid)
    fx, fy = xs[index], ys[index]
    jac = jax.vmap(jax.jacfwd(_vector_field), in_axes=(0, None))(jnp.stack([fx, fy], axis=-1), params)
    kinds = jax.vmap(_kind_code)(jac)
    top = jnp.argmax(jnp.where(keep, fx, -jnp.inf))
    start = jnp.stack([fx[top], fy[top]]) + 0.05  # near the (unstable) focus: onto the cycle if any
    osc = _oscillation(params, start, t_transient, dt_save, rtol, atol, min_amplitude, samples, max_steps)
    root_code = jnp.max(codes).astype(jnp.int32)
    return Scan(jnp.where(keep, fx, jnp.nan), jnp.where(keep, fy, jnp.nan), jnp.where(keep, kinds, -1), keep,
                jnp.sum(valid), osc, results.first_failure(root_code, osc.result))


@functools.partial(jax.jit, static_argnames=("resolution", "max_points", "samples", "max_steps"))
def _scan_batch(flat, x_min, x_max, y_min, y_max, t_transient, dt_save, rtol, atol, min_amplitude, *,
                resolution, max_points, samples, max_steps):
    one = functools.partial(_scan_one, resolution=resolution, max_points=max_points, samples=samples,
                            max_steps=max_steps)
    return jax.vmap(one, in_axes=(0,) + (None,) * 9)(flat, x_min, x_max, y_min, y_max, t_transient, dt_save, rtol,
                                                      atol, min_amplitude)


def _batch_shape(params) -> tuple:
    try:
        return jnp.broadcast_shapes(*(jnp.shape(leaf) for leaf in params))
    except ValueError:
        listing = ", ".join(f"params.{k} {jnp.shape(v)}" for k, v in zip(PopulationParams._fields, params))
        raise ValueError(f"the parameters' shapes must broadcast to one batch shape, got {listing}") from None


def scan_traced(params: PopulationParams, window: Grid2D = Grid2D(), *, resolution: int = 2001,
                max_points: int = 5, t_transient: float = 60.0, t_record: float = 120.0, dt_save: float = 0.05,
                rtol: float = 1e-8, atol: float = 1e-10, min_amplitude: float = 1e-3,
                max_steps: int = 2_000_000) -> Scan:
    """:func:`scan` of a flat batch (leaves of shape (members,)) with no checks and no raising, for
    use inside a program (e.g. :class:`jaxneuro.jobs.PopulationScan`); same arguments."""
    return _scan_batch(params, window.x_min, window.x_max, window.y_min, window.y_max, t_transient, dt_save, rtol,
                       atol, min_amplitude, resolution=resolution, max_points=max_points,
                       samples=_record_samples(t_record, dt_save), max_steps=max_steps)


def scan(params: PopulationParams, window: Grid2D = Grid2D(), *, resolution: int = 2001, max_points: int = 5,
         t_transient: float = 60.0, t_record: float = 120.0, dt_save: float = 0.05, rtol: float = 1e-8,
         atol: float = 1e-10, min_amplitude: float = 1e-3, max_steps: int = 2_000_000,
         throw: bool = True) -> Scan:
    """Fixed points, types and oscillation for every member of a batch of parameters.

    The leaves broadcast to one batch shape (e.g. 256 values of h_E, or a 2-D grid of
    (h_E, h_I)); one compiled, vmapped computation per batch size and static configuration
    (``resolution``, ``max_points``, ``t_record / dt_save``, ``max_steps``).  Per member: the
    fixed points in ``window`` as in :func:`fixed_points`, their types, and the oscillation
    (:func:`oscillation`) from 0.05 past the fixed point of largest E.  A failed member carries
    its code in ``result`` and never changes the others.

    Args:
        params: the parameters (leaves broadcastable to one batch shape; c4 > -1).
        window: the :class:`Grid2D` searched for fixed points (nx, ny not used).
        resolution: samples of E for bracketing the fixed points (int >= 2).
        max_points: fixed points kept per member (int >= 1).
        t_transient, t_record, dt_save, rtol, atol, min_amplitude, max_steps: as in
            :func:`oscillation` (times in model time units).
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and a
            member failed (naming it).

    Returns:
        A :class:`Scan` whose leaves have the batch shape in front.

    Examples:
        >>> import jax.numpy as jnp
        >>> from jaxneuro import population as pop
        >>> s = pop.scan(pop.preset("snic")._replace(h_E=jnp.array([-7.1, -6.9])), resolution=201,
        ...              t_transient=10.0, t_record=30.0)
        >>> s.count.tolist(), s.oscillation.oscillating.tolist()
        ([3, 1], [False, True])
    """
    _check_phase_plane(params, scalar=False)
    shape = _batch_shape(params)
    window = _check_window(window)
    validation.check_integer("resolution", resolution, minimum=2)
    validation.check_integer("max_points", max_points, minimum=1)
    _check_cycle_options(t_transient, t_record, dt_save, rtol, atol, min_amplitude, max_steps, throw)
    flat = sweep.flatten(PopulationParams(*(jnp.asarray(leaf, float) for leaf in params)), shape)
    out = scan_traced(flat, window, resolution=resolution, max_points=max_points, t_transient=t_transient,
                      t_record=t_record, dt_save=dt_save, rtol=rtol, atol=atol, min_amplitude=min_amplitude,
                      max_steps=max_steps)
    out = sweep.unflatten(out, shape)
    if throw:
        results.raise_if_failed(out.result, "population scan")
    return out


def oscillation_onset(params: PopulationParams, lo: float, hi: float, atol: float = 1e-9,
                      window: Grid2D = Grid2D(), *, points: int = 64, throw: bool = True) -> tuple:
    """The h_E above which the oscillator oscillates, by multisection (host-side).

    ``lo`` must not oscillate and ``hi`` must (as decided by :func:`scan` with its defaults
    in ``window``): the onset is a SNIC (the saddle-node itself) or a homoclinic orbit to the
    saddle (below the saddle-node).  Each round runs one :func:`scan` of ``points`` values of
    h_E spread over the bracket (the first with both ends) and keeps the interval between the
    first value that oscillates and the value before it: the bracket shrinks by ``points + 1``
    per round (the first round by ``points - 1``; 64 points: from 0.1 to 1e-9 in 5 rounds).
    The scan is the same compiled program as any :func:`scan` of ``points`` members with the
    defaults; nothing recompiles on later calls.

    Args:
        params: the parameters (single numbers; h_E is replaced).
        lo, hi: the bracket of h_E (unitless; lo < hi).
        atol: final bracket width (unitless; > 0).
        window: where the fixed points are looked for.
        points: values of h_E per round (int >= 3; the batch size of the scan).
        throw: raise :class:`jaxneuro.results.NumericalError` (code ``NO_BRACKET``, ``STALLED``,
            or the scan's code where a member failed) on failure; otherwise return (nan, nan).

    Returns:
        ``(lower, upper)``: the final bracket of the onset (floats, unitless).

    Examples:
        >>> from jaxneuro import population as pop
        >>> lo, hi = pop.oscillation_onset(pop.preset("homoclinic"), -7.35, -7.25, atol=1e-3, points=8)
        >>> round(hi, 2), hi - lo <= 1e-3
        (-7.3, True)
    """
    _check_phase_plane(params)
    lo, hi = validation.check_interval("(lo, hi)", (lo, hi))
    validation.check_number("atol", atol, positive=True, scalar=True)
    window = _check_window(window)
    validation.check_integer("points", points, minimum=3)
    _check_throw(throw)

    def failed(code, text):
        if throw:
            raise results.NumericalError(f"oscillation onset: {results.message(code)} {text}", code)
        return float("nan"), float("nan")

    h, ends = np.linspace(lo, hi, points), True  # the first round holds both ends
    while True:
        s = scan(params._replace(h_E=jnp.asarray(h, float)), window, throw=False)
        codes, yes = np.asarray(s.result), np.asarray(s.oscillation.oscillating)
        if np.any(codes != results.SUCCESSFUL):
            k = int(np.argmax(codes != results.SUCCESSFUL))
            return failed(int(codes[k]), f"(the scan at h_E = {h[k]!r})")
        if ends and (yes[0] or not yes[-1]):
            return failed(results.NO_BRACKET, f"[{lo}, {hi}] (oscillating at lo: {bool(yes[0])}, at hi: "
                                              f"{bool(yes[-1])}; need False, True)")
        first = int(np.argmax(yes)) if yes.any() else h.size
        new_lo = h[first - 1] if first > 0 else lo
        new_hi = h[first] if first < h.size else hi
        if new_hi - new_lo >= hi - lo:  # no progress: the spacing is below rounding
            return failed(results.STALLED, f"(bracket [{lo!r}, {hi!r}]: atol = {atol!r} is below its "
                                           "floating-point resolution)")
        lo, hi = float(new_lo), float(new_hi)
        if hi - lo <= atol:
            return lo, hi
        h, ends = lo + (hi - lo) * np.arange(1, points + 1) / (points + 1), False


class PeriodScaling(NamedTuple):
    """Period against the distance μ = h_E - h_onset, and two fits.

    Attributes:
        onset: h_E of the onset (unitless).
        mu: (n,) distances μ (unitless).
        period: (n,) periods (model time unit).
        sqrt_fit: (a, b, rms relative residual) of T = a/sqrt(μ) + b (SNIC).
        log_fit: (a, b, rms relative residual) of T = -a ln μ + b (homoclinic).
    """

    onset: float
    mu: np.ndarray
    period: np.ndarray
    sqrt_fit: tuple
    log_fit: tuple


def period_scaling(params: PopulationParams, onset: float, mu: ArrayLike, t_record: float = 400.0, *,
                   dt_save: float = 0.05, throw: bool = True) -> PeriodScaling:
    """Periods at h_E = onset + μ (one vmapped :func:`scan`) and the two fits (host-side).

    Args:
        params: the parameters (single numbers; h_E is replaced).
        onset: h_E of the onset (unitless).
        mu: distances above the onset (1-D, > 0, unitless).
        t_record: recorded time (model time unit); it must hold a few of the longest periods.
        dt_save: interval between recorded samples (model time unit), as in :func:`scan`; the
            scan's program is the same as that of any :func:`scan` with as many members and
            samples (``t_record / dt_save``).
        throw: as in :func:`scan`.

    Returns:
        A :class:`PeriodScaling`.
    """
    _check_phase_plane(params)
    validation.check_number("onset", onset, scalar=True)
    validation.check_number("mu", mu, positive=True)
    mu = np.asarray(mu, float)
    if mu.ndim != 1:
        raise ValueError(f"mu must be a 1-D array, got shape {mu.shape}")
    batch = PopulationParams(*(jnp.broadcast_to(jnp.asarray(v, float), mu.shape) for v in params))
    s = scan(batch._replace(h_E=jnp.asarray(onset + mu)), t_record=t_record, dt_save=dt_save, throw=throw)
    period = np.asarray(s.oscillation.period)

    def fit(feature):
        design = np.stack([feature, np.ones_like(feature)], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, period, rcond=None)
        rms = float(np.sqrt(np.mean(((design @ [a, b]) / period - 1.0) ** 2)))
        return float(a), float(b), rms

    return PeriodScaling(float(onset), mu, period, fit(1.0 / np.sqrt(mu)), fit(-np.log(mu)))
