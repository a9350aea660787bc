import json

import numpy as np
import pytest

from jaxneuro import extracellular as ex
from jaxneuro import reproduce
from jaxneuro.cli import main


@pytest.fixture(scope="module")
def notebook_profile():
    import notebook_numpy

    v = notebook_numpy.simulate(a=1e-4, L=1.0, duration=20.0, Delta_x=2e-3, Delta_t=0.01, Ia_amp=500.0,
                                Ia_duration=0.5, rho=150.0, T=30.0, EL=10.5987)[0]
    return ex.SpikeProfile.from_samples(np.arange(v.shape[1]) * 20.0, v[np.argmax(v[:, 250])], 1.0, centre="node")


@pytest.fixture(scope="module")
def run_1um():
    return reproduce.notebook_profile_run(1.0)


def test_notebook_list_at_50um_in_notebook_units(notebook_profile):
    phi = ex.sweep(notebook_profile, reproduce.NOTEBOOK_RADII, [50.0], units="notebook", window=(-1000.0, 1000.0))
    np.testing.assert_allclose(np.asarray(phi.value[:, 0]), reproduce.NOTEBOOK_PHI_50, rtol=1e-5)


def test_physical_units_are_the_notebook_units_times_the_conductivity_ratio(notebook_profile):
    kw = dict(window=(-1000.0, 1000.0))
    physical = ex.sweep(notebook_profile, [1.0], [50.0], rho=150.0, sigma_e=0.3, **kw).value
    notebook = ex.sweep(notebook_profile, [1.0], [50.0], units="notebook", **kw).value
    assert float(physical[0, 0] / notebook[0, 0]) == pytest.approx((100.0 / 150.0) / (4 * 0.3) * 1e3, rel=1e-12)


def test_eq9_and_eq10_agree_on_the_spline(run_1um):
    profile, _ = run_1um
    radii, distances = [0.3, 1.0, 5.0, 20.0], [25.0, 60.0, 200.0]
    eq10 = ex.sweep(profile, radii, distances)
    eq9 = ex.sweep(profile, radii, distances, method="eq9")
    np.testing.assert_allclose(eq9.value, eq10.value, rtol=1e-6)
    assert np.all(np.asarray(eq10.error) <= 1e-3 * np.abs(np.asarray(eq10.value)))


def test_sqrt_radius_shortcut_against_a_direct_4um_run(run_1um):
    profile, _ = run_1um
    direct, _ = reproduce.notebook_profile_run(4.0, dx=20.0, dt=0.005, density=2000.0)  # grid not scaled
    d = [25.0, 50.0, 100.0, 200.0]
    np.testing.assert_allclose(ex.sweep(profile, [4.0], d).value, ex.sweep(direct, [4.0], d).value, rtol=0.02)


def test_grid_formulas(run_1um):
    _, sol = run_1um
    v = np.asarray(sol.v)[800]
    currents = ex.membrane_currents(v, 20.0, 1.0, 150.0)
    assert abs(float(currents.sum())) < 1e-12 * float(np.abs(currents).max())  # sealed cable: no net current
    far = {m: float(ex.grid_potential(v, sol.x, ex.Electrode(4_000.0, 500.0), 1.0, 150.0, method=m))
           for m in ("segments", "points")}
    assert far["points"] == pytest.approx(far["segments"], rel=0.01)
    # At the axon surface the segment formula stays finite; point sources overshoot.
    surface = {m: float(ex.grid_potential(v, sol.x, ex.Electrode(float(sol.x[np.argmax(v)]), 1.0), 1.0, 150.0, method=m))
               for m in ("segments", "points")}
    assert np.isfinite(surface["segments"]) and abs(surface["points"]) > 2 * abs(surface["segments"])


def test_exponents_in_the_notebooks_range(run_1um):
    profile, _ = run_1um
    distances = np.array([25.0, 50.0, 100.0])
    phi = ex.sweep(profile, reproduce.NOTEBOOK_RADII, distances).value
    fit = ex.fit_exponents(reproduce.NOTEBOOK_RADII, distances, phi)
    assert 1.3 < fit.p[0] < 1.5 and 1.7 < fit.p[-1] < 1.9  # notebook: between a^1.4 and a^1.9
    assert np.all(fit.q < 0)


@pytest.mark.parametrize(
    "radii, distances, match",
    [([1.0], [0.5], "inside the axon"), ([1.0], [-5.0], "distances"), ([0.0], [50.0], "radii"), ([], [50.0], "radii")],
)
def test_bad_sweeps_raise(run_1um, radii, distances, match):
    with pytest.raises(ValueError, match=match):
        ex.sweep(run_1um[0], radii, distances)


def test_bad_profiles_and_electrodes_raise(run_1um):
    profile, sol = run_1um
    with pytest.raises(ValueError, match="NaN"):
        ex.SpikeProfile.from_samples(np.arange(5.0), [0.0, 1.0, np.nan, 1.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="radius"):
        ex.SpikeProfile.from_samples(profile.x, profile.v, -1.0)
    with pytest.raises(ValueError, match="inside the axon"):
        ex.grid_potential(sol.v, sol.x, ex.Electrode(0.0, 0.5), 1.0, 150.0)


def test_cli_extracellular(capsys):
    assert main(["extracellular", "--radii", "1", "2", "--distances", "50", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    phi = np.array(out["phi"])
    assert phi.shape == (2, 2) and np.all(phi < 0) and phi[0, 0] == pytest.approx(-6.05, rel=0.01)
    assert main(["extracellular", "--radii", "30", "--distances", "25"]) == 2
