"""The Hodgkin–Huxley travelling wave (notebook eq. 44) and its speed, found automatically.

A pulse moving at constant speed u keeps its shape: V(x, t) = V0(t - x/u).  With z = t - x/u
(ms) the cable equation becomes the 5-dimensional first-order system

    V' = W
    W' = (u² / D) (W + I_ion(V, n, m, h) / Cm)        D = a / (2 ρ Cm)   (µm²/ms)
    n' = Q (α_n (1 - n) - β_n n),  and likewise m, h,

with I_ion outward-positive (µA/cm²) from :mod:`jaxneuro.membrane`.  For a wrong u the
trajectory leaving the resting state does not come back: it runs away to V → +∞ or below
rest, and the side it leaves on changes at the true speed.  :func:`find_wave_speed` brackets
that change automatically and bisects it to the last bit, in ``lax`` loops, so it jits and
vmaps (a speed–temperature curve is one call).  :func:`wave_speed` gives the same number with a
derivative from the implicit function theorem, so ``jax.grad`` works.

Contents:

=================================  ===========================================================
:func:`find_wave_speed`            the pulse speed (m/s) to a relative bracket ``rtol``, its
                                   bracket, result code and the pulse (:class:`WaveSpeed`)
:func:`wave_speed`                 the same speed as a differentiable function (``jax.grad``)
:func:`propagation_failure`        the temperature (°C) above which the fast pulse is gone
                                   and vanish (host-side driver, :class:`PropagationFailure`)
:func:`divergence_direction`       which way V runs away at one trial speed
                                   (:class:`Divergence`)
:func:`wave_rhs`                   d/dz of the travelling-wave state (:class:`WaveState`)
:func:`resting_state`              the resting point of the system
:func:`unstable_eigenpair`         the unstable eigenvalue at rest and its eigenvectors
                                   (:class:`Eigenpair`)
:func:`manifold_start`             a start on the unstable manifold of rest
:func:`speed_estimate`             the dimensional estimate the bracket starts from (m/s)
=================================  ===========================================================

Failures are values (:mod:`jaxneuro.results`): every result carries an int32 ``result`` per
batch member, ``SUCCESSFUL``, ``NO_PULSE`` (nothing bracketed), ``STALLED`` (a trial speed did
not run away within ``t_stop``), ``MAX_ITERATIONS`` (also: the resting potential's Newton
iteration did not converge, with its own code); the speed is NaN where it is not
``SUCCESSFUL``.  Called eagerly, ``throw=True`` (the default) raises
:class:`jaxneuro.results.NumericalError` instead; under ``jit``/``vmap`` the codes are returned
and a failed member never changes the others.

Compilation: the numerical options ``dt``, ``t_stop``, ``rtol``, ``amplitude`` and ``branch``
are traced values (a change compiles nothing); ``solver``, ``sections``, ``max_iterations`` and
the number of recorded samples (``t_record / (dt · every)``) fix the program (so ``dt`` may be
a tracer only with ``t_record=0``).  The returned
pulse is recorded by a second, small program, so a new ``dt`` recompiles only that one.

Speeds are in m/s at the interface (1 m/s = 1000 µm/ms); the notebook's 1.8750565461815821
"mm/ms" is in cm/ms, i.e. 18.750565 m/s.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import cable, integrators, membrane, results, rootfinding, sweep, validation
from .cable import Axon, diffusion_coefficient
from .membrane import Gates

Array = jax.Array

__all__ = [
    "BRANCHES", "SOLVERS", "Divergence", "Eigenpair", "PropagationFailure", "WaveSpeed", "WaveState",
    "divergence_direction", "find_wave_speed", "manifold_start", "propagation_failure", "resting_state",
    "speed_estimate", "start_from_cable", "unstable_eigenpair", "wave_rhs", "wave_speed", "wave_speed_traced",
    "check_speed_options",
]

#: The two roots of the shooting: ``"fast"`` (the stable pulse) and ``"train_front"`` (the lower
#: speed where the divergence direction flips: not a pulse but a front from rest onto a periodic
#: wave train, see :func:`find_wave_speed`; the slow *pulse* is :func:`jaxneuro.pulses.slow_pulse`).
BRANCHES = ("fast", "train_front")
#: Integrators of the shooting: RK4, or RK4-started Adams–Bashforth 5 (the notebook's).
SOLVERS = integrators.SOLVERS

_UM_PER_MS_PER_M_PER_S = 1e3
#: Longest shooting (steps) and recorded pulse (steps) accepted before anything runs.
_MAX_STEPS = 10**8
_MAX_RECORD_STEPS = 10**7

#: Divergence is declared this far (mV) beyond the highest / lowest reversal potential.
_ABOVE, _BELOW = 35.0, 18.0
#: The bracket's first grid: speeds from 1/16 to 4 times the dimensional estimate.
_GRID_POINTS, _GRID_LOW, _GRID_HIGH = 48, 1.0 / 16.0, 4.0
#: Shifts of the grid (×64 each) allowed while the fast root lies above it.
_MAX_SHIFTS = 2
#: Newton steps for the unstable eigenvalue (quadratic convergence from the estimate: 6 suffice).
_EIGEN_ITERATIONS = 10
#: V difference (mV) at which the trajectories from the two ends of the bracket "part".
_PARTING = 1e-4

# The reference the dimensional estimate scales from: Cooley–Dodge, 18.73 m/s.
_REFERENCE_SPEED = 18.73
_REFERENCE_AXON = cable.cooley_dodge_axon()


class WaveState(NamedTuple):
    """A point of the travelling-wave system (leaves: arrays of one shape).

    Attributes:
        v: membrane potential (mV from rest).
        w: dV/dz (mV/ms).
        n, m, h: gating variables (dimensionless, in [0, 1]).
    """

    v: Array
    w: Array
    n: Array
    m: Array
    h: Array


def _flat(state: WaveState) -> Array:
    return jnp.stack(state, axis=-1)


def _unflat(y: Array) -> WaveState:
    return WaveState(*(y[..., i] for i in range(5)))


def _gain(speed, diffusion) -> Array:
    """u² / D (1/ms) for a speed in m/s and D in µm²/ms."""
    u = speed * _UM_PER_MS_PER_M_PER_S
    return u * u / diffusion


def _field(y: Array, args) -> Array:
    """The system on a flat state (v, w, n, m, h); ``args = (membrane, gain)``."""
    params, gain = args
    gates = Gates(y[2], y[3], y[4])
    dw = gain * (y[1] + membrane.ionic_current(y[0], gates, params) / params.Cm)
    return jnp.stack([y[1], dw, *membrane.gate_derivatives(y[0], gates, params)])


def _limits(params):
    high = jnp.maximum(jnp.maximum(params.ENa, params.EK), params.EL) + _ABOVE
    low = jnp.minimum(jnp.minimum(params.ENa, params.EK), params.EL) - _BELOW
    return high, low


def _escaped(y: Array, args) -> Array:
    high, low = _limits(args[0])
    return (y[0] > high) | (y[0] < low)


def _never(y: Array, args) -> Array:
    return jnp.asarray(False)


#: Both ends of a bracket at once: states (2, 5), args (membrane, gains (2,)).
_pair_field = jax.vmap(_field, in_axes=(0, (None, 0)))


def _parted(y: Array, args) -> Array:
    return ~(jnp.abs(y[0, 0] - y[1, 0]) <= _PARTING)


# ----------------------------------------------------------------------------------------
# The resting point and its linearisation (the unstable manifold).


class _Linearisation(NamedTuple):
    """The speed-independent parts of the Jacobian at rest.  With g = u²/D it is

        [[0,        1, 0,   0,   0  ],
         [g a_V,    g, g a_n, g a_m, g a_h],
         [c_n,      0, -k_n, 0,   0  ],  (and likewise m, h)

    a = ∂(I_ion/Cm)/∂(V, ·, n, m, h) (1/ms, per mV or per unit gate), c = ∂(gate')/∂V,
    k = -∂(gate')/∂gate (1/ms)."""

    rest: Array  # (5,)
    current: Array  # (5,) a
    coupling: Array  # (3,) c
    decay: Array  # (3,) k
    diffusion: Array  # D (µm²/ms)
    result: Array  # code of the Newton iteration for the resting potential (int32)


def _steady_current(v, params) -> Array:
    return membrane.ionic_current(v, membrane.steady_state(v, params), params)


@jax.custom_jvp
def _resting_potential(params) -> tuple:
    """(v, result): the resting potential (mV) and the code of its Newton iteration (inside a
    program nothing raises: the code must travel with the values)."""
    return membrane.solve_resting_potential(params)


@_resting_potential.defjvp
def _resting_potential_jvp(primals, tangents):
    """The implicit function theorem on I_ss(v, p) = 0, dv = -(∂I_ss/∂p · dp) / (∂I_ss/∂v):
    derivatives without differentiating the Newton iteration (much less to compile)."""
    (params,), (params_dot,) = primals, tangents
    v, result = _resting_potential(params)
    slope = jax.grad(_steady_current)(v, params)
    _, d_current = jax.jvp(lambda p: _steady_current(v, p), (params,), (params_dot,))
    no_tangent = np.zeros(np.shape(result), dtype=jax.dtypes.float0)
    return (v, result), (-d_current / slope, no_tangent)


def _resting_flat(axon: Axon) -> tuple:
    """(rest (5,), result code of the resting potential's Newton iteration)."""
    v, result = _resting_potential(axon.membrane)
    return jnp.stack([v, jnp.zeros_like(v), *membrane.steady_state(v, axon.membrane)]), result


def _linearise(axon: Axon) -> _Linearisation:
    params = axon.membrane
    rest, result = _resting_flat(axon)

    def parts(y):
        gates = Gates(y[2], y[3], y[4])
        current = membrane.ionic_current(y[0], gates, params) / params.Cm
        return current, jnp.stack(membrane.gate_derivatives(y[0], gates, params))

    d_current, d_gates = jax.jacfwd(parts)(rest)
    return _Linearisation(rest, d_current, d_gates[:, 0], -jnp.diagonal(d_gates[:, 2:]), diffusion_coefficient(axon),
                          result)


class Eigenpair(NamedTuple):
    """The unstable eigenvalue of the linearisation at rest and its eigenvectors.

    Attributes:
        value: the one positive eigenvalue λ (1/ms).
        right: right eigenvector (5,), V component 1 (order v, w, n, m, h).
        left: left eigenvector (5,), scaled so that left · right = 1.
        result: int32 code (:mod:`jaxneuro.results`): the first failure of the Newton
            iterations for the resting potential and for λ; ``SUCCESSFUL`` if both converged.
    """

    value: Array
    right: Array
    left: Array
    result: Array


def _eigenpair(lin: _Linearisation, gain) -> Eigenpair:
    """λ from the characteristic equation of the structured Jacobian (a scalar Newton, no
    eigensolver: smooth in every parameter, cheap to compile, and it runs on any device):

        λ² - g λ - g (a_V + Σ a_x c_x / (λ + k_x)) = 0,

    started from its root with the gates frozen (the instantaneous conductance), which lies
    next to it.  The eigenvectors follow in closed form."""
    a_v, a_gates = lin.current[0], lin.current[2:]
    c, k = lin.coupling, lin.decay

    def characteristic(lam):
        return lam * lam - gain * lam - gain * (a_v + jnp.sum(a_gates * c / (lam + k)))

    guess = 0.5 * (gain + jnp.sqrt(gain * gain + 4.0 * gain * a_v))
    lam, result = rootfinding.newton(characteristic, guess, iterations=_EIGEN_ITERATIONS, rtol=1e-12, atol=0.0)
    right = jnp.concatenate([jnp.stack([jnp.ones_like(lam), lam]), c / (lam + k)])
    left = jnp.concatenate([jnp.stack([lam - gain, jnp.ones_like(lam)]), gain * a_gates / (lam + k)])
    return Eigenpair(lam, right, left / (left @ right), results.first_failure(lin.result, result))


def _manifold_flat(lin: _Linearisation, gain, amplitude) -> tuple:
    """(start (5,), code of the resting potential and eigenvalue iterations)."""
    pair = _eigenpair(lin, gain)
    return lin.rest + amplitude * pair.right, pair.result


# ----------------------------------------------------------------------------------------
# Options: what is traced and what fixes the program.


class _Numeric(NamedTuple):
    """Traced options (a change compiles nothing)."""

    dt: Array  # ms
    t_stop: Array  # ms
    amplitude: Array  # mV
    rtol: Array
    branch: Array  # int: 0 fast, 1 slow


class _Search(NamedTuple):
    """Static configuration of the search (one program per value)."""

    solver: str
    sections: int
    max_iterations: int


class _Record(NamedTuple):
    """Static configuration of the recorded pulse."""

    solver: str
    n_steps: int
    every: int


def _max_steps(numeric: _Numeric) -> Array:
    return jnp.round(numeric.t_stop / numeric.dt).astype(jnp.int32)


def _shoot(axon: Axon, lin: _Linearisation, start, speed, numeric: _Numeric, solver: str):
    """(direction, steps): +1 if V ran away upwards, -1 downwards, 0 if it stayed within the
    limits up to ``t_stop`` (or the state became non-finite), and the steps taken."""
    gain = _gain(speed, lin.diffusion)
    y0 = _manifold_flat(lin, gain, numeric.amplitude)[0] if start is None else start
    stopped = integrators.integrate_until(
        _field, y0, numeric.dt, _max_steps(numeric), _escaped, solver, args=(axon.membrane, gain)
    )
    high, _ = _limits(axon.membrane)
    direction = jnp.where(stopped.stopped, jnp.where(stopped.y[0] > high, 1, -1), 0).astype(jnp.int32)
    return direction, stopped.steps


def _directions(axon, lin, start, speeds, numeric, solver):
    return jax.vmap(lambda u: _shoot(axon, lin, start, u, numeric, solver)[0])(speeds)


def _estimate(axon: Axon) -> Array:
    ref = _REFERENCE_AXON
    ratio = (
        diffusion_coefficient(axon) / diffusion_coefficient(ref)
        * membrane.q10_factor(axon.membrane.temperature, axon.membrane.q10)
        / membrane.q10_factor(ref.membrane.temperature, ref.membrane.q10)
        * axon.membrane.gNa / ref.membrane.gNa
    )
    return _REFERENCE_SPEED * jnp.sqrt(ratio)


def _bracket(axon, lin, start, numeric: _Numeric, solver: str):
    """A (lower, upper, found) triple around the root of the branch, from a geometric grid of
    speeds around the dimensional estimate (1/16 to 4 times it).  For the fast branch, while
    the top of the grid is still below the fast root (V runs away downwards there), the grid
    moves up by its own width (×64).  Both branches come from the same loop (one compiled
    copy of the shooting): ``branch`` selects, a traced value."""
    ratios = jnp.geomspace(_GRID_LOW, _GRID_HIGH, _GRID_POINTS)
    base = _estimate(axon)
    is_fast = numeric.branch == 0

    def more(state):
        _, signs, k = state
        return (k == 0) | (is_fast & (signs[-1] == -1) & (k <= _MAX_SHIFTS))

    def grid(state):
        _, _, k = state
        speeds = base * (_GRID_HIGH / _GRID_LOW) ** k * ratios
        return speeds, _directions(axon, lin, start, speeds, numeric, solver), k + 1

    empty = (jnp.zeros(_GRID_POINTS), jnp.zeros(_GRID_POINTS, jnp.int32), 0)
    speeds, signs, shifts = jax.lax.while_loop(more, grid, empty)
    below, above = signs[:-1], signs[1:]

    # Fast: past the fast pulse V runs away upwards (+1); between the slow and fast pulses,
    # down (-1): the highest flip from -1 to +1.
    flips = (below == -1) & (above == 1)
    i = (_GRID_POINTS - 2) - jnp.argmax(flips[::-1])
    fast = (speeds[i], speeds[i + 1], jnp.any(flips))
    # Train front: the lowest flip from +1 to -1 (on the first grid: it never shifts).
    flips = (below == 1) & (above == -1)
    i = jnp.argmax(flips)
    slow = (speeds[i], speeds[i + 1], jnp.any(flips))
    return tuple(jnp.where(is_fast, f, s) for f, s in zip(fast, slow))


class _Found(NamedTuple):
    speed: Array
    bracket: Array
    iterations: Array
    result: Array
    start: Array  # (5,) where the pulse at ``speed`` starts
    gain: Array  # u²/D at ``speed`` (1/ms)
    rest: Array  # code of the resting potential's Newton iteration (SUCCESSFUL with a given start)


def _search(axon: Axon, start, numeric: _Numeric, config: _Search) -> _Found:
    lin = _linearise(axon)
    # From the unstable manifold the start depends on the resting point: where its Newton
    # iteration failed, that code is the result, and no trajectory is shot (t_stop 0: nothing
    # is bracketed, at no cost).  A given start does not use the resting point.
    rest = results.SUCCESSFUL
    if start is None:
        rest = lin.result
        numeric = numeric._replace(t_stop=jnp.where(rest == results.SUCCESSFUL, numeric.t_stop, 0.0))
    lower, upper, found = _bracket(axon, lin, start, numeric, config.solver)
    orientation = jnp.where(numeric.branch == 0, 1, -1)  # side of lower: -1 (fast) / +1 (slow) directions

    def side(trials, carry):
        return _directions(axon, lin, start, trials, numeric, config.solver) * orientation, carry

    lo, hi, iterations, bisected, _ = rootfinding.bisect(
        side, lower, jnp.where(found, upper, lower), None, rtol=numeric.rtol, atol=0.0,
        sections=config.sections, max_iterations=config.max_iterations,
    )
    middle = 0.5 * (lo + hi)
    gain = _gain(middle, lin.diffusion)
    if start is None:
        y0, eigen = _manifold_flat(lin, gain, numeric.amplitude)
    else:
        y0, eigen = start, results.SUCCESSFUL
    result = results.first_failure(rest, jnp.where(found, results.SUCCESSFUL, results.NO_PULSE), bisected, eigen)
    ok = result == results.SUCCESSFUL
    return _Found(
        speed=jnp.where(ok, middle, jnp.nan),
        bracket=jnp.where(found, jnp.stack([lo, hi]), jnp.nan),
        iterations=iterations,
        result=result,
        start=jnp.where(ok, y0, jnp.nan),
        gain=jnp.where(ok, gain, jnp.nan),
        rest=jnp.asarray(rest, jnp.int32),
    )


def _record(params, y0, gain, dt, config: _Record):
    """The pulse from ``y0``: samples every ``every`` steps, NaN from where it ran away."""
    ys = integrators.integrate(_field, y0, dt, config.n_steps, config.solver, config.every, args=(params, gain))
    high, low = _limits(params)
    gone = jnp.cumsum(~((ys[:, 0] <= high) & (ys[:, 0] >= low))) > 0
    z = jnp.arange(ys.shape[0]) * (dt * config.every)
    return z, jnp.where(gone[:, None], jnp.nan, ys)


#: The compiled search and recording (one program per static configuration and shapes).
_search_one = jax.jit(_search, static_argnames=("config",))
_record_one = jax.jit(_record, static_argnames=("config",))


def _search_many(axon, start, numeric: _Numeric, config: _Search) -> _Found:
    """The search over a flat batch (leading axis of ``axon`` and ``start``).  ``jax.vmap`` of
    the compiled search: its batched program is cached like any other, and shared with the
    batched :func:`wave_speed`."""
    return jax.vmap(lambda a, s: _search_one(a, s, numeric, config=config))(axon, start)


def _record_many(params, y0, gain, dt, config: _Record):
    return jax.vmap(lambda p, y, g: _record_one(p, y, g, dt, config=config))(params, y0, gain)


def _recorded(params, found: _Found, dt, config: _Record, record: Callable) -> tuple:
    """(z, states) of the pulse at the speed found, by ``record`` (one or many); with no step
    to take (t_record 0) the start alone (NaN where the search failed), with no program of its
    own.  (``record`` would also mask a start beyond the limits of V; such a start runs away
    at every speed, so the search has failed there and the start is NaN already.)"""
    if config.n_steps == 0:
        z = jnp.zeros(found.start.shape[:-1] + (1,), found.start.dtype)
        return z, found.start[..., None, :]
    return record(params, found.start, found.gain, dt, config=config)


# ----------------------------------------------------------------------------------------
# Input checks (concrete values; tracers pass).


def _check_axon(axon) -> tuple:
    shape = cable.validate_axon(axon)
    validation.check_temperature("axon.membrane.temperature", axon.membrane.temperature)
    return shape


def _check_start(start, argument: str = "start") -> None:
    if start is None:
        return
    if not isinstance(start, WaveState):
        raise ValueError(f"{argument} must be a jaxneuro.wave.WaveState (v, w, n, m, h) or None, "
                         f"got {type(start).__name__}")
    for name, leaf in zip(WaveState._fields, start):
        bounds = dict(lower=0.0, upper=1.0) if name in ("n", "m", "h") else {}
        unit = {"v": "mV", "w": "mV/ms"}.get(name, "(gate, in [0, 1])")
        validation.check_number(f"{argument}.{name}", leaf, unit=unit, **bounds)


def _check_numbers(dt, t_stop, amplitude, solver) -> None:
    validation.check_number("dt", dt, positive=True, scalar=True, unit="ms")
    validation.check_number("t_stop", t_stop, positive=True, scalar=True, unit="ms")
    validation.check_number("amplitude", amplitude, positive=True, scalar=True, unit="mV")
    validation.check_choice("solver", solver, SOLVERS)
    if not (validation.is_tracer(dt) or validation.is_tracer(t_stop)):
        if not float(dt) < float(t_stop):
            raise ValueError(f"dt ({dt} ms) must be smaller than t_stop ({t_stop} ms)")
        if float(t_stop) / float(dt) > _MAX_STEPS:
            raise ValueError(f"t_stop / dt = {float(t_stop) / float(dt):.3g} steps is more than {_MAX_STEPS:.0e}: "
                             "raise dt or lower t_stop")


def _record_config(t_record, every, dt, solver: str) -> _Record:
    """Check the recorded pulse's options (always, before anything is traced) and fix its
    number of steps.  ``t_record`` must be a concrete number >= 0; ``dt`` must be concrete
    only when ``t_record > 0`` (then it sets the number of samples; at 0 nothing depends on it)."""
    if t_record is None:
        raise ValueError("t_record must be a number >= 0 (ms; 0 returns only the start of the pulse), got None")
    validation.check_number("t_record", t_record, non_negative=True, scalar=True, unit="ms")
    validation.check_integer("every", every, minimum=1)
    if validation.is_tracer(t_record):
        raise ValueError("t_record must be a concrete number (it sets the number of recorded samples), "
                         "not a traced value")
    n_steps = 0
    if float(t_record) > 0:
        if validation.is_tracer(dt):
            raise ValueError("dt must be a concrete number when t_record > 0 (t_record / dt sets the number of "
                             "recorded samples), not a traced value; t_record=0 accepts a traced dt")
        n_steps = int(round(float(t_record) / float(dt)))
    if n_steps > _MAX_RECORD_STEPS:
        raise ValueError(f"t_record / dt = {n_steps} steps is more than {_MAX_RECORD_STEPS:.0e}: "
                         "lower t_record or raise dt")
    return _Record(solver, n_steps, int(every))


def check_speed_options(*, branch="fast", dt=1e-3, t_stop=40.0, solver="rk4", amplitude=1e-4, rtol=1e-13,
                        sections=1, max_iterations=200) -> None:
    """Check the numerical options of :func:`wave_speed` (host side).  Raises ``ValueError``."""
    if branch == "slow":
        raise ValueError('branch "slow" is no more: the shooting\'s second root is a front from rest onto a wave '
                         'train, branch="train_front"; the slow solitary pulse is jaxneuro.pulses.slow_pulse')
    validation.check_choice("branch", branch, BRANCHES)
    _check_numbers(dt, t_stop, amplitude, solver)
    validation.check_number("rtol", rtol, positive=True, scalar=True, upper=0.5)
    validation.check_integer("sections", sections, minimum=1)
    validation.check_integer("max_iterations", max_iterations, minimum=1)


def _options(*, branch, dt, t_stop, solver, amplitude, rtol, sections, max_iterations) -> tuple:
    numeric = _Numeric(jnp.asarray(dt, float), jnp.asarray(t_stop, float), jnp.asarray(amplitude, float),
                       jnp.asarray(rtol, float), jnp.asarray(BRANCHES.index(branch), jnp.int32))
    return numeric, _Search(solver, int(sections), int(max_iterations))


def _prepare(axon, start, **options):
    """Check everything but the recorded pulse, before anything is traced; return (batch
    shape, numeric, search config)."""
    shape = _check_axon(axon)
    _check_start(start)
    if start is not None:
        shape = validation.batch_shape(("axon", axon), ("start", start))
    check_speed_options(**options)
    return (shape, *_options(**options))


def _as_float(tree):
    """Strongly typed float leaves (integers become floats: derivatives need them; Python and
    weakly typed numbers would otherwise compile a second program)."""
    dtype = jnp.result_type(float)
    return jax.tree.map(lambda leaf: jax.lax.convert_element_type(leaf, dtype), tree)


def _start_flat(start):
    return None if start is None else _flat(start)


# ----------------------------------------------------------------------------------------
# The speed.


class WaveSpeed(NamedTuple):
    """Result of :func:`find_wave_speed` (batch axes, if any, lead every field but ``z``).

    Attributes:
        speed: the pulse speed (m/s), the midpoint of ``bracket``; NaN where ``result`` is not
            ``SUCCESSFUL``.
        bracket: (lower, upper) speeds (m/s) between which the divergence direction flips
            (the last bracket reached, also when the bisection stalled); NaN where nothing was
            bracketed.
        iterations: bisection (or multisection) iterations after bracketing (int).
        result: int32 code (:mod:`jaxneuro.results`): ``SUCCESSFUL``, ``NO_PULSE`` (no pulse of
            the branch could be bracketed), ``STALLED`` (a trial speed did not run away within
            ``t_stop``: raise it), ``MAX_ITERATIONS`` (raise ``max_iterations``).  From the
            unstable manifold (``start=None``), a Newton iteration for the resting potential
            that did not converge gives its own code (``MAX_ITERATIONS``, ``STALLED`` or
            ``DIVERGED``) first, and nothing is shot.
        z: sample positions of ``trajectory`` (ms).
        trajectory: the pulse at ``speed`` (a :class:`WaveState` of arrays over z, V in mV from
            rest); NaN from the point where it runs away (which, at any floating-point speed,
            it eventually does) and where ``result`` is not ``SUCCESSFUL``.
    """

    speed: Array
    bracket: Array
    iterations: Array
    result: Array
    z: Array
    trajectory: WaveState


def find_wave_speed(
    axon: Axon = Axon(),
    start: Optional[WaveState] = None,
    *,
    branch: str = "fast",
    dt: float = 1e-3,
    t_stop: float = 40.0,
    solver: str = "rk4",
    amplitude: float = 1e-4,
    rtol: float = 1e-13,
    sections: int = 1,
    max_iterations: int = 200,
    t_record: float = 10.0,
    every: int = 10,
    throw: bool = True,
) -> WaveSpeed:
    """Find the speed (m/s) of the travelling pulse by shooting, to a relative bracket ``rtol``.

    The speed is bracketed from a dimensional estimate (a geometric grid of 48 trial speeds
    from 1/16 to 4 times it, expanded upwards as needed), then bisected on the side to which
    V runs away, all inside ``lax`` loops: this function jits and vmaps, and batch leaves of
    ``axon`` give a batch of speeds in one call.  ``dt``, ``t_stop``, ``rtol``, ``amplitude``
    and ``branch`` are traced: changing them compiles nothing (a new ``dt`` or ``t_record``
    recompiles only the small program recording the pulse).

    Args:
        axon: radius (µm), ρ (Ω·cm), membrane parameters (any leaf may be a batch array).
            Default: ``jaxneuro.Axon()``, Cooley & Dodge's axon.
        start: where trajectories start: ``None`` for the unstable manifold of rest (no cable
            run needed), or a :class:`WaveState` such as a cable's state at some time and place
            (the notebook's method; W = ∂V/∂t there, mV/ms).
        branch: ``"fast"``: the stable pulse (the highest speed where the divergence direction
            flips from down (-1) to up (+1)).  ``"train_front"``: the lowest speed where it flips
            the other way, from up (+1) below it to down (-1) above it, on the first grid.  It is
            not a pulse: the trajectory there leaves rest and settles on a periodic wave train
            (Cooley–Dodge at 18.5 °C: 5.5445 m/s; a first 17.5 mV hump, then humps of 31.7 mV
            every 3.27 ms that never return to rest), a front from rest onto the train of that
            speed on the dispersion curve (:func:`jaxneuro.pulses.dispersion_curve`).  The slow,
            unstable solitary pulse is :func:`jaxneuro.pulses.slow_pulse` (5.6268 m/s there).
            (``"slow"``, this root's former name, is refused with a pointer to both.)
        dt: integration step in z (ms).
        t_stop: longest integration (ms) before a trajectory counts as not running away.
        solver: ``"rk4"`` or ``"ab5"`` (RK4-started Adams–Bashforth 5, as the notebook).
        amplitude: distance (mV, along the eigenvector) of the start from rest.
        rtol: stop when (upper - lower) <= rtol · upper (relative bracket width, in (0, 0.5]).
        sections: trial speeds per iteration (1: bisection; K: (K+1)-section, for vmap/GPU).
        max_iterations: cap on refinement iterations.
        t_record: length (ms) of the returned pulse, a concrete number >= 0 (0 for its start
            only; ``None`` is refused).  It sets the number of samples, so for ``t_record > 0``
            ``dt`` must be concrete too; with ``t_record=0`` ``dt`` may be traced.
        every: keep every ``every``-th step of the returned pulse.
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and any
            member failed; ``False`` returns NaN speeds with their codes.

    Returns:
        A :class:`WaveSpeed`.  Where no pulse of the branch exists (or none could be bracketed)
        the speed is NaN and ``result`` is ``NO_PULSE``: never a made-up number.

    Raises:
        ValueError: bad parameters or options, before anything is compiled.
        jaxneuro.results.NumericalError: (``throw=True``, eager) a member failed.

    Examples:
        >>> import jaxneuro as jn
        >>> from jaxneuro import wave
        >>> found = wave.find_wave_speed(jn.cooley_dodge_axon(), dt=0.01, rtol=1e-6)
        >>> round(float(found.speed), 3), int(found.result)
        (18.729, 0)
        >>> from jaxneuro import results
        >>> hot = jn.cooley_dodge_axon()._replace(membrane=jn.HHParams(EL=10.598, temperature=40.0))
        >>> none = wave.find_wave_speed(hot, dt=0.005, rtol=1e-6, throw=False)
        >>> float(none.speed), results.name(none.result)
        (nan, 'no_pulse')
    """
    shape, numeric, search = _prepare(
        axon, start, branch=branch, dt=dt, t_stop=t_stop, solver=solver, amplitude=amplitude, rtol=rtol,
        sections=sections, max_iterations=max_iterations,
    )
    record = _record_config(t_record, every, dt, solver)
    axon, start = _as_float(axon), _as_float(start)
    if shape == ():
        found = _search_one(axon, _start_flat(start), numeric, config=search)
        z, ys = _recorded(axon.membrane, found, numeric.dt, record, _record_one)
    else:
        flat_axon, flat_start = sweep.flatten((axon, start), shape)
        found = _search_many(flat_axon, _start_flat(flat_start), numeric, search)
        z, ys = _recorded(flat_axon.membrane, found, numeric.dt, record, _record_many)
        found, ys, z = sweep.unflatten(found, shape), sweep.unflatten(ys, shape), z[0]
    if throw:
        def detail(index):  # called only when the codes are concrete
            failed_at_rest = np.asarray(found.rest)[index] != results.SUCCESSFUL
            return "(in the Newton iteration for the resting potential)" if failed_at_rest else ""

        results.raise_if_failed(found.result, f"wave speed ({branch} branch)", detail=detail)
    return WaveSpeed(found.speed, found.bracket, found.iterations, found.result, z, _unflat(ys))


# ----------------------------------------------------------------------------------------
# The derivative of the speed, by the implicit function theorem.


def _v_at(axon, speed, start, steps, numeric: _Numeric, solver: str):
    """V after ``steps`` steps from the start, at ``speed``: a smooth function of both."""
    lin = _linearise(axon)
    gain = _gain(speed, lin.diffusion)
    y0 = _manifold_flat(lin, gain, numeric.amplitude)[0] if start is None else start
    return integrators.integrate_until(
        _field, y0, numeric.dt, steps, _never, solver, args=(axon.membrane, gain)
    ).y[0]


def _parting_steps(axon, start, lower, upper, numeric: _Numeric, solver: str):
    """Steps until V from the two ends of the bracket differs by ``_PARTING`` mV."""
    lin = _linearise(axon)
    gains = _gain(jnp.stack([lower, upper]), lin.diffusion)
    if start is None:
        pair = jax.vmap(lambda g: _manifold_flat(lin, g, numeric.amplitude)[0])(gains)
    else:
        pair = jnp.stack([start, start])
    return integrators.integrate_until(
        _pair_field, pair, numeric.dt, _max_steps(numeric), _parted, solver, args=(axon.membrane, gains)
    ).steps


@partial(jax.jit, static_argnames=("solver",))
def _sensitivities(axon, start, bracket, speed, numeric: _Numeric, *, solver: str):
    """∂V/∂(axon, speed, start) at the parting point of the bracket's two trajectories (one
    forward-mode Jacobian)."""
    steps = _parting_steps(axon, start, bracket[0], bracket[1], numeric, solver)
    return jax.jacfwd(partial(_v_at, steps=steps, numeric=numeric, solver=solver), argnums=(0, 1, 2))(
        axon, speed, start)


@partial(jax.custom_jvp, nondiff_argnums=(3,))
def _speed(axon, start, numeric: _Numeric, config: _Search):
    found = _search_one(axon, start, numeric, config=config)
    return found.speed, found.result


@_speed.defjvp
def _speed_jvp(config, primals, tangents):
    """du/dp = -(∂V/∂p) / (∂V/∂u) at the point where the trajectories from the two ends of the
    bracket part.  There the deviation from the pulse is dominated by the one mode that grows
    (which decides the direction of divergence), so the ratio is the derivative of the root of
    its amplitude; the other modes enter relative to it at ~1e-8 for a 1e-13 bracket.
    The numerical options (dt, t_stop, ...) get no derivative (their tangents are ignored)."""
    axon, start, numeric = primals
    axon_dot, start_dot, _ = tangents
    found = _search_one(axon, start, numeric, config=config)
    speed = jax.lax.stop_gradient(found.speed)
    dv_da, dv_du, dv_ds = _sensitivities(axon, start, found.bracket, speed, numeric, solver=config.solver)
    coefficients = (dv_da, dv_ds)
    # Coefficients first, then a dot with the tangents: linear with constant coefficients, so
    # reverse mode can transpose it (it could not transpose the while loop inside).
    dv = sum(
        jnp.sum(c * t)
        for c, t in zip(jax.tree.leaves(coefficients), jax.tree.leaves((axon_dot, start_dot)))
    )
    no_tangent = np.zeros(np.shape(found.result), dtype=jax.dtypes.float0)
    return (found.speed, found.result), (-dv / dv_du, no_tangent)


def wave_speed(
    axon: Axon = Axon(),
    start: Optional[WaveState] = None,
    *,
    branch: str = "fast",
    dt: float = 1e-3,
    t_stop: float = 40.0,
    solver: str = "rk4",
    amplitude: float = 1e-4,
    rtol: float = 1e-13,
    sections: int = 1,
    max_iterations: int = 200,
    throw: bool = True,
    return_result: bool = False,
):
    """The pulse speed (m/s) as a differentiable function of the axon (and of ``start``).

    ``jax.grad``, ``jax.jacfwd`` and ``jax.jvp`` of it with respect to any leaf of ``axon``
    (radius µm, ρ Ω·cm, membrane parameters) or ``start`` use the implicit function theorem,
    not differentiation through the bisection; the numerical options get no derivative.
    Same arguments as :func:`find_wave_speed` (without the recorded pulse).

    Args:
        axon, start, branch, dt, t_stop, solver, amplitude, rtol, sections, max_iterations:
            as in :func:`find_wave_speed`.
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly on a failure.
        return_result: also return the int32 result code (for ``jax.grad(..., has_aux=True)``).

    Returns:
        The speed (m/s; NaN where no pulse was found), of the batch shape of ``axon``; with
        ``return_result``, ``(speed, result)``.

    Raises:
        ValueError: bad parameters or options, before anything is compiled.
        jaxneuro.results.NumericalError: (``throw=True``, eager) a member failed.

    Examples:
        >>> import jax
        >>> import jaxneuro as jn
        >>> from jaxneuro import wave
        >>> axon = jn.cooley_dodge_axon()
        >>> speed = lambda a: wave.wave_speed(axon._replace(radius=a), dt=0.01, rtol=1e-10)
        >>> u, du_da = jax.value_and_grad(speed)(238.0)
        >>> round(float(du_da * 238.0 / u), 6)  # u ∝ sqrt(radius)
        0.5
    """
    shape, numeric, search = _prepare(
        axon, start, branch=branch, dt=dt, t_stop=t_stop, solver=solver, amplitude=amplitude, rtol=rtol,
        sections=sections, max_iterations=max_iterations,
    )
    axon, start = _as_float(axon), _as_float(start)
    if shape == ():
        speed, result = _speed(axon, _start_flat(start), numeric, search)
    else:
        flat_axon, flat_start = sweep.flatten((axon, start), shape)
        batched = jax.vmap(lambda a, s: _speed(a, s, numeric, search))(flat_axon, _start_flat(flat_start))
        speed, result = sweep.unflatten(batched, shape)
    if throw:
        results.raise_if_failed(result, f"wave speed ({branch} branch)")
    return (speed, result) if return_result else speed


# ----------------------------------------------------------------------------------------
# The pieces, public for analysis and tests.


@partial(jax.jit, static_argnames=("branch", "solver", "sections", "max_iterations"))
def wave_speed_traced(axon: Axon, *, branch: str = "fast", dt: float = 1e-3, t_stop: float = 40.0,
                      solver: str = "rk4", amplitude: float = 1e-4, rtol: float = 1e-13, sections: int = 1,
                      max_iterations: int = 200) -> tuple:
    """:func:`wave_speed` of a flat batch (leaves of shape (members,)) with no checks and no
    raising, for use inside a program (e.g. :class:`jaxneuro.jobs.Speed`); the options are
    static and checked by :func:`check_speed_options`.

    Returns:
        ``(speed, result)``: m/s (NaN where no pulse was found) and int32 codes, (members,).
    """
    numeric, search = _options(branch=branch, dt=dt, t_stop=t_stop, solver=solver, amplitude=amplitude, rtol=rtol,
                               sections=sections, max_iterations=max_iterations)
    return jax.vmap(lambda a: _speed(a, None, numeric, search))(_as_float(axon))


@jax.jit
def _wave_rhs(state: WaveState, speed, axon: Axon) -> WaveState:
    gain = _gain(speed, diffusion_coefficient(axon))
    return _unflat(_field(_flat(state), (axon.membrane, gain)))


def wave_rhs(state: WaveState, speed: ArrayLike, axon: Axon = Axon()) -> WaveState:
    """d/dz of the travelling-wave state.

    Args:
        state: the point (:class:`WaveState`; V mV from rest, W mV/ms, gates).
        speed: the wave speed (m/s).
        axon: the axon (radius µm, ρ Ω·cm, membrane).

    Returns:
        The derivative (:class:`WaveState`: mV/ms, mV/ms², 1/ms).
    """
    _check_axon(axon)
    if state is None:
        raise ValueError("state must be a jaxneuro.wave.WaveState (v, w, n, m, h), got None")
    _check_start(state, "state")
    validation.check_number("speed", speed, positive=True, unit="m/s")
    return _wave_rhs(_as_float(state), _as_float(speed), _as_float(axon))


@jax.jit
def _resting_state(axon: Axon) -> tuple:
    rest, result = _resting_flat(axon)
    ok = (result == results.SUCCESSFUL)[..., None]
    return _unflat(jnp.where(ok, rest, jnp.nan)), result


def resting_state(axon: Axon = Axon(), *, throw: bool = True) -> WaveState:
    """The resting point: V at rest (mV from the nominal rest), W = 0, gates at their steady state.

    Args:
        axon: the axon (only its membrane matters).
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and the
            Newton iteration for the resting potential did not converge.

    Returns:
        A :class:`WaveState` (of the batch shape of the membrane parameters); NaN where the
        resting potential did not converge (under ``jit``/``vmap``, or with ``throw=False``).
    """
    _check_axon(axon)
    state, result = _resting_state(_as_float(axon))
    if throw:
        results.raise_if_failed(result, "resting state (Newton iteration for the resting potential)")
    return state


@jax.jit
def _unstable_eigenpair(axon: Axon, speed) -> Eigenpair:
    lin = _linearise(axon)
    return _eigenpair(lin, _gain(speed, lin.diffusion))


def unstable_eigenpair(axon: Axon = Axon(), speed: ArrayLike = 18.73) -> Eigenpair:
    """The positive eigenvalue of the Jacobian at rest and its right and left eigenvectors.

    At rest the system has exactly one positive real eigenvalue (from the V–W pair); the pulse
    leaves rest along its eigenvector.  Computed from the characteristic equation of the
    Jacobian's structure (a scalar Newton iteration), not by an eigensolver, so it is a
    smooth function of every parameter.

    Args:
        axon: the axon (one, no batch leaves; use ``jax.vmap`` for many).
        speed: the wave speed (m/s).

    Returns:
        An :class:`Eigenpair` (λ in 1/ms; eigenvectors in the order v, w, n, m, h).
    """
    if _check_axon(axon) != ():
        raise ValueError("unstable_eigenpair takes one axon (no batch leaves); use jax.vmap for many")
    validation.check_number("speed", speed, positive=True, scalar=True, unit="m/s")
    return _unstable_eigenpair(_as_float(axon), _as_float(speed))


@jax.jit
def _manifold_start(axon: Axon, speed, amplitude) -> tuple:
    lin = _linearise(axon)
    y0, result = _manifold_flat(lin, _gain(speed, lin.diffusion), amplitude)
    return _unflat(jnp.where(result == results.SUCCESSFUL, y0, jnp.nan)), result


def start_from_cable(v, n, m, h, dt, *, step: int = 1000, node: int = 80) -> WaveState:
    """The notebook's start of the travelling-wave equation: a cable's state at one step and node.

    W = dV/dz is the cable's forward difference (v[step + 1] − v[step]) / dt at that node.

    Args:
        v, n, m, h: a cable's history laid out (steps, nodes): V in mV from rest and the
            gates (e.g. ``sol.v`` and ``sol.gates`` of a run recorded with ``Record(gates=True)``).
        dt: the cable's time step (ms).
        step, node: where to take the state (defaults: the notebook's 1 ms at 2 cm on the
            Cooley–Dodge grid, dt = 1 µs, dx = 250 µm).

    Returns:
        A :class:`WaveState` (V mV, W mV/ms, n, m, h).

    Examples:
        >>> import jaxneuro as jn
        >>> from jaxneuro import wave
        >>> sol = jn.simulate_cable(jn.Axon(), jn.cooley_dodge_grid(t_stop=1.1), jn.cooley_dodge_stimulus(),
        ...                         record=jn.Record(gates=True))
        >>> start = wave.start_from_cable(sol.v, *sol.gates, dt=0.001)
        >>> round(float(wave.find_wave_speed(jn.Axon(), start, solver="ab5", dt=1e-4, t_record=0.0).speed), 4)
        18.7502
    """
    v, n, m, h = (jnp.asarray(a) for a in (v, n, m, h))
    return WaveState(v[step, node], (v[step + 1, node] - v[step, node]) / dt, n[step, node], m[step, node], h[step, node])


def manifold_start(axon: Axon = Axon(), speed: ArrayLike = 18.73, amplitude: float = 1e-4, *,
                   throw: bool = True) -> WaveState:
    """A point on the unstable manifold of rest: rest + ``amplitude`` × right eigenvector.

    Args:
        axon: the axon (one; use ``jax.vmap`` for many).
        speed: the wave speed (m/s).
        amplitude: distance from rest along the eigenvector (mV of V).
        throw: raise :class:`jaxneuro.results.NumericalError` when called eagerly and the
            Newton iteration for the resting potential or the eigenvalue did not converge.

    Returns:
        A :class:`WaveState`; NaN where an iteration did not converge (under ``jit``/``vmap``,
        or with ``throw=False``).
    """
    if _check_axon(axon) != ():
        raise ValueError("manifold_start takes one axon (no batch leaves); use jax.vmap for many")
    validation.check_number("speed", speed, positive=True, scalar=True, unit="m/s")
    validation.check_number("amplitude", amplitude, positive=True, scalar=True, unit="mV")
    state, result = _manifold_start(_as_float(axon), _as_float(speed), _as_float(amplitude))
    if throw:
        results.raise_if_failed(result, "manifold start (resting potential or unstable eigenvalue)")
    return state


class Divergence(NamedTuple):
    """Which way the trajectory at one trial speed runs away (:func:`divergence_direction`).

    Attributes:
        direction: +1 if V ran away upwards (above max(E) + 35 mV), -1 downwards (below
            min(E) - 18 mV), 0 if it stayed within the limits up to ``t_stop`` (int32).
        z: where it left them (ms); ``t_stop`` when it did not.
        result: int32 code: ``SUCCESSFUL``; ``DIVERGED`` if the state became non-finite; from
            the unstable manifold (``start=None``), the code of the Newton iteration for the
            resting potential or the eigenvalue where one did not converge.
    """

    direction: Array
    z: Array
    result: Array


@partial(jax.jit, static_argnames=("solver",))
def _divergence(axon, speed, start, numeric: _Numeric, solver: str) -> Divergence:
    lin = _linearise(axon)
    gain = _gain(speed, lin.diffusion)
    y0, manifold = _manifold_flat(lin, gain, numeric.amplitude) if start is None else (start, results.SUCCESSFUL)
    stopped = integrators.integrate_until(
        _field, y0, numeric.dt, _max_steps(numeric), _escaped, solver, args=(axon.membrane, gain)
    )
    high, _ = _limits(axon.membrane)
    direction = jnp.where(stopped.stopped, jnp.where(stopped.y[0] > high, 1, -1), 0).astype(jnp.int32)
    return Divergence(direction, stopped.steps * numeric.dt, results.first_failure(manifold, stopped.result))


def divergence_direction(
    axon: Axon = Axon(),
    speed: ArrayLike = 18.73,
    start: Optional[WaveState] = None,
    *,
    dt: float = 1e-3,
    t_stop: float = 40.0,
    solver: str = "rk4",
    amplitude: float = 1e-4,
) -> Divergence:
    """Integrate the travelling-wave system at ``speed`` until V leaves
    [min(E) - 18, max(E) + 35] mV (the shooting test of :func:`find_wave_speed`).

    Args:
        axon: the axon (one; use ``jax.vmap`` for many).
        speed: trial speed (m/s).
        start: start state (:class:`WaveState`) or ``None`` for the unstable manifold.
        dt: step (ms).  t_stop: longest integration (ms).
        solver: ``"rk4"`` or ``"ab5"``.  amplitude: start's distance from rest (mV).

    Returns:
        A :class:`Divergence` (direction, z in ms, result code).
    """
    if _check_axon(axon) != ():
        raise ValueError("divergence_direction takes one axon (no batch leaves); use jax.vmap for many")
    _check_start(start)
    validation.check_number("speed", speed, positive=True, scalar=True, unit="m/s")
    _check_numbers(dt, t_stop, amplitude, solver)
    numeric = _Numeric(jnp.asarray(dt, float), jnp.asarray(t_stop, float), jnp.asarray(amplitude, float),
                       jnp.asarray(0.0), jnp.asarray(0, jnp.int32))
    return _divergence(_as_float(axon), _as_float(speed), _as_float(_start_flat(start)), numeric, solver=solver)


_speed_estimate = jax.jit(_estimate)


def speed_estimate(axon: Axon = Axon()) -> Array:
    """Dimensional estimate (m/s): Cooley–Dodge's 18.73 m/s scaled by sqrt(D · Q · gNa), with
    D = a / (2 ρ Cm) and Q the Q10 rate factor; where the bracket of :func:`find_wave_speed`
    starts.

    Args:
        axon: the axon (leaves may be batched).

    Returns:
        The estimate (m/s), of the batch shape of ``axon``.
    """
    _check_axon(axon)
    return _speed_estimate(_as_float(axon))


# ----------------------------------------------------------------------------------------
# Where the fast and slow pulses meet: the temperature of propagation failure.


class PropagationFailure(NamedTuple):
    """The temperature above which the shooting finds no fast pulse: the fold where the fast
    and slow pulses merge and vanish (:func:`jaxneuro.pulses.continue_pulses` finds the same
    fold, 33.67069 °C for Cooley–Dodge, by continuation).

    Attributes:
        temperature: the fold temperature (°C), midpoint of ``bracket``; NaN on failure.
        bracket: (pulses exist, no pulse) temperatures (°C).
        speed: the speed (m/s) where the two branches meet (centre of the last interval of
            speeds between them); NaN on failure.
        iterations: bisection iterations on temperature.
        result: int32 code: ``SUCCESSFUL``; ``NO_BRACKET`` (no fold inside ``temperatures``,
            or the ends of the bisection do not bracket one: at the last scanned temperature
            with a pulse no speed within ±25 % of the centre lies between the two pulses, or
            one still does at the next); ``NO_PULSE`` (the train front could not be bracketed
            next to the fold: raise ``t_stop``); ``MAX_ITERATIONS``; a code of the resting
            potential's Newton iteration where it did not converge.
    """

    temperature: Array
    bracket: Array
    speed: Array
    iterations: Array
    result: Array


def _with_temperature(axon: Axon, temperature) -> Axon:
    return axon._replace(membrane=axon.membrane._replace(temperature=temperature))


@partial(jax.jit, static_argnames=("solver", "points", "max_iterations"))
def _failure(axon, t_exists, t_fails, centre, numeric: _Numeric, atol, *, solver, points=96, max_iterations=60):
    """Bisection on temperature between ``t_exists`` (some speed within ±25 % of ``centre``
    lies between the two pulses) and ``t_fails`` (none does), both checked first: if either
    end does not say so, the result is ``NO_BRACKET`` (not ``t_exists`` as a fold)."""
    ratios = jnp.geomspace(1 / 1.25, 1.25, points)

    def between(temperature, centre):
        """Whether any speed near ``centre`` runs away downwards, i.e. lies between the two
        pulses, and the geometric mean of those speeds (``centre`` if none)."""
        speeds = centre * ratios
        shifted = _with_temperature(axon, temperature)
        signs = _directions(shifted, _linearise(shifted), None, speeds, numeric, solver)
        inside = signs == -1
        count = jnp.sum(inside)
        mean_log = jnp.sum(jnp.where(inside, jnp.log(speeds), 0.0)) / jnp.maximum(count, 1)
        return count > 0, jnp.where(count > 0, jnp.exp(mean_log), centre)

    def side(trials, centre):
        """-1 (pulses exist) at each trial temperature where some speed lies between the
        pulses, +1 where none does; the centre follows those speeds, at the highest such
        trial temperature."""
        inside, centres = jax.vmap(between, in_axes=(0, None))(trials, centre)
        last = (trials.shape[0] - 1) - jnp.argmax(inside[::-1])
        return jnp.where(inside, -1, 1), jnp.where(jnp.any(inside), centres[last], centre)

    # The resting point does not depend on temperature (the Q10 factor cancels in the steady
    # state): one Newton iteration tells whether every trial's manifold start is sound.
    rest = _resting_flat(axon)[1]
    lo, hi, k, bisected, centre = rootfinding.bisect(side, t_exists, t_fails, centre, atol=atol,
                                                     max_iterations=max_iterations, check_ends=True)
    result = results.first_failure(rest, bisected)
    ok = result == results.SUCCESSFUL
    return PropagationFailure(jnp.where(ok, 0.5 * (lo + hi), jnp.nan), jnp.stack([lo, hi]),
                              jnp.where(ok, centre, jnp.nan), k, result)


def propagation_failure(
    axon: Axon = Axon(),
    temperatures: ArrayLike = np.arange(6.3, 50.0, 1.25),
    atol: float = 0.005,
    *,
    dt: float = 1e-3,
    t_stop: float = 40.0,
    solver: str = "rk4",
    amplitude: float = 1e-4,
    throw: bool = True,
    scan: Optional["WaveSpeed"] = None,
) -> PropagationFailure:
    """Locate the temperature (°C) above which no pulse propagates, to ``atol`` °C.

    A scan over ``temperatures`` (one vmapped search, or ``scan``) brackets the temperature where the fast
    pulse disappears; the slow and fast speeds at the last temperature with a pulse give the
    centre of the interval of speeds between them.  Bisection on temperature then asks, at
    each step, whether any speed on a fine grid around that centre (±25 %, 96 points, 0.5 %
    apart) still lies between two pulses; the centre follows the interval as it shrinks, so
    the test stays sharp up to the fold, where the interval closes like sqrt(T_fold - T).

    A host-side driver (it picks the bracket from the scan on the host), not traceable; each
    of its three compiled programs compiles once per static configuration.

    Args:
        axon: one axon (no batch leaves); its temperature is replaced.
        temperatures: the scan (°C, at least 2, within the accepted range; sorted here, or
            strictly increasing already when ``scan`` is given).
        atol: width (°C) of the final temperature bracket.
        dt, t_stop, solver, amplitude: as in :func:`find_wave_speed`.
        throw: raise :class:`jaxneuro.results.NumericalError` on a failure; ``False`` returns
            NaN with the code.
        scan: the fast branch's :func:`find_wave_speed` for this axon at ``temperatures`` (in
            the same order, with these ``dt``, ``t_stop``, ``solver`` and ``amplitude``; any
            ``rtol`` at most the scan's own 1e-4) when it is already done: it replaces the scan,
            and no vmapped search is compiled.  Only its ``bracket`` and ``result`` are read;
            which branch and axon it was made for cannot be checked.

    Returns:
        A :class:`PropagationFailure`.

    Raises:
        ValueError: bad input, before anything is compiled.
        jaxneuro.results.NumericalError: (``throw=True``) no fold inside ``temperatures``, or
            the train front or the bisection failed.
    """
    if _check_axon(axon) != ():
        raise ValueError("propagation_failure takes one axon (no batch leaves)")
    validation.check_number("temperatures", temperatures)
    temperatures = np.ravel(np.asarray(temperatures, dtype=float))
    validation.check_temperature("temperatures", temperatures)
    if scan is not None:
        if not isinstance(scan, WaveSpeed) or np.shape(scan.bracket) != temperatures.shape + (2,):
            raise ValueError(f"scan must be the WaveSpeed of find_wave_speed at the {temperatures.size} temperatures "
                             f"(bracket of shape {temperatures.shape + (2,)}), got "
                             f"{type(scan).__name__} with bracket {np.shape(getattr(scan, 'bracket', None))}")
        if np.any(np.diff(temperatures) <= 0):
            raise ValueError("with scan, temperatures must be strictly increasing (°C), in the order of the scan")
    temperatures = np.sort(temperatures)
    if temperatures.size < 2:
        raise ValueError(f"temperatures must hold at least 2 values (°C), got {temperatures.size}")
    validation.check_number("atol", atol, positive=True, scalar=True, unit="°C")
    shape, numeric, search = _prepare(axon, None, branch="fast", dt=dt, t_stop=t_stop, solver=solver,
                                      amplitude=amplitude, rtol=1e-4, sections=1, max_iterations=200)
    axon = _as_float(axon)
    fast = scan
    if fast is None:
        scan_axon = _with_temperature(axon, jnp.asarray(temperatures))
        scan_axon = jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, temperatures.shape), scan_axon)
        fast = _search_many(scan_axon, None, numeric, search)
    exists = np.isfinite(np.asarray(fast.bracket[:, 0]))

    def failed(code, text):
        if throw:
            raise results.NumericalError(f"propagation failure: {text}", code)
        nan = jnp.asarray(np.nan)
        return PropagationFailure(nan, jnp.stack([nan, nan]), nan, jnp.asarray(0), jnp.asarray(code, jnp.int32))

    first = int(np.asarray(fast.result)[0])
    if not exists[0] and first != results.NO_PULSE:  # e.g. the resting potential did not converge
        return failed(first, f"the fast pulse search failed at {temperatures[0]} °C: {results.message(first)}")
    if not exists[0] or exists.all():
        return failed(results.NO_BRACKET, f"no fold between {temperatures[0]} and {temperatures[-1]} °C (a pulse "
                                          f"exists at {'every' if exists.all() else 'no'} scanned temperature at "
                                          f"the {'top' if exists.all() else 'bottom'}); widen temperatures")
    i = int(np.argmin(exists)) - 1  # last temperature with a pulse
    t_exists = temperatures[i]
    slow = _search_one(_with_temperature(axon, jnp.asarray(t_exists)), None, numeric._replace(branch=jnp.asarray(1, jnp.int32)),
                       config=search)
    if not np.isfinite(float(slow.bracket[0])):
        return failed(results.NO_PULSE, f"the train front could not be bracketed at {t_exists} °C; raise t_stop")
    centre = np.sqrt(np.mean(np.asarray(fast.bracket)[i]) * np.mean(np.asarray(slow.bracket)))
    t_fails = temperatures[i + 1]
    out = _failure(axon, jnp.asarray(t_exists), jnp.asarray(t_fails), centre, numeric,
                   jnp.asarray(atol, float), solver=solver)
    if throw:
        def detail(_):
            if int(out.result) != results.NO_BRACKET:
                return f"(between {t_exists} and {t_fails} °C)"
            return (f"(at {t_exists} °C no speed within ±25 % of {centre:.6g} m/s lies between the two pulses, or "
                    f"one still does at {t_fails} °C; lower dt or refine temperatures)")

        results.raise_if_failed(out.result, "propagation failure (bisection on temperature)", detail=detail)
    return out
