"""The full Hodgkin–Huxley cable, solved by Lees' modification of Crank–Nicolson.

Equations 11–14 and 26–40 of the notebook (Tuckwell 1988, after Ames 1977).  On a uniform grid
x_i = i·dx (µm), i = 0..M, with r = D dt / dx² and D = a / (2 ρ Cm):

* first step (explicit, eqs. 27, 38, 40):  U¹ = U⁰ + r Λ U⁰ + dt F(U⁰)
* later steps (eq. 26, 37, 39):  (I - r/2 Λ) Uʲ⁺¹ = (I + r/2 Λ) Uʲ + dt F(3/2 Uʲ - 1/2 Uʲ⁻¹)

where Λ is the second-difference operator with mirrored "false boundaries" for Neumann ends
(slope α at x = 0, β at x = L, eqs. 35–36) or identity rows for Dirichlet ends (eqs. 30–31).
The gates take the same extrapolated midpoint step, G^{j+1} = G^j + dt F_G(3/2 Uʲ - 1/2 Uʲ⁻¹).
The matrix I - r/2 Λ is constant, so it is factored once per run (:mod:`jaxneuro.tridiagonal`).

The stimulus is a physical current (nA) injected at a point or spread uniformly over a length;
it is shared among the nodes by the hat functions of the grid and divided by each node's
membrane area (half a cell at the ends), so refining dx does not change the physics.  It is
evaluated at the midpoint time of each step, never extrapolated (the notebook's extrapolation
gives a negative current at the step where the stimulus stops).

Everything here is a pure function of pytrees: ``jax.jit``, ``jax.vmap`` and ``jax.grad`` work
through :func:`solve_cable`.  :func:`simulate_cable` is the checked entry point: it validates
input before compiling, runs a batch as one compiled program (natively batched, node-major) and
reports divergence.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import membrane, tridiagonal
from .membrane import Gates, HHParams

Array = jax.Array

#: Accepted values of ``linear_solver`` (see :func:`solve_cable`).
LINEAR_SOLVERS = ("thomas", "doubling", "lapack")

# Unit conversions, applied once where the physical constants are assembled.
_UM_PER_CM = 1e4
_MS_PER_US = 1e-3


class Axon(NamedTuple):
    """A uniform unmyelinated axon (a pytree; any leaf may be a batch array).

    Attributes:
        radius: axon radius a (µm).
        rho: intracellular resistivity ρ = 1/σ_i (Ω·cm).
        membrane: Hodgkin–Huxley membrane parameters.
    """

    radius: ArrayLike = 238.0
    rho: ArrayLike = 35.4
    membrane: HHParams = HHParams()


def cooley_dodge_axon(beta_m_exponent: float = membrane.BETA_M_EXPONENT_NOTEBOOK) -> Axon:
    """The squid giant axon of Cooley & Dodge (1966): a = 238 µm, ρ = 35.4 Ω·cm, 18.5 °C."""
    return Axon(
        radius=238.0,
        rho=35.4,
        membrane=HHParams(EL=10.598, temperature=18.5, beta_m_exponent=beta_m_exponent),
    )


@dataclasses.dataclass(frozen=True)
class Boundary:
    """Condition at one end of the cable (static configuration).

    ``kind`` is ``"neumann"`` (``value`` = dV/dx in mV/µm, 0 for a sealed end) or
    ``"dirichlet"`` (``value`` = the clamped potential, mV from rest).
    """

    kind: str = "neumann"
    value: float = 0.0

    def __post_init__(self):
        if self.kind not in ("neumann", "dirichlet"):
            raise ValueError(f"Boundary.kind must be 'neumann' or 'dirichlet', got {self.kind!r}")
        if not math.isfinite(self.value):
            raise ValueError(f"Boundary.value must be finite, got {self.value!r}")

    @classmethod
    def sealed(cls) -> "Boundary":
        """No axial current through the end (Neumann, dV/dx = 0)."""
        return cls("neumann", 0.0)

    @classmethod
    def clamped(cls, potential: float = 0.0) -> "Boundary":
        """End held at ``potential`` (mV from rest) (Dirichlet)."""
        return cls("dirichlet", float(potential))


SEALED = Boundary.sealed()


@dataclasses.dataclass(frozen=True)
class Grid:
    """Space-time discretisation and end conditions (static: it fixes array shapes).

    Attributes:
        length: cable length L (µm); must be a whole number of ``dx``.
        dx: node spacing (µm).
        dt: time step (ms).
        t_stop: simulated duration (ms); the run takes ceil(t_stop/dt) steps.
        left, right: end conditions at x = 0 and x = L (sealed by default).
    """

    length: float
    dx: float
    dt: float
    t_stop: float
    left: Boundary = SEALED
    right: Boundary = SEALED

    def __post_init__(self):
        for name in ("length", "dx", "dt", "t_stop"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value)):
                raise ValueError(f"Grid.{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.dx <= 0:
            raise ValueError(f"Grid.dx must be > 0 µm, got {self.dx}")
        if self.dt <= 0:
            raise ValueError(f"Grid.dt must be > 0 ms, got {self.dt}")
        if self.length <= self.dx:
            raise ValueError(f"Grid.length must be > dx = {self.dx} µm, got {self.length}")
        if self.t_stop < self.dt:
            raise ValueError(f"Grid.t_stop must be >= dt = {self.dt} ms, got {self.t_stop}")
        intervals = self.length / self.dx
        if abs(intervals - round(intervals)) > 1e-9 * intervals:
            raise ValueError(
                f"Grid.length ({self.length} µm) must be a whole number of dx ({self.dx} µm); "
                f"try dx = {self.length / max(1, round(intervals))}"
            )

    @property
    def n_nodes(self) -> int:
        return int(round(self.length / self.dx)) + 1

    @property
    def n_steps(self) -> int:
        steps = self.t_stop / self.dt
        return int(round(steps)) if abs(steps - round(steps)) < 1e-9 * steps else math.ceil(steps)

    @property
    def x(self) -> np.ndarray:
        """Node positions (µm)."""
        return np.arange(self.n_nodes) * self.dx

    def refined(self, factor: int = 2) -> "Grid":
        """The same cable and duration with dx and dt divided by ``factor``."""
        return dataclasses.replace(self, dx=self.dx / factor, dt=self.dt / factor)


def cooley_dodge_grid(dx: float = 250.0, dt: float = 0.001, t_stop: float = 5.0) -> Grid:
    """Cooley & Dodge's 7 cm cable with the notebook's dx = 250 µm, dt = 1 µs, 5 ms."""
    return Grid(length=70_000.0, dx=dx, dt=dt, t_stop=t_stop)


class Stimulus(NamedTuple):
    """A rectangular current pulse (a pytree; any leaf may be a batch array).

    Attributes:
        amplitude: total injected current (nA), positive depolarises.
        start: onset (ms).
        duration: length of the pulse (ms); on for start <= t < start + duration.
        position: where the current enters (µm from x = 0).
        width: spread (µm): uniform over [position, position + width]; 0 for a point.
    """

    amplitude: ArrayLike = 0.0
    start: ArrayLike = 0.0
    duration: ArrayLike = 0.0
    position: ArrayLike = 0.0
    width: ArrayLike = 0.0

    @classmethod
    def from_density(
        cls,
        density: ArrayLike,
        radius: ArrayLike,
        dx: float,
        duration: ArrayLike,
        start: ArrayLike = 0.0,
        node: int = 0,
        n_nodes: Optional[int] = None,
    ) -> "Stimulus":
        """The notebook's stimulus: ``density`` µA/cm² on the membrane of one node.

        The node's membrane is the half cell dx/2 at an end (node 0 or ``n_nodes - 1``) and dx
        elsewhere; the equivalent total current is returned, so that on the grid with this
        ``dx`` the node receives exactly ``density``.  Cooley–Dodge: 2500 µA/cm² on node 0 of
        a 238 µm axon with dx = 250 µm is 4673 nA.
        """
        at_end = node == 0 or (n_nodes is not None and node == n_nodes - 1)
        membrane_length = dx / 2 if at_end else dx
        area_cm2 = 2 * jnp.pi * jnp.asarray(radius) * membrane_length / _UM_PER_CM**2
        amplitude = jnp.asarray(density) * area_cm2 * 1e3  # µA -> nA
        return cls(amplitude=amplitude, start=start, duration=duration, position=node * dx)


def cooley_dodge_stimulus(radius: ArrayLike = 238.0, dx: float = 250.0) -> Stimulus:
    """The notebook's Cooley–Dodge stimulus: 2500 µA/cm² for 0.2 ms on the half-cell at x = 0."""
    return Stimulus.from_density(2500.0, radius, dx, duration=0.2)


@dataclasses.dataclass(frozen=True)
class Record:
    """What a run keeps (static configuration).  Only what is asked is stored.

    Attributes:
        every: sample the history (and probes) every ``every`` steps, from t = 0.
        history: keep v at every node for each sample: (samples, nodes).
        gates: with ``history``, keep n, m, h too.
        probes: positions (µm) where v is sampled (linear interpolation between nodes).
        peaks: per-node peak potential and its time (parabolic sub-step interpolation).
        threshold: potential (mV from rest) whose first upward crossing time is kept per node
            (linear sub-step interpolation); ``None`` to skip.
    """

    every: int = 1
    history: bool = True
    gates: bool = False
    probes: tuple = ()
    peaks: bool = True
    threshold: Optional[float] = 50.0

    def __post_init__(self):
        if not (isinstance(self.every, (int, np.integer)) and self.every >= 1):
            raise ValueError(f"Record.every must be an integer >= 1, got {self.every!r}")
        object.__setattr__(self, "probes", tuple(float(p) for p in self.probes))
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise ValueError(f"Record.threshold must be finite or None, got {self.threshold!r}")

    @classmethod
    def reductions(cls, threshold: Optional[float] = 50.0, probes: tuple = (), every: int = 1):
        """Peaks and crossing times only (plus optional probes): the default for batches."""
        return cls(every=every, history=False, probes=probes, threshold=threshold)

    @property
    def samples_anything(self) -> bool:
        return self.history or bool(self.probes)


class CableState(NamedTuple):
    """The two time levels the Lees scheme needs: the present (v in mV, gates) and the
    previous step's."""

    v: Array
    gates: Gates
    v_previous: Array
    gates_previous: Gates


class CableSolution(NamedTuple):
    """Result of a cable run.  Batch axes, when present, lead every field except ``t``, ``x``.

    Attributes:
        t: sample times (ms), shape (samples,).
        x: node positions (µm), shape (nodes,).
        v: membrane potential (mV from rest), (..., samples, nodes), if recorded.
        gates: n, m, h, each (..., samples, nodes), if recorded.
        probe_v: potential at the probe positions (mV), (..., samples, probes), if recorded.
        peak_v, peak_t: per-node maximum of v (mV) and its time (ms), (..., nodes).
        crossing_t: per-node time (ms) of the first upward crossing of the threshold, +inf
            where it was never crossed, (..., nodes).
        final: the last two time levels, to continue the run.
        diverged_at_step: first step whose v was non-finite (-1 if none), (...).
        diverged_at_node: node of the first non-finite value (-1 if none), (...).
        v_rest: resting potential the run started from (mV), (...).
    """

    t: Array
    x: Array
    v: Optional[Array]
    gates: Optional[Gates]
    probe_v: Optional[Array]
    peak_v: Optional[Array]
    peak_t: Optional[Array]
    crossing_t: Optional[Array]
    final: CableState
    diverged_at_step: Array
    diverged_at_node: Array
    v_rest: Array


class CableDivergenceError(FloatingPointError):
    """The membrane potential became non-finite during a run."""


# ----------------------------------------------------------------------------------------
# The numerical core (pure, jit/vmap/grad-able).


def diffusion_coefficient(axon: Axon) -> Array:
    """D = a / (2 ρ Cm) of the cable equation, in µm²/ms."""
    diffusion = axon.radius / (2.0 * axon.rho * axon.membrane.Cm)  # µm/(Ω·cm·µF/cm²)
    return diffusion * _UM_PER_CM / _MS_PER_US


def step_ratio(axon: Axon, dx: float, dt: float) -> Array:
    """r = D dt / dx² (dimensionless)."""
    return diffusion_coefficient(axon) * dt / dx**2


def _second_difference(v: Array, grid: Grid) -> Array:
    """Λ v with the mirrored false boundaries of eqs. 35–36 (Dirichlet rows are overwritten)."""
    left_ghost = v[1] - 2.0 * grid.left.value * grid.dx
    right_ghost = v[-2] + 2.0 * grid.right.value * grid.dx
    padded = jnp.concatenate([left_ghost[None], v, right_ghost[None]])
    return padded[:-2] - 2.0 * v + padded[2:]


def _implicit_matrix(r: Array, grid: Grid):
    """Diagonals of I - r/2 Λ (eqs. 26, 37, 39) with identity rows at Dirichlet ends.

    Node-major: shape (nodes,) + r.shape.
    """
    shape = (grid.n_nodes,) + jnp.shape(r)
    lower = jnp.broadcast_to(-r / 2, shape)
    upper = jnp.broadcast_to(-r / 2, shape)
    diagonal = jnp.broadcast_to(1.0 + r, shape)
    lower, upper = lower.at[-1].set(-r), upper.at[0].set(-r)
    if grid.left.kind == "dirichlet":
        diagonal, upper = diagonal.at[0].set(1.0), upper.at[0].set(0.0)
    if grid.right.kind == "dirichlet":
        diagonal, lower = diagonal.at[-1].set(1.0), lower.at[-1].set(0.0)
    return lower, diagonal, upper


def _clamp_ends(v: Array, grid: Grid, twice: bool = False) -> Array:
    """Set Dirichlet ends to their value (``twice``: to 2 × value, for a right-hand side of the
    2v − A v form, whose solution has v, equal to the value at a clamped end, subtracted)."""
    scale = 2.0 if twice else 1.0
    if grid.left.kind == "dirichlet":
        v = v.at[0].set(scale * grid.left.value)
    if grid.right.kind == "dirichlet":
        v = v.at[-1].set(scale * grid.right.value)
    return v


def _hat_integral(s: Array) -> Array:
    """Antiderivative of the hat function max(0, 1 - |s|)."""
    left = 0.5 * (s + 1.0) ** 2
    right = 1.0 - 0.5 * (1.0 - s) ** 2
    return jnp.where(s < -1.0, 0.0, jnp.where(s < 0.0, left, jnp.where(s < 1.0, right, 1.0)))


def stimulus_density(stimulus: Stimulus, radius: ArrayLike, grid: Grid) -> Array:
    """Current density (µA/cm²) at each node for the full pulse amplitude.

    Node-major: shape (nodes,) + the broadcast shape of the stimulus leaves and ``radius``.
    """
    batch_ndim = max(np.ndim(leaf) for leaf in (radius, *stimulus))
    x = jnp.asarray(grid.x).reshape((-1,) + (1,) * batch_ndim)
    point = jnp.maximum(0.0, 1.0 - jnp.abs(stimulus.position - x) / grid.dx)
    spread = stimulus.width > 0.0
    safe_width = jnp.where(spread, stimulus.width, 1.0)
    uniform = (
        _hat_integral((stimulus.position + safe_width - x) / grid.dx)
        - _hat_integral((stimulus.position - x) / grid.dx)
    ) * (grid.dx / safe_width)
    share = jnp.where(spread, uniform, point)  # fraction of the current entering each node
    membrane_length = jnp.full(grid.n_nodes, grid.dx).at[0].set(grid.dx / 2).at[-1].set(grid.dx / 2)
    membrane_length = membrane_length.reshape(x.shape)
    area_cm2 = 2.0 * jnp.pi * radius * membrane_length / _UM_PER_CM**2
    return stimulus.amplitude * 1e-3 * share / area_cm2  # nA -> µA


def _pulse_on(stimulus: Stimulus, t: Array) -> Array:
    return jnp.where((t >= stimulus.start) & (t < stimulus.start + stimulus.duration), 1.0, 0.0)


class _Reductions(NamedTuple):
    # Per node, the largest sample of v so far, the samples either side of it and its step: the
    # parabolic vertex is computed once, after the run (see _peak_vertex), not every step.
    peak: Optional[Array]
    peak_before: Optional[Array]
    peak_after: Optional[Array]
    peak_step: Optional[Array]
    crossing_t: Optional[Array]
    # Per node, the first step at which v was non-finite (-1: never).  Kept elementwise so it
    # fuses with the other updates instead of costing a reduction every step.
    first_bad_step: Array


def _update_reductions(red: _Reductions, v_prev, v, v_new, step, grid: Grid, record: Record, at_start=False):
    """Fold the step ``step -> step + 1`` into the running reductions (v is at t = step·dt)."""
    dt = grid.dt
    t = step * dt
    red_peaks = red.peak, red.peak_before, red.peak_after, red.peak_step
    crossing_t = red.crossing_t
    if record.peaks and not at_start:
        higher = v > red.peak
        red_peaks = tuple(jnp.where(higher, new, old) for new, old in zip((v, v_prev, v_new, step), red_peaks))
    if record.threshold is not None:
        theta = record.threshold
        crosses = (v < theta) & (v_new >= theta) & jnp.isinf(crossing_t)
        rise = jnp.where(crosses, v_new - v, 1.0)
        crossing_t = jnp.where(crosses, t + dt * (theta - v) / rise, crossing_t)
    newly_bad = ~jnp.isfinite(v_new) & (red.first_bad_step < 0)
    return _Reductions(*red_peaks, crossing_t, jnp.where(newly_bad, step + 1, red.first_bad_step))


def _peak_vertex(red: _Reductions, final_v, n_steps: int, dt: float):
    """Per-node peak potential (mV) and time (ms): the vertex of the parabola through the
    largest sample and its neighbours where that sample is a strict interior maximum (offset
    within half a step), else the sample itself; the last level counts if it is higher still.

    Of two maxima whose top samples tie, or differ by less than the sub-step correction
    (|v''| dt²/8), the earlier sample's vertex is kept, not necessarily the higher vertex.
    """
    before, peak, after = red.peak_before, red.peak, red.peak_after
    curvature = before - 2.0 * peak + after
    interior = (peak >= before) & (peak > after) & (curvature < 0.0)
    offset = jnp.where(interior, 0.5 * (before - after) / jnp.where(interior, curvature, -1.0), 0.0)
    peak_v = peak - 0.25 * (before - after) * offset
    peak_t = (red.peak_step + offset) * dt
    later = final_v > peak_v
    return jnp.where(later, final_v, peak_v), jnp.where(later, n_steps * dt, peak_t)


def solve_cable(
    axon: Axon,
    grid: Grid,
    stimulus: Stimulus = Stimulus(),
    record: Record = Record(),
    initial_v: Optional[ArrayLike] = None,
    *,
    linear_solver: str = "thomas",
    unroll: int = 2,
) -> CableSolution:
    """Integrate one cable (pure: no checks; use :func:`simulate_cable` for checked runs).

    Args:
        axon: radius (µm), ρ (Ω·cm) and membrane parameters; scalar leaves, or leaves that
            broadcast (with the stimulus's) to one batch shape: then one program runs the whole
            batch, with node arrays stored node-major, (nodes, *batch), so that the substitution
            along the cable reads contiguous rows and no step transposes anything.  The
            solution's batch axes lead, as everywhere else.
        grid: static discretisation and end conditions.
        stimulus: the current pulse (nA, ms, µm).
        record: what to keep.
        initial_v: starting potential at each node (mV), (nodes,) or (*batch, nodes); default:
            the resting potential.
            Gates start at their steady state for that potential.
        linear_solver: ``"thomas"`` (factored once, node-by-node substitution; the default and
            the fastest on the CPU), ``"doubling"`` (factored once, recursive-doubling
            substitution with no loop along the cable, meant for accelerators) or ``"lapack"``
            (``lax.linalg.tridiagonal_solve``, which refactors every step; for benchmarks).
        unroll: ``lax.scan`` unroll factor of the time loop, and of the sampling loop when it
            samples every step (2 measured fastest on the CPU, for one Cooley–Dodge run and for
            batches; 1, 3 and 4 were 10–30 % slower).
    """
    params = axon.membrane
    dt, n_steps = grid.dt, grid.n_steps
    batch = jnp.broadcast_shapes(*(jnp.shape(leaf) for leaf in jax.tree.leaves((axon, stimulus))))
    node_shape = (grid.n_nodes,) + batch  # node-major
    r = jnp.broadcast_to(step_ratio(axon, grid.dx, dt), batch)
    lower, diagonal, upper = _implicit_matrix(r, grid)
    if linear_solver == "lapack":
        last = lambda a: jnp.moveaxis(a, 0, -1)  # noqa: E731  (LAPACK wants nodes last)
        solve = lambda rhs: jnp.moveaxis(jax.lax.linalg.tridiagonal_solve(  # noqa: E731
            last(lower.at[0].set(0.0)), last(diagonal), last(upper.at[-1].set(0.0)), last(rhs)[..., None]
        )[..., 0], -1, 0)
    else:
        factored = tridiagonal.factor(lower, diagonal, upper, axis=0)
        substitute = {"thomas": tridiagonal.solve, "doubling": tridiagonal.solve_doubling}[linear_solver]
        solve = partial(substitute, factored, axis=0)
    # A Neumann end's slope α enters Lees' right-hand side twice, as -r·α·dx (left; +r·β·dx on the
    # right): through the explicit half's false boundary and through the implicit half's.  In
    # the 2v - A v form of the explicit half used by lees_step, A has no such terms, so both
    # are added here.
    boundary_source = jnp.zeros(node_shape)
    if grid.left.kind == "neumann":
        boundary_source = boundary_source.at[0].set(-2.0 * r * grid.left.value * grid.dx)
    if grid.right.kind == "neumann":
        boundary_source = boundary_source.at[-1].set(2.0 * r * grid.right.value * grid.dx)

    stim_density = stimulus_density(stimulus, axon.radius, grid)

    def voltage_rate(v, gates, t_mid):
        """dV/dt from the membrane (mV/ms), with the stimulus at ``t_mid``."""
        i_stim = stim_density * _pulse_on(stimulus, t_mid)
        return (i_stim - membrane.ionic_current(v, gates, params)) / params.Cm

    def explicit_step(state: CableState) -> CableState:
        v, gates = state.v, state.gates
        v_new = v + r * _second_difference(v, grid) + dt * voltage_rate(v, gates, 0.5 * dt)
        rates = membrane.gate_derivatives(v, gates, params)
        v_new = _clamp_ends(v_new, grid)
        return CableState(v_new, Gates(*(g + dt * dg for g, dg in zip(gates, rates))), v, gates)

    def lees_step(state: CableState, step) -> CableState:
        # Lees' extrapolated midpoint 3/2 U^j - 1/2 U^(j-1) (eq. 25).
        v_mid = 1.5 * state.v - 0.5 * state.v_previous
        gates_mid = Gates(*(1.5 * g - 0.5 * g_prev for g, g_prev in zip(state.gates, state.gates_previous)))
        rates = membrane.gate_derivatives(v_mid, gates_mid, params)
        t_mid = (step + 0.5) * dt
        # (I + r/2 Λ) v = 2v - (I - r/2 Λ) v, so the step needs no second difference:
        # v_new = (I - r/2 Λ)⁻¹ (2v + dt F + sources) - v.
        rhs = 2.0 * state.v + dt * voltage_rate(v_mid, gates_mid, t_mid) + boundary_source
        # Dirichlet rows solve to exactly 2 × value; clamping the result as well keeps the end
        # exact whatever the linear solver's rounding (LAPACK pivots when r > 2).
        v_new = _clamp_ends(solve(_clamp_ends(rhs, grid, twice=True)) - state.v, grid)
        gates_new = Gates(*(g + dt * dg for g, dg in zip(state.gates, rates)))
        return CableState(v_new, gates_new, state.v, state.gates)

    v_rest = jnp.broadcast_to(membrane.resting_potential(params), batch)
    if initial_v is None:
        v0 = jnp.broadcast_to(v_rest, node_shape)
    else:
        v0 = jnp.broadcast_to(jnp.moveaxis(jnp.asarray(initial_v, float), -1, 0), node_shape)
    v0 = _clamp_ends(v0, grid)
    gates0 = membrane.steady_state(v0, params)
    state0 = CableState(v0, gates0, v0, gates0)

    red0 = _Reductions(
        peak=v0 if record.peaks else None,
        peak_before=v0 if record.peaks else None,
        peak_after=v0 if record.peaks else None,
        peak_step=jnp.zeros(node_shape) if record.peaks else None,
        crossing_t=jnp.full(node_shape, jnp.inf) if record.threshold is not None else None,
        first_bad_step=jnp.full(node_shape, -1),
    )

    # Carry = (state, reductions, step index of state.v).
    def one_step(carry, _):
        state, red, step = carry
        new = lees_step(state, step)
        red = _update_reductions(red, state.v_previous, state.v, new.v, step, grid, record)
        return (new, red, step + 1), None

    def advance(carry, n):
        if n == 0:
            return carry
        if n == 1:
            return one_step(carry, None)[0]
        return jax.lax.scan(one_step, carry, None, length=n, unroll=min(unroll, n))[0]

    probe_index, probe_weight = _probe_interpolation(record.probes, grid)

    def sample(state: CableState):
        out = {}
        if record.history:
            out["v"] = state.v
            if record.gates:
                out["gates"] = state.gates
        if record.probes:
            v = state.v
            weight = probe_weight.reshape((-1,) + (1,) * (v.ndim - 1))  # (probes, 1...) against (probes, *batch)
            out["probe_v"] = (1.0 - weight) * v[probe_index] + weight * v[probe_index + 1]
        return out

    first = explicit_step(state0)
    red = _update_reductions(red0, v0, v0, first.v, 0, grid, record, at_start=True)
    carry = (first, red, jnp.array(1))
    samples = None
    if record.samples_anything:
        k = record.every
        n_more = n_steps // k
        samples = [jax.tree.map(lambda a: a[None], sample(state0))]
        if n_more >= 1:
            carry = advance(carry, k - 1)
            samples.append(jax.tree.map(lambda a: a[None], sample(carry[0])))

            def chunk(c, _):
                c = advance(c, k)
                return c, sample(c[0])

            # Unrolled like the plain time loop when samples are taken every step or two.
            carry, rest = jax.lax.scan(chunk, carry, None, length=n_more - 1, unroll=max(1, min(unroll, n_more - 1) // k))
            samples.append(rest)
            carry = advance(carry, n_steps - n_more * k)
        else:
            carry = advance(carry, n_steps - 1)
        samples = jax.tree.map(lambda *parts: jnp.concatenate(parts), *samples)
    else:
        carry = advance(carry, n_steps - 1)

    final, red, _ = carry
    peak_v = peak_t = None
    if record.peaks:
        peak_v, peak_t = _peak_vertex(red, final.v, n_steps, dt)
    k = record.every
    samples = samples or {}
    bad_step = jnp.where(red.first_bad_step < 0, n_steps + 1, red.first_bad_step)
    bad_node = jnp.argmin(bad_step, axis=0)
    first_bad = jnp.min(bad_step, axis=0)
    diverged = first_bad <= n_steps
    # Back to the public layout: batch axes first, nodes last.
    nodes_last = partial(jax.tree.map, lambda a: jnp.moveaxis(a, 0, -1))
    samples_last = partial(jax.tree.map, lambda a: jnp.moveaxis(a, (0, 1), (-2, -1)))
    return CableSolution(
        t=jnp.arange(n_steps // k + 1) * (k * dt) if record.samples_anything else jnp.zeros(0),
        x=jnp.asarray(grid.x),
        v=samples_last(samples.get("v")),
        gates=samples_last(samples.get("gates")),
        probe_v=samples_last(samples.get("probe_v")),
        peak_v=nodes_last(peak_v),
        peak_t=nodes_last(peak_t),
        crossing_t=nodes_last(red.crossing_t),
        final=nodes_last(final),
        diverged_at_step=jnp.where(diverged, first_bad, -1),
        diverged_at_node=jnp.where(diverged, bad_node, -1),
        v_rest=v_rest,
    )


def _probe_interpolation(probes: tuple, grid: Grid):
    position = np.asarray(probes, dtype=float) / grid.dx
    index = np.clip(np.floor(position).astype(int), 0, grid.n_nodes - 2)
    return index, position - index


# ----------------------------------------------------------------------------------------
# The checked entry point: validation before compiling, batching, divergence reports.

# Batches are not vmapped: solve_cable runs them natively, node-major (measured faster on the
# CPU than vmap, whose layouts put v and the gates in transposed orders and copy every step).
_STATIC = ("grid", "record", "linear_solver", "unroll")
_solve_traced = partial(jax.jit, static_argnames=_STATIC)(solve_cable)
# Called outside any trace, the run is its own top-level program and may carry compiler
# options (measured on the Cooley–Dodge cable, 2-core AVX-512 CPU): XLA's region-based copy
# analysis removes about half of the buffer copies of the time loop's carry (single run
# 23 -> 21.6 ms on one core), and 512-bit vectors where the CPU has them (single run -8 %,
# batch of 16 -16 %; a mere preference elsewhere).  Inside a jit/grad/vmap trace, where nested
# programs cannot take options, the plain program is used.
_TOP_LEVEL_OPTIONS = {"xla_cpu_copy_insertion_use_region_analysis": True, "xla_cpu_prefer_vector_width": 512}
_solve_concrete = partial(jax.jit, static_argnames=_STATIC, compiler_options=_TOP_LEVEL_OPTIONS)(solve_cable)


def _at_top_level() -> bool:
    """True outside any jit/grad/vmap trace (private JAX API; False if it ever moves)."""
    try:
        from jax._src import core
        return isinstance(core.trace_ctx.trace, core.EvalTrace)
    except (ImportError, AttributeError):
        return False


_options_refused = False  # set once if this XLA does not know one of _TOP_LEVEL_OPTIONS


def _solve_one(axon, grid, stimulus, record, initial_v=None, **static):
    global _options_refused
    if _at_top_level() and not _options_refused:
        try:
            return _solve_concrete(axon, grid, stimulus, record, initial_v, **static)
        except Exception as error:  # noqa: BLE001  (XLA raises its own runtime error type)
            if "compile option" not in str(error):
                raise
            _options_refused = True
    return _solve_traced(axon, grid, stimulus, record, initial_v, **static)


def _is_concrete(tree) -> bool:
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _leaf_names(tree, prefix):
    paths, _ = jax.tree_util.tree_flatten_with_path(tree)
    return [(prefix + "".join(f".{getattr(k, 'name', k)}" for k in path), leaf) for path, leaf in paths]


# Valid ranges of the physical parameters: (name, lower bound, inclusive?).
_POSITIVE = {"axon.radius", "axon.rho", "axon.membrane.Cm"}
_NON_NEGATIVE = {"axon.membrane.gNa", "axon.membrane.gK", "axon.membrane.gL",
                 "stimulus.duration", "stimulus.width"}


def batch_shape(*trees) -> tuple:
    """The common shape of the non-scalar leaves of ``trees`` (``()`` for a single run).

    Raises ``ValueError`` naming the leaves whose shapes disagree.
    """
    shapes = {}
    for prefix, tree in trees:
        for name, leaf in _leaf_names(tree, prefix):
            shape = np.shape(leaf)
            if shape != ():
                shapes[name] = shape
    distinct = set(shapes.values())
    if len(distinct) > 1:
        listing = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise ValueError(f"batched parameters must all have the same shape (or be scalars); got {listing}")
    return distinct.pop() if distinct else ()


def _check_values(named_leaves) -> None:
    """Finite everywhere, and within the physical ranges above (concrete leaves only)."""
    for name, leaf in named_leaves:
        if isinstance(leaf, jax.core.Tracer):
            continue
        value = np.asarray(leaf, dtype=float)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be finite, got {leaf}")
        if name in _POSITIVE and not np.all(value > 0):
            raise ValueError(f"{name} must be > 0, got {leaf}")
        if name in _NON_NEGATIVE and not np.all(value >= 0):
            raise ValueError(f"{name} must be >= 0, got {leaf}")


def validate_axon(axon: Axon) -> tuple:
    """Check an :class:`Axon` (type, finite leaves, physical ranges, one batch shape); return
    the batch shape.  Raises ``ValueError`` naming the offending leaf."""
    if not isinstance(axon, Axon):
        raise ValueError(f"axon must be a jaxneuro.Axon, got {type(axon).__name__}")
    shape = batch_shape(("axon", axon))
    _check_values(_leaf_names(axon, "axon"))
    return shape


def validate_cable_input(axon: Axon, grid: Grid, stimulus: Stimulus, record: Record, initial_v=None) -> tuple:
    """Check the arguments of a cable run; return the batch shape.  Raises ``ValueError``."""
    validate_axon(axon)
    if not isinstance(stimulus, Stimulus):
        raise ValueError(f"stimulus must be a jaxneuro.Stimulus, got {type(stimulus).__name__}")
    shape = batch_shape(("axon", axon), ("stimulus", stimulus))
    _check_values(_leaf_names(stimulus, "stimulus"))
    if _is_concrete(stimulus):
        start = np.asarray(stimulus.position, float)
        end = start + np.asarray(stimulus.width, float)
        if np.any(start < 0) or np.any(end > grid.length * (1 + 1e-12)):
            raise ValueError(
                f"stimulus must lie on the cable: position {stimulus.position} µm (+ width "
                f"{stimulus.width} µm) outside [0, {grid.length}] µm"
            )
    for p in record.probes:
        if not 0.0 <= p <= grid.length:
            raise ValueError(f"Record.probes must lie in [0, {grid.length}] µm, got {p}")
    if initial_v is not None and _is_concrete(initial_v):
        v0 = np.asarray(initial_v, dtype=float)
        if v0.shape[-1:] != (grid.n_nodes,) or v0.ndim > 1 + len(shape) or (v0.ndim > 1 and v0.shape[:-1] != shape):
            raise ValueError(
                f"initial_v must have shape ({grid.n_nodes},) or batch shape {shape} + ({grid.n_nodes},), got {v0.shape}"
            )
        if not np.all(np.isfinite(v0)):
            raise ValueError("initial_v must be finite")
    return shape


def simulate_cable(
    axon: Axon,
    grid: Grid,
    stimulus: Optional[Stimulus] = None,
    *,
    record: Optional[Record] = None,
    initial_v: Optional[ArrayLike] = None,
    linear_solver: str = "thomas",
    unroll: int = 2,
    check: bool = True,
) -> CableSolution:
    """Run the H&H cable for one axon or a batch of axons, with input checks.

    A batch is the same pytree with array leaves of one common shape (e.g. ``Axon(radius=
    jnp.linspace(100, 400, 64))``); scalar leaves are shared.  The batch runs as one program
    (natively batched, node-major), compiled once per (grid, record, batch size).

    Args:
        axon: geometry and membrane (µm, Ω·cm, mS/cm², mV, °C).
        grid: discretisation and end conditions.
        stimulus: current pulse (nA, ms, µm); ``None`` for none.
        record: what to keep.  Default: for a single run the full v history if it holds at most
            2e7 values, plus peaks and 50 mV crossing times; for a batch, only the reductions.
        initial_v: starting potential per node (mV); default rest.
        linear_solver, unroll: see :func:`solve_cable`.
        check: raise :class:`CableDivergenceError` if v became non-finite (ignored under
            ``jit``/``grad``, where values are not available).

    Returns:
        A :class:`CableSolution`; batch axes lead its per-run fields.

    Raises:
        ValueError: invalid input, before anything is compiled.
        CableDivergenceError: the run produced a non-finite potential (with when and where).
    """
    stimulus = Stimulus() if stimulus is None else stimulus
    shape = validate_cable_input(axon, grid, stimulus, record or Record(), initial_v)
    if record is None:
        small = grid.n_nodes * (grid.n_steps + 1) <= 2e7
        record = Record() if (shape == () and small) else Record.reductions()
    if linear_solver not in LINEAR_SOLVERS:
        raise ValueError(f"linear_solver must be one of {LINEAR_SOLVERS}, got {linear_solver!r}")
    if shape == ():
        solution = _solve_one(axon, grid, stimulus, record, initial_v, linear_solver=linear_solver, unroll=unroll)
    else:
        size = int(np.prod(shape))

        def flat(leaf):
            return jnp.broadcast_to(jnp.asarray(leaf, dtype=float), shape).reshape(size)

        axon_flat = jax.tree.map(flat, axon)
        stimulus_flat = jax.tree.map(flat, stimulus)
        v0 = None if initial_v is None else jnp.asarray(initial_v, float)
        if v0 is not None and v0.ndim > 1:
            v0 = v0.reshape(size, grid.n_nodes)
        solution = _solve_one(axon_flat, grid, stimulus_flat, record, v0, linear_solver=linear_solver, unroll=unroll)
        unflat = lambda a: a.reshape(shape + a.shape[1:])  # noqa: E731
        t, x = solution.t, solution.x
        solution = jax.tree.map(unflat, solution._replace(t=None, x=None))._replace(t=t, x=x)
    if check and _is_concrete(solution.diverged_at_step):
        _raise_if_diverged(solution, grid, shape)
    return solution


def _raise_if_diverged(solution: CableSolution, grid: Grid, shape: tuple) -> None:
    steps = np.asarray(solution.diverged_at_step)
    if np.all(steps < 0):
        return
    nodes = np.asarray(solution.diverged_at_node)
    where = np.argwhere(steps >= 0) if shape else [()]
    first = tuple(where[0])
    member = f" (batch member {first}; {len(where)} of {steps.size} diverged)" if shape else ""
    raise CableDivergenceError(
        f"membrane potential became non-finite at t = {steps[first] * grid.dt:g} ms, "
        f"x = {nodes[first] * grid.dx:g} µm{member}; reduce dt or dx, or check the parameters"
    )


# ----------------------------------------------------------------------------------------
# Conduction velocity.


def _time_at(times: Array, x: ArrayLike, nodes: Array) -> Array:
    """Arrival time at position x (µm) by linear interpolation of per-node times (..., nodes).

    Pure jnp on the node positions, so it also works when they are traced (inside ``jit``)."""
    position = (jnp.asarray(x) - nodes[0]) / (nodes[1] - nodes[0])
    index = jnp.clip(jnp.floor(position).astype(int), 0, times.shape[-1] - 2)
    weight = position - index
    return (1.0 - weight) * jnp.take(times, index, axis=-1) + weight * jnp.take(times, index + 1, axis=-1)


def arrival_time(solution: CableSolution, x: float, measure: str = "peak") -> Array:
    """Time (ms) at which the spike reaches position ``x`` (µm): its peak (``"peak"``) or the
    threshold crossing (``"crossing"``), interpolated in time within a step and in space
    between nodes."""
    times = {"peak": solution.peak_t, "crossing": solution.crossing_t}.get(measure, "bad")
    if isinstance(times, str):
        raise ValueError(f"measure must be 'peak' or 'crossing', got {measure!r}")
    if times is None:
        raise ValueError(f"the solution has no {measure} times: record them (Record.peaks / Record.threshold)")
    if _is_concrete(solution.x) and _is_concrete(x):
        length = float(solution.x[-1])
        if not 0.0 <= float(x) <= length:
            raise ValueError(f"position must lie in [0, {length}] µm, got {x}")
    return _time_at(times, x, solution.x)


def conduction_velocity(
    solution: CableSolution, x1: float = 20_000.0, x2: float = 30_000.0, measure: str = "peak"
) -> Array:
    """Conduction velocity (m/s) between positions ``x1`` < ``x2`` (µm).

    From sub-step interpolated arrival times (see :func:`arrival_time`), not a grid argmax.
    Raises ``ValueError`` if the spike did not reach both positions (when values are concrete).
    """
    if not x1 < x2:
        raise ValueError(f"need x1 < x2, got x1 = {x1} µm, x2 = {x2} µm")
    t1, t2 = arrival_time(solution, x1, measure), arrival_time(solution, x2, measure)
    if solution.crossing_t is not None and _is_concrete(solution.crossing_t):
        for x in (x1, x2):
            if not np.all(np.isfinite(np.asarray(_time_at(solution.crossing_t, x, solution.x)))):
                raise ValueError(f"no spike reached x = {x} µm (the threshold was never crossed there)")
    return (x2 - x1) / (t2 - t1) * 1e-3  # µm/ms -> m/s


class ConvergedVelocity(NamedTuple):
    """Richardson-extrapolated conduction velocity.

    Attributes:
        velocity: extrapolated velocity (m/s), assuming second-order convergence.
        error_estimate: |difference| between the extrapolations from the two coarser and the two
            finer grids (m/s): a conservative error bound for ``velocity``.
        observed_order: log2 of the ratio of successive differences (≈ 2 for this scheme).
        velocities: velocity on each grid (m/s), coarsest first.
        dx, dt: the grids used (µm, ms).
    """

    velocity: float
    error_estimate: float
    observed_order: float
    velocities: tuple
    dx: tuple
    dt: tuple


def converged_velocity(
    axon: Axon,
    grid: Grid,
    stimulus: Stimulus,
    x1: float = 20_000.0,
    x2: float = 30_000.0,
    *,
    levels: int = 3,
    measure: str = "peak",
) -> ConvergedVelocity:
    """Velocity on ``levels`` grids, each halving dx and dt, and its Richardson extrapolation.

    The stimulus is a physical current, so every grid simulates the same physics.  x1 and x2
    must be nodes of the coarsest grid or lie between nodes (linear interpolation is used).
    """
    if levels < 3:
        raise ValueError(f"levels must be >= 3 (two extrapolations are compared), got {levels}")
    grids = [grid]
    for _ in range(levels - 1):
        grids.append(grids[-1].refined(2))
    velocities = []
    for g in grids:
        sol = simulate_cable(axon, g, stimulus, record=Record.reductions())
        velocities.append(float(conduction_velocity(sol, x1, x2, measure)))
    v = np.array(velocities)
    extrapolated = v[1:] + (v[1:] - v[:-1]) / 3.0
    differences = np.diff(v)
    order = float(np.log2(differences[-2] / differences[-1])) if differences[-1] != 0 else float("inf")
    return ConvergedVelocity(
        velocity=float(extrapolated[-1]),
        error_estimate=float(abs(extrapolated[-1] - extrapolated[-2])),
        observed_order=order,
        velocities=tuple(velocities),
        dx=tuple(g.dx for g in grids),
        dt=tuple(g.dt for g in grids),
    )
