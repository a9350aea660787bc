"""The batched jobs that :func:`jaxneuro.sweep.run` and ``jaxneuro sweep`` run.

Each job is an :class:`equinox.Module`: its static fields are the configuration (one compiled
program per value), its array fields are shared by every member, and calling it on a dict of
member parameters (1-D arrays, the members along axis 0) returns a dict of per-member results
whose keys carry their unit (``velocity_m_per_s``, ``phi_uV``, ...) and a ``result`` code
(:mod:`jaxneuro.results`) where a member can fail.  A job is pure: it works under ``jit``,
``vmap`` and ``grad`` like the module functions it calls.

======================  ====================================================  =====================
job                     members (units)                                       science
======================  ====================================================  =====================
:class:`Cable`          radius, rho, temperature, channel densities, ...,     :mod:`jaxneuro.cable`
                        stim_density
:class:`Speed`          radius, rho, temperature, channel densities, ...      :mod:`jaxneuro.wave`
:class:`Extracellular`  radius, rho, distance, x, sigma_e                     :mod:`jaxneuro.extracellular`
:class:`PopulationScan` h_E, h_I, tau_E, tau_I, c1 … c4                       :mod:`jaxneuro.population`
:class:`FitStarts`      the fitted parameters' starting values                :mod:`jaxneuro.fitting`
======================  ====================================================  =====================

Examples:
    >>> import jaxneuro as jn
    >>> job = jn.jobs.Speed(dt=0.01, rtol=1e-8)
    >>> out = jn.sweep.run(job, {"temperature": [6.3, 18.5]})
    >>> [round(float(u), 2) for u in out["speed_m_per_s"]]
    [12.31, 18.73]
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import cable, extracellular, fitting, population, results, validation, wave
from .cable import Axon, Grid
from .membrane import HHParams
from .population import PopulationParams

__all__ = ["AXON_PARAMETERS", "Cable", "Speed", "Extracellular", "PopulationScan", "FitStarts", "JOBS", "default"]

#: The axon's sweepable parameters and their units (the names of :class:`Axon` and
#: :class:`jaxneuro.membrane.HHParams`, as on the command line).
AXON_PARAMETERS = {
    "radius": "µm", "rho": "Ω·cm", "temperature": "°C", "Cm": "µF/cm²", "gNa": "mS/cm²", "gK": "mS/cm²",
    "gL": "mS/cm²", "ENa": "mV", "EK": "mV", "EL": "mV", "beta_m_exponent": "1/mV", "q10": "",
}


def _check_axon_members(axon: Axon, members: dict) -> None:
    host = {name: np.asarray(values, float) for name, values in members.items()}
    n = len(next(iter(host.values())))
    pick = lambda name, default: np.broadcast_to(np.asarray(host.get(name, default), float), (n,))  # noqa: E731
    membrane = HHParams(*(pick(name, value) for name, value in zip(HHParams._fields, axon.membrane)))
    cable.validate_axon(Axon(pick("radius", axon.radius), pick("rho", axon.rho), membrane))


def _axon_with(axon: Axon, members: dict, dtype) -> Axon:
    """``axon`` with the members' values in place of its leaves (broadcast to the batch)."""
    n = jnp.shape(next(iter(members.values())))[0]
    pick = lambda name, default: jnp.broadcast_to(jnp.asarray(members.get(name, default), dtype), (n,))  # noqa: E731
    membrane = HHParams(*(pick(name, value) for name, value in zip(HHParams._fields, axon.membrane)))
    return Axon(pick("radius", axon.radius), pick("rho", axon.rho), membrane)


class Cable(eqx.Module):
    """Conduction velocity of a batch of H&H cables (Lees' scheme; reductions only: per-node
    peak and crossing times, no history), one member per axon.

    Attributes:
        axon: the values of the parameters not swept (default Cooley & Dodge).
        grid: the cable's discretisation (static; default :func:`jaxneuro.cooley_dodge_grid`).
        x1, x2: positions (µm) between which the velocity is measured (static; default 2 and 3 cm,
            the notebook's).
        stim_duration: the stimulus pulse (ms) on the half-cell at x = 0 (static).
        linear_solver: as :func:`jaxneuro.simulate_cable` (static; ``"auto"`` picks per backend).
        dtype: ``jnp.float64`` or ``jnp.float32`` (static; in a float32 sweep, ``sweep.run(...,
            dtype=jnp.float32)``, always float32).

    Members: :data:`AXON_PARAMETERS` and ``stim_density`` (µA/cm², default 2500, Cooley & Dodge).

    Returns per member: ``velocity_m_per_s``, ``peak_mV`` (the highest v on the cable, mV from
    rest), ``result``.
    """

    axon: Axon = cable.cooley_dodge_axon()
    grid: Grid = eqx.field(static=True, default=cable.cooley_dodge_grid())
    x1: float = eqx.field(static=True, default=20_000.0)
    x2: float = eqx.field(static=True, default=30_000.0)
    stim_duration: float = eqx.field(static=True, default=0.2)
    linear_solver: str = eqx.field(static=True, default="auto")
    dtype: type = eqx.field(static=True, default=jnp.float64)

    parameters: ClassVar[dict] = {**AXON_PARAMETERS, "stim_density": "µA/cm²"}
    #: compiled with :data:`jaxneuro.sweep.TUNED_CPU_OPTIONS` on the CPU (same values, faster).
    tuned_for_cpu: ClassVar[bool] = True

    def __check_init__(self):
        if not isinstance(self.grid, Grid):
            raise ValueError(f"grid must be a jaxneuro.Grid, got {type(self.grid).__name__}")
        if not 0.0 <= self.x1 < self.x2 <= self.grid.length:
            raise ValueError(f"need 0 <= x1 < x2 <= {self.grid.length:g} µm (on the cable), got x1 = {self.x1:g}, "
                             f"x2 = {self.x2:g} µm")
        if not self.stim_duration > 0.0:
            raise ValueError(f"stim_duration must be > 0 ms, got {self.stim_duration}")
        validation.check_choice("linear_solver", self.linear_solver, cable.LINEAR_SOLVERS)
        if jnp.dtype(self.dtype) not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")

    def check(self, members: dict) -> None:
        """The members' physical ranges (host side), as :func:`jaxneuro.cable.validate_axon`."""
        _check_axon_members(self.axon, members)
        if "stim_density" in members:
            validation.check_number("stim_density", np.asarray(members["stim_density"], float), unit="µA/cm²")

    def member_bytes(self) -> int:
        # State, factors, reductions and the step's temporaries: ~64 values per node.
        return 64 * self.grid.n_nodes * jnp.dtype(self.dtype).itemsize

    def __call__(self, members: dict) -> dict:
        dtype = self.dtype if jax.config.jax_enable_x64 else jnp.float32  # float32 sweeps: 64-bit types off
        axon = _axon_with(self.axon, members, dtype)
        n = axon.radius.shape[0]
        density = jnp.broadcast_to(jnp.asarray(members.get("stim_density", 2500.0), dtype), (n,))
        stimulus = cable.Stimulus.from_density(density, axon.radius, self.grid.dx, duration=self.stim_duration)
        stimulus = jax.tree.map(lambda leaf: jnp.broadcast_to(jnp.asarray(leaf, dtype), (n,)), stimulus)
        solution = cable.solve_cable(axon, self.grid, stimulus, cable.Record.reductions(),
                                     linear_solver=cable.resolve_linear_solver(self.linear_solver))
        velocity = cable.conduction_velocity(solution, self.x1, self.x2, throw=False)
        arrival = cable.arrival_result(solution, self.x2)
        return {"velocity_m_per_s": velocity, "peak_mV": jnp.max(solution.peak_v, axis=-1),
                "result": results.first_failure(solution.result, arrival)}


class Speed(eqx.Module):
    """The travelling pulse's speed (m/s) found automatically (:func:`jaxneuro.wave.wave_speed`),
    one member per axon.

    Attributes:
        axon: the values of the parameters not swept (default Cooley & Dodge).
        branch, dt, t_stop, solver, amplitude, rtol, max_iterations: as
            :func:`jaxneuro.wave.wave_speed` (static).

    Members: :data:`AXON_PARAMETERS`.  Returns per member: ``speed_m_per_s``, ``result``.
    """

    axon: Axon = cable.cooley_dodge_axon()
    branch: str = eqx.field(static=True, default="fast")
    dt: float = eqx.field(static=True, default=1e-3)
    t_stop: float = eqx.field(static=True, default=40.0)
    solver: str = eqx.field(static=True, default="rk4")
    amplitude: float = eqx.field(static=True, default=1e-4)
    rtol: float = eqx.field(static=True, default=1e-13)
    max_iterations: int = eqx.field(static=True, default=200)

    parameters: ClassVar[dict] = AXON_PARAMETERS

    def __check_init__(self):
        wave.check_speed_options(branch=self.branch, dt=self.dt, t_stop=self.t_stop, solver=self.solver,
                                 amplitude=self.amplitude, rtol=self.rtol, max_iterations=self.max_iterations)

    def check(self, members: dict) -> None:
        """The members' physical ranges (host side), as :func:`jaxneuro.cable.validate_axon`."""
        _check_axon_members(self.axon, members)

    def member_bytes(self) -> int:
        return 1 << 16  # a few ODE states and a bracket per member

    def __call__(self, members: dict) -> dict:
        axon = _axon_with(self.axon, members, jnp.result_type(float))  # float32 in a float32 sweep
        speed, result = wave.wave_speed_traced(axon, branch=self.branch, dt=self.dt, t_stop=self.t_stop,
                                               solver=self.solver, amplitude=self.amplitude, rtol=self.rtol,
                                               max_iterations=self.max_iterations)
        return {"speed_m_per_s": speed, "result": result}


class Extracellular(eqx.Module):
    """Φ_e (µV) of a spike seen by a point electrode, one member per (axon, electrode), from one
    simulated :class:`jaxneuro.extracellular.SpikeProfile` widened for each axon.

    Attributes:
        profile: the spike profile (e.g. :func:`jaxneuro.extracellular.notebook_profile_run`).
        units, formula, subdivisions: as :func:`jaxneuro.extracellular.sweep` (static).

    Members: ``radius`` (µm), ``rho`` (Ω·cm), ``distance`` (µm from the axis, > radius), ``x``
    (µm along the axis from the spike's peak), ``sigma_e`` (S/m); defaults: the profile's axon,
    100 µm, 0, 0.3 S/m.  Returns per member: ``phi_uV``, ``error_uV`` (quadrature estimate); with
    ``units="notebook"``, ``phi_notebook_units`` and ``error_notebook_units``.
    """

    profile: extracellular.SpikeProfile
    units: str = eqx.field(static=True, default="physical")
    formula: str = eqx.field(static=True, default="eq10")
    subdivisions: int = eqx.field(static=True, default=2)

    parameters: ClassVar[dict] = {"radius": "µm", "rho": "Ω·cm", "distance": "µm", "x": "µm", "sigma_e": "S/m"}

    def __check_init__(self):
        if not isinstance(self.profile, extracellular.SpikeProfile):
            raise ValueError(f"profile must be a jaxneuro.extracellular.SpikeProfile, got {type(self.profile).__name__}")
        validation.check_choice("units", self.units, extracellular.UNITS)
        validation.check_choice("formula", self.formula, extracellular.PROFILE_FORMULAS)
        validation.check_integer("subdivisions", self.subdivisions, minimum=1)

    def check(self, members: dict) -> None:
        """Positive radii, ρ, σ_e and distances, and every electrode outside its axon (host side)."""
        host = {name: np.asarray(values, float) for name, values in members.items()}
        for name in ("radius", "rho", "distance", "sigma_e"):
            if name in host:
                validation.check_number(name, host[name], positive=True, unit=self.parameters[name])
        radius = host.get("radius", float(self.profile.axon.radius))
        distance = host.get("distance", 100.0)
        inside = np.asarray(distance) < np.asarray(radius)
        if np.any(inside):
            k = int(np.argmax(np.broadcast_to(inside, np.broadcast_shapes(np.shape(distance), np.shape(radius)))))
            raise ValueError(f"electrode inside the axon for member {k}: distance {np.broadcast_to(distance, inside.shape)[k]} "
                             f"µm < radius {np.broadcast_to(radius, inside.shape)[k]} µm")

    def member_bytes(self) -> int:
        # The 16- and 8-point Gauss–Legendre rules on every panel, ~4 temporaries per node.
        return 4 * 24 * self.subdivisions * int(np.shape(self.profile.x)[0]) * 8

    def __call__(self, members: dict) -> dict:
        n = jnp.shape(next(iter(members.values())))[0]
        get = lambda name, default: jnp.broadcast_to(jnp.asarray(members.get(name, default), float), (n,))  # noqa: E731
        radius, rho = get("radius", self.profile.axon.radius), get("rho", self.profile.axon.rho)
        distance, x, sigma_e = get("distance", 100.0), get("x", 0.0), get("sigma_e", extracellular.SIGMA_E)
        phi = extracellular.potential_many(self.profile, radius, rho, distance, x, sigma_e, units=self.units,
                                           formula=self.formula, subdivisions=self.subdivisions)
        if self.units == "notebook":  # the notebook's numbers: a² ∫ kernel·V du, not µV
            return {"phi_notebook_units": phi.value, "error_notebook_units": phi.error}
        return {"phi_uV": phi.value, "error_uV": phi.error}


class PopulationScan(eqx.Module):
    """Fixed points, their types and the oscillation (:func:`jaxneuro.population.scan`), one
    member per parameter set.

    Attributes:
        params: the values of the parameters not swept (default the ``"homoclinic"`` preset).
        window: the fixed points' search window (static).
        resolution, max_points, t_transient, t_record, dt_save, rtol, atol, min_amplitude,
            max_steps: as :func:`jaxneuro.population.scan` (static).

    Members: the fields of :class:`jaxneuro.population.PopulationParams` (unitless; time
    constants in the model's time unit).  Returns per member: ``period``, ``amplitude_E``,
    ``amplitude_I``, ``oscillating``, ``fixed_points`` (count in the window), ``fixed_E``,
    ``fixed_I``, ``kind`` (max_points each), ``result``.
    """

    params: PopulationParams = population.PRESETS["homoclinic"]
    window: population.Grid2D = eqx.field(static=True, default=population.Grid2D())
    resolution: int = eqx.field(static=True, default=2001)
    max_points: int = eqx.field(static=True, default=5)
    t_transient: float = eqx.field(static=True, default=60.0)
    t_record: float = eqx.field(static=True, default=120.0)
    dt_save: float = eqx.field(static=True, default=0.05)
    rtol: float = eqx.field(static=True, default=1e-8)
    atol: float = eqx.field(static=True, default=1e-10)
    min_amplitude: float = eqx.field(static=True, default=1e-3)
    max_steps: int = eqx.field(static=True, default=2_000_000)

    parameters: ClassVar[dict] = {name: "" for name in PopulationParams._fields}

    def __check_init__(self):
        population._check_window(self.window)
        validation.check_integer("resolution", self.resolution, minimum=2)
        validation.check_integer("max_points", self.max_points, minimum=1)
        population._check_cycle_options(self.t_transient, self.t_record, self.dt_save, self.rtol, self.atol,
                                        self.min_amplitude, self.max_steps, True)

    def check(self, members: dict) -> None:
        """Positive time constants and c4 > -1 (host side), as :func:`jaxneuro.population.scan`."""
        n = len(next(iter(members.values())))
        params = PopulationParams(*(np.broadcast_to(np.asarray(members.get(name, value), float), (n,))
                                    for name, value in zip(PopulationParams._fields, self.params)))
        population._check_phase_plane(params, scalar=False)

    def member_bytes(self) -> int:
        samples = int(round(self.t_record / self.dt_save)) + 1
        return 8 * (8 * self.resolution + 8 * samples) + (1 << 14)

    def __call__(self, members: dict) -> dict:
        n = jnp.shape(next(iter(members.values())))[0]
        params = PopulationParams(*(jnp.broadcast_to(jnp.asarray(members.get(name, value), float), (n,))
                                    for name, value in zip(PopulationParams._fields, self.params)))
        out = population.scan_traced(params, self.window, resolution=self.resolution, max_points=self.max_points,
                                     t_transient=self.t_transient, t_record=self.t_record, dt_save=self.dt_save,
                                     rtol=self.rtol, atol=self.atol, min_amplitude=self.min_amplitude,
                                     max_steps=self.max_steps)
        osc = out.oscillation
        return {"period": osc.period, "amplitude_E": osc.amplitude_E, "amplitude_I": osc.amplitude_I,
                "oscillating": osc.oscillating, "fixed_points": out.count, "fixed_E": out.fixed_E,
                "fixed_I": out.fixed_I, "kind": out.kind, "result": out.result}


class FitStarts(eqx.Module):
    """Many starts of one fit (:func:`jaxneuro.fitting.fit`'s Levenberg–Marquardt), each run to
    convergence on the device (no host loop), one member per start.

    Attributes:
        problem: the :class:`jaxneuro.fitting.Problem`.
        max_iterations, tolerance: as :func:`jaxneuro.fitting.fit` (static).
        jacobian: ``"auto"``, ``"forward"`` or ``"reverse"`` (static).

    Members: the problem's fitted parameters by name (their units), the starting values.
    Returns per member: ``values`` (members, p) the fitted values (physical units), ``loss``
    (½ Σ ((model - data)/σ)²), ``iterations``, ``result``.
    """

    problem: fitting.Problem
    max_iterations: int = eqx.field(static=True, default=100)
    tolerance: float = eqx.field(static=True, default=1e-10)
    jacobian: str = eqx.field(static=True, default="auto")

    def __check_init__(self):
        if not isinstance(self.problem, fitting.Problem):
            raise ValueError(f"problem must be a jaxneuro.fitting.Problem, got {type(self.problem).__name__}")
        validation.check_integer("max_iterations", self.max_iterations, minimum=1)
        validation.check_number("tolerance", self.tolerance, positive=True, scalar=True)
        validation.check_choice("jacobian", self.jacobian, fitting.JACOBIANS)

    @property
    def parameters(self) -> dict:
        return dict(zip(self.problem.names, self.problem.units))

    def check(self, members: dict) -> None:
        """Every start strictly inside the problem's bounds (host side), as :func:`jaxneuro.fitting.fit`."""
        for name, lower, upper in zip(self.problem.names, np.asarray(self.problem.lower), np.asarray(self.problem.upper)):
            if name in members:
                values = np.asarray(members[name], float)
                if np.any(values <= lower) or np.any(values >= upper):
                    raise ValueError(f"every start of {name} must lie inside its bounds ({lower:g}, {upper:g}), got "
                                     f"{values[(values <= lower) | (values >= upper)][0]:g}")

    def member_bytes(self) -> int:
        p, n = len(self.problem.names), int(self.problem.data.size)
        return 8 * (8 * n * (p + 1) + 4 * p * p) + (1 << 16)

    def __call__(self, members: dict) -> dict:
        n = jnp.shape(next(iter(members.values())))[0]
        starts = jnp.stack([jnp.broadcast_to(jnp.asarray(members.get(name, value), float), (n,))
                            for name, value in zip(self.problem.names, self.problem.start)], axis=-1)
        return fitting.fit_starts_traced(self.problem, starts, max_iterations=self.max_iterations,
                                         tolerance=self.tolerance, jacobian=self.jacobian)


#: The jobs by the name ``jaxneuro sweep`` knows them.
JOBS = {"cable": Cable, "speed": Speed, "extracellular": Extracellular, "population": PopulationScan,
        "fit": FitStarts}


def default(name: str, **options) -> eqx.Module:
    """The job called ``name`` (:data:`JOBS`) with its defaults and ``options``."""
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}; choose one of {', '.join(JOBS)}")
    return JOBS[name](**options)
