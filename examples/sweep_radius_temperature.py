"""A radius × temperature sweep of the Cooley–Dodge cable's conduction velocity, spread over every
CPU core (one JAX device per core) or every GPU, in chunks within a memory budget, with progress.

    python examples/sweep_radius_temperature.py                 # 16 radii × 12 temperatures
    python examples/sweep_radius_temperature.py --quick         # 3 × 2 on a 2 cm cable (seconds)
    python examples/sweep_radius_temperature.py --float32       # float32 (~2.5× the throughput)

Writes a heat map of the velocity (m/s) and prints the √radius scaling at each temperature.
The same sweep on the command line: ``jaxneuro sweep cable --linspace radius=100:400:16
--linspace temperature=6.3:25:12 --out sweep/``.
"""

import argparse
import os
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 3 × 2 sweep of a 2 cm cable")
    parser.add_argument("--float32", action="store_true", help="compute in float32")
    parser.add_argument("--out", default="sweep_radius_temperature.png", help="the figure's file")
    args = parser.parse_args(argv)

    from jaxneuro import sweep

    sweep.use_cpu_devices(os.cpu_count() or 1)  # before JAX starts: one CPU device per core
    import jax
    import matplotlib.pyplot as plt
    import numpy as np

    import jaxneuro as jn
    from jaxneuro import jobs

    if args.quick:
        spec = {"radius": np.array([150.0, 238.0, 400.0]), "temperature": np.array([12.0, 18.5])}
        job = jobs.Cable(grid=jn.Grid(length=20_000.0, dx=250.0, dt=0.002, t_stop=2.5), x1=8_000.0, x2=16_000.0)
    else:
        spec = {"radius": np.linspace(100.0, 400.0, 16), "temperature": np.linspace(6.3, 25.0, 12)}
        job = jobs.Cable(grid=jn.Grid(length=40_000.0, dx=250.0, dt=0.001, t_stop=5.0), x1=15_000.0, x2=25_000.0)
    # The stimulus density grows like the end-stimulated cable's threshold (∝ radius^½), from
    # twice Cooley & Dodge's 2500 µA/cm² at 238 µm, so that every cable fires at every temperature.
    members = sweep.product(spec)
    members["stim_density"] = 5000.0 * np.sqrt(members["radius"] / 238.0)
    print(f"{len(members['radius'])} cables on {len(jax.devices())} {jax.devices()[0].platform} device(s)")
    start = time.perf_counter()
    out = sweep.run(job, members, dtype="float32" if args.float32 else None)
    wall = time.perf_counter() - start
    velocity = np.asarray(out["velocity_m_per_s"]).reshape(sweep.grid_shape(spec))
    failed = int(np.sum(np.asarray(out["result"]) != 0))
    steps = job.grid.n_nodes * job.grid.n_steps * velocity.size
    print(f"{wall:.1f} s including compilation ({steps / wall / 1e6:.0f} M compartment-steps/s); {failed} failed")

    for k, temperature in enumerate(spec["temperature"]):
        slope = np.polyfit(np.log(spec["radius"]), np.log(velocity[:, k]), 1)[0]
        print(f"  {temperature:5.1f} °C: {velocity[0, k]:6.2f} … {velocity[-1, k]:6.2f} m/s, "
              f"velocity ∝ radius^{slope:.3f}" + (" (a 2 cm cable: not yet the asymptotic speed)" if args.quick else ""))

    fig, ax = plt.subplots(figsize=(6.0, 4.2), layout="constrained")
    mesh = ax.pcolormesh(spec["temperature"], spec["radius"], velocity, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="conduction velocity (m/s)")
    ax.set(xlabel="temperature (°C)", ylabel="axon radius (µm)",
           title="H&H cable: conduction velocity (Lees' scheme, one sweep)")
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return 0 if failed == 0 else 3


if __name__ == "__main__":
    raise SystemExit(main())
