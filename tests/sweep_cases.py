"""Small sweeps of every batched job, run in subprocesses by tests/test_sweep.py (several CPU
devices, several processes): each is computed spread over the devices asked for and on one
device, and the largest relative difference is reported.

    python tests/sweep_cases.py compare DEVICES          # one process, DEVICES CPU devices
    python tests/sweep_cases.py distributed PORT ID N    # process ID of N on localhost:PORT
Both print one JSON line: {"devices": ..., "processes": ..., "cases": {job: max relative difference}}.
"""

import json
import sys

import numpy as np


def cases():
    import jax.numpy as jnp

    import jaxneuro as jn
    from jaxneuro import fitting, jobs, recordings, sweep
    from jaxneuro.extracellular import NOTEBOOK_AXON, SpikeProfile

    grid = jn.Grid(length=10_000.0, dx=500.0, dt=0.01, t_stop=2.0)
    x = np.arange(0.0, 6_000.0, 20.0)
    v = 100.0 * np.exp(-((x - 3_000.0) / 400.0) ** 2) - 10.0 * np.exp(-((x - 2_200.0) / 600.0) ** 2)
    profile = SpikeProfile.from_samples(x, v, NOTEBOOK_AXON)
    t = np.arange(-1.0, 1.0 + 1e-9, 0.05)
    clean = fitting.waveform_problem(recordings.WaveformRecording.make(t, np.zeros_like(t), distance=50.0),
                                     ("radius", "distance"), profile=profile, speed=0.7)
    phi = np.asarray(clean.predict(jnp.asarray([1.0, 50.0]))[0])
    noise = 0.01 * np.abs(phi).max()
    noisy = phi + noise * np.random.default_rng(0).standard_normal(phi.shape)  # a loss of order one
    problem = fitting.waveform_problem(recordings.WaveformRecording.make(t, noisy, distance=50.0, noise=noise),
                                       ("radius", "distance"), profile=profile, speed=0.7)
    return {
        "cable": (jobs.Cable(grid=grid, x1=2_000.0, x2=8_000.0),
                  sweep.product({"radius": [150.0, 238.0, 300.0], "temperature": [6.3, 18.5]})),
        "speed": (jobs.Speed(dt=0.02, rtol=1e-8, t_stop=20.0), {"temperature": np.array([6.3, 12.0, 18.5])}),
        "extracellular": (jobs.Extracellular(profile=profile),
                          sweep.product({"radius": [0.5, 1.0, 2.0], "distance": [20.0, 50.0, 100.0]})),
        "population": (jobs.PopulationScan(params=jn.population.preset("snic"), resolution=201, t_transient=10.0,
                                           t_record=20.0),
                       {"h_E": np.linspace(-7.2, -6.6, 5)}),
        "fit": (jobs.FitStarts(problem=problem, max_iterations=30),
                {"radius": np.array([0.7, 1.2, 1.4, 0.9, 1.1]), "distance": np.array([40.0, 60.0, 70.0, 45.0, 55.0])}),
    }


def _difference(a, b) -> float:
    worst = 0.0
    for name in a:
        x, y = np.asarray(a[name], float), np.asarray(b[name], float)
        assert x.shape == y.shape, (name, x.shape, y.shape)
        both_nan = np.isnan(x) & np.isnan(y)
        if np.any(np.isnan(x) != np.isnan(y)):
            return float("inf")
        d = np.abs(np.where(both_nan, 0.0, x - y)) / np.maximum(np.abs(np.where(both_nan, 1.0, y)), 1e-300)
        worst = max(worst, float(np.max(d, initial=0.0)))
    return worst


def compare(devices_spread, devices_one) -> dict:
    """Each job spread over ``devices_spread`` (one member per device and chunk) against the same
    members one at a time on ``devices_one`` (one device): the same program per member, so the
    results must agree to rounding whatever the job (even a fit, whose stopping test at the
    optimum reacts to the last bit)."""
    from jaxneuro import sweep

    out = {}
    for name, (job, members) in cases().items():
        spread = sweep.run(job, members, devices=devices_spread, chunk_size=len(sweep.resolve_devices(devices_spread)),
                           progress=False)
        one = sweep.run(job, members, devices=devices_one, chunk_size=1, progress=False)
        out[name] = _difference(spread, one)
    return out


def main(argv):
    if argv[0] == "compare":
        from jaxneuro import sweep

        sweep.use_cpu_devices(int(argv[1]))
        import jax

        diff = compare(None, 1)
        print(json.dumps({"devices": len(jax.devices()), "processes": 1, "cases": diff}))
    elif argv[0] == "distributed":
        port, pid, n = int(argv[1]), int(argv[2]), int(argv[3])
        from jaxneuro import sweep

        sweep.initialize_distributed(f"localhost:{port}", n, pid, local_cpu_devices=1)
        import jax

        diff = compare(None, jax.local_devices())
        print(json.dumps({"devices": len(jax.devices()), "processes": jax.process_count(), "cases": diff}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
