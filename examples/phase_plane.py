"""The E/I population oscillator: a run, its phase plane, its fixed points and its bifurcations.

    python examples/phase_plane.py            # 256-value h_E scan
    python examples/phase_plane.py --quick    # 32 values (seconds)

E, I and the parameters are unitless; time is in the model's time unit (that of tau_E).
"""

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a shorter scan (seconds)")
    parser.add_argument("--out", default="phase_plane.png", help="the figure's file")
    args = parser.parse_args(argv)

    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np

    from jaxneuro import plotting
    from jaxneuro import population as pop

    snic = pop.preset("snic")                      # h_E -7.1, h_I -4, tau_E 1, tau_I 1/1.5, c1 5, c2 10, c3 10
    run = pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START)
    print(f"homoclinic preset, end of run: E = {float(run.E[-1]):.3f}, I = {float(run.I[-1]):.3f}")

    for p in pop.fixed_points(snic):
        print(f"fixed point {p.kind:15s} E = {p.E:+.6f}, I = {p.I:+.6f}")
    fold = min(pop.saddle_nodes(snic), key=lambda f: abs(f.h_E + 7.0))
    print(f"saddle-node at h_E = {fold.h_E:.10f}: above it the SNIC preset oscillates")

    h = jnp.linspace(-7.6, -6.6, 32 if args.quick else 256)
    scan = pop.scan(snic._replace(h_E=h))          # fixed points, types, period: one vmapped program
    period = np.where(np.asarray(scan.oscillation.oscillating), np.asarray(scan.oscillation.period), np.nan)
    print(f"{h.size} values of h_E: oscillating for {int(np.sum(np.isfinite(period)))}, "
          f"period {np.nanmin(period):.2f} … {np.nanmax(period):.2f} (model time)")

    window = pop.Grid2D(-10, 10, -20, 10, 25, 25)
    x = np.linspace(-10, 10, 2001)
    nullclines = (pop.x_nullcline_curve(snic), (x, np.asarray(pop.y_nullcline(x, snic))))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    plotting.phase_plane_figure(pop.field(snic, window), nullclines, pop.fixed_points(snic), ax=left)
    right.plot(np.asarray(h), period, ".-")
    right.axvline(fold.h_E, color="k", ls=":", lw=1)
    right.set_xlabel("h_E (unitless)")
    right.set_ylabel("Period (model time unit)")
    right.set_title("The period diverges at the saddle-node (dotted)")
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return scan


if __name__ == "__main__":
    main()
