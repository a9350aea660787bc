"""The sweep engine (jaxneuro.sweep) and its jobs (jaxneuro.jobs): the same numbers spread over
devices and processes as on one device, chunks that change nothing, the jobs against the module
functions they batch, progress, and bad input refused before anything compiles."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuro as jn
from jaxneuro import fitting, jobs, sweep

HERE = Path(__file__).resolve().parent
CASES = HERE / "sweep_cases.py"
SMALL_GRID = jn.Grid(length=10_000.0, dx=500.0, dt=0.01, t_stop=2.0)


def _last_json(text: str) -> dict:
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def _environment() -> dict:
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    return env


def test_four_cpu_devices_give_the_numbers_of_one():
    """Acceptance 1: cable, wave speed, extracellular, population and fitting multi-starts spread
    over 4 CPU devices (XLA_FLAGS, in a fresh process) equal the same members on one device."""
    env = _environment()
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    done = subprocess.run([sys.executable, str(CASES), "compare", "4"], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = _last_json(done.stdout)
    assert report["devices"] == 4
    assert set(report["cases"]) == {"cable", "speed", "extracellular", "population", "fit"}
    for job, difference in report["cases"].items():
        assert difference <= 1e-12, (job, difference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_processes_through_jax_distributed():
    """Acceptance 1: two processes on localhost (jax.distributed, Gloo on the CPU), one device
    each; every job's members spread over both processes equal those run on one device."""
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, str(CASES), "distributed", str(port), str(i), "2"],
                              env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outputs = [p.communicate(timeout=900) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
        report = _last_json(out)
        assert report["processes"] == 2 and report["devices"] == 2
        assert set(report["cases"]) == {"cable", "speed", "extracellular", "population", "fit"}
        for job, difference in report["cases"].items():
            assert difference <= 1e-12, (job, difference)


# --- members and chunks ------------------------------------------------------------------------


def test_product_and_grid_shape():
    spec = {"radius": [1.0, 2.0], "distance": [10.0, 20.0, 30.0]}
    members = sweep.product(spec)
    assert members["radius"].tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert members["distance"].tolist() == [10.0, 20.0, 30.0] * 2
    assert sweep.grid_shape(spec) == (2, 3)


def test_chunk_layout_rounds_to_devices_and_budget():
    assert sweep.chunk_layout(10, 100, 1, chunk_size=3) == (3, 4)
    assert sweep.chunk_layout(10, 100, 4, chunk_size=3) == (4, 3)  # a multiple of the devices
    assert sweep.chunk_layout(10, 100, 2, memory_budget=350) == (6, 2)  # 3 members per device
    assert sweep.chunk_layout(5, 100, 4) == (8, 1)  # the whole batch, padded to the devices
    assert sweep.chunk_layout(10, 100, 1, chunk_size=8) == (5, 2)  # equal chunks, not 8 + 2
    for n in range(1, 60):
        for devices in (1, 2, 3, 4):
            for size in (1, 2, 5, 7, 16):
                chunk, n_chunks = sweep.chunk_layout(n, 100, devices, chunk_size=size)
                assert chunk % devices == 0 and chunk <= devices * -(-size // devices)
                assert n_chunks * chunk >= n and (n_chunks - 1) * chunk < n  # every chunk holds a member


@pytest.fixture(scope="module")
def profile():
    from jaxneuro.extracellular import NOTEBOOK_AXON, SpikeProfile

    x = np.arange(0.0, 4_000.0, 20.0)
    v = 100.0 * np.exp(-((x - 2_000.0) / 300.0) ** 2) - 10.0 * np.exp(-((x - 1_500.0) / 500.0) ** 2)
    return SpikeProfile.from_samples(x, v, NOTEBOOK_AXON)


def test_extracellular_job_equals_the_module_sweep_whatever_the_chunks(profile):
    spec = {"radius": [0.5, 1.0, 2.0, 4.0], "distance": [25.0, 50.0, 100.0]}
    reference = jn.extracellular_sweep(profile, profile.axon._replace(radius=jnp.asarray(spec["radius"])),
                                       jnp.asarray(spec["distance"]))
    job = jobs.Extracellular(profile=profile)
    for chunk in (1, 5, None):
        out = sweep.run(job, sweep.product(spec), chunk_size=chunk, progress=False)
        phi = np.asarray(out["phi_uV"]).reshape(sweep.grid_shape(spec))
        np.testing.assert_allclose(phi, reference.value, rtol=1e-12)
    # A memory budget of ~3 members per chunk gives the same numbers.
    out = sweep.run(job, sweep.product(spec), memory_budget=3.5 * job.member_bytes(), progress=False)
    np.testing.assert_allclose(np.asarray(out["phi_uV"]).reshape(4, 3), reference.value, rtol=1e-12)


def test_cable_and_population_jobs_equal_their_modules():
    radii = np.array([200.0, 238.0, 280.0])
    out = sweep.run(jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0), {"radius": radii}, chunk_size=2,
                    progress=False)
    axon = jn.cooley_dodge_axon()._replace(radius=jnp.asarray(radii))
    sol = jn.simulate_cable(axon, SMALL_GRID, jn.cooley_dodge_stimulus(jnp.asarray(radii), SMALL_GRID.dx))
    np.testing.assert_allclose(out["velocity_m_per_s"], jn.conduction_velocity(sol, 2_000.0, 8_000.0), rtol=1e-12)
    assert np.all(np.asarray(out["result"]) == 0)
    assert out["velocity_m_per_s"][0] < out["velocity_m_per_s"][2]  # faster in thicker axons

    snic = jn.population.preset("snic")
    h = np.array([-7.1, -6.9])
    options = dict(resolution=201, t_transient=10.0, t_record=30.0)
    out = sweep.run(jobs.PopulationScan(params=snic, **options), {"h_E": h}, chunk_size=1, progress=False)
    ref = jn.population_scan(snic._replace(h_E=jnp.asarray(h)), **options)
    np.testing.assert_allclose(out["period"], ref.oscillation.period, rtol=1e-12)
    assert out["fixed_points"].tolist() == [3, 1] and out["oscillating"].tolist() == [False, True]


def test_speed_job_equals_wave_speed():
    temperatures = np.array([6.3, 18.5])
    out = sweep.run(jobs.Speed(dt=0.02, rtol=1e-8, t_stop=20.0), {"temperature": temperatures}, progress=False)
    axon = jn.cooley_dodge_axon()
    ref = jn.wave_speed(axon._replace(membrane=axon.membrane._replace(temperature=jnp.asarray(temperatures))),
                        dt=0.02, rtol=1e-8, t_stop=20.0)
    np.testing.assert_allclose(out["speed_m_per_s"], ref, rtol=1e-12)


def test_fit_starts_job_runs_every_start_like_fit(profile):
    from jaxneuro import recordings

    t = np.arange(-1.0, 1.0 + 1e-9, 0.05)
    truth = fitting.waveform_problem(recordings.WaveformRecording.make(t, np.zeros_like(t), distance=50.0),
                                     ("radius", "distance"), profile=profile, speed=0.7)
    phi = np.asarray(truth.predict(jnp.asarray([1.0, 50.0]))[0])
    noise = 0.01 * np.abs(phi).max()
    data = phi + noise * np.random.default_rng(1).standard_normal(phi.shape)
    problem = fitting.waveform_problem(recordings.WaveformRecording.make(t, data, distance=50.0, noise=noise),
                                       ("radius", "distance"), profile=profile, speed=0.7)
    starts = np.array([[1.3, 65.0], [0.8, 40.0], [1.1, 55.0]])
    out = sweep.run(jobs.FitStarts(problem=problem), {"radius": starts[:, 0], "distance": starts[:, 1]},
                    chunk_size=1, progress=False)
    host = fitting.fit(problem, starts=starts, progress=False, with_uncertainty=False)
    np.testing.assert_allclose(out["values"], host.finals, rtol=1e-7)
    np.testing.assert_allclose(out["loss"], host.final_losses, rtol=1e-9)
    assert out["result"].tolist() == list(host.final_results)


def test_progress_is_shown_when_asked(profile, capsys):
    job = jobs.Extracellular(profile=profile)
    sweep.run(job, {"distance": [30.0, 60.0, 90.0]}, chunk_size=1, progress=True)
    err = capsys.readouterr().err
    assert "Extracellular" in err and "3/3" in err
    sweep.run(job, {"distance": [30.0, 60.0, 90.0]}, chunk_size=1, progress=False)
    assert capsys.readouterr().err == ""


def test_float32_members_and_job_give_float32():
    out = sweep.run(jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0, dtype=jnp.float32), {"radius": [238.0]},
                    dtype=jnp.float32, progress=False)
    assert out["velocity_m_per_s"].dtype == jnp.float32 and out["peak_mV"].dtype == jnp.float32
    ref = sweep.run(jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0), {"radius": [238.0]}, progress=False)
    assert ref["velocity_m_per_s"].dtype == jnp.float64
    np.testing.assert_allclose(out["velocity_m_per_s"], ref["velocity_m_per_s"], rtol=1e-4)


# --- bad input: refused before anything compiles --------------------------------------------


@pytest.fixture
def no_compiling(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("compiled before the input was checked")

    monkeypatch.setattr(sweep, "_run_sharded", fail)
    monkeypatch.setattr(sweep, "_run_sharded_tuned", fail)


@pytest.mark.parametrize("members, options, message", [
    ({}, {}, "non-empty"),
    ({"radius": []}, {}, "empty"),
    ({"radius": [238.0], "diameter": [1.0]}, {}, "unknown parameter 'diameter'"),
    ({"radius": [238.0, 300.0], "rho": [35.4]}, {}, "same length"),
    ({"radius": [238.0, np.nan]}, {}, "finite"),
    ({"radius": [238.0]}, {"chunk_size": 0}, "chunk_size"),
    ({"radius": [238.0]}, {"chunk_size": -3}, "chunk_size"),
    ({"radius": [238.0]}, {"chunk_size": 2.5}, "chunk_size"),
    ({"radius": [238.0]}, {"memory_budget": 1000.0}, "below one member"),
    ({"radius": [238.0]}, {"memory_budget": -1.0}, "memory_budget"),
    ({"radius": [238.0]}, {"devices": 10_000}, "only"),
    ({"radius": [238.0]}, {"devices": 0}, "positive"),
    ({"radius": [238.0]}, {"dtype": jnp.int32}, "dtype"),
])
def test_bad_input_is_refused_before_compiling(no_compiling, members, options, message):
    with pytest.raises(ValueError, match=message):
        sweep.run(jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0), members, progress=False, **options)


@pytest.mark.parametrize("job, members, message", [
    (jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0), {"radius": [238.0, -1.0]}, "radius"),
    (jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0), {"stim_density": [np.inf]}, "finite"),
    (jobs.Speed(), {"gNa": [-5.0]}, "gNa"),
    (jobs.PopulationScan(), {"tau_E": [1.0, 0.0]}, "tau_E"),
])
def test_members_out_of_range_are_refused(no_compiling, job, members, message):
    with pytest.raises(ValueError, match=message):
        sweep.run(job, members, progress=False)


def test_electrodes_inside_the_axon_are_refused(no_compiling, profile):
    with pytest.raises(ValueError, match="inside the axon for member 1"):
        sweep.run(jobs.Extracellular(profile=profile), {"radius": [1.0, 30.0], "distance": [25.0, 25.0]})


@pytest.mark.parametrize("make, message", [
    (lambda p: jobs.Extracellular(profile=p, units="volts"), "units"),
    (lambda p: jobs.Extracellular(profile=p, formula="eq11"), "formula"),
    (lambda p: jobs.PopulationScan(resolution=1), "resolution"),
    (lambda p: jobs.PopulationScan(dt_save=0.0), "dt_save"),
    (lambda p: jobs.Cable(x1=50_000.0, x2=40_000.0), "x1 < x2"),
    (lambda p: jobs.Cable(linear_solver="cholesky"), "linear_solver"),
])
def test_bad_job_options_are_refused(profile, make, message):
    with pytest.raises(ValueError, match=message):
        make(profile)


@pytest.mark.parametrize("spec, message", [
    ({}, "non-empty"),
    ({"radius": []}, "at least one"),
    ({"radius": [[1.0, 2.0]]}, "1-D"),
    ({"radius": ["a"]}, "numbers"),
    ({"radius": [1.0, np.inf]}, "finite"),
])
def test_bad_grid_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        sweep.product(spec)


def test_bad_job_options_and_names():
    with pytest.raises(ValueError, match="rtol"):
        jobs.Speed(rtol=-1.0)
    with pytest.raises(ValueError, match="unknown job"):
        jobs.default("neuron")
    with pytest.raises(ValueError, match="count must be a positive"):
        sweep.use_cpu_devices(0)


def test_run_inside_jit_is_the_job_over_the_batch(profile):
    job = jobs.Extracellular(profile=profile)
    members = {"distance": jnp.array([30.0, 60.0])}
    eager = sweep.run(job, members, chunk_size=1, progress=False)["phi_uV"]
    traced = jax.jit(lambda d: sweep.run(job, {"distance": d})["phi_uV"])(members["distance"])
    np.testing.assert_allclose(traced, eager, rtol=1e-13)


# --- the command line ---------------------------------------------------------------------------


def test_cli_sweep_writes_npz_csv_and_summary(tmp_path, capsys):
    from jaxneuro import cli

    spec = tmp_path / "spec.toml"
    spec.write_text('job = "extracellular"\n[parameters]\nradius = {geomspace = [0.5, 2.0, 3]}\n'
                    '[options]\nsubdivisions = 2\n')
    out = tmp_path / "out"
    code = cli.main(["sweep", "extracellular", "--spec", str(spec), "--values", "distance=25,50", "--chunk-size", "4",
                     "--devices", "1", "--out", str(out), "--json"])
    # the flags' order is the grid's: here distance varies slowest
    flipped = cli.main(["sweep", "extracellular", "--values", "distance=25,50", "--geomspace", "radius=0.5:2:3",
                        "--out", str(tmp_path / "flipped"), "--json"])
    assert flipped == 0
    assert code == 0
    summary, flipped_summary = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert list(flipped_summary["parameters"]) == ["distance_um", "radius_um"] and flipped_summary["grid_shape"] == [2, 3]
    assert summary["members"] == 6 and summary["grid_shape"] == [3, 2] and summary["chunks"] == 2
    assert summary["parameters"]["radius_um"] == pytest.approx([0.5, 1.0, 2.0])
    data = np.load(out / "sweep.npz")
    assert set(data.files) == {"radius_um", "distance_um", "phi_uV", "error_uV"}
    assert json.loads((out / "summary.json").read_text())["members"] == 6
    csv = (out / "sweep.csv").read_text().splitlines()
    assert csv[0] == "radius_um,distance_um,error_uV,phi_uV" and len(csv) == 7
    # Φe falls with distance and grows with radius.
    phi = np.abs(data["phi_uV"].reshape(3, 2))
    assert np.all(phi[:, 0] > phi[:, 1]) and np.all(np.diff(phi[:, 0]) > 0)


@pytest.mark.parametrize("argv, message", [
    (["cable", "--out", "X"], "grid is empty"),
    (["cable", "--values", "diameter=1", "--out", "X"], "unknown parameter 'diameter'"),
    (["cable", "--values", "radius=238", "--option", "foo=1", "--out", "X"], "not an option"),
    (["cable", "--values", "radius=238", "--chunk-size", "0", "--out", "X"], "chunk-size"),
    (["cable", "--values", "radius=238", "--memory-budget", "10", "--out", "X"], "below one member"),
    (["cable", "--values", "radius=238", "--memory-budget", "lots", "--out", "X"], "memory-budget"),
    (["cable", "--values", "radius=238", "--devices", "100000", "--out", "X"], "devices"),
    (["cable", "--linspace", "radius=1:2", "--out", "X"], "START:STOP:COUNT"),
    (["fit", "--values", "radius=1", "--out", "X"], "--recording"),
    (["speed", "--values", "radius=238", "--dt", "0.01", "--option", "dt=0.02", "--out", "X"], "once"),
    (["cable", "--values", "radius=238", "--option", "x1=abc", "--out", "X"], "options"),
])
def test_cli_sweep_bad_input(tmp_path, capsys, argv, message):
    from jaxneuro import cli

    argv = [a if a != "X" else str(tmp_path / "out") for a in argv]
    assert cli.main(["sweep", *argv]) == 2
    assert message in capsys.readouterr().err


def test_the_gpu_solver_gives_the_cpu_numbers():
    """The accelerator path (recursive doubling, no loop along the cable: what "auto" picks on a
    GPU) against the CPU's node-by-node Thomas sweep, through the sweep engine, on the CPU."""
    assert jn.cable.resolve_linear_solver("auto") == ("thomas" if jax.default_backend() == "cpu" else "doubling")
    members = {"radius": np.array([200.0, 238.0, 280.0]), "temperature": np.array([6.3, 18.5, 25.0])}
    runs = {solver: sweep.run(jobs.Cable(grid=SMALL_GRID, x1=2_000.0, x2=8_000.0, linear_solver=solver), members,
                              progress=False) for solver in ("thomas", "doubling")}
    np.testing.assert_allclose(runs["doubling"]["velocity_m_per_s"], runs["thomas"]["velocity_m_per_s"], rtol=1e-11)
    np.testing.assert_allclose(runs["doubling"]["peak_mV"], runs["thomas"]["peak_mV"], rtol=1e-11)


def test_float32_sweeps_are_float32_throughout(profile):
    job = jobs.Extracellular(profile=profile)
    members = sweep.product({"radius": [0.5, 2.0], "distance": [30.0, 90.0]})
    single = sweep.run(job, members, dtype=jnp.float32, progress=False)
    double = sweep.run(job, members, progress=False)
    assert all(v.dtype == jnp.float32 for v in single.values())
    assert all(v.dtype == jnp.float64 for v in double.values())
    np.testing.assert_allclose(single["phi_uV"], double["phi_uV"], rtol=3e-5)
    assert not np.allclose(single["phi_uV"], double["phi_uV"], rtol=1e-9, atol=0)  # truly computed in float32
    with pytest.raises(ValueError, match="concrete members"):
        jax.jit(lambda d: sweep.run(job, {"distance": d}, dtype=jnp.float32))(jnp.array([30.0]))
    with pytest.raises(ValueError, match="dtype"):
        sweep.run(job, members, dtype="float16")


def test_cli_sweep_of_fit_starts(tmp_path, capsys):
    """``jaxneuro sweep fit``: many starts of a fit to a recording file, one CSV column per fitted
    parameter (with its unit)."""
    from jaxneuro import cli, recordings

    t = np.arange(-1.0, 1.0 + 1e-9, 0.05)
    phi = -5.0 * np.exp(-(t / 0.3) ** 2) + 1.0 * np.exp(-((t - 0.4) / 0.3) ** 2)
    recordings.save(recordings.WaveformRecording.make(t, phi, distance=50.0, noise=0.1), tmp_path / "rec.npz")
    out = tmp_path / "out"
    code = cli.main(["sweep", "fit", "--recording", str(tmp_path / "rec.npz"), "--values", "radius=0.8,1.2",
                     "--values", "distance=40,60", "--option", "max_iterations=40", "--out", str(out), "--quiet"])
    assert code == 0
    header = (out / "sweep.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["radius_um", "distance_um"] and {"radius_fitted_um", "distance_fitted_um", "loss"} <= set(header)
    data = np.load(out / "sweep.npz")
    assert data["values"].shape == (4, 2) and np.all(data["result"] == 0)
    assert np.ptp(data["loss"]) <= 1e-6 * data["loss"][0]  # every start finds the same optimum


def test_example_sweep_radius_temperature_quick(tmp_path):
    """examples/sweep_radius_temperature.py --quick, as a user runs it (a fresh process: one CPU
    device per core)."""
    figure = tmp_path / "velocity.png"
    done = subprocess.run([sys.executable, str(HERE.parent / "examples" / "sweep_radius_temperature.py"), "--quick",
                           "--out", str(figure)], env=_environment(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 failed" in done.stdout and figure.stat().st_size > 10_000


def _scaled_sine(x, *, n):
    return jnp.sin(x) * n


def test_compiler_options_only_on_the_top_level_program():
    """A program compiled with options eagerly runs as a plain nested jit inside jit, vmap and grad
    (JAX raises ValueError for options on a nested jit)."""
    from jaxneuro.sweep import FAST_COMPILE_OPTIONS, _jit_with_options

    f = _jit_with_options(_scaled_sine, FAST_COMPILE_OPTIONS, static_argnames=("n",))
    x = jnp.linspace(0.0, 1.0, 5)
    eager = f(x, n=2.0)
    np.testing.assert_allclose(eager, 2.0 * np.sin(np.asarray(x)), rtol=1e-14)
    np.testing.assert_allclose(jax.jit(lambda y: f(y, n=2.0))(x), eager, rtol=1e-14)
    np.testing.assert_allclose(jax.vmap(lambda y: f(y, n=2.0))(x), eager, rtol=1e-14)
    np.testing.assert_allclose(jax.grad(lambda y: f(y, n=2.0).sum())(x), 2.0 * np.cos(np.asarray(x)), rtol=1e-14)
    assert f.__wrapped__ is _scaled_sine
