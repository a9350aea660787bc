"""The travelling-wave speed, found automatically, and its derivatives.

    python examples/wave_speed.py            # speed to a 1e-13 bracket; d(speed)/d(radius, T, gNa)
    python examples/wave_speed.py --quick    # looser settings (seconds)

The speed of the Hodgkin–Huxley travelling pulse comes from shooting from the unstable manifold
of rest and bisecting on the side to which V runs away; its derivatives come from the implicit
function theorem (jax.grad never differentiates the bisection).  The same pulse as a
boundary-value problem (jaxneuro.pulses) gives the same speed; a few temperatures show how the
speed rises towards the temperature where propagation fails.
"""

import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="looser settings (seconds)")
    parser.add_argument("--out", default="wave_speed.png", help="the figure's file")
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp
    import matplotlib.pyplot as plt
    import numpy as np

    import jaxneuro as jn
    from jaxneuro import pulses, wave

    axon = jn.cooley_dodge_axon()
    options = dict(dt=0.004, rtol=1e-9) if args.quick else dict(dt=0.001, rtol=1e-13)
    found = wave.find_wave_speed(axon, **options)
    print(f"speed {float(found.speed):.12f} m/s (bracket {float(found.bracket[0]):.12f} – {float(found.bracket[1]):.12f})")

    def speed(radius, temperature, gNa):
        membrane = axon.membrane._replace(temperature=temperature, gNa=gNa)
        return wave.wave_speed(axon._replace(radius=radius, membrane=membrane), **options)

    d_radius, d_temperature, d_gNa = jax.grad(speed, argnums=(0, 1, 2))(238.0, 18.5, 120.0)
    print(f"d speed / d radius      {float(d_radius):.6f} (m/s)/µm   (√radius law: {float(found.speed) / 476:.6f})")
    print(f"d speed / d temperature {float(d_temperature):.6f} (m/s)/°C")
    print(f"d speed / d gNa         {float(d_gNa):.6f} (m/s)/(mS/cm²)")

    pulse = pulses.solve_pulse(axon, n_intervals=600 if args.quick else 1500)
    print(f"the same pulse as a boundary-value problem: {float(pulse.speed):.10f} m/s, peak {float(pulse.peak_v):.2f} mV")

    temperatures = np.linspace(6.3, 36.0, 6 if args.quick else 16)
    hot = axon._replace(membrane=axon.membrane._replace(temperature=jnp.asarray(temperatures)))
    curve = wave.find_wave_speed(hot, throw=False, t_record=0.0, **options)   # one vmapped call
    for t, s, code in zip(temperatures, np.asarray(curve.speed), np.asarray(curve.result)):
        print(f"  {t:5.1f} °C: " + (f"{s:.4f} m/s" if code == 0 else jn.results.message(int(code))))

    fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    ax.plot(temperatures, np.asarray(curve.speed), "o-")
    ax.set_xlabel("Temperature (°C)")
    ax.set_ylabel("Speed (m/s)")
    ax.set_title("Travelling-pulse speed (no pulse above the fold)")
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return found, (d_radius, d_temperature, d_gNa)


if __name__ == "__main__":
    main()
