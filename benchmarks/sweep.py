"""Sweeps at scale: Cooley–Dodge cables per second through jaxneuro.sweep, chunked sweeps within a
memory budget (peak RSS), and on a GPU the large sweeps and their agreement with the CPU.

    python benchmarks/sweep.py                       # all sections this machine can run
    python benchmarks/sweep.py --sections throughput --sizes 1 64 1024
    python benchmarks/sweep.py --devices 2           # CPU: 2 devices (one per core)

Writes benchmarks/results/sweep.json (one entry per device kind) and regenerates
benchmarks/RESULTS.md from it: the device, date and versions of every table.

Throughput is compartment-steps per second: cables × 281 nodes × 5000 steps of the Cooley–Dodge
run (5 ms at dt = 1 µs) divided by the wall time of a sweep after its compilation (median of the
repeats; one repeat for batches of 1024 and more).  The memory roofline of a batched cable step
is ~80 B per compartment-step (state, factors and reductions read and written once): the
bandwidth / 80 B.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "sweep.json"
REPORT = HERE / "RESULTS.md"
BYTES_PER_COMPARTMENT_STEP = 80
#: Memory bandwidth (B/s) of the device kinds whose roofline the report gives.
BANDWIDTH = {"NVIDIA H100": 3.35e12, "NVIDIA H200": 4.8e12, "NVIDIA H100 80GB HBM3": 3.35e12}


def _bandwidth(kind: str):
    return next((b for name, b in BANDWIDTH.items() if kind.startswith(name)), None)


def throughput(sizes, devices, repeats: int, float32: bool) -> list:
    import jax
    import jax.numpy as jnp
    import numpy as np

    import jaxneuro as jn
    from jaxneuro import jobs, sweep

    rows = []
    grid = jn.cooley_dodge_grid()
    steps = grid.n_nodes * grid.n_steps
    single = jn.simulate_cable(jn.Axon(), grid, jn.cooley_dodge_stimulus(), record=jn.Record.reductions())
    jax.block_until_ready(single)
    walls = []
    for _ in range(5):
        start = time.perf_counter()
        jax.block_until_ready(jn.simulate_cable(jn.Axon(), grid, jn.cooley_dodge_stimulus(),
                                                record=jn.Record.reductions()))
        walls.append(time.perf_counter() - start)
    rows.append(dict(case="simulate_cable, one cable (reductions)", cables=1, devices=1, chunk=1, dtype="float64",
                     wall_s=float(np.median(walls)), compartment_steps_per_s=steps / float(np.median(walls))))
    for dtype in (("float64", "float32") if float32 else ("float64",)):
        job = jobs.Cable(dtype=jnp.float32 if dtype == "float32" else jnp.float64)
        for size in sizes:
            for n_devices in sorted({1, devices}) if size in (64, 1024) else (devices,):
                members = {"radius": np.linspace(200.0, 300.0, size)}
                layout = sweep.plan(job, members, devices=n_devices)
                start = time.perf_counter()
                out = sweep.run(job, members, devices=n_devices, progress=False, dtype=dtype)
                first = time.perf_counter() - start
                walls = []
                for _ in range(1 if size >= 1024 else repeats):
                    start = time.perf_counter()
                    out = sweep.run(job, members, devices=n_devices, progress=False, dtype=dtype)
                    walls.append(time.perf_counter() - start)
                wall = float(np.median(walls))
                failed = int(np.sum(np.asarray(out["result"]) != 0))
                rows.append(dict(case=f"sweep, Cooley–Dodge cables, {dtype}", cables=size, devices=n_devices,
                                 chunk=layout.chunk, chunks=layout.n_chunks, dtype=dtype, first_call_s=first,
                                 wall_s=wall, compartment_steps_per_s=size * steps / wall, failed=failed))
                print(f"  {dtype} {size:6d} cables on {n_devices} device(s): {wall:8.3f} s, "
                      f"{size * steps / wall / 1e6:9.1f} M compartment-steps/s (first call {first:.1f} s)", flush=True)
    return rows


_MEMORY_CHILD = r"""
import json, resource, sys, time
from jaxneuro import sweep
sweep.use_cpu_devices({devices})
import numpy as np
import jaxneuro as jn
from jaxneuro import extracellular, jobs
if "{case}" == "extracellular":
    profile = extracellular.notebook_profile_run(1.0)[0]
    job = jobs.Extracellular(profile=profile)
    members = sweep.product({{"radius": np.geomspace(0.2, 20.0, 400), "distance": np.geomspace(25.0, 500.0, 250)}})
else:
    job = jobs.Cable()
    members = {{"radius": np.linspace(150.0, 400.0, 4096)}}
start = time.perf_counter()
layout = sweep.plan(job, members, memory_budget={budget})
out = sweep.run(job, members, memory_budget={budget}, progress=True)
wall = time.perf_counter() - start
result = np.asarray(out["result"]) if "result" in out else np.zeros(1, int)
print(json.dumps(dict(members=len(next(iter(members.values()))), devices=len(layout.devices), chunk=layout.chunk,
                      chunks=layout.n_chunks, member_bytes=layout.member_bytes, memory_budget_bytes={budget},
                      wall_s=wall, peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      failed=int(np.sum(result != 0)),
                      outputs={{k: [float(np.nanmin(v)), float(np.nanmax(v))] for k, v in out.items()
                               if k != "result"}})))
"""


def memory(devices: int) -> list:
    """Each sweep in a fresh process (its own peak RSS), with progress shown on this terminal."""
    rows = []
    for case, budget in (("extracellular", 16 * 2**20), ("cable", 16 * 2**20)):
        code = _MEMORY_CHILD.format(case=case, budget=budget, devices=devices)
        print(f"  {case}: a sweep within {budget / 2**20:.0f} MiB per device ...", flush=True)
        done = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["case"] = {"extracellular": "Φe, 400 radii × 250 distances (100 000 members)",
                       "cable": "4096 Cooley–Dodge cables (reductions only)"}[case]
        print(f"    {row['members']} members, {row['chunks']} chunks of {row['chunk']}: {row['wall_s']:.1f} s, "
              f"peak RSS {row['peak_rss_bytes'] / 2**30:.2f} GiB", flush=True)
        rows.append(row)
    return rows


def gpu_sweeps() -> list:
    """On a GPU: a 1024-temperature wave-speed sweep and a 10⁶-point Φe sweep, and a sample of
    each (and of the cables) recomputed on the CPU: the largest relative difference."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxneuro import extracellular, jobs, sweep

    cpu = jax.devices("cpu")[:1]
    rows = []

    def agree(job, members, out, keys, sample):
        picked = {k: np.asarray(v)[sample] for k, v in members.items()}
        ref = sweep.run(job, picked, devices=cpu, progress=False)
        worst = 0.0
        for key in keys:
            a, b = np.asarray(out[key])[sample], np.asarray(ref[key])
            ok = np.isfinite(a) & np.isfinite(b)
            worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.abs(b[ok]), initial=0.0)))
        return worst

    cases = [
        ("wave speed, 1024 temperatures 2–32 °C", jobs.Speed(), {"temperature": np.linspace(2.0, 32.0, 1024)},
         ("speed_m_per_s",)),
        ("Φe, 1000 radii × 1000 distances", jobs.Extracellular(profile=extracellular.notebook_profile_run(1.0)[0]),
         sweep.product({"radius": np.geomspace(0.2, 20.0, 1000), "distance": np.geomspace(25.0, 1000.0, 1000)}),
         ("phi_uV",)),
        ("Cooley–Dodge cables, 4096 radii, float64", jobs.Cable(dtype=jnp.float64),
         {"radius": np.linspace(150.0, 400.0, 4096)}, ("velocity_m_per_s",)),
    ]
    for name, job, members, keys in cases:
        n = len(next(iter(members.values())))
        sweep.run(job, {k: v[:8] for k, v in members.items()}, progress=False)
        start = time.perf_counter()
        out = sweep.run(job, members, progress=False)
        wall = time.perf_counter() - start
        sample = np.linspace(0, n - 1, 8).astype(int)
        rows.append(dict(case=name, members=n, wall_s=wall, members_per_s=n / wall,
                         failed=int(np.sum(np.asarray(out.get("result", np.zeros(1))) != 0)),
                         gpu_vs_cpu_max_relative_difference=agree(job, members, out, keys, sample)))
        print(f"  {name}: {wall:.2f} s, GPU vs CPU {rows[-1]['gpu_vs_cpu_max_relative_difference']:.2e}", flush=True)
    return rows


def float32_accuracy() -> list:
    """What float32 costs in accuracy: each job in float64 and in float32 (``sweep.run(...,
    dtype=float32)``: 64-bit types off), the largest relative difference, and both wall times
    (after compilation)."""
    import numpy as np

    from jaxneuro import extracellular, jobs, sweep

    cases = [
        ("conduction velocity, Cooley–Dodge cable (m/s)", jobs.Cable(), {"radius": np.array([150.0, 238.0, 400.0])},
         "velocity_m_per_s"),
        ("wave speed, bisection to rtol 1e-6 (m/s)", jobs.Speed(rtol=1e-6, dt=0.01),
         {"temperature": np.array([6.3, 18.5, 30.0])}, "speed_m_per_s"),
        ("Φe of the 1 µm axon's spike (µV)", jobs.Extracellular(profile=extracellular.notebook_profile_run(1.0)[0]),
         sweep.product({"radius": [0.5, 1.0, 4.0], "distance": [25.0, 100.0]}), "phi_uV"),
        ("population period, rtol 1e-5 (model time)", jobs.PopulationScan(rtol=1e-5, atol=1e-7, t_transient=30.0,
                                                                          t_record=60.0),
         {"h_E": np.array([-7.2, -7.0, -6.8])}, "period"),
    ]
    rows = []
    for name, job, members, key in cases:
        walls, values = {}, {}
        for dtype in ("float64", "float32"):
            sweep.run(job, members, progress=False, dtype=dtype)  # compile
            start = time.perf_counter()
            out = sweep.run(job, members, progress=False, dtype=dtype)
            walls[dtype], values[dtype] = time.perf_counter() - start, out
        a, b = np.asarray(values["float64"][key]), np.asarray(values["float32"][key])
        codes = np.asarray(values["float32"].get("result", np.zeros(1)))
        rows.append(dict(quantity=name, members=int(a.size), float32_dtype=str(b.dtype),
                         max_relative_difference=float(np.max(np.abs(b - a) / np.abs(a))),
                         float64_wall_s=walls["float64"], float32_wall_s=walls["float32"],
                         float32_failed=int(np.sum(codes != 0))))
        print(f"  {name}: float32 within {rows[-1]['max_relative_difference']:.1e} of float64", flush=True)
    return rows


def _markdown(results: dict) -> str:
    lines = ["# Benchmark results", "",
             "Written by `python benchmarks/sweep.py` from `benchmarks/results/sweep.json`; one section per device",
             "kind, each with the machine, date and versions it ran with.  Compartment-steps/s = cables × 281 nodes ×",
             "5000 steps (the Cooley–Dodge run) / wall time after compilation.", ""]
    for kind, entry in sorted(results.items()):
        env = entry["environment"]
        lines += [f"## {kind}", "",
                  f"{env['device']}, {env['cpu']}, {entry.get('cores', '?')} cores; jax {env['jax']}, jaxneuro "
                  f"{env['jaxneuro']}, Python {env['python']}", ""]
        bandwidth = _bandwidth(kind)
        roofline = [(" of memory roofline", lambda r: f"{r['compartment_steps_per_s'] * BYTES_PER_COMPARTMENT_STEP / bandwidth:.1%}")] if bandwidth else []
        tables = {
            "throughput": ("Throughput", [
                ("case", lambda r: r["case"]), ("cables", lambda r: r["cables"]), ("devices", lambda r: r["devices"]),
                ("chunk", lambda r: r["chunk"]), ("wall (s)", lambda r: f"{r['wall_s']:.3f}"),
                ("compartment-steps/s", lambda r: f"{r['compartment_steps_per_s']:.3g}"), *roofline]),
            "memory": ("Chunked sweeps in a fresh process each", [
                ("chunked sweep", lambda r: r["case"]), ("members", lambda r: r["members"]),
                ("devices", lambda r: r["devices"]), ("chunks × members", lambda r: f"{r['chunks']} × {r['chunk']}"),
                ("budget per device", lambda r: f"{r['memory_budget_bytes'] / 2**20:.0f} MiB"),
                ("wall (s)", lambda r: f"{r['wall_s']:.1f}"), ("peak RSS", lambda r: f"{r['peak_rss_bytes'] / 2**30:.2f} GiB")]),
            "float32": ("float32 against float64", [
                ("quantity", lambda r: r["quantity"]), ("members", lambda r: r["members"]),
                ("max rel. difference", lambda r: f"{r['max_relative_difference']:.1e}"),
                ("wall float64 (s)", lambda r: f"{r['float64_wall_s']:.3f}"),
                ("wall float32 (s)", lambda r: f"{r['float32_wall_s']:.3f}")]),
            "gpu": ("GPU sweeps", [
                ("GPU sweep", lambda r: r["case"]), ("members", lambda r: r["members"]),
                ("wall (s)", lambda r: f"{r['wall_s']:.2f}"), ("members/s", lambda r: f"{r['members_per_s']:.3g}"),
                ("GPU vs CPU (max rel. diff.)", lambda r: f"{r['gpu_vs_cpu_max_relative_difference']:.1e}")]),
        }
        for section, (title, columns) in tables.items():
            if not entry.get(section):
                continue
            lines += [f"{title}, measured {entry.get(section + '_date', env['date'])}:", "",
                      "| " + " | ".join(name for name, _ in columns) + " |",
                      "|---|" + "---:|" * (len(columns) - 1)]
            lines += ["| " + " | ".join(str(cell(r)) for _, cell in columns) + " |" for r in entry[section]]
            lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="*", default=["throughput", "float32", "memory", "gpu"])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 4, 16, 64, 256, 1024, 4096])
    parser.add_argument("--devices", type=int, default=None, help="CPU devices [one per core]")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-float32", action="store_true")
    args = parser.parse_args(argv)

    from jaxneuro import sweep

    cores = os.cpu_count() or 1
    sweep.use_cpu_devices(args.devices or cores)
    import jax

    sys.path.insert(0, str(HERE))
    from timing import environment

    kind = jax.devices()[0].device_kind
    devices = len(jax.devices())
    print(f"{kind}: {devices} device(s), {cores} cores, jax {jax.__version__}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    entry = results.get(kind, {})
    entry["environment"], entry["cores"] = environment(), cores
    if "throughput" in args.sections:
        print("throughput (Cooley–Dodge cables through jaxneuro.sweep)")
        entry["throughput"] = throughput(args.sizes, devices, args.repeats, not args.no_float32)
        entry["throughput_date"] = environment()["date"]
    if "float32" in args.sections:
        print("float32 against float64")
        entry["float32"] = float32_accuracy()
        entry["float32_date"] = environment()["date"]
    if "memory" in args.sections and jax.default_backend() == "cpu":
        print("chunked sweeps within a memory budget")
        entry["memory"] = memory(devices)
        entry["memory_date"] = environment()["date"]
    if "gpu" in args.sections and jax.default_backend() == "gpu":
        print("GPU sweeps")
        entry["gpu"] = gpu_sweeps()
        entry["gpu_date"] = environment()["date"]
    results[kind] = entry
    from jaxneuro.output import json_text

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json_text(results, indent=2))
    REPORT.write_text(_markdown(results) + "\n")
    print(f"\nwrote {RESULTS} and {REPORT}")
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
