"""Transform rows of jaxneuro.membrane (pure functions of v, mV, and the parameters)."""

import jaxneuro as jn
from jaxneuro import membrane
from transform_rows import Row

V = 7.3  # mV from rest, away from the removable singularities at 10 and 25 mV


def _params(temperature=18.5):
    return jn.HHParams(temperature=temperature)


def _gates(v):
    return membrane.steady_state(v - 3.0, _params())


ROWS = [
    Row("membrane.q10_factor", membrane.q10_factor, 18.5),
    Row("membrane.alpha_n", membrane.alpha_n, V),
    Row("membrane.beta_n", membrane.beta_n, V),
    Row("membrane.alpha_m", membrane.alpha_m, V),
    Row("membrane.beta_m", membrane.beta_m, V),
    Row("membrane.alpha_h", membrane.alpha_h, V),
    Row("membrane.beta_h", membrane.beta_h, V),
    Row("membrane.steady_state", lambda v: membrane.steady_state(v, _params()), V),
    Row("membrane.gate_derivatives", lambda t: membrane.gate_derivatives(V, _gates(V), _params(t)), 18.5),
    Row("membrane.ionic_current", lambda v: membrane.ionic_current(v, _gates(v), _params()), V),
    Row("membrane.membrane_conductance", lambda v: membrane.membrane_conductance(v, _params()), V),
    Row("membrane.solve_resting_potential",
        lambda el: membrane.solve_resting_potential(jn.HHParams(EL=el)), 10.5987),
    Row("membrane.resting_potential", lambda el: membrane.resting_potential(jn.HHParams(EL=el)), 10.5987),
    Row("membrane.length_constant", lambda a: membrane.length_constant(a, 35.4, _params()), 238.0),
]
