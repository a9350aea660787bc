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
