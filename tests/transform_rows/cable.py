"""Transform rows of jaxneuro.cable: a 5 mm Cooley–Dodge cable, 200 steps (one compiled program
shared by the rows that simulate)."""

import jax.numpy as jnp

import jaxneuro as jn
from jaxneuro import cable
from transform_rows import Row

GRID = jn.Grid(length=5_000.0, dx=250.0, dt=0.005, t_stop=1.0)
STIMULUS = jn.Stimulus(amplitude=6_000.0, duration=0.2)
RECORD = jn.Record.reductions()


def _axon(radius):
    return jn.Axon(radius=radius)


def _run(radius):
    return jn.simulate_cable(_axon(radius), GRID, STIMULUS, record=RECORD)


def _operator(radius):
    return cable.lees_init(_axon(radius), GRID, STIMULUS)


def _first(radius):
    axon = _axon(radius)
    return cable.lees_first_step(_operator(radius), GRID, cable.start_state(axon, GRID, jnp.linspace(0.0, 20.0, 21)))


ROWS = [
    Row("cable.cooley_dodge_axon", lambda k: cable.cooley_dodge_axon(k), 0.0555),
    Row("cable.cooley_dodge_stimulus", lambda a: cable.cooley_dodge_stimulus(a).amplitude, 238.0),
    Row("cable.diffusion_coefficient", lambda a: cable.diffusion_coefficient(_axon(a)), 238.0),
    Row("cable.step_ratio", lambda a: cable.step_ratio(_axon(a), 250.0, 0.001), 238.0),
    Row("cable.stimulus_density",
        lambda p: cable.stimulus_density(jn.Stimulus(100.0, 0.0, 1.0, p, 300.0), 2.0, GRID), 1234.5),
    Row("cable.lees_init", _operator, 238.0),
    Row("cable.start_state", lambda el: cable.start_state(
        jn.Axon(membrane=jn.Axon().membrane._replace(EL=el)), GRID), 10.598),
    Row("cable.lees_first_step", _first, 238.0),
    Row("cable.lees_step", lambda a: cable.lees_step(_operator(a), GRID, _first(a), 0.0075), 238.0),
    Row("cable.solve_cable", lambda a: cable.solve_cable(
        axon=_axon(a), grid=GRID, stimulus=STIMULUS, record=RECORD, initial_v=None, initial_state=None,
        linear_solver="thomas", unroll=2).peak_t, 238.0),
    Row("cable.simulate_cable", lambda a: _run(a).peak_t, 238.0),
    Row("cable.arrival_result", lambda a: cable.arrival_result(_run(a), 4_000.0), 238.0,
        skip={"grad": "an integer result code has no derivative"}),
    Row("cable.arrival_time", lambda a: cable.arrival_time(_run(a), 4_000.0, "crossing"), 238.0),
    Row("cable.conduction_velocity", lambda a: cable.conduction_velocity(_run(a), 1_000.0, 4_000.0), 238.0),
]

HOST_SIDE = {
    "cable.resolve_linear_solver": "maps a static option (a string) to another for the default backend",
    "cable.cooley_dodge_grid": "returns static configuration (a Grid), no arrays",
    "cable.converged_velocity": "runs several grids (static shapes) and returns Python floats",
    "cable.converged_velocities": "runs several grids (static shapes) and returns Python floats",
    "cable.richardson": "NumPy arithmetic on velocities already on the host",
    "cable.validate_axon": "input check on concrete values, before tracing",
    "cable.validate_cable_input": "input check on concrete values, before tracing",
    "cable.batch_shape": "input check on concrete values, before tracing",
}
