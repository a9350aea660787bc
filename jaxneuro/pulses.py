"""Travelling pulses and wave trains of the H&H axon as boundary-value problems.

Shooting (:mod:`jaxneuro.wave`) finds the fast pulse exactly and fast, but a sign change of
the divergence direction is not a pulse: the second root it finds (5.54 m/s at 18.5 °C) is a
trajectory that leaves rest and settles on a periodic wave train.  Here pulses are computed as
what they are, orbits homoclinic to rest of the travelling-wave system (z = t - x/u, ms)

    V' = W,  W' = (u²/D)(W + I_ion/Cm),  n' = φ(T)(α_n(1 - n) - β_n n), ...  (see ``wave``)

on a truncated interval [z_0, z_N] with Beyn's projection boundary conditions: at the left
end the state lies on the unstable eigendirection of rest (4 conditions), at the right end it
has no component along it (1 condition); an integral phase condition fixes the translation and
the speed u is the extra unknown.  Every solve is the continuation's system in (u, T): a
single pulse pins T with the arclength row, so that one compiled corrector serves the fast
pulse, the slow pulse and the continuation in temperature.  The systems for wave trains (periodic travelling waves:
periodic boundary conditions on a period P, ms in z) are set up here too, for the dispersion
curve still to come.  The collocation, the structured Newton
solver and the linear algebra are :mod:`jaxneuro.bvp`'s.

=================================  ==========================================================
:func:`solve_pulse`                one solitary pulse (fast by default, from the shooting
                                   speed), with residual and result code (:class:`Pulse`)
:func:`continue_pulses`            the branch of pulses in temperature by pseudo-arclength
                                   continuation, through the fold (:class:`PulseBranch`)
:func:`slow_pulse`                 the slow pulse at a temperature: the branch continued
                                   from 6.3 °C through the fold and back down
=================================  ==========================================================

Units: z, widths and periods in ms (of the travelling coordinate), speeds in m/s, V in mV
from rest, temperatures in °C.  Everything runs in float64.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import bvp, integrators, membrane, results, validation, wave
from .cable import Axon, diffusion_coefficient
from .sweep import FAST_COMPILE_OPTIONS, _jit_with_options

Array = jax.Array

__all__ = ["PARAMETERS", "Dispersion", "Pulse", "PulseBranch", "WaveTrain", "continue_pulses", "dispersion_curve",
           "slow_pulse", "solve_pulse", "wave_train"]

#: Length (ms) of the interval before the upstroke and after it, at 18.5 °C; scaled by the
#: rates' Q10 factor at other temperatures (at 6.3 °C the slowest decay of rest, 0.12/ms,
#: needs 150 ms to fall by 1e-8).
_BEFORE, _AFTER = 14.0, 40.0
#: Shooting start: V this far (mV) from rest along the unstable eigenvector, at z = 0.
_AMPLITUDE = 1e-4


def _phi(temperature, params):
    return params.q10 ** ((temperature - 18.5) / 10.0)


#: Membrane or axon fields that can be a continuation parameter (besides "temperature").
_AXON_FIELDS = ("radius", "rho")
PARAMETERS = ("temperature", "radius", "rho", "gNa", "gK", "gL", "ENa", "EK", "EL", "Cm")


# ----------------------------------------------------------------------------------------
# The systems.  theta holds the unknown parameters, named by the static tuple `free`.


class _Fixed(NamedTuple):
    """Everything held fixed in a solve (traced): the axon, and speed (m/s) and period (ms)
    where they are not unknowns."""

    axon: Axon
    speed: Array
    period: Array


def _with(axon: Axon, name: str, value) -> Axon:
    if name in _AXON_FIELDS:
        return axon._replace(**{name: value})
    return axon._replace(membrane=axon.membrane._replace(**{name: value}))


def _current(theta, fixed: _Fixed, free: tuple) -> tuple:
    """(axon, speed, period) with the unknowns of ``theta`` put in."""
    axon, speed, period = fixed
    for i, name in enumerate(free):
        if name == "speed":
            speed = theta[i]
        elif name == "period":
            period = theta[i]
        else:
            axon = _with(axon, name, theta[i])
    return axon, speed, period


def _travelling_field(y, speed, axon):
    return wave._field(y, (axon.membrane, wave._gain(speed, diffusion_coefficient(axon))))


def _pulse_field(y, theta, args):
    """The system in ζ = φ(T) z (ms at 18.5 °C): one mesh serves every temperature."""
    fixed, free = args
    axon, speed, _ = _current(theta, fixed, free)
    return _travelling_field(y, speed, axon) / _phi(axon.membrane.temperature, axon.membrane)


def _train_field(y, theta, args):
    """Augmented state (x, c) on s in [0, 1]: x' = P f(x), c' = 0 (c carries x(0) to the end)."""
    fixed, free = args
    axon, speed, period = _current(theta, fixed, free)
    return jnp.concatenate([period * _travelling_field(y[:5], speed, axon), jnp.zeros(5, y.dtype)])


def _eigen(theta, fixed: _Fixed, free):
    axon, speed, _ = _current(theta, fixed, free)
    lin = wave._linearise(axon)
    return lin.rest, wave._eigenpair(lin, wave._gain(speed, lin.diffusion))


def _pulse_ends(x0, xn, theta, fixed, free):
    """(left rows, right rows), from one linearisation at rest: x0 - rest is along the unstable
    eigenvector (whose V component is 1: 4 conditions); x_N - rest has no component along it
    (1 condition)."""
    rest, pair = _eigen(theta, fixed, free)
    dev = x0 - rest
    return dev[1:] - pair.right[1:] * dev[0], (pair.left @ (xn - rest))[None]


def _train_ends(x0, xn, theta, fixed, free):
    """(left rows, right rows): the carried copy starts at x(0) and x(1) returns to it."""
    return x0[5:] - x0[:5], xn[:5] - xn[5:]


#: Per system: (field, ends).
_SYSTEMS = {"pulse": (_pulse_field, _pulse_ends), "train": (_train_field, _train_ends)}


class _Config(NamedTuple):
    """Static: which system, which parameters are unknown (speed first), Newton's cap."""

    kind: str  # "pulse" | "train"
    free: tuple
    max_iterations: int
    profile_weight: float = 1.0  # of the profile against the parameters in the arclength norm


def _weights(mesh):
    """Trapezoid weights (N + 1,) of the mesh over its length (a mean, not an integral)."""
    h = jnp.diff(mesh)
    w = jnp.concatenate([h, jnp.zeros(1, h.dtype)]) + jnp.concatenate([jnp.zeros(1, h.dtype), h])
    return 0.5 * w / (mesh[-1] - mesh[0])


class _Anchor(NamedTuple):
    """The dense rows: the phase condition mean <x - x̂, x̂'> = 0 against a reference x̂, and
    for continuation the pseudo-arclength condition <X - X_pred, tangent> = 0."""

    reference: Array  # (N + 1, 5)
    reference_slope: Array  # (N + 1, 5) x̂' on the mesh
    predicted_x: Array  # (N + 1, d)
    predicted_theta: Array  # (q,)
    tangent_x: Array  # (N + 1, d)
    tangent_theta: Array  # (q,)


def _global_rows(x, theta, mesh, anchor: _Anchor, config: _Config) -> tuple:
    """(values (g,), their gradient in x (N + 1, g, d), in theta (g, q)): the phase condition,
    and with two unknown parameters the pseudo-arclength condition."""
    w = _weights(mesh)
    rows = [jnp.sum(w[:, None] * (x[:, :5] - anchor.reference) * anchor.reference_slope)]
    g_rows = [jnp.zeros_like(x).at[:, :5].set(w[:, None] * anchor.reference_slope)]
    g_theta = [jnp.zeros(len(config.free), x.dtype)]
    if len(config.free) == 2:
        rows.append(config.profile_weight * jnp.sum(w[:, None] * (x - anchor.predicted_x) * anchor.tangent_x)
                    + jnp.sum((theta - anchor.predicted_theta) * anchor.tangent_theta))
        g_rows.append(config.profile_weight * w[:, None] * anchor.tangent_x)
        g_theta.append(anchor.tangent_theta)
    return jnp.stack(rows), jnp.stack(g_rows, axis=1), jnp.stack(g_theta)


def _residual(x, theta, mesh, fixed, anchor, config: _Config):
    """F as (left rows, interval rows (N, d), right rows, dense rows)."""
    field, ends = _SYSTEMS[config.kind]
    f_left, f_right = ends(x[0], x[-1], theta, fixed, config.free)
    f_global = _global_rows(x, theta, mesh, anchor, config)[0]
    return f_left, bvp.collocation_residual_traced(field, x, theta, mesh, (fixed, config.free)), f_right, f_global


def _linearised(x, theta, mesh, fixed, anchor, config: _Config) -> tuple:
    """(F in _residual's layout, the Newton matrix at (x, theta) with right-hand side -F):
    every part and its derivatives from one forward-mode evaluation."""
    field, ends = _SYSTEMS[config.kind]
    free = config.free
    r, a, b, c = bvp.collocation_blocks(field, x, theta, mesh, (fixed, free))
    (f_left, f_right), ((left, _, left_theta), (_, right, right_theta)) = bvp.value_and_jacobian(
        lambda u, v, t: ends(u, v, t, fixed, free), x[0], x[-1], theta)
    f_global, g, g_theta = _global_rows(x, theta, mesh, anchor, config)
    system = bvp.Bordered(left, left_theta, -f_left, a, b, c, -r, right, right_theta, -f_right, g, g_theta, -f_global)
    return (f_left, r, f_right, f_global), system


def _with_rhs(system: bvp.Bordered, rhs) -> bvp.Bordered:
    """``system`` with the right-hand side ``rhs`` (in _residual's layout)."""
    return system._replace(left_rhs=rhs[0], rhs=rhs[1], right_rhs=rhs[2], g_rhs=rhs[3])


def _max_norm(parts):
    return jnp.max(jnp.abs(jnp.concatenate([jnp.ravel(p) for p in parts])))


def _newton(x0, theta0, mesh, fixed, anchor, tol, config: _Config) -> bvp.NewtonResult:
    def assemble(x, theta):
        return _linearised(x, theta, mesh, fixed, anchor, config)[1]

    def residual_norm(x, theta):
        return _max_norm(_residual(x, theta, mesh, fixed, anchor, config))

    return bvp.newton(assemble, residual_norm, x0, theta0, tol=tol, max_iterations=config.max_iterations)


@partial(jax.custom_jvp, nondiff_argnums=(6,))
def _solve(x0, theta0, mesh, fixed, anchor, tol, config: _Config) -> bvp.NewtonResult:
    """Newton's solution, differentiable in ``fixed`` (the axon's parameters, and the speed
    or period where fixed) and in the anchor (a pinned parameter's value) by the implicit
    function theorem: J (dx, dθ) = -∂F/∂p dp, one more structured solve.  The guess and mesh
    get no derivative: it is the derivative of the discrete solution on its mesh."""
    return _newton(x0, theta0, mesh, fixed, anchor, tol, config)


@_solve.defjvp
def _solve_jvp(config, primals, tangents):
    x0, theta0, mesh, fixed, anchor, tol = primals
    fixed_dot, anchor_dot = tangents[3], tangents[4]
    out = _solve(x0, theta0, mesh, fixed, anchor, tol, config)
    x, theta = jax.lax.stop_gradient((out.x, out.theta))
    _, df = jax.jvp(lambda p, a: _residual(x, theta, mesh, p, a, config), (fixed, anchor), (fixed_dot, anchor_dot))
    system = _linearised(x, theta, mesh, fixed, anchor, config)[1]
    dx, dtheta = bvp.solve_bordered_traced(_with_rhs(system, tuple(-part for part in df)))
    float0 = lambda a: np.zeros(np.shape(a), dtype=jax.dtypes.float0)  # noqa: E731
    zero = jnp.zeros_like(out.step)
    return out, bvp.NewtonResult(dx, dtheta, float0(out.iterations), zero, zero, float0(out.result))


def _tangent(x, theta, mesh, fixed, anchor, config: _Config):
    """The branch's tangent at a solution: J t = 0 with <t, anchor's tangent> = 1, normalised
    (weighted mean over the mesh for x, plain for theta)."""
    f, system = _linearised(x, theta, mesh, fixed, anchor, config)
    rhs = tuple(jnp.zeros_like(part) for part in f[:3]) + (jnp.zeros_like(f[3]).at[-1].set(1.0),)
    tx, tt = bvp.solve_bordered_traced(_with_rhs(system, rhs))
    norm = jnp.sqrt(config.profile_weight * jnp.sum(_weights(mesh)[:, None] * tx * tx) + jnp.sum(tt * tt))
    return tx / norm, tt / norm


_solve_jit = _jit_with_options(_solve, FAST_COMPILE_OPTIONS, static_argnames=("config",))
_tangent_jit = _jit_with_options(_tangent, FAST_COMPILE_OPTIONS, static_argnames=("config",))


def _slopes(x, theta, mesh, fixed, config: _Config):
    """x' (per unit of the mesh coordinate) at the nodes."""
    field = _SYSTEMS[config.kind][0]
    return jax.vmap(field, in_axes=(0, None, None))(x, theta, (fixed, config.free))


_slopes_jit = _jit_with_options(_slopes, FAST_COMPILE_OPTIONS, static_argnames=("config",))


# ----------------------------------------------------------------------------------------
# Meshes, interpolation, and what a profile measures.


def _equidistribute(s, slope, n_intervals: int):
    """A mesh of ``n_intervals`` on [s[0], s[-1]], dense where |V'| is large: the monitor
    1 + 40 (|V'| / max |V'|)^(1/2) is equidistributed (piecewise linear on the samples ``s``)."""
    monitor = 1.0 + 40.0 * jnp.sqrt(jnp.abs(slope) / jnp.max(jnp.abs(slope)))
    cumulative = jnp.concatenate([jnp.zeros(1, s.dtype), jnp.cumsum(0.5 * (monitor[1:] + monitor[:-1]) * jnp.diff(s))])
    mesh = jnp.interp(jnp.linspace(0.0, cumulative[-1], n_intervals + 1), cumulative, s)
    return mesh.at[0].set(s[0]).at[-1].set(s[-1])


def _hermite(mesh, x, slope, at):
    """Piecewise cubic Hermite interpolation of nodes ``x`` (N + 1, d) with derivatives
    ``slope`` at the points ``at`` (fourth-order accurate, like the collocation)."""
    k = jnp.clip(jnp.searchsorted(mesh, at, side="right") - 1, 0, mesh.shape[0] - 2)
    h = mesh[k + 1] - mesh[k]
    t = ((at - mesh[k]) / h)[:, None]
    h = h[:, None]
    return ((2 * t**3 - 3 * t**2 + 1) * x[k] + (t**3 - 2 * t**2 + t) * h * slope[k]
            + (-2 * t**3 + 3 * t**2) * x[k + 1] + (t**3 - t**2) * h * slope[k + 1])


def _hermite_root(z0, z1, v0, v1, w0, w1, target, derivative: bool):
    """Where, in [z0, z1], the cubic Hermite V (or its slope, ``derivative``) equals ``target``
    (Newton from the linear estimate, clipped to the interval)."""
    h = z1 - z0

    def value(t):
        if derivative:
            return ((6 * t**2 - 6 * t) * v0 + (3 * t**2 - 4 * t + 1) * h * w0 + (-6 * t**2 + 6 * t) * v1
                    + (3 * t**2 - 2 * t) * h * w1) / h
        return ((2 * t**3 - 3 * t**2 + 1) * v0 + (t**3 - 2 * t**2 + t) * h * w0 + (-2 * t**3 + 3 * t**2) * v1
                + (t**3 - t**2) * h * w1)

    a, b = (w0, w1) if derivative else (v0, v1)
    t = jnp.clip((target - a) / jnp.where(b == a, 1.0, b - a), 0.0, 1.0)
    for _ in range(8):
        slope = jax.grad(value)(t)
        t = jnp.clip(t - (value(t) - target) / jnp.where(slope == 0, 1.0, slope), 0.0, 1.0)
    return z0 + t * h, value(t)


def _peak_and_width(z, v, w):
    """Peak V (mV) of a profile on nodes ``z`` (ms) with slopes ``w`` (mV/ms), from its cubic
    Hermite interpolant, and the width (ms) above half the peak (first rise to last fall)."""
    k = jnp.argmax(v)
    # The maximum lies in the interval on whose ends the slope changes sign.
    j = jnp.clip(jnp.where(w[k] > 0, k, k - 1), 0, z.shape[0] - 2)
    z_peak, _ = _hermite_root(z[j], z[j + 1], v[j], v[j + 1], w[j], w[j + 1], 0.0, derivative=True)
    s = jnp.clip((z_peak - z[j]) / (z[j + 1] - z[j]), 0.0, 1.0)
    h = z[j + 1] - z[j]
    peak = ((2 * s**3 - 3 * s**2 + 1) * v[j] + (s**3 - 2 * s**2 + s) * h * w[j] + (-2 * s**3 + 3 * s**2) * v[j + 1]
            + (s**3 - s**2) * h * w[j + 1])
    half = 0.5 * peak
    above = v >= half
    n = z.shape[0]
    i_rise = jnp.clip(jnp.argmax(above) - 1, 0, n - 2)
    i_fall = jnp.clip(n - 1 - jnp.argmax(above[::-1]), 0, n - 2)
    z_rise, _ = _hermite_root(z[i_rise], z[i_rise + 1], v[i_rise], v[i_rise + 1], w[i_rise], w[i_rise + 1], half, False)
    z_fall, _ = _hermite_root(z[i_fall], z[i_fall + 1], v[i_fall], v[i_fall + 1], w[i_fall], w[i_fall + 1], half, False)
    return peak, z_fall - z_rise


# ----------------------------------------------------------------------------------------
# One pulse.


class Pulse(NamedTuple):
    """A solitary travelling pulse, solved as a boundary-value problem.

    Attributes:
        z: the mesh (ms of the travelling coordinate z = t - x/u; (N + 1,)).
        profile: the pulse on the mesh (a :class:`jaxneuro.wave.WaveState`: V in mV from rest,
            W = dV/dz in mV/ms, gates n, m, h).
        speed: the pulse's speed (m/s).
        temperature: its temperature (°C).
        peak_v: the highest V of the profile (mV from rest, of its cubic interpolant).
        width: the time (ms) V spends above half of ``peak_v``: times the speed, its length.
        residual: max |F| of the discrete equations at the returned solution.
        iterations: Newton iterations.
        result: int32 code (:mod:`jaxneuro.results`): ``SUCCESSFUL``, ``MAX_ITERATIONS``,
            ``DIVERGED`` (Newton), or the shooting's code where the guess failed
            (``NO_PULSE``...).
    """

    z: Array
    profile: wave.WaveState
    speed: Array
    temperature: Array
    peak_v: Array
    width: Array
    residual: Array
    iterations: Array
    result: Array


#: Step (ms at 18.5 °C, in ζ) of the shooting trajectory the fast pulse's guess is made of.
_GUESS_STEP = 0.002
_GUESS_SEARCH = wave._Search("rk4", 1, 200)


def _clamped_slope(y, params):
    """V' = -I_ion/Cm of a space-clamped membrane in the state (v, w, n, m, h) (mV/ms)."""
    return -membrane.ionic_current(y[0], membrane.Gates(y[2], y[3], y[4]), params) / params.Cm


def _clamped_field(y, params):
    """A space-clamped membrane in the travelling-wave state: V' = -I/Cm, gates as usual (W is
    set from V' after the run)."""
    g = membrane.gate_derivatives(y[0], membrane.Gates(y[2], y[3], y[4]), params)
    return jnp.stack([_clamped_slope(y, params), jnp.zeros_like(y[1]), *g])


def _guess_numeric(axon: Axon):
    """The shooting's options for the guess: one step in ζ everywhere (the search's roots
    depend on the step: the recorded pair must be shot with the same one), and trajectories of
    40 ms at 18.5 °C, scaled like the rates.  Built as :func:`jaxneuro.wave.find_wave_speed`
    builds them, so that the search is its compiled search from rest."""
    phi = _phi(axon.membrane.temperature, axon.membrane)
    return wave._options(branch="fast", dt=_GUESS_STEP / phi, t_stop=40.0 / phi, solver="rk4", amplitude=_AMPLITUDE,
                         rtol=1e-13, sections=1, max_iterations=_GUESS_SEARCH.max_iterations)[0]


def _fast_guess(axon: Axon, n_intervals: int):
    """(mesh in ζ, x on it, speed, shooting code): the shooting pulse, from rest along its
    unstable eigenvector before z = 0 and as shot after it, up to where the trajectories from
    the two ends of the final bracket part (rest beyond); mesh equidistributed on it."""
    return _guess_from(axon, wave._search(axon, None, _guess_numeric(axon), _GUESS_SEARCH), n_intervals)


def _guess_from(axon: Axon, found, n_intervals: int):
    """:func:`_fast_guess` from the search's result ``found``."""
    params = axon.membrane
    phi = _phi(params.temperature, params)
    dt = _GUESS_STEP / phi
    n_record = int(round(_AFTER / _GUESS_STEP))
    # The trajectories from the two ends of the final bracket leave the pulse on opposite
    # sides: their mean is the pulse until they are 1 mV apart (rest beyond).
    lin = wave._linearise(axon)
    gains = wave._gain(found.bracket, lin.diffusion)
    starts = jax.vmap(lambda g: wave._manifold_flat(lin, g, _AMPLITUDE)[0])(gains)
    z_after, pair_ys = jax.vmap(lambda y0, g: wave._record(params, y0, g, dt,
                                                             wave._Record("rk4", n_record, 1)))(starts, gains)
    z_after = z_after[0]
    ys = 0.5 * (pair_ys[0] + pair_ys[1])
    apart = jnp.cumsum(~(jnp.abs(pair_ys[0, :, 0] - pair_ys[1, :, 0]) <= 1.0)) > 0
    rest, pair = _eigen(found.speed[None], _Fixed(axon, 0.0, 0.0), ("speed",))
    # Beyond that, the recovery of a space-clamped membrane (V' = -I_ion/Cm: diffusion dropped,
    # stable) from the last state before they part: close to the pulse's slow tail.
    cut = jnp.maximum(jnp.argmax(apart) - 1, 0)
    tail = integrators.integrate(_clamped_field, ys[cut], dt, n_record, "rk4", 1, args=params)
    tail = tail.at[:, 1].set(jax.vmap(_clamped_slope, in_axes=(0, None))(tail, params))
    index = jnp.arange(n_record + 1)
    tail_at = tail[jnp.clip(index - cut, 0, n_record)]
    ys = jnp.where(apart[:, None], tail_at, ys)
    n_before = int(round(_BEFORE / _GUESS_STEP))
    zeta_before = jnp.linspace(-_BEFORE, 0.0, n_before, endpoint=False)
    before = rest + _AMPLITUDE * jnp.exp(pair.value * zeta_before / phi)[:, None] * pair.right
    zeta = jnp.concatenate([zeta_before, z_after * phi])
    y = jnp.concatenate([before, ys])
    mesh = _equidistribute(zeta, y[:, 1], n_intervals)
    x = jnp.stack([jnp.interp(mesh, zeta, y[:, i]) for i in range(5)], axis=1)
    return mesh, x, found.speed, found.result


def _pulse_result(mesh, out: bvp.NewtonResult, axon, code) -> Pulse:
    params = axon.membrane
    speed = out.theta[0]
    z = mesh / _phi(params.temperature, params)
    peak, width = _peak_and_width(z, out.x[:, 0], out.x[:, 1])
    result = results.first_failure(code, out.result)
    ok = result == results.SUCCESSFUL
    nan = lambda a: jnp.where(ok, a, jnp.nan)  # noqa: E731
    return Pulse(z, wave._unflat(nan(out.x)), nan(speed), jnp.asarray(params.temperature, float), nan(peak),
                 nan(width), out.residual, out.iterations, result)


#: The system of every pulse solve: the continuation's in (speed, temperature).
_PINNED = ("pulse", ("speed", "temperature"))


def _pinned(axon: Axon, mesh, x0, speed0, tol, max_iterations: int) -> bvp.NewtonResult:
    """Newton for the pulse at ``axon`` from the guess ``x0`` (on ``mesh``, ζ) and ``speed0``
    (m/s), on the continuation's system in (speed, temperature) with its arclength row pinning
    the temperature to the axon's (θ_T - T = 0) and the phase fixed against the guess: the
    fast pulse, the branch's first point, the slow pulse's polish and every step of a
    continuation in temperature run one compiled corrector per mesh size and Newton cap.  The
    guess is a constant: the derivatives (the temperature's through the pin) are the
    solution's implicit ones."""
    config = _Config(*_PINNED, max_iterations)
    mesh, x0, speed0 = jax.lax.stop_gradient((mesh, x0, jnp.asarray(speed0, float)))
    temperature = jnp.asarray(axon.membrane.temperature, float)
    fixed = _Fixed(axon, jnp.zeros(()), jnp.zeros(()))
    guess = jnp.stack([speed0, jax.lax.stop_gradient(temperature)])
    slope = _slopes_jit(x0, guess, mesh, jax.lax.stop_gradient(fixed), config=config)[:, :5]
    anchor = _Anchor(x0[:, :5], slope, x0, jnp.stack([speed0, temperature]), jnp.zeros_like(x0),
                     jnp.asarray([0.0, 1.0], x0.dtype))
    return _solve_jit(x0, guess, mesh, fixed, anchor, tol, config=config)


_guess_from_jit = jax.jit(_guess_from, static_argnames=("n_intervals",))
_pulse_result_jit = jax.jit(_pulse_result)


def _fast_pulse(axon: Axon, tol, n_intervals: int, max_iterations: int) -> Pulse:
    """The fast pulse: the shooting (:func:`jaxneuro.wave.find_wave_speed`'s compiled search
    from rest), the guess made from it, then the solve (a few programs when called eagerly,
    one when traced)."""
    constant = jax.lax.stop_gradient(axon)
    found = wave._search_one(constant, None, _guess_numeric(constant), config=_GUESS_SEARCH)
    mesh, x0, speed, code = _guess_from_jit(constant, found, n_intervals=n_intervals)
    return _pulse_result_jit(mesh, _pinned(axon, mesh, x0, speed, tol, max_iterations), axon, code)


def _check_one_axon(axon, name="solve_pulse") -> Axon:
    if wave._check_axon(axon) != ():
        raise ValueError(f"{name} takes one axon (no batch leaves): use jax.vmap for many")
    return wave._as_float(axon)


def _check_solver_options(tol, n_intervals, max_iterations) -> None:
    validation.check_number("tol", tol, positive=True, scalar=True, upper=1e-3)
    validation.check_integer("n_intervals", n_intervals, minimum=16)
    validation.check_integer("max_iterations", max_iterations, minimum=1)


def _raise(result, what, throw):
    if throw:
        results.raise_if_failed(result, what)


def solve_pulse(axon: Axon = Axon(), *, tol: float = 1e-12, n_intervals: int = 2000, max_iterations: int = 20,
                throw: bool = True) -> Pulse:
    """The fast (stable) travelling pulse as a boundary-value problem.

    The shooting pulse (:func:`jaxneuro.wave.find_wave_speed`) is the guess; the mesh is
    equidistributed on it (dense on the upstroke), over z from -14/φ to 40/φ ms around the
    upstroke (φ = q10^((T - 18.5)/10): long enough for the slowest decay of rest), and Newton
    solves the collocation equations with projection boundary conditions and a phase condition
    for the profile and the speed.  Fourth order in the mesh: the speed agrees with shooting to
    ~1e-11 relative at the default mesh.  Compiles once per ``n_intervals`` and
    ``max_iterations``; works under ``jit`` and ``vmap``, and ``jax.grad`` of the speed (or of
    any field) w.r.t. the axon's parameters is the implicit derivative of the discrete
    solution (one more structured solve, nothing differentiated through Newton).

    Args:
        axon: one axon (radius µm, ρ Ω·cm, membrane parameters incl. temperature °C).
        tol: Newton stops when its correction is below ``tol`` × (1 + max |x|).
        n_intervals: mesh intervals (the error falls like n_intervals⁻⁴).
        max_iterations: cap on Newton iterations.
        throw: raise :class:`jaxneuro.results.NumericalError` (eager calls) on failure; with
            ``False`` the fields are NaN and ``result`` says why.

    Returns:
        A :class:`Pulse`.

    Examples:
        >>> import jaxneuro as jn
        >>> from jaxneuro import pulses
        >>> pulse = pulses.solve_pulse(jn.cooley_dodge_axon(), n_intervals=800)
        >>> round(float(pulse.speed), 6), round(float(pulse.peak_v), 2)
        (18.728879, 90.58)
    """
    axon = _check_one_axon(axon)
    _check_solver_options(tol, n_intervals, max_iterations)
    pulse = _fast_pulse(axon, jnp.asarray(tol, float), n_intervals=int(n_intervals),
                            max_iterations=int(max_iterations))
    _raise(pulse.result, "travelling pulse (boundary-value problem)", throw and results.is_concrete(pulse.result))
    return pulse


# ----------------------------------------------------------------------------------------
# Continuation in temperature (or another parameter) through the fold.


class PulseBranch(NamedTuple):
    """A branch of solitary pulses from pseudo-arclength continuation (host arrays).

    Attributes:
        parameter: name of the continuation parameter (``"temperature"``, ``"gNa"``...).
        values: the parameter along the branch (°C for temperature; the field's unit).
        speed: pulse speed at each point (m/s).
        peak_v: peak V at each point (mV from rest).
        fast: True on the fast (upper, stable) side of the fold, False beyond it (the slow
            pulse, unstable).
        fold_value: the parameter at the fold, refined (NaN if the branch has none).
        fold_speed: the speed at the fold (m/s).
        iterations: Newton iterations of each point.
        result: int32 code: ``SUCCESSFUL``, or the code of the step that could not be taken
            even at the smallest arclength step (the branch stops there).
        mesh: the fixed mesh in ζ = φ(T) z of the walk (1-D).
        states: each point's profile on that mesh (points, mesh, 5: V, W, n, m, h): what
            :func:`slow_pulse` polishes (``branch=``) instead of walking the branch again.
    """

    parameter: str
    values: np.ndarray
    speed: np.ndarray
    peak_v: np.ndarray
    fast: np.ndarray
    fold_value: float
    fold_speed: float
    iterations: np.ndarray
    result: int
    mesh: np.ndarray = None
    states: np.ndarray = None


class _Point(NamedTuple):
    x: Array
    theta: Array
    tangent_x: Array
    tangent_theta: Array


def _peak(mesh, x, axon, parameter, value):
    temperature = value if parameter == "temperature" else axon.membrane.temperature
    return _peak_and_width(mesh / _phi(temperature, axon.membrane), x[:, 0], x[:, 1])[0]


_peak_jit = jax.jit(_peak, static_argnames=("parameter",))


class _Continuation:
    """The corrector steps of pseudo-arclength continuation in (speed, parameter) on a fixed
    mesh; one compiled corrector and tangent per mesh size, whatever the number of points."""

    def __init__(self, axon, mesh, parameter, tol, max_iterations):
        self.axon, self.mesh, self.parameter, self.tol = axon, mesh, parameter, jnp.asarray(tol, float)
        self.fixed = _Fixed(axon, jnp.zeros(()), jnp.zeros(()))
        self.config = _Config("pulse", ("speed", parameter), max_iterations)

    def anchor(self, reference: _Point, predicted_x, predicted_theta):
        slope = _slopes_jit(reference.x, reference.theta, self.mesh, self.fixed, config=self.config)[:, :5]
        return _Anchor(reference.x[:, :5], slope, predicted_x, predicted_theta, reference.tangent_x,
                       reference.tangent_theta)

    def tangent(self, x, theta, along: _Point) -> _Point:
        anchor = self.anchor(_Point(x, theta, along.tangent_x, along.tangent_theta), x, theta)
        tx, tt = _tangent_jit(x, theta, self.mesh, self.fixed, anchor, config=self.config)
        return _Point(x, theta, tx, tt)

    def step(self, point: _Point, ds):
        """(new point with its tangent, or None; Newton's result)."""
        px, pt = point.x + ds * point.tangent_x, point.theta + ds * point.tangent_theta
        out = _solve_jit(px, pt, self.mesh, self.fixed, self.anchor(point, px, pt), self.tol, config=self.config)
        if int(out.result) != results.SUCCESSFUL:
            return None, out
        return self.tangent(out.x, out.theta, point), out


def _refine_fold(cont: _Continuation, point: _Point, ds: float, g0: float, g1: float, iterations=30):
    """The fold between ``point`` (σ = 0) and the step ``ds`` beyond it, where the tangent's
    parameter component g(σ) changes sign: Illinois (modified regula falsi) iterations on σ,
    each a corrector solve from ``point``.  Returns the point at the last σ."""
    a, b, ga, gb = 0.0, ds, g0, g1
    best = None
    for _ in range(iterations):
        sigma = (a * gb - b * ga) / (gb - ga)
        new, _ = cont.step(point, sigma)
        if new is None:
            break
        best, g = new, float(new.tangent_theta[1])
        if g * gb < 0:
            a, ga = b, gb
        else:
            ga *= 0.5
        b, gb = sigma, g
        if abs(b - a) < 1e-10 * abs(ds) or g == 0.0:
            break
    return best


def _continue(cont: _Continuation, start: _Point, *, ds, ds_max, max_points, lower, upper, stop=None):
    """Walk the branch from ``start`` (with its oriented tangent).  ``stop(previous, point)``
    may end the walk after a point.  Returns (points, iterations, fold point or None, code)."""
    from tqdm.auto import tqdm

    points, iterations, fold, code = [start], [0], None, results.SUCCESSFUL
    point, step = start, ds
    bar = tqdm(total=max_points, initial=1, unit="point", desc=f"continuation in {cont.parameter}", leave=False,
               disable=None)  # a bar on a terminal only
    while len(points) < max_points:
        new, out = cont.step(point, step)
        if new is None:
            step *= 0.5
            if step < ds * 1e-3:
                code = int(out.result)
                break
            continue
        g0, g1 = float(point.tangent_theta[1]), float(new.tangent_theta[1])
        if fold is None and g0 * g1 < 0:
            fold = _refine_fold(cont, point, step, g0, g1)
        points.append(new)
        bar.update(1)
        iterations.append(int(out.iterations))
        point = new
        if int(out.iterations) <= 3:
            step = min(step * 1.5, ds_max)
        value = float(new.theta[1])
        if not lower <= value <= upper or (stop is not None and stop(points[-2], new)):
            break
    bar.close()
    return points, iterations, fold, code


def _branch_start(axon, n_intervals, tol, max_iterations, parameter, direction):
    """The fast pulse solved at the axon's parameters, as the branch's first point with its
    tangent oriented so that ``parameter`` moves in ``direction`` (+1 / -1)."""
    pulse = _fast_pulse(axon, jnp.asarray(tol, float), n_intervals=n_intervals, max_iterations=max_iterations)
    results.raise_if_failed(pulse.result, "the fast pulse at the start of the branch")
    params = axon.membrane
    mesh = pulse.z * _phi(params.temperature, params)
    value = getattr(axon, parameter) if parameter in _AXON_FIELDS else getattr(params, parameter)
    cont = _Continuation(axon, mesh, parameter, tol, max_iterations)
    x, theta = wave._flat(pulse.profile), jnp.stack([pulse.speed, jnp.asarray(value, float)])
    seed = _Point(x, theta, jnp.zeros_like(x), jnp.asarray([0.0, float(direction)]))
    return cont, cont.tangent(x, theta, seed)


def continue_pulses(axon: Axon = Axon(), *, parameter: str = "temperature", lower: float = -10.0,
                    upper: float = 50.0, direction: int = +1, max_points: int = 100, ds: float = 0.5,
                    ds_max: float = 3.0, n_intervals: int = 1500, tol: float = 1e-11, max_iterations: int = 12
                    ) -> PulseBranch:
    """Continue the fast pulse in one parameter by pseudo-arclength continuation, through folds.

    Starting from :func:`solve_pulse` at ``axon``, each point is predicted along the branch's
    tangent and corrected by Newton with the arclength condition (unknowns: the profile, the
    speed and the parameter), on a fixed mesh in ζ = φ(T) z.  Where the tangent's parameter
    component changes sign the branch has turned: that fold is refined by secant iterations
    on the arclength (to ~1e-10 in the parameter), and points beyond it are marked
    ``fast=False`` (the slow pulse).  A host-side driver: each step calls one compiled corrector
    (compiled once per mesh size and parameter).

    Args:
        axon: the start (one axon; its ``parameter`` value is the first point).
        parameter: ``"temperature"`` (°C) or a field of the axon / membrane (``"gNa"``,
            ``"radius"``, ...).
        lower, upper: the walk stops when the parameter leaves [lower, upper].
        direction: +1 to start towards larger values of the parameter, -1 towards smaller.
        max_points: most points on the branch (the start included).
        ds, ds_max: first and largest arclength step (weighted norm: mean square over the
            mesh for the profile, plain for speed (m/s) and parameter).
        n_intervals, tol, max_iterations: as in :func:`solve_pulse`.

    Returns:
        A :class:`PulseBranch` (host NumPy arrays).

    Examples:
        >>> import jaxneuro as jn
        >>> from jaxneuro import pulses
        >>> branch = pulses.continue_pulses(jn.cooley_dodge_axon(), max_points=4, n_intervals=600)
        >>> bool(branch.values[-1] > 18.5), bool(branch.speed[-1] > branch.speed[0])
        (True, True)
    """
    axon = _check_one_axon(axon, "continue_pulses")
    validation.check_choice("parameter", parameter, PARAMETERS)
    validation.check_number("lower", lower, scalar=True)
    validation.check_number("upper", upper, scalar=True)
    if not float(lower) < float(upper):
        raise ValueError(f"lower ({lower}) must be below upper ({upper})")
    if direction not in (1, -1) or isinstance(direction, bool):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    validation.check_integer("max_points", max_points, minimum=2)
    validation.check_number("ds", ds, positive=True, scalar=True)
    validation.check_number("ds_max", ds_max, positive=True, scalar=True)
    _check_solver_options(tol, n_intervals, max_iterations)
    cont, start = _branch_start(axon, int(n_intervals), tol, int(max_iterations), parameter, direction)
    points, iterations, fold, code = _continue(cont, start, ds=float(ds), ds_max=float(ds_max),
                                               max_points=int(max_points), lower=float(lower), upper=float(upper))
    return _branch(cont, points, iterations, fold, code)


def _branch(cont: _Continuation, points, iterations, fold, code) -> PulseBranch:
    values = np.array([float(p.theta[1]) for p in points])
    speeds = np.array([float(p.theta[0]) for p in points])
    peaks = np.array([float(_peak_jit(cont.mesh, p.x, cont.axon, parameter=cont.parameter, value=p.theta[1]))
                      for p in points])
    turned = np.cumsum(np.r_[0, np.sign([float(p.tangent_theta[1]) for p in points[1:]])
                              != np.sign(float(points[0].tangent_theta[1]))]) > 0
    fold_value = float(fold.theta[1]) if fold is not None else np.nan
    fold_speed = float(fold.theta[0]) if fold is not None else np.nan
    return PulseBranch(cont.parameter, values, speeds, peaks, ~turned, fold_value, fold_speed,
                       np.array(iterations), int(code), np.asarray(cont.mesh), np.stack([np.asarray(p.x) for p in points]))


def _remeshed(axon: Axon, mesh, x, theta, n_intervals: int):
    """(mesh equidistributed on the pulse ``x`` (on ``mesh``, with ``theta`` = (speed,
    temperature)), ``x`` interpolated onto it)."""
    config = _Config(*_PINNED, 1)
    slope = _slopes(x, theta, mesh, _Fixed(axon, jnp.zeros(()), jnp.zeros(())), config)
    new_mesh = _equidistribute(mesh, slope[:, 0], n_intervals)
    return new_mesh, _hermite(mesh, x, slope, new_mesh)


_remeshed_jit = _jit_with_options(_remeshed, FAST_COMPILE_OPTIONS, static_argnames=("n_intervals",))


def _polish(axon: Axon, mesh, x0, speed0, tol, n_intervals: int, max_iterations: int) -> Pulse:
    """Solve for the pulse at ``axon`` from a guess on ``mesh`` (ζ), then again on a mesh
    equidistributed on that solution: the accurate pulse, whatever mesh the guess came on."""
    constant = jax.lax.stop_gradient(axon)  # the first solve and the remesh only make the guess
    first = _pinned(constant, mesh, x0, speed0, tol, max_iterations)
    new_mesh, x1 = _remeshed_jit(constant, mesh, first.x, first.theta, n_intervals=n_intervals)
    return _pulse_result_jit(new_mesh, _pinned(axon, new_mesh, x1, first.theta[0], tol, max_iterations), axon,
                             first.result)


def _slow_side_ends(branch: PulseBranch, target: float):
    """The branch's two consecutive slow-side points with temperatures either side of
    ``target`` (°C), as ((state, (speed, value)), ...); None where the branch has none."""
    if branch.parameter != "temperature" or branch.states is None:
        raise ValueError("branch must come from continue_pulses in temperature (with its states)")
    values, slow = np.asarray(branch.values), ~np.asarray(branch.fast)
    for i in range(1, values.size):
        if slow[i] and slow[i - 1] and values[i] <= target <= values[i - 1]:
            return tuple((jnp.asarray(branch.states[k]), (float(branch.speed[k]), float(values[k]))) for k in (i - 1, i))
    return None


def _no_slow_pulse(target: float, code: int, n_intervals: int, throw: bool) -> Pulse:
    if throw:
        raise results.NumericalError(f"slow pulse: the slow branch did not reach {target} °C "
                                     f"({results.message(code)})", code)
    nan = jnp.asarray(np.nan)
    n = int(n_intervals) + 1
    return Pulse(jnp.full(n, np.nan), wave.WaveState(*([jnp.full(n, np.nan)] * 5)), nan, jnp.asarray(target),
                 nan, nan, nan, jnp.asarray(0), jnp.asarray(code, jnp.int32))


def slow_pulse(axon: Axon = Axon(), *, start: float = 6.3, n_intervals: int = 2000, tol: float = 1e-12,
               max_iterations: int = 20, ds: float = 1.0, ds_max: float = 4.0, max_points: int = 200,
               branch: PulseBranch = None, throw: bool = True) -> Pulse:
    """The slow (unstable) solitary pulse at the axon's temperature.

    The fast pulse at ``start`` °C is continued in temperature (:func:`continue_pulses`) up
    through the fold where it meets the slow pulse and back down the slow branch to the
    axon's temperature; the point there is solved with the temperature fixed, then again on a
    mesh equidistributed on it (n_intervals).  Not the shooting's second root
    (:func:`jaxneuro.wave.find_wave_speed` with ``branch="train_front"``, 5.5445 m/s at 18.5 °C
    against this pulse's 5.6268 m/s), whose trajectory leaves rest and settles on a wave train.
    A host-side driver: the continuation's compiled corrector makes the final solves too (the
    temperature pinned), and a small program moves the guess onto the new mesh.

    Args:
        axon: one axon; its temperature (°C) is where the slow pulse is wanted.
        start: temperature (°C) of the fast pulse the continuation starts from, below the fold.
        n_intervals, tol, max_iterations: of the final solve (the continuation uses 1500
            intervals).
        ds, ds_max, max_points: of the continuation (see :func:`continue_pulses`).
        branch: a temperature branch of :func:`continue_pulses` for the same axon that already
            turned at the fold and came back down past the axon's temperature: its two points
            either side of that temperature on the slow side start the final solve, and no
            branch is walked again (``start``, ``ds``, ``ds_max``, ``max_points`` are then unused).
        throw: raise :class:`jaxneuro.results.NumericalError` on failure (``NO_PULSE``: the
            slow branch does not reach the temperature, e.g. above the fold).

    Returns:
        A :class:`Pulse` on the slow branch.
    """
    axon = _check_one_axon(axon, "slow_pulse")
    validation.check_temperature("start", start)
    _check_solver_options(tol, n_intervals, max_iterations)
    validation.check_integer("max_points", max_points, minimum=2)
    target = float(axon.membrane.temperature)
    if float(start) >= target:
        raise ValueError(f"start ({start} °C) must be below the axon's temperature ({target} °C): the branch is "
                         "followed upwards from the fast pulse at start, through the fold, and back down")
    if branch is not None:
        ends = _slow_side_ends(branch, target)
        if ends is None:
            return _no_slow_pulse(target, results.NO_PULSE, n_intervals, throw)
        mesh, (xa, ta), (xb, tb) = jnp.asarray(branch.mesh), *ends
    else:
        cont, first = _branch_start(_with(axon, "temperature", jnp.asarray(float(start))), 1500, tol, 12,
                                    "temperature", +1)

        def below_on_slow_side(previous, point):
            return float(point.tangent_theta[1]) < 0 and float(point.theta[1]) <= target

        points, _, _, code = _continue(cont, first, ds=float(ds), ds_max=float(ds_max), max_points=int(max_points),
                                       lower=-273.15, upper=50.0, stop=below_on_slow_side)
        if len(points) < 2 or not below_on_slow_side(points[-2], points[-1]):
            return _no_slow_pulse(target, code if code != results.SUCCESSFUL else results.NO_PULSE, n_intervals, throw)
        mesh = cont.mesh
        (xa, ta), (xb, tb) = ((p.x, (float(p.theta[0]), float(p.theta[1]))) for p in points[-2:])
    alpha = (target - ta[1]) / (tb[1] - ta[1])
    x0 = xa + alpha * (xb - xa)
    speed0 = jnp.asarray(ta[0] + alpha * (tb[0] - ta[0]))
    pulse = _polish(axon, mesh, x0, speed0, jnp.asarray(tol, float), n_intervals=int(n_intervals),
                        max_iterations=int(max_iterations))
    _raise(pulse.result, "slow pulse (boundary-value problem)", throw)
    return pulse


# ----------------------------------------------------------------------------------------
# Wave trains and the dispersion curve.


class Dispersion(NamedTuple):
    """Periodic travelling waves (wave trains) along their branch (host arrays).

    Attributes:
        temperature: °C.
        period: temporal period at a point of the axon (ms).
        speed: speed of the train (m/s).
        wavelength: speed × period (mm).
        peak_v: highest V of a train (mV from rest).
        fast: True on the fast side of the fold in period (the branch that becomes the fast
            solitary pulse as the period grows), False beyond it.
        pulse_speed: the solitary fast pulse's speed the curve starts from (m/s).
        min_period: the shortest period on the branch (ms; at its fold, to the step size).
        result: int32 code of the walk (``SUCCESSFUL``, or why it stopped early).
    """

    temperature: float
    period: np.ndarray
    speed: np.ndarray
    wavelength: np.ndarray
    peak_v: np.ndarray
    fast: np.ndarray
    pulse_speed: float
    min_period: float
    result: int


#: Weight of a train's profile (mean square over the mesh, mV²) against the speed (m/s) and
#: period (ms) in the arclength norm.
_TRAIN_PROFILE_WEIGHT = 1e-3


def _remesh(mesh, x, theta, tangent_x, fixed, config: _Config, n_intervals: int):
    """A new mesh equidistributed on the train's V', the state moved onto it (cubic Hermite),
    the tangent's profile too (linear: it only steers the next prediction)."""
    slope = _slopes(x, theta, mesh, fixed, config)
    new_mesh = _equidistribute(mesh, slope[:, 0], n_intervals)
    new_x = _hermite(mesh, x, slope, new_mesh)
    new_t = jax.vmap(lambda column: jnp.interp(new_mesh, mesh, column), in_axes=1, out_axes=1)(tangent_x)
    return new_mesh, new_x, new_t


_remesh_jit = _jit_with_options(_remesh, FAST_COMPILE_OPTIONS, static_argnames=("config", "n_intervals"))


class _Walk(NamedTuple):
    points: list  # (period ms, speed m/s, peak mV)
    slopes_of_period: list  # the tangent's period component at each point
    code: int
    pulse: Pulse
    mesh: Array  # the last train: mesh (s), state, (speed, period)
    x: Array
    theta: Array
    fixed: _Fixed
    anchor: object  # anchor(x, theta, px, pt, tx, tt) on the last mesh
    config: _Config


def _walk_trains(axon, n_intervals, tol, max_iterations, ds, ds_max, max_points, min_period, stop=None) -> _Walk:
    """Continuation of wave trains from the solitary pulse towards shorter periods (see
    :func:`dispersion_curve`); ``stop(speed, turned)`` may end it after a train."""
    n = n_intervals
    pulse = _fast_pulse(axon, jnp.asarray(tol, float), n_intervals=n, max_iterations=max_iterations)
    results.raise_if_failed(pulse.result, "the fast pulse the dispersion curve starts from")
    z = pulse.z
    period0 = z[-1] - z[0]
    mesh = (z - z[0]) / period0
    profile = wave._flat(pulse.profile)
    x = jnp.concatenate([profile, jnp.broadcast_to(profile[0], profile.shape)], axis=1)
    fixed = _Fixed(axon, jnp.zeros(()), jnp.zeros(()))
    # The profile in s = z/P changes wholesale with P (the pulse moves and shrinks in s): it
    # weighs little in the arclength, or the steps in period would be tiny.
    config = _Config("train", ("speed", "period"), max_iterations, _TRAIN_PROFILE_WEIGHT)
    tol = jnp.asarray(tol, float)

    def anchor(x, theta, px, pt, tx, tt):
        slope = _slopes_jit(x, theta, mesh, fixed, config=config)[:, :5]
        return _Anchor(x[:, :5], slope, px, pt, tx, tt)

    theta = jnp.stack([pulse.speed, period0])
    # The first tangent, towards shorter periods.
    tx, tt = _tangent_jit(x, theta, mesh, fixed, anchor(x, theta, x, theta, jnp.zeros_like(x), jnp.asarray([0.0, -1.0])),
                          config=config)
    points = [(float(theta[1]), float(theta[0]), float(pulse.peak_v))]
    slopes_of_period = [float(tt[1])]
    step, code = ds, results.SUCCESSFUL
    while len(points) < max_points:
        px, pt = x + step * tx, theta + step * tt
        out = _solve_jit(px, pt, mesh, fixed, anchor(x, theta, px, pt, tx, tt), tol, config=config)
        if int(out.result) != results.SUCCESSFUL:
            step *= 0.5
            if step < ds * 1e-3:
                code = int(out.result)
                break
            continue
        new_tx, new_tt = _tangent_jit(out.x, out.theta, mesh, fixed,
                                      anchor(out.x, out.theta, out.x, out.theta, tx, tt), config=config)
        mesh, x, tx = _remesh_jit(mesh, out.x, out.theta, new_tx, fixed, config=config, n_intervals=n)
        theta, tt = out.theta, new_tt
        z_nodes = mesh * theta[1]
        peak = float(_peak_and_width(z_nodes, x[:, 0], x[:, 1])[0])
        points.append((float(theta[1]), float(theta[0]), peak))
        slopes_of_period.append(float(tt[1]))
        if int(out.iterations) <= 3:
            step = min(step * 1.5, ds_max)
        if not min_period <= float(theta[1]) <= float(period0) + 1e-9:
            break
        if stop is not None and stop(float(theta[0]), float(tt[1]) * slopes_of_period[0] < 0):
            break
    return _Walk(points, slopes_of_period, code, pulse, mesh, x, theta, fixed, anchor, config)


def dispersion_curve(axon: Axon = Axon(), *, min_period: float = 2.0, max_points: int = 60,
                     n_intervals: int = 1000, ds: float = 0.5, ds_max: float = 4.0, tol: float = 1e-11,
                     max_iterations: int = 12) -> Dispersion:
    """Speed against period of the axon's wave trains, by continuation from the solitary pulse.

    The fast pulse (:func:`solve_pulse`) on its interval of length P0 = 54/φ ms (φ the rates'
    Q10 factor relative to 18.5 °C) is, to ~1e-7 mV, a wave train of period P0: periodic
    boundary conditions (the state at s = 0 carried to s = 1 as a constant part of an augmented
    state), a phase condition, and pseudo-arclength continuation in (speed, period) towards
    shorter periods, through the fold at the shortest period and back along the slow side,
    until ``max_points`` or the period leaves [min_period, P0].  The mesh (in s = z / P) is
    equidistributed on every new train.  A host-side driver: one compiled corrector, tangent
    and remeshing per mesh size.

    Args:
        axon: one axon (its temperature, °C, is the curve's).
        min_period: the walk stops below this period (ms).
        max_points: most trains on the curve (the pulse's included).
        n_intervals: mesh intervals.
        ds, ds_max: first and largest arclength step (mean square over the mesh for the
            profile, plain for speed m/s and period ms).
        tol, max_iterations: Newton's, as in :func:`solve_pulse`.

    Returns:
        A :class:`Dispersion`.
    """
    axon = _check_one_axon(axon, "dispersion_curve")
    validation.check_number("min_period", min_period, positive=True, scalar=True, unit="ms")
    validation.check_integer("max_points", max_points, minimum=2)
    validation.check_number("ds", ds, positive=True, scalar=True)
    validation.check_number("ds_max", ds_max, positive=True, scalar=True)
    _check_solver_options(tol, n_intervals, max_iterations)
    walk = _walk_trains(axon, int(n_intervals), tol, int(max_iterations), float(ds), float(ds_max), int(max_points),
                        float(min_period))
    points, slopes_of_period, code, pulse = walk.points, walk.slopes_of_period, walk.code, walk.pulse
    period, speed, peak = (np.array(column) for column in zip(*points))
    turned = np.cumsum(np.sign(slopes_of_period) != np.sign(slopes_of_period[0])) > 0
    temperature = float(axon.membrane.temperature)
    return Dispersion(temperature, period, speed, speed * period * 1e-3, peak, ~turned, float(pulse.speed),
                      float(period.min()), int(code))


class WaveTrain(NamedTuple):
    """One periodic travelling wave (host values; profile arrays on the mesh).

    Attributes:
        period: temporal period at a point of the axon (ms).
        speed: speed (m/s).
        wavelength: speed × period (mm).
        z: the mesh over one period (ms).
        profile: V (mV from rest), W (mV/ms), n, m, h over one period (:class:`jaxneuro.wave.WaveState`).
        peak_v, trough_v: highest and lowest V (mV from rest).
        residual: max |F| of the discrete equations.
        result: int32 code.
    """

    period: float
    speed: float
    wavelength: float
    z: np.ndarray
    profile: wave.WaveState
    peak_v: float
    trough_v: float
    residual: float
    result: int


def wave_train(axon: Axon = Axon(), speed: float = 5.5445, *, n_intervals: int = 1000, tol: float = 1e-11,
               max_iterations: int = 12, ds: float = 0.5, ds_max: float = 2.0, max_points: int = 200,
               throw: bool = True) -> WaveTrain:
    """The wave train of the slow side of the dispersion curve that travels at ``speed`` (m/s).

    The dispersion curve (:func:`dispersion_curve`) is walked from the solitary pulse through its
    shortest period until its slow side passes ``speed``; the train there is then solved with
    the speed fixed and the period unknown.  This is the train that the shooting's second root
    (``wave.find_wave_speed(branch="train_front")``) runs onto.  A host-side driver.

    Args:
        axon: one axon.
        speed: the train's speed (m/s), below the speed at the curve's shortest period.
        n_intervals, tol, max_iterations, ds, ds_max, max_points: as in :func:`dispersion_curve`.
        throw: raise :class:`jaxneuro.results.NumericalError` on failure (``NO_PULSE``: the slow
            side never reaches ``speed``).

    Returns:
        A :class:`WaveTrain`.
    """
    axon = _check_one_axon(axon, "wave_train")
    validation.check_number("speed", speed, positive=True, scalar=True, unit="m/s")
    _check_solver_options(tol, n_intervals, max_iterations)
    validation.check_integer("max_points", max_points, minimum=2)
    target = float(speed)
    walk = _walk_trains(axon, int(n_intervals), tol, int(max_iterations), float(ds), float(ds_max), int(max_points),
                        0.0, stop=lambda u, turned: turned and u < target)
    code = walk.code
    turned = np.sign(walk.slopes_of_period[-1]) != np.sign(walk.slopes_of_period[0])
    if code == results.SUCCESSFUL and not (turned and walk.points[-1][1] < target):
        code = results.NO_PULSE
    out = None
    if code == results.SUCCESSFUL:
        fixed = walk.fixed._replace(speed=jnp.asarray(target))
        config = _Config("train", ("period",), int(max_iterations))
        theta = walk.theta[1:]
        slope = _slopes_jit(walk.x, theta, walk.mesh, fixed, config=config)[:, :5]
        anchor = _Anchor(walk.x[:, :5], slope, walk.x, theta, jnp.zeros_like(walk.x), jnp.zeros_like(theta))
        out = _solve_jit(walk.x, theta, walk.mesh, fixed, anchor, jnp.asarray(tol, float), config=config)
        code = int(out.result)
    if code != results.SUCCESSFUL:
        if throw:
            raise results.NumericalError(f"wave train at {target} m/s: {results.message(code)}", code)
        nan = float("nan")
        return WaveTrain(nan, target, nan, np.array([]), wave.WaveState(*[np.array([])] * 5), nan, nan, nan, code)
    period = float(out.theta[0])
    z = np.asarray(walk.mesh) * period
    x = np.asarray(out.x)
    peak = float(_peak_and_width(jnp.asarray(z), out.x[:, 0], out.x[:, 1])[0])
    return WaveTrain(period, target, target * period * 1e-3, z, wave.WaveState(*(x[:, i] for i in range(5))), peak,
                     float(x[:, 0].min()), float(out.residual), code)
