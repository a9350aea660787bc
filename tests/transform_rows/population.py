"""Transform-table rows of jaxneuro.population (cheap settings: small windows, short runs)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxneuro import population as pop
from transform_rows import Row

SNIC = pop.preset("snic")
HOMOCLINIC = pop.preset("homoclinic")
SMALL = pop.Grid2D(-3.0, 3.0, -15.0, 5.0, 4, 5)


def _vector_field(x):
    return pop.vector_field(jnp.stack([jnp.asarray(x, float), jnp.asarray(-1.0)]), SNIC)


def _jacobian(x):
    return pop.jacobian(jnp.stack([jnp.asarray(x, float), jnp.asarray(-1.0)]), SNIC)


def _field(h_E):
    return pop.field(SNIC._replace(h_E=h_E), SMALL)


def _x_nullcline(h_E):
    return pop.x_nullcline(jnp.linspace(-1.0, 1.0, 5), SNIC._replace(h_E=h_E))


def _y_nullcline(c4):
    return pop.y_nullcline(jnp.linspace(-3.0, 3.0, 7), SNIC._replace(c4=c4))


def _simulate(h_E):
    run = pop.simulate(HOMOCLINIC._replace(h_E=h_E), pop.HOMOCLINIC_START, t_stop=1.0, samples_per_unit=20)
    return run.t, run.state


def _simulate_rk4(h_E):
    run = pop.simulate(HOMOCLINIC._replace(h_E=h_E), pop.HOMOCLINIC_START, t_stop=1.0, samples_per_unit=20,
                       solver="rk4", dt=0.01)
    return run.t, run.state


def _oscillation(h_E):
    # The period is smooth in h_E (crossings on the Hermite interpolant); the amplitudes are
    # extremes of a sampled adaptive solution, smooth only to ~1e-5, too rough for central
    # differences (their values are checked by the jit and vmap columns through the period's run).
    osc = pop.oscillation(SNIC._replace(h_E=h_E), jnp.array([3.27585095, -0.26140699]), t_transient=2.0,
                          t_record=30.0, dt_save=0.05)
    return osc.period


def _scan(h_E):
    # Homoclinic preset at h_E = -7.2: three fixed points and a limit cycle around them.
    s = pop.scan(HOMOCLINIC._replace(h_E=h_E), resolution=201, max_points=3, t_transient=5.0, t_record=10.0,
                 dt_save=0.05)
    return s.fixed_E, s.fixed_I, s.oscillation.period


ROWS = [
    Row("population.scan_traced", lambda h_E: pop.scan_traced(
        jax.tree.map(lambda leaf: jnp.broadcast_to(jnp.asarray(leaf, float), (1,)), HOMOCLINIC._replace(h_E=h_E)),
        resolution=201, max_points=3, t_transient=5.0, t_record=10.0).oscillation.period,
        -7.2, batch=(-7.2, -7.19, -7.18), rtol=1e-4, atol=1e-9),
    Row("population.vector_field", _vector_field, 0.3),
    Row("population.jacobian", _jacobian, 0.3),
    Row("population.field", _field, -7.1),
    Row("population.x_nullcline", _x_nullcline, -7.1),
    Row("population.y_nullcline", _y_nullcline, 0.7),
    Row("population.simulate", _simulate, -7.0, rtol=1e-4),
    Row("population.simulate", _simulate_rk4, -7.0),
    Row("population.oscillation", _oscillation, -6.9, rtol=1e-4, atol=1e-9),
    Row("population.scan", _scan, -7.2, batch=(-7.2, -7.19, -7.18), rtol=1e-4, atol=1e-9),
]

HOST_SIDE = {
    "population.preset": "takes a name (string), returns constant parameters",
    "population.validate": "checks concrete inputs on the host and returns nothing",
    "population.check_simulation": "checks concrete inputs on the host and returns nothing",
    "population.check_phase_plane": "checks concrete inputs on the host and returns nothing",
    "population.classify": "NumPy on a concrete Jacobian; returns a string",
    "population.x_nullcline_curve": "NumPy curve for drawing, with host-side bisection; variable length",
    "population.fixed_points": "a Python list of variable length (compiled core cached; see test_population)",
    "population.saddle_nodes": "a Python list of variable length (compiled core cached; see test_population)",
    "population.oscillation_onset": "returns Python floats after checking the bracket (compiled core cached)",
    "population.period_scaling": "least-squares fits on the host over a scan (compiled scan cached)",
}
