"""The ``jaxneuro`` command.

    jaxneuro reproduce --out results/      every classical result: figures + summary.json
    jaxneuro cable [options] [--json]      one H&H cable run (defaults: Cooley & Dodge 1966)
    jaxneuro speed [options] [--json]      travelling-wave speed, found automatically (fast and slow)
    jaxneuro extracellular [options]       extracellular potential over radii x distances
    jaxneuro population [options]          simulate the E/I population oscillator
    jaxneuro phase-plane [options]         its fixed points, types, speed statistics, saddle-node

Units: µm, ms, mV from rest, mS/cm², Ω·cm, °C, nA; velocities in m/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


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


def _axon_from(args):
    from .cable import Axon
    from .membrane import HHParams

    membrane = HHParams(Cm=args.Cm, gNa=args.gNa, ENa=args.ENa, gK=args.gK, EK=args.EK, gL=args.gL, EL=args.EL,
                        temperature=args.temperature, beta_m_exponent=args.beta_m_exponent)
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
    from . import cable

    boundary = {"sealed": cable.Boundary.sealed(), "clamped": cable.Boundary.clamped(0.0)}
    grid = cable.Grid(args.length, args.dx, args.dt, args.t_stop, boundary[args.left], boundary[args.right])
    axon = _axon_from(args)
    if args.stim_current is not None:
        stimulus = cable.Stimulus(args.stim_current, args.stim_start, args.stim_duration, args.stim_position, args.stim_width)
    else:
        node = int(round(args.stim_position / args.dx))
        stimulus = cable.Stimulus.from_density(args.stim_density, args.radius, args.dx, args.stim_duration,
                                               args.stim_start, node=node, n_nodes=grid.n_nodes)._replace(width=args.stim_width)
    record = cable.Record.reductions()
    start = time.perf_counter()
    sol = cable.simulate_cable(axon, grid, stimulus, record=record)
    first = time.perf_counter() - start
    start = time.perf_counter()
    sol = cable.simulate_cable(axon, grid, stimulus, record=record)
    wall = time.perf_counter() - start
    result = {
        "velocity_m_per_s": None,
        "peak_mV_max": float(sol.peak_v.max()),
        "peak_mV_mid": float(sol.peak_v[grid.n_nodes // 2]),
        "compartments": grid.n_nodes,
        "steps": grid.n_steps,
        "stimulus_nA": float(stimulus.amplitude),
        "wall_seconds": wall,
        "wall_seconds_first_call_with_compile": first,
    }
    try:
        result["velocity_m_per_s"] = float(cable.conduction_velocity(sol, args.x1, args.x2))
    except ValueError as err:
        result["velocity_error"] = str(err)
    if args.richardson:
        cv = cable.converged_velocity(axon, grid, stimulus, args.x1, args.x2)
        result["richardson"] = cv._asdict()
    if args.json:
        print(json.dumps(result, default=float))
    else:
        v = result["velocity_m_per_s"]
        print(f"cable: {grid.n_nodes} compartments x {grid.n_steps} steps, stimulus {result['stimulus_nA']:.1f} nA")
        print(f"  velocity {args.x1:g}-{args.x2:g} µm: " + (f"{v:.6f} m/s" if v is not None else result["velocity_error"]))
        print(f"  peak: {result['peak_mV_mid']:.3f} mV mid-cable, {result['peak_mV_max']:.3f} mV max")
        if args.richardson:
            cv = result["richardson"]
            print(f"  Richardson: {cv['velocity']:.8f} ± {cv['error_estimate']:.1e} m/s (order {cv['observed_order']:.2f})")
        print(f"  wall {wall * 1e3:.1f} ms (first call with compile {first:.2f} s)")
    return 0


def _speed_parser(sub):
    p = sub.add_parser("speed", help="find the travelling-wave speed automatically (shooting + bisection)",
                       description="Find the speed of the H&H travelling pulse (notebook eq. 44) from the unstable "
                                   "manifold of rest, to a relative bracket of --rtol. Defaults: Cooley & Dodge's axon.")
    _add_axon_arguments(p)
    n = p.add_argument_group("numerics")
    n.add_argument("--dz", type=float, default=1e-3, help="integration step (ms) [0.001]")
    n.add_argument("--method", choices=("rk4", "ab5"), default="rk4", help="integrator [rk4]")
    n.add_argument("--rtol", type=float, default=1e-13, help="relative bracket width [1e-13]")
    n.add_argument("--max-z", type=float, default=40.0, help="longest trajectory (ms) [40]")
    n.add_argument("--sections", type=int, default=1, help="trial speeds per iteration (1: bisection) [1]")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run_speed)


def _run_speed(args) -> int:
    from . import wave

    axon = _axon_from(args)
    options = dict(dz=args.dz, method=args.method, rtol=args.rtol, max_z=args.max_z, sections=args.sections)
    start = time.perf_counter()
    fast = wave.find_wave_speed(axon, **options)
    slow = wave.find_wave_speed(axon, branch="slow", **options)
    wall = time.perf_counter() - start

    result = {
        "pulse": bool(fast.found),
        "speed_m_per_s": float(fast.speed) if bool(fast.found) else None,
        "bracket_m_per_s": [float(b) for b in fast.bracket] if bool(fast.found) else None,
        "iterations": int(fast.iterations),
        "slow_speed_m_per_s": float(slow.speed) if bool(slow.found) else None,
        "slow_bracket_m_per_s": [float(b) for b in slow.bracket] if bool(slow.found) else None,
        "wall_seconds_with_compile": wall,
    }
    if args.json:
        print(json.dumps(result))
    elif not result["pulse"]:
        print("no travelling pulse found for these parameters (none could be bracketed)")
    else:
        print(f"speed: {result['speed_m_per_s']:.12f} m/s  (bracket {result['bracket_m_per_s'][0]:.15g} – "
              f"{result['bracket_m_per_s'][1]:.15g}, {result['iterations']} iterations)")
        slow_text = f"{result['slow_speed_m_per_s']:.12f} m/s" if result["slow_speed_m_per_s"] else "not found"
        print(f"slow (unstable) pulse: {slow_text}")
    return 0


def _extracellular_parser(sub):
    p = sub.add_parser("extracellular", help="extracellular potential of an axon's spike over radii and distances",
                       description="Peak extracellular potential (line source, eq. 10) of a spike for a grid of "
                                   "axon radii and electrode distances, from one simulated 1 µm profile (ρ 150 Ω·cm, "
                                   "30 °C) widened by sqrt(radius).")
    p.add_argument("--radii", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0], help="axon radii (µm)")
    p.add_argument("--distances", type=float, nargs="+", default=[25.0, 50.0, 100.0, 200.0],
                   help="electrode distances from the axis (µm)")
    p.add_argument("--sigma-e", type=float, default=0.3, help="extracellular conductivity (S/m) [0.3]")
    p.add_argument("--notebook-units", action="store_true",
                   help="the notebook's numbers: a² ∫ kernel·V du over ±1000 µm, profile centred on its highest node")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run_extracellular)


def _run_extracellular(args) -> int:
    import numpy as np

    from . import extracellular as ex
    from .reproduce import notebook_profile_run

    ex.check_sweep_input(args.radii, args.distances)
    if not (np.isfinite(args.sigma_e) and args.sigma_e > 0):
        raise ValueError(f"--sigma-e must be > 0 S/m, got {args.sigma_e}")
    profile, _ = notebook_profile_run(1.0)
    options = {"sigma_e": args.sigma_e}
    if args.notebook_units:
        profile = ex.SpikeProfile.from_samples(profile.x, profile.v, 1.0, centre="node")
        options.update(units="notebook", window=(-1000.0, 1000.0))
    start = time.perf_counter()
    result = ex.sweep(profile, args.radii, args.distances, **options)
    wall = time.perf_counter() - start
    out = {
        "units": "notebook (a² ∫ kernel·V du)" if args.notebook_units else "µV",
        "radii_um": args.radii,
        "distances_um": args.distances,
        "phi": np.asarray(result.value).tolist(),
        "quadrature_error": np.asarray(result.error).tolist(),
        "wall_seconds_with_compile": wall,
    }
    if len(args.radii) > 1 and len(args.distances) > 1:
        fit = ex.fit_exponents(args.radii, args.distances, result.value)
        out["exponent_radius_per_distance"] = fit.p.tolist()
        out["exponent_distance_per_radius"] = fit.q.tolist()
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"Φe ({out['units']}); rows: radius (µm), columns: distance (µm)")
    print("radius " + " ".join(f"{d:>11.1f}" for d in args.distances))
    for a, row in zip(args.radii, out["phi"]):
        print(f"{a:>6.2f} " + " ".join(f"{x:>11.5g}" for x in row))
    return 0


def _population_arguments(p, default_preset: str) -> None:
    p.add_argument("--preset", choices=("homoclinic", "snic"), default=default_preset,
                   help=f"the notebook's parameter set [{default_preset}]")
    for name in ("h_ex", "h_in", "tau_ex", "tau_in", "c2", "c4", "c_EE", "c_EI"):
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=float, help=f"override {name}")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _population_params(args):
    from . import population as pop

    params = pop.preset(args.preset)
    changes = {k: getattr(args, k) for k in pop.PopulationParams._fields if getattr(args, k) is not None}
    return params._replace(**changes)


def _population_parser(sub):
    p = sub.add_parser("population", help="simulate the E/I population oscillator (adaptive solver)",
                       description="Simulate the excitatory/inhibitory population oscillator of the notebook "
                                   "(diffrax Tsit5, rtol 1e-10) and measure its oscillation.")
    _population_arguments(p, "homoclinic")
    p.add_argument("--start", type=float, nargs=2, default=[1.088, 1.071], help="initial (E, I) [1.088 1.071]")
    p.add_argument("--t-stop", type=float, default=10.0, help="duration [10]")
    p.add_argument("--samples-per-unit", type=int, default=1000, help="output sampling [1000]")
    p.set_defaults(func=_run_population)


def _run_population(args) -> int:
    import numpy as np

    from . import population as pop

    params = _population_params(args)
    run = pop.simulate(params, args.start, args.t_stop, args.samples_per_unit)
    osc = pop.oscillation(params, args.start)
    out = {
        "end_state": [float(v) for v in np.asarray(run.y[-1])],
        "t_stop": args.t_stop,
        "solver_steps": int(run.steps),
        "oscillating": bool(osc.oscillating),
        "period": float(osc.period) if bool(osc.oscillating) else None,
        "amplitude_E": float(osc.amplitude_x),
    }
    if args.json:
        print(json.dumps(out))
    else:
        period = f"{out['period']:.6f}" if out["period"] else "none (goes to a fixed point)"
        print(f"end of run: E = {out['end_state'][0]:.6f}, I = {out['end_state'][1]:.6f}; period {period}")
    return 0


def _phase_plane_parser(sub):
    p = sub.add_parser("phase-plane", help="fixed points, their types, speed statistics and the saddle-node",
                       description="Phase-plane analysis of the E/I oscillator on a window (default: the "
                                   "notebook's 25 x 25 grid over [-10, 10] x [-20, 10]).")
    _population_arguments(p, "snic")
    p.add_argument("--window", type=float, nargs=4, default=[-10.0, 10.0, -20.0, 10.0],
                   help="x_min x_max y_min y_max [-10 10 -20 10]")
    p.add_argument("--grid", type=int, nargs=2, default=[25, 25], help="points along E and I [25 25]")
    p.set_defaults(func=_run_phase_plane)


def _run_phase_plane(args) -> int:
    import numpy as np

    from . import population as pop

    params = _population_params(args)
    grid = pop.Grid2D(*args.window, *args.grid)
    speed = np.asarray(pop.field(params, grid).speed)
    points = pop.fixed_points(params, grid)
    folds = pop.saddle_nodes(params, grid)
    out = {
        "fixed_points": [{"E": p.x, "I": p.y, "type": p.kind, "residual": p.residual,
                          "eigenvalues": [[float(np.real(e)), float(np.imag(e))] for e in p.eigenvalues]}
                         for p in points],
        "speed": {"min": float(speed.min()), "max": float(speed.max()), "mean": float(speed.mean())},
        "saddle_node_h_ex": [f.h_ex for f in folds],
    }
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"speed: min {out['speed']['min']:.4f}, max {out['speed']['max']:.4f}, mean {out['speed']['mean']:.4f}")
    for p in out["fixed_points"]:
        print(f"fixed point E = {p['E']:.8f}, I = {p['I']:.8f}: {p['type']} (|f| = {p['residual']:.1e})")
    print("saddle-nodes at h_ex = " + ", ".join(f"{h:.10f}" for h in out["saddle_node_h_ex"]))
    return 0


def _reproduce_parser(sub):
    p = sub.add_parser("reproduce", help="run every classical result: figures and summary.json")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--levels", type=int, default=3, help="grids in the Richardson convergence study [3]")
    p.add_argument("--only", nargs="+", choices=("cable", "wave", "extracellular", "population"),
                   help="run only these sections (default: all; the wave section takes ~3 of the ~4 minutes)")
    p.set_defaults(func=_run_reproduce)


def _run_reproduce(args) -> int:
    from .reproduce import SECTIONS, run_all

    start = time.perf_counter()
    run_all(args.out, converged_levels=args.levels, log=lambda s: print(s, flush=True), sections=args.only or SECTIONS)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jaxneuro", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _reproduce_parser(sub)
    _cable_parser(sub)
    _speed_parser(sub)
    _extracellular_parser(sub)
    _population_parser(sub)
    _phase_plane_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"jaxneuro {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
