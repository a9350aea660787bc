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

Speeds are in m/s at the interface (1 m/s = 1000 µm/ms); the notebook's 1.8750565461815821
"mm/ms" is in cm/ms, i.e. 18.750565 m/s.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import integrators, membrane
from .cable import Axon, diffusion_coefficient
from .membrane import Gates

Array = jax.Array

_UM_PER_MS_PER_M_PER_S = 1e3


class WaveState(NamedTuple):
    """A point of the travelling-wave system: V (mV from rest), W = dV/dz (mV/ms), gates."""

    v: Array
    w: Array
    n: Array
    m: Array
    h: Array


def wave_rhs(state: WaveState, speed: ArrayLike, axon: Axon) -> WaveState:
    """d/dz of the travelling-wave state at ``speed`` (m/s) for ``axon``."""
    params = axon.membrane
    u = speed * _UM_PER_MS_PER_M_PER_S  # µm/ms
    gain = u**2 / diffusion_coefficient(axon)  # 1/ms
    gates = Gates(state.n, state.m, state.h)
    dw = gain * (state.w + membrane.ionic_current(state.v, gates, params) / params.Cm)
    return WaveState(state.w, dw, *membrane.gate_derivatives(state.v, gates, params))


def resting_state(axon: Axon) -> WaveState:
    """The resting point: V at rest, W = 0, gates at their steady state."""
    v = membrane.resting_potential(axon.membrane)
    return WaveState(v, jnp.zeros_like(v), *membrane.steady_state(v, axon.membrane))


def _flat(state: WaveState) -> Array:
    return jnp.stack(state, axis=-1)


def _unflat(y: Array) -> WaveState:
    return WaveState(*(y[..., i] for i in range(5)))


class Eigenpair(NamedTuple):
    """The unstable eigenvalue of the linearisation at rest (1/ms) and its right and left
    eigenvectors (V components 1 and left·right = 1)."""

    value: Array
    right: Array
    left: Array


def _refine(matrix: Array, value: Array, vector: Array, iterations: int = 3):
    """Newton on (J - λ) r = 0, r_V = 1: makes the eigenpair a smooth function of J (so that
    derivatives flow through it without differentiating an eigensolver)."""
    n = matrix.shape[-1]
    e0 = jnp.zeros(n).at[0].set(1.0)

    def step(_, pair):
        lam, r = pair
        residual = jnp.concatenate([matrix @ r - lam * r, jnp.array([r[0] - 1.0])])
        jac = jnp.block([[matrix - lam * jnp.eye(n), -r[:, None]], [e0[None, :], jnp.zeros((1, 1))]])
        delta = jnp.linalg.solve(jac, -residual)
        return lam + delta[-1], r + delta[:-1]

    return jax.lax.fori_loop(0, iterations, step, (value, vector / vector[0]))


def unstable_eigenpair(axon: Axon, speed: ArrayLike) -> Eigenpair:
    """The positive eigenvalue of the Jacobian at rest (``jax.jacfwd``) and its eigenvectors.

    At rest the system has exactly one positive real eigenvalue (from the V–W pair); the pulse
    leaves rest along its eigenvector.
    """
    rest = _flat(resting_state(axon))
    jac = jax.jacfwd(lambda y: _flat(wave_rhs(_unflat(y), speed, axon)))(rest)
    guess_values, guess_vectors = jnp.linalg.eig(jax.lax.stop_gradient(jac))
    k = jnp.argmax(guess_values.real)
    lam, right = _refine(jac, guess_values[k].real, guess_vectors[:, k].real)
    left_values, left_vectors = jnp.linalg.eig(jax.lax.stop_gradient(jac.T))
    j = jnp.argmax(left_values.real)
    _, left = _refine(jac.T, lam, left_vectors[:, j].real)
    return Eigenpair(lam, right, left / (left @ right))


def manifold_start(axon: Axon, speed: ArrayLike, amplitude: float = 1e-4) -> WaveState:
    """A point on the unstable manifold of rest: rest + ``amplitude`` (mV) × eigenvector."""
    pair = unstable_eigenpair(axon, speed)
    return _unflat(_flat(resting_state(axon)) + amplitude * pair.right)


# ----------------------------------------------------------------------------------------
# Shooting: which way does the trajectory run away?

#: Divergence is declared this far (mV) beyond the highest / lowest reversal potential.
_ABOVE, _BELOW = 35.0, 18.0

# The reference the dimensional estimate scales from: Cooley–Dodge, 18.73 m/s.
_REFERENCE_SPEED = 18.73
_REFERENCE_AXON = Axon(238.0, 35.4, membrane.HHParams(EL=10.598, temperature=18.5))

BRANCHES = ("fast", "slow")


def _limits(axon: Axon):
    p = axon.membrane
    high = jnp.maximum(jnp.maximum(p.ENa, p.EK), p.EL) + _ABOVE
    low = jnp.minimum(jnp.minimum(p.ENa, p.EK), p.EL) - _BELOW
    return high, low


def _flow(axon: Axon, speed):
    return lambda y: _flat(wave_rhs(_unflat(y), speed, axon))


def _start(axon: Axon, speed, start: Optional[WaveState], amplitude: float) -> Array:
    return _flat(manifold_start(axon, speed, amplitude) if start is None else start)


def divergence_direction(
    axon: Axon,
    speed: ArrayLike,
    start: Optional[WaveState] = None,
    *,
    dz: float = 1e-3,
    max_z: float = 40.0,
    method: str = "rk4",
    amplitude: float = 1e-4,
):
    """Integrate the travelling-wave system at ``speed`` (m/s) until V leaves
    [min(E) - 18, max(E) + 35] mV.

    Returns ``(direction, z)``: +1 if V ran away upwards, -1 downwards, 0 if it stayed within
    the limits up to ``max_z`` (ms), and the z (ms) at which it left.
    """
    high, low = _limits(axon)
    stopped = integrators.integrate_until(
        _flow(axon, speed), _start(axon, speed, start, amplitude), dz, int(round(max_z / dz)),
        lambda y: (y[0] > high) | (y[0] < low), method,
    )
    direction = jnp.where(stopped.stopped, jnp.where(stopped.y[0] > high, 1, -1), 0)
    return direction, stopped.steps * dz


def speed_estimate(axon: Axon) -> Array:
    """Dimensional estimate (m/s): Cooley–Dodge's 18.73 m/s scaled by sqrt(D · Q · gNa)."""
    ref = _REFERENCE_AXON
    ratio = (
        diffusion_coefficient(axon) / diffusion_coefficient(ref)
        * membrane.q10_factor(axon.membrane.temperature) / membrane.q10_factor(ref.membrane.temperature)
        * axon.membrane.gNa / ref.membrane.gNa
    )
    return _REFERENCE_SPEED * jnp.sqrt(ratio)


class WaveSpeed(NamedTuple):
    """Result of :func:`find_wave_speed` (batch axes, if any, lead every field but ``z``).

    Attributes:
        speed: the pulse speed (m/s), the midpoint of ``bracket``; NaN where ``found`` is False.
        bracket: (lower, upper) speeds (m/s) between which the divergence direction flips.
        iterations: bisection (or multisection) iterations after bracketing.
        found: whether a pulse of the requested branch was bracketed.
        z: sample positions of ``trajectory`` (ms).
        trajectory: the pulse at ``speed`` (a :class:`WaveState` of arrays over z); NaN from
            the point where it runs away (which, at any floating-point speed, it eventually does).
        reference_steps: integration steps to the point where the trajectories at the two ends
            of the bracket part (used for the derivative of the speed).
    """

    speed: Array
    bracket: Array
    iterations: Array
    found: Array
    z: Array
    trajectory: WaveState
    reference_steps: Array


def _signs(axon, speeds, start, dz, max_z, method, amplitude):
    fn = lambda u: divergence_direction(axon, u, start, dz=dz, max_z=max_z, method=method, amplitude=amplitude)[0]  # noqa: E731
    return jax.vmap(fn)(speeds)


def _bracket(axon, start, branch, dz, max_z, method, amplitude, points=48):
    """A (lower, upper) pair around the root of ``branch`` from a geometric grid of speeds
    around the dimensional estimate (1/16 to 4 times it), then doubling upwards while the
    top of the grid is still below the fast root."""
    estimate = speed_estimate(axon)
    speeds = estimate * jnp.geomspace(1.0 / 16.0, 4.0, points)
    signs = _signs(axon, speeds, start, dz, max_z, method, amplitude)
    below, above = signs[:-1], signs[1:]
    if branch == "fast":
        # Past the fast pulse V runs away upwards (+1); between the slow and fast pulses, down.
        flips = (below == -1) & (above == 1)
        i = jnp.where(jnp.any(flips), (points - 2) - jnp.argmax(flips[::-1]), -1)  # highest flip
        top_below = signs[-1] == -1  # still between the roots at the top: expand upwards

        def expand(state):
            lo, hi, k, s_hi = state
            new = 2.0 * hi
            return hi, new, k + 1, _signs(axon, new[None], start, dz, max_z, method, amplitude)[0]

        lo, hi, _, s_hi = jax.lax.while_loop(
            lambda s: (s[3] == -1) & (s[2] < 8), expand, (speeds[-2], speeds[-1], 0, signs[-1])
        )
        lower = jnp.where(top_below, lo, speeds[jnp.maximum(i, 0)])
        upper = jnp.where(top_below, hi, speeds[jnp.maximum(i, 0) + 1])
        found = jnp.where(top_below, s_hi == 1, i >= 0)
    else:
        flips = (below == 1) & (above == -1)
        i = jnp.argmax(flips)  # lowest flip
        lower, upper, found = speeds[i], speeds[i + 1], jnp.any(flips)
    return lower, upper, found


def _refine_bracket(axon, start, lower, upper, s_lower, dz, max_z, method, amplitude, rtol, sections, max_iterations):
    """Bisection (``sections`` = 1) or multisection on the divergence direction, in a
    ``while_loop``, until (upper - lower) <= rtol · upper."""
    fractions = jnp.arange(1, sections + 1) / (sections + 1)

    def cond(state):
        lo, hi, k, stalled = state
        return (hi - lo > rtol * hi) & (k < max_iterations) & ~stalled

    def body(state):
        lo, hi, k, _ = state
        trial = lo + (hi - lo) * fractions
        signs = _signs(axon, trial, start, dz, max_z, method, amplitude)
        # Trial points are ordered: the root lies after the last trial on lower's side.
        same = signs == s_lower
        stalled = jnp.any(signs == 0)  # no divergence within max_z: cannot refine further
        j = jnp.sum(jnp.cumprod(same))  # number of leading trials on the lower side
        new_lo = jnp.where(j > 0, trial[jnp.maximum(j - 1, 0)], lo)
        new_hi = jnp.where(j < sections, trial[jnp.minimum(j, sections - 1)], hi)
        return (jnp.where(stalled, lo, new_lo), jnp.where(stalled, hi, new_hi), k + 1, stalled)

    lo, hi, k, _ = jax.lax.while_loop(cond, body, (lower, upper, 0, False))
    return lo, hi, k


def _parting_steps(axon, start, lower, upper, dz, max_z, method, amplitude, tolerance=1e-4):
    """Steps until V at the two bracket ends differs by ``tolerance`` mV."""
    pair = jnp.stack([_start(axon, lower, start, amplitude), _start(axon, upper, start, amplitude)])
    flows = (_flow(axon, lower), _flow(axon, upper))
    f = lambda y: jnp.stack([flows[0](y[0]), flows[1](y[1])])  # noqa: E731
    stopped = integrators.integrate_until(
        f, pair, dz, int(round(max_z / dz)), lambda y: ~(jnp.abs(y[0, 0] - y[1, 0]) <= tolerance), method
    )
    return stopped.steps


@partial(
    jax.jit,
    static_argnames=("branch", "dz", "max_z", "method", "amplitude", "rtol", "sections", "max_iterations",
                     "record_z", "record_every"),
)
def _find(axon, start, branch, dz, max_z, method, amplitude, rtol, sections, max_iterations, record_z, record_every):
    lower, upper, found = _bracket(axon, start, branch, dz, max_z, method, amplitude)
    upper = jnp.where(found, upper, lower)  # nothing to refine without a bracket
    s_lower = -1 if branch == "fast" else 1
    lo, hi, iterations = _refine_bracket(
        axon, start, lower, upper, s_lower, dz, max_z, method, amplitude, rtol, sections, max_iterations
    )
    speed = jnp.where(found, 0.5 * (lo + hi), jnp.nan)
    n_record = int(round(record_z / dz))
    trajectory = integrators.integrate(_flow(axon, speed), _start(axon, speed, start, amplitude), dz, n_record,
                                       method, record_every)
    z = jnp.arange(trajectory.shape[0]) * (dz * record_every)
    _, z_out = divergence_direction(axon, speed, start, dz=dz, max_z=max_z, method=method, amplitude=amplitude)
    trajectory = jnp.where((z < z_out)[:, None], trajectory, jnp.nan)
    steps = _parting_steps(axon, start, lo, hi, dz, max_z, method, amplitude)
    return WaveSpeed(
        speed=speed,
        bracket=jnp.stack([jnp.where(found, lo, jnp.nan), jnp.where(found, hi, jnp.nan)]),
        iterations=iterations,
        found=found,
        z=z,
        trajectory=_unflat(trajectory),
        reference_steps=steps,
    )


class WaveOptions(NamedTuple):
    """Numerical settings of the speed finder (static: each combination compiles once).

    Attributes:
        branch: ``"fast"`` (the stable pulse) or ``"slow"`` (the unstable one).
        dz: integration step (ms).
        max_z: longest integration (ms) before a trajectory counts as not running away.
        method: ``"rk4"`` or ``"ab5"`` (RK4-started Adams–Bashforth 5, as the notebook).
        amplitude: distance (mV, along the eigenvector) of the start from rest.
        rtol: stop when (upper - lower) <= rtol · upper.
        sections: trial speeds per iteration (1: bisection; K: (K+1)-section, for vmap/GPU).
        max_iterations: cap on refinement iterations.
        record_z, record_every: length (ms) of the returned trajectory and its sampling (steps).
    """

    branch: str = "fast"
    dz: float = 1e-3
    max_z: float = 40.0
    method: str = "rk4"
    amplitude: float = 1e-4
    rtol: float = 1e-13
    sections: int = 1
    max_iterations: int = 200
    record_z: float = 10.0
    record_every: int = 10

    def validate(self) -> None:
        if self.branch not in BRANCHES:
            raise ValueError(f"branch must be one of {BRANCHES}, got {self.branch!r}")
        if self.method not in integrators.METHODS:
            raise ValueError(f"method must be one of {integrators.METHODS}, got {self.method!r}")
        for name in ("dz", "max_z", "amplitude", "rtol", "record_z"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.dz >= self.max_z or self.dz > self.record_z:
            raise ValueError(f"dz ({self.dz} ms) must be smaller than max_z and record_z")
        for name in ("sections", "max_iterations", "record_every"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _validate_start(start: Optional[WaveState], shape: tuple) -> None:
    if start is None:
        return
    if not isinstance(start, WaveState):
        raise ValueError(f"start must be a WaveState (v, w, n, m, h) or None, got {type(start).__name__}")
    for name, leaf in zip(WaveState._fields, start):
        if isinstance(leaf, jax.core.Tracer):
            continue
        value = np.asarray(leaf, dtype=float)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"start.{name} must be finite, got {leaf}")
        if name in ("n", "m", "h") and not np.all((value >= 0) & (value <= 1)):
            raise ValueError(f"start.{name} is a gate and must lie in [0, 1], got {leaf}")


def find_wave_speed(axon: Axon = _REFERENCE_AXON, start: Optional[WaveState] = None, **options) -> WaveSpeed:
    """Find the speed (m/s) of the travelling pulse by shooting, to ``rtol`` (default 1e-13).

    The speed is bracketed from a dimensional estimate (a geometric grid of trial speeds from
    1/16 to 4 times it, expanded upwards as needed), then bisected on the side to which V runs
    away, all inside ``lax`` loops: this function jits and vmaps, and batch leaves of ``axon``
    give a batch of speeds in one call.

    Args:
        axon: radius (µm), ρ (Ω·cm), membrane parameters (any leaf may be a batch array).
            Default: Cooley & Dodge's axon (238 µm, 35.4 Ω·cm, 18.5 °C, EL 10.598, notebook β_m).
        start: where trajectories start: ``None`` for the unstable manifold of rest (no cable
            run needed), or a :class:`WaveState` such as a cable's state at some time and place
            (the notebook's method; W = ∂V/∂t there).
        **options: fields of :class:`WaveOptions` (branch, dz, method, rtol, sections, ...).

    Returns:
        A :class:`WaveSpeed`.  Where no pulse of the branch exists (or none could be bracketed)
        ``found`` is False and the speed is NaN: never a made-up number.

    Raises:
        ValueError: bad parameters or options, before anything is compiled.
    """
    from .cable import validate_axon

    opts = WaveOptions(**options)
    opts.validate()
    shape = validate_axon(axon)
    _validate_start(start, shape)
    return _batched(_find, axon, start, opts, shape)


def _batched(fn, axon, start, opts: WaveOptions, shape: tuple):
    """Run ``fn`` on one axon, or vmap it over the flattened batch of ``shape``."""
    if shape == ():
        return fn(axon, start, *opts)
    size = int(np.prod(shape))
    flat = jax.tree.map(lambda leaf: jnp.broadcast_to(jnp.asarray(leaf, float), shape).reshape(size), axon)
    start_axis = None if start is None or np.ndim(start.v) == 0 else 0
    if start_axis == 0:
        start = jax.tree.map(lambda leaf: jnp.reshape(leaf, size), start)
    result = jax.vmap(lambda a, s: fn(a, s, *opts), in_axes=(0, start_axis))(flat, start)
    z = result.z[0] if hasattr(result, "z") else None
    result = jax.tree.map(lambda a: a.reshape(shape + a.shape[1:]), result)
    return result._replace(z=z) if z is not None else result


# ----------------------------------------------------------------------------------------
# The derivative of the speed, by the implicit function theorem.


def _v_at(axon, speed, start, steps, opts: WaveOptions):
    """V after ``steps`` steps from the start, at ``speed``: a smooth function of both."""
    y0 = _start(axon, speed, start, opts.amplitude)
    flow = _flow(axon, speed)
    if opts.method == "rk4":
        y = jax.lax.fori_loop(0, steps, lambda _, y: integrators.rk4_step(flow, y, opts.dz), y0)
    else:
        state, _ = integrators.ab5_start(flow, y0, opts.dz)
        y = jax.lax.fori_loop(4, steps, lambda _, s: integrators.ab5_step(flow, s, opts.dz), state).y
    return y[0]


@partial(jax.custom_jvp, nondiff_argnums=(2,))
def _speed(axon, start, opts: WaveOptions):
    return _find(axon, start, *opts).speed


@_speed.defjvp
def _speed_jvp(opts, primals, tangents):
    """du/dp = -(∂V/∂p) / (∂V/∂u) at the point where the trajectories from the two ends of the
    bracket part.  There the deviation from the pulse is dominated by the one mode that grows
    (which decides the direction of divergence), so the ratio is the derivative of the root of
    its amplitude; the other modes enter relative to it at ~1e-8 for a 1e-13 bracket."""
    axon, start = primals
    axon_dot, start_dot = tangents
    result = _find(axon, start, *opts)
    speed = jax.lax.stop_gradient(result.speed)
    steps = result.reference_steps
    dv_du = jax.jvp(lambda u: _v_at(axon, u, start, steps, opts), (speed,), (jnp.ones_like(speed),))[1]
    # Coefficients first, then a dot with the tangents: linear with constant coefficients, so
    # reverse mode can transpose it (it could not transpose the while loop inside).
    coefficients = jax.jacfwd(lambda a, s: _v_at(a, speed, s, steps, opts), argnums=(0, 1))(axon, start)
    dv = sum(
        jnp.sum(c * t)
        for c, t in zip(jax.tree.leaves(coefficients), jax.tree.leaves((axon_dot, start_dot)))
    )
    return result.speed, -dv / dv_du


def wave_speed(axon: Axon = _REFERENCE_AXON, start: Optional[WaveState] = None, **options) -> Array:
    """The pulse speed (m/s) as a differentiable function: ``jax.grad`` and ``jax.jacfwd`` of it
    with respect to any leaf of ``axon`` (and of ``start``) use the implicit function theorem,
    not differentiation through the bisection.  Same arguments as :func:`find_wave_speed`;
    NaN where no pulse exists."""
    from .cable import validate_axon

    opts = WaveOptions(**options)
    opts.validate()
    shape = validate_axon(axon)
    _validate_start(start, shape)
    if shape == ():
        return _speed(axon, start, opts)
    return _batched(lambda a, s, *o: _speed(a, s, WaveOptions(*o)), axon, start, opts, shape)


# ----------------------------------------------------------------------------------------
# Where the fast and slow pulses meet: the temperature of propagation failure.


class PropagationFailure(NamedTuple):
    """The fold where the fast and slow pulses merge and vanish as temperature rises.

    Attributes:
        temperature: the fold temperature (°C), midpoint of ``bracket``.
        bracket: (pulses exist, no pulse) temperatures (°C).
        speed: the speed (m/s) where the two branches meet (centre of the last interval of
            speeds between them).
        iterations: bisection iterations on temperature.
    """

    temperature: Array
    bracket: Array
    speed: Array
    iterations: Array


def _with_temperature(axon: Axon, temperature) -> Axon:
    return axon._replace(membrane=axon.membrane._replace(temperature=temperature))


@partial(jax.jit, static_argnames=("opts", "tolerance", "points"))
def _failure(axon, t_exists, t_fails, centre, opts: WaveOptions, tolerance, points=96):
    ratios = jnp.geomspace(1 / 1.25, 1.25, points)

    def between(temperature, centre):
        """Speeds near ``centre`` at which V runs away downwards: between the two pulses."""
        speeds = centre * ratios
        signs = _signs(_with_temperature(axon, temperature), speeds, None, opts.dz, opts.max_z, opts.method,
                       opts.amplitude)
        inside = signs == -1
        count = jnp.sum(inside)
        mean_log = jnp.sum(jnp.where(inside, jnp.log(speeds), 0.0)) / jnp.maximum(count, 1)
        return count > 0, jnp.where(count > 0, jnp.exp(mean_log), centre)

    def cond(state):
        lo, hi, _, k = state
        return (hi - lo > tolerance) & (k < 60)

    def body(state):
        lo, hi, centre, k = state
        mid = 0.5 * (lo + hi)
        exists, new_centre = between(mid, centre)
        return jnp.where(exists, mid, lo), jnp.where(exists, hi, mid), jnp.where(exists, new_centre, centre), k + 1

    lo, hi, centre, k = jax.lax.while_loop(cond, body, (t_exists, t_fails, centre, 0))
    return PropagationFailure(0.5 * (lo + hi), jnp.stack([lo, hi]), centre, k)


def propagation_failure(
    axon: Axon = _REFERENCE_AXON,
    temperatures: ArrayLike = np.arange(6.3, 50.0, 1.25),
    tolerance: float = 0.005,
    **options,
) -> PropagationFailure:
    """Locate the temperature (°C) above which no pulse propagates, to ``tolerance``.

    A scan over ``temperatures`` (one vmapped call) brackets the temperature where the fast
    pulse disappears; the slow and fast speeds at the last temperature with a pulse give the
    centre of the interval of speeds between them.  Bisection on temperature then asks, at
    each step, whether any speed on a fine grid around that centre (±25 %, 96 points, 0.5 %
    apart) still lies between two pulses; the centre follows the interval as it shrinks, so
    the test stays sharp up to the fold, where the interval closes like sqrt(T_fold - T).

    Raises:
        ValueError: bad input, or no fold inside ``temperatures``.
    """
    from .cable import validate_axon

    if validate_axon(axon) != ():
        raise ValueError("propagation_failure takes one axon (no batch leaves)")
    opts = WaveOptions(**options)
    opts.validate()
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number of °C, got {tolerance!r}")
    temperatures = np.sort(np.asarray(temperatures, dtype=float))
    scan_axon = _with_temperature(axon, jnp.asarray(temperatures))
    fast = find_wave_speed(scan_axon, **opts._replace(branch="fast")._asdict())
    found = np.asarray(fast.found)
    if not found[0] or found.all():
        raise ValueError(
            f"no propagation failure between {temperatures[0]} and {temperatures[-1]} °C "
            f"(a pulse exists at {'every' if found.all() else 'no'} scanned temperature at the lowest end)"
        )
    i = int(np.argmin(found)) - 1  # last temperature with a pulse
    t_exists = temperatures[i]
    slow = find_wave_speed(_with_temperature(axon, t_exists), **opts._replace(branch="slow")._asdict())
    if not bool(slow.found):
        raise ValueError(f"the slow pulse could not be bracketed at {t_exists} °C; raise max_z")
    centre = jnp.sqrt(fast.speed[i] * slow.speed)
    return _failure(axon, jnp.asarray(t_exists), jnp.asarray(temperatures[i + 1]), centre, opts, float(tolerance))
