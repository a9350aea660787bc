"""The excitatory/inhibitory population oscillator and its phase plane.

The notebook ``population_oscillator_notebook.txt``'s model, with a tanh sigmoid:

    dx/dt = τ_ex (h_ex - x - c2 tanh(y) + c_EE tanh(x))       x: excitatory activity
    dy/dt = τ_in (h_in - y - c4 tanh(y) + c_EI tanh(x))       y: inhibitory activity

(the notebook's "tau" factors multiply the rates).  Two presets: ``"homoclinic"``
(h_ex -7, h_in -4, (τ_ex, τ_in, c2, c4, c_EE, c_EI) = (1, 2.5, 10, 0, 5, 10)) and ``"snic"``
(h_ex -7.1, h_in -4, (1, 1.5, 10, 0, 5, 10)).

Simulation: an adaptive, error-controlled solver (diffrax, Tsit5 by default) with dense output
at the requested sampling, or fixed-step RK4 (:mod:`jaxneuro.integrators`).  Phase plane: the
vector field and speed on any grid (vmapped), the nullclines as exact curves, every fixed point
in a window (the y-nullcline is solved for y at each x, which reduces the fixed points to the
roots of one function of x: bracketed on a fine grid, then refined by Newton), their Jacobians
by autodiff, eigenvalues and types, and the saddle-node of fixed points solved exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import integrators

Array = jax.Array


class PopulationParams(NamedTuple):
    """Inputs and coupling of the E/I oscillator (a pytree; leaves may be batch arrays)."""

    h_ex: ArrayLike = -7.0
    h_in: ArrayLike = -4.0
    tau_ex: ArrayLike = 1.0
    tau_in: ArrayLike = 2.5
    c2: ArrayLike = 10.0
    c4: ArrayLike = 0.0
    c_EE: ArrayLike = 5.0
    c_EI: ArrayLike = 10.0


PRESETS = {
    "homoclinic": PopulationParams(-7.0, -4.0, 1.0, 2.5, 10.0, 0.0, 5.0, 10.0),
    "snic": PopulationParams(-7.1, -4.0, 1.0, 1.5, 10.0, 0.0, 5.0, 10.0),
}
#: The notebook's initial condition for the homoclinic run.
HOMOCLINIC_START = (1.088, 1.071)


def preset(name: str) -> PopulationParams:
    """The notebook's parameter sets: ``"homoclinic"`` or ``"snic"``."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
    return PRESETS[name]


def validate(params: PopulationParams) -> None:
    """``ValueError`` for non-finite parameters or non-positive rates τ."""
    if not isinstance(params, PopulationParams):
        raise ValueError(f"params must be a PopulationParams, got {type(params).__name__}")
    for name, leaf in zip(PopulationParams._fields, params):
        if isinstance(leaf, jax.core.Tracer):
            continue
        value = np.asarray(leaf, float)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"params.{name} must be finite, got {leaf}")
        if name in ("tau_ex", "tau_in") and not np.all(value > 0):
            raise ValueError(f"params.{name} is a rate factor and must be > 0, got {leaf}")


def vector_field(state: ArrayLike, params: PopulationParams = PRESETS["homoclinic"]) -> Array:
    """(dx/dt, dy/dt) at ``state`` = (..., 2)."""
    state = jnp.asarray(state, float)
    x, y = state[..., 0], state[..., 1]
    p = params
    dx = (p.h_ex - x - p.c2 * jnp.tanh(y) + p.c_EE * jnp.tanh(x)) * p.tau_ex
    dy = (p.h_in - y - p.c4 * jnp.tanh(y) + p.c_EI * jnp.tanh(x)) * p.tau_in
    return jnp.stack([dx, dy], axis=-1)


# ----------------------------------------------------------------------------------------
# Simulation.


class Trajectory(NamedTuple):
    t: Array  # (samples,)
    y: Array  # (..., samples, 2): excitatory, inhibitory
    steps: Array  # accepted steps of the adaptive solver (0 for RK4)


def simulate(
    params: PopulationParams,
    start: ArrayLike,
    t_stop: float = 10.0,
    samples_per_unit: int = 1000,
    *,
    method: str = "adaptive",
    rtol: float = 1e-10,
    atol: float = 1e-12,
    dt: float = 1e-3,
) -> Trajectory:
    """Integrate from ``start`` (x, y) to ``t_stop``, sampled as the notebook does
    (``linspace(0, t_stop, t_stop * samples_per_unit)``, so the last sample is at t_stop).

    ``method="adaptive"``: diffrax Tsit5 with a PID step-size controller at ``rtol``/``atol``,
    dense output at the samples.  ``method="rk4"``: fixed step ``dt`` (RK4 of
    :mod:`jaxneuro.integrators`), samples by linear interpolation between steps.
    """
    validate(params)
    if not (t_stop > 0 and samples_per_unit >= 1):
        raise ValueError(f"need t_stop > 0 and samples_per_unit >= 1, got {t_stop}, {samples_per_unit}")
    t = jnp.linspace(0.0, t_stop, int(round(t_stop * samples_per_unit)))
    y0 = jnp.asarray(start, float)
    if method == "adaptive":
        term = diffrax.ODETerm(lambda _, y, p: vector_field(y, p))
        solution = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), 0.0, t_stop, None, y0, args=params,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol, dtmin=None),
            saveat=diffrax.SaveAt(ts=t), max_steps=1_000_000,
        )
        return Trajectory(t, solution.ys, solution.stats["num_accepted_steps"])
    if method == "rk4":
        n_steps = int(round(t_stop / dt))
        states = integrators.integrate(lambda y: vector_field(y, params), y0, t_stop / n_steps, n_steps)
        grid = jnp.linspace(0.0, t_stop, n_steps + 1)
        ys = jnp.stack([jnp.interp(t, grid, states[:, k]) for k in range(2)], axis=-1)
        return Trajectory(t, ys, jnp.asarray(0))
    raise ValueError(f"method must be 'adaptive' or 'rk4', got {method!r}")


# ----------------------------------------------------------------------------------------
# Phase plane.


class Grid2D(NamedTuple):
    """A rectangular window [x_min, x_max] × [y_min, y_max] sampled nx × ny."""

    x_min: float = -10.0
    x_max: float = 10.0
    y_min: float = -20.0
    y_max: float = 10.0
    nx: int = 25
    ny: int = 25

    def validate(self) -> None:
        if not all(np.isfinite(v) for v in self[:4]):
            raise ValueError(f"window bounds must be finite, got {self[:4]}")
        if not (self.x_min < self.x_max and self.y_min < self.y_max):
            raise ValueError(f"window needs min < max on both axes, got x [{self.x_min}, {self.x_max}], "
                             f"y [{self.y_min}, {self.y_max}]")
        if not (self.nx >= 1 and self.ny >= 1):
            raise ValueError(f"grid must not be empty, got {self.nx} x {self.ny}")

    def mesh(self):
        x = jnp.linspace(self.x_min, self.x_max, self.nx)
        y = jnp.linspace(self.y_min, self.y_max, self.ny)
        return jnp.meshgrid(x, y)  # (ny, nx) each, as numpy.meshgrid


class Field(NamedTuple):
    X: Array
    Y: Array
    DX: Array
    DY: Array
    speed: Array


def field(params: PopulationParams, grid: Grid2D = Grid2D()) -> Field:
    """Vector field and speed |f| on ``grid`` (one vectorised evaluation, no loops)."""
    validate(params)
    grid.validate()
    X, Y = grid.mesh()
    d = vector_field(jnp.stack([X, Y], axis=-1), params)
    return Field(X, Y, d[..., 0], d[..., 1], jnp.hypot(d[..., 0], d[..., 1]))


def x_nullcline(x: ArrayLike, params: PopulationParams) -> Array:
    """dx/dt = 0 as y(x) = artanh((h_ex - x + c_EE tanh x) / c2); NaN where no y solves it.

    Ill-conditioned where |tanh y| -> 1 (|y| > ~8): an argument within 1e-12 of ±1 loses
    ~1e-5 in y.  Good for drawing; fixed points are found on the y-nullcline instead."""
    p = params
    arg = (p.h_ex - x + p.c_EE * jnp.tanh(x)) / p.c2
    inside = jnp.abs(arg) < 1.0
    return jnp.where(inside, jnp.arctanh(jnp.where(inside, arg, 0.0)), jnp.nan)


def x_nullcline_curve(params: PopulationParams, x_min: float = -10.0, x_max: float = 10.0, points: int = 4001):
    """Points (x, y) on the x-nullcline for drawing: a uniform x grid plus points crowded
    (geometrically, down to 1e-15) towards the x where the artanh argument reaches ±1 and y runs
    off to ∓∞ (found by bisection to machine precision), so the near-vertical parts are drawn."""
    p = jax.tree.map(float, params)

    def arg(x):
        return (p.h_ex - x + p.c_EE * np.tanh(x)) / p.c2

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
    return x, np.asarray(x_nullcline(x, params))


def y_nullcline(x: ArrayLike, params: PopulationParams, iterations: int = 30) -> Array:
    """dy/dt = 0 as y(x): y + c4 tanh y = h_in + c_EI tanh x.  Closed form for c4 = 0; Newton
    otherwise (the left side is increasing in y when c4 > -1, so the root is unique)."""
    p = params
    target = p.h_in + p.c_EI * jnp.tanh(jnp.asarray(x, float))

    def newton(_, y):
        return y - (y + p.c4 * jnp.tanh(y) - target) / (1.0 + p.c4 / jnp.cosh(y) ** 2)

    return jax.lax.fori_loop(0, iterations, newton, target)


def _reduced(x, params):
    """f_x / τ_ex on the y-nullcline: its roots are the fixed points' x."""
    p = params
    return p.h_ex - x - p.c2 * jnp.tanh(y_nullcline(x, p)) + p.c_EE * jnp.tanh(x)


def _roots(fn, lo, hi, points: int, max_roots: int = 16, newton_steps: int = 40):
    """The sign changes of ``fn`` on a grid of ``points`` in [lo, hi] (the first ``max_roots``
    of them), each refined by safeguarded Newton (bisection where Newton leaves the bracket).
    Fixed shapes, as JAX needs: (max_roots,) roots, a validity mask, and the number found."""
    xs = jnp.linspace(lo, hi, points)
    fs = jax.vmap(fn)(xs)
    changes = (jnp.sign(fs[:-1]) != jnp.sign(fs[1:])) | (fs[:-1] == 0)
    count = jnp.sum(changes)
    index = jnp.nonzero(changes, size=max_roots, fill_value=0)[0]
    slope = jax.grad(fn)

    def refine(a, b, fa):
        def step(_, state):
            a, b, fa, x = state
            fx = fn(x)
            left = jnp.sign(fx) == jnp.sign(fa)
            a, b, fa = jnp.where(left, x, a), jnp.where(left, b, x), jnp.where(left, fx, fa)
            newton = x - fx / slope(x)
            x = jnp.where((newton > a) & (newton < b), newton, 0.5 * (a + b))
            return a, b, fa, x

        return jax.lax.fori_loop(0, newton_steps, step, (a, b, fa, 0.5 * (a + b)))[3]

    roots = jax.vmap(refine)(xs[index], xs[index + 1], fs[index])
    return roots, jnp.arange(max_roots) < count, count


def _host_roots(fn, grid: Grid2D, resolution: int, max_roots: int = 16):
    roots, keep, count = jax.jit(_roots, static_argnums=(0, 3, 4))(fn, grid.x_min, grid.x_max, resolution, max_roots)
    if int(count) > max_roots:
        raise ValueError(f"more than {max_roots} roots in the window; narrow it")
    return np.asarray(roots)[np.asarray(keep)]


class FixedPoint(NamedTuple):
    """A fixed point, its Jacobian's eigenvalues and its type."""

    x: float
    y: float
    residual: float  # |f| at the point
    eigenvalues: np.ndarray
    kind: str


def classify(jacobian: ArrayLike, tol: float = 1e-12) -> str:
    """Type of a 2-D fixed point from its Jacobian: saddle, stable/unstable node or focus, centre."""
    j = np.asarray(jacobian, float)
    trace, det = np.trace(j), np.linalg.det(j)
    if det < -tol:
        return "saddle"
    if abs(det) <= tol:
        return "degenerate"
    if trace * trace - 4.0 * det < 0:
        if abs(trace) <= tol:
            return "centre"
        return "stable focus" if trace < 0 else "unstable focus"
    return "stable node" if trace < 0 else "unstable node"


def jacobian(state: ArrayLike, params: PopulationParams) -> Array:
    """∂f/∂(x, y) by autodiff."""
    return jax.jacfwd(lambda s: vector_field(s, params))(jnp.asarray(state, float))


def fixed_points(params: PopulationParams, grid: Grid2D = Grid2D(), resolution: int = 4001) -> list:
    """Every fixed point in the window of ``grid``, sorted by x, each with eigenvalues and type.

    The x axis is sampled at ``resolution`` points; two fixed points closer than its spacing
    (near a saddle-node) may merge into a tangency, which shows as a "degenerate" point.
    """
    validate(params)
    grid.validate()
    points = []
    for x in _host_roots(lambda x: _reduced(x, params), grid, resolution):
        y = float(y_nullcline(x, params))
        if not grid.y_min <= y <= grid.y_max:
            continue
        state = np.array([x, y])
        jac = np.asarray(jacobian(state, params))
        residual = float(np.linalg.norm(np.asarray(vector_field(state, params))))
        points.append(FixedPoint(float(x), y, residual, np.linalg.eigvals(jac), classify(jac)))
    return points


class SaddleNode(NamedTuple):
    """A fold of fixed points: at h_ex = ``h_ex`` two fixed points meet at (x, y)."""

    h_ex: float
    x: float
    y: float
    det_jacobian: float


def saddle_nodes(params: PopulationParams, grid: Grid2D = Grid2D(), resolution: int = 4001) -> list:
    """The h_ex values where fixed points appear or vanish in pairs, solved exactly.

    f = 0 and det J = 0 together: on the y-nullcline the fixed points solve
    h_ex + G(x) = 0 with G(x) = -x - c2 tanh(y(x)) + c_EE tanh(x), and det J ∝ G'(x); so the
    folds are the critical points of G (Newton on G' = 0), at h_ex = -G(x).
    """
    validate(params)
    grid.validate()

    def g(x):
        return _reduced(x, params._replace(h_ex=0.0))

    folds = []
    for x in _host_roots(jax.grad(g), grid, resolution):
        h = -float(g(x))
        at = params._replace(h_ex=h)
        y = float(y_nullcline(x, at))
        folds.append(SaddleNode(h, float(x), y, float(np.linalg.det(np.asarray(jacobian([x, y], at))))))
    return folds


# ----------------------------------------------------------------------------------------
# Limit cycles and bifurcation scans (pure JAX: they vmap over parameters).

#: Fixed-point type codes used by the scans (see :data:`KINDS`).
KINDS = ("saddle", "stable node", "unstable node", "stable focus", "unstable focus", "degenerate")


def _kind_code(jac: Array, tol: float = 1e-12) -> Array:
    trace, det = jnp.trace(jac), jnp.linalg.det(jac)
    focus = trace * trace - 4.0 * det < 0
    code = jnp.where(focus, jnp.where(trace < 0, 3, 4), jnp.where(trace < 0, 1, 2))
    return jnp.where(det < -tol, 0, jnp.where(jnp.abs(det) <= tol, 5, code))


class Oscillation(NamedTuple):
    """The attractor reached from a start: period (NaN if it is a fixed point), peak-to-peak
    amplitude of x and y, and x's range."""

    period: Array
    amplitude_x: Array
    amplitude_y: Array
    x_min: Array
    x_max: Array
    oscillating: Array


def oscillation(params: PopulationParams, start: ArrayLike, t_transient: float = 60.0, t_record: float = 120.0,
                dt_save: float = 0.02, rtol: float = 1e-8, min_amplitude: float = 1e-3) -> Oscillation:
    """Integrate past a transient, then measure the limit cycle (if any) from the recorded part:
    the period from the upward crossings of x through the middle of its range (linear
    interpolation between samples), averaged over all recorded cycles."""
    term = diffrax.ODETerm(lambda _, y, p: vector_field(y, p))
    ts = t_transient + jnp.arange(int(round(t_record / dt_save)) + 1) * dt_save
    sol = diffrax.diffeqsolve(
        term, diffrax.Tsit5(), 0.0, ts[-1], None, jnp.asarray(start, float), args=params,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-2), saveat=diffrax.SaveAt(ts=ts),
        max_steps=2_000_000,
    )
    x, y = sol.ys[:, 0], sol.ys[:, 1]
    lo, hi = jnp.min(x), jnp.max(x)
    level = 0.5 * (lo + hi)
    up = (x[:-1] < level) & (x[1:] >= level)
    frac = (level - x[:-1]) / jnp.where(up, x[1:] - x[:-1], 1.0)
    times = jnp.where(up, ts[:-1] + frac * dt_save, jnp.nan)
    count = jnp.sum(up)
    period = (jnp.nanmax(times) - jnp.nanmin(times)) / jnp.maximum(count - 1, 1)
    oscillating = (count >= 2) & (hi - lo > min_amplitude)
    return Oscillation(jnp.where(oscillating, period, jnp.nan), hi - lo, jnp.max(y) - jnp.min(y), lo, hi, oscillating)


class Scan(NamedTuple):
    """Fixed points (padded to ``max_points``; ``valid`` marks the real ones), their type codes
    (:data:`KINDS`) and the oscillation from near the highest-x fixed point, per parameter set."""

    fixed_x: Array
    fixed_y: Array
    kind: Array
    valid: Array
    oscillation: Oscillation


def _scan_one(params, window: Grid2D, resolution: int, max_points: int, t_transient, t_record):
    xs, valid, _ = _roots(lambda x: _reduced(x, params), window.x_min, window.x_max, resolution, 2 * max_points)
    ys = y_nullcline(xs, params)
    valid = valid & (ys >= window.y_min) & (ys <= window.y_max)
    index = jnp.nonzero(valid, size=max_points, fill_value=0)[0]
    keep = jnp.arange(max_points) < jnp.sum(valid)
    fx, fy = xs[index], ys[index]
    kinds = jax.vmap(lambda a, b: _kind_code(jacobian(jnp.stack([a, b]), params)))(fx, fy)
    top = jnp.argmax(jnp.where(keep, fx, -jnp.inf))
    start = jnp.stack([fx[top], fy[top]]) + 0.05  # near the (unstable) focus: onto the cycle if any
    osc = oscillation(params, start, t_transient, t_record)
    return Scan(jnp.where(keep, fx, jnp.nan), jnp.where(keep, fy, jnp.nan), jnp.where(keep, kinds, -1), keep, osc)


def scan(params: PopulationParams, window: Grid2D = Grid2D(), *, resolution: int = 2001, max_points: int = 5,
         t_transient: float = 60.0, t_record: float = 120.0) -> Scan:
    """Fixed points, types and oscillation for every member of a batch of parameters (leaves
    broadcast to one shape, e.g. 256 values of h_ex, or a 2-D grid of (h_ex, h_in)): one
    compiled, vmapped computation."""
    validate(params)
    window.validate()
    leaves = [jnp.asarray(leaf, float) for leaf in params]
    shape = jnp.broadcast_shapes(*(leaf.shape for leaf in leaves))
    flat = PopulationParams(*(jnp.broadcast_to(leaf, shape).ravel() for leaf in leaves))
    run = jax.jit(jax.vmap(lambda p: _scan_one(p, window, resolution, max_points, t_transient, t_record)))
    result = run(flat)
    return jax.tree.map(lambda a: a.reshape(shape + a.shape[1:]), result)


@jax.jit
def _onset(params, lo, hi, tol):
    """Bisection on h_ex between ``lo`` (no oscillation) and ``hi`` (oscillation)."""

    def oscillates(h):
        p = params._replace(h_ex=h)
        focus = _scan_one(p, Grid2D(), 2001, 5, 60.0, 120.0)
        return focus.oscillation.oscillating

    def body(state):
        lo, hi, k = state
        mid = 0.5 * (lo + hi)
        yes = oscillates(mid)
        return jnp.where(yes, lo, mid), jnp.where(yes, mid, hi), k + 1

    lo, hi, _ = jax.lax.while_loop(lambda s: (s[1] - s[0] > tol) & (s[2] < 80), body, (lo, hi, 0))
    return lo, hi


def oscillation_onset(params: PopulationParams, lo: float, hi: float, tol: float = 1e-9) -> tuple:
    """The h_ex (to ``tol``) above which the oscillator oscillates, bracketed by ``lo`` (no
    oscillation) and ``hi`` (oscillation): a SNIC (the saddle-node itself) or a homoclinic
    orbit to the saddle (below the saddle-node).  Returns the final bracket."""
    validate(params)
    osc = scan(PopulationParams(*(jnp.broadcast_to(jnp.asarray(v, float), (2,)) for v in params))._replace(
        h_ex=jnp.array([lo, hi]))).oscillation.oscillating
    if bool(osc[0]) or not bool(osc[1]):
        raise ValueError(f"[{lo}, {hi}] does not bracket the onset of oscillation (oscillating: {np.asarray(osc)})")
    a, b = _onset(params, jnp.asarray(lo, float), jnp.asarray(hi, float), tol)
    return float(a), float(b)


class PeriodScaling(NamedTuple):
    """Period against distance μ = h_ex - h_onset, and two fits: T = a/sqrt(μ) + b (SNIC) and
    T = -a ln μ + b (homoclinic), each (a, b, rms relative residual)."""

    onset: float
    mu: np.ndarray
    period: np.ndarray
    sqrt_fit: tuple
    log_fit: tuple


def period_scaling(params: PopulationParams, onset: float, mu: ArrayLike, t_record: float = 400.0) -> PeriodScaling:
    """Periods at h_ex = onset + μ (one vmapped scan; ``t_record`` must hold a few of the
    longest periods) and the two fits."""
    mu = np.asarray(mu, float)
    batch = PopulationParams(*(jnp.broadcast_to(jnp.asarray(v, float), mu.shape) for v in params))
    s = scan(batch._replace(h_ex=jnp.asarray(onset + mu)), t_record=t_record)
    period = np.asarray(s.oscillation.period)

    def fit(feature):
        design = np.stack([feature, np.ones_like(feature)], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, period, rcond=None)
        rms = float(np.sqrt(np.mean(((design @ [a, b]) / period - 1.0) ** 2)))
        return float(a), float(b), rms

    return PeriodScaling(onset, mu, period, fit(1.0 / np.sqrt(mu)), fit(-np.log(mu)))
