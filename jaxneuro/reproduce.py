"""``jaxneuro reproduce``: every result of the two notebooks and what jaxneuro adds, with a report.

This module orchestrates; the science is in the modules.  Each study function below runs one
piece and returns plain numbers and solutions (tests, the CLI and the figures share them); each
section (``cable``, ``wave``, ``pulses``, ``extracellular``, ``population``) runs its studies,
draws its figures (:mod:`jaxneuro.plotting`) with captions, and gives its rows of the comparison
table; :func:`run_all` times the sections and writes the figures, ``summary.json``, ``report.md``
and ``report.html`` (:mod:`jaxneuro.report`).  ``quick=True`` runs coarser versions of the
expensive studies (fewer temperatures, radii and scan points, one β_m) for a check in well
under a minute.
"""

from __future__ import annotations

import platform
import time
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from . import cable, membrane, references, validation
from .cable import Axon, Grid, Record, Stimulus
from .output import OutputFolder, json_text
from .references import NOTEBOOK_DISTANCES, NOTEBOOK_PHI_50, NOTEBOOK_RADII, NOTEBOOK_WAVE_SPEED
from .report import Comparison, FigureNote

#: How reproduce's cable runs compile (``simulate_cable(tuned=...)``): each program runs once or
#: twice, so XLA options that halve its compilation (the Cooley–Dodge run then takes ~3 ms more).
ONE_OFF = "compile"


def notebook_figure2_run() -> cable.CableSolution:
    """The notebook's first cable (section 3.2): a = 1 µm, ρ = 35.4, 6.3 °C, L = 2 cm,
    dx = 50 µm, dt = 0.025 ms, 1000 µA/cm² on node 0 for 2 ms; 11 ms recorded."""
    grid = Grid(length=20_000.0, dx=50.0, dt=0.025, t_stop=11.0)
    axon = Axon(radius=1.0, rho=35.4, membrane=membrane.HHParams())  # H&H at 6.3 °C, not Cooley–Dodge
    stimulus = Stimulus.from_density(1000.0, axon.radius, grid.dx, duration=2.0)
    return cable.simulate_cable(axon, grid, stimulus, tuned=ONE_OFF)


#: What the Cooley–Dodge run records wherever it runs: the wave section starts its shooting
#: from the gates, and one record makes one compiled program for both sections (the gates'
#: histories take ~34 MB per run).
COOLEY_DODGE_RECORD = Record(gates=True)


class CooleyDodge(NamedTuple):
    solution: cable.CableSolution
    velocity: float  # m/s, 2–3 cm, interpolated peak times
    mid_peak: float  # mV, peak at 3.5 cm
    far_end_peak: float  # mV, peak at 7 cm
    min_peak_beyond_1cm: float  # mV
    wall_seconds: float


def cooley_dodge(beta_m_exponent: float = membrane.BETA_M_EXPONENT_NOTEBOOK) -> CooleyDodge:
    """Cooley & Dodge (1966): a = 238 µm, L = 7 cm, 18.5 °C, dx = 250 µm, dt = 1 µs, 5 ms."""
    axon = cable.cooley_dodge_axon(beta_m_exponent)
    grid = cable.cooley_dodge_grid()
    stimulus = cable.cooley_dodge_stimulus()
    start = time.perf_counter()
    sol = cable.simulate_cable(axon, grid, stimulus, record=COOLEY_DODGE_RECORD, tuned=ONE_OFF)
    wall = time.perf_counter() - start
    peak = np.asarray(sol.peak_v)
    beyond = np.asarray(sol.x) >= 10_000.0
    return CooleyDodge(
        solution=sol,
        velocity=float(cable.conduction_velocity(sol, 20_000.0, 30_000.0)),
        mid_peak=float(peak[grid.n_nodes // 2]),
        far_end_peak=float(peak[-1]),
        min_peak_beyond_1cm=float(peak[beyond].min()),
        wall_seconds=wall,
    )


def cooley_dodge_converged(beta_m_exponent: float = membrane.BETA_M_EXPONENT_NOTEBOOK, levels: int = 3,
                           coarsest: Optional[cable.CableSolution] = None):
    """Richardson-extrapolated Cooley–Dodge velocity (2–3 cm) from ``levels`` halvings;
    ``coarsest``: the Cooley–Dodge run with this β_m, when it is already done."""
    return cable.converged_velocity(
        cable.cooley_dodge_axon(beta_m_exponent), cable.cooley_dodge_grid(), cable.cooley_dodge_stimulus(),
        levels=levels, coarsest=coarsest, tuned=ONE_OFF,
    )


class RadiusSweep(NamedTuple):
    radii: np.ndarray  # µm
    velocities: np.ndarray  # m/s
    exponent: float  # p in velocity ∝ radius^p
    prefactor: float  # m/s at 1 µm
    wall_seconds: float


def radius_sweep(
    radii=None, length: float = 40_000.0, dx: float = 250.0, dt: float = 0.001, t_stop: float = 4.5
) -> RadiusSweep:
    """Velocity (2–3 cm) against radius for Cooley–Dodge membranes, all radii in one vmapped run.

    The stimulus is the Cooley–Dodge current scaled by (a / 238 µm)^1.5 (the input conductance
    of a cable), so every member fires with the same margin above threshold.
    """
    radii = np.geomspace(60.0, 480.0, 64) if radii is None else np.asarray(radii, float)
    axon = cable.cooley_dodge_axon()._replace(radius=jnp.asarray(radii))
    base = cable.cooley_dodge_stimulus(238.0, dx)
    stimulus = base._replace(amplitude=base.amplitude * (jnp.asarray(radii) / 238.0) ** 1.5)
    grid = Grid(length=length, dx=dx, dt=dt, t_stop=t_stop)
    start = time.perf_counter()
    sol = cable.simulate_cable(axon, grid, stimulus, record=Record.reductions(), tuned=ONE_OFF)
    velocities = np.asarray(cable.conduction_velocity(sol, 20_000.0, 30_000.0))
    wall = time.perf_counter() - start
    exponent, log_prefactor = np.polyfit(np.log(radii), np.log(velocities), 1)
    return RadiusSweep(radii, velocities, float(exponent), float(np.exp(log_prefactor)), wall)


# ----------------------------------------------------------------------------------------
# The travelling wave (notebook section 3.5).


class NotebookWave(NamedTuple):
    """Acceptance 1 of the speed finder: the notebook's start, AB5 with dt = 1e-4 ms.

    Attributes:
        from_notebook_cable: speed (m/s) from the notebook's cable state (its NumPy algorithm).
        from_jaxneuro_cable: speed (m/s) from jaxneuro's cable state (midpoint stimulus, exact rest).
        notebook: the notebook's hand-tuned speed (m/s).
        jaxneuro_start: the :class:`jaxneuro.wave.WaveState` taken from jaxneuro's cable.
        jaxneuro_cable: that cable's solution.
        trajectory_z, trajectory_v: the pulse from jaxneuro's start (ms, mV from rest).
    """

    from_notebook_cable: float
    from_jaxneuro_cable: float
    notebook: float
    jaxneuro_start: object
    jaxneuro_cable: cable.CableSolution
    trajectory_z: np.ndarray
    trajectory_v: np.ndarray


#: The notebook's shooting: AB5 with dt = 0.1 µs from the cable's state, 10 ms at most.
NOTEBOOK_WAVE_OPTIONS = dict(solver="ab5", dt=1e-4, t_stop=10.0, t_record=6.0, every=10)


def notebook_wave() -> NotebookWave:
    """The speed from the notebook's starting point, found automatically (AB5, dt = 1e-4 ms),
    from both the notebook's own cable algorithm (:mod:`jaxneuro.notebook_reference`) and
    jaxneuro's cable (Cooley–Dodge, 1 ms, 2 cm)."""
    from . import notebook_reference, wave

    axon = cable.cooley_dodge_axon()
    options = NOTEBOOK_WAVE_OPTIONS
    grid = cable.cooley_dodge_grid()
    sol = cable.simulate_cable(axon, grid, cable.cooley_dodge_stimulus(), record=COOLEY_DODGE_RECORD, tuned=ONE_OFF)
    start = wave.start_from_cable(sol.v, *sol.gates, grid.dt)
    ours = wave.find_wave_speed(axon, start, **options)
    nb = notebook_reference.simulate(duration=1.003)
    from_notebook = float(wave.find_wave_speed(axon, wave.start_from_cable(*nb, 0.001), **options).speed)
    return NotebookWave(from_notebook, float(ours.speed), NOTEBOOK_WAVE_SPEED, start, sol,
                        np.asarray(ours.z), np.asarray(ours.trajectory.v))


def wave_speed_convergence(axon: Axon = None, steps=(4e-3, 2e-3, 1e-3, 5e-4, 2.5e-4)) -> list:
    """Speed (m/s) from the unstable manifold for each step ``dt`` (ms), RK4: [(dt, speed), ...].

    One compiled search serves every step (``dt`` is a traced value; no pulse is recorded)."""
    from . import wave

    axon = cable.cooley_dodge_axon() if axon is None else axon
    return [(dt, float(wave.find_wave_speed(axon, dt=dt, t_stop=20.0, t_record=0.0).speed)) for dt in steps]


class CableVersusWave(NamedTuple):
    beta_m_exponent: float
    wave_speed: float  # m/s, manifold start, RK4 with steps of wave_dt_ms (2.5e-4: converged to ~1e-11)
    windows: list  # [(x1 µm, x2 µm, Richardson cable velocity, its error estimate, relative difference)]
    wave_dt_ms: float = 2.5e-4


#: Windows (µm) ever farther from the stimulus where the cable's velocity approaches the wave's.
WINDOWS = ((20_000, 30_000), (40_000, 50_000), (60_000, 70_000), (80_000, 90_000))


def cable_versus_wave(beta_m_exponent: float, length: float = 120_000.0, windows=WINDOWS, grid: Grid = None,
                      coarsest: Optional[cable.CableSolution] = None, wave_speed: Optional[float] = None,
                      wave_dt: float = 2.5e-4):
    """The cable's Richardson-extrapolated velocity (3 grids from dx 250 µm, dt 1 µs) in windows
    ever farther from the stimulus, against the travelling-wave speed for the same parameters.
    ``grid`` (the coarsest) replaces the one of ``length`` µm, e.g. Cooley & Dodge's 7 cm, whose
    programs the convergence study of the cable section compiles too; ``coarsest`` is the run on
    it with Cooley & Dodge's stimulus and this β_m, and ``wave_speed`` (m/s) the wave's speed
    (RK4 with steps of ``wave_dt`` ms, from rest), when they are already computed (``wave_dt``
    is then the step that speed was found with: it is recorded, not checked)."""
    from . import wave

    axon = cable.cooley_dodge_axon(beta_m_exponent)
    speed = wave_speed
    if speed is None:
        speed = float(wave.find_wave_speed(axon, dt=wave_dt, t_stop=20.0, t_record=0.0).speed)
    if grid is None:
        grid = Grid(length=length, dx=250.0, dt=0.001, t_stop=length / 18.0e3 + 1.0)
    converged = cable.converged_velocities(axon, grid, cable.cooley_dodge_stimulus(), windows, coarsest=coarsest,
                                           tuned=ONE_OFF)
    rows = [(x1, x2, cv.velocity, cv.error_estimate, cv.velocity / speed - 1.0)
            for (x1, x2), cv in zip(windows, converged)]
    return CableVersusWave(beta_m_exponent, speed, rows, wave_dt)


class SpeedTemperature(NamedTuple):
    temperatures: np.ndarray  # °C
    fast: np.ndarray  # m/s, NaN where no pulse
    train_front: np.ndarray  # m/s at train_front_temperatures: the shooting's second root, a front onto a wave train
    failure: object  # wave.PropagationFailure
    wall_seconds: float  # the fast curve and the train front, compilation included
    fast_result: np.ndarray = None  # result code per temperature (jaxneuro.results)
    train_front_result: np.ndarray = None
    train_front_temperatures: np.ndarray = None  # °C (default: temperatures)


def speed_temperature(points: int = 24, front_every: int = 2, atol: float = 0.005, dt: float = 1e-3
                      ) -> SpeedTemperature:
    """The fast pulse's speed and the shooting's second root (a front from rest onto a wave
    train, not a pulse: see :mod:`jaxneuro.pulses` for the slow pulse) from 6.3 to 36 °C (the
    front at every ``front_every``-th temperature, NaN between), and the temperature above which
    no pulse propagates to ``atol`` °C (Cooley–Dodge axon, notebook β_m), all shot with RK4
    steps of ``dt`` ms (2e-3 changes the speeds by ~2e-8 relative and halves the work).

    On a CPU one temperature per call: a vmapped search runs no faster than a loop there, and
    every call, the propagation failure's scan and train front included, runs the one compiled
    search from rest that :func:`wave_speed_convergence` compiles too.  Elsewhere (a GPU) one
    vmapped call per curve."""
    from . import wave

    axon = cable.cooley_dodge_axon()
    temperatures = np.linspace(6.3, 36.0, points)

    def each(values, **options):  # No pulse above the fold (~33.7 °C): NaN with its code there, not an error.
        options["dt"] = dt
        if jax.default_backend() != "cpu":
            found = wave.find_wave_speed(wave._with_temperature(axon, jnp.asarray(values)), t_record=0.0,
                                         throw=False, **options)
            return jax.tree.map(np.asarray, found)
        found = [wave.find_wave_speed(wave._with_temperature(axon, float(t)), t_record=0.0, throw=False, **options)
                 for t in values]
        return jax.tree.map(lambda *leaves: np.stack(leaves), *found)

    start = time.perf_counter()
    fast = each(temperatures)
    # The train front at low temperature takes long to run away either side of its speed.
    some_front = each(temperatures[::front_every], branch="train_front", t_stop=120.0)
    wall = time.perf_counter() - start
    failure = wave.propagation_failure(axon, temperatures, atol=atol, dt=dt, scan=fast)
    return SpeedTemperature(temperatures, fast.speed, some_front.speed, failure, wall, fast.result,
                            some_front.result, temperatures[::front_every])


class PulseBranchStudy(NamedTuple):
    branch: object  # pulses.PulseBranch, from 6.3 °C up through the fold and back down
    fast: object  # pulses.Pulse at 18.5 °C
    slow: object  # pulses.Pulse at 18.5 °C (slow branch)
    wall_seconds: float


def pulse_branch(ds: float = 1.0, ds_max: float = 4.0) -> PulseBranchStudy:
    """The solitary pulses of the Cooley–Dodge axon as boundary-value problems: the branch
    continued in temperature from 6.3 °C through the fold and back down to 6.3 °C (arclength
    steps ``ds`` up to ``ds_max``), and the fast and slow pulses at 18.5 °C on the branch's mesh
    size (1500 intervals: the programs the walk compiled; the slow pulse from the branch's own
    points, not a second walk)."""
    from . import pulses

    axon = cable.cooley_dodge_axon()
    start = time.perf_counter()
    cold = axon._replace(membrane=axon.membrane._replace(temperature=6.3))
    branch = pulses.continue_pulses(cold, lower=6.3, max_points=100, ds=ds, ds_max=ds_max)
    fast = pulses.solve_pulse(axon, n_intervals=1500, max_iterations=12)
    slow = pulses.slow_pulse(axon, branch=branch, n_intervals=1500, max_iterations=12)
    return PulseBranchStudy(branch, fast, slow, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------
# The extracellular potential (notebook sections 2 and 4).


class ExtracellularStudy(NamedTuple):
    notebook_phi_50: np.ndarray  # reproduced in notebook units from the notebook's own profile
    notebook_max_relative_error: float
    profile: object  # jaxneuro's 1 µm profile (sub-node centred)
    solution_1um: cable.CableSolution
    profile_4um: object
    solution_4um: cable.CableSolution
    shortcut_check: dict  # radius -> (distances, direct, shortcut, relative difference)
    radii: np.ndarray
    distances: np.ndarray
    phi: np.ndarray  # µV, (radii, distances), physical
    phi_error: np.ndarray
    exponents: object
    eq9_vs_eq10_spline: float
    grid_check: dict  # distance -> dict of formulas at the waveform minimum
    waveforms: dict  # distance -> (t, µV)
    sweep_seconds: float  # 29 x 9 sweep after compilation


def extracellular_study(shortcut_checks=((4.0, 20.0, 2000.0), (0.25, 5.0, 1000.0)), *,
                        notebook_4um: bool = True) -> ExtracellularStudy:
    """Everything of notebook section 4, physically scaled (σ_e 0.3 S/m), plus the checks:
    the sqrt(radius) shortcut against direct runs (radius µm, dx µm, stimulus µA/cm²) on grids
    not scaled by sqrt(radius).  The 4 µm profile of Fig. 5 is the notebook's run (dx 40 µm,
    1000 µA/cm²), or with ``notebook_4um=False`` the first 4 µm check's direct run (one
    cable program fewer to compile)."""
    import warnings

    from . import extracellular as ex
    from . import notebook_reference

    if not notebook_4um and 4.0 not in [check[0] for check in shortcut_checks]:
        raise ValueError("notebook_4um=False takes Fig. 5's 4 µm profile from a check: shortcut_checks needs "
                         f"radius 4.0 µm, got radii {[check[0] for check in shortcut_checks]}")

    # 1. The notebook's list, from the notebook's own profile (its cable algorithm, its centring).
    v = notebook_reference.simulate(a=1e-4, L=1.0, duration=20.0, Delta_x=2e-3, Delta_t=0.01, Ia_amp=500.0,
                                    Ia_duration=0.5, rho=150.0, T=30.0, EL=10.5987)[0]
    nb_profile = ex.SpikeProfile.from_samples(np.arange(v.shape[1]) * 20.0, v[np.argmax(v[:, 250])],
                                              ex.NOTEBOOK_AXON, centre="node")
    reproduced = np.asarray(ex.sweep(nb_profile, nb_profile.axon._replace(radius=NOTEBOOK_RADII), [50.0],
                                     units="notebook", limits=(-1000.0, 1000.0)).value[:, 0])
    worst = float(np.max(np.abs(reproduced / NOTEBOOK_PHI_50 - 1.0)))

    # 2. jaxneuro's profiles; the sqrt(radius) shortcut against direct runs on other grids.
    profile, sol1 = ex.notebook_profile_run(1.0, tuned=ONE_OFF)
    profile4 = sol4 = None
    if notebook_4um:
        profile4, sol4 = ex.notebook_profile_run(4.0, dx=40.0, density=1000.0, tuned=ONE_OFF)
    check_d = np.array([25.0, 50.0, 100.0, 150.0, 200.0])
    shortcut = {}
    for radius, dx, density in shortcut_checks:
        direct_profile, direct_run = ex.notebook_profile_run(radius, dx=dx, dt=0.005, density=density, tuned=ONE_OFF)
        if profile4 is None and radius == 4.0:
            profile4, sol4 = direct_profile, direct_run
        direct = np.asarray(ex.sweep(direct_profile, direct_profile.axon, check_d).value)
        short = np.asarray(ex.sweep(profile, profile.axon._replace(radius=radius), check_d).value)
        shortcut[radius] = (check_d, direct, short, short / direct - 1.0)

    # 3. The 29 x 9 sweep (the notebook's distances and h = radius... kept >= radius: 25–200 µm).
    distances = np.concatenate([NOTEBOOK_DISTANCES, [250.0]])
    axons = profile.axon._replace(radius=NOTEBOOK_RADII)
    ex.sweep(profile, axons, distances).value.block_until_ready()
    start = time.perf_counter()
    result = ex.sweep(profile, axons, distances)
    result.value.block_until_ready()
    seconds = time.perf_counter() - start
    eq9 = ex.sweep(profile, axons, distances, formula="eq9")
    eq9_vs_eq10 = float(np.max(np.abs(np.asarray(eq9.value) / np.asarray(result.value) - 1.0)))
    exponents = ex.fit_exponents(NOTEBOOK_RADII, distances, result.value)

    # 4. Waveforms at 0.5 cm from the 1 µm run's history, by the three grid formulas (at 25 µm
    # on the 20 µm grid eq. 10 is off by ~20 %, on purpose: the table shows why it warns).
    grid_check, waveforms = {}, {}
    for d in (25.0, 50.0, 100.0, 500.0):
        electrode = ex.Electrode(5_000.0, d)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            w = {m: np.asarray(ex.grid_potential(sol1.v, sol1.x, electrode, profile.axon, formula=m))
                 for m in ex.GRID_FORMULAS}
        k = int(np.argmin(w["segments"]))
        grid_check[d] = {m: float(w[m][k]) for m in w}
        waveforms[d] = (np.asarray(sol1.t), w["segments"])
    return ExtracellularStudy(reproduced, worst, profile, sol1, profile4, sol4, shortcut, NOTEBOOK_RADII, distances,
                              np.asarray(result.value), np.asarray(result.error), exponents, eq9_vs_eq10,
                              grid_check, waveforms, seconds)


# ----------------------------------------------------------------------------------------
# The E/I population oscillator.


class PopulationStudy(NamedTuple):
    run: object  # population.Trajectory of the notebook's homoclinic run
    end: np.ndarray
    tolerance_study: list  # [(rtol, end state)]
    field: object  # SNIC preset on the notebook's 25 x 25 grid
    speed_stats: tuple  # min, max, mean
    fixed_points: dict  # preset -> [FixedPoint]
    saddle_node: float  # h_E of the fold next to the presets
    scans: dict  # preset -> (h_E values, Scan)
    scan_seconds: float  # h_E scan, second call (compiled)
    scan_2d: tuple  # (h_E grid, h_I grid, Scan) for the SNIC preset
    onsets: dict  # preset -> h_E of the onset of oscillation
    scaling: dict  # preset -> PeriodScaling
    scan_first_seconds: float = float("nan")  # the same scan's first call, compilation included
    fine_field: object = None  # SNIC preset on a 200 x 300 grid (the streamplot)
    nullclines: tuple = None  # SNIC preset: (E, I) of dE/dt = 0, (E, I) of dI/dt = 0


def population_study(scan_points: int = 256, scaling_points: int = 10) -> PopulationStudy:
    """The notebook's runs and plots, then the phase-plane and bifurcation analysis: h_E scans
    of ``scan_points`` values, and a 2-D (h_E, h_I) scan of as many (a square grid, so that it
    runs on the same compiled program; so do the onset's rounds), and the period at
    ``scaling_points`` distances from the onset (as many as ``scan_points``: the same program
    again, no compilation but more to compute)."""
    import jax

    from . import population as pop

    homoclinic, snic = pop.preset("homoclinic"), pop.preset("snic")
    run = pop.simulate(homoclinic, pop.HOMOCLINIC_START)
    tolerance = [(r, np.asarray(pop.simulate(homoclinic, pop.HOMOCLINIC_START, rtol=r, atol=r * 1e-2).state[-1]))
                 for r in (1e-6, 1e-8, 1e-10, 1e-12)]
    window = pop.Grid2D(-10, 10, -20, 10, 25, 25)
    field = pop.field(snic, window)
    fine = pop.field(snic, window._replace(nx=200, ny=300))
    x = np.linspace(-10, 10, 2001)
    nullclines = (pop.x_nullcline_curve(snic), (x, np.asarray(pop.y_nullcline(x, snic))))
    speed = np.asarray(field.speed)
    fixed = {name: pop.fixed_points(pop.preset(name)) for name in ("homoclinic", "snic")}
    fold = min(pop.saddle_nodes(snic), key=lambda f: abs(f.h_E + 7.0)).h_E

    h = jnp.linspace(-7.6, -6.6, scan_points)
    scans, seconds = {}, {}
    for name in ("homoclinic", "snic"):
        batch = pop.preset(name)._replace(h_E=h)
        start = time.perf_counter()
        scans[name] = (np.asarray(h), jax.block_until_ready(pop.scan(batch)))
        if not seconds:  # the first call compiled; the same call again times the scan alone
            seconds["first"] = time.perf_counter() - start
            start = time.perf_counter()
            jax.block_until_ready(pop.scan(batch))
            seconds["second"] = time.perf_counter() - start
    side = int(round(np.sqrt(scan_points)))
    he, hi = jnp.meshgrid(jnp.linspace(-8.0, -6.0, side), jnp.linspace(-5.0, -3.0, side))
    scan_2d = (np.asarray(he), np.asarray(hi), pop.scan(snic._replace(h_E=he, h_I=hi)))

    # The onset's multisection runs the h_E scans' compiled program (as many members).
    onsets = {"snic": fold, "homoclinic": pop.oscillation_onset(homoclinic, -7.35, -7.25, points=scan_points)[1]}
    # Periods up to ~70 need a longer record: 200 time units sampled every 1/12 hold as many
    # samples (2401) as the scans' 120 every 0.05, so with as many members they run the scans'
    # compiled program (periods to ~1e-6 from the Hermite-interpolated crossings).
    long_record = dict(t_record=200.0, dt_save=200.0 / 2400)
    scaling = {
        "snic": pop.period_scaling(snic, fold, np.geomspace(2e-3, 1e-1, scaling_points), **long_record),
        "homoclinic": pop.period_scaling(homoclinic, onsets["homoclinic"], np.geomspace(1e-6, 1e-1, scaling_points),
                                         **long_record),
    }
    return PopulationStudy(run, np.asarray(run.state[-1]), tolerance, field,
                           (float(speed.min()), float(speed.max()), float(speed.mean())), fixed, fold, scans,
                           seconds["second"], scan_2d, onsets, scaling, seconds["first"], fine, nullclines)


# ----------------------------------------------------------------------------------------
# Sections: studies → figures with captions, summary entries, rows of the comparison table.


class SectionOutput(NamedTuple):
    """What a section gives the report: its ``summary.json`` entries, its figures as
    ``(file stem, Figure, caption)`` and its rows of the comparison table."""

    summary: dict
    figures: list
    rows: list


def _cable_section(quick: bool, levels: int, stage: Callable) -> SectionOutput:
    from . import plotting

    summary, figures, rows = {}, [], []
    stage("notebook Figure 2: 1 µm axon, 2 cm, profiles every ms")
    sol = notebook_figure2_run()
    figures.append(("cable_fig2_profiles", plotting.spatial_profiles(
        sol, list(np.arange(0.0, 11.0, 1.0)), "1 µm axon: V(x) every ms for 10 ms (notebook Fig. 2)"),
        "The notebook's first cable (a = 1 µm, 6.3 °C, 2 cm): the potential along the axon every millisecond. "
        "Look for a spike of constant shape and spacing: constant speed, ~0.25–0.5 cm per ms."))
    summary["figure2_axon"] = {"velocity_0.25_0.5cm_m_per_s": float(cable.conduction_velocity(sol, 2_500.0, 5_000.0))}

    stage("Cooley & Dodge (1966): 7 cm, 281 nodes × 5000 steps, both β_m")
    results = {}
    for label, k in (("notebook_beta_m", membrane.BETA_M_EXPONENT_NOTEBOOK), ("hh_beta_m", membrane.BETA_M_EXPONENT_HH)):
        cd = cooley_dodge(k)
        results[label] = cd
        summary[f"cooley_dodge_{label}"] = {
            "beta_m_exponent_per_mV": k, "velocity_2_3cm_m_per_s": cd.velocity, "peak_mid_cable_mV": cd.mid_peak,
            "peak_far_end_mV": cd.far_end_peak, "min_peak_beyond_1cm_mV": cd.min_peak_beyond_1cm,
            "compartments": int(cd.solution.x.shape[0]), "steps": int(cable.cooley_dodge_grid().n_steps),
        }
    cd = results["notebook_beta_m"]
    figures.append(("cable_fig3_cooley_dodge", plotting.cooley_dodge_figure(cd.solution, velocity=cd.velocity),
                    "Cooley & Dodge's Fig. 2 replicated (notebook Fig. 3): space profiles at 0.2–3 ms (top) and time "
                    "courses at 0–3 cm (bottom). The spike keeps its ~90 mV height and shape as it travels."))
    figures.append(("cable_peak_along_axon", plotting.peak_along_cable(cd.solution, "Cooley–Dodge: peak potential per node"),
                    "Peak potential at every node. It stays at ~90 mV along the axon and rises to ~102 mV at the sealed "
                    "far end; the notebook's matrix bug made the far end fire at only 12–56 mV."))

    stage(f"convergence: {levels} grids halving dx and dt, Richardson extrapolation")
    conv = {}
    choices = (("notebook β_m 0.0555", membrane.BETA_M_EXPONENT_NOTEBOOK),)
    if not quick:
        choices += (("H&H β_m 1/18", membrane.BETA_M_EXPONENT_HH),)
    # Each grid's coarsest run is the Cooley–Dodge run above (same axon, grid and stimulus).
    runs = {membrane.BETA_M_EXPONENT_NOTEBOOK: results["notebook_beta_m"].solution,
            membrane.BETA_M_EXPONENT_HH: results["hh_beta_m"].solution}
    for label, k in choices:
        conv[label] = cooley_dodge_converged(k, levels, coarsest=runs[k])
        summary.setdefault("converged_velocity_m_per_s", {})[label] = conv[label]._asdict()
    figures.append(("cable_convergence", plotting.convergence_figure(conv),
                    "Error of the 2–3 cm velocity against the Richardson-extrapolated value, per grid (dx and dt halved "
                    "together). The points follow the dx² line: the Lees scheme is second order, so the extrapolation "
                    "is valid."))
    converged = conv["notebook β_m 0.0555"]
    reference = references.values()["hh_cable_notebook"]
    rows.append(Comparison("Cooley–Dodge velocity, 2–3 cm, dx 250 µm, dt 1 µs", "m/s",
                           reference["cooley_dodge_velocity_m_per_s"], cd.velocity, converged.velocity,
                           f"Richardson, {levels} grids", "notebook: grid argmax, ±0.25 m/s"))
    rows.append(Comparison("Cooley–Dodge velocity, converged (error estimate "
                           f"{converged.error_estimate:.1e} m/s)", "m/s", None, converged.velocity, None, "",
                           f"observed order {converged.observed_order:.2f}"))

    radii = np.geomspace(60.0, 480.0, 16 if quick else 64)
    stage(f"radius sweep: {radii.size} cables in one compiled call")
    sweep = radius_sweep(radii)
    summary["radius_sweep"] = {"radii_um": [float(r) for r in sweep.radii[[0, -1]]], "members": int(sweep.radii.size),
                               "exponent": sweep.exponent, "wall_seconds": sweep.wall_seconds}
    figures.append(("cable_radius_sweep", plotting.radius_sweep_figure(sweep.radii, sweep.velocities, sweep.exponent,
                                                                      sweep.prefactor),
                    f"Conduction velocity against radius, {sweep.radii.size} axons in one compiled call. The slope on "
                    "log–log axes is the exponent of velocity ∝ radius^p; cable theory says p = 1/2."))
    rows.append(Comparison("velocity ∝ radius^p: exponent p", "", None, sweep.exponent, 0.5, "cable theory"))
    return SectionOutput(summary, figures, rows)


def _wave_section(quick: bool, levels: int, stage: Callable) -> SectionOutput:
    from . import plotting
    from .results import name as result_name

    summary, figures, rows = {}, [], []
    stage("travelling wave: the speed found automatically from the notebook's start and from rest")
    nw = notebook_wave()
    steps = (2e-3, 1e-3, 5e-4) if quick else (4e-3, 2e-3, 1e-3, 5e-4, 2.5e-4)  # RK4: 5e-4 is within ~1e-11
    convergence = wave_speed_convergence(steps=steps)
    summary["travelling_wave"] = {
        "notebook_hand_tuned_m_per_s": nw.notebook,
        "automatic_from_notebook_cable_ab5_dt1e-4_m_per_s": nw.from_notebook_cable,
        "automatic_from_jaxneuro_cable_ab5_dt1e-4_m_per_s": nw.from_jaxneuro_cable,
        "manifold_rk4_dt_ms_vs_speed_m_per_s": convergence,
        "cable_versus_wave": {},
    }
    rows.append(Comparison("wave speed from the notebook's cable state (AB5, dt 0.1 µs)", "m/s", nw.notebook,
                           nw.from_notebook_cable, None, "", "notebook: tuned by hand; jaxneuro: found automatically"))
    rows.append(Comparison("wave speed from the unstable manifold of rest (RK4)", "m/s", None, convergence[-1][1],
                           convergence[-2][1], f"dt {convergence[-2][0]:g} ms", f"dt {convergence[-1][0]:g} ms"))
    stage("cable against wave: Richardson velocity in windows ever farther from the stimulus")
    choices = (membrane.BETA_M_EXPONENT_NOTEBOOK,) if quick else (membrane.BETA_M_EXPONENT_NOTEBOOK,
                                                                     membrane.BETA_M_EXPONENT_HH)
    # Quick: on Cooley & Dodge's 7 cm grids (the cable section's convergence study runs the same
    # programs, loaded from the cache by whichever section comes second).
    grid, windows = (cable.cooley_dodge_grid(), WINDOWS[:2]) if quick else (None, WINDOWS)
    for k in choices:
        # Quick: the coarsest grid's run is the notebook wave's Cooley–Dodge run (notebook β_m).
        coarsest = nw.jaxneuro_cable if quick and k == membrane.BETA_M_EXPONENT_NOTEBOOK else None
        # The convergence study's finest speed is this wave's (notebook β_m, t_stop 20 ms).
        speed = convergence[-1][1] if k == membrane.BETA_M_EXPONENT_NOTEBOOK else None
        cw = cable_versus_wave(k, windows=windows, grid=grid, coarsest=coarsest, wave_speed=speed,
                               wave_dt=steps[-1])
        summary["travelling_wave"]["cable_versus_wave"][f"beta_m_{k:.6f}"] = cw._asdict()
        stage(f"β_m {k:.6f}: wave {cw.wave_speed:.9f} m/s; cable − wave (relative) by window: "
              + ", ".join(f"{x1 / 1e4:.0f}–{x2 / 1e4:.0f} cm {d:+.2e}" for x1, x2, _, _, d in cw.windows), detail=True)
        if k == membrane.BETA_M_EXPONENT_NOTEBOOK:
            x1, x2, velocity, error, _ = cw.windows[-1]
            rows.append(Comparison(f"cable velocity {x1 / 1e4:.0f}–{x2 / 1e4:.0f} cm (Richardson, ± {error:.0e}) "
                                   "against the wave speed", "m/s", None, velocity, cw.wave_speed, "travelling wave",
                                   "the cable's pulse settles onto the travelling wave"))
    figures.append(("wave_fig4_cable_vs_travelling_wave", plotting.cable_versus_wave_figure(nw),
                    "Notebook Fig. 4: the full cable's time course at 2 cm (thick red) and the travelling-wave "
                    "solution started from the cable's state at 1 ms (blue), with the speed found automatically. The "
                    "curves overlie until the wave solution runs away after the spike, as any shooting must."))

    points, every, atol, dt = (8, 4, 0.05, 2e-3) if quick else (24, 4, 0.005, 1e-3)
    stage(f"speed against temperature: fast pulse at {points} temperatures, the train front, propagation failure")
    st = speed_temperature(points, every, atol, dt)
    summary["speed_temperature"] = {
        "shooting_dt_ms": dt, "temperatures_degC": st.temperatures, "fast_m_per_s": st.fast,
        "fast_result": [result_name(c) for c in st.fast_result],
        "train_front_temperatures_degC": st.train_front_temperatures, "train_front_m_per_s": st.train_front,
        "train_front_result": [result_name(c) for c in st.train_front_result],
        "failure_temperature_degC": float(st.failure.temperature),
        "failure_bracket_degC": [float(t) for t in st.failure.bracket],
        "speed_at_failure_m_per_s": float(st.failure.speed),
        "wall_seconds_with_compile": st.wall_seconds,
    }
    figures.append(("wave_speed_vs_temperature", plotting.speed_temperature_figure(st),
                    "Speed of the fast pulse against temperature, by shooting, up to the temperature above which no "
                    "pulse propagates (the fold, star). Grey squares: the shooting's second root, a front onto a wave "
                    "train and not a pulse (the slow pulse is in the next section)."))
    rows.append(Comparison("propagation failure temperature (shooting)", "°C", None, float(st.failure.temperature),
                           None, "", f"bracket ± {atol:g} °C"))
    return SectionOutput(summary, figures, rows)


def _pulses_section(quick: bool, levels: int, stage: Callable) -> SectionOutput:
    from . import plotting

    stage("pulses as boundary-value problems: continuation from 6.3 °C through the fold and back")
    bp = pulse_branch(*((6.0, 24.0) if quick else (1.0, 4.0)))  # quick: ~24 points (Newton takes 4 steps: ds stays)
    summary = {"pulses": {
        "fold_temperature_degC": bp.branch.fold_value, "fold_speed_m_per_s": bp.branch.fold_speed,
        "temperature_degC": bp.branch.values, "speed_m_per_s": bp.branch.speed, "fast": bp.branch.fast,
        "fast_pulse_18_5_degC": {"speed_m_per_s": float(bp.fast.speed), "peak_mV": float(bp.fast.peak_v),
                                 "width_ms": float(bp.fast.width)},
        "slow_pulse_18_5_degC": {"speed_m_per_s": float(bp.slow.speed), "peak_mV": float(bp.slow.peak_v),
                                 "width_ms": float(bp.slow.width), "residual": float(bp.slow.residual)},
        "wall_seconds_with_compile": bp.wall_seconds,
    }}
    stage(f"fold {bp.branch.fold_value:.5f} °C at {bp.branch.fold_speed:.4f} m/s; slow pulse at 18.5 °C: "
          f"{float(bp.slow.speed):.6f} m/s, peak {float(bp.slow.peak_v):.3f} mV", detail=True)
    figures = [
        ("pulses_speed_vs_temperature", plotting.pulse_branch_figure(bp.branch),
         "Solitary pulses by continuation in temperature: the fast (stable) pulse rises with temperature to the "
         "fold (star), where it meets the slow (unstable) pulse and no pulse exists above. One curve, found without "
         "any shooting."),
        ("pulses_fast_and_slow_18_5_degC", plotting.pulse_profiles_figure([bp.fast, bp.slow], ["fast pulse", "slow pulse"]),
         "The two pulses at 18.5 °C, peaks aligned: the fast pulse (~90 mV) and the slow, small one (~17.5 mV) that "
         "separates decaying from propagating responses. Both return to rest at both ends."),
    ]
    from . import wave

    dt = 1e-3 if quick else 2.5e-4  # RK4: the speeds differ by ~5e-11 relative
    shooting = float(wave.find_wave_speed(cable.cooley_dodge_axon(), dt=dt, t_stop=20.0, t_record=0.0).speed)
    rows = [
        Comparison("fast pulse speed, 18.5 °C (boundary-value problem)", "m/s", None, float(bp.fast.speed), shooting,
                   f"shooting, RK4 dt {dt * 1e3:g} µs", f"residual {float(bp.fast.residual):.0e}"),
        Comparison("slow pulse speed, 18.5 °C", "m/s", None, float(bp.slow.speed), None, "",
                   "not the shooting's 2nd root (5.5445 m/s)"),
        Comparison("fold: highest temperature with a pulse", "°C", None, bp.branch.fold_value, None, "",
                   "compare the shooting's failure temperature"),
    ]
    return SectionOutput(summary, figures, rows)


def _extracellular_section(quick: bool, levels: int, stage: Callable) -> SectionOutput:
    from . import plotting

    stage("extracellular potential: the notebook's list, the sqrt(radius) shortcut, sweeps, waveforms")
    checks = ((4.0, 20.0, 2000.0),) if quick else ((4.0, 20.0, 2000.0), (0.25, 5.0, 1000.0))
    # Quick: Fig. 5's 4 µm profile is the check's direct run (dx 20 µm), not the notebook's (dx 40 µm).
    study = extracellular_study(checks, notebook_4um=not quick)
    summary = {"extracellular": {
        "units": "µV (σ_e 0.3 S/m, ρ 150 Ω·cm); notebook_phi_50 in the notebook's units",
        "notebook_phi_50_notebook_units": study.notebook_phi_50,
        "notebook_max_relative_error": study.notebook_max_relative_error,
        "shortcut_check": {f"radius_{k}_um": {"distances_um": v[0], "direct_uV": v[1], "shortcut_uV": v[2],
                                              "relative": v[3]} for k, v in study.shortcut_check.items()},
        "radii_um": study.radii, "distances_um": study.distances, "phi_uV": study.phi, "phi_error_uV": study.phi_error,
        "exponent_p_per_distance": study.exponents.p, "exponent_p_local_range": study.exponents.p_range,
        "exponent_q_per_radius": study.exponents.q, "exponent_q_local_range": study.exponents.q_range,
        "eq9_vs_eq10_spline_max_relative": study.eq9_vs_eq10_spline,
        "grid_formulas_at_waveform_minimum_uV": {f"{k}_um": v for k, v in study.grid_check.items()},
        "sweep_29x9_seconds": study.sweep_seconds,
    }}
    stage(f"notebook list at 50 µm reproduced to {study.notebook_max_relative_error:.1e}; p in "
          f"[{study.exponents.p_range.min():.2f}, {study.exponents.p_range.max():.2f}]", detail=True)
    i1 = int(np.argmin(np.abs(study.radii - 1.0)))
    j50 = int(np.argmin(np.abs(study.distances - 50.0)))
    rows = [
        Comparison("Φe minimum at 50 µm, a = 1 µm, from the notebook's own profile", "notebook units",
                   float(NOTEBOOK_PHI_50[i1]), float(study.notebook_phi_50[i1]), None, "",
                   f"all 29 radii within {study.notebook_max_relative_error:.0e}"),
        Comparison("Φe minimum at 50 µm, a = 1 µm, physical (σe 0.3 S/m)", "µV", None, float(study.phi[i1, j50]), None,
                   "", f"quadrature error {float(study.phi_error[i1, j50]):.0e} µV"),
        Comparison("Φe: sqrt(radius) shortcut at a = 4 µm, 50 µm, against a direct run", "µV", None,
                   float(study.shortcut_check[4.0][2][1]), float(study.shortcut_check[4.0][1][1]), "direct 4 µm cable",
                   "the two runs' grids differ (dx 20 vs 40 µm)"),
    ]
    figures = [
        ("extracellular_fig5_profiles_1_vs_4um", plotting.spike_profiles_figure({"a = 1 µm": study.profile,
                                                                                 "a = 4 µm": study.profile_4um}),
         "Notebook Fig. 5: the spike along the axon when it peaks at mid-cable, for radii 1 and 4 µm, each from "
         "its peak. The thicker axon's spike is longer by sqrt(4) = 2 and as high: the scaling the fast sweep uses."),
        ("extracellular_fig6_prototypical_profile", plotting.spike_profile_figure(study.profile),
         "Notebook Fig. 6: the prototypical spatial profile of the 1 µm axon, with its spline peak (dotted)."),
        ("extracellular_fig7_spline_check", plotting.widened_profiles_figure(study.profile, (0.5, 1.0, 2.0)),
         "Notebook Fig. 7: the 1 µm profile widened by sqrt(a) for a = 0.5, 1, 2 µm: the same spike on a longer "
         "or shorter axis."),
        ("extracellular_fig8_phi_vs_radius", plotting.phi_radius_figure(study.radii, study.distances, study.phi),
         "Notebook Fig. 8: Φe relative to a = 0.1 µm against the radius ratio, at 25–100 µm. The curves lie "
         "between x^1.4 and x^1.9: thicker axons are louder, less than by their membrane area."),
        ("extracellular_fig9_phi_vs_distance", plotting.phi_distance_figure(study.radii, study.distances, study.phi),
         "Notebook Fig. 9: −Φe against electrode distance, log–log, in µV (σe = 0.3 S/m) for radii 0.1–20 µm."),
        ("extracellular_waveform_over_time", plotting.waveform_figure(study.waveforms),
         "The extracellular waveform at 0.5 cm, 25–100 µm from the axis of the 1 µm axon (exact line-segment "
         "formula): triphasic, smaller and wider with distance."),
    ]
    return SectionOutput(summary, figures, rows)


def _population_section(quick: bool, levels: int, stage: Callable) -> SectionOutput:
    from . import plotting

    stage("population oscillator: notebook runs, phase plane, bifurcations, period scaling")
    # Quick: the period scaling runs the scans' program (compiling is most of a quick run);
    # full: 10 distances, a small program of its own (256 would compute ~8 s more on every run).
    ps = population_study(*((64, 64) if quick else (256, 10)))
    reference = references.values()["population_notebook"]
    summary = {"population": {
        "units": "E, I, h, c unitless; times in the model's time unit (that of tau_E, tau_I); rates per that unit",
        "homoclinic_end_of_run_E_I_unitless": ps.end, "notebook_end_of_run_E_I_unitless": reference["end_of_run_E_I_unitless"],
        "tolerance_study_end_E_I_unitless": {f"rtol_{r:g}": e for r, e in ps.tolerance_study},
        "snic_speed_min_max_mean_per_model_time": ps.speed_stats,
        "fixed_points": {k: [{"E_unitless": p.E, "I_unitless": p.I, "residual_per_model_time": p.residual,
                              "kind": p.kind,
                              "eigenvalues_per_model_time": [[float(e.real), float(e.imag)] for e in p.eigenvalues]}
                             for p in v] for k, v in ps.fixed_points.items()},
        "saddle_node_h_E_unitless": ps.saddle_node,
        "onset_h_E_unitless": ps.onsets,
        "period_scaling": {k: {"onset_h_E_unitless": v.onset, "mu_unitless": v.mu, "period_model_time": v.period,
                               "fit_a_over_sqrt_mu_plus_b": dict(zip(("a_model_time", "b_model_time", "rms_relative"),
                                                                     v.sqrt_fit)),
                               "fit_minus_a_ln_mu_plus_b": dict(zip(("a_model_time", "b_model_time", "rms_relative"),
                                                                    v.log_fit))}
                           for k, v in ps.scaling.items()},
        "scan_seconds": ps.scan_seconds, "scan_first_call_seconds_with_compile": ps.scan_first_seconds,
        "scan_members": int(ps.scans["snic"][0].size),
    }}
    stage(f"end of run {np.round(ps.end, 3)}; speed min/max/mean {ps.speed_stats[0]:.4f} / {ps.speed_stats[1]:.4f} / "
          f"{ps.speed_stats[2]:.4f}; saddle-node h_E {ps.saddle_node:.10f}", detail=True)
    rows = [Comparison(f"end of the homoclinic run, {n}", "", reference["end_of_run_E_I_unitless"][i], float(ps.end[i]),
                       float(ps.tolerance_study[-1][1][i]), "rtol 1e-12", "notebook prints 3 decimals")
            for i, n in enumerate(("E", "I"))]
    rows += [Comparison(f"SNIC phase plane: {what} speed on the 25 × 25 grid", "1/model time",
                        reference[f"speed_{what}_per_model_time"], value, None, "", "")
             for what, value in zip(("min", "max", "mean"), ps.speed_stats)]
    rows += [Comparison(f"SNIC preset fixed point: {p.kind}, E", "", None, p.E, None, "",
                        f"I = {p.I:.6f}, residual {p.residual:.0e}") for p in ps.fixed_points["snic"]]
    rows.append(Comparison("saddle-node (fold) h_E next to the SNIC preset", "", None, ps.saddle_node, None, "",
                           "solved exactly (fold of the reduced equation)"))
    rows.append(Comparison("onset of oscillation, homoclinic preset, h_E", "", None, ps.onsets["homoclinic"], None, "",
                           "multisection on the limit cycle's existence"))
    figures = [
        ("population_time_course_and_phase_portrait", plotting.population_run_figure(ps.run, ps.end),
         "The notebook's run (homoclinic preset): E and I against time (left) and the orbit in the (I, E) plane "
         f"(right). It ends at E, I = {ps.end[0]:.3f}, {ps.end[1]:.3f}, as the notebook prints."),
        ("population_speed_quiver_nullclines", plotting.phase_plane_figure(ps.field, ps.nullclines,
                                                                           ps.fixed_points["snic"]),
         "SNIC preset: speed |f| (colour), the vector field (arrows), the exact nullclines (dashed) and every fixed "
         "point with its type. Slow regions sit near the saddle and the node: the ghost of the coming saddle-node."),
        ("population_streamplot", plotting.streamplot_figure(ps.fine_field),
         "The same vector field as streamlines coloured by speed: every orbit funnels into the slow channel."),
        ("population_bifurcation_h_E", plotting.bifurcation_figure(ps.scans, ps.saddle_node, ps.onsets),
         f"Bifurcation diagrams over h_E ({ps.scans['snic'][0].size} values each): fixed points by type and the "
         "limit cycle's E range (purple). The cycle is born at a homoclinic orbit (left, dashed) or at the "
         "saddle-node on the invariant circle (right, dotted)."),
        ("population_bifurcation_2d", plotting.bifurcation_2d_figure(*ps.scan_2d),
         "Over (h_E, h_I), SNIC preset: the period where the system oscillates (colour) and the borders between "
         "1 and 3 fixed points (white)."),
        ("population_period_vs_onset_distance", plotting.period_scaling_figure(ps.scaling),
         "Period against the distance μ from the onset, log–log: a/√μ fits the SNIC preset, −a ln μ the homoclinic "
         "one (rms of each fit in the legend): the two textbook laws, told apart."),
    ]
    return SectionOutput(summary, figures, rows)


#: The sections of ``jaxneuro reproduce`` in the order they run, and their functions.
SECTIONS = ("cable", "wave", "pulses", "extracellular", "population")
_SECTION_FUNCTIONS = {"cable": _cable_section, "wave": _wave_section, "pulses": _pulses_section,
                      "extracellular": _extracellular_section, "population": _population_section}
#: Figure formats (matplotlib's writers).
FORMATS = ("png", "svg", "pdf")


def _machine() -> dict:
    import datetime

    import jax

    from . import __version__

    return {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "cpu": f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores",
            "device": str(jax.devices()[0]), "python": platform.python_version(), "jax": jax.__version__,
            "jaxneuro": __version__, "platform": platform.platform()}


#: The order in which parallel workers take the sections: the two longest that share no program
#: first; pulses, whose guess runs the wave section's compiled search from rest, once that is in
#: the compilation cache; cable, which runs the wave section's Cooley–Dodge grids, last.
_WORKER_ORDER = ("wave", "population", "pulses", "extracellular", "cable")


def _run_section(name: str, quick: bool, levels: int, fmt: str, begin: float, log=print):
    """Run one section and render its figures: (summary, rows, [(file, bytes, caption)], wall s).
    ``begin`` is the wall-clock time (``time.time()``) the whole run started, for the stage lines."""
    import io

    from . import plotting

    start = time.perf_counter()
    number = f"{SECTIONS.index(name) + 1}/{len(SECTIONS)}"

    def stage(text, detail=False):
        log(f"  {text}" if detail else f"[{number} {name} | {time.time() - begin:6.1f} s] {text}")

    out = _SECTION_FUNCTIONS[name](quick, levels, stage)
    figures = []
    for stem, figure, caption in out.figures:
        buffer = io.BytesIO()  # PNG: zlib's fastest level (~15 % less time per figure, ~20 % larger files)
        figure.savefig(buffer, format=fmt, dpi=120, **({"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}))
        plotting.plt.close(figure)
        figures.append((f"{stem}.{fmt}", buffer.getvalue(), caption))
    wall = time.perf_counter() - start
    log(f"[{number} {name} | {time.time() - begin:6.1f} s] done in {wall:.1f} s: {len(figures)} figures")
    return out.summary, out.rows, figures, wall


#: XLA flags of the parallel workers: :data:`jaxneuro.sweep.FAST_COMPILE_OPTIONS` for every
#: program.  Most of a first run is compiling programs that run once or a few times; XLA:CPU's
#: older fusion code generator compiles them 25-40 % faster and runs them up to ~25 % slower.
WORKER_XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false"


def _worker_start(cache_dir) -> None:
    """A parallel worker (a fresh process: JAX has not started its backend): XLA's flags
    :data:`WORKER_XLA_FLAGS`, then the user's own ``XLA_FLAGS`` (which win), and the parent's
    compilation cache, if it has one."""
    import os

    os.environ["XLA_FLAGS"] = " ".join(filter(None, (WORKER_XLA_FLAGS, os.environ.get("XLA_FLAGS"))))
    if cache_dir:
        from . import compilation_cache

        compilation_cache.enable(cache_dir)


def _print_flushed(text: str) -> None:
    print(text, flush=True)


def run_all(out_dir, converged_levels: int = 3, log=print, sections=SECTIONS, *, quick: bool = False,
            fmt: str = "png", workers: int = None) -> dict:
    """Run the ``sections`` (default: all), write their figures (``fmt``: png, svg or pdf),
    ``summary.json``, ``report.md`` and ``report.html`` into ``out_dir``; one line per stage
    with the elapsed time.

    The sections are independent: with ``workers`` > 1 they run in that many processes at once
    (most of a first run is XLA compiling, one core per program), each with this process's
    compilation cache and XLA's flags :data:`WORKER_XLA_FLAGS` (faster compiling); their
    progress lines then go to standard output as they come.

    Args:
        out_dir: a new or empty folder, or one jaxneuro wrote before.
        converged_levels: grids of the Richardson convergence study (>= 3).
        log: where the progress lines go (``print``; a no-op to be quiet) with one worker.
        sections: names among :data:`SECTIONS`.
        quick: coarser grids and fewer points.
        fmt: figure format.
        workers: processes (default: one per core, at most one per section; 1 runs everything here).

    Returns:
        The summary (also in ``summary.json``), with ``wall_seconds`` per section.
    """
    import os

    sections = tuple(sections)
    unknown = set(sections) - set(SECTIONS)
    if unknown or not sections:
        raise ValueError(f"sections must be among {SECTIONS}, got {sorted(unknown) or 'none'}")
    validation.check_choice("fmt", fmt, FORMATS)
    validation.check_integer("converged_levels", converged_levels, minimum=3)
    ordered = [name for name in SECTIONS if name in sections]
    workers = min(len(ordered), os.cpu_count() or 1) if workers is None else workers
    validation.check_integer("workers", workers, minimum=1)
    folder = OutputFolder(out_dir)  # refuses a bad --out before any work
    from . import report

    begin, clock = time.perf_counter(), time.time()
    machine = _machine()
    summary: dict = {"units": {"velocity": "m/s", "potential": "mV from rest", "time": "ms", "length": "µm"},
                     "quick": bool(quick), "machine": machine, "workers": min(workers, len(ordered)),
                     "wall_seconds": {}}
    if workers > 1 and len(ordered) > 1:
        import concurrent.futures
        import multiprocessing

        import jax

        log(f"{len(ordered)} sections on {min(workers, len(ordered))} processes")
        context = multiprocessing.get_context("spawn")  # a fresh JAX in each
        with concurrent.futures.ProcessPoolExecutor(min(workers, len(ordered)), mp_context=context,
                                                    initializer=_worker_start,
                                                    initargs=(jax.config.jax_compilation_cache_dir,)) as pool:
            futures = {name: pool.submit(_run_section, name, quick, converged_levels, fmt, clock, _print_flushed)
                       for name in sorted(ordered, key=_WORKER_ORDER.index)}
            done = {name: future.result() for name, future in futures.items()}
    else:
        done = {name: _run_section(name, quick, converged_levels, fmt, clock, log) for name in ordered}
    notes, rows = [], []
    for name in ordered:
        section_summary, section_rows, figures, wall = done[name]
        summary.update(section_summary)
        rows += section_rows
        for file, data, caption in figures:
            folder.write_bytes(file, data)
            notes.append(FigureNote(file, caption, name))
        summary["wall_seconds"][name] = wall
    total = time.perf_counter() - begin
    summary["wall_seconds"]["total"] = total
    summary["comparison"] = [{"quantity": r.quantity, "unit": r.unit, "notebook": r.notebook, "jaxneuro": r.jaxneuro,
                              "reference": r.reference, "reference_label": r.reference_label,
                              "relative_difference": r.relative_difference, "note": r.note} for r in rows]
    title = "jaxneuro reproduce" + (" --quick" if quick else "")
    intro = ("Every figure and number of the two notebooks (the Hodgkin–Huxley cable with its travelling wave and "
             "extracellular potential; the E/I population oscillator) and what jaxneuro adds, recomputed on this "
             "machine. Units: µm, ms, mV from rest, m/s, µV; population quantities are unitless, times in the "
             "model's time unit." + (" Quick mode: coarser studies (fewer points), not the full reproduction."
                                      if quick else ""))
    walls = {k: v for k, v in summary["wall_seconds"].items() if k != "total"}
    folder.write_text("report.md", report.markdown(title, intro, rows, notes, machine, walls, total))
    folder.write_text("report.html", report.html_page(title, intro, rows, notes, machine, walls, total))
    folder.write_text("summary.json", json_text(summary, indent=2))
    log(f"wrote {len(notes)} figures, summary.json, report.md and report.html to {folder.path} in {total:.1f} s")
    return summary
