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
through :func:`simulate_cable` and :func:`solve_cable`.  :func:`simulate_cable` is the checked
entry point: it validates input before compiling, runs a batch as one compiled program
(natively batched, node-major) and reports divergence (as a result code, or an error when
called eagerly).

Contents:

===============================  ==============================================================
parameters                       :class:`Axon` (µm, Ω·cm, membrane), :class:`Grid` (µm, ms, ends),
                                 :class:`Stimulus` (nA, ms, µm), :class:`Record`, :class:`Boundary`
Cooley & Dodge (1966)            :func:`cooley_dodge_axon`, :func:`cooley_dodge_grid`,
                                 :func:`cooley_dodge_stimulus`
running                          :func:`simulate_cable` (checked), :func:`solve_cable` (compiled core)
the stepper                      :func:`lees_init`, :func:`start_state`, :func:`lees_first_step`,
                                 :func:`lees_step` (diffrax's init/step contract)
measuring                        :func:`arrival_time`, :func:`arrival_result`,
                                 :func:`conduction_velocity`, :func:`converged_velocity`
constants of the equation        :func:`diffusion_coefficient` (µm²/ms), :func:`step_ratio`,
                                 :func:`stimulus_density` (µA/cm²)
input checks                     :func:`validate_axon`, :func:`validate_cable_input`
===============================  ==============================================================
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from functools import partial
from typing import NamedTuple, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import membrane, results, sweep, tridiagonal, validation
from .sweep import FAST_COMPILE_OPTIONS, TUNED_CPU_OPTIONS, _inside_trace
from .membrane import Gates, HHParams

__all__ = [
    "Axon",
    "Boundary",
    "CableDivergenceError",
    "CableSolution",
    "CableState",
    "ConvergedVelocity",
    "DIVERGENCE_LIMIT",
    "MAX_NODES",
    "MAX_RECORDED",
    "Grid",
    "LINEAR_SOLVERS",
    "LeesOperator",
    "Record",
    "Stimulus",
    "TUNED_CPU_OPTIONS",
    "arrival_result",
    "arrival_time",
    "batch_shape",
    "conduction_velocity",
    "converged_velocity",
    "converged_velocities",
    "cooley_dodge_axon",
    "cooley_dodge_grid",
    "cooley_dodge_stimulus",
    "diffusion_coefficient",
    "richardson",
    "lees_first_step",
    "lees_init",
    "lees_step",
    "simulate_cable",
    "solve_cable",
    "start_state",
    "step_ratio",
    "stimulus_density",
    "validate_axon",
    "validate_cable_input", "resolve_linear_solver",
]

Array = jax.Array

#: Accepted values of ``linear_solver`` (see :func:`solve_cable`).
LINEAR_SOLVERS = ("auto", "thomas", "doubling", "lapack")


def resolve_linear_solver(linear_solver: str = "auto") -> str:
    """The substitution a run uses: ``"auto"`` is the fastest measured on the default backend
    (``benchmarks/sweep.py``): ``"thomas"`` (node-by-node, vectorised over the batch) on the CPU,
    ``"doubling"`` (recursive doubling, no loop along the cable) on GPUs and TPUs, where every
    loop iteration is a host-driven launch of a few µs; other names are returned unchanged."""
    if linear_solver != "auto":
        return linear_solver
    return "thomas" if jax.default_backend() == "cpu" else "doubling"

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
    membrane: HHParams = HHParams(EL=10.598, temperature=18.5)


def cooley_dodge_axon(beta_m_exponent: float = membrane.BETA_M_EXPONENT_NOTEBOOK) -> Axon:
    """The squid giant axon of Cooley & Dodge (1966): a = 238 µm, ρ = 35.4 Ω·cm, 18.5 °C, E_L
    10.598 mV (``Axon()``, with a choice of β_m's exponent, 1/mV: the notebook's 0.0555 or
    H&H's 1/18, :data:`jaxneuro.membrane.BETA_M_EXPONENT_HH`)."""
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

        Args:
            density: current density (µA/cm²) on the node's membrane.
            radius: axon radius (µm).
            dx: node spacing (µm) of the grid the density refers to.
            duration: pulse length (ms).
            start: onset (ms).
            node: the node (index), >= 0 and below ``n_nodes`` when that is given.
            n_nodes: number of nodes of the grid (to recognise the far end's half cell).
        """
        validation.check_integer("node", node, minimum=0)
        if n_nodes is not None and node >= n_nodes:
            raise ValueError(f"node must be a node of the grid, in [0, {n_nodes - 1}], got {node}")
        validation.check_number("dx", dx, positive=True, scalar=True, unit="µm")
        at_end = node == 0 or (n_nodes is not None and node == n_nodes - 1)
        membrane_length = dx / 2 if at_end else dx
        xp = np if results.is_concrete((density, radius)) else jnp  # NumPy: nothing to compile
        area_cm2 = 2 * np.pi * xp.asarray(radius, float) * membrane_length / _UM_PER_CM**2
        amplitude = xp.asarray(density, float) * area_cm2 * 1e3  # µA -> nA
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
    previous step's, and the present time ``t`` (ms).  ``CableSolution.final`` is one; pass it
    as ``simulate_cable(..., initial_state=...)`` to continue a run."""

    v: Array
    gates: Gates
    v_previous: Array
    gates_previous: Gates
    t: Array = 0.0


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
        v_rest: resting potential of the membrane (mV), (...).
        result: result code per run (:mod:`jaxneuro.results`): ``SUCCESSFUL``, or ``DIVERGED``
            (non-finite potential, or a resting potential that did not converge), (...).
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
    result: Array


class CableDivergenceError(results.NumericalError, FloatingPointError):
    """The membrane potential became non-finite during a run (result code ``DIVERGED``)."""


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
    x = jnp.asarray(grid.x, jnp.result_type(jnp.asarray(radius), *(jnp.asarray(leaf) for leaf in stimulus)))
    x = x.reshape((-1,) + (1,) * batch_ndim)
    point = jnp.maximum(0.0, 1.0 - jnp.abs(stimulus.position - x) / grid.dx)
    spread = stimulus.width > 0.0
    safe_width = jnp.where(spread, stimulus.width, 1.0)
    uniform = (
        _hat_integral((stimulus.position + safe_width - x) / grid.dx)
        - _hat_integral((stimulus.position - x) / grid.dx)
    ) * (grid.dx / safe_width)
    share = jnp.where(spread, uniform, point)  # fraction of the current entering each node
    membrane_length = jnp.full(grid.n_nodes, grid.dx, x.dtype).at[0].set(grid.dx / 2).at[-1].set(grid.dx / 2)
    membrane_length = membrane_length.reshape(x.shape)
    area_cm2 = 2.0 * jnp.pi * radius * membrane_length / _UM_PER_CM**2
    return stimulus.amplitude * 1e-3 * share / area_cm2  # nA -> µA


def _pulse_on(stimulus: Stimulus, t: Array) -> Array:
    return jnp.where((t >= stimulus.start) & (t < stimulus.start + stimulus.duration), 1.0, 0.0)


# ----------------------------------------------------------------------------------------
# The stepper: Lees' scheme as init/step (after diffrax's solver contract).


class LeesOperator(NamedTuple):
    """Everything of a run that stays constant in time, built once by :func:`lees_init`.

    Node arrays are node-major: (nodes, *batch).

    Attributes:
        r: D dt / dx² (dimensionless), (*batch).
        factor: the factored matrix I - r/2 Λ (``"thomas"``/``"doubling"``), else None.
        diagonals: (lower, diagonal, upper) of I - r/2 Λ (``lower[0]``, ``upper[-1]`` zero).
        boundary_source: the Neumann slope terms of the right-hand side (mV), (nodes, *batch).
        stimulus_density: current density at each node at full amplitude (µA/cm²).
        stimulus: the pulse (its timing: ms).
        membrane: the membrane parameters.
    """

    r: Array
    factor: Optional[tridiagonal.TridiagonalFactor]
    diagonals: Optional[tuple]
    boundary_source: Array
    stimulus_density: Array
    stimulus: Stimulus
    membrane: HHParams


def _dtype(axon: Axon):
    """The floating dtype of a run (that of the axon's leaves, all cast to one dtype by
    :func:`simulate_cable`)."""
    return jnp.result_type(*(jnp.asarray(leaf) for leaf in jax.tree.leaves(axon)))


def lees_init(axon: Axon, grid: Grid, stimulus: Stimulus, *, linear_solver: str = "thomas") -> LeesOperator:
    """Assemble and factor the constant parts of the scheme for ``axon`` on ``grid``.

    Args:
        axon: radius (µm), ρ (Ω·cm), membrane; leaves scalar or of one batch shape.
        grid: discretisation and end conditions (static).
        stimulus: the current pulse (nA, ms, µm).
        linear_solver: ``"thomas"``, ``"doubling"`` or ``"lapack"`` (see :func:`simulate_cable`).
            The factor is built for that solver (``"thomas"``: without the doubling tables),
            so :func:`lees_step` must be given the same one.

    Returns:
        A :class:`LeesOperator`, node-major.
    """
    validation.check_choice("linear_solver", linear_solver, LINEAR_SOLVERS)
    batch = jnp.broadcast_shapes(*(jnp.shape(leaf) for leaf in jax.tree.leaves((axon, stimulus))))
    node_shape = (grid.n_nodes,) + batch
    r = jnp.broadcast_to(step_ratio(axon, grid.dx, grid.dt), batch)
    lower, diagonal, upper = _implicit_matrix(r, grid)
    factor = None
    diagonals = (lower.at[0].set(0.0), diagonal, upper.at[-1].set(0.0))
    if linear_solver != "lapack":  # node-by-node substitution needs no doubling tables beyond the first
        levels = None if resolve_linear_solver(linear_solver) == "doubling" else 1
        factor = tridiagonal.factor_traced(*diagonals, axis=0, levels=levels)
    # A Neumann end's slope α enters Lees' right-hand side twice, as -r·α·dx (left; +r·β·dx on the
    # right): through the explicit half's false boundary and through the implicit half's.  In
    # the 2v - A v form of the explicit half used by lees_step, A has no such terms, so both
    # are added here.
    boundary_source = jnp.zeros(node_shape, r.dtype)
    if grid.left.kind == "neumann":
        boundary_source = boundary_source.at[0].set(-2.0 * r * grid.left.value * grid.dx)
    if grid.right.kind == "neumann":
        boundary_source = boundary_source.at[-1].set(2.0 * r * grid.right.value * grid.dx)
    return LeesOperator(r, factor, diagonals, boundary_source, stimulus_density(stimulus, axon.radius, grid),
                        stimulus, axon.membrane)


def _linear_solve(op: LeesOperator, rhs: Array, linear_solver: str) -> Array:
    if linear_solver == "lapack":
        last = lambda a: jnp.moveaxis(a, 0, -1)  # noqa: E731  (LAPACK wants nodes last)
        lower, diagonal, upper = op.diagonals
        x = jax.lax.linalg.tridiagonal_solve(last(lower), last(diagonal), last(upper), last(rhs)[..., None])
        return jnp.moveaxis(x[..., 0], -1, 0)
    validation.check_choice("linear_solver", linear_solver, LINEAR_SOLVERS)
    doubling = resolve_linear_solver(linear_solver) == "doubling"
    return tridiagonal.solve_system_traced(op.diagonals, op.factor, rhs, axis=0, doubling=doubling)


def _voltage_rate(op: LeesOperator, v, gates, t_mid):
    """dV/dt from the membrane (mV/ms), with the stimulus at ``t_mid`` (ms)."""
    i_stim = op.stimulus_density * _pulse_on(op.stimulus, t_mid)
    return (i_stim - membrane.ionic_current(v, gates, op.membrane)) / op.membrane.Cm


def start_state(axon: Axon, grid: Grid, initial_v=None, batch: tuple = ()) -> CableState:
    """The state at t = 0 ms, node-major.

    Args:
        axon: the membrane (for the resting potential and the gates' steady state).
        grid: the static discretisation (its node count).
        initial_v: potential (mV from rest), (nodes,) or (*batch, nodes); default the exact
            resting potential.  Dirichlet ends are set to their value.
        batch: the batch shape (static).

    Returns:
        A :class:`CableState` with v, gates at their steady state for v, as both time levels.
    """
    node_shape = (grid.n_nodes,) + tuple(batch)
    if initial_v is None:
        v0 = jnp.broadcast_to(membrane.resting_potential(axon.membrane, throw=False), node_shape)
    else:
        v0 = jnp.broadcast_to(jnp.moveaxis(jnp.asarray(initial_v, _dtype(axon)), -1, 0), node_shape)
    v0 = _clamp_ends(v0, grid)
    gates0 = membrane.steady_state(v0, axon.membrane)
    return CableState(v0, gates0, v0, gates0, jnp.zeros((), v0.dtype))


def lees_first_step(op: LeesOperator, grid: Grid, state: CableState) -> CableState:
    """The explicit first step (eqs. 27, 38, 40) from a state with one time level.

    Args:
        op: the run's constants (:func:`lees_init`).
        grid: the static discretisation (dt in ms).
        state: the start (:func:`start_state`; v in mV, node-major, time ``state.t`` in ms).

    Returns:
        The state one step later, with ``state``'s level as the previous one.
    """
    dt = grid.dt
    v, gates = state.v, state.gates
    v_new = v + op.r * _second_difference(v, grid) + dt * _voltage_rate(op, v, gates, state.t + 0.5 * dt)
    rates = membrane.gate_derivatives(v, gates, op.membrane)
    v_new = _clamp_ends(v_new, grid)
    return CableState(v_new, Gates(*(g + dt * dg for g, dg in zip(gates, rates))), v, gates, state.t + dt)


def lees_step(op: LeesOperator, grid: Grid, state: CableState, t_mid, *, linear_solver: str = "thomas") -> CableState:
    """One step of Lees' scheme (eqs. 26, 37, 39) from the two time levels in ``state``.

    Args:
        op: the run's constants (:func:`lees_init`).
        grid: the static discretisation.
        state: present and previous levels (node-major; v in mV).
        t_mid: the step's midpoint time (ms), at which the stimulus is evaluated.
        linear_solver: as in :func:`lees_init`.

    Returns:
        The next :class:`CableState` (its ``t`` advanced by dt, ms).

    Examples:
        >>> import jaxneuro as jn
        >>> from jaxneuro import cable
        >>> grid = jn.Grid(length=1_000.0, dx=100.0, dt=0.01, t_stop=0.02)
        >>> axon = jn.Axon(radius=1.0)
        >>> op = cable.lees_init(axon, grid, jn.Stimulus(0.5, 0.0, 1.0))   # 0.5 nA at x = 0
        >>> state = cable.lees_first_step(op, grid, cable.start_state(axon, grid))
        >>> state = cable.lees_step(op, grid, state, 0.015)
        >>> bool(state.v[0] > state.v[-1])   # depolarised where the current enters
        True
    """
    dt = grid.dt
    # Lees' extrapolated midpoint 3/2 U^j - 1/2 U^(j-1) (eq. 25).
    v_mid = 1.5 * state.v - 0.5 * state.v_previous
    gates_mid = Gates(*(1.5 * g - 0.5 * g_prev for g, g_prev in zip(state.gates, state.gates_previous)))
    rates = membrane.gate_derivatives(v_mid, gates_mid, op.membrane)
    # (I + r/2 Λ) v = 2v - (I - r/2 Λ) v, so the step needs no second difference:
    # v_new = (I - r/2 Λ)⁻¹ (2v + dt F + sources) - v.
    rhs = 2.0 * state.v + dt * _voltage_rate(op, v_mid, gates_mid, t_mid) + op.boundary_source
    # Dirichlet rows solve to exactly 2 × value; clamping the result as well keeps the end
    # exact whatever the linear solver's rounding (LAPACK pivots when r > 2).
    v_new = _clamp_ends(_linear_solve(op, _clamp_ends(rhs, grid, twice=True), linear_solver) - state.v, grid)
    gates_new = Gates(*(g + dt * dg for g, dg in zip(state.gates, rates)))
    return CableState(v_new, gates_new, state.v, state.gates, state.t + dt)


# The stepper's pieces compile once per shape and static configuration when called eagerly;
# the run's program uses the plain functions (nested jits measured slower in the time loop).
_PLAIN = dict(lees_init=lees_init, start_state=start_state, lees_first_step=lees_first_step, lees_step=lees_step)
lees_init = jax.jit(lees_init, static_argnames=("grid", "linear_solver"))
start_state = jax.jit(start_state, static_argnames=("grid", "batch"))
lees_first_step = jax.jit(lees_first_step, static_argnames=("grid",))
lees_step = jax.jit(lees_step, static_argnames=("grid", "linear_solver"))


# ----------------------------------------------------------------------------------------
# The recorder: online reductions and samples as init/update/finalize.


#: |v| (mV from rest) beyond which a run counts as diverged: ~100 times any potential of the
#: H&H membrane, reached within a few steps by an unstable time step (whose values grow
#: geometrically long before they overflow).
DIVERGENCE_LIMIT = 1e4


class _Reductions(NamedTuple):
    # Per node, the largest sample of v so far, the samples either side of it and its step: the
    # parabolic vertex is computed once, after the run (see _peak_vertex), not every step.
    peak: Optional[Array]
    peak_before: Optional[Array]
    peak_after: Optional[Array]
    peak_step: Optional[Array]
    crossing_t: Optional[Array]
    # Per node, the first step at which v was non-finite or beyond DIVERGENCE_LIMIT (-1: never).  Kept elementwise so it
    # fuses with the other updates instead of costing a reduction every step.
    first_bad_step: Array


def recorder_init(state: CableState, record: Record) -> _Reductions:
    """Empty reductions for a run starting at ``state`` (node-major)."""
    v0 = state.v
    return _Reductions(
        peak=v0 if record.peaks else None,
        peak_before=v0 if record.peaks else None,
        peak_after=v0 if record.peaks else None,
        peak_step=jnp.zeros(v0.shape, v0.dtype) if record.peaks else None,
        crossing_t=jnp.full(v0.shape, jnp.inf, v0.dtype) if record.threshold is not None else None,
        first_bad_step=jnp.full(v0.shape, -1),
    )


def recorder_update(red: _Reductions, v_prev, v, v_new, step, t, grid: Grid, record: Record, at_start=False):
    """Fold the step ``step -> step + 1`` into the running reductions (v is at ``t`` ms, the
    ``step``-th level of this run)."""
    dt = grid.dt
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
    newly_bad = ~(jnp.abs(v_new) <= DIVERGENCE_LIMIT) & (red.first_bad_step < 0)  # NaN included
    return _Reductions(*red_peaks, crossing_t, jnp.where(newly_bad, step + 1, red.first_bad_step))


def _peak_vertex(red: _Reductions, final_v, n_steps: int, dt: float, t0):
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
    peak_t = t0 + (red.peak_step + offset) * dt
    later = final_v > peak_v
    return jnp.where(later, final_v, peak_v), jnp.where(later, t0 + n_steps * dt, peak_t)


def recorder_finalize(red: _Reductions, final: CableState, grid: Grid, record: Record, t0):
    """Peaks (mV, ms), crossing times (ms), and where the run first became non-finite:
    ``(peak_v, peak_t, crossing_t, diverged_at_step, diverged_at_node)``, node-major."""
    n_steps = grid.n_steps
    peak_v = peak_t = None
    if record.peaks:
        peak_v, peak_t = _peak_vertex(red, final.v, n_steps, grid.dt, t0)
    bad_step = jnp.where(red.first_bad_step < 0, n_steps + 1, red.first_bad_step)
    first_bad = jnp.min(bad_step, axis=0)
    diverged = first_bad <= n_steps
    return (peak_v, peak_t, red.crossing_t, jnp.where(diverged, first_bad, -1),
            jnp.where(diverged, jnp.argmin(bad_step, axis=0), -1))


def _probe_interpolation(probes: tuple, grid: Grid):
    position = np.asarray(probes, dtype=float) / grid.dx
    index = np.clip(np.floor(position).astype(int), 0, grid.n_nodes - 2)
    return index, position - index


def _sample(state: CableState, record: Record, grid: Grid) -> dict:
    out = {}
    if record.history:
        out["v"] = state.v
        if record.gates:
            out["gates"] = state.gates
    if record.probes:
        probe_index, probe_weight = _probe_interpolation(record.probes, grid)
        v = state.v
        weight = jnp.asarray(probe_weight, v.dtype).reshape((-1,) + (1,) * (v.ndim - 1))  # against (probes, *batch)
        out["probe_v"] = (1.0 - weight) * v[probe_index] + weight * v[probe_index + 1]
    return out


# ----------------------------------------------------------------------------------------
# The driver: the time loop.


def _nested_scan(body, carry, length: int, levels: int, unroll: int):
    """``lax.scan(body, carry, None, length)`` with its outputs, as ``levels`` nested levels of
    checkpointed blocks of ~length**(1/levels) iterations (``body`` itself is checkpointed by
    the caller): the backward pass stores ~levels * length**(1/levels) carries, not ``length``."""
    if levels <= 1 or length <= 1:
        return jax.lax.scan(body, carry, None, length=length, unroll=min(unroll, max(length, 1)))
    inner = max(1, math.ceil(length ** (1.0 / levels)))
    outer, rest = divmod(length, inner)

    @partial(jax.checkpoint, prevent_cse=False)
    def block(c, _):
        return _nested_scan(body, c, inner, levels - 1, unroll)

    carry, blocks = jax.lax.scan(block, carry, None, length=outer)
    parts = [jax.tree.map(lambda a: a.reshape((outer * inner,) + a.shape[2:]), blocks)]
    if rest:
        carry, tail = _nested_scan(body, carry, rest, levels - 1, unroll)
        parts.append(tail)
    return carry, jax.tree.map(lambda *a: jnp.concatenate(a), *parts) if len(parts) > 1 else parts[0]


def _run(axon: Axon, grid: Grid, stimulus: Stimulus = Stimulus(), record: Record = Record(), initial_v=None,
         initial_state: Optional[CableState] = None, *, linear_solver: str = "thomas", unroll: int = 2,
         checkpoint: int = 0) -> CableSolution:
    """One run (or a node-major batch) of ``grid.n_steps`` steps; see :func:`simulate_cable`."""
    state0 = initial_state
    dt, n_steps = grid.dt, grid.n_steps
    batch = jnp.broadcast_shapes(*(jnp.shape(leaf) for leaf in jax.tree.leaves((axon, stimulus))))
    op = _PLAIN["lees_init"](axon, grid, stimulus, linear_solver=linear_solver)
    v_rest, rest_result = membrane.solve_resting_potential(axon.membrane)
    v_rest = jnp.broadcast_to(v_rest, batch)
    continuing = state0 is not None
    if continuing:  # a state from CableSolution.final: batch-first, to node-major
        to_nodes = lambda a: jnp.broadcast_to(jnp.moveaxis(a, -1, 0), (grid.n_nodes,) + batch)  # noqa: E731
        state0 = CableState(*(jax.tree.map(to_nodes, f) for f in state0[:4]), jnp.asarray(state0.t, _dtype(axon)))
    else:  # the resting potential solved above, not a second time by start_state
        state0 = _PLAIN["start_state"](axon, grid, v_rest[..., None] if initial_v is None else initial_v, batch)
    t0 = state0.t
    red = recorder_init(state0, record)

    # Carry = (state, reductions, step index of state.v within this run).
    def one_step(carry, _):
        state, red, step = carry
        new = _PLAIN["lees_step"](op, grid, state, t0 + (step + 0.5) * dt, linear_solver=linear_solver)
        red = recorder_update(red, state.v_previous, state.v, new.v, step, t0 + step * dt, grid, record)
        return (new, red, step + 1), None

    def advance(carry, n, levels=checkpoint):
        if n == 0:
            return carry
        if n == 1:
            return one_step(carry, None)[0]
        if levels <= 1:
            body = jax.checkpoint(one_step, prevent_cse=False) if levels == 1 else one_step
            return jax.lax.scan(body, carry, None, length=n, unroll=min(unroll, n))[0]
        # Nested checkpoints (after Jaxley's checkpoint_lengths): blocks of ~n**(1/levels) steps,
        # each recomputed in the backward pass, so that memory grows like levels * n**(1/levels).
        inner = max(1, math.ceil(n ** (1.0 / levels)))
        outer, rest = divmod(n, inner)

        @partial(jax.checkpoint, prevent_cse=False)
        def block(c, _):
            return advance(c, inner, levels - 1), None

        carry = jax.lax.scan(block, carry, None, length=outer)[0] if outer else carry
        return advance(carry, rest, levels - 1)

    if continuing:
        # The previous level is the one before state0 (step -1): the peak tracker starts from it.
        carry = (state0, red, jnp.array(0))
        remaining = n_steps
    else:
        first = _PLAIN["lees_first_step"](op, grid, state0)
        red = recorder_update(red, state0.v, state0.v, first.v, 0, t0, grid, record, at_start=True)
        carry = (first, red, jnp.array(1))
        remaining = n_steps - 1
    done = n_steps - remaining  # levels already computed beyond state0
    samples = None
    if record.samples_anything:
        k = record.every
        n_more = n_steps // k
        samples = [jax.tree.map(lambda a: a[None], _sample(state0, record, grid))]
        if n_more >= 1:
            carry = advance(carry, k - done)
            samples.append(jax.tree.map(lambda a: a[None], _sample(carry[0], record, grid)))

            def chunk(c, _):
                c = advance(c, k, max(checkpoint - 1, min(checkpoint, 1)))
                return c, _sample(c[0], record, grid)

            # Unrolled like the plain time loop when samples are taken every step or two.
            chunk_unroll = max(1, min(unroll, n_more - 1) // k)
            if checkpoint:  # the samples' chunks carry the checkpoints' levels
                carry, rest = _nested_scan(jax.checkpoint(chunk, prevent_cse=False), carry, n_more - 1, checkpoint,
                                           chunk_unroll)
            else:
                carry, rest = jax.lax.scan(chunk, carry, None, length=n_more - 1, unroll=chunk_unroll)
            samples.append(rest)
            carry = advance(carry, n_steps - n_more * k)
        else:
            carry = advance(carry, remaining)
        samples = jax.tree.map(lambda *parts: jnp.concatenate(parts), *samples)
    else:
        carry = advance(carry, remaining)

    final, red, _ = carry
    peak_v, peak_t, crossing_t, bad_step, bad_node = recorder_finalize(red, final, grid, record, t0)
    k = record.every
    samples = samples or {}
    result = results.first_failure(jnp.where(bad_step >= 0, results.DIVERGED, results.SUCCESSFUL),
                                   jnp.broadcast_to(rest_result, batch))
    # Back to the public layout: batch axes first, nodes last.
    nodes_last = partial(jax.tree.map, lambda a: jnp.moveaxis(a, 0, -1))
    samples_last = partial(jax.tree.map, lambda a: jnp.moveaxis(a, (0, 1), (-2, -1)))
    final = CableState(*nodes_last(tuple(final[:4])), t0 + n_steps * dt)  # not the sum of n_steps dt's
    return CableSolution(
        t=t0 + jnp.arange(n_steps // k + 1, dtype=t0.dtype) * (k * dt) if record.samples_anything else jnp.zeros(0, t0.dtype),
        x=jnp.asarray(grid.x, t0.dtype),
        v=samples_last(samples.get("v")),
        gates=samples_last(samples.get("gates")),
        probe_v=samples_last(samples.get("probe_v")),
        peak_v=nodes_last(peak_v),
        peak_t=nodes_last(peak_t),
        crossing_t=nodes_last(crossing_t),
        final=final,
        diverged_at_step=bad_step,
        diverged_at_node=bad_node,
        v_rest=v_rest,
        result=result,
    )


_STATIC = ("grid", "record", "linear_solver", "unroll", "checkpoint")
#: The compiled run: one program per (grid, record, solver, unroll, shapes).  Pure, no checks:
#: use :func:`simulate_cable` for checked runs.
solve_cable = jax.jit(_run, static_argnames=_STATIC)
solve_cable.__doc__ = """Run the cable (compiled once per static configuration and shapes; no input checks).

``solve_cable(axon, grid, stimulus=Stimulus(), record=Record(), initial_v=None, initial_state=None, *,
linear_solver="thomas", unroll=2, checkpoint=0)``: the numerical core behind :func:`simulate_cable`, for use
inside the caller's own ``jit``; see :func:`simulate_cable` for the arguments (``grid`` and
``record`` are static; batches must already be flat, one leading axis; no input checks).

Examples:
    >>> import jaxneuro as jn
    >>> grid = jn.Grid(length=20_000.0, dx=500.0, dt=0.005, t_stop=2.0)
    >>> sol = jn.solve_cable(jn.Axon(), grid, jn.cooley_dodge_stimulus(dx=500.0), jn.Record.reductions())
    >>> int(sol.result), round(float(jn.conduction_velocity(sol, 5_000.0, 15_000.0)), 1)
    (0, 18.6)
"""

# A run that is its own top-level program on the CPU compiles with XLA options (``tuned``):
# sweep.TUNED_CPU_OPTIONS run the Cooley–Dodge cable fastest; sweep.FAST_COMPILE_OPTIONS compile it
# in half the time and run it ~8 % slower (2-core CPU, 2026-12-05: compile 1.2 against 2.3 s, run
# 35 against 32 ms; 64 cables of 161 nodes compile 1.4 against 2.7 s and run 0.69 against 0.72 s;
# benchmarks/NOTES.md).
_solve_tuned = jax.jit(_run, static_argnames=_STATIC, compiler_options=TUNED_CPU_OPTIONS)
_solve_fast_compile = jax.jit(_run, static_argnames=_STATIC, compiler_options=FAST_COMPILE_OPTIONS)
#: The values of ``simulate_cable(tuned=...)``.
TUNINGS = (True, False, "compile")


def _dispatch(arguments: dict, tuned: Union[bool, str], static: dict) -> CableSolution:
    if tuned and jax.default_backend() == "cpu" and results.is_concrete(arguments) and not _inside_trace():
        return (_solve_fast_compile if tuned == "compile" else _solve_tuned)(**arguments, **static)
    return solve_cable(**arguments, **static)


# ----------------------------------------------------------------------------------------
# The checked entry point: validation before compiling, batching, divergence reports.

#: Largest number of nodes (summed over a batch) a run may have, and of values it may record:
#: far beyond any cable here, and below what a 24 GB machine holds.
MAX_NODES = 10_000_000
MAX_RECORDED = 500_000_000

# Valid ranges of the physical parameters.
_POSITIVE = {"axon.radius": "µm", "axon.rho": "Ω·cm", "axon.membrane.Cm": "µF/cm²", "axon.membrane.q10": ""}
_NON_NEGATIVE = {"axon.membrane.gNa": "mS/cm²", "axon.membrane.gK": "mS/cm²", "axon.membrane.gL": "mS/cm²",
                 "stimulus.duration": "ms", "stimulus.width": "µm"}
_UNITS = {"axon.membrane.ENa": "mV", "axon.membrane.EK": "mV", "axon.membrane.EL": "mV",
          "axon.membrane.beta_m_exponent": "1/mV", "stimulus.amplitude": "nA", "stimulus.start": "ms",
          "stimulus.position": "µm"}


def batch_shape(*trees) -> tuple:
    """The common shape of the non-scalar leaves of ``(prefix, tree)`` pairs (``()`` for a single
    run).  Raises ``ValueError`` naming the leaves whose shapes disagree."""
    return validation.batch_shape(*trees)


def _check_leaves(named_leaves) -> None:
    """Numbers (not strings or None), finite, and within the physical ranges (concrete leaves)."""
    for name, leaf in named_leaves:
        if name.endswith(".temperature"):
            validation.check_temperature(name, leaf)
            continue
        validation.check_number(name, leaf, positive=name in _POSITIVE, non_negative=name in _NON_NEGATIVE,
                                unit=_POSITIVE.get(name) or _NON_NEGATIVE.get(name) or _UNITS.get(name, ""))


def validate_axon(axon: Axon) -> tuple:
    """Check an :class:`Axon` (type, numeric finite leaves, physical ranges, one batch shape);
    return the batch shape.  Raises ``ValueError`` naming the offending leaf (e.g.
    ``axon.membrane.gNa``)."""
    if not isinstance(axon, Axon):
        raise ValueError(f"axon must be a jaxneuro.Axon, got {type(axon).__name__}")
    if not isinstance(axon.membrane, HHParams):
        raise ValueError(f"axon.membrane must be a jaxneuro.HHParams, got {type(axon.membrane).__name__}")
    named = validation.leaves_with_names(axon, "axon")
    _check_leaves(named)
    return batch_shape(("axon", axon))


def validate_cable_input(axon: Axon, grid: Grid, stimulus: Stimulus, record: Record, initial_v=None,
                         initial_state=None) -> tuple:
    """Check the arguments of a cable run; return the batch shape.  Raises ``ValueError``."""
    validate_axon(axon)
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a jaxneuro.Grid, got {type(grid).__name__}")
    if not isinstance(stimulus, Stimulus):
        raise ValueError(f"stimulus must be a jaxneuro.Stimulus, got {type(stimulus).__name__}")
    if not isinstance(record, Record):
        raise ValueError(f"record must be a jaxneuro.Record, got {type(record).__name__}")
    _check_leaves(validation.leaves_with_names(stimulus, "stimulus"))
    shape = batch_shape(("axon", axon), ("stimulus", stimulus))
    if results.is_concrete(stimulus):
        start = np.asarray(stimulus.position, float)
        end = start + np.asarray(stimulus.width, float)
        if np.any(start < 0) or np.any(end > grid.length * (1 + 1e-12)):
            raise ValueError(
                f"stimulus must lie on the cable: position {stimulus.position} µm (+ width "
                f"{stimulus.width} µm) outside [0, {grid.length}] µm"
            )
        # The pulse is sampled at step midpoints: one that holds none of them injects nothing.
        on = np.asarray(stimulus.amplitude, float) != 0
        begin, length = np.asarray(stimulus.start, float), np.asarray(stimulus.duration, float)
        t0 = 0.0  # a continued run starts at its initial state's time
        if initial_state is not None and results.is_concrete(initial_state.t):
            t0 = np.asarray(initial_state.t, float)
        first_mid = t0 + (np.ceil(np.maximum(begin - t0, 0.0) / grid.dt - 0.5) + 0.5) * grid.dt
        finished = (initial_state is not None) & (begin + length <= t0)  # delivered before a continued run
        missed = on & ~finished & ((first_mid >= begin + length) | (first_mid > t0 + grid.t_stop))
        if np.any(missed):
            raise ValueError(
                f"stimulus (start {stimulus.start} ms, duration {stimulus.duration} ms) contains no step midpoint "
                f"of the run (dt = {grid.dt} ms, t_stop = {grid.t_stop} ms after its start), so it would inject nothing: "
                "lengthen it or reduce dt"
            )
    members = int(np.prod(shape)) if shape else 1
    if grid.n_nodes * members > MAX_NODES:
        raise ValueError(f"the run has {grid.n_nodes} nodes x {members} cables, more than {MAX_NODES:.0e} "
                         "(each a few hundred bytes of state): use a coarser dx or a smaller batch")
    if record.history:
        values = grid.n_nodes * (grid.n_steps // record.every + 1) * members * (4 if record.gates else 1)
        if values > MAX_RECORDED:
            raise ValueError(f"the recorded history would hold {values:.2e} values (> {MAX_RECORDED:.0e}): "
                             "record every k-th step (Record(every=k)), probes, or reductions only")
    for p in record.probes:
        if not 0.0 <= p <= grid.length:
            raise ValueError(f"Record.probes must lie in [0, {grid.length}] µm, got {p}")
    if initial_v is not None and initial_state is not None:
        raise ValueError("give initial_v or initial_state, not both")
    if initial_v is not None and results.is_concrete(initial_v):
        validation.check_number("initial_v", initial_v, unit="mV")
        v0 = np.asarray(initial_v, dtype=float)
        if v0.shape[-1:] != (grid.n_nodes,) or v0.ndim > 1 + len(shape) or (v0.ndim > 1 and v0.shape[:-1] != shape):
            raise ValueError(
                f"initial_v must have shape ({grid.n_nodes},) or batch shape {shape} + ({grid.n_nodes},), got {v0.shape}"
            )
    if initial_state is not None:
        if not isinstance(initial_state, CableState):
            raise ValueError(f"initial_state must be a CableState (CableSolution.final), got {type(initial_state).__name__}")
        for name, leaf in validation.leaves_with_names(initial_state, "initial_state"):
            validation.check_number(name, leaf)
            if name == "initial_state.t" or validation.is_tracer(leaf):
                continue
            if np.shape(leaf)[-1:] != (grid.n_nodes,) or np.shape(leaf)[:-1] not in ((), shape):
                raise ValueError(f"{name} must have shape ({grid.n_nodes},) or batch shape {shape} + "
                                 f"({grid.n_nodes},) (the grid's nodes last), got shape {np.shape(leaf)}")
    return shape


def _cast(leaf, dtype):
    """``leaf`` as ``dtype``: NumPy on the host for Python and NumPy values (no device work
    per call), ``astype`` for JAX arrays and tracers of another dtype."""
    if isinstance(leaf, (jax.Array, jax.core.Tracer)):
        return leaf if leaf.dtype == dtype else leaf.astype(dtype)
    return np.asarray(leaf, dtype)


def simulate_cable(
    axon: Axon,
    grid: Grid,
    stimulus: Optional[Stimulus] = None,
    *,
    record: Optional[Record] = None,
    initial_v: Optional[ArrayLike] = None,
    initial_state: Optional[CableState] = None,
    linear_solver: str = "auto",
    unroll: Optional[int] = None,
    checkpoint: int = 0,
    tuned: Union[bool, str] = True,
    dtype=None,
    throw: bool = True,
    check: Optional[bool] = None,
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
        initial_v: starting potential per node (mV), (nodes,) or (*batch, nodes); default the
            exact resting potential.  Gates start at their steady state for it.
        initial_state: continue a run: the ``final`` field of an earlier :class:`CableSolution`
            (both time levels and its time, ms); the run then takes ``grid.n_steps`` Lees steps
            from there (the grid's ``t_stop`` is the added duration).  Not with ``initial_v``.
        linear_solver: ``"auto"`` (the default: the fastest on the backend,
            :func:`resolve_linear_solver`), ``"thomas"`` (factored once, node-by-node substitution;
            the fastest on the CPU), ``"doubling"`` (factored once, recursive-doubling
            substitution with no loop along the cable, meant for accelerators) or ``"lapack"``
            (``lax.linalg.tridiagonal_solve``, which refactors every step; for benchmarks).
        unroll: ``lax.scan`` unroll factor of the time loop: default 2 (measured fastest on the
            CPU), or 1 with ``tuned="compile"`` (the Cooley–Dodge program compiles in ~0.7
            instead of ~1.1 s and runs ~25 % longer).
        checkpoint: levels of ``jax.checkpoint`` on the time loop, for reverse-mode gradients
            of long runs (no effect on the values or on forward mode): 0 stores every step's
            intermediates (fastest for short runs, memory ∝ steps × nodes × ~40 values);
            1 stores only each step's state and recomputes the step in the backward pass;
            k >= 2 nests k levels of blocks of ~steps**(1/k) steps (memory ∝ k·steps**(1/k);
            Jaxley's ``checkpoint_lengths``).  With recorded samples the levels are nested over
            the samples' chunks (each chunk's steps are checkpointed one by one).  The values
            are those of the plain run to rounding (a different loop structure).
        tuned: on the CPU, how a run that is its own program (not nested in the caller's
            ``jit``) compiles: ``True``, with :data:`TUNED_CPU_OPTIONS` (runs about 8 % faster
            than XLA's defaults); ``"compile"``, with
            :data:`jaxneuro.sweep.FAST_COMPILE_OPTIONS` (compiles in half the time; a single
            Cooley–Dodge cable runs ~8 % slower, batches and long cables as fast; with the
            time loop not unrolled by default: for one-off runs); ``False``, XLA's defaults.
            Results are the same.
        throw: raise :class:`CableDivergenceError` if the run diverged (v non-finite or beyond
            ±:data:`DIVERGENCE_LIMIT` mV, e.g. a time step too long for the scheme's stability,
            or a resting potential that did not converge) when values are concrete; under ``jit``/
            ``vmap``/``grad``, and with ``throw=False``, the code is in ``solution.result``.
        dtype: floating type of the whole computation: ``None`` for float64 (the default), or
            ``jnp.float32`` for throughput where ~1e-4 relative accuracy is enough; every input
            leaf is cast to it and every output is of it.
        check: deprecated name of ``throw``.

    Returns:
        A :class:`CableSolution`; batch axes lead its per-run fields; ``result`` holds the
        result code per run (:mod:`jaxneuro.results`).

    Raises:
        ValueError: invalid input, before anything is compiled.
        CableDivergenceError: the run diverged (with when and where).

    Examples:
        >>> import jaxneuro as jn
        >>> grid = jn.Grid(length=20_000.0, dx=500.0, dt=0.005, t_stop=2.0)
        >>> sol = jn.simulate_cable(jn.Axon(), grid, jn.cooley_dodge_stimulus(dx=500.0))
        >>> round(float(jn.conduction_velocity(sol, 5_000.0, 15_000.0)), 1)
        18.6
    """
    if check is not None:
        warnings.warn("simulate_cable(check=...) is deprecated: use throw=...", DeprecationWarning, stacklevel=2)
        throw = check
    stimulus = Stimulus() if stimulus is None else stimulus
    dtype = jnp.float64 if dtype is None else dtype
    if jnp.dtype(dtype) not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise ValueError(f"dtype must be float32 or float64 (None), got {dtype!r}")
    validation.check_choice("linear_solver", linear_solver, LINEAR_SOLVERS)
    validation.check_integer("checkpoint", checkpoint, minimum=0)
    tuned = bool(tuned) if isinstance(tuned, (bool, np.bool_)) else tuned
    if not (isinstance(tuned, bool) or (isinstance(tuned, str) and tuned in TUNINGS)):
        raise ValueError(f"tuned must be one of {TUNINGS}, got {tuned!r}")
    if unroll is None:
        unroll = 1 if tuned == "compile" else 2
    validation.check_integer("unroll", unroll, minimum=1)
    shape = validate_cable_input(axon, grid, stimulus, record or Record(), initial_v, initial_state)
    if record is None:
        small = grid.n_nodes * (grid.n_steps + 1) <= 2e7
        record = Record() if (shape == () and small) else Record.reductions()
    static = dict(grid=grid, record=record, linear_solver=resolve_linear_solver(linear_solver), unroll=unroll,
                  checkpoint=checkpoint)
    cast = partial(jax.tree.map, partial(_cast, dtype=jnp.dtype(dtype)))
    axon, stimulus = cast(axon), cast(stimulus)
    initial_v = None if initial_v is None else cast(initial_v)
    initial_state = None if initial_state is None else cast(initial_state)
    if shape == ():
        solution = _dispatch(dict(axon=axon, stimulus=stimulus, initial_v=initial_v, initial_state=initial_state),
                             tuned, static)
    else:
        size = int(np.prod(shape))

        def flat_nodes(leaf):
            return leaf.reshape(size, grid.n_nodes) if leaf.ndim > 1 else leaf

        v0 = None if initial_v is None else flat_nodes(initial_v)
        state0 = None if initial_state is None else CableState(
            *(jax.tree.map(flat_nodes, f) for f in initial_state[:4]), initial_state.t)
        solution = _dispatch(dict(axon=sweep.flatten(axon, shape), stimulus=sweep.flatten(stimulus, shape),
                                  initial_v=v0, initial_state=state0), tuned, static)
        t, x, final_t = solution.t, solution.x, solution.final.t
        solution = sweep.unflatten(solution._replace(t=None, x=None, final=solution.final._replace(t=None)), shape)
        solution = solution._replace(t=t, x=x, final=solution.final._replace(t=final_t))
    if throw:
        _raise_if_diverged(solution, grid, shape)
    return solution


def _raise_if_diverged(solution: CableSolution, grid: Grid, shape: tuple) -> None:
    def where(index):
        step = int(np.asarray(solution.diverged_at_step)[index])
        if step < 0:
            return "(the resting potential did not converge)"
        node = int(np.asarray(solution.diverged_at_node)[index])
        return f"at t = {step * grid.dt:g} ms, x = {node * grid.dx:g} µm; reduce dt or dx, or check the parameters"

    results.raise_if_failed(solution.result, "cable run", error=CableDivergenceError, detail=where)


# ----------------------------------------------------------------------------------------
# Conduction velocity.


def _time_at(times: Array, x: ArrayLike, nodes: Array) -> Array:
    """Arrival time at position x (µm) by linear interpolation of per-node times (..., nodes).

    Pure jnp on the node positions, so it also works when they are traced (inside ``jit``)."""
    position = (jnp.asarray(x) - nodes[0]) / (nodes[1] - nodes[0])
    index = jnp.clip(jnp.floor(position).astype(int), 0, times.shape[-1] - 2)
    weight = position - index
    left, right = jnp.take(times, index, axis=-1), jnp.take(times, index + 1, axis=-1)
    # On a node the other node does not count (it may never have been reached: inf · 0).
    at_left, at_right = weight == 0.0, weight == 1.0
    safe_left, safe_right = jnp.where(at_right, 0.0, left), jnp.where(at_left, 0.0, right)
    return jnp.where(at_left, left, jnp.where(at_right, right, (1.0 - weight) * safe_left + weight * safe_right))


def _check_position(solution: CableSolution, x, name: str = "position") -> None:
    validation.check_number(name, x, unit="µm")
    if results.is_concrete((solution.x, x)):
        length = float(solution.x[-1])
        if not np.all((0.0 <= np.asarray(x, float)) & (np.asarray(x, float) <= length)):
            raise ValueError(f"{name} must lie on the cable, in [0, {length}] µm, got {x}")


def arrival_result(solution: CableSolution, x: ArrayLike, measure: str = "peak") -> Array:
    """Result code (:mod:`jaxneuro.results`) of the arrival of the spike at ``x`` (µm).

    ``DIVERGED`` if the run failed; ``OUTSIDE`` if ``x`` is off the cable (checked here when
    the positions are traced; eagerly they are refused); ``DID_NOT_FIRE`` if the threshold was never crossed at the
    two nodes either side of ``x`` (needs ``Record.threshold``) or, for ``measure="peak"``,
    if the potential there was still highest at the end of the run (a spike still rising, or
    none: no peak was seen); else ``SUCCESSFUL``.  Of the batch shape of the solution.
    """
    code = jnp.asarray(solution.result)
    on_cable = (jnp.asarray(x) >= solution.x[0]) & (jnp.asarray(x) <= solution.x[-1])
    code = results.first_failure(code, jnp.where(on_cable, results.SUCCESSFUL, results.OUTSIDE))
    fired = jnp.asarray(True)
    if solution.crossing_t is not None:
        fired = jnp.isfinite(_time_at(solution.crossing_t, x, solution.x))
    if measure == "peak" and solution.peak_t is not None:
        end = jnp.expand_dims(jnp.asarray(solution.final.t), -1)
        before_end = jnp.where(solution.peak_t < end, 1.0, 0.0)
        fired = fired & (_time_at(before_end, x, solution.x) == 1.0)
    return results.first_failure(code, jnp.where(fired, results.SUCCESSFUL, results.DID_NOT_FIRE))


def arrival_time(solution: CableSolution, x: float, measure: str = "peak", *, throw: bool = True) -> Array:
    """Time (ms) at which the spike reaches position ``x`` (µm).

    Args:
        solution: a cable run with peaks (``measure="peak"``) or crossing times recorded.
        x: position on the cable (µm).
        measure: ``"peak"`` (parabolic sub-step peak time) or ``"crossing"`` (threshold
            crossing); interpolated linearly between nodes.
        throw: raise :class:`jaxneuro.results.NumericalError` when concrete values show that no
            spike arrived (see :func:`arrival_result`).

    Returns:
        The time (ms), NaN where no spike arrived (the reason: :func:`arrival_result`).
    """
    _check_times(solution, measure)
    times = solution.peak_t if measure == "peak" else solution.crossing_t
    _check_position(solution, x)
    code = arrival_result(solution, x, measure)
    if throw:
        results.raise_if_failed(code, f"arrival time at x = {x} µm")
    return jnp.where(code == results.SUCCESSFUL, _time_at(times, x, solution.x), jnp.nan)


def conduction_velocity(solution: CableSolution, x1: float, x2: float, measure: str = "peak", *,
                        throw: bool = True) -> Array:
    """Conduction velocity (m/s) between positions ``x1`` < ``x2`` (µm).

    From sub-step interpolated arrival times (see :func:`arrival_time`), not a grid argmax.

    Args:
        solution: a cable run (single or batch).
        x1, x2: positions on the cable (µm), ``x1 < x2``.
        measure: ``"peak"`` or ``"crossing"``.
        throw: raise eagerly if no spike reached both positions.

    Returns:
        Velocity (m/s); NaN where no spike arrived (codes: :func:`arrival_result` at x2).

    Raises:
        ValueError: positions off the cable or not ordered.
        jaxneuro.results.NumericalError: no spike reached x1 or x2 (``throw=True``, concrete).
    """
    _check_times(solution, measure)
    _check_position(solution, x1, "x1")
    _check_position(solution, x2, "x2")
    if results.is_concrete((x1, x2)) and not float(x1) < float(x2):
        raise ValueError(f"need x1 < x2, got x1 = {x1} µm, x2 = {x2} µm")
    velocity, code = _window_velocities(_arrival_fields(solution), x1, x2, measure)  # one program (a few eagerly)
    if throw:
        results.raise_if_failed(code, f"velocity between x1 = {x1} and x2 = {x2} µm")
    return velocity


def _check_times(solution: CableSolution, measure: str) -> None:
    validation.check_choice("measure", measure, ("peak", "crossing"))
    if (solution.peak_t if measure == "peak" else solution.crossing_t) is None:
        raise ValueError(f"the solution has no {measure} times: record them (Record.peaks / Record.threshold)")


def _arrival_fields(solution: CableSolution) -> CableSolution:
    """The solution with only what the arrival times read (positions, peak and crossing times,
    end time, result code): the recorded history would only multiply the programs compiled."""
    final = CableState(None, None, None, None, solution.final.t)
    return solution._replace(t=None, v=None, gates=None, probe_v=None, peak_v=None, final=final,
                             diverged_at_step=None, diverged_at_node=None, v_rest=None)


def _velocities(solution: CableSolution, x1: Array, x2: Array, measure: str) -> tuple:
    """Velocities (m/s) between ``x1[k]`` and ``x2[k]`` (µm) and their codes (the first
    failure of the run and the two arrivals): one program for all windows."""
    times = solution.peak_t if measure == "peak" else solution.crossing_t
    t1, t2 = _time_at(times, x1, solution.x), _time_at(times, x2, solution.x)
    code = results.first_failure(arrival_result(solution, x1, measure), arrival_result(solution, x2, measure))
    ok = code == results.SUCCESSFUL
    # Both wheres: a failed arrival's times may be equal or infinite, and its NaN must not reach
    # the derivatives of the others (0 · inf).
    return jnp.where(ok, (x2 - x1) / jnp.where(ok, t2 - t1, 1.0) * 1e-3, jnp.nan), code


_window_velocities = jax.jit(_velocities, static_argnames=("measure",))


@partial(jax.jit, static_argnames=("measure",))
def _levels_velocities(solutions: tuple, x1: Array, x2: Array, measure: str) -> list:
    """:func:`_velocities` of every grid of a convergence study in one program."""
    return [_velocities(solution, x1, x2, measure) for solution in solutions]


def richardson(values, order: int = 2) -> np.ndarray:
    """Richardson extrapolations of ``values`` computed on grids each refined by 2 (host side):
    v_fine + (v_fine - v_coarse) / (2**order - 1) for each successive pair."""
    v = np.asarray(values, float)
    return v[1:] + (v[1:] - v[:-1]) / (2.0**order - 1.0)


class ConvergedVelocity(NamedTuple):
    """Richardson-extrapolated conduction velocity.

    Attributes:
        velocity: extrapolated velocity (m/s), assuming second-order convergence.
        error_estimate: |difference| between the extrapolations from the two coarser and the two
            finer grids (m/s).  It covers the discretisation error only: not the modelling
            choices (start state, stimulus, the positions x1 and x2, the cable's distance from
            the travelling-wave limit).
        observed_order: log2 of the ratio of successive differences (≈ 2 for this scheme).
        velocities: velocity on each grid (m/s), coarsest first.
        dx, dt: the grids used (µm, ms).
        result: the first failing result code of the runs and arrivals (``SUCCESSFUL`` if none;
            the velocity and its estimates are then NaN).
    """

    velocity: float
    error_estimate: float
    observed_order: float
    velocities: tuple
    dx: tuple
    dt: tuple
    result: int = results.SUCCESSFUL


def converged_velocity(
    axon: Axon,
    grid: Grid,
    stimulus: Stimulus,
    x1: float = 20_000.0,
    x2: float = 30_000.0,
    *,
    levels: int = 3,
    measure: str = "peak",
    initial_v: Optional[ArrayLike] = None,
    coarsest: Optional[CableSolution] = None,
    **options,
) -> ConvergedVelocity:
    """Velocity on ``levels`` grids, each halving dx and dt, and its Richardson extrapolation.

    The stimulus is a physical current, so every grid simulates the same physics.

    Args:
        axon, grid, stimulus: as for :func:`simulate_cable` (single axon); ``grid`` is the coarsest.
        x1, x2: positions (µm) between which the velocity is measured (interpolated between nodes).
        levels: number of grids (>= 3).
        measure: ``"peak"`` or ``"crossing"``.
        initial_v: the start (mV): ``None`` for the exact rest, or a number for a uniform start
            such as 0 (NEURON's and the notebook's); an array is interpolated onto each grid.
        coarsest: the run on ``grid`` when it is already done (with these arguments and
            peaks recorded), so that it is not simulated again.
        **options: ``linear_solver``, ``unroll``, ``tuned``, ``dtype`` and ``throw`` of
            :func:`simulate_cable` (the others do not carry over between grids: each run
            records reductions and starts from ``initial_v``); ``throw=False`` returns NaN and
            the code in ``result`` instead of raising.

    Returns:
        A :class:`ConvergedVelocity`; its error estimate covers the discretisation only.
        Host side (several grids, Python floats): not for use inside ``jit``.
    """
    return converged_velocities(axon, grid, stimulus, ((x1, x2),), levels=levels, measure=measure,
                                initial_v=initial_v, coarsest=coarsest, **options)[0]


def converged_velocities(
    axon: Axon,
    grid: Grid,
    stimulus: Stimulus,
    windows,
    *,
    levels: int = 3,
    measure: str = "peak",
    initial_v: Optional[ArrayLike] = None,
    coarsest: Optional[CableSolution] = None,
    **options,
) -> list:
    """:func:`converged_velocity` in several windows ``[(x1, x2), ...]`` (µm) from the same runs:
    each of the ``levels`` grids is simulated once.

    Returns:
        One :class:`ConvergedVelocity` per window (host side).

    Examples:
        >>> import jaxneuro as jn
        >>> grid = jn.Grid(length=20_000.0, dx=500.0, dt=0.004, t_stop=2.0)
        >>> near, far = jn.cable.converged_velocities(jn.Axon(), grid, jn.cooley_dodge_stimulus(dx=500.0),
        ...                                           [(5_000, 10_000), (10_000, 15_000)])
        >>> round(near.velocity, 2), round(far.velocity, 2), round(near.observed_order)
        (18.71, 18.7, 2)
    """
    validation.check_integer("levels", levels, minimum=3)
    validation.check_choice("measure", measure, ("peak", "crossing"))
    if coarsest is not None:
        _check_times(coarsest, measure)
    options = dict(options)
    throw = options.pop("throw", True)
    unknown = set(options) - {"linear_solver", "unroll", "tuned", "dtype"}
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; converged_velocity takes linear_solver, unroll, "
                         "tuned, dtype, throw")
    windows = [tuple(w) for w in windows]
    if not windows or any(len(w) != 2 for w in windows):
        raise ValueError(f"windows must be a non-empty list of (x1, x2) pairs in µm, got {windows!r}")
    grids = [grid]
    for _ in range(levels - 1):
        grids.append(grids[-1].refined(2))
    for x1, x2 in windows:
        for name, x in (("x1", x1), ("x2", x2)):
            validation.check_number(name, x, scalar=True, unit="µm")
            if not 0.0 <= x <= grid.length:
                raise ValueError(f"{name} must lie on the cable, in [0, {grid.length}] µm, got {x}")
        if not x1 < x2:
            raise ValueError(f"need x1 < x2, got x1 = {x1} µm, x2 = {x2} µm")
    if initial_v is not None:
        validation.check_number("initial_v", initial_v, unit="mV")
    # Every run is dispatched before any result is read, finest first: the coarser grids'
    # programs are traced (or loaded from the cache) while the longest run computes.
    solutions = {}
    for g in reversed(grids):
        v0 = None
        if initial_v is not None:
            v0 = (np.full(g.n_nodes, float(initial_v)) if np.ndim(initial_v) == 0
                  else np.interp(g.x, grid.x, np.asarray(initial_v, float)))
        if coarsest is not None and g is grid:
            solutions[g] = coarsest
        else:
            solutions[g] = simulate_cable(axon, g, stimulus, record=Record.reductions(), initial_v=v0, throw=False,
                                          **options)
    solutions = [solutions[g] for g in grids]
    x1s, x2s = (jnp.asarray([w[i] for w in windows], float) for i in (0, 1))
    measured = _levels_velocities(tuple(_arrival_fields(sol) for sol in solutions), x1s, x2s, measure)
    velocities, codes = np.array([np.asarray(v) for v, _ in measured]).T, np.array([np.asarray(c) for _, c in measured])
    if throw:  # grid by grid, coarsest first: its run, then its arrivals
        for g, sol, level_codes in zip(grids, solutions, codes):
            _raise_if_diverged(sol, g, ())
            for (x1, x2), code in zip(windows, level_codes):
                results.raise_if_failed(code, f"velocity between x1 = {x1} and x2 = {x2} µm")
    out = []
    for values, code in zip(velocities, (next((int(c) for c in column if c), results.SUCCESSFUL) for column in codes.T)):
        v = np.array(values)
        extrapolated = richardson(v)
        differences = np.diff(v)
        order = float(np.log2(differences[-2] / differences[-1])) if differences[-1] != 0 else float("inf")
        out.append(ConvergedVelocity(
            velocity=float(extrapolated[-1]),
            error_estimate=float(abs(extrapolated[-1] - extrapolated[-2])),
            observed_order=order,
            velocities=tuple(float(value) for value in values),
            dx=tuple(g.dx for g in grids),
            dt=tuple(g.dt for g in grids),
            result=code,
        ))
    return out
