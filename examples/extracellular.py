"""The extracellular potential of an axon's spike: the waveform at an electrode, and a radius ×
distance sweep in one compiled call.

    python examples/extracellular.py            # 1 µm axon of the notebook; 200 radii × 50 distances
    python examples/extracellular.py --quick    # 20 × 10 (seconds)

Φe is in µV for an extracellular conductivity of 0.3 S/m.  A spike profile from one cable run
is widened by sqrt(radius) for every other radius (the cable equation's scaling), so the sweep
needs no further simulation.
"""

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller sweep (seconds)")
    parser.add_argument("--out", default="extracellular.png", help="the figure's file")
    args = parser.parse_args(argv)

    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np

    from jaxneuro import extracellular as ex
    from jaxneuro import plotting

    profile, sol = ex.notebook_profile_run(1.0)         # a = 1 µm, ρ 150 Ω·cm, 30 °C; spike at mid-cable
    waveforms = {}
    for d in (25.0, 50.0, 100.0):                        # electrode at x = 0.5 cm, d µm from the axis
        w = ex.grid_potential(sol.v, sol.x, ex.Electrode(x=5_000.0, distance=d), profile.axon)
        waveforms[d] = (np.asarray(sol.t), np.asarray(w))
        print(f"waveform at {d:5.0f} µm: minimum {float(jnp.min(w)):8.3f} µV, maximum {float(jnp.max(w)):7.3f} µV")

    n_radii, n_distances = (20, 10) if args.quick else (200, 50)
    radii, distances = np.geomspace(0.1, 20.0, n_radii), np.geomspace(25.0, 500.0, n_distances)
    phi = ex.sweep(profile, profile.axon._replace(radius=jnp.asarray(radii)), jnp.asarray(distances))
    value = np.asarray(phi.value)                        # µV, (radii, distances): the spike's minimum
    print(f"{n_radii} radii × {n_distances} distances: Φe from {value.min():.1f} to {value.max():.4f} µV "
          f"(quadrature error below {float(np.max(np.asarray(phi.error))):.1e} µV)")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    plotting.waveform_figure(waveforms, ax=left)
    mesh = right.pcolormesh(distances, radii, -value, norm="log", shading="nearest")
    right.set_xscale("log")
    right.set_yscale("log")
    plotting.plain_log_ticks(right)
    right.set_xlabel("Electrode distance (µm)")
    right.set_ylabel("Axon radius (µm)")
    fig.colorbar(mesh, ax=right, label="−Φe (µV)")
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return phi


if __name__ == "__main__":
    main()
