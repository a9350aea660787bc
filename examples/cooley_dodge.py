"""Cooley & Dodge (1966) on the full Hodgkin–Huxley cable, and how far the velocity has converged.

    python examples/cooley_dodge.py            # 7 cm, dx 250 µm, dt 1 µs; Richardson on 3 grids
    python examples/cooley_dodge.py --quick    # a coarser grid (dx 500 µm, dt 4 µs): seconds

Prints the velocity between 2 and 3 cm on each grid, its Richardson extrapolation with an error
estimate and the observed order (2: the Lees scheme's), and draws Cooley & Dodge's Fig. 2.
"""

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a coarser grid (seconds)")
    parser.add_argument("--out", default="cooley_dodge.png", help="the figure's file")
    args = parser.parse_args(argv)

    import jaxneuro as jn
    from jaxneuro import plotting

    axon = jn.cooley_dodge_axon()                      # a = 238 µm, ρ = 35.4 Ω·cm, 18.5 °C
    dx, dt = (500.0, 0.004) if args.quick else (250.0, 0.001)
    grid = jn.cooley_dodge_grid(dx=dx, dt=dt)          # 7 cm, 5 ms
    stimulus = jn.cooley_dodge_stimulus()              # 2500 µA/cm² on the first half-cell of the 250 µm grid,
                                                       # 0.2 ms: a current (nA), the same on every grid
    sol = jn.simulate_cable(axon, grid, stimulus)      # the whole history: v[steps, nodes] in mV
    velocity = float(jn.conduction_velocity(sol, 20_000.0, 30_000.0))
    print(f"{grid.n_nodes} compartments × {grid.n_steps} steps: {velocity:.6f} m/s between 2 and 3 cm")

    converged = jn.converged_velocity(axon, grid, stimulus, 20_000.0, 30_000.0, levels=3)
    for h, v in zip(converged.dx, converged.velocities):
        print(f"  dx {h:6.1f} µm: {v:.8f} m/s")
    print(f"Richardson: {converged.velocity:.8f} ± {converged.error_estimate:.1e} m/s, "
          f"observed order {converged.observed_order:.2f}")

    fig = plotting.cooley_dodge_figure(sol, velocity=velocity)
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return converged


if __name__ == "__main__":
    main()
