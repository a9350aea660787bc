import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_transforms import count_compiles

import jaxneuro as jn
from jaxneuro import membrane, references, reproduce, results, wave
from jaxneuro.cli import main

AXON = jn.cooley_dodge_axon()  # notebook β_m, 18.5 °C, EL 10.598
#: Cheap options shared with the transform table's rows (same compiled programs).
CHEAP = dict(dt=0.01, t_stop=40.0, rtol=1e-8, t_record=1.0, every=10)


def with_membrane(axon, **changes):
    return axon._replace(membrane=axon.membrane._replace(**changes))


@pytest.fixture(scope="module")
def cd_speed():
    return wave.find_wave_speed(AXON)


def test_notebook_start_gives_the_hand_tuned_speed():
    # The notebook's own cable state at 1 ms, 2 cm, AB5 with dt = 1e-4 ms: the automatic speed
    # is the notebook's 1.8750565461815821 cm/ms to its last digits.
    from jaxneuro import notebook_reference as notebook_numpy

    start = wave.start_from_cable(*notebook_numpy.simulate(duration=1.003), 0.001)
    found = wave.find_wave_speed(AXON, start, **reproduce.NOTEBOOK_WAVE_OPTIONS)
    assert int(found.result) == results.SUCCESSFUL
    assert float(found.speed) == pytest.approx(references.NOTEBOOK_WAVE_SPEED, rel=1e-12)
    assert float(found.speed) == pytest.approx(18.75056546181649, rel=1e-13)


def test_bracket_is_tight_and_flips_direction(cd_speed):
    lo, hi = map(float, cd_speed.bracket)
    assert 0 < hi - lo <= 1e-13 * hi and lo <= float(cd_speed.speed) <= hi
    assert float(cd_speed.speed) == pytest.approx(18.7288787276638, rel=1e-13)
    assert int(cd_speed.result) == results.SUCCESSFUL
    assert int(wave.divergence_direction(AXON, lo).direction) == -1
    assert int(wave.divergence_direction(AXON, hi).direction) == 1
    # The returned pulse peaks like the cable's (≈ 90 mV mid-cable) before it runs away.
    assert 85.0 < float(jnp.nanmax(cd_speed.trajectory.v)) < 100.0
    assert cd_speed.z.shape == cd_speed.trajectory.v.shape == (1001,)


def test_default_axon_is_cooley_dodge():
    # find_wave_speed() and find_wave_speed(jn.Axon()) answer the same question.
    assert float(wave.find_wave_speed(**CHEAP).speed) == float(wave.find_wave_speed(jn.Axon(), **CHEAP).speed)
    assert float(wave.find_wave_speed(**CHEAP).speed) == float(wave.find_wave_speed(AXON, **CHEAP).speed)


def test_speed_converges_at_fourth_order_in_dt(cd_speed):
    # dt is a traced value: the three steps share one compiled search (no pulse recorded).
    speeds = [float(wave.find_wave_speed(AXON, dt=dt, t_record=0.0).speed) for dt in (4e-3, 2e-3)]
    speeds.append(float(cd_speed.speed))
    ratio = (speeds[0] - speeds[1]) / (speeds[1] - speeds[2])
    assert 12.0 < ratio < 20.0, ratio  # 2**4 = 16
    assert abs(speeds[2] - 18.7288787267) < 2e-9  # converged value (dt -> 0) to 11 digits


def test_numeric_options_do_not_recompile():
    wave.find_wave_speed(AXON, **CHEAP)
    changes = [dict(rtol=1e-6), dict(branch="train_front"), dict(t_stop=30.0), dict(amplitude=2e-4),
               dict(dt=0.008, t_record=0.8)]
    for change in changes:
        _, compiles = count_compiles(lambda: wave.find_wave_speed(AXON, throw=False, **{**CHEAP, **change}))
        assert not compiles, (change, compiles)
    # A new number of recorded samples recompiles only the small recording program.
    _, compiles = count_compiles(lambda: wave.find_wave_speed(AXON, **{**CHEAP, "dt": 0.005}))
    assert any("_record" in text for text in compiles) and not any("_search" in text for text in compiles), compiles


def test_unstable_eigenpair_at_rest():
    pair = wave.unstable_eigenpair(AXON, 18.73)
    rest = wave._flat(wave.resting_state(AXON))
    jac = jax.jacfwd(lambda y: wave._flat(wave.wave_rhs(wave._unflat(y), 18.73, AXON)))(rest)
    np.testing.assert_allclose(jac @ pair.right, pair.value * pair.right, atol=1e-10)
    np.testing.assert_allclose(jac.T @ pair.left, pair.value * pair.left, atol=1e-10)
    assert float(pair.left @ pair.right) == pytest.approx(1.0, abs=1e-13)
    eigenvalues = np.linalg.eigvals(np.asarray(jac))
    assert float(pair.value) > 0 and np.sum(eigenvalues.real > 0) == 1
    assert float(pair.value) == pytest.approx(float(eigenvalues.real.max()), rel=1e-13)
    assert int(pair.result) == results.SUCCESSFUL


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
    batch = wave.find_wave_speed(with_membrane(AXON, temperature=temperatures), **CHEAP)
    assert batch.speed.shape == (3,) and batch.trajectory.v.shape == (3, 11) and batch.z.shape == (11,)
    for t, u in zip(temperatures, batch.speed):
        single = wave.find_wave_speed(with_membrane(AXON, temperature=float(t)), **CHEAP)
        assert float(u) == pytest.approx(float(single.speed), rel=1e-12)
    assert np.all(np.diff(np.asarray(batch.speed)) > 0)


def test_a_member_without_pulse_does_not_change_the_others_under_vmap():
    # Acceptance 4 of issue 10: 40 °C has no pulse (the fold is at 33.67 °C).  dt = 5 µs: at
    # 10 µs the 40 °C gates are too fast for RK4 and a spurious flip appears.
    options = dict(CHEAP, dt=0.005)
    temperatures = jnp.array([10.0, 40.0, 18.5])

    def speed_at(t):
        return wave.find_wave_speed(with_membrane(AXON, temperature=t), throw=False, **options)

    batch = jax.vmap(speed_at)(temperatures)
    for i, t in enumerate(np.asarray(temperatures)):
        single = speed_at(float(t))
        for got, want in zip(jax.tree.leaves(batch), jax.tree.leaves(single)):
            np.testing.assert_allclose(np.asarray(got)[i], np.asarray(want), rtol=1e-12, atol=1e-12, equal_nan=True)
    assert list(np.asarray(batch.result)) == [results.SUCCESSFUL, results.NO_PULSE, results.SUCCESSFUL]
    assert np.isnan(float(batch.speed[1])) and np.all(np.isnan(np.asarray(batch.trajectory.v[1])))
    assert np.all(np.isfinite(np.asarray(batch.speed)[[0, 2]]))
    # The same through a batch leaf, and through the differentiable speed.
    leaf = wave.find_wave_speed(with_membrane(AXON, temperature=temperatures), throw=False, **options)
    np.testing.assert_array_equal(np.asarray(leaf.speed), np.asarray(batch.speed))
    speed, code = wave.wave_speed(with_membrane(AXON, temperature=temperatures), throw=False, return_result=True,
                                  **{k: v for k, v in options.items() if k not in ("t_record", "every")})
    np.testing.assert_array_equal(np.asarray(speed), np.asarray(batch.speed))
    np.testing.assert_array_equal(np.asarray(code), np.asarray(batch.result))


def test_failures_raise_eagerly_and_are_values_otherwise():
    hot = with_membrane(AXON, temperature=40.0)
    hot_options = dict(CHEAP, dt=0.005)
    with pytest.raises(results.NumericalError, match="no travelling pulse") as err:
        wave.find_wave_speed(hot, **hot_options)
    assert err.value.code == results.NO_PULSE
    with pytest.raises(results.NumericalError):
        wave.wave_speed(hot, dt=0.005, rtol=1e-8)
    quiet = wave.find_wave_speed(hot, throw=False, **hot_options)
    assert int(quiet.result) == results.NO_PULSE and np.isnan(float(quiet.speed)) and int(quiet.iterations) == 0
    assert np.all(np.isnan(np.asarray(quiet.bracket)))
    assert np.isnan(float(wave.wave_speed(hot, dt=0.005, rtol=1e-8, throw=False)))
    # Too short a t_stop: the trials near the root do not run away in time.
    stalled = wave.find_wave_speed(AXON, throw=False, **{**CHEAP, "t_stop": 2.0, "rtol": 1e-12})
    assert int(stalled.result) == results.STALLED and np.isnan(float(stalled.speed))
    lo, hi = map(float, stalled.bracket)
    assert lo < 18.728885 < hi  # the bracket reached is still reported (dt = 10 µs: 18.728885 m/s)
    with pytest.raises(results.NumericalError, match="stalled"):
        wave.find_wave_speed(AXON, **{**CHEAP, "t_stop": 2.0, "rtol": 1e-12})


def test_multisection_finds_the_same_speed_in_fewer_iterations():
    options = dict(CHEAP, rtol=1e-12)
    bisection = wave.find_wave_speed(AXON, **options)
    multi = wave.find_wave_speed(AXON, sections=3, max_iterations=20, **options)
    assert float(multi.speed) == pytest.approx(float(bisection.speed), rel=2e-12)
    assert int(multi.iterations) < int(bisection.iterations)
    # The same program, asked for more than 20 quarterings can give: MAX_ITERATIONS.
    capped = wave.find_wave_speed(AXON, sections=3, max_iterations=20, throw=False, **{**options, "rtol": 1e-14})
    assert int(capped.result) == results.MAX_ITERATIONS and np.isnan(float(capped.speed))
    assert int(capped.iterations) == 20


def test_slow_pulse_is_slower_and_also_a_root(cd_speed):
    slow = wave.find_wave_speed(AXON, branch="train_front", t_record=0.0)
    assert int(slow.result) == results.SUCCESSFUL and float(slow.speed) == pytest.approx(5.5445, abs=5e-5)
    lo, hi = map(float, slow.bracket)
    assert int(wave.divergence_direction(AXON, lo).direction) == 1
    assert int(wave.divergence_direction(AXON, hi).direction) == -1


def test_propagation_failure_temperature():
    temperatures = np.arange(30.0, 36.0, 1.0)
    failure = wave.propagation_failure(AXON, temperatures=temperatures, atol=0.005)
    lo, hi = map(float, failure.bracket)
    assert int(failure.result) == results.SUCCESSFUL
    assert hi - lo <= 0.005 and float(failure.temperature) == pytest.approx(33.67, abs=0.01)
    # Just below the fold a speed between the two pulses (V runs away downwards) still exists;
    # just above, nothing near the fold speed runs away downwards any more.
    speeds = float(failure.speed) * jnp.geomspace(0.95, 1.05, 64)

    def directions(t):
        return jax.vmap(lambda u: wave.divergence_direction(with_membrane(AXON, temperature=t), u).direction)(speeds)

    assert np.any(np.asarray(directions(lo)) == -1) and not np.any(np.asarray(directions(hi + 0.05)) == -1)
    # A second call compiles nothing (a host-side driver over cached programs).
    _, compiles = count_compiles(lambda: wave.propagation_failure(AXON, temperatures=temperatures + 0.5, atol=0.05))
    assert not compiles, compiles
    # The scan passed in (the search it runs itself: same options, rtol 1e-4) gives the same fold.
    batch = with_membrane(AXON, temperature=jnp.asarray(temperatures))
    scan = wave.find_wave_speed(batch, rtol=1e-4, t_record=0.0, throw=False)
    # t_record = 0, batched: the start alone per member (NaN where no pulse), no recording program.
    v0, found = np.asarray(scan.trajectory.v), np.asarray(scan.result) == results.SUCCESSFUL
    assert scan.z.shape == (1,) and v0.shape == (temperatures.size, 1) and found.any() and not found.all()
    assert np.all(np.abs(v0[found]) < 1e-3) and np.all(np.isnan(v0[~found]))
    again = wave.propagation_failure(AXON, temperatures=temperatures, atol=0.005, scan=scan)
    np.testing.assert_array_equal(np.asarray(again.bracket), np.asarray(failure.bracket))


def test_propagation_failure_outside_the_scan_is_a_code():
    cold = np.linspace(10.0, 12.0, 6)  # 6 temperatures, as above: the same compiled scan
    with pytest.raises(results.NumericalError, match="no fold") as err:
        wave.propagation_failure(AXON, temperatures=cold, dt=0.005)
    assert err.value.code == results.NO_BRACKET
    quiet = wave.propagation_failure(AXON, temperatures=cold, dt=0.005, throw=False)
    assert int(quiet.result) == results.NO_BRACKET and np.isnan(float(quiet.temperature))


def test_a_resting_potential_that_did_not_converge_is_the_result():
    # gNa = 600 mS/cm²: 12 Newton steps from v = 0 do not converge on the resting potential.
    # Inside the compiled search nothing raises, so its code must travel to the result.
    bad = with_membrane(AXON, gNa=600.0)
    code = int(membrane.solve_resting_potential(bad.membrane)[1])
    assert code != results.SUCCESSFUL
    found = wave.find_wave_speed(bad, throw=False, **CHEAP)
    assert int(found.result) == code and np.isnan(float(found.speed)) and int(found.iterations) == 0
    assert np.all(np.isnan(np.asarray(found.bracket))) and np.all(np.isnan(np.asarray(found.trajectory.v)))
    with pytest.raises(results.NumericalError, match="resting potential") as err:
        wave.find_wave_speed(bad, **CHEAP)
    assert err.value.code == code
    speed, result = wave.wave_speed(bad, throw=False, return_result=True, dt=0.01, rtol=1e-8)
    assert int(result) == code and np.isnan(float(speed))
    # In a batch only that member fails (a batch of 3, as in the temperature curve: one program).
    batch = wave.find_wave_speed(with_membrane(AXON, gNa=jnp.array([120.0, 600.0, 120.0])), throw=False, **CHEAP)
    assert list(np.asarray(batch.result)) == [results.SUCCESSFUL, code, results.SUCCESSFUL]
    assert float(batch.speed[0]) == pytest.approx(float(wave.find_wave_speed(AXON, **CHEAP).speed), rel=1e-12)
    # The pieces built on the resting point report it too.
    assert int(wave.unstable_eigenpair(bad, 18.73).result) == code
    assert int(wave.divergence_direction(bad, 18.73, dt=0.01).result) == code
    with pytest.raises(results.NumericalError, match="resting potential"):
        wave.resting_state(bad)
    assert np.isnan(float(wave.resting_state(bad, throw=False).v))
    with pytest.raises(results.NumericalError, match="resting potential"):
        wave.manifold_start(bad, 18.73)


def test_a_traced_dt_is_accepted_without_a_recorded_pulse():
    # t_record = 0: no shape depends on dt, so dt may be traced (no compilation needed to tell).
    shapes = jax.eval_shape(lambda dt: wave.find_wave_speed(AXON, dt=dt, t_record=0.0, throw=False), 0.01)
    assert shapes.speed.shape == () and shapes.trajectory.v.shape == (1,)
    # t_record > 0: t_record / dt sets the number of samples: a traced dt is refused, by name.
    with pytest.raises(ValueError, match="dt must be a concrete number when t_record > 0"):
        jax.eval_shape(lambda dt: wave.find_wave_speed(AXON, dt=dt, t_record=0.5, throw=False), 0.01)


def _failure_at(t_exists, t_fails, centre):
    """The bisection on temperature of propagation_failure, with the arguments it passes (the
    same compiled program as test_propagation_failure's, at a coarser traced dt)."""
    numeric = wave._prepare(AXON, None, branch="fast", dt=0.01, t_stop=40.0, solver="rk4", amplitude=1e-4,
                            rtol=1e-4, sections=1, max_iterations=200)[1]
    return wave._failure(wave._as_float(AXON), jnp.asarray(np.float64(t_exists)), jnp.asarray(np.float64(t_fails)),
                         np.float64(centre), numeric, jnp.asarray(0.005, float), solver="rk4")


@pytest.mark.parametrize("t_exists, t_fails, centre", [
    (33.0, 34.0, 100.0),  # no speed within ±25 % of 100 m/s lies between the pulses at 33 °C
    (30.0, 31.0, 16.3),  # some still does at 31 °C (the fold is at 33.67 °C)
])
def test_propagation_failure_bisection_checks_its_bracket(t_exists, t_fails, centre):
    # Unchecked, a one-sided bisection "converged" onto an end and called it the fold.
    out = _failure_at(t_exists, t_fails, centre)
    assert int(out.result) == results.NO_BRACKET
    assert np.isnan(float(out.temperature)) and np.isnan(float(out.speed)) and int(out.iterations) == 0


BAD = jn.HHParams(EL=10.598, temperature=18.5)
BAD_INPUT = [
    # (function, args, kwargs, words the message must contain)
    ("find", (AXON._replace(radius="abc"),), {}, "axon.radius"),
    ("find", (AXON._replace(radius=None),), {}, "axon.radius"),
    ("find", (AXON._replace(radius=float("nan")),), {}, "axon.radius"),
    ("find", (AXON._replace(radius=-1.0),), {}, "axon.radius"),
    ("find", (AXON._replace(rho=0.0),), {}, "axon.rho"),
    ("find", (AXON._replace(membrane=BAD._replace(gNa="120")),), {}, "axon.membrane.gNa"),
    ("find", (AXON._replace(membrane=BAD._replace(temperature=-300.0)),), {}, "temperature"),
    ("find", (AXON._replace(membrane=BAD._replace(temperature=1e6)),), {}, "temperature"),
    ("find", (AXON._replace(membrane=BAD._replace(temperature=float("inf"))),), {}, "temperature"),
    ("find", ({"radius": 238.0},), {}, "axon"),
    ("find", (AXON,), {"dt": 0.0}, "dt"),
    ("find", (AXON,), {"dt": -1e-3}, "dt"),
    ("find", (AXON,), {"dt": float("nan")}, "dt"),
    ("find", (AXON,), {"dt": "0.001"}, "dt"),
    ("find", (AXON,), {"dt": 50.0}, "t_stop"),
    ("find", (AXON,), {"dt": 1e-9}, "steps"),
    ("find", (AXON,), {"t_stop": 0.0}, "t_stop"),
    ("find", (AXON,), {"t_stop": float("inf")}, "t_stop"),
    ("find", (AXON,), {"rtol": 0.0}, "rtol"),
    ("find", (AXON,), {"rtol": -1e-13}, "rtol"),
    ("find", (AXON,), {"rtol": 1.0}, "rtol"),
    ("find", (AXON,), {"amplitude": 0.0}, "amplitude"),
    ("find", (AXON,), {"solver": "euler"}, "solver"),
    ("find", (AXON,), {"solver": None}, "solver"),
    ("find", (AXON,), {"branch": "medium"}, "branch"),
    ("find", (AXON,), {"branch": 1}, "branch"),
    ("find", (AXON,), {"sections": 0}, "sections"),
    ("find", (AXON,), {"sections": 1.5}, "sections"),
    ("find", (AXON,), {"max_iterations": 0}, "max_iterations"),
    ("find", (AXON,), {"every": 0}, "every"),
    ("find", (AXON,), {"t_record": -1.0}, "t_record"),
    ("find", (AXON,), {"t_record": 1e9}, "t_record"),
    ("find", (AXON,), {"t_record": None}, "t_record must be a number >= 0"),
    ("find", (AXON,), {"t_record": "1"}, "t_record"),
    ("find", (AXON,), {"t_record": 0.0, "every": None}, "every"),
    ("find", (AXON,), {"t_record": 0.0, "dt": -1.0}, "dt"),
    ("find", (AXON, (0.0, 0.0, 0.3, 0.05, 0.6)), {}, "start must be"),
    ("find", (AXON, wave.WaveState(0.0, 0.0, 0.3, 1.5, 0.6)), {}, "start.m"),
    ("find", (AXON, wave.WaveState(0.0, 0.0, -0.1, 0.05, 0.6)), {}, "start.n"),
    ("find", (AXON, wave.WaveState(float("nan"), 0.0, 0.3, 0.05, 0.6)), {}, "start.v"),
    ("find", (AXON, wave.WaveState("x", 0.0, 0.3, 0.05, 0.6)), {}, "start.v"),
    ("find", (with_membrane(AXON, temperature=np.array([10.0, 20.0])),
              wave.WaveState(np.zeros(3), 0.0, 0.3, 0.05, 0.6)), {}, "same shape"),
    ("speed", (AXON._replace(radius="abc"),), {}, "axon.radius"),
    ("speed", (AXON,), {"dt": -1.0}, "dt"),
    ("speed", (AXON,), {"branch": "medium"}, "branch"),
    ("direction", (AXON, -1.0), {}, "speed"),
    ("direction", (AXON, 18.0), {"t_stop": -1.0}, "t_stop"),
    ("failure", (AXON,), {"atol": 0.0}, "atol"),
    ("failure", (AXON,), {"temperatures": [20.0]}, "at least 2"),
    ("failure", (AXON,), {"temperatures": [-300.0, 20.0]}, "temperatures"),
    ("failure", (AXON,), {"temperatures": [20.0, float("nan")]}, "temperatures"),
    ("failure", (AXON._replace(radius=np.array([200.0, 238.0])),), {}, "one axon"),
    ("failure", (AXON,), {"temperatures": [20.0, 30.0], "scan": wave.WaveSpeed(*[np.zeros((3, 2))] * 6)},
     "scan must be"),
    ("failure", (AXON,), {"temperatures": [30.0, 20.0], "scan": wave.WaveSpeed(*[np.zeros((2, 2))] * 6)},
     "strictly increasing"),
    ("eigenpair", (AXON, 0.0), {}, "speed"),
    ("start", (AXON, 18.7), {"amplitude": -1.0}, "amplitude"),
    ("rhs", (wave.WaveState(0.0, 0.0, 0.3, 2.0, 0.6), 18.7, AXON), {}, "state.m"),
]
FUNCTIONS = {"find": wave.find_wave_speed, "speed": wave.wave_speed, "direction": wave.divergence_direction,
             "failure": wave.propagation_failure, "eigenpair": wave.unstable_eigenpair,
             "start": wave.manifold_start, "rhs": wave.wave_rhs}


@pytest.mark.parametrize("function, args, kwargs, words", BAD_INPUT,
                         ids=[f"{f}-{w}-{i}" for i, (f, _, _, w) in enumerate(BAD_INPUT)])
def test_bad_input_raises_before_compiling(function, args, kwargs, words):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=words):
        FUNCTIONS[function](*args, **kwargs)
    assert time.perf_counter() - start < 1.0


def test_cli_speed_json(capsys):
    assert main(["speed", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pulse"] and out["result"] == "successful"
    assert out["speed_m_per_s"] == pytest.approx(18.7288787277, rel=1e-10)
    assert out["bracket_m_per_s"][0] <= out["speed_m_per_s"] <= out["bracket_m_per_s"][1]
    assert 5.0 < out["train_front_speed_m_per_s"] < 6.0 and out["train_front_result"] == "successful"


def test_cli_speed_slow_pulse(capsys):
    """--slow: the slow pulse near the fold (33 °C: a short continuation from 6.3 °C)."""
    assert main(["speed", "--json", "--slow", "--temperature", "33"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["slow_pulse_result"] == "successful"
    assert out["slow_pulse_speed_m_per_s"] < out["speed_m_per_s"]
    assert out["slow_pulse_peak_mV"] > 0 and out["slow_pulse_width_ms"] > 0


def test_branch_slow_is_refused_with_a_pointer():
    with pytest.raises(ValueError, match="train_front.*slow_pulse"):
        wave.find_wave_speed(AXON, branch="slow")


def test_cli_speed_without_pulse_is_exit_code_3(capsys):
    assert main(["speed", "--json", "--temperature", "40", "--dt", "0.005", "--rtol", "1e-8"]) == 3
    out = json.loads(capsys.readouterr().out)  # valid JSON: null speed, with the reason
    assert out["speed_m_per_s"] is None and out["result"] == "no_pulse" and out["speed_m_per_s_reason"]


@pytest.mark.parametrize("argv", [["--radius", "0"], ["--dt", "-1"], ["--dt", "50"], ["--t-stop", "0"],
                                  ["--rtol", "0"], ["--sections", "0"], ["--temperature", "-300"],
                                  ["--temperature", "1e6"], ["--amplitude", "nan"], ["--gNa", "inf"],
                                  ["--slow", "--temperature", "5"]])
def test_cli_speed_bad_input(argv, capsys):
    start = time.perf_counter()
    assert main(["speed", *argv]) == 2
    assert time.perf_counter() - start < 1.0
    err = capsys.readouterr().err
    assert err.startswith("jaxneuro: error:") and err.count("\n") == 1 and "Traceback" not in err
