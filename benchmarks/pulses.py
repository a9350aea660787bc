"""Travelling pulses as boundary-value problems: accuracy against shooting, mesh convergence,
the fold of the pulse branch, the slow pulse, and timings.

    python benchmarks/pulses.py [--only mesh,fold,slow] [--out benchmarks/results/pulses.json]

Sections (each prints a table; results, with the device, versions and date, go to --out):

* mesh: the fast pulse at 6.3, 18.5 and 30 °C on nested meshes (each interval halved, from
  250 intervals): speed, successive differences and their ratio (16 for fourth order), and
  the shooting speed (wave.find_wave_speed, RK4, dt = 0.5 and 0.25 µs, bracket 1e-13).
  Also one solve_pulse (2000 intervals) after compilation.
* fold: continue_pulses from 6.3 °C (100 points at most): the fold temperature and speed,
  against wave.propagation_failure; wall time after compilation.
* slow: the slow pulse at 18.5 and 6.3 °C: speed, peak, width, residual, distance from rest
  at both ends, and the shooting's second root for comparison.
* dispersion: wave trains at 18.5 and 6.3 °C from the pulse down to the shortest period and
  back along the slow side; the approach to the pulse's speed as the period grows; where the
  shooting's second root (5.5445 m/s at 18.5 °C, humps every 3.27 ms) sits on the curve; wall
  time of a 50-point curve after compilation.

With --figures DIR the speed-temperature and dispersion figures are written there (PNG).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuro as jn  # noqa: E402
from jaxneuro import pulses, results, wave  # noqa: E402
from timing import environment, merge_results, table  # noqa: E402

SECTIONS = ("mesh", "fold", "slow", "dispersion")
AXON = jn.cooley_dodge_axon()


def at(temperature):
    return wave._as_float(AXON._replace(membrane=AXON.membrane._replace(temperature=temperature)))


def nested_speeds(temperature, base=250, levels=5):
    axon = at(temperature)
    mesh, x, speed, code = jax.jit(pulses._fast_guess, static_argnums=1)(axon, base)
    fixed = pulses._Fixed(axon, jnp.zeros(()), jnp.zeros(()))
    config = pulses._Config(*pulses._PINNED, 20)
    out_rows = []
    for _ in range(levels):
        out = pulses._pinned(axon, mesh, x, speed, jnp.asarray(1e-13), 20)
        out_rows.append((mesh.shape[0] - 1, float(out.theta[0]), int(out.result)))
        slope = pulses._slopes_jit(out.x, out.theta, mesh, fixed, config=config)
        finer = jnp.sort(jnp.concatenate([mesh, 0.5 * (mesh[1:] + mesh[:-1])]))
        x, mesh, speed = pulses._hermite(mesh, out.x, slope, finer), finer, out.theta[0]
    return out_rows


def mesh() -> dict:
    out, rows = {}, []
    for temperature in (6.3, 18.5, 30.0):
        shots = {dt: float(wave.find_wave_speed(at(temperature), dt=dt, t_record=0).speed) for dt in (5e-4, 2.5e-4)}
        levels = nested_speeds(temperature)
        speeds = [s for _, s, _ in levels]
        diffs = np.diff(speeds)
        for i, (n, s, code) in enumerate(levels):
            ratio = f"{diffs[i - 2] / diffs[i - 1]:.2f}" if i >= 2 else ""
            rows.append((temperature, n, f"{s:.13f}", f"{diffs[i - 1]:+.3e}" if i else "", ratio,
                         f"{s / shots[2.5e-4] - 1:+.2e}", results.name(code)))
        out[f"{temperature}_degC"] = {"intervals": [n for n, _, _ in levels], "speed_m_per_s": speeds,
                                      "shooting_speed_m_per_s": {f"dt_{dt}_ms": v for dt, v in shots.items()}}
    table("Fast pulse speed (m/s) on nested meshes, against shooting (dt = 0.25 µs)",
          ("T °C", "intervals", "speed m/s", "difference", "ratio", "rel. to shooting", "result"), rows)
    timings = []
    for temperature in (6.3, 18.5, 30.0):
        jax.block_until_ready(pulses.solve_pulse(at(temperature)))
        start = time.perf_counter()
        pulse = jax.block_until_ready(pulses.solve_pulse(at(temperature)))
        timings.append((temperature, time.perf_counter() - start, float(pulse.speed), float(pulse.peak_v),
                        float(pulse.width), float(pulse.residual), int(pulse.iterations)))
    table("solve_pulse (2000 intervals; the shooting guess included), after compilation",
          ("T °C", "s", "speed m/s", "peak mV", "width ms", "residual", "Newton its"),
          [(t, f"{s:.3f}", f"{u:.10f}", f"{p:.4f}", f"{w:.4f}", f"{r:.1e}", k) for t, s, u, p, w, r, k in timings])
    out["solve_pulse"] = [dict(zip(("temperature_degC", "wall_s", "speed_m_per_s", "peak_mV", "width_ms", "residual",
                                    "iterations"), row)) for row in timings]
    return out


def fold() -> dict:
    options = dict(max_points=100, ds=1.0, ds_max=4.0)
    pulses.continue_pulses(at(6.3), max_points=3)  # compiles the corrector and tangent
    start = time.perf_counter()
    branch = pulses.continue_pulses(at(6.3), **options)
    wall = time.perf_counter() - start
    failure = wave.propagation_failure(AXON, atol=1e-4)
    rows = [(len(branch.values), f"{wall:.1f}", f"{branch.fold_value:.7f}", f"{branch.fold_speed:.6f}",
             f"{float(failure.temperature):.5f} ± {float(failure.bracket[1] - failure.bracket[0]) / 2:.1e}",
             f"{branch.values[~branch.fast].min():.2f}")]
    table("Continuation in temperature from the fast pulse at 6.3 °C (1500 intervals)",
          ("points", "s", "fold °C", "fold speed m/s", "propagation_failure °C", "lowest T on slow side"), rows)
    return {"points": len(branch.values), "wall_s": wall, "fold_temperature_degC": branch.fold_value,
            "fold_speed_m_per_s": branch.fold_speed, "propagation_failure_degC": float(failure.temperature),
            "propagation_failure_bracket_degC": np.asarray(failure.bracket).tolist(),
            "temperature_degC": branch.values.tolist(), "speed_m_per_s": branch.speed.tolist(),
            "peak_mV": branch.peak_v.tolist(), "fast": branch.fast.tolist(), "_branch": branch}


def slow() -> dict:
    out, rows = {}, []
    rest = float(wave.resting_state(AXON).v)
    for temperature, start in ((18.5, 6.3), (6.3, 6.0)):
        t0 = time.perf_counter()
        pulse = pulses.slow_pulse(at(temperature), start=start)
        wall = time.perf_counter() - t0
        root = float(wave.find_wave_speed(at(temperature), branch="train_front", dt=1e-3, t_stop=120.0, t_record=0,
                                          throw=False).speed)
        ends = (float(pulse.profile.v[0]) - rest, float(pulse.profile.v[-1]) - rest)
        rows.append((temperature, f"{float(pulse.speed):.8f}", f"{float(pulse.peak_v):.4f}", f"{float(pulse.width):.4f}",
                     f"{float(pulse.residual):.1e}", f"{ends[0]:+.1e} / {ends[1]:+.1e}", f"{root:.6f}", f"{wall:.1f}"))
        out[f"{temperature}_degC"] = {"speed_m_per_s": float(pulse.speed), "peak_mV": float(pulse.peak_v),
                                      "width_ms": float(pulse.width), "residual": float(pulse.residual),
                                      "ends_from_rest_mV": ends, "shooting_second_root_m_per_s": root,
                                      "wall_s_with_compile": wall}
    table("The slow pulse (continued from the fast one through the fold), 2000 intervals",
          ("T °C", "speed m/s", "peak mV", "width ms", "residual", "V - rest at ends mV", "shooting 2nd root m/s",
           "s (with compile)"), rows)
    return out


def dispersion() -> dict:
    out, rows, curves = {}, [], []
    pulses.dispersion_curve(at(18.5), max_points=3, n_intervals=800)  # compiles
    start = time.perf_counter()
    fifty = pulses.dispersion_curve(at(18.5), max_points=50, n_intervals=800, ds_max=8.0)
    out["wall_s_50_points"] = time.perf_counter() - start
    for temperature in (18.5, 6.3):
        curve = pulses.dispersion_curve(at(temperature), max_points=90, n_intervals=800, ds_max=4.0,
                                        min_period=1.0)
        curves.append(curve)
        front = float(wave.find_wave_speed(at(temperature), branch="train_front", dt=1e-3, t_stop=120.0, t_record=0,
                                           throw=False).speed)
        # The train travelling at the train front's speed, on the slow side (18.5 °C only: ~1.5 min).
        period_at_front = float("nan")
        if temperature == 18.5:
            train = pulses.wave_train(at(temperature), front, n_intervals=800, throw=False)
            period_at_front = train.period
            out["train_at_front_speed_18.5_degC"] = {"period_ms": train.period, "peak_mV": train.peak_v,
                                                     "trough_mV": train.trough_v, "residual": train.residual}
        out[f"{temperature}_degC"] = {
            "period_ms": curve.period.tolist(), "speed_m_per_s": curve.speed.tolist(),
            "peak_mV": curve.peak_v.tolist(), "fast": curve.fast.tolist(), "pulse_speed_m_per_s": curve.pulse_speed,
            "min_period_ms": curve.min_period, "train_front_speed_m_per_s": front,
            "period_at_train_front_speed_ms": period_at_front, "result": results.name(curve.result)}
        rows.append((temperature, len(curve.period), f"{curve.min_period:.4f}", f"{curve.pulse_speed:.9f}",
                     f"{front:.6f}", f"{period_at_front:.3f}", results.name(curve.result)))
        approach = [(f"{p:.2f}", f"{u:.12f}", f"{u / curve.pulse_speed - 1:+.2e}")
                    for p, u in zip(curve.period[curve.fast], curve.speed[curve.fast]) if p >= 10.0][::3]
        table(f"Approach to the solitary pulse at {temperature} °C (fast side, period >= 10 ms)",
              ("period ms", "speed m/s", "relative to pulse"), approach)
    table("Dispersion curves (800 intervals, remeshed every step)",
          ("T °C", "trains", "shortest period ms", "pulse m/s", "train front m/s", "its period on the curve ms",
           "result"), rows)
    print(f"\n50-point curve at 18.5 °C after compilation: {out['wall_s_50_points']:.1f} s "
          f"(periods {fifty.period.max():.1f} -> {fifty.period.min():.2f} ms)")
    out["_curves"] = curves
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--out", default="benchmarks/results/pulses.json", help="results file (JSON)")
    parser.add_argument("--figures", default=None, help="folder for the figures (PNG) [none]")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    out = environment()
    objects = {}
    for section in chosen:
        start = time.perf_counter()
        out[section] = globals()[section]()
        objects[section] = out[section].pop("_curves", None) or out[section].pop("_branch", None)
        out[section]["section_wall_s"] = time.perf_counter() - start
    if args.figures:
        from jaxneuro import plotting

        folder = Path(args.figures)
        folder.mkdir(parents=True, exist_ok=True)
        if objects.get("fold") is not None:
            plotting.pulse_branch_figure(objects["fold"]).savefig(folder / "pulses_speed_temperature.png", dpi=120)
        if objects.get("dispersion") is not None:
            plotting.dispersion_figure(objects["dispersion"]).savefig(folder / "pulses_dispersion.png", dpi=120)
        print(f"figures in {folder}")
    merge_results(args.out, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
