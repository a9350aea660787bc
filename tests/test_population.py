import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxneuro import population as pop
from jaxneuro import results
from test_transforms import count_compiles


def test_presets_are_the_notebooks_rates_as_time_constants():
    # The notebook multiplied the right-hand sides by tau_ex = 1, tau_in = 2.5 (homoclinic) or 1.5 (SNIC).
    assert pop.preset("homoclinic") == pop.PopulationParams(-7.0, -4.0, 1.0, 0.4, 5.0, 10.0, 10.0, 0.0)
    assert pop.preset("snic").tau_I == 1.0 / 1.5 and pop.preset("snic").h_E == -7.1
    state = np.array([0.3, -1.2])
    E, I = state  # noqa: E741
    notebook = [(-7.0 - E - 10 * np.tanh(I) + 5 * np.tanh(E)) * 1.0, (-4.0 - I + 10 * np.tanh(E)) * 2.5]
    np.testing.assert_allclose(pop.vector_field(state, pop.preset("homoclinic")), notebook, rtol=1e-14)


def test_homoclinic_end_of_run_matches_the_notebook_and_is_converged():
    ends = [np.asarray(pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START, rtol=r, atol=r * 1e-2).state[-1])
            for r in (1e-8, 1e-10, 1e-12)]
    np.testing.assert_array_equal(np.around(ends[-1], 3), [1.894, -1.238])  # the notebook's print
    assert np.max(np.abs(ends[1] - ends[2])) < 1e-7  # tolerance study: digits converged
    rk4 = np.asarray(pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START, solver="rk4", dt=1e-3).state[-1])
    np.testing.assert_allclose(rk4, ends[-1], atol=1e-6)


def test_simulation_samples_like_the_notebook_and_vmaps():
    tr = pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START)
    assert tr.t.shape == (10_000,) and float(tr.t[-1]) == 10.0 and tr.state.shape == (10_000, 2)
    assert int(tr.result) == results.SUCCESSFUL and int(tr.steps) > 0
    np.testing.assert_array_equal(tr.E, tr.state[:, 0])
    starts = jnp.array([[1.088, 1.071], [0.0, 0.0]])
    batch = jax.vmap(lambda s: pop.simulate(pop.preset("homoclinic"), s, 2.0, 100).state[-1])(starts)
    np.testing.assert_allclose(batch[0], pop.simulate(pop.preset("homoclinic"), starts[0], 2.0, 100).state[-1],
                               rtol=1e-12)


def test_simulate_second_call_and_new_tolerances_compile_nothing():
    params = pop.preset("homoclinic")
    pop.simulate(params, pop.HOMOCLINIC_START, 2.0, 50)
    _, compiles = count_compiles(lambda: pop.simulate(params._replace(h_E=-7.01), (1.0, 1.0), 2.0, 50, rtol=1e-9,
                                                      atol=1e-11))
    assert not compiles


def test_solver_failure_is_a_value_under_vmap_and_an_error_eagerly():
    params = pop.preset("homoclinic")
    with pytest.raises(results.NumericalError, match="population simulation") as info:
        pop.simulate(params, pop.HOMOCLINIC_START, 2.0, 10, rtol=1e-13, atol=1e-15, max_steps=50)
    assert info.value.code == results.MAX_ITERATIONS
    failed = pop.simulate(params, pop.HOMOCLINIC_START, 2.0, 10, rtol=1e-13, atol=1e-15, max_steps=50, throw=False)
    assert int(failed.result) == results.MAX_ITERATIONS and np.isnan(np.asarray(failed.state[-1])).all()

    def run(rtol):
        return pop.simulate(params, pop.HOMOCLINIC_START, 2.0, 10, rtol=rtol, atol=rtol * 1e-2, max_steps=50)

    batch = jax.vmap(run)(jnp.array([1e-5, 1e-13, 1e-4]))  # 34, > 1000 and 23 steps
    assert batch.result.tolist() == [results.SUCCESSFUL, results.MAX_ITERATIONS, results.SUCCESSFUL]
    for i, rtol in ((0, 1e-5), (2, 1e-4)):
        np.testing.assert_allclose(batch.state[i], run(rtol).state, rtol=1e-12, atol=1e-13)


def test_snic_speed_statistics_on_the_notebooks_grid():
    speed = np.asarray(pop.field(pop.preset("snic"), pop.Grid2D(-10, 10, -20, 10, 25, 25)).speed)
    assert [round(float(v), 4) for v in (speed.min(), speed.max(), speed.mean())] == [0.4984, 40.7814, 19.6661]


@pytest.mark.parametrize("name", ["homoclinic", "snic"])
def test_fixed_points_are_roots_and_classified_by_their_eigenvalues(name):
    params = pop.preset(name)
    points = pop.fixed_points(params)
    assert len(points) == 3 and len({(round(p.E, 8), round(p.I, 8)) for p in points}) == 3
    for p in points:
        assert p.residual < 1e-10
        # On the E-nullcline (checked through tanh: artanh is ill-conditioned where |tanh I| -> 1).
        assert np.tanh(p.I) == pytest.approx((params.h_E - p.E + params.c1 * np.tanh(p.E)) / params.c2, abs=1e-12)
        assert float(pop.y_nullcline(p.E, params)) == pytest.approx(p.I, abs=1e-9)
        re = np.real(p.eigenvalues)
        expected = {"saddle": re.min() < 0 < re.max(),
                    "stable node": np.all(re < 0) and np.all(np.imag(p.eigenvalues) == 0),
                    "unstable focus": np.all(re > 0) and np.any(np.imag(p.eigenvalues) != 0)}
        assert expected.get(p.kind, False), (p.kind, p.eigenvalues)


def test_saddle_node_solved_exactly():
    folds = pop.saddle_nodes(pop.preset("snic"))
    onset = min(folds, key=lambda f: abs(f.h_E + 7.0))
    assert onset.h_E == pytest.approx(-6.971499520065, abs=1e-8)
    assert abs(onset.det_jacobian) < 1e-10
    state = np.array([onset.E, onset.I])
    assert np.linalg.norm(pop.vector_field(state, pop.preset("snic")._replace(h_E=onset.h_E))) < 1e-10
    # Just past the fold the saddle and the node are gone: one fixed point left.
    assert len(pop.fixed_points(pop.preset("snic")._replace(h_E=onset.h_E + 0.01))) == 1
    assert len(pop.fixed_points(pop.preset("snic")._replace(h_E=onset.h_E - 0.01))) == 3


def test_nullclines_in_closed_form_match_a_newton_solve():
    for c4 in (0.7, 10.0, -0.5):  # plain Newton from I = target cycles for c4 = 10
        params = pop.preset("homoclinic")._replace(c4=c4)
        x = jnp.linspace(-3, 3, 7)
        y = pop.y_nullcline(x, params)
        np.testing.assert_allclose(pop.vector_field(jnp.stack([x, y], -1), params)[:, 1], 0.0, atol=1e-12)


def test_host_side_functions_compile_nothing_on_a_second_call():
    snic = pop.preset("snic")
    calls = [
        lambda: pop.fixed_points(snic),
        lambda: pop.saddle_nodes(snic),
        lambda: pop.x_nullcline_curve(snic),
        lambda: pop.classify(np.array([[1.0, 2.0], [3.0, -4.0]])),
        lambda: pop.field(snic),
        lambda: pop.jacobian(np.array([0.1, 0.2]), snic),
        lambda: pop.y_nullcline(np.linspace(-1, 1, 3), snic),
    ]
    for call in calls:
        call()
    for call in calls:
        _, compiles = count_compiles(lambda: jax.tree.leaves(call()) or [0])
        assert not compiles
    # A new parameter value or window bounds: the same compiled programs.
    _, compiles = count_compiles(lambda: pop.fixed_points(snic._replace(h_E=-7.0), pop.Grid2D(-9.0, 9.0, -19.0, 9.0)))
    assert not compiles


def _scan_kinds(s, i):
    return sorted(pop.KINDS[k] for k in np.asarray(s.kind[i]) if k >= 0)


def test_scan_gives_fixed_points_types_and_oscillation_in_one_call():
    s = pop.scan(pop.preset("snic")._replace(h_E=jnp.array([-7.1, -6.9])))
    assert [_scan_kinds(s, i) for i in range(2)] == [["saddle", "stable node", "unstable focus"], ["unstable focus"]]
    assert s.count.tolist() == [3, 1] and s.result.tolist() == [0, 0]
    assert not bool(s.oscillation.oscillating[0]) and bool(s.oscillation.oscillating[1])
    assert float(s.oscillation.period[1]) == pytest.approx(8.79, abs=0.05)
    two_d = pop.scan(pop.preset("snic")._replace(h_E=jnp.array([[-7.1, -6.9]] * 2), h_I=jnp.array([[-4.0], [-4.5]])))
    assert two_d.oscillation.period.shape == (2, 2)


def test_scan_second_call_compiles_nothing_and_a_failed_member_keeps_its_code():
    small = dict(resolution=201, max_points=3, t_transient=5.0, t_record=10.0, dt_save=0.05)
    batch = pop.preset("snic")._replace(h_E=jnp.array([-7.1, -6.9, -6.5]))
    small["max_steps"] = 2000
    first = pop.scan(batch, **small)
    again, compiles = count_compiles(lambda: pop.scan(batch._replace(h_I=-4.1), **small))
    assert not compiles and again.count.shape == (3,)
    # One member too stiff for the step budget (tau_E tiny): it fails alone.
    bad = batch._replace(tau_E=jnp.array([1.0, 1e-7, 1.0]))
    out = pop.scan(bad, **small, throw=False)
    assert out.result.tolist()[1] != results.SUCCESSFUL and out.result.tolist()[0::2] == [0, 0]
    for i in (0, 2):
        np.testing.assert_allclose(out.oscillation.E_max[i], first.oscillation.E_max[i], rtol=1e-12)
        np.testing.assert_array_equal(out.kind[i], first.kind[i])
    with pytest.raises(results.NumericalError, match="batch member"):
        pop.scan(bad, **small)


def test_onsets_and_how_the_period_diverges():
    # SNIC preset: oscillation starts at the saddle-node, T ~ 1/sqrt(mu).
    fold = min(pop.saddle_nodes(pop.preset("snic")), key=lambda f: abs(f.h_E + 7.0)).h_E
    snic = pop.period_scaling(pop.preset("snic"), fold, np.geomspace(5e-3, 1e-1, 5), t_record=300.0)
    assert snic.sqrt_fit[2] < 0.05 < snic.log_fit[2]
    # Homoclinic preset: it starts below the saddle-node, at a homoclinic orbit; T ~ -ln(mu)/λu.
    lo, hi = pop.oscillation_onset(pop.preset("homoclinic"), -7.35, -7.25)
    assert hi - lo < 1e-8 and hi < fold - 0.3
    hom = pop.period_scaling(pop.preset("homoclinic"), hi, np.geomspace(1e-6, 1e-2, 5), t_record=300.0)
    assert hom.log_fit[2] < 0.02 < hom.sqrt_fit[2]
    saddle = [p for p in pop.fixed_points(pop.preset("homoclinic")._replace(h_E=hi)) if p.kind == "saddle"][0]
    assert hom.log_fit[0] == pytest.approx(1.0 / float(np.max(np.real(saddle.eigenvalues))), rel=0.05)
    # Second calls (a looser bracket, other distances of the same count): nothing recompiles.
    _, compiles = count_compiles(lambda: pop.oscillation_onset(pop.preset("homoclinic"), -7.35, -7.25, atol=1e-2))
    assert not compiles
    # The onset's rounds are scans of `points` members: the same program as a scan of as many.
    batch = pop.preset("homoclinic")._replace(h_E=jnp.linspace(-7.4, -7.2, 64))
    s, compiles = count_compiles(lambda: pop.scan(batch).oscillation.oscillating)
    assert not compiles and not bool(s[0]) and bool(s[-1])
    # So are period scalings of as many distances with as many samples (200 / (1/12) = 120 / 0.05).
    longer, compiles = count_compiles(lambda: pop.period_scaling(
        pop.preset("homoclinic"), hi, np.geomspace(1e-5, 1e-2, 64), t_record=200.0, dt_save=200.0 / 2400).period)
    assert not [m for m in compiles if "_scan_batch" in m]
    assert np.all(np.isfinite(longer)) and np.all(np.diff(longer) < 0)
    _, compiles = count_compiles(
        lambda: pop.period_scaling(pop.preset("homoclinic"), hi, np.geomspace(1e-5, 1e-2, 5), t_record=300.0).period)
    assert not compiles
    with pytest.raises(results.NumericalError, match="does not bracket") as info:
        pop.oscillation_onset(pop.preset("homoclinic"), -7.6, -7.5, atol=1e-2)
    assert info.value.code == results.NO_BRACKET
    assert np.isnan(pop.oscillation_onset(pop.preset("homoclinic"), -7.6, -7.5, atol=1e-2, throw=False)).all()
    # A tolerance below the bracket's floating-point resolution: STALLED, not a loop forever.
    with pytest.raises(results.NumericalError, match="resolution") as info:
        pop.oscillation_onset(pop.preset("homoclinic"), lo, hi, atol=1e-18)
    assert info.value.code == results.STALLED


def test_x_nullcline_curve_reaches_every_fixed_point():
    params = pop.preset("snic")
    x, y = pop.x_nullcline_curve(params)
    for p in pop.fixed_points(params):
        assert np.nanmin(np.hypot(x - p.E, y - p.I)) < 2e-2  # within the sampling of the curve


SNIC = pop.preset("snic")
START = pop.HOMOCLINIC_START

BAD_INPUT = [
    # (case, call, the message names)
    ("string leaf", lambda: pop.simulate(SNIC._replace(h_E="abc"), START), "params.h_E"),
    ("None leaf", lambda: pop.simulate(SNIC._replace(h_I=None), START), "params.h_I"),
    ("NaN coupling", lambda: pop.field(SNIC._replace(c2=float("nan"))), "params.c2"),
    ("inf coupling", lambda: pop.fixed_points(SNIC._replace(c1=float("inf"))), "params.c1"),
    ("tau_I = 0", lambda: pop.simulate(SNIC._replace(tau_I=0.0), START), "params.tau_I"),
    ("tau_E < 0", lambda: pop.oscillation(SNIC._replace(tau_E=-1.0), START), "params.tau_E"),
    ("tau_E < 0 in a batch", lambda: pop.scan(SNIC._replace(tau_E=jnp.array([1.0, -1.0]))), "params.tau_E"),
    ("params not PopulationParams", lambda: pop.simulate({"h_E": -7.0}, START), "params must be"),
    ("batched params in simulate", lambda: pop.simulate(SNIC._replace(h_E=np.array([-7.0, -6.9])), START),
     "single number"),
    ("c4 <= -1 for the I-nullcline", lambda: pop.fixed_points(SNIC._replace(c4=-2.0)), "params.c4"),
    ("start NaN", lambda: pop.simulate(SNIC, (float("nan"), 1.0)), "start"),
    ("start inf", lambda: pop.oscillation(SNIC, (0.0, float("inf"))), "start"),
    ("start of length 3", lambda: pop.simulate(SNIC, (0.0, 1.0, 2.0)), "start"),
    ("start a string", lambda: pop.simulate(SNIC, "ab"), "start"),
    ("start None", lambda: pop.simulate(SNIC, None), "start"),
    ("t_stop inf", lambda: pop.simulate(SNIC, START, float("inf")), "t_stop"),
    ("t_stop NaN", lambda: pop.simulate(SNIC, START, float("nan")), "t_stop"),
    ("t_stop 0", lambda: pop.simulate(SNIC, START, 0.0), "t_stop"),
    ("t_stop < 0", lambda: pop.simulate(SNIC, START, -1.0), "t_stop"),
    ("t_stop a string", lambda: pop.simulate(SNIC, START, "10"), "t_stop"),
    ("too few samples", lambda: pop.simulate(SNIC, START, 1e-3, 10), "samples"),
    ("samples_per_unit 0", lambda: pop.simulate(SNIC, START, 1.0, 0), "samples_per_unit"),
    ("samples_per_unit not an integer", lambda: pop.simulate(SNIC, START, 1.0, 2.5), "samples_per_unit"),
    ("unknown solver", lambda: pop.simulate(SNIC, START, solver="adaptive"), "solver"),
    ("rtol 0", lambda: pop.simulate(SNIC, START, rtol=0.0), "rtol"),
    ("atol NaN", lambda: pop.simulate(SNIC, START, atol=float("nan")), "atol"),
    ("dt < 0", lambda: pop.simulate(SNIC, START, solver="rk4", dt=-1e-3), "dt"),
    ("max_steps 0", lambda: pop.simulate(SNIC, START, max_steps=0), "max_steps"),
    ("throw not a bool", lambda: pop.simulate(SNIC, START, throw="yes"), "throw"),
    ("window x unordered", lambda: pop.field(SNIC, pop.Grid2D(x_min=1.0, x_max=1.0)), "x_min < x_max"),
    ("window y unordered", lambda: pop.fixed_points(SNIC, pop.Grid2D(y_min=5.0, y_max=-5.0)), "y_min < y_max"),
    ("window bound NaN", lambda: pop.scan(SNIC, pop.Grid2D(x_min=float("nan"))), "window.x_min"),
    ("window nx 0", lambda: pop.field(SNIC, pop.Grid2D(nx=0)), "window.nx"),
    ("window ny not an integer", lambda: pop.field(SNIC, pop.Grid2D(ny=2.5)), "window.ny"),
    ("window not a Grid2D", lambda: pop.field(SNIC, [-1, 1, -1, 1]), "window"),
    ("resolution negative", lambda: pop.fixed_points(SNIC, resolution=-1), "resolution"),
    ("resolution not an integer", lambda: pop.saddle_nodes(SNIC, resolution=100.5), "resolution"),
    ("max_points 0", lambda: pop.scan(SNIC, max_points=0), "max_points"),
    ("shapes that do not broadcast", lambda: pop.scan(SNIC._replace(h_E=np.zeros(2), h_I=np.zeros(3))), "broadcast"),
    ("dt_save 0", lambda: pop.oscillation(SNIC, START, dt_save=0.0), "dt_save"),
    ("t_record inf", lambda: pop.scan(SNIC, t_record=float("inf")), "t_record"),
    ("t_transient < 0", lambda: pop.oscillation(SNIC, START, t_transient=-1.0), "t_transient"),
    ("onset bracket unordered", lambda: pop.oscillation_onset(SNIC, -7.0, -7.2), "ordered"),
    ("onset atol 0", lambda: pop.oscillation_onset(SNIC, -7.2, -7.0, atol=0.0), "atol"),
    ("onset points 2", lambda: pop.oscillation_onset(SNIC, -7.2, -7.0, points=2), "points"),
    ("unknown preset", lambda: pop.preset("hopf"), "preset"),
    ("x a string", lambda: pop.y_nullcline("a", SNIC), "x"),
    ("state of length 3", lambda: pop.jacobian(np.zeros(3), SNIC), "state"),
    ("Jacobian not 2 x 2", lambda: pop.classify(np.eye(3)), "jacobian"),
    ("curve with 1 point", lambda: pop.x_nullcline_curve(SNIC, points=1), "points"),
    ("mu <= 0", lambda: pop.period_scaling(SNIC, -6.97, [-1e-3, 1e-2]), "mu"),
]


@pytest.mark.parametrize("case, call, match", BAD_INPUT, ids=[case for case, _, _ in BAD_INPUT])
def test_bad_input_raises_before_compiling(case, call, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        call()
    assert time.perf_counter() - start < 1.0, case


@pytest.mark.parametrize("argv, match", [
    (["population", "--start", "nan", "1"], "start"),
    (["population", "--t-stop", "inf"], "t_stop"),
    (["population", "--t-stop", "0"], "t_stop"),
    (["population", "--tau-E", "0"], "params.tau_E"),
    (["population", "--samples-per-unit", "0"], "samples_per_unit"),
    (["population", "--rtol", "-1"], "rtol"),
    (["phase-plane", "--window", "1", "1", "0", "2"], "x_min < x_max"),
    (["phase-plane", "--points", "0", "5"], "window.nx"),
    (["phase-plane", "--c4", "-3"], "params.c4"),
    (["phase-plane", "--h-E", "nan"], "params.h_E"),
])
def test_cli_rejects_bad_input_in_one_line_before_any_run(argv, match, capsys):
    from jaxneuro.cli import main

    start = time.perf_counter()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 1.0
    assert err.startswith("jaxneuro") and "error" in err and match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_population_and_phase_plane(capsys):
    from jaxneuro.cli import main

    assert main(["population", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert np.around(out["end_E_I_unitless"], 3).tolist() == [1.894, -1.238] and out["oscillating"]
    assert out["parameters"]["tau_I_model_time"] == 0.4 and out["period_model_time"] > 0
    assert main(["population", "--json", "--h-E", "-8"]) == 0  # goes to a fixed point: period null, reason given
    out = json.loads(capsys.readouterr().out)
    assert out["period_model_time"] is None and "fixed point" in out["period_model_time_reason"]
    assert main(["phase-plane", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["type"] for p in out["fixed_points"]] == ["stable node", "saddle", "unstable focus"]
    assert round(out["speed_per_model_time"]["mean"], 4) == 19.6661
    assert min(out["saddle_node_h_E_unitless"], key=lambda h: abs(h + 7)) == pytest.approx(-6.9714995201, abs=1e-9)
