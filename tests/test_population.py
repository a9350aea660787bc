import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxneuro import population as pop


def test_homoclinic_end_of_run_matches_the_notebook_and_is_converged():
    ends = [np.asarray(pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START, rtol=r, atol=r * 1e-2).y[-1])
            for r in (1e-8, 1e-10, 1e-12)]
    np.testing.assert_array_equal(np.around(ends[-1], 3), [1.894, -1.238])  # the notebook's print
    assert np.max(np.abs(ends[1] - ends[2])) < 1e-7  # tolerance study: digits converged
    rk4 = np.asarray(pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START, method="rk4", dt=1e-3).y[-1])
    np.testing.assert_allclose(rk4, ends[-1], atol=1e-6)


def test_simulation_samples_like_the_notebook_and_vmaps():
    tr = pop.simulate(pop.preset("homoclinic"), pop.HOMOCLINIC_START)
    assert tr.t.shape == (10_000,) and float(tr.t[-1]) == 10.0 and tr.y.shape == (10_000, 2)
    starts = jnp.array([[1.088, 1.071], [0.0, 0.0]])
    batch = jax.vmap(lambda s: pop.simulate(pop.preset("homoclinic"), s, 2.0, 100).y[-1])(starts)
    np.testing.assert_allclose(batch[0], pop.simulate(pop.preset("homoclinic"), starts[0], 2.0, 100).y[-1], rtol=1e-12)


def test_snic_speed_statistics_on_the_notebooks_grid():
    speed = np.asarray(pop.field(pop.preset("snic"), pop.Grid2D(-10, 10, -20, 10, 25, 25)).speed)
    assert [round(float(v), 4) for v in (speed.min(), speed.max(), speed.mean())] == [0.4984, 40.7814, 19.6661]


@pytest.mark.parametrize("name", ["homoclinic", "snic"])
def test_fixed_points_are_roots_and_classified_by_their_eigenvalues(name):
    params = pop.preset(name)
    points = pop.fixed_points(params)
    assert len(points) == 3 and len({(round(p.x, 8), round(p.y, 8)) for p in points}) == 3
    for p in points:
        assert p.residual < 1e-10
        # On the x-nullcline (checked through tanh: artanh is ill-conditioned where |tanh y| -> 1).
        assert np.tanh(p.y) == pytest.approx((params.h_ex - p.x + params.c_EE * np.tanh(p.x)) / params.c2, abs=1e-12)
        assert float(pop.y_nullcline(p.x, params)) == pytest.approx(p.y, abs=1e-9)
        re = np.real(p.eigenvalues)
        expected = {"saddle": re.min() < 0 < re.max(), "stable node": np.all(re < 0) and np.all(np.imag(p.eigenvalues) == 0),
                    "unstable focus": np.all(re > 0) and np.any(np.imag(p.eigenvalues) != 0)}
        assert expected.get(p.kind, False), (p.kind, p.eigenvalues)


def test_saddle_node_solved_exactly():
    folds = pop.saddle_nodes(pop.preset("snic"))
    onset = min(folds, key=lambda f: abs(f.h_ex + 7.0))
    assert onset.h_ex == pytest.approx(-6.971499520065, abs=1e-8)
    assert abs(onset.det_jacobian) < 1e-10
    state = np.array([onset.x, onset.y])
    assert np.linalg.norm(pop.vector_field(state, pop.preset("snic")._replace(h_ex=onset.h_ex))) < 1e-10
    # Just past the fold the saddle and the node are gone: one fixed point left.
    assert len(pop.fixed_points(pop.preset("snic")._replace(h_ex=onset.h_ex + 0.01))) == 1
    assert len(pop.fixed_points(pop.preset("snic")._replace(h_ex=onset.h_ex - 0.01))) == 3


def test_nullclines_in_closed_form_match_a_newton_solve():
    params = pop.preset("homoclinic")._replace(c4=0.7)
    x = jnp.linspace(-3, 3, 7)
    y = pop.y_nullcline(x, params)
    np.testing.assert_allclose(pop.vector_field(jnp.stack([x, y], -1), params)[:, 1], 0.0, atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: pop.field(pop.preset("snic"), pop.Grid2D(nx=0)), "empty"),
        (lambda: pop.field(pop.preset("snic"), pop.Grid2D(x_min=1.0, x_max=1.0)), "min < max"),
        (lambda: pop.field(pop.preset("snic")._replace(c2=float("nan"))), "c2"),
        (lambda: pop.simulate(pop.preset("snic")._replace(tau_in=0.0), (0.0, 0.0)), "tau_in"),
        (lambda: pop.preset("hopf"), "preset"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_scan_gives_fixed_points_types_and_oscillation_in_one_call():
    s = pop.scan(pop.preset("snic")._replace(h_ex=jnp.array([-7.1, -6.9])))
    kinds = [sorted(pop.KINDS[k] for k in np.asarray(s.kind[i]) if k >= 0) for i in range(2)]
    assert kinds == [["saddle", "stable node", "unstable focus"], ["unstable focus"]]
    assert not bool(s.oscillation.oscillating[0]) and bool(s.oscillation.oscillating[1])
    assert float(s.oscillation.period[1]) == pytest.approx(8.79, abs=0.05)
    two_d = pop.scan(pop.preset("snic")._replace(h_ex=jnp.array([[-7.1, -6.9]] * 2), h_in=jnp.array([[-4.0], [-4.5]])))
    assert two_d.oscillation.period.shape == (2, 2)


def test_onsets_and_how_the_period_diverges():
    # SNIC preset: oscillation starts at the saddle-node, T ~ 1/sqrt(mu).
    fold = min(pop.saddle_nodes(pop.preset("snic")), key=lambda f: abs(f.h_ex + 7.0)).h_ex
    snic = pop.period_scaling(pop.preset("snic"), fold, np.geomspace(5e-3, 1e-1, 5), t_record=300.0)
    assert snic.sqrt_fit[2] < 0.05 < snic.log_fit[2]
    # Homoclinic preset: it starts below the saddle-node, at a homoclinic orbit; T ~ -ln(mu)/λu.
    lo, hi = pop.oscillation_onset(pop.preset("homoclinic"), -7.35, -7.25)
    assert hi - lo < 1e-8 and hi < fold - 0.3
    hom = pop.period_scaling(pop.preset("homoclinic"), hi, np.geomspace(1e-6, 1e-2, 5), t_record=100.0)
    assert hom.log_fit[2] < 0.02 < hom.sqrt_fit[2]
    saddle = [p for p in pop.fixed_points(pop.preset("homoclinic")._replace(h_ex=hi)) if p.kind == "saddle"][0]
    assert hom.log_fit[0] == pytest.approx(1.0 / float(np.max(np.real(saddle.eigenvalues))), rel=0.05)


def test_cli_population_and_phase_plane(capsys):
    import json

    from jaxneuro.cli import main

    assert main(["population", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert np.around(out["end_state"], 3).tolist() == [1.894, -1.238] and out["oscillating"]
    assert main(["phase-plane", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["type"] for p in out["fixed_points"]] == ["stable node", "saddle", "unstable focus"]
    assert round(out["speed"]["mean"], 4) == 19.6661
    assert min(out["saddle_node_h_ex"], key=lambda h: abs(h + 7)) == pytest.approx(-6.9714995201, abs=1e-9)
    assert main(["phase-plane", "--window", "1", "1", "0", "2"]) == 2


def test_x_nullcline_curve_reaches_every_fixed_point():
    params = pop.preset("snic")
    x, y = pop.x_nullcline_curve(params)
    for p in pop.fixed_points(params):
        assert np.nanmin(np.hypot(x - p.x, y - p.y)) < 2e-2  # within the sampling of the curve
