"""The ``jaxneuro`` command.

    jaxneuro reproduce --out results/      every classical result: figures, summary.json, report.html
    jaxneuro cable [options] [--json]      one H&H cable run (defaults: Cooley & Dodge 1966)
    jaxneuro speed [options] [--json]      travelling-pulse speed, found automatically (--slow: the slow pulse)
    jaxneuro extracellular [options]       extracellular potential over radii x distances
    jaxneuro population [options]          simulate the E/I population oscillator
    jaxneuro phase-plane [options]         its fixed points, types, speed statistics, saddle-node
    jaxneuro fit --recording F --fit NAMES fit model parameters to a recording, with uncertainty
    jaxneuro sweep JOB --values NAME=...   a batched job over a grid (chunks, devices, progress): npz/csv

Units: µm, ms, mV from rest, mS/cm², Ω·cm, °C, nA; velocities in m/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import numpy as np

from . import validation
from .output import json_text


def _add_axon_arguments(p) -> None:
    """Radius, ρ and the membrane parameters (defaults: Cooley & Dodge, the notebook's β_m)."""
    g = p.add_argument_group("axon")
    g.add_argument("--radius", type=float, default=238.0, help="axon radius (µm) [238]")
    g.add_argument("--rho", type=float, default=35.4, help="intracellular resistivity (Ω·cm) [35.4]")
    m = p.add_argument_group("membrane")
    m.add_argument("--temperature", type=float, default=18.5, help="temperature (°C) [18.5]")
    for name, default, unit in (("Cm", 1.0, "µF/cm²"), ("gNa", 120.0, "mS/cm²"), ("gK", 36.0, "mS/cm²"),
                                ("gL", 0.3, "mS/cm²"), ("ENa", 115.0, "mV"), ("EK", -12.0, "mV"), ("EL", 10.598, "mV")):
        m.add_argument(f"--{name}", type=float, default=default, help=f"({unit}) [{default}]")
    m.add_argument("--beta-m-exponent", type=float, default=0.0555, help="k in β_m = 4 exp(-k v) (1/mV); H&H: 1/18 [0.0555]")
    m.add_argument("--q10", type=float, default=3.0, help="Q10 base of the rates (dimensionless) [3]")


def _axon_from(args):
    from .cable import Axon
    from .membrane import HHParams

    membrane = HHParams(Cm=args.Cm, gNa=args.gNa, ENa=args.ENa, gK=args.gK, EK=args.EK, gL=args.gL, EL=args.EL,
                        temperature=args.temperature, beta_m_exponent=args.beta_m_exponent, q10=args.q10)
    return Axon(radius=args.radius, rho=args.rho, membrane=membrane)


def _cable_parser(sub):
    p = sub.add_parser("cable", help="simulate one H&H cable (Lees / Crank–Nicolson)",
                       description="Simulate a Hodgkin–Huxley cable. Defaults reproduce Cooley & Dodge (1966).")
    _add_axon_arguments(p)
    g = p.add_argument_group("cable")
    g.add_argument("--length", type=float, default=70_000.0, help="cable length (µm) [70000]")
    g.add_argument("--left", choices=("sealed", "clamped"), default="sealed", help="end at x = 0 [sealed]")
    g.add_argument("--right", choices=("sealed", "clamped"), default="sealed", help="end at x = L [sealed]")
    n = p.add_argument_group("grid")
    n.add_argument("--dx", type=float, default=250.0, help="node spacing (µm) [250]")
    n.add_argument("--dt", type=float, default=0.001, help="time step (ms) [0.001]")
    n.add_argument("--t-stop", type=float, default=5.0, help="duration (ms) [5]")
    s = p.add_argument_group("stimulus (a current pulse)")
    what = s.add_mutually_exclusive_group()
    what.add_argument("--stim-current", type=float, help="total current (nA)")
    what.add_argument("--stim-density", type=float, default=2500.0,
                      help="the notebook's way: current density (µA/cm²) on the membrane of the node at --stim-position [2500]")
    s.add_argument("--stim-start", type=float, default=0.0, help="onset (ms) [0]")
    s.add_argument("--stim-duration", type=float, default=0.2, help="duration (ms) [0.2]")
    s.add_argument("--stim-position", type=float, default=0.0, help="position (µm) [0]")
    s.add_argument("--stim-width", type=float, default=0.0, help="spread (µm), 0 for a point [0]")
    o = p.add_argument_group("output")
    o.add_argument("--x1", type=float, default=20_000.0, help="velocity from x1 (µm) [20000]")
    o.add_argument("--x2", type=float, default=30_000.0, help="to x2 (µm) [30000]")
    o.add_argument("--richardson", action="store_true", help="also run dx/2, dx/4 and extrapolate the velocity")
    o.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run_cable)


def _run_cable(args) -> int:
    from . import cable, results

    boundary = {"sealed": cable.Boundary.sealed(), "clamped": cable.Boundary.clamped(0.0)}
    grid = cable.Grid(args.length, args.dx, args.dt, args.t_stop, boundary[args.left], boundary[args.right])
    axon = _axon_from(args)
    cable.validate_axon(axon)
    for name, unit in (("stim_start", "ms"), ("stim_duration", "ms"), ("stim_position", "µm"), ("stim_width", "µm"),
                       ("x1", "µm"), ("x2", "µm")):
        validation.check_number(f"--{name.replace('_', '-')}", getattr(args, name), unit=unit)
    if not 0.0 <= args.stim_position <= grid.length:
        raise ValueError(f"--stim-position must lie on the cable, in [0, {grid.length:g}] µm, got {args.stim_position:g}")
    for name in ("x1", "x2"):
        if not 0.0 <= getattr(args, name) <= grid.length:
            raise ValueError(f"--{name} must lie on the cable, in [0, {grid.length:g}] µm, got {getattr(args, name):g}")
    if not args.x1 < args.x2:
        raise ValueError(f"need --x1 < --x2, got {args.x1:g} and {args.x2:g} µm")
    if args.stim_current is not None:
        stimulus = cable.Stimulus(args.stim_current, args.stim_start, args.stim_duration, args.stim_position, args.stim_width)
    else:
        validation.check_number("--stim-density", args.stim_density, unit="µA/cm²")
        node = args.stim_position / args.dx
        if abs(node - round(node)) > 1e-9:
            raise ValueError(f"--stim-density puts the current on one node: --stim-position ({args.stim_position:g} µm) "
                             f"must be a node, a multiple of --dx ({args.dx:g} µm); or give --stim-current (nA)")
        stimulus = cable.Stimulus.from_density(args.stim_density, args.radius, args.dx, args.stim_duration,
                                               args.stim_start, node=int(round(node)),
                                               n_nodes=grid.n_nodes)._replace(width=args.stim_width)
    # One run per program per process: XLA options that halve compilation (~3 ms slower per run).
    options = dict(record=cable.Record.reductions(), tuned="compile")
    cable.validate_cable_input(axon, grid, stimulus, options["record"])  # every check before the first run
    start = time.perf_counter()
    sol = cable.simulate_cable(axon, grid, stimulus, **options, throw=True)
    wall = time.perf_counter() - start
    velocity = cable.conduction_velocity(sol, args.x1, args.x2, throw=False)
    code = 0 if np.isfinite(float(velocity)) else (int(cable.arrival_result(sol, args.x2))
                                                   or int(cable.arrival_result(sol, args.x1)))  # why it is NaN
    result = {
        "velocity_m_per_s": float(velocity),
        "result": results.name(code),
        "peak_mV_max": float(sol.peak_v.max()),
        "peak_mV_mid": float(sol.peak_v[grid.n_nodes // 2]),
        "compartments": grid.n_nodes,
        "steps": grid.n_steps,
        "stimulus_nA": float(stimulus.amplitude),
        "wall_seconds_with_compile": wall,
    }
    if code:
        result["velocity_m_per_s_reason"] = results.message(code)
    if args.richardson:
        cv = cable.converged_velocity(axon, grid, stimulus, args.x1, args.x2, coarsest=sol,  # the run above: level 0
                                      tuned=options["tuned"])
        result["richardson"] = {"velocity_m_per_s": cv.velocity, "error_estimate_m_per_s": cv.error_estimate,
                                "observed_order": cv.observed_order, "velocities_m_per_s": cv.velocities,
                                "dx_um": cv.dx, "dt_ms": cv.dt}
    if args.json:
        print(json_text(result))
    else:
        print(f"cable: {grid.n_nodes} compartments x {grid.n_steps} steps, stimulus {result['stimulus_nA']:.1f} nA")
        v = result["velocity_m_per_s"]
        print(f"  velocity {args.x1:g}-{args.x2:g} µm: " + (f"{v:.6f} m/s" if not code else results.message(code)))
        print(f"  peak: {result['peak_mV_mid']:.3f} mV mid-cable, {result['peak_mV_max']:.3f} mV max")
        if args.richardson:
            cv = result["richardson"]
            print(f"  Richardson: {cv['velocity_m_per_s']:.8f} ± {cv['error_estimate_m_per_s']:.1e} m/s "
                  f"(order {cv['observed_order']:.2f})")
        print(f"  wall {wall:.2f} s (one run, compilation included)")
    return 3 if code else 0  # the velocity asked for does not exist


def _speed_parser(sub):
    p = sub.add_parser("speed", help="find the travelling-wave speed automatically (shooting + bisection)",
                       description="Find the speed of the H&H travelling pulse (notebook eq. 44) from the unstable "
                                   "manifold of rest, to a relative bracket of --rtol, and the shooting's second root (a front from rest onto a wave train, not a pulse). "
                                   "--slow adds the slow (unstable) solitary pulse, continued as a boundary-value problem from the fast "
                                   "pulse at 6.3 °C through the fold (takes ~1-2 min). "
                                   "Defaults: Cooley & Dodge's axon. Exit code 3 when no fast pulse exists.")
    _add_axon_arguments(p)
    n = p.add_argument_group("numerics")
    n.add_argument("--dt", type=float, default=1e-3, help="integration step in z = t - x/u (ms) [0.001]")
    n.add_argument("--t-stop", type=float, default=40.0,
                   help="longest trajectory (ms) before it counts as not running away [40]")
    n.add_argument("--solver", choices=("rk4", "ab5"), default="rk4", help="integrator [rk4]")
    n.add_argument("--rtol", type=float, default=1e-13, help="relative bracket width [1e-13]")
    n.add_argument("--amplitude", type=float, default=1e-4,
                   help="start's distance from rest along the unstable eigenvector (mV) [1e-4]")
    n.add_argument("--sections", type=int, default=1, help="trial speeds per iteration (1: bisection) [1]")
    n.add_argument("--max-iterations", type=int, default=200, help="cap on bisection iterations [200]")
    p.add_argument("--slow", action="store_true",
                   help="also the slow pulse (boundary-value problem, continued through the fold from 6.3 °C)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run_speed)


def _run_speed(args) -> int:
    from . import results, wave

    # Every check before the first compilation, with the flags' names.
    validation.check_number("--dt", args.dt, positive=True, unit="ms")
    validation.check_number("--t-stop", args.t_stop, positive=True, unit="ms")
    if not args.dt < args.t_stop:
        raise ValueError(f"--dt ({args.dt:g} ms) must be smaller than --t-stop ({args.t_stop:g} ms)")
    validation.check_number("--rtol", args.rtol, positive=True, upper=0.5)
    validation.check_number("--amplitude", args.amplitude, positive=True, unit="mV")
    validation.check_integer("--sections", args.sections, minimum=1)
    validation.check_integer("--max-iterations", args.max_iterations, minimum=1)
    axon = _axon_from(args)
    if args.slow and not float(axon.membrane.temperature) > 6.3:
        raise ValueError(f"--slow needs a temperature above 6.3 °C (the continuation starts from the fast pulse "
                         f"there), got {float(axon.membrane.temperature):g} °C")
    options = dict(dt=args.dt, t_stop=args.t_stop, solver=args.solver, rtol=args.rtol, amplitude=args.amplitude,
                   sections=args.sections, max_iterations=args.max_iterations, t_record=0.0, throw=False)
    start = time.perf_counter()
    fast = wave.find_wave_speed(axon, **options)  # validates the axon before compiling
    front = wave.find_wave_speed(axon, branch="train_front", **options)
    slow = None
    if args.slow:
        from . import pulses

        slow = pulses.slow_pulse(axon, throw=False)
    wall = time.perf_counter() - start

    code, front_code = int(fast.result), int(front.result)
    result = {
        "pulse": code == results.SUCCESSFUL,
        "speed_m_per_s": float(fast.speed),
        "bracket_m_per_s": [float(b) for b in fast.bracket],
        "iterations": int(fast.iterations),
        "result": results.name(code),
        "train_front_speed_m_per_s": float(front.speed),
        "train_front_bracket_m_per_s": [float(b) for b in front.bracket],
        "train_front_result": results.name(front_code),
        "wall_seconds_with_compile": wall,
    }
    if slow is not None:
        result.update({"slow_pulse_speed_m_per_s": float(slow.speed), "slow_pulse_peak_mV": float(slow.peak_v),
                       "slow_pulse_width_ms": float(slow.width), "slow_pulse_result": results.name(int(slow.result))})
    if code:
        result["speed_m_per_s_reason"] = results.message(code)
    if front_code:
        result["train_front_speed_m_per_s_reason"] = results.message(front_code)
    if args.json:
        print(json_text(result))
    elif code:
        print(f"jaxneuro: error: wave speed: {results.message(code)}", file=sys.stderr)
    else:
        print(f"speed: {result['speed_m_per_s']:.12f} m/s  (bracket {result['bracket_m_per_s'][0]:.15g} – "
              f"{result['bracket_m_per_s'][1]:.15g}, {result['iterations']} iterations)")
        front_text = (f"{result['train_front_speed_m_per_s']:.12f} m/s" if not front_code
                      else results.message(front_code))
        print(f"second root of the shooting (a front from rest onto a wave train, not a pulse): {front_text}")
        if slow is not None:
            slow_text = (f"{result['slow_pulse_speed_m_per_s']:.10f} m/s, peak {result['slow_pulse_peak_mV']:.3f} mV, "
                         f"width {result['slow_pulse_width_ms']:.3f} ms" if not int(slow.result)
                         else results.message(int(slow.result)))
            print(f"slow (unstable) pulse: {slow_text}")
    return 3 if code else 0


def _extracellular_parser(sub):
    p = sub.add_parser("extracellular", help="extracellular potential of an axon's spike over radii and distances",
                       description="Peak extracellular potential (line source, eq. 10) of a spike for a grid of "
                                   "axon radii and electrode distances, from one simulated 1 µm profile (the "
                                   "notebook's section-4 axon: ρ 150 Ω·cm, 30 °C) widened by sqrt((a/ρ) / (1 µm / "
                                   "150 Ω·cm)).")
    p.add_argument("--radii", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0], help="axon radii (µm)")
    p.add_argument("--distances", type=float, nargs="+", default=[25.0, 50.0, 100.0, 200.0],
                   help="electrode distances from the axis (µm), each >= every radius")
    p.add_argument("--rho", type=float, default=150.0, help="intracellular resistivity (Ω·cm) [150]")
    p.add_argument("--sigma-e", type=float, default=0.3, help="extracellular conductivity (S/m) [0.3]")
    p.add_argument("--notebook-units", action="store_true",
                   help="the notebook's numbers: a² ∫ kernel·V du over ±1000 µm, profile centred on its highest node")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run_extracellular)


def _run_extracellular(args) -> int:
    from . import extracellular as ex
    from .extracellular import notebook_profile_run

    axon = ex.NOTEBOOK_AXON._replace(radius=np.asarray(args.radii, float), rho=args.rho)
    options = {"sigma_e": args.sigma_e}
    if args.notebook_units:
        options.update(units="notebook", limits=(-1000.0, 1000.0))
    # Every check before the simulation.
    ex.check_sweep_input(axon, args.distances, **options,
                         names={"axon.radius": "--radii", "axon.rho": "--rho", "distances": "--distances",
                                "sigma_e": "--sigma-e"})
    profile, _ = notebook_profile_run(1.0)
    if args.notebook_units:
        profile = ex.SpikeProfile.from_samples(profile.x, profile.v, profile.axon, centre="node")
    start = time.perf_counter()
    result = ex.sweep(profile, axon, np.asarray(args.distances, float), **options)
    result.value.block_until_ready()
    wall = time.perf_counter() - start
    out = {
        "units": "notebook (a² ∫ kernel·V du)" if args.notebook_units else "µV",
        "radii_um": args.radii,
        "distances_um": args.distances,
        "rho_ohm_cm": args.rho,
        "sigma_e_S_per_m": args.sigma_e,
        "phi": np.asarray(result.value),
        "quadrature_error": np.asarray(result.error),
        "wall_seconds_with_compile": wall,
    }
    if len(set(args.radii)) == len(args.radii) > 1 and len(set(args.distances)) == len(args.distances) > 1:
        fit = ex.fit_exponents(args.radii, args.distances, result.value)
        out["exponent_radius_per_distance"] = fit.p
        out["exponent_distance_per_radius"] = fit.q
    if args.json:
        print(json_text(out))
        return 0
    print(f"Φe ({out['units']}); rows: radius (µm), columns: distance (µm)")
    print("radius " + " ".join(f"{d:>11.1f}" for d in args.distances))
    for a, row in zip(args.radii, np.asarray(result.value)):
        print(f"{a:>6.2f} " + " ".join(f"{x:>11.5g}" for x in row))
    return 0


def _population_arguments(p, default_preset: str) -> None:
    """The preset and its overrides, named as Wilson & Cowan (1972): h_E, h_I, tau_E, tau_I, c1..c4."""
    p.add_argument("--preset", choices=("homoclinic", "snic"), default=default_preset,
                   help=f"the notebook's parameter set [{default_preset}]")
    g = p.add_argument_group("parameters (override the preset)")
    for name, what in (("h_E", "input to E (unitless)"), ("h_I", "input to I (unitless)"),
                       ("tau_E", "time constant of E (model time unit, > 0)"),
                       ("tau_I", "time constant of I (model time unit, > 0)"),
                       ("c1", "E->E coupling (unitless)"), ("c2", "I->E coupling (unitless)"),
                       ("c3", "E->I coupling (unitless)"), ("c4", "I->I coupling (unitless)")):
        g.add_argument(f"--{name.replace('_', '-')}", dest=name, type=float, help=what)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _population_params(args):
    from . import population as pop

    params = pop.preset(args.preset)
    changes = {k: getattr(args, k) for k in pop.PopulationParams._fields if getattr(args, k) is not None}
    params = params._replace(**changes)
    pop.validate(params, scalar=True)
    return params


def _population_parser(sub):
    p = sub.add_parser("population", help="simulate the E/I population oscillator (adaptive solver)",
                       description="Simulate the excitatory/inhibitory population oscillator of the notebook "
                                   "(Wilson & Cowan 1972 names; diffrax Tsit5 at rtol 1e-10 by default) and "
                                   "measure its oscillation. Times are in the model's time unit (that of tau).")
    _population_arguments(p, "homoclinic")
    p.add_argument("--start", type=float, nargs=2, default=[1.088, 1.071], metavar=("E", "I"),
                   help="initial (E, I) (unitless) [1.088 1.071]")
    p.add_argument("--t-stop", type=float, default=10.0, help="duration (model time unit) [10]")
    p.add_argument("--samples-per-unit", type=int, default=1000, help="output samples per unit of time [1000]")
    p.add_argument("--solver", choices=("tsit5", "rk4"), default="tsit5", help="integrator [tsit5]")
    p.add_argument("--rtol", type=float, default=1e-10, help="relative tolerance of tsit5 [1e-10]")
    p.add_argument("--atol", type=float, default=1e-12, help="absolute tolerance of tsit5 [1e-12]")
    p.add_argument("--dt", type=float, default=1e-3, help="rk4 step (model time unit) [0.001]")
    p.set_defaults(func=_run_population)


def _run_population(args) -> int:
    from . import population as pop

    params = _population_params(args)
    options = dict(solver=args.solver, rtol=args.rtol, atol=args.atol, dt=args.dt)
    # Every input is checked (ValueError) before anything is compiled or run.
    pop.check_simulation(params, args.start, args.t_stop, args.samples_per_unit, **options)
    run = pop.simulate(params, args.start, args.t_stop, args.samples_per_unit, **options)
    osc = pop.oscillation(params, args.start)
    end = np.asarray(run.state[-1])
    oscillating = bool(osc.oscillating)
    out = {
        "preset": args.preset,
        "parameters": {f"{k}_model_time" if k.startswith("tau") else f"{k}_unitless": float(v)
                       for k, v in params._asdict().items()},
        "start_E_I_unitless": [float(v) for v in args.start],
        "end_E_I_unitless": [float(v) for v in end],
        "t_stop_model_time": args.t_stop,
        "solver": args.solver,
        "solver_steps": int(run.steps),
        "oscillating": oscillating,
        "period_model_time": float(osc.period) if oscillating else None,
        "amplitude_E_unitless": float(osc.amplitude_E),
        "amplitude_I_unitless": float(osc.amplitude_I),
    }
    if not oscillating:
        out["period_model_time_reason"] = "no oscillation: the run settles on a fixed point"
    if args.json:
        print(json_text(out))
    else:
        period = f"{out['period_model_time']:.6f}" if oscillating else "none (goes to a fixed point)"
        print(f"end of run (t = {args.t_stop:g}): E = {end[0]:.6f}, I = {end[1]:.6f}; period {period}")
    return 0


def _phase_plane_parser(sub):
    p = sub.add_parser("phase-plane", help="fixed points, their types, speed statistics and the saddle-nodes",
                       description="Phase-plane analysis of the E/I oscillator on a window (default: the "
                                   "notebook's 25 x 25 grid over E in [-10, 10], I in [-20, 10]).")
    _population_arguments(p, "snic")
    p.add_argument("--window", type=float, nargs=4, default=[-10.0, 10.0, -20.0, 10.0],
                   metavar=("E_MIN", "E_MAX", "I_MIN", "I_MAX"), help="window (unitless) [-10 10 -20 10]")
    p.add_argument("--points", type=int, nargs=2, default=[25, 25], metavar=("N_E", "N_I"),
                   help="samples of the speed statistics along E and I [25 25]")
    p.set_defaults(func=_run_phase_plane)


def _run_phase_plane(args) -> int:
    from . import population as pop

    params = _population_params(args)
    window = pop.Grid2D(*args.window, *args.points)
    pop.check_phase_plane(params, window)
    speed = np.asarray(pop.field(params, window).speed)
    points = pop.fixed_points(params, window)
    folds = pop.saddle_nodes(params, window)
    out = {
        "preset": args.preset,
        "window_E_I_unitless": list(args.window),
        "fixed_points": [{"E_unitless": p.E, "I_unitless": p.I, "type": p.kind,
                          "residual_per_model_time": p.residual,
                          "eigenvalues_per_model_time": [[float(np.real(e)), float(np.imag(e))] for e in p.eigenvalues]}
                         for p in points],
        "speed_per_model_time": {"min": float(speed.min()), "max": float(speed.max()), "mean": float(speed.mean())},
        "saddle_node_h_E_unitless": [f.h_E for f in folds],
    }
    if args.json:
        print(json_text(out))
        return 0
    speed = out["speed_per_model_time"]
    print(f"speed (1/time): min {speed['min']:.4f}, max {speed['max']:.4f}, mean {speed['mean']:.4f}")
    for p in points:
        print(f"fixed point E = {p.E:.8f}, I = {p.I:.8f}: {p.kind} (|f| = {p.residual:.1e})")
    print("saddle-nodes at h_E = " + ", ".join(f"{h:.10f}" for h in out["saddle_node_h_E_unitless"]))
    return 0


def _pairs(flag: str, text, parse):
    """``name=value,name=value`` into a dict (``parse`` reads each value)."""
    out = {}
    if not text:
        return out
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{flag} takes name=value pairs separated by commas, got {item!r}")
        try:
            out[name.strip()] = parse(value)
        except ValueError:
            raise ValueError(f"{flag}: cannot read the value of {name.strip()!r} from {value!r}") from None
    return out


def _interval(text):
    lo, sep, hi = text.partition(":")
    if not sep:
        raise ValueError(text)
    return float(lo), float(hi)


def _fit_parser(sub):
    p = sub.add_parser("fit", help="fit model parameters to a recording (traces, waveform or speeds), with uncertainty",
                       description="Fit the cable to membrane-potential traces, the travelling spike's extracellular "
                                   "potential to an electrode waveform, or the travelling wave's speed to measured "
                                   "speeds. The recording is a .npz or .csv file with units (jaxneuro.recordings). "
                                   "Prints the fitted values with standard errors, correlations and identifiability. "
                                   "Waveforms use the spike profile of the notebook's 1 µm axon (30 °C, ρ 150 Ω·cm) "
                                   "widened for the radius; the axon options then do not apply.")
    p.add_argument("--recording", required=True, help="the recording file (.npz or .csv)")
    p.add_argument("--fit", required=True, help="parameters to fit, comma-separated (e.g. radius,temperature)")
    p.add_argument("--bounds", default="", help="name=lower:upper,... (the parameters' units)")
    p.add_argument("--start", default="", help="name=value,... start values (default: the axon options)")
    p.add_argument("--starts", type=int, default=1, help="number of starts (the others within ±50 %%) [1]")
    p.add_argument("--method", choices=("lm", "adam", "lbfgs"), default="lm", help="optimiser [lm]")
    p.add_argument("--max-iterations", type=int, default=100, help="iteration limit [100]")
    p.add_argument("--dx", type=float, default=250.0, help="traces: the model's node spacing (µm) [250]")
    p.add_argument("--dt", type=float, default=None, help="traces: time step (ms) [0.001]; speeds: wave step [0.01]")
    p.add_argument("--length", type=float, default=70_000.0, help="traces: cable length (µm) [70000]")
    p.add_argument("--distance", type=float, default=None,
                   help="waveforms: electrode distance (µm) when not fitted, and its start [the recording's]")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _add_axon_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run_fit)


def _fit_problem(args, fit):
    """The fitting problem of ``args.recording`` for the parameters ``fit`` (names): a trace, speed
    or waveform problem, as its file says."""
    from . import cable, extracellular, fitting, recordings
    from .cable import Grid

    recording = recordings.load(args.recording)
    bounds = _pairs("--bounds", args.bounds, _interval)
    start = _pairs("--start", args.start, float)
    axon = _axon_from(args)
    if isinstance(recording, recordings.TraceRecording):
        dt = 0.001 if args.dt is None else args.dt
        validation.check_number("--dt", dt, positive=True, unit="ms")
        validation.check_number("--dx", args.dx, positive=True, unit="µm")
        t_stop = max(float(recording.t[-1]), dt)
        grid = Grid(length=args.length, dx=args.dx, dt=dt, t_stop=t_stop)
        problem = fitting.trace_problem(recording, fit, axon=axon, grid=grid, start=start, bounds=bounds,
                                        stimulus=cable.cooley_dodge_stimulus(axon.radius, args.dx))
    elif isinstance(recording, recordings.SpeedRecording):
        dt = 0.01 if args.dt is None else args.dt
        problem = fitting.speed_problem(recording, fit, axon=axon, dt=dt, start=start, bounds=bounds)
    else:
        names = fitting.check_names(fit, "waveform")  # everything checked before the profile's run
        for name in list(bounds) + list(start):
            if name not in names:
                raise ValueError(f"--bounds/--start name {name!r}, which is not fitted ({', '.join(names)})")
        distance = recording.distance if args.distance is None else args.distance
        if "distance" not in names and not (distance == distance):  # NaN: unknown
            raise ValueError("the electrode distance is unknown: give --distance (µm) or fit distance")
        if args.distance is not None:
            validation.check_number("--distance", args.distance, positive=True, unit="µm")
        profile, solution = extracellular.notebook_profile_run(radius=1.0)
        speed = float(cable.conduction_velocity(solution, 3_000.0, 7_000.0))
        problem = fitting.waveform_problem(recording, names, profile=profile, speed=speed, start=start, bounds=bounds,
                                           distance=None if distance != distance else distance)
    return problem


def _run_fit(args) -> int:
    from . import fitting

    validation.check_integer("--starts", args.starts, minimum=1)
    validation.check_integer("--max-iterations", args.max_iterations, minimum=1)
    problem = _fit_problem(args, args.fit)
    result = fitting.fit(problem, method=args.method, starts=args.starts, max_iterations=args.max_iterations,
                         progress=False if args.quiet or args.json else None)
    if args.json:
        print(fitting.summary_json(result))
    else:
        print(fitting.report(result))
    from .results import SUCCESSFUL
    return 0 if result.result == SUCCESSFUL else 3


def _reproduce_parser(sub):
    from .reproduce import FORMATS, SECTIONS

    p = sub.add_parser("reproduce", help="run every classical result: figures, summary.json, report.html",
                       description="Reproduce the notebooks' results and the checks beyond them: figures, "
                                   "summary.json, report.md and report.html in --out (a new or empty folder, or an "
                                   "earlier output of jaxneuro). One line per stage with the elapsed time.")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--quick", action="store_true", help="coarser studies (fewer points): a check in under a minute")
    p.add_argument("--only", nargs="+", metavar="SECTION",
                   help=f"run only these sections, comma- or space-separated: {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--format", choices=FORMATS, default="png", help="figure format [png]")
    p.add_argument("--levels", type=int, default=3, help="grids in the Richardson convergence study [3]")
    p.add_argument("--workers", type=int, help="processes running sections at once [one per core]")
    p.set_defaults(func=_run_reproduce)


def _run_reproduce(args) -> int:
    from .reproduce import SECTIONS, run_all

    sections = SECTIONS
    if args.only:
        sections = tuple(name.strip() for item in args.only for name in item.split(",") if name.strip())
        unknown = [name for name in sections if name not in SECTIONS]
        if unknown or not sections:
            raise ValueError(f"--only takes sections among {', '.join(SECTIONS)}, got {', '.join(unknown) or 'none'}")
    run_all(args.out, converged_levels=args.levels, log=lambda s: print(s, flush=True), sections=sections,
            quick=args.quick, fmt=args.format, workers=args.workers)
    return 0


class _GridAxis(argparse.Action):
    """--values/--linspace/--geomspace, kept in the order given (the grid's axes follow it)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [*getattr(namespace, self.dest), (option_string, values)])


def _sweep_parser(sub):
    p = sub.add_parser(
        "sweep", help="a batched job over a grid of parameters (chunks, all devices, progress): .npz, .csv, summary",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one of the batched jobs over every combination of the listed parameter values, in chunks "
                    "within a memory budget, spread over the devices (JAX sharding), with progress on a terminal.\n"
                    "Jobs and the parameters they sweep (units):\n"
                    "  cable          conduction velocity: radius (µm), rho (Ω·cm), temperature (°C), Cm, gNa, gK, gL,\n"
                    "                 ENa, EK, EL, beta_m_exponent, q10, stim_density (µA/cm²)\n"
                    "  speed          travelling-pulse speed: the same axon parameters\n"
                    "  extracellular  Φe (µV): radius, rho, distance (µm), x (µm from the peak), sigma_e (S/m)\n"
                    "  population     fixed points and oscillation: h_E, h_I, tau_E, tau_I, c1, c2, c3, c4\n"
                    "  fit            many starts of a fit to --recording: the fitted parameters' start values\n"
                    "Example: jaxneuro sweep cable --values radius=100,238,400 --linspace temperature=6.3:25:8 "
                    "--out sweep/",
    )
    p.add_argument("job", choices=("cable", "speed", "extracellular", "population", "fit"), help="the batched job")
    g = p.add_argument_group("the grid (every combination; the last parameter varies fastest)")
    g.add_argument("--values", action=_GridAxis, dest="axes", default=[], metavar="NAME=V1,V2,...",
                   help="listed values")
    g.add_argument("--linspace", action=_GridAxis, dest="axes", default=[], metavar="NAME=START:STOP:COUNT",
                   help="evenly spaced")
    g.add_argument("--geomspace", action=_GridAxis, dest="axes", default=[], metavar="NAME=START:STOP:COUNT",
                   help="geometrically spaced")
    g.add_argument("--spec", help="a JSON or TOML file: {\"parameters\": {name: [values] or {\"linspace\": [start, "
                                  "stop, count]}}, \"options\": {...}}; flags add to it")
    g.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="a job option (e.g. x1=20000, rtol=1e-10, resolution=2001, units=notebook)")
    d = p.add_argument_group("devices and memory")
    d.add_argument("--devices", type=int, default=None, help="devices to use [all]; on the CPU, that many CPU "
                                                              "devices are created (one per core is best)")
    d.add_argument("--chunk-size", type=int, default=None, help="members per chunk [as the memory budget allows]")
    d.add_argument("--memory-budget", default=None, help="bytes per device, e.g. 2GB, 500MB [a quarter of memory]")
    d.add_argument("--float32", action="store_true",
                   help="compute in float32 (64-bit types off; accuracy ~1e-6..3e-5 relative: benchmarks/RESULTS.md)")
    c = p.add_argument_group("cable and fit options")
    c.add_argument("--length", type=float, default=70_000.0, help="cable length (µm) [70000]")
    c.add_argument("--dx", type=float, default=250.0, help="node spacing (µm) [250]")
    c.add_argument("--dt", type=float, default=None, help="time step (ms) [cable 0.001; speed 0.001]")
    c.add_argument("--t-stop", type=float, default=5.0, help="cable run duration (ms) [5]")
    c.add_argument("--preset", default="homoclinic", help="population: the unswept parameters [homoclinic]")
    c.add_argument("--recording", help="fit: the recording (.npz or .csv)")
    _add_axon_arguments(p)
    o = p.add_argument_group("output")
    o.add_argument("--out", required=True, help="folder for sweep.npz, sweep.csv and summary.json")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    o.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=_run_sweep)


def _has_gpu() -> bool:
    """Whether a GPU plug-in for JAX is installed (without starting JAX's backends)."""
    import importlib.util

    return any(importlib.util.find_spec(name) is not None
               for name in ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin", "jax_rocm7_plugin", "libtpu"))


def _bytes(text):
    """``2GB``, ``500MB``, ``1e9``: bytes."""
    if text is None:
        return None
    units = {"TB": 2**40, "GB": 2**30, "MB": 2**20, "KB": 2**10, "B": 1}
    clean = str(text).strip().upper().replace("IB", "B")
    for suffix, factor in units.items():
        if clean.endswith(suffix):
            number = clean[: -len(suffix)]
            break
    else:
        number, factor = clean, 1
    try:
        value = float(number) * factor
    except ValueError:
        raise ValueError(f"--memory-budget must be a size like 2GB, 500MB or 1e9 (bytes), got {text!r}") from None
    return value


def _spaced(flag: str, text: str, geometric: bool):
    name, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or len(parts) != 3:
        raise ValueError(f"{flag} takes NAME=START:STOP:COUNT, got {text!r}")
    try:
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"{flag} takes NAME=START:STOP:COUNT (numbers; COUNT an integer), got {text!r}") from None
    if count < 1:
        raise ValueError(f"{flag} {name}: COUNT must be >= 1, got {count}")
    if geometric and not (start > 0 and stop > 0):
        raise ValueError(f"{flag} {name}: START and STOP must be > 0, got {start:g}, {stop:g}")
    return name.strip(), (np.geomspace if geometric else np.linspace)(start, stop, count)


def _spec_file(path: str) -> dict:
    import json
    from pathlib import Path

    text = Path(path).read_text()
    if path.endswith(".toml"):
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise ValueError(f"--spec {path}: reading TOML needs Python >= 3.11; give the spec as JSON") from None

        data = tomllib.loads(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict) or not set(data) <= {"job", "parameters", "options"}:
        raise ValueError(f"--spec {path}: expected keys 'parameters' and optionally 'options' and 'job', got "
                         f"{sorted(data) if isinstance(data, dict) else type(data).__name__}")
    return data


def _option_value(text: str):
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def _sweep_spec(args):
    """The grid spec and job options from --spec and the flags."""
    data = _spec_file(args.spec) if args.spec else {}
    if data.get("job", args.job) != args.job:
        raise ValueError(f"--spec {args.spec} is for the {data['job']!r} job, not {args.job!r}")
    spec = {}
    if not isinstance(data.get("parameters", {}), dict):
        raise ValueError(f"--spec {args.spec}: 'parameters' must be a table of name = values")
    for name, values in data.get("parameters", {}).items():
        if isinstance(values, dict):
            (kind, triple), = values.items() if len(values) == 1 else ((None, None),)
            if kind not in ("linspace", "geomspace") or len(triple) != 3:
                raise ValueError(f"--spec parameter {name!r}: a list of values or {{\"linspace\": [start, stop, count]}}")
            values = getattr(np, kind)(float(triple[0]), float(triple[1]), int(triple[2]))
        spec[name] = values
    for flag, text in args.axes:
        if flag == "--values":
            name, sep, rest = text.partition("=")
            if not sep:
                raise ValueError(f"--values takes NAME=V1,V2,..., got {text!r}")
            try:
                values = [float(v) for v in rest.split(",")]
            except ValueError:
                raise ValueError(f"--values {name}: the values must be numbers, got {rest!r}") from None
            name = name.strip()
        else:
            name, values = _spaced(flag, text, flag == "--geomspace")
        spec.pop(name, None)  # a flag replaces the file's axis, and takes its place in the order
        spec[name] = values
    if not isinstance(data.get("options", {}), dict):
        raise ValueError(f"--spec {args.spec}: 'options' must be a table of name = value")
    options = dict(data.get("options", {}))
    for text in args.option:
        name, sep, value = text.partition("=")
        if not sep:
            raise ValueError(f"--option takes NAME=VALUE, got {text!r}")
        options[name.strip()] = _option_value(value.strip())
    if not spec:
        raise ValueError("the grid is empty: give --values, --linspace, --geomspace or --spec with parameters")
    return spec, options


def _sweep_job(args, names, options):
    """The job of ``args.job`` with the command's settings and ``options`` (static fields)."""
    import dataclasses

    import jax.numpy as jnp

    from . import cable, extracellular, jobs, population

    settings = {}
    if args.job in ("cable", "speed"):
        settings["axon"] = _axon_from(args)
        cable.validate_axon(settings["axon"])
    if args.job == "cable":
        settings["grid"] = cable.Grid(args.length, args.dx, 0.001 if args.dt is None else args.dt, args.t_stop)
        settings["dtype"] = jnp.float32 if args.float32 else jnp.float64
    if args.job == "speed" and args.dt is not None:
        if "dt" in options:
            raise ValueError("give the speed job's time step once: --dt or --option dt=..., not both")
        settings["dt"] = args.dt
    if args.job == "population":
        settings["params"] = population.preset(args.preset)
    job_type = jobs.JOBS[args.job]
    fields = {f.name for f in dataclasses.fields(job_type)}
    for name in options:
        if name not in fields or name in ("axon", "grid", "params", "problem", "profile", "dtype"):
            allowed = sorted(fields - {"axon", "grid", "params", "problem", "profile", "dtype"})
            raise ValueError(f"--option {name!r} is not an option of the {args.job} job; it takes: {', '.join(allowed)}")
    if args.job == "extracellular":
        settings["profile"] = extracellular.notebook_profile_run(radius=1.0)[0]
    if args.job == "fit":
        if not args.recording:
            raise ValueError("the fit job needs --recording (the data to fit)")
        args.bounds, args.start, args.distance = "", "", None
        settings["problem"] = _fit_problem(args, tuple(names))
    try:
        return job_type(**settings, **options)
    except TypeError as err:  # an option of the wrong type (e.g. --option x1=abc)
        raise ValueError(f"the {args.job} job's options {options}: {err}") from None


def _run_sweep(args) -> int:
    import dataclasses
    import io

    from . import __version__, jobs, sweep
    from .output import OutputFolder, unit_key

    if args.devices is not None:
        validation.check_integer("--devices", args.devices, minimum=1)
        cores = os.cpu_count() or 1
        if args.devices > cores and not _has_gpu():
            raise ValueError(f"--devices {args.devices}: this machine has {cores} CPU core(s) and no GPU; ask for at "
                             f"most {cores} (one CPU device per core)")
        try:  # on the CPU, one device per core asked for; no effect on a GPU's devices
            sweep.use_cpu_devices(args.devices)
        except ValueError:
            pass  # JAX already started (a caller in this process): its devices are checked by the sweep
    spec, options = _sweep_spec(args)
    members = sweep.product(spec)  # checks the values
    budget = _bytes(args.memory_budget)
    if args.chunk_size is not None:
        validation.check_integer("--chunk-size", args.chunk_size, minimum=1)
    sweep.check_options(devices=args.devices, chunk_size=args.chunk_size, memory_budget=budget)  # before any work
    if args.job != "fit":
        known = jobs.JOBS[args.job].parameters
        unknown = [name for name in spec if name not in known]
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r} for the {args.job} job; it sweeps: {', '.join(known)}")
    folder = OutputFolder(args.out)
    job = _sweep_job(args, list(spec), options)
    start = time.perf_counter()
    layout = sweep.plan(job, members, devices=args.devices, chunk_size=args.chunk_size, memory_budget=budget)
    out = sweep.run(job, members, devices=args.devices, chunk_size=args.chunk_size, memory_budget=budget,
                    progress=False if args.quiet or args.json else None,
                    dtype="float32" if args.float32 else None)
    wall = time.perf_counter() - start
    units = job.parameters
    columns = {unit_key(name, units[name]): np.asarray(values) for name, values in members.items()}
    results_host = {name: np.asarray(value) for name, value in out.items()}
    folder.write_bytes("sweep.npz", _npz_bytes({**columns, **results_host}))
    table = dict(columns)
    for name, value in results_host.items():
        if value.ndim == 1:
            table[name] = value
        elif args.job == "fit" and name == "values":  # one column per fitted parameter, with its unit
            for k, (fitted, unit) in enumerate(units.items()):
                table[unit_key(f"{fitted}_fitted", unit)] = value[:, k]
        else:
            for k in range(int(np.prod(value.shape[1:]))):
                table[f"{name}_{k}"] = value.reshape(value.shape[0], -1)[:, k]
    text = io.StringIO()
    np.savetxt(text, np.column_stack([np.asarray(v, float) for v in table.values()]), delimiter=",",
               header=",".join(table), comments="", fmt="%.17g")
    folder.write_text("sweep.csv", text.getvalue())
    failed = int(np.sum(results_host["result"] != 0)) if "result" in results_host else 0
    summary = {
        "job": args.job,
        "options": {unit_key(f.name, _OPTION_UNITS.get(f.name, "")): getattr(job, f.name)
                    for f in dataclasses.fields(job) if isinstance(getattr(job, f.name), (int, float, str, bool))},
        "parameters": {unit_key(name, units[name]): np.asarray(values).tolist() for name, values in spec.items()},
        "grid_shape": list(sweep.grid_shape(spec)),
        "members": int(len(next(iter(members.values())))),
        "failed_members": failed,
        "devices": len(layout.devices),
        "device_kind": layout.devices[0].device_kind,
        "chunk_members": layout.chunk,
        "chunks": layout.n_chunks,
        "member_bytes_estimate": layout.member_bytes,
        "memory_budget_bytes": layout.memory_budget,
        "float32": bool(args.float32),
        "wall_time_s": wall,
        "outputs": {name: {"min": np.nanmin(v) if np.isfinite(v).any() else None,
                           "max": np.nanmax(v) if np.isfinite(v).any() else None}
                    for name, v in ((n, np.asarray(r, float)) for n, r in results_host.items()) if name != "result"},
        "jaxneuro_version": __version__,
        "jax_version": jax.__version__,
    }
    if args.job == "cable":
        summary["cable_grid"] = {"length_um": job.grid.length, "dx_um": job.grid.dx, "dt_ms": job.grid.dt,
                                 "t_stop_ms": job.grid.t_stop}
    folder.write_text("summary.json", json_text(summary, indent=2) + "\n")
    if args.json:
        print(json_text(summary))
    else:
        print(f"{args.job}: {summary['members']} members on {summary['devices']} {summary['device_kind']} device(s), "
              f"{layout.n_chunks} chunk(s) of {layout.chunk}, {wall:.2f} s; {failed} failed")
        for name, stats in summary["outputs"].items():
            print(f"  {name:<20s} {stats['min']!s:>24} … {stats['max']!s}")
        print(f"wrote {folder.path / 'sweep.npz'}, sweep.csv, summary.json")
    return 0 if failed == 0 else 3


#: Units of the jobs' options, for the keys of summary.json.
_OPTION_UNITS = {"x1": "µm", "x2": "µm", "stim_duration": "ms", "dt": "ms", "t_stop": "ms", "amplitude": "mV"}


def _npz_bytes(arrays: dict) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line ``jaxneuro: error: ...`` (exit code 2)."""

    def error(self, message):
        self.exit(2, f"jaxneuro: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``jaxneuro`` argument parser (all subcommands)."""
    from . import __version__

    parser = _Parser(prog="jaxneuro", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Differentiable computational neuroscience in JAX: the Hodgkin–Huxley cable, its "
                                 "travelling wave, extracellular potentials, an E/I population oscillator.\n\n"
                                 "Units: µm, ms, mV from rest, mS/cm², µF/cm², Ω·cm, °C, nA, µV; velocities m/s.\n"
                                 "Exit codes: 0 done, 2 bad input, 3 numerical failure (--debug: full traceback).")
    parser.add_argument("--version", action="version", version=f"jaxneuro {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not use the persistent compilation cache (compile every program again)")
    parser.add_argument("--cache-dir", help="folder of the persistent compilation cache "
                                            "[$JAXNEURO_CACHE_DIR or ~/.cache/jaxneuro/jax]")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _reproduce_parser(sub)
    _cable_parser(sub)
    _speed_parser(sub)
    _extracellular_parser(sub)
    _population_parser(sub)
    _phase_plane_parser(sub)
    _fit_parser(sub)
    _sweep_parser(sub)
    for command in sub.choices.values():  # --debug also after the command's name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the full traceback of an error")
    return parser


def main(argv=None) -> int:
    """Run the ``jaxneuro`` command; returns the exit code: 0 success, 2 bad input, 3 a numerical
    failure (divergence, no pulse where one was required).  Errors are one line
    ``jaxneuro: error: ...`` on stderr; ``--debug`` shows the traceback instead."""
    from .results import NumericalError

    # The cache first (before the subcommands' modules are imported, see compilation_cache).
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--no-cache", action="store_true")
    early.add_argument("--cache-dir")
    cache, _ = early.parse_known_args(sys.argv[1:] if argv is None else argv)
    if not cache.no_cache:  # compile once per machine: later calls load the programs
        from . import compilation_cache

        compilation_cache.enable(cache.cache_dir)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, NumericalError) as err:
        if args.debug:
            raise
        print(f"jaxneuro: error: {err}", file=sys.stderr)
        return 3 if isinstance(err, NumericalError) else 2
    except OSError as err:  # output that cannot be written
        if args.debug:
            raise
        print(f"jaxneuro: error: {err}", file=sys.stderr)
        return 2
    except (MemoryError, jax.errors.JaxRuntimeError) as err:  # e.g. out of memory in XLA
        if args.debug:
            raise
        print(f"jaxneuro: error: the computation failed: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
