"""The classical results, one function each, and ``jaxneuro reproduce`` that runs them all.

Every function returns plain numbers (and solutions) so tests, the CLI and the figures share
one implementation.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from . import cable, membrane, validation
from .cable import Axon, Grid, Record, Stimulus
from .extracellular import notebook_profile_run
from .output import OutputFolder, json_text


def notebook_figure2_run() -> cable.CableSolution:
    """The notebook's first cable (section 3.2): a = 1 µm, ρ = 35.4, 6.3 °C, L = 2 cm,
    dx = 50 µm, dt = 0.025 ms, 1000 µA/cm² on node 0 for 2 ms; 11 ms recorded."""
    grid = Grid(length=20_000.0, dx=50.0, dt=0.025, t_stop=11.0)
    axon = Axon(radius=1.0, rho=35.4, membrane=membrane.HHParams())  # H&H at 6.3 °C, not Cooley–Dodge
    stimulus = Stimulus.from_density(1000.0, axon.radius, grid.dx, duration=2.0)
    return cable.simulate_cable(axon, grid, stimulus)


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
    sol = cable.simulate_cable(axon, grid, stimulus)
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


def cooley_dodge_converged(beta_m_exponent: float = membrane.BETA_M_EXPONENT_NOTEBOOK, levels: int = 3):
    """Richardson-extrapolated Cooley–Dodge velocity (2–3 cm) from ``levels`` halvings."""
    return cable.converged_velocity(
        cable.cooley_dodge_axon(beta_m_exponent), cable.cooley_dodge_grid(), cable.cooley_dodge_stimulus(),
        levels=levels,
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
    sol = cable.simulate_cable(axon, grid, stimulus, record=Record.reductions())
    velocities = np.asarray(cable.conduction_velocity(sol, 20_000.0, 30_000.0))
    wall = time.perf_counter() - start
    exponent, log_prefactor = np.polyfit(np.log(radii), np.log(velocities), 1)
    return RadiusSweep(radii, velocities, float(exponent), float(np.exp(log_prefactor)), wall)


# ----------------------------------------------------------------------------------------
# The travelling wave (notebook section 3.5).

#: The notebook's hand-tuned speed, 1.8750565461815821 "mm/ms", which is cm/ms: in m/s.
NOTEBOOK_WAVE_SPEED = 18.750565461815821


def cable_wave_start(v, n, m, h, dt: float, step: int = 1000, node: int = 80) -> "wave.WaveState":
    """The notebook's start: the cable's state at ``step`` (1 ms) and ``node`` (2 cm), with
    W = (v[step+1] - v[step]) / dt (mV/ms), from arrays laid out (steps, nodes): V in mV from
    rest, gates n, m, h, and the cable's time step ``dt`` (ms)."""
    from . import wave

    return wave.WaveState(*(jnp.asarray(a) for a in (
        v[step, node], (v[step + 1, node] - v[step, node]) / dt, n[step, node], m[step, node], h[step, node])))


def _notebook_baseline():
    """The notebook's cable algorithm in NumPy (:mod:`jaxneuro.notebook_reference`)."""
    from . import notebook_reference

    return notebook_reference


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
    from . import wave

    axon = cable.cooley_dodge_axon()
    options = NOTEBOOK_WAVE_OPTIONS
    grid = cable.cooley_dodge_grid()
    sol = cable.simulate_cable(axon, grid, cable.cooley_dodge_stimulus(), record=Record(gates=True))
    gates = sol.gates
    start = cable_wave_start(sol.v, gates.n, gates.m, gates.h, grid.dt)
    ours = wave.find_wave_speed(axon, start, **options)
    nb = _notebook_baseline().simulate(duration=1.003)
    from_notebook = float(wave.find_wave_speed(axon, cable_wave_start(*nb, 0.001), **options).speed)
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
    wave_speed: float  # m/s, manifold start, dt = 2.5e-4 ms (converged to ~1e-11)
    windows: list  # [(x1 µm, x2 µm, Richardson cable velocity, its error estimate, relative difference)]


def cable_versus_wave(beta_m_exponent: float, length: float = 120_000.0,
                      windows=((20_000, 30_000), (40_000, 50_000), (60_000, 70_000), (80_000, 90_000))):
    """The cable's Richardson-extrapolated velocity (3 grids from dx 250 µm, dt 1 µs) in windows
    ever farther from the stimulus, against the travelling-wave speed for the same parameters."""
    from . import wave

    axon = cable.cooley_dodge_axon(beta_m_exponent)
    speed = float(wave.find_wave_speed(axon, dt=2.5e-4, t_stop=20.0, t_record=0.0).speed)
    grid = Grid(length=length, dx=250.0, dt=0.001, t_stop=length / 18.0e3 + 1.0)
    stimulus = cable.cooley_dodge_stimulus()
    solutions = [cable.simulate_cable(axon, g, stimulus, record=Record.reductions())
                 for g in (grid, grid.refined(2), grid.refined(4))]
    rows = []
    for x1, x2 in windows:
        v = np.array([float(cable.conduction_velocity(s, x1, x2)) for s in solutions])
        extrapolated = cable.richardson(v)
        rows.append((x1, x2, float(extrapolated[-1]), float(abs(extrapolated[-1] - extrapolated[-2])),
                     float(extrapolated[-1] / speed - 1.0)))
    return CableVersusWave(beta_m_exponent, speed, rows)


class SpeedTemperature(NamedTuple):
    temperatures: np.ndarray  # °C
    fast: np.ndarray  # m/s, NaN where no pulse
    train_front: np.ndarray  # m/s: the shooting's second root, a front onto a wave train (not a pulse)
    failure: object  # wave.PropagationFailure
    wall_seconds: float  # the two vmapped 64-point curves, compilation included
    fast_result: np.ndarray = None  # result code per temperature (jaxneuro.results)
    train_front_result: np.ndarray = None


def speed_temperature(points: int = 64) -> SpeedTemperature:
    """The fast pulse's speed and the shooting's second root (a front from rest onto a wave
    train, not a pulse: see :mod:`jaxneuro.pulses` for the slow pulse) from 6.3 to 36 °C (one
    vmapped call each), and the temperature above which no pulse propagates (Cooley–Dodge
    axon, notebook β_m)."""
    from . import wave

    axon = cable.cooley_dodge_axon()
    temperatures = np.linspace(6.3, 36.0, points)
    batch = wave._with_temperature(axon, jnp.asarray(temperatures))
    start = time.perf_counter()
    # No pulse above the fold (~33.7 °C): NaN with its code there, not an error.
    fast = wave.find_wave_speed(batch, t_record=0.0, throw=False)
    # The train front at low temperature takes long to run away either side of its speed.
    front = wave.find_wave_speed(batch, branch="train_front", t_stop=120.0, t_record=0.0, throw=False)
    wall = time.perf_counter() - start
    failure = wave.propagation_failure(axon, atol=0.005)
    return SpeedTemperature(temperatures, np.asarray(fast.speed), np.asarray(front.speed), failure, wall,
                            np.asarray(fast.result), np.asarray(front.result))


class PulseBranchStudy(NamedTuple):
    branch: object  # pulses.PulseBranch, from 6.3 °C up through the fold and back down
    fast: object  # pulses.Pulse at 18.5 °C
    slow: object  # pulses.Pulse at 18.5 °C (slow branch)
    wall_seconds: float


def pulse_branch() -> PulseBranchStudy:
    """The solitary pulses of the Cooley–Dodge axon as boundary-value problems: the branch
    continued in temperature from 6.3 °C through the fold and back down to 6.3 °C, and the fast
    and slow pulses at 18.5 °C."""
    from . import pulses

    axon = cable.cooley_dodge_axon()
    start = time.perf_counter()
    cold = axon._replace(membrane=axon.membrane._replace(temperature=6.3))
    branch = pulses.continue_pulses(cold, lower=6.3, max_points=100, ds=1.0, ds_max=4.0)
    fast = pulses.solve_pulse(axon)
    slow = pulses.slow_pulse(axon)
    return PulseBranchStudy(branch, fast, slow, time.perf_counter() - start)


# ----------------------------------------------------------------------------------------
# The extracellular potential (notebook sections 2 and 4).

#: The notebook's radii (µm) and its printed "minimal extracellular potential at 50 µm".
NOTEBOOK_RADII = np.array(list(np.arange(0.1, 1.0, 0.1)) + list(range(1, 21)), dtype=float)
NOTEBOOK_PHI_50 = np.array([
    -0.0001521975893516912, -0.0006077856085329096, -0.001312916328027134, -0.0022267628067888907,
    -0.0033199398038001207, -0.0045703597975429245, -0.0059608069426218295, -0.007477469614629965,
    -0.009109015769799597, -0.010845984199127951, -0.03267007984969686, -0.06019212230515381,
    -0.09160793619024045, -0.12598423303485562, -0.16274902479543205, -0.20151590106439943,
    -0.24200655853633768, -0.2840112302542877, -0.32736633136499627, -0.3719408782534829,
    -0.41762774751334886, -0.4643378087727375, -0.5119958260061326, -0.5605375186182346,
    -0.6099073897287358, -0.6600570950101357, -0.7109441938361429, -0.762531154737189,
    -0.8147846052079397,
])
NOTEBOOK_DISTANCES = np.array([25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0, 200.0])


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


def extracellular_study() -> ExtracellularStudy:
    """Everything of notebook section 4, physically scaled (σ_e 0.3 S/m), plus the checks."""
    import warnings

    from . import extracellular as ex

    # 1. The notebook's list, from the notebook's own profile (its cable algorithm, its centring).
    notebook = _notebook_baseline()
    reproduced, worst = np.full(NOTEBOOK_RADII.size, np.nan), float("nan")
    if notebook is not None:
        v = notebook.simulate(a=1e-4, L=1.0, duration=20.0, Delta_x=2e-3, Delta_t=0.01, Ia_amp=500.0,
                              Ia_duration=0.5, rho=150.0, T=30.0, EL=10.5987)[0]
        nb_profile = ex.SpikeProfile.from_samples(np.arange(v.shape[1]) * 20.0, v[np.argmax(v[:, 250])],
                                                  ex.NOTEBOOK_AXON, centre="node")
        reproduced = np.asarray(ex.sweep(nb_profile, nb_profile.axon._replace(radius=NOTEBOOK_RADII), [50.0],
                                         units="notebook", limits=(-1000.0, 1000.0)).value[:, 0])
        worst = float(np.max(np.abs(reproduced / NOTEBOOK_PHI_50 - 1.0)))

    # 2. jaxneuro's profiles; the sqrt(radius) shortcut against direct runs on other grids.
    profile, sol1 = notebook_profile_run(1.0)
    profile4, sol4 = notebook_profile_run(4.0, dx=40.0, density=1000.0)
    check_d = np.array([25.0, 50.0, 100.0, 150.0, 200.0])
    shortcut = {}
    for radius, dx, density in ((4.0, 20.0, 2000.0), (0.25, 5.0, 1000.0)):  # grids not scaled by sqrt(a)
        direct_profile, _ = notebook_profile_run(radius, dx=dx, dt=0.005, density=density)
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
    scan_seconds: float  # 256-value h_E scan, second call (compiled)
    scan_2d: tuple  # (h_E grid, h_I grid, Scan) for the SNIC preset
    onsets: dict  # preset -> h_E of the onset of oscillation
    scaling: dict  # preset -> PeriodScaling
    scan_first_seconds: float = float("nan")  # the same scan's first call, compilation included


def population_study() -> PopulationStudy:
    """The notebook's runs and plots, then the phase-plane and bifurcation analysis."""
    import jax

    from . import population as pop

    homoclinic, snic = pop.preset("homoclinic"), pop.preset("snic")
    run = pop.simulate(homoclinic, pop.HOMOCLINIC_START)
    tolerance = [(r, np.asarray(pop.simulate(homoclinic, pop.HOMOCLINIC_START, rtol=r, atol=r * 1e-2).state[-1]))
                 for r in (1e-6, 1e-8, 1e-10, 1e-12)]
    field = pop.field(snic, pop.Grid2D(-10, 10, -20, 10, 25, 25))
    speed = np.asarray(field.speed)
    fixed = {name: pop.fixed_points(pop.preset(name)) for name in ("homoclinic", "snic")}
    fold = min(pop.saddle_nodes(snic), key=lambda f: abs(f.h_E + 7.0)).h_E

    h = jnp.linspace(-7.6, -6.6, 256)
    scans, seconds = {}, {}
    for name in ("homoclinic", "snic"):
        batch = pop.preset(name)._replace(h_E=h)
        for call in ("first", "second"):  # the first call of the first preset compiles; the rest reuse it
            start = time.perf_counter()
            scans[name] = (np.asarray(h), jax.block_until_ready(pop.scan(batch)))
            seconds.setdefault(call, time.perf_counter() - start)
    he, hi = jnp.meshgrid(jnp.linspace(-8.0, -6.0, 24), jnp.linspace(-5.0, -3.0, 24))
    scan_2d = (np.asarray(he), np.asarray(hi), pop.scan(snic._replace(h_E=he, h_I=hi)))

    onsets = {"snic": fold, "homoclinic": pop.oscillation_onset(homoclinic, -7.35, -7.25)[1]}
    scaling = {
        "snic": pop.period_scaling(snic, fold, np.geomspace(2e-3, 1e-1, 10), t_record=400.0),
        "homoclinic": pop.period_scaling(homoclinic, onsets["homoclinic"], np.geomspace(1e-6, 1e-1, 10), t_record=100.0),
    }
    return PopulationStudy(run, np.asarray(run.state[-1]), tolerance, field,
                           (float(speed.min()), float(speed.max()), float(speed.mean())), fixed, fold, scans,
                           seconds["second"], scan_2d, onsets, scaling, seconds["first"])


SECTIONS = ("cable", "wave", "extracellular", "population")


def run_all(out_dir, converged_levels: int = 3, log=print, sections=SECTIONS) -> dict:
    """Run the reproductions of ``sections`` (default: all), write figures and ``summary.json``
    into ``out_dir``."""

    unknown = set(sections) - set(SECTIONS)
    if unknown or not sections:
        raise ValueError(f"sections must be among {SECTIONS}, got {sorted(unknown) or 'none'}")
    validation.check_integer("converged_levels", converged_levels, minimum=3)
    folder = OutputFolder(out_dir)  # refuses a bad --out before any work
    from . import plotting  # matplotlib only when figures are wanted
    out = folder.path
    summary: dict = {"units": {"velocity": "m/s", "potential": "mV from rest", "time": "ms", "length": "µm"}}

    def save(fig, name):
        folder.save_figure(name, fig)
        plotting.plt.close(fig)
        log(f"  wrote {out / name}")

    if "cable" in sections:
        log("[1/8] notebook Figure 2: 1 µm axon, 2 cm, profiles every ms")
        sol = notebook_figure2_run()
        save(plotting.spatial_profiles(sol, list(np.arange(0.0, 11.0, 1.0)),
                                       "1 µm axon: v(x) every ms for 10 ms (notebook Fig. 2)"), "cable_fig2_profiles.png")
        summary["figure2_axon"] = {"velocity_0.25_0.5cm": float(cable.conduction_velocity(sol, 2_500.0, 5_000.0))}

        log("[2/8] Cooley & Dodge (1966): 7 cm, 281 nodes x 5000 steps")
        results = {}
        for label, k in (("notebook_beta_m", membrane.BETA_M_EXPONENT_NOTEBOOK), ("hh_beta_m", membrane.BETA_M_EXPONENT_HH)):
            cd = cooley_dodge(k)
            results[label] = cd
            summary[f"cooley_dodge_{label}"] = {
                "beta_m_exponent": k,
                "velocity_2_3cm": cd.velocity,
                "peak_mid_cable": cd.mid_peak,
                "peak_far_end": cd.far_end_peak,
                "min_peak_beyond_1cm": cd.min_peak_beyond_1cm,
                "compartments": int(cd.solution.x.shape[0]),
                "steps": int(cable.cooley_dodge_grid().n_steps),
            }
        cd = results["notebook_beta_m"]
        save(plotting.cooley_dodge_figure(cd.solution, velocity=cd.velocity), "cable_fig3_cooley_dodge.png")
        save(plotting.peak_along_cable(cd.solution, "Cooley–Dodge: peak potential per node (sealed ends)"),
             "cable_peak_along_axon.png")

        log(f"[3/8] convergence: {converged_levels} grids halving dx and dt, Richardson extrapolation")
        conv = {}
        for label, k in (("notebook β_m 0.0555", membrane.BETA_M_EXPONENT_NOTEBOOK), ("H&H β_m 1/18", membrane.BETA_M_EXPONENT_HH)):
            cv = cooley_dodge_converged(k, converged_levels)
            conv[label] = cv
            summary.setdefault("converged_velocity", {})[label] = cv._asdict()
        save(plotting.convergence_figure(conv), "cable_convergence.png")

        log("[4/8] radius sweep: 64 cables in one compiled call")
        sweep = radius_sweep()
        summary["radius_sweep"] = {
            "radii_um": [float(r) for r in sweep.radii[[0, -1]]],
            "members": int(sweep.radii.size),
            "exponent": sweep.exponent,
            "wall_seconds": sweep.wall_seconds,
        }
        save(plotting.radius_sweep_figure(sweep.radii, sweep.velocities, sweep.exponent, sweep.prefactor),
             "cable_radius_sweep.png")

    if "wave" in sections:
        log("[5/8] travelling wave: automatic speed from the notebook's start and from rest")
        nw = notebook_wave()
        convergence = wave_speed_convergence()
        summary["travelling_wave"] = {
            "notebook_hand_tuned": nw.notebook,
            "automatic_from_notebook_cable_ab5_dt1e-4": nw.from_notebook_cable,
            "automatic_from_jaxneuro_cable_ab5_dt1e-4": nw.from_jaxneuro_cable,
            "manifold_rk4_dt_vs_speed": convergence,
            "cable_versus_wave": {},
        }
        for k in (membrane.BETA_M_EXPONENT_NOTEBOOK, membrane.BETA_M_EXPONENT_HH):
            cw = cable_versus_wave(k)
            summary["travelling_wave"]["cable_versus_wave"][f"beta_m_{k:.6f}"] = cw._asdict()
            log(f"  β_m {k:.6f}: wave {cw.wave_speed:.9f} m/s; cable - wave (relative) by window: "
                + ", ".join(f"{x1 / 1e4:.0f}-{x2 / 1e4:.0f} cm {d:+.2e}" for x1, x2, _, _, d in cw.windows))
        log(f"  automatic speed from the notebook's cable state: {nw.from_notebook_cable!r} m/s (notebook, by hand: "
            f"{nw.notebook!r}); from jaxneuro's cable state: {nw.from_jaxneuro_cable!r}; from rest: {convergence[-1][1]!r}")
        save(plotting.cable_versus_wave_figure(nw), "wave_fig4_cable_vs_travelling_wave.png")

        log("[6/8] speed vs temperature: fast pulse, train front, propagation failure")
        from .results import name as result_name

        st = speed_temperature()
        summary["speed_temperature"] = {
            "temperatures": st.temperatures, "fast": st.fast, "train_front": st.train_front,
            "fast_result": [result_name(c) for c in st.fast_result],
            "train_front_result": [result_name(c) for c in st.train_front_result],
            "failure_temperature": float(st.failure.temperature),
            "failure_bracket": [float(t) for t in st.failure.bracket],
            "speed_at_failure": float(st.failure.speed),
            "wall_seconds_two_64_point_curves_with_compile": st.wall_seconds,
        }
        save(plotting.speed_temperature_figure(st), "wave_speed_vs_temperature.png")

        log("  pulses as boundary-value problems: continuation through the fold, the slow pulse at 18.5 °C")
        bp = pulse_branch()
        summary["pulses"] = {
            "fold_temperature_degC": bp.branch.fold_value, "fold_speed_m_per_s": bp.branch.fold_speed,
            "temperature_degC": bp.branch.values, "speed_m_per_s": bp.branch.speed, "fast": bp.branch.fast,
            "fast_pulse_18_5_degC": {"speed_m_per_s": float(bp.fast.speed), "peak_mV": float(bp.fast.peak_v),
                                     "width_ms": float(bp.fast.width)},
            "slow_pulse_18_5_degC": {"speed_m_per_s": float(bp.slow.speed), "peak_mV": float(bp.slow.peak_v),
                                     "width_ms": float(bp.slow.width), "residual": float(bp.slow.residual)},
            "wall_seconds_with_compile": bp.wall_seconds,
        }
        log(f"  fold {bp.branch.fold_value:.5f} °C at {bp.branch.fold_speed:.4f} m/s; slow pulse at 18.5 °C: "
            f"{float(bp.slow.speed):.6f} m/s, peak {float(bp.slow.peak_v):.3f} mV")
        save(plotting.pulse_branch_figure(bp.branch, train_front=(st.temperatures, st.train_front)),
             "pulses_speed_vs_temperature.png")
        save(plotting.pulse_profiles_figure([bp.fast, bp.slow], ["fast pulse", "slow pulse"]),
             "pulses_fast_and_slow_18_5_degC.png")

    if "extracellular" in sections:
        log("[7/8] extracellular potential: notebook list, sqrt(radius) shortcut, sweeps, waveforms")
        study = extracellular_study()
        summary["extracellular"] = {
            "units": "µV (σ_e 0.3 S/m, ρ 150 Ω·cm); notebook_phi_50 in the notebook's units",
            "notebook_phi_50": study.notebook_phi_50,
            "notebook_max_relative_error": study.notebook_max_relative_error,
            "shortcut_check": {str(k): {"distances": v[0], "direct": v[1], "shortcut": v[2], "relative": v[3]}
                               for k, v in study.shortcut_check.items()},
            "radii": study.radii, "distances": study.distances, "phi": study.phi, "phi_error": study.phi_error,
            "exponent_p_per_distance": study.exponents.p, "exponent_p_local_range": study.exponents.p_range,
            "exponent_q_per_radius": study.exponents.q, "exponent_q_local_range": study.exponents.q_range,
            "eq9_vs_eq10_spline_max_relative": study.eq9_vs_eq10_spline,
            "grid_formulas_at_waveform_minimum": {str(k): v for k, v in study.grid_check.items()},
            "sweep_29x9_seconds": study.sweep_seconds,
        }
        log(f"  notebook list at 50 µm reproduced to {study.notebook_max_relative_error:.1e}; p in "
            f"[{study.exponents.p_range.min():.2f}, {study.exponents.p_range.max():.2f}]; 29x9 sweep {study.sweep_seconds * 1e3:.0f} ms")
        for name, fig in plotting.extracellular_figures(study).items():
            save(fig, name)

    if "population" in sections:
        log("[8/8] population oscillator: notebook runs, phase plane, bifurcations, period scaling")
        ps = population_study()
        summary["population"] = {
            "units": "E, I, h, c unitless; times in the model's time unit (that of tau_E, tau_I); rates per that unit",
            "homoclinic_end_of_run_E_I_unitless": ps.end, "notebook_end_of_run_E_I_unitless": [1.894, -1.238],
            "tolerance_study_end_E_I_unitless": {f"rtol_{r:g}": e for r, e in ps.tolerance_study},
            "snic_speed_min_max_mean_per_model_time": ps.speed_stats,
            "fixed_points": {k: [{"E_unitless": p.E, "I_unitless": p.I, "residual_per_model_time": p.residual,
                                  "kind": p.kind,
                                  "eigenvalues_per_model_time": [[float(e.real), float(e.imag)] for e in p.eigenvalues]}
                                 for p in v]
                             for k, v in ps.fixed_points.items()},
            "saddle_node_h_E_unitless": ps.saddle_node,
            "onset_h_E_unitless": ps.onsets,
            "period_scaling": {k: {"onset_h_E_unitless": v.onset, "mu_unitless": v.mu, "period_model_time": v.period,
                                   "fit_a_over_sqrt_mu_plus_b": dict(zip(("a_model_time", "b_model_time", "rms_relative"),
                                                                         v.sqrt_fit)),
                                   "fit_minus_a_ln_mu_plus_b": dict(zip(("a_model_time", "b_model_time", "rms_relative"),
                                                                        v.log_fit))}
                               for k, v in ps.scaling.items()},
            "scan_256_seconds": ps.scan_seconds,
            "scan_256_first_call_seconds_with_compile": ps.scan_first_seconds,
        }
        log(f"  end of run {np.round(ps.end, 3)}; speed min/max/mean {ps.speed_stats[0]:.4f} / {ps.speed_stats[1]:.4f} / "
            f"{ps.speed_stats[2]:.4f}; saddle-node h_E {ps.saddle_node:.10f}; 256-value scan {ps.scan_seconds:.2f} s "
            f"(first call, with compilation, {ps.scan_first_seconds:.2f} s)")
        for name, v in ps.scaling.items():
            log(f"  {name}: onset {v.onset:.9f}; rms of fit a/sqrt(mu) {v.sqrt_fit[2]:.3%}, of -a ln(mu) {v.log_fit[2]:.3%}")
        for name, fig in plotting.population_figures(ps).items():
            save(fig, name)

    folder.write_text("summary.json", json_text(summary, indent=2))
    log(f"  wrote {out / 'summary.json'}")
    return summary
