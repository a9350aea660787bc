"""The classical results, one function each, and ``jaxneuro reproduce`` that runs them all.

Every function returns plain numbers (and solutions) so tests, the CLI and the figures share
one implementation.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from . import cable, membrane
from .cable import Axon, Grid, Record, Stimulus


def notebook_figure2_run() -> cable.CableSolution:
    """The notebook's first cable (section 3.2): a = 1 µm, ρ = 35.4, 6.3 °C, L = 2 cm,
    dx = 50 µm, dt = 0.025 ms, 1000 µA/cm² on node 0 for 2 ms; 11 ms recorded."""
    grid = Grid(length=20_000.0, dx=50.0, dt=0.025, t_stop=11.0)
    axon = Axon(radius=1.0, rho=35.4)
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


def run_all(out_dir, converged_levels: int = 3, log=print) -> dict:
    """Run every reproduction, write figures and ``summary.json`` into ``out_dir``."""
    from . import plotting  # matplotlib only when figures are wanted

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"units": {"velocity": "m/s", "potential": "mV from rest", "time": "ms", "length": "µm"}}

    def save(fig, name):
        fig.savefig(out / name, dpi=120)
        plotting.plt.close(fig)
        log(f"  wrote {out / name}")

    log("[1/4] notebook Figure 2: 1 µm axon, 2 cm, profiles every ms")
    sol = notebook_figure2_run()
    save(plotting.spatial_profiles(sol, list(np.arange(0.0, 11.0, 1.0)),
                                   "1 µm axon: v(x) every ms for 10 ms (notebook Fig. 2)"), "cable_fig2_profiles.png")
    summary["figure2_axon"] = {"velocity_0.25_0.5cm": float(cable.conduction_velocity(sol, 2_500.0, 5_000.0))}

    log("[2/4] Cooley & Dodge (1966): 7 cm, 281 nodes x 5000 steps")
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

    log(f"[3/4] convergence: {converged_levels} grids halving dx and dt, Richardson extrapolation")
    conv = {}
    for label, k in (("notebook β_m 0.0555", membrane.BETA_M_EXPONENT_NOTEBOOK), ("H&H β_m 1/18", membrane.BETA_M_EXPONENT_HH)):
        cv = cooley_dodge_converged(k, converged_levels)
        conv[label] = cv
        summary.setdefault("converged_velocity", {})[label] = cv._asdict()
    save(plotting.convergence_figure(conv), "cable_convergence.png")

    log("[4/4] radius sweep: 64 cables in one vmapped call")
    sweep = radius_sweep()
    summary["radius_sweep"] = {
        "radii_um": [float(r) for r in sweep.radii[[0, -1]]],
        "members": int(sweep.radii.size),
        "exponent": sweep.exponent,
        "wall_seconds": sweep.wall_seconds,
    }
    save(plotting.radius_sweep_figure(sweep.radii, sweep.velocities, sweep.exponent, sweep.prefactor),
         "cable_radius_sweep.png")

    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    log(f"  wrote {out / 'summary.json'}")
    return summary
