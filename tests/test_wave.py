import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuro as jn
from jaxneuro import reproduce, wave
from jaxneuro.cli import main

AXON = jn.cooley_dodge_axon()  # notebook β_m, 18.5 °C, EL 10.598


def with_membrane(axon, **changes):
    return axon._replace(membrane=axon.membrane._replace(**changes))


@pytest.fixture(scope="module")
def cd_speed():
    return wave.find_wave_speed(AXON)


def test_notebook_start_gives_the_hand_tuned_speed():
    # The notebook's own cable state at 1 ms, 2 cm, AB5 with dz = 1e-4 ms: the automatic speed
    # is the notebook's 1.8750565461815821 cm/ms to its last digits.
    import notebook_numpy

    start = reproduce.cable_wave_start(*notebook_numpy.simulate(duration=1.003), 0.001)
    found = wave.find_wave_speed(AXON, start, method="ab5", dz=1e-4, max_z=10.0)
    assert bool(found.found)
    assert float(found.speed) == pytest.approx(reproduce.NOTEBOOK_WAVE_SPEED, rel=1e-12)


def test_bracket_is_tight_and_flips_direction(cd_speed):
    lo, hi = map(float, cd_speed.bracket)
    assert 0 < hi - lo <= 1e-13 * hi and lo <= float(cd_speed.speed) <= hi
    assert int(wave.divergence_direction(AXON, lo)[0]) == -1
    assert int(wave.divergence_direction(AXON, hi)[0]) == 1
    # The returned pulse peaks like the cable's (≈ 90 mV mid-cable) before it runs away.
    assert 85.0 < float(jnp.nanmax(cd_speed.trajectory.v)) < 100.0


def test_speed_converges_at_fourth_order_in_dz(cd_speed):
    speeds = [float(wave.find_wave_speed(AXON, dz=dz).speed) for dz in (4e-3, 2e-3)] + [float(cd_speed.speed)]
    ratio = (speeds[0] - speeds[1]) / (speeds[1] - speeds[2])
    assert 12.0 < ratio < 20.0, ratio  # 2**4 = 16
    assert abs(speeds[2] - 18.7288787267) < 2e-9  # converged value (dz -> 0) to 11 digits


def test_unstable_eigenpair_at_rest():
    pair = wave.unstable_eigenpair(AXON, 18.73)
    rest = wave._flat(wave.resting_state(AXON))
    jac = jax.jacfwd(lambda y: wave._flat(wave.wave_rhs(wave._unflat(y), 18.73, AXON)))(rest)
    np.testing.assert_allclose(jac @ pair.right, pair.value * pair.right, atol=1e-10)
    np.testing.assert_allclose(jac.T @ pair.left, pair.value * pair.left, atol=1e-10)
    eigenvalues = np.linalg.eigvals(np.asarray(jac))
    assert float(pair.value) > 0 and np.sum(eigenvalues.real > 0) == 1


def test_gradient_wrt_radius_is_exactly_half():
    u, grad = jax.value_and_grad(lambda a: wave.wave_speed(AXON._replace(radius=a)))(238.0)
    assert float(grad) * 238.0 / float(u) == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("name, step", [("temperature", 0.01), ("gNa", 0.01)])
def test_gradients_match_central_differences(name, step):
    def speed(x):
        return wave.wave_speed(with_membrane(AXON, **{name: x}))

    x0 = float(getattr(AXON.membrane, name))
    analytic = float(jax.grad(speed)(x0))
    numeric = (float(speed(x0 + step)) - float(speed(x0 - step))) / (2 * step)
    assert analytic == pytest.approx(numeric, rel=1e-5)


def test_temperature_curve_is_one_vmapped_call_matching_single_runs():
    temperatures = jnp.array([10.0, 18.5, 25.0])
    batch = wave.find_wave_speed(with_membrane(AXON, temperature=temperatures))
    assert batch.speed.shape == (3,) and batch.trajectory.v.shape[0] == 3
    for t, u in zip(temperatures, batch.speed):
        assert float(u) == pytest.approx(float(wave.find_wave_speed(with_membrane(AXON, temperature=float(t))).speed),
                                         rel=1e-12)
    assert np.all(np.diff(np.asarray(batch.speed)) > 0)


def test_multisection_finds_the_same_speed_in_fewer_iterations(cd_speed):
    multi = wave.find_wave_speed(AXON, sections=3)
    assert float(multi.speed) == pytest.approx(float(cd_speed.speed), rel=2e-13)
    assert int(multi.iterations) < int(cd_speed.iterations)


def test_slow_pulse_is_slower_and_also_a_root(cd_speed):
    slow = wave.find_wave_speed(AXON, branch="slow")
    assert bool(slow.found) and 3.0 < float(slow.speed) < 0.5 * float(cd_speed.speed)
    lo, hi = map(float, slow.bracket)
    assert int(wave.divergence_direction(AXON, lo)[0]) == 1 and int(wave.divergence_direction(AXON, hi)[0]) == -1


def test_no_pulse_is_reported_not_invented():
    hot = with_membrane(AXON, temperature=40.0)
    result = wave.find_wave_speed(hot)
    assert not bool(result.found) and np.isnan(float(result.speed)) and int(result.iterations) == 0
    assert np.isnan(float(wave.wave_speed(hot)))


def test_propagation_failure_temperature():
    failure = wave.propagation_failure(AXON, temperatures=np.arange(30.0, 36.0, 1.0), tolerance=0.005)
    lo, hi = map(float, failure.bracket)
    assert hi - lo <= 0.01 and 33.0 < float(failure.temperature) < 34.5
    # Just below the fold a speed between the two pulses (V runs away downwards) still exists;
    # just above, nothing near the fold speed runs away downwards any more.
    speeds = float(failure.speed) * jnp.geomspace(0.95, 1.05, 64)
    below = wave._signs(with_membrane(AXON, temperature=lo), speeds, None, 1e-3, 40.0, "rk4", 1e-4)
    above = wave._signs(with_membrane(AXON, temperature=hi + 0.05), speeds, None, 1e-3, 40.0, "rk4", 1e-4)
    assert np.any(np.asarray(below) == -1) and not np.any(np.asarray(above) == -1)


@pytest.mark.parametrize(
    "axon, options, match",
    [
        (AXON._replace(radius=float("nan")), {}, "axon.radius"),
        (AXON._replace(rho=-1.0), {}, "axon.rho"),
        (with_membrane(AXON, temperature=float("inf")), {}, "temperature"),
        (AXON, {"branch": "medium"}, "branch"),
        (AXON, {"dz": -1e-3}, "dz"),
        (AXON, {"method": "euler"}, "method"),
        (AXON, {"sections": 0}, "sections"),
    ],
)
def test_bad_input_raises(axon, options, match):
    with pytest.raises(ValueError, match=match):
        wave.find_wave_speed(axon, **options)


def test_bad_start_raises():
    bad = wave.WaveState(0.0, 0.0, 0.3, 1.5, 0.6)
    with pytest.raises(ValueError, match="start.m"):
        wave.find_wave_speed(AXON, bad)


def test_cli_speed_json(capsys):
    assert main(["speed", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["pulse"] and out["speed_m_per_s"] == pytest.approx(18.7288787277, rel=1e-10)
    assert out["bracket_m_per_s"][0] <= out["speed_m_per_s"] <= out["bracket_m_per_s"][1]
    assert 5.0 < out["slow_speed_m_per_s"] < 6.0
    assert main(["speed", "--radius", "0"]) == 2
