"""Fitting: the cost of derivatives through the cable, memory with checkpoints, the optimisers,
and the accuracy of fitted parameters and their standard errors.

    python benchmarks/fitting.py [--only cost,memory,methods,calibration,mismatch,extracellular,speeds]
                                 [--seeds 20] [--out benchmarks/results/fitting.json]

Sections (each prints a table; all results, with the device, versions and date, go to --out):

* cost: the Cooley–Dodge run (281 nodes × 5000 steps, 3 probes recorded every step): forward
  run, reverse-mode gradient of a 3-probe least-squares loss w.r.t. the radius (checkpoint
  levels 0, 1, 2), forward-mode Jacobian of the traces w.r.t. radius, temperature, gNa.
* memory: peak RSS of a process that takes the reverse-mode gradient through a 20 ms run
  (20 000 steps), per checkpoint level (each in its own process).
* methods: the acceptance-1 fit (traces at 3 positions, 0.5 mV noise, radius, temperature, gNa
  from 30 % off) by Levenberg–Marquardt, L-BFGS and Adam: iterations, wall after compilation.
* calibration: that fit over ``--seeds`` noise seeds: error, and how often ±1 SE covers the truth.
* mismatch: data from a grid 4× finer in dx and dt; the bias of the fitted parameters.
* extracellular: radius and electrode distance from a waveform at 50 µm of a 1 µm axon.
* speeds: the Q10 base from wave speeds at 5 temperatures; radius and ρ from the same speeds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuro as jn  # noqa: E402
from jaxneuro import fitting, recordings  # noqa: E402
from timing import environment, merge_results, table  # noqa: E402

SECTIONS = ("cost", "memory", "methods", "calibration", "mismatch", "extracellular", "speeds")
TRUTH = {"radius": 238.0, "temperature": 18.5, "gNa": 120.0}
PROBES = (10_000.0, 25_000.0, 40_000.0)


def best_of(fn, repeat=8):
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def _record():
    return jn.Record(history=False, probes=PROBES, peaks=False, threshold=None)


def cost() -> dict:
    grid, stim, axon = jn.cooley_dodge_grid(), jn.cooley_dodge_stimulus(), jn.cooley_dodge_axon()

    def traces(theta, checkpoint=0):
        a = axon._replace(radius=theta[0], membrane=axon.membrane._replace(temperature=theta[1], gNa=theta[2]))
        unroll = 1 if checkpoint else 2  # as jaxneuro.fitting runs it
        return jn.solve_cable(a, grid, stim, _record(), checkpoint=checkpoint, unroll=unroll).probe_v

    theta = jnp.asarray([238.0, 18.5, 120.0])
    cases = {"forward run": (jax.jit(traces), theta)}
    for checkpoint in (0, 1, 2):
        def loss(radius, checkpoint=checkpoint):
            return 0.5 * jnp.sum(traces(jnp.stack([radius, theta[1], theta[2]]), checkpoint) ** 2)

        cases[f"reverse gradient, checkpoint={checkpoint}"] = (jax.jit(jax.grad(loss)), theta[0])
    cases["forward Jacobian, 3 parameters"] = (jax.jit(jax.jacfwd(traces)), theta)
    # Interleaved rounds, best of each: the machine's noise falls alike on every case.
    best = {name: float("inf") for name in cases}
    for fn, x in cases.values():
        jax.block_until_ready(fn(x))
    for _ in range(8):
        for name, (fn, x) in cases.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(x))
            best[name] = min(best[name], time.perf_counter() - start)
    t_forward = best["forward run"]
    rows = [(name, f"{t * 1e3:.1f}", f"{t / t_forward:.2f}") for name, t in best.items()]
    out = {name.replace(", ", "_").replace(" ", "_").replace("=", "_") + "_s": t for name, t in best.items()}
    table("Derivative cost on the Cooley–Dodge run (281 nodes x 5000 steps, 3 probes)", ("", "ms", "x forward"), rows)
    return out


def _memory_child(checkpoint: int) -> None:
    grid = jn.cooley_dodge_grid(t_stop=20.0)
    stim, axon = jn.cooley_dodge_stimulus(), jn.cooley_dodge_axon()

    def loss(radius):
        sol = jn.solve_cable(axon._replace(radius=radius), grid, stim, _record(), checkpoint=checkpoint,
                             unroll=1 if checkpoint else 2)
        return 0.5 * jnp.sum(sol.probe_v ** 2)

    before = _peak_rss_mb()
    start = time.perf_counter()
    jax.block_until_ready(jax.jit(jax.grad(loss))(238.0))
    wall = time.perf_counter() - start
    print(json.dumps({"peak_rss_MB": _peak_rss_mb(), "rss_before_MB": before, "wall_with_compile_s": wall}))


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss, not inherited across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory() -> dict:
    out, rows = {}, []
    for checkpoint in (0, 1, 2, 3):
        child = subprocess.run([sys.executable, __file__, "--memory-child", str(checkpoint)], capture_output=True,
                               text=True, check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        out[f"checkpoint_{checkpoint}"] = result
        rows.append((checkpoint, f"{result['peak_rss_MB']:.0f}", f"{result['rss_before_MB']:.0f}",
                     f"{result['wall_with_compile_s']:.1f}"))
    table("Peak RSS of one reverse-mode gradient through a 20 ms run (281 nodes x 20 000 steps)",
          ("checkpoint", "peak RSS MB", "RSS before MB", "s (with compile)"), rows)
    return out


def synthetic(grid=None, seed=0, noise=0.5):
    grid = grid or jn.cooley_dodge_grid()
    sol = jn.simulate_cable(jn.cooley_dodge_axon(), grid, jn.cooley_dodge_stimulus(), record=_record())
    t = np.arange(0.0, 5.0 + 1e-9, 0.02)
    v = np.array([np.interp(t, np.asarray(sol.t), trace) for trace in np.asarray(sol.probe_v).T])
    if noise:
        v = v + noise * np.random.default_rng(seed).standard_normal(v.shape)
    return recordings.TraceRecording.make(t, PROBES, v, noise=noise or None)


def _problem(recording):
    return fitting.trace_problem(recording, tuple(TRUTH), axon=jn.cooley_dodge_axon(), grid=jn.cooley_dodge_grid(),
                                 stimulus=jn.cooley_dodge_stimulus())


def _start():
    return {k: 1.3 * v for k, v in TRUTH.items()}


def methods() -> dict:
    problem = _problem(synthetic())
    out, rows = {}, []
    for method, options in (("lm", {}), ("lbfgs", {"max_iterations": 300}),
                            ("adam", {"max_iterations": 300, "learning_rate": 0.05})):
        fitting.fit(problem, _start(), method=method, progress=False, with_uncertainty=False, max_iterations=1)
        result = fitting.fit(problem, _start(), method=method, progress=False, **options)
        errors = {n: (v - TRUTH[n]) / TRUTH[n] for n, v in zip(result.names, result.values)}
        out[method] = {"iterations": result.iterations, "wall_s": result.elapsed, "loss": result.loss,
                       "result": jn.results.name(result.result), "values": dict(zip(result.names, result.values)),
                       "relative_errors": errors}
        rows.append((method, result.iterations, f"{result.elapsed:.1f}", f"{result.loss:.2f}",
                     *(f"{v:.4f} ({errors[n]:+.2%})" for n, v in zip(result.names, result.values))))
    table("Optimisers on the 3-parameter trace fit (wall after compilation; values (error))",
          ("method", "iterations", "s", "loss", *TRUTH), rows)
    return out


def calibration(seeds: int) -> dict:
    covered = {n: 0 for n in TRUTH}
    errors = {n: [] for n in TRUTH}
    walls, rows = [], []
    for seed in range(seeds):
        result = fitting.fit(_problem(synthetic(seed=seed)), _start(), progress=False)
        walls.append(result.elapsed)
        for name, value, se in zip(result.names, result.values, result.standard_errors):
            errors[name].append((value - TRUTH[name]) / se)
            covered[name] += abs(value - TRUTH[name]) <= se
    for name in TRUTH:
        z = np.asarray(errors[name])
        rows.append((name, f"{covered[name] / seeds:.0%}", f"{np.mean(z):+.2f}", f"{np.std(z):.2f}",
                     f"{np.max(np.abs(z)):.2f}"))
    table(f"Calibration over {seeds} noise seeds (0.5 mV): ±1 SE coverage (expect ~68 %), (fit - truth)/SE",
          ("parameter", "coverage", "mean z", "sd z", "max |z|"), rows)
    return {"seeds": seeds, "coverage": {n: covered[n] / seeds for n in TRUTH},
            "z": {n: list(map(float, errors[n])) for n in TRUTH}, "wall_s_median": float(np.median(walls))}


def mismatch() -> dict:
    fine = jn.cooley_dodge_grid(dx=62.5, dt=0.00025)
    out, rows = {}, []
    for noise in (None, 0.5):
        result = fitting.fit(_problem(synthetic(fine, noise=noise)), _start(), progress=False)
        bias = {n: (v - TRUTH[n]) / TRUTH[n] for n, v in zip(result.names, result.values)}
        out["noise_free" if noise is None else "noise_0.5mV"] = {"bias": bias, "result": jn.results.name(result.result)}
        rows.append(("none" if noise is None else "0.5 mV", *(f"{bias[n]:+.3%}" for n in TRUTH)))
    table("Data from a grid 4x finer (62.5 µm, 0.25 µs), fitted on 250 µm, 1 µs: relative bias",
          ("noise", *TRUTH), rows)
    return out


def extracellular() -> dict:
    from jaxneuro import extracellular as ex

    profile, sol = ex.notebook_profile_run(radius=1.0)
    speed = float(jn.conduction_velocity(sol, 3_000.0, 7_000.0))
    t = np.arange(-1.5, 1.5 + 1e-9, 0.01)
    base = recordings.WaveformRecording.make(t, np.zeros_like(t), distance=50.0)
    names = ("radius", "distance", "offset")
    clean = fitting.waveform_problem(base, names, profile=profile, speed=speed)
    phi = np.asarray(clean.predict(jnp.asarray([1.0, 50.0, 0.0]))[0])
    noise = 0.01 * np.abs(phi).max()
    data = phi + noise * np.random.default_rng(0).standard_normal(phi.shape)
    problem = fitting.waveform_problem(recordings.WaveformRecording.make(t, data, distance=65.0, noise=noise), names,
                                       profile=profile, speed=speed)
    result = fitting.fit(problem, {"radius": 1.3, "distance": 65.0, "offset": 0.05}, progress=False)
    truth = {"radius": 1.0, "distance": 50.0, "offset": 0.0}
    rows = [(n, f"{v:.5g}", f"{s:.2g}", f"{(v - truth[n]) / (truth[n] or 1):+.2%}")
            for n, v, s in zip(result.names, result.values, result.standard_errors)]
    table(f"Extracellular: waveform at 50 µm of a 1 µm axon (peak {np.abs(phi).max():.2f} µV, noise 1 % of it), "
          "start 30 % off", ("parameter", "fit", "SE", "error"), rows)
    return {"values": dict(zip(names, result.values)), "standard_errors": dict(zip(names, result.standard_errors)),
            "peak_uV": float(np.abs(phi).max()), "result": jn.results.name(result.result),
            "iterations": result.iterations}


def speeds() -> dict:
    axon = jn.cooley_dodge_axon()
    temperatures = np.linspace(6.3, 25.0, 5)
    batch = axon._replace(membrane=axon.membrane._replace(temperature=jnp.asarray(temperatures)))
    measured = np.asarray(jn.wave_speed(batch, dt=0.01, rtol=1e-10))
    rec = recordings.SpeedRecording.make("temperature", temperatures, measured, noise=0.002 * measured)
    q10 = fitting.fit(fitting.speed_problem(rec, ("q10",), axon=axon), {"q10": 2.5}, progress=False)
    pair = fitting.fit(fitting.speed_problem(rec, ("radius", "rho"), axon=axon), {"radius": 300.0, "rho": 30.0},
                       progress=False)
    ident = pair.uncertainty.identifiability
    table("Speeds at 5 temperatures (6.3-25 °C; truth Q10 = 3)", ("fit", "result"),
          [("q10", f"{q10.values[0]:.5f} ± {q10.standard_errors[0]:.2g} ({(q10.values[0] - 3) / 3:+.3%})"),
           ("radius, rho", f"identifiable: {ident.identifiable}; relative singular values {ident.relative}"),
           ("", ident.combinations[0] if ident.combinations else "")])
    return {"speeds_m_per_s": measured, "temperatures_degC": temperatures, "q10": q10.values[0],
            "q10_standard_error": q10.standard_errors[0], "radius_rho_identifiable": ident.identifiable,
            "radius_rho_relative_singular_values": ident.relative, "combinations": list(ident.combinations)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--seeds", type=int, default=20, help="noise seeds of the calibration [20]")
    parser.add_argument("--out", default="benchmarks/results/fitting.json", help="results file (JSON)")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        _memory_child(args.memory_child)
        return 0
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    out = environment()
    for section in chosen:
        start = time.perf_counter()
        out[section] = calibration(args.seeds) if section == "calibration" else globals()[section]()
        out[section]["section_wall_s"] = time.perf_counter() - start
    merge_results(args.out, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
