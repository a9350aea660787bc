"""jaxneuro.fitting and jaxneuro.recordings: files with units, recovery with honest standard
errors, derivatives against central differences for every fittable parameter, identifiability,
the CLI and the example (quick settings)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuro as jn
from jaxneuro import cli, fitting, recordings

ROOT = Path(__file__).resolve().parents[1]

SMALL = jn.Grid(length=10_000.0, dx=500.0, dt=0.01, t_stop=1.2)
PROBES = (2_000.0, 6_000.0)


def _small_trace(axon=jn.cooley_dodge_axon(), noise=None, seed=0):
    stimulus = jn.cooley_dodge_stimulus(dx=SMALL.dx)
    run = jn.simulate_cable(axon, SMALL, stimulus, record=jn.Record(history=False, probes=PROBES, peaks=False,
                                                                     threshold=None))
    t = np.arange(0.0, 1.2 + 1e-9, 0.04)
    v = np.array([np.interp(t, np.asarray(run.t), trace) for trace in np.asarray(run.probe_v).T])
    if noise:
        v = v + noise * np.random.default_rng(seed).standard_normal(v.shape)
    return recordings.TraceRecording.make(t, PROBES, v, noise=noise), stimulus


# --- recordings -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
@pytest.mark.parametrize("kind", ["trace", "waveform", "speed"])
def test_recordings_round_trip_with_units(tmp_path, suffix, kind):
    made = {
        "trace": recordings.TraceRecording.make([0.0, 0.1, 0.2], [10.0, 30.0], [[0.0, 1.5, 3.0], [0.0, 0.5, 1.0]],
                                                noise=[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
        "waveform": recordings.WaveformRecording.make([0.0, 0.1, 0.2], [-1.0, 2.0, 0.5], distance=50.0, noise=0.2),
        "speed": recordings.SpeedRecording.make("radius", [100.0, 200.0], [12.0, 17.0]),
    }[kind]
    path = tmp_path / f"r{suffix}"
    recordings.save(made, path)
    before = path.read_bytes()
    back = recordings.load(path)
    assert type(back) is type(made)
    for a, b in zip(made, back):
        if isinstance(a, str):
            assert a == b
        elif a is None:
            assert b is None
        else:
            np.testing.assert_allclose(np.asarray(b, float), np.asarray(a, float), rtol=0, atol=0)
    assert path.read_bytes() == before  # loading never modifies the file


def test_recordings_convert_known_units(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("# jaxneuro recording: waveform\n# distance [mm]: 0.05\nt [s],phi [mV]\n0.0,0.001\n0.001,-0.002\n",
                    encoding="utf-8")
    rec = recordings.load(path)
    np.testing.assert_allclose(rec.t, [0.0, 1.0])  # ms
    np.testing.assert_allclose(rec.phi, [1.0, -2.0])  # µV
    assert rec.distance == pytest.approx(50.0)  # µm


def test_npz_with_a_wrong_unit_is_refused(tmp_path):
    path = tmp_path / "r.npz"
    np.savez(path, kind="speed", units='{"temperature": "°C", "speed": "furlong/fortnight"}',
             temperature=[6.3, 18.5], speed=[12.0, 18.0])
    with pytest.raises(ValueError, match="not a known speed unit"):
        recordings.load(path)
    np.savez(path, kind="speed", units='{"temperature": "°C"}', temperature=[6.3, 18.5], speed=[12.0, 18.0])
    with pytest.raises(ValueError, match="field speed has no unit"):
        recordings.load(path)


# --- traces: recovery, derivatives, checkpoints ----------------------------------------------------


def test_trace_fit_recovers_parameters_within_standard_errors():
    truth = {"radius": 238.0, "temperature": 18.5}
    recording, stimulus = _small_trace(noise=0.5)
    problem = fitting.trace_problem(recording, tuple(truth), axon=jn.cooley_dodge_axon(), grid=SMALL,
                                    stimulus=stimulus)
    result = fitting.fit(problem, {k: 1.3 * v for k, v in truth.items()}, starts=2, progress=False)
    assert result.result == 0 and result.final_losses.shape == (2,)
    for name, value, se in zip(result.names, result.values, result.standard_errors):
        assert abs(value - truth[name]) <= 0.02 * truth[name], (name, value)
        assert abs(value - truth[name]) <= 3 * se, (name, value, se)
    n = recording.v.size
    assert result.loss == pytest.approx(n / 2, rel=0.5)  # chi-square / 2 with n - p degrees of freedom
    assert result.uncertainty.identifiability.identifiable
    summary = fitting.summary(result)
    assert set(summary["parameters"]) == {"radius_um", "temperature_degC"}
    # A new recording of the same shapes, other options: the whole fit compiles nothing new.
    again, _ = _small_trace(noise=0.5, seed=1)
    problem2 = fitting.trace_problem(again, tuple(truth), axon=jn.cooley_dodge_axon(), grid=SMALL, stimulus=stimulus)
    from test_transforms import count_compiles

    refit, compiles = count_compiles(lambda: fitting.fit(problem2, {"radius": 250.0, "temperature": 17.0}, starts=2,
                                                         tolerance=1e-8, max_iterations=30, progress=False).values)
    assert not compiles, compiles
    np.testing.assert_allclose(refit, list(truth.values()), rtol=0.02)


def _central_jacobian(problem, theta, relative=1e-6):
    theta = np.asarray(theta, float)
    columns = []
    for k in range(theta.size):
        h = relative * max(abs(theta[k]), 1.0)
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        columns.append((np.asarray(fitting.residuals(problem, up)[0]) - np.asarray(fitting.residuals(problem, down)[0]))
                       / (2 * h))
    return np.stack(columns, axis=1)


def _check_jacobian(problem, theta, rtol=1e-5):
    automatic = np.asarray(jax.jacfwd(lambda th: fitting.residuals(problem, th)[0])(jnp.asarray(theta)))
    numeric = _central_jacobian(problem, theta)
    for k, name in enumerate(problem.names):
        scale = np.max(np.abs(numeric[:, k]))
        assert scale > 0, name
        assert np.max(np.abs(automatic[:, k] - numeric[:, k])) <= rtol * scale, (name, automatic[:, k], numeric[:, k])
    return automatic


def test_trace_derivatives_of_every_parameter_match_central_differences():
    names = fitting._FITTABLE["trace"]
    recording, stimulus = _small_trace()
    axon = jn.cooley_dodge_axon()
    problem = fitting.trace_problem(recording, names, axon=axon, grid=SMALL, stimulus=stimulus,
                                    start={"offset": 0.01})
    theta = np.asarray(problem.start) * 1.02 + np.array([0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0, 0, 0, 0.0])
    forward = _check_jacobian(problem, theta)
    # Reverse mode, with and without checkpoints, gives the same gradient of the loss.
    r = np.asarray(fitting.residuals(problem, theta)[0])
    expected = forward.T @ r
    for checkpoint in (0, 2):
        p = fitting.trace_problem(recording, names, axon=axon, grid=SMALL, stimulus=stimulus, start={"offset": 0.01},
                                  checkpoint=checkpoint)
        grad = np.asarray(jax.grad(lambda th: fitting.loss(p, th))(jnp.asarray(theta)))
        np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-10 * np.max(np.abs(expected)))


# --- waveforms and speeds ----------------------------------------------------------------------


def _waveform_problem(phi=None, names=fitting._FITTABLE["waveform"], noise=None):
    from jaxneuro.extracellular import NOTEBOOK_AXON, SpikeProfile

    x = np.arange(0.0, 6_000.0, 20.0)
    v = 100.0 * np.exp(-((x - 3_000.0) / 400.0) ** 2) - 10.0 * np.exp(-((x - 2_200.0) / 600.0) ** 2)
    profile = SpikeProfile.from_samples(x, v, NOTEBOOK_AXON)
    t = np.arange(-1.0, 1.0 + 1e-9, 0.02)
    rec = recordings.WaveformRecording.make(t, np.zeros_like(t) if phi is None else phi, distance=50.0, noise=noise)
    return fitting.waveform_problem(rec, names, profile=profile, speed=0.7, start={"offset": 0.02})


def test_waveform_derivatives_and_recovery():
    problem = _waveform_problem()
    _check_jacobian(problem, np.asarray(problem.start) * 1.05)
    truth = jnp.asarray([1.0, 50.0, 0.0])
    clean = _waveform_problem(names=("radius", "distance", "offset"))
    phi = np.asarray(clean.predict(truth)[0])
    noisy = phi + 0.01 * np.abs(phi).max() * np.random.default_rng(0).standard_normal(phi.shape)
    problem = _waveform_problem(noisy, names=("radius", "distance", "offset"), noise=0.01 * np.abs(phi).max())
    result = fitting.fit(problem, {"radius": 1.3, "distance": 65.0, "offset": 0.05}, progress=False)
    assert result.result == 0
    np.testing.assert_allclose(result.values[:2], [1.0, 50.0], rtol=0.02)
    assert np.all(np.abs(result.values - np.asarray(truth)) <= 3 * result.standard_errors)


def test_speed_derivatives_and_identifiability():
    axon = jn.cooley_dodge_axon()
    temps = [6.3, 18.5]
    speeds = [12.3, 18.7]
    rec = recordings.SpeedRecording.make("temperature", temps, speeds, noise=0.05)
    names = fitting._FITTABLE["speed"]
    names = tuple(n for n in names if n != "temperature")
    problem = fitting.speed_problem(rec, names, axon=axon, dt=0.01, rtol=1e-13)
    _check_jacobian(problem, np.asarray(problem.start))
    # From speeds alone, radius and rho enter only as radius/rho: said, not an arbitrary pair.
    pair = fitting.speed_problem(rec, ("radius", "rho"), axon=axon, dt=0.01, rtol=1e-13)
    unc = fitting.uncertainty(pair, pair.start)
    assert not unc.identifiability.identifiable
    assert "only radius/rho is determined" in unc.identifiability.combinations[0]
    assert np.all(np.isinf(unc.standard_errors))


# --- CLI and example ---------------------------------------------------------------------------------


def test_cli_fit_prints_json_with_units(tmp_path, capsys):
    recording, _ = _small_trace(noise=0.5)
    path = tmp_path / "trace.npz"
    recordings.save(recording, path)
    code = cli.main(["fit", "--recording", str(path), "--fit", "temperature", "--start", "temperature=16",
                     "--length", "10000", "--dx", "500", "--dt", "0.01", "--json", "--quiet"])
    import json

    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["result"] == "successful"
    fitted = out["parameters"]["temperature_degC"]
    assert abs(fitted["value"] - 18.5) <= 3 * fitted["standard_error"]


def test_example_fit_recording_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["fit_recording.py", "--quick", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "examples" / "fit_recording.py"), run_name="__main__")
    assert done.value.code == 0
    assert (tmp_path / "fit_recording.png").stat().st_size > 10_000
    assert "identifiable: yes" in capsys.readouterr().out


def test_waveform_profile_band_optimisers_and_fixed():
    truth = jnp.asarray([1.0, 50.0, 0.0])
    clean = _waveform_problem(names=("radius", "distance", "offset"))
    phi = np.asarray(clean.predict(truth)[0])
    noise = 0.01 * np.abs(phi).max()
    noisy = phi + noise * np.random.default_rng(1).standard_normal(phi.shape)
    problem = _waveform_problem(noisy, names=("radius", "distance", "offset"), noise=noise)
    result = fitting.fit(problem, {"radius": 1.1, "distance": 55.0, "offset": 0.01}, progress=False)
    values, band = fitting.prediction(problem, result)
    assert values.shape == phi.shape and band.shape == phi.shape and np.all(band > 0)
    assert np.mean(np.abs(values - phi) <= 2 * band) > 0.6  # the ±2 SE band holds the truth
    se = result.standard_errors[1]
    grid = result.values[1] + se * np.linspace(-4, 4, 9)
    profile = fitting.profile_likelihood(problem, result, "distance", grid, progress=False)
    lo, hi = profile.interval
    assert lo < result.values[1] < hi
    assert (hi - lo) / 2 == pytest.approx(1.96 * se, rel=0.25)  # the profile agrees with the curvature
    # Adam that has not converged says so; a fixed parameter stays put and gets no uncertainty.
    adam = fitting.fit(problem, {"radius": 1.1, "distance": 55.0, "offset": 0.01}, method="adam", max_iterations=5,
                       progress=False)
    assert adam.result == jn.results.MAX_ITERATIONS and adam.iterations == 5
    held = fitting.fit(problem, {"radius": 1.1, "distance": 55.0, "offset": 0.01}, fixed=("radius",), progress=False)
    assert held.value("radius") == pytest.approx(1.1) and held.uncertainty is None
