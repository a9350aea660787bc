import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxneuro import notebook_reference as notebook_numpy

import jaxneuro as jn
from jaxneuro import cable
from jaxneuro.reproduce import cooley_dodge, radius_sweep


@pytest.fixture(scope="module")
def cd():
    return cooley_dodge()


# --- Acceptance 1: Cooley–Dodge against the NumPy implementation of the notebook's algorithm.


def test_cooley_dodge_velocity_matches_numpy_baseline(cd):
    v, *_ = notebook_numpy.simulate()
    baseline = notebook_numpy.velocity(v, 0.025, 0.001, 80, 120)
    assert cd.velocity == pytest.approx(baseline, rel=1e-4)
    # Same scheme, same grid: the agreement is in fact far tighter than asked.
    assert cd.velocity == pytest.approx(baseline, rel=1e-6)
    # The notebook's argmax estimate (18.75 ± 0.25 m/s) brackets it.
    assert abs(cd.velocity - 18.75) < 0.25


def test_cooley_dodge_stimulus_is_the_notebooks():
    stim = jn.cooley_dodge_stimulus()
    assert float(stim.amplitude) == pytest.approx(4673.119, rel=1e-6)  # nA, as DESIGN.md says
    density = cable.stimulus_density(stim, 238.0, jn.cooley_dodge_grid())
    assert float(density[0]) == pytest.approx(2500.0, rel=1e-13)
    assert np.all(np.asarray(density[1:]) == 0.0)


# --- Acceptance 2: second-order convergence and the Richardson velocity.


def test_second_order_convergence_in_dx_and_dt():
    grid = jn.Grid(length=40_000.0, dx=250.0, dt=0.001, t_stop=3.6)
    cv = jn.converged_velocity(jn.cooley_dodge_axon(), grid, jn.cooley_dodge_stimulus(), levels=4)
    d = np.diff(cv.velocities)
    ratios = d[:-1] / d[1:]
    assert np.all((ratios > 3.7) & (ratios < 4.3)), ratios
    assert abs(cv.observed_order - 2.0) < 0.1
    assert cv.error_estimate < 2e-5
    assert abs(cv.velocities[-1] - cv.velocity) < 1e-3


# --- Acceptance 3: the far end fires fully (the corrected matrix).


def test_far_end_fires_fully(cd):
    beyond_1cm = np.asarray(cd.solution.x) >= 10_000.0
    assert np.all(np.asarray(cd.solution.peak_v)[beyond_1cm] >= cd.mid_peak - 1.0)
    assert cd.far_end_peak == pytest.approx(101.6, abs=0.1)


# --- Acceptance 4: conservation, rest, mirror symmetry.


def passive(axon):
    # At 6.3 °C: the gates still evolve (explicitly) and must stay stable at the long steps used here.
    return axon._replace(membrane=axon.membrane._replace(gNa=0.0, gK=0.0, gL=0.0, temperature=6.3))


def test_pure_diffusion_conserves_trapezoid_integral():
    grid = jn.Grid(length=10_000.0, dx=50.0, dt=0.01, t_stop=20.0)
    x = grid.x
    v0 = 100.0 * np.exp(-(((x - 3000.0) / 500.0) ** 2)) + 10.0 * (x > 8000)
    sol = jn.simulate_cable(passive(jn.Axon(radius=5.0)), grid, initial_v=v0, record=jn.Record(every=100))
    w = np.ones(grid.n_nodes)
    w[[0, -1]] = 0.5
    integrals = np.asarray(sol.v) @ w
    assert np.max(np.abs(integrals / integrals[0] - 1.0)) < 1e-12
    assert np.ptp(np.asarray(sol.v[-1])) < np.ptp(v0)  # it did diffuse


def test_neumann_slopes_inject_exactly_the_flux():
    # d/dt ∫v dx = D (β - α): with Lees' false boundaries this holds to round-off.
    grid = jn.Grid(length=5_000.0, dx=50.0, dt=0.01, t_stop=5.0,
                   left=jn.Boundary("neumann", -0.01), right=jn.Boundary("neumann", 0.02))
    axon = passive(jn.Axon(radius=2.0))
    sol = jn.simulate_cable(axon, grid, initial_v=np.zeros(grid.n_nodes), record=jn.Record(every=50))
    w = np.full(grid.n_nodes, grid.dx)
    w[[0, -1]] *= 0.5
    diffusion = float(cable.step_ratio(axon, grid.dx, grid.dt)) * grid.dx**2 / grid.dt  # µm²/ms
    np.testing.assert_allclose(np.asarray(sol.v) @ w, diffusion * (0.02 + 0.01) * np.asarray(sol.t), rtol=1e-11, atol=1e-9)


def test_dirichlet_ends_decay_like_the_heat_equation():
    length = 2_000.0
    grid = jn.Grid(length=length, dx=10.0, dt=0.005, t_stop=2.0, left=jn.Boundary.clamped(), right=jn.Boundary.clamped())
    axon = passive(jn.Axon(radius=1.0))
    v0 = 10.0 * np.sin(np.pi * grid.x / length)
    sol = jn.simulate_cable(axon, grid, initial_v=v0, record=jn.Record(every=100))
    diffusion = float(cable.step_ratio(axon, grid.dx, grid.dt)) * grid.dx**2 / grid.dt
    exact = np.exp(-diffusion * (np.pi / length) ** 2 * np.asarray(sol.t))[:, None] * v0
    assert np.all(np.asarray(sol.v)[:, [0, -1]] == 0.0)
    np.testing.assert_allclose(np.asarray(sol.v), exact, atol=1e-4 * 10.0)


@pytest.mark.parametrize("solver", ["thomas", "doubling", "lapack"])
@pytest.mark.parametrize("dt", [0.005, 0.05])  # r = 1.8 and 18 (LAPACK pivots for large r)
def test_nonzero_clamps_hold_exactly_and_set_the_steady_profile(solver, dt):
    length = 2_000.0
    grid = jn.Grid(length=length, dx=20.0, dt=dt, t_stop=80.0,
                   left=jn.Boundary.clamped(5.0), right=jn.Boundary.clamped(-7.0))
    axon = passive(jn.Axon(radius=1.0))
    sol = jn.simulate_cable(axon, grid, record=jn.Record(every=grid.n_steps // 10), linear_solver=solver)
    v = np.asarray(sol.v)
    assert np.all(v[:, 0] == 5.0) and np.all(v[:, -1] == -7.0)
    # After 80 ms (~28 diffusion times L²/π²D) the profile is the straight line.
    np.testing.assert_allclose(v[-1], 5.0 - 12.0 * grid.x / length, atol=1e-9)


def test_resting_cable_stays_at_rest():
    axon = jn.cooley_dodge_axon()
    grid = jn.Grid(length=20_000.0, dx=100.0, dt=0.005, t_stop=10.0)
    sol = jn.simulate_cable(axon, grid, None, record=jn.Record(every=50, threshold=None))
    assert np.max(np.abs(np.asarray(sol.v) - float(sol.v_rest))) < 1e-9


def test_stimulating_the_other_end_mirrors_the_solution():
    axon = jn.cooley_dodge_axon()
    grid = jn.Grid(length=30_000.0, dx=250.0, dt=0.002, t_stop=2.5)
    left = jn.cooley_dodge_stimulus(dx=grid.dx)
    right = left._replace(position=grid.length)
    a = jn.simulate_cable(axon, grid, left, record=jn.Record(every=10))
    b = jn.simulate_cable(axon, grid, right, record=jn.Record(every=10))
    assert float(jnp.max(a.v)) > 80.0  # it fired
    np.testing.assert_allclose(np.asarray(b.v), np.asarray(a.v)[:, ::-1], atol=1e-9)


# --- Acceptance 5: a vmapped radius sweep gives velocity ∝ sqrt(radius).


def test_radius_sweep_velocity_scales_as_sqrt_radius():
    sweep = radius_sweep()
    assert sweep.radii.size == 64
    assert np.all(np.isfinite(sweep.velocities))
    assert abs(sweep.exponent - 0.5) < 0.01


def test_batch_matches_single_runs_and_stores_no_history_by_default():
    grid = jn.Grid(length=20_000.0, dx=250.0, dt=0.002, t_stop=2.0)
    radii = jnp.array([150.0, 238.0, 300.0])
    stim = jn.cooley_dodge_stimulus(dx=grid.dx)
    batch = jn.simulate_cable(jn.cooley_dodge_axon()._replace(radius=radii), grid, stim)
    assert batch.v is None and batch.peak_t.shape == (3, grid.n_nodes)
    for i, a in enumerate(radii):
        one = jn.simulate_cable(jn.cooley_dodge_axon()._replace(radius=float(a)), grid, stim, record=jn.Record.reductions())
        np.testing.assert_allclose(batch.peak_t[i], one.peak_t, rtol=1e-12)
    # A two-dimensional batch (radius x temperature) keeps its shape.
    two_d = jn.cooley_dodge_axon()._replace(
        radius=jnp.array([[150.0, 238.0], [150.0, 238.0]]),
        membrane=jn.cooley_dodge_axon().membrane._replace(temperature=jnp.array([[15.0, 15.0], [20.0, 20.0]])),
    )
    sol = jn.simulate_cable(two_d, grid, stim)
    assert sol.peak_v.shape == (2, 2, grid.n_nodes)


# --- Gradients against central finite differences.


def test_gradients_of_arrival_time_match_finite_differences():
    grid = jn.Grid(length=30_000.0, dx=500.0, dt=0.002, t_stop=3.0)
    base = jn.cooley_dodge_axon()

    def arrival(theta):
        radius, rho, gna, temperature = theta
        axon = jn.Axon(radius, rho, base.membrane._replace(gNa=gna, temperature=temperature))
        sol = jn.simulate_cable(axon, grid, jn.cooley_dodge_stimulus(dx=grid.dx), record=jn.Record.reductions())
        return jn.arrival_time(sol, 25_000.0, "crossing")

    theta = jnp.array([238.0, 35.4, 120.0, 18.5])
    grad = jax.grad(arrival)(theta)
    for i in range(4):
        h = 1e-5 * theta[i]
        e = jnp.zeros(4).at[i].set(h)
        fd = (arrival(theta + e) - arrival(theta - e)) / (2 * h)
        assert float(grad[i]) == pytest.approx(float(fd), rel=1e-5), i


SHORT = jn.Grid(length=30_000.0, dx=500.0, dt=0.002, t_stop=3.0)


def velocity_of_radius(radius):
    """Velocity (m/s) 1.5–2.5 cm on a coarse 3 cm Cooley–Dodge cable, as a function of radius."""
    axon = jn.cooley_dodge_axon()._replace(radius=radius)
    sol = jn.simulate_cable(axon, SHORT, jn.cooley_dodge_stimulus(dx=SHORT.dx), record=jn.Record.reductions())
    return jn.conduction_velocity(sol, 15_000.0, 25_000.0)


def test_velocity_gradient_wrt_radius():
    velocity = velocity_of_radius
    g = jax.grad(velocity)(238.0)
    fd = (velocity(238.0 * (1 + 1e-5)) - velocity(238.0 * (1 - 1e-5))) / (2 * 238.0e-5)
    assert float(g) == pytest.approx(float(fd), rel=1e-5)
    # d ln v / d ln a ≈ 1/2 (the cable is close to, not exactly at, the travelling-wave limit).
    assert float(g) * 238.0 / float(velocity(238.0)) == pytest.approx(0.5, abs=0.03)


def test_velocity_under_jit_and_vmap_of_the_public_functions():
    velocity = velocity_of_radius
    eager = float(velocity(238.0))
    assert float(jax.jit(velocity)(238.0)) == pytest.approx(eager, rel=1e-12)
    both = jax.vmap(velocity)(jnp.array([238.0, 300.0]))
    assert float(both[0]) == pytest.approx(eager, rel=1e-12) and float(both[1]) > eager
    # A run nested in the caller's jit whose inputs are all constants is still traced, not a
    # top-level program (which alone may carry compiler options).
    assert float(jax.jit(lambda: velocity(238.0))()) == pytest.approx(eager, rel=1e-12)


def test_tuned_and_plain_programs_agree_and_traces_use_the_plain_one(monkeypatch):
    seen = []
    assert not cable._inside_trace()
    jax.jit(lambda x: seen.append(cable._inside_trace()) or x)(1.0)
    assert seen == [True]
    tuned = velocity_of_radius(238.0)
    plain_sol = jn.simulate_cable(jn.cooley_dodge_axon(), SHORT, jn.cooley_dodge_stimulus(dx=SHORT.dx),
                                  record=jn.Record.reductions(), tuned=False)
    assert float(jn.conduction_velocity(plain_sol, 15_000.0, 25_000.0)) == pytest.approx(float(tuned), rel=1e-12)
    # tuned="compile": the options that halve compilation (another program), the same values.
    fast_sol = jn.simulate_cable(jn.cooley_dodge_axon(), SHORT, jn.cooley_dodge_stimulus(dx=SHORT.dx),
                                 record=jn.Record.reductions(), tuned="compile")
    assert float(jn.conduction_velocity(fast_sol, 15_000.0, 25_000.0)) == pytest.approx(float(tuned), rel=1e-12)
    for bad in ("fast", None, 2.0):
        with pytest.raises(ValueError, match="tuned must be one of"):
            jn.simulate_cable(jn.cooley_dodge_axon(), SHORT, jn.cooley_dodge_stimulus(dx=SHORT.dx), tuned=bad)
    # tuned="compile" leaves the time loop rolled unless unroll is given; the others unroll by 2.
    unrolls, compiled = [], cable._solve_fast_compile
    monkeypatch.setattr(cable, "_solve_fast_compile", lambda **kw: unrolls.append(kw["unroll"]) or compiled(**kw))
    for unroll in (None, 2):
        jn.simulate_cable(jn.cooley_dodge_axon(), SHORT, jn.cooley_dodge_stimulus(dx=SHORT.dx),
                          record=jn.Record.reductions(), tuned="compile", unroll=unroll)
    assert unrolls == [1, 2]

    def forbidden(**kwargs):
        raise AssertionError("the tuned program ran inside a trace")

    monkeypatch.setattr(cable, "_solve_tuned", forbidden)
    assert float(jax.jit(lambda: velocity_of_radius(238.0))()) == pytest.approx(float(tuned), rel=1e-12)


# --- Failures as values (acceptance 4 of issue 10).


def test_vmap_over_cables_with_a_diverging_and_a_silent_member():
    """8 cables in one vmap: one at 50 °C, where dt = 0.01 ms is beyond the explicit gate update's
    stability (the run blows up), one with a stimulus far below threshold; the other six give
    the single runs' numbers to 1e-12 and the two bad ones carry their codes."""
    grid = jn.Grid(10_000.0, 250.0, 0.01, 2.0)

    def run(temperature, amplitude):
        axon = jn.Axon()._replace(membrane=jn.Axon().membrane._replace(temperature=temperature))
        sol = jn.simulate_cable(axon, grid, jn.Stimulus(amplitude=amplitude, duration=0.2), record=jn.Record.reductions())
        return sol.result, jn.conduction_velocity(sol, 2_000.0, 8_000.0, throw=False), jn.arrival_result(sol, 8_000.0)

    temperatures = jnp.array([10.0, 15.0, 50.0, 20.0, 25.0, 15.0, 30.0, 18.5])
    amplitudes = jnp.full(8, 5_000.0).at[5].set(10.0)
    codes, velocities, arrival = jax.vmap(run)(temperatures, amplitudes)
    assert codes.tolist() == [0, 0, jn.results.DIVERGED, 0, 0, 0, 0, 0]
    assert arrival.tolist() == [0, 0, jn.results.DIVERGED, 0, 0, jn.results.DID_NOT_FIRE, 0, 0]
    assert np.isnan(velocities[2]) and np.isnan(velocities[5])
    for i in (0, 1, 3, 4, 6, 7):
        code, velocity, _ = run(float(temperatures[i]), float(amplitudes[i]))
        assert int(code) == 0 and float(velocities[i]) == pytest.approx(float(velocity), rel=1e-12, abs=0)
    # Eagerly, each failure is an error with its reason.
    with pytest.raises(jn.CableDivergenceError, match="diverged .* at t = "):
        jn.simulate_cable(jn.Axon()._replace(membrane=jn.Axon().membrane._replace(temperature=50.0)), grid,
                          jn.Stimulus(amplitude=5_000.0, duration=0.2))
    silent = jn.simulate_cable(jn.Axon(), grid, jn.Stimulus(amplitude=10.0, duration=0.2))
    with pytest.raises(jn.NumericalError, match="no spike reached"):
        jn.conduction_velocity(silent, 2_000.0, 8_000.0)
    assert np.isnan(float(jn.conduction_velocity(silent, 2_000.0, 8_000.0, throw=False)))
    assert np.isnan(float(jax.jit(lambda s: jn.conduction_velocity(s, 2_000.0, 8_000.0))(silent)))


def test_a_peak_still_rising_at_the_end_is_not_an_arrival():
    grid = jn.Grid(10_000.0, 250.0, 0.01, 1.0)  # the spike starts near the end of the run
    sol = jn.simulate_cable(jn.Axon(), grid, jn.Stimulus(amplitude=5_000.0, duration=0.2, start=0.8))
    assert int(jn.arrival_result(sol, 8_000.0)) == jn.results.DID_NOT_FIRE
    assert np.isnan(float(jn.arrival_time(sol, 8_000.0, throw=False)))


def test_float32_when_asked_is_float32_throughout():
    grid = jn.Grid(20_000.0, 250.0, 0.002, 1.5)
    stimulus = jn.cooley_dodge_stimulus()
    record = jn.Record(every=10, probes=(1_000.0,))
    single = jn.simulate_cable(jn.Axon(), grid, stimulus, record=record, dtype=jnp.float32)
    batch = jn.simulate_cable(jn.Axon(radius=jnp.array([200.0, 238.0])), grid, stimulus, dtype=jnp.float32)
    for solution in (single, batch):
        floats = {str(leaf.dtype) for leaf in jax.tree.leaves(solution) if jnp.issubdtype(leaf.dtype, jnp.floating)}
        assert floats == {"float32"}
    reference = jn.simulate_cable(jn.Axon(), grid, stimulus, record=record)
    assert {str(leaf.dtype) for leaf in jax.tree.leaves(reference) if jnp.issubdtype(leaf.dtype, jnp.floating)} == {"float64"}
    np.testing.assert_allclose(single.peak_t, reference.peak_t, rtol=1e-4)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        jn.simulate_cable(jn.Axon(), grid, stimulus, dtype=jnp.int32)


def test_review_fixes_positions_codes_and_limits():
    grid = jn.Grid(10_000.0, 250.0, 0.01, 2.0)
    sol = jn.simulate_cable(jn.Axon(), grid, jn.Stimulus(5_000.0, 0.0, 0.2))
    # Exactly on a node whose neighbour was never crossed: the node's own time, not inf * 0.
    crossing = np.asarray(sol.crossing_t)
    reached = int(np.max(np.nonzero(np.isfinite(crossing))[0]))
    if reached < grid.n_nodes - 1:
        assert float(jn.arrival_time(sol, reached * 250.0, "crossing")) == pytest.approx(crossing[reached])
    assert float(jn.arrival_time(sol, 5_000.0, "crossing")) == pytest.approx(crossing[20])
    # Off the cable under jit (positions traced, so not refused before): NaN and OUTSIDE.
    off = jax.jit(lambda s, x: (jn.arrival_time(s, x, throw=False), jn.arrival_result(s, x)))(sol, 12_000.0)
    assert np.isnan(float(off[0])) and int(off[1]) == jn.results.OUTSIDE
    # converged_velocity with throw=False: NaN and the code, no error.
    silent = jn.converged_velocity(jn.Axon(), jn.Grid(10_000.0, 500.0, 0.02, 1.0), jn.Stimulus(10.0, 0.0, 0.2),
                                   2_000.0, 8_000.0, throw=False)
    assert np.isnan(silent.velocity) and silent.result == jn.results.DID_NOT_FIRE
    # Size limits before anything runs.
    with pytest.raises(ValueError, match="nodes"):
        jn.simulate_cable(jn.Axon(), jn.Grid(70_000.0, 0.005, 0.001, 0.001))
    with pytest.raises(ValueError, match="recorded history"):
        jn.simulate_cable(jn.Axon(), jn.Grid(70_000.0, 10.0, 0.0001, 50.0), record=jn.Record())
    # A continued run: its batch must match, and a pulse after its start is accepted.
    with pytest.raises(ValueError, match="initial_state.v must have shape"):
        jn.simulate_cable(jn.Axon(radius=jnp.array([200.0, 238.0, 300.0])), grid, initial_state=jn.simulate_cable(
            jn.Axon(radius=jnp.array([200.0, 238.0])), grid).final)
    later = jn.simulate_cable(jn.Axon(), grid, jn.Stimulus(5_000.0, 2.5, 0.2), initial_state=sol.final)
    quiet = jn.simulate_cable(jn.Axon(), grid, jn.Stimulus(5_000.0, 0.0, 0.2), initial_state=sol.final)
    assert float(later.peak_v[0]) > float(quiet.peak_v[0]) + 10.0  # the pulse at 2.5 ms went in


def test_a_run_continues_from_its_final_state():
    grid = jn.Grid(20_000.0, 250.0, 0.002, 1.5)
    stimulus = jn.cooley_dodge_stimulus()
    whole = jn.simulate_cable(jn.Axon(), grid, stimulus, record=jn.Record(every=5))
    first = jn.simulate_cable(jn.Axon(), dataclasses.replace(grid, t_stop=1.0), stimulus)
    rest = jn.simulate_cable(jn.Axon(), dataclasses.replace(grid, t_stop=0.5), stimulus, initial_state=first.final,
                             record=jn.Record(every=5))
    assert float(rest.t[0]) == pytest.approx(1.0) and float(rest.final.t) == pytest.approx(1.5)
    np.testing.assert_allclose(rest.v, whole.v[100:], rtol=0, atol=1e-12)
    later = np.asarray(whole.peak_t) > 1.0
    np.testing.assert_allclose(np.asarray(rest.peak_t)[later], np.asarray(whole.peak_t)[later], rtol=1e-13)
    # Batches continue too.
    radii = jnp.array([200.0, 238.0])
    batch_first = jn.simulate_cable(jn.Axon(radius=radii), dataclasses.replace(grid, t_stop=1.0), stimulus)
    batch_rest = jn.simulate_cable(jn.Axon(radius=radii), dataclasses.replace(grid, t_stop=0.5), stimulus,
                                   initial_state=batch_first.final)
    np.testing.assert_allclose(batch_rest.final.v[1], rest.final.v, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="not both"):
        jn.simulate_cable(jn.Axon(), grid, stimulus, initial_state=first.final, initial_v=np.zeros(81))


# --- Bad input: ValueError naming the argument, raised before anything is compiled.


@pytest.fixture
def no_compile(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("compiled before validating")

    monkeypatch.setattr(cable, "_dispatch", forbidden)


GRID = jn.Grid(length=10_000.0, dx=250.0, dt=0.01, t_stop=1.0)


@pytest.mark.parametrize(
    "axon, stimulus, match",
    [
        (jn.Axon(radius=0.0), None, "axon.radius"),
        (jn.Axon(radius=-3.0), None, "axon.radius"),
        (jn.Axon(rho=float("nan")), None, "axon.rho"),
        (jn.Axon(membrane=jn.HHParams(gNa=float("inf"))), None, "axon.membrane.gNa"),
        (jn.Axon(membrane=jn.HHParams(Cm=0.0)), None, "axon.membrane.Cm"),
        (jn.Axon(membrane=jn.HHParams(gK=-1.0)), None, "axon.membrane.gK"),
        (jn.Axon(), jn.Stimulus(amplitude=float("nan")), "stimulus.amplitude"),
        (jn.Axon(), jn.Stimulus(position=20_000.0), "stimulus must lie on the cable"),
        (jn.Axon(radius=jnp.ones(3)), jn.Stimulus(amplitude=jnp.ones(4)), "same shape"),
        (jn.Axon(radius="abc"), None, "axon.radius must be a number"),
        (jn.Axon(radius=None), None, "axon.radius must be a number"),
        (jn.Axon(membrane=jn.HHParams(gNa="120")), None, "axon.membrane.gNa must be a number"),
        (jn.Axon(), jn.Stimulus(amplitude=None), "stimulus.amplitude must be a number"),
        (jn.Axon(membrane=jn.HHParams(temperature=-300.0)), None, "above absolute zero"),
        (jn.Axon(membrane=jn.HHParams(temperature=1e6)), None, r"temperature must lie in \[-10.0, 50.0\]"),
        (jn.Axon(), jn.Stimulus(amplitude=100.0, duration=0.001), "inject nothing"),
        (jn.Axon(), jn.Stimulus(amplitude=100.0, duration=1.0, start=5.0), "inject nothing"),
        ("not an axon", None, "axon must be a jaxneuro.Axon"),
    ],
)
def test_bad_parameters_raise_before_compiling(no_compile, axon, stimulus, match):
    with pytest.raises(ValueError, match=match):
        jn.simulate_cable(axon, GRID, stimulus)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(length=10.0, dx=250.0, dt=0.01, t_stop=1.0), "length"),
        (dict(length=1000.0, dx=0.0, dt=0.01, t_stop=1.0), "dx"),
        (dict(length=1000.0, dx=10.0, dt=0.0, t_stop=1.0), "dt"),
        (dict(length=1000.0, dx=10.0, dt=-1.0, t_stop=1.0), "dt"),
        (dict(length=1000.0, dx=10.0, dt=0.1, t_stop=0.05), "t_stop"),
        (dict(length=1000.0, dx=10.0, dt=0.1, t_stop=float("nan")), "t_stop"),
        (dict(length=1000.0, dx=300.0, dt=0.1, t_stop=1.0), "whole number of dx"),
    ],
)
def test_bad_grids_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jn.Grid(**kwargs)


def test_bad_records_and_initial_state_raise(no_compile):
    with pytest.raises(ValueError, match="probes"):
        jn.simulate_cable(jn.Axon(), GRID, record=jn.Record(probes=(-5.0,)))
    with pytest.raises(ValueError, match="every"):
        jn.Record(every=0)
    with pytest.raises(ValueError, match="initial_v"):
        jn.simulate_cable(jn.Axon(), GRID, initial_v=np.zeros(3))
    with pytest.raises(ValueError, match="initial_v must be finite"):
        jn.simulate_cable(jn.Axon(), GRID, initial_v=np.full(GRID.n_nodes, np.nan))


def test_divergence_is_reported_with_time_and_place():
    v0 = np.zeros(GRID.n_nodes)
    v0[12] = -1e5  # exp(1e5/80) overflows: the run cannot stay finite
    with pytest.raises(jn.CableDivergenceError, match=r"t = 0.0\d* ms, x = \d+ µm"):
        jn.simulate_cable(jn.Axon(radius=1.0), GRID, initial_v=v0)
    sol = jn.simulate_cable(jn.Axon(radius=1.0), GRID, initial_v=v0, throw=False)
    assert int(sol.diverged_at_step) >= 1 and int(sol.diverged_at_node) >= 0
    assert int(sol.result) == jn.results.DIVERGED


def test_velocity_refuses_when_no_spike_arrived():
    sol = jn.simulate_cable(jn.Axon(), GRID, jn.Stimulus(amplitude=1.0, duration=0.1))
    with pytest.raises(jn.NumericalError, match="no spike reached"):
        jn.conduction_velocity(sol, 2_000.0, 8_000.0)
    with pytest.raises(ValueError, match="x2 must lie on the cable"):
        jn.conduction_velocity(sol, 2_000.0, 80_000.0)
    with pytest.raises(ValueError, match="x1 < x2"):
        jn.conduction_velocity(sol, 8_000.0, 2_000.0)


# --- The stimulus is physical: the same current whatever dx.


@pytest.mark.parametrize("position, width", [(0.0, 0.0), (1234.5, 0.0), (10_000.0, 0.0), (1000.0, 777.0), (0.0, 500.0)])
def test_stimulus_total_current_is_independent_of_dx(position, width):
    stim = jn.Stimulus(amplitude=3.0, duration=1.0, position=position, width=width)
    for dx in (250.0, 125.0, 50.0):
        grid = jn.Grid(length=10_000.0, dx=dx, dt=0.01, t_stop=1.0)
        area = 2 * np.pi * 2.0 * np.full(grid.n_nodes, dx) * 1e-8  # cm², radius 2 µm
        area[[0, -1]] /= 2
        total_nA = float(np.sum(np.asarray(cable.stimulus_density(stim, 2.0, grid)) * area) * 1e3)
        assert total_nA == pytest.approx(3.0, rel=1e-12)


def test_refining_dx_keeps_the_spike():
    # The notebook's density-on-one-node stimulus loses half its current when dx halves; ours does not.
    axon = jn.cooley_dodge_axon()
    stim = jn.cooley_dodge_stimulus()
    for dx in (250.0, 125.0):
        sol = jn.simulate_cable(axon, jn.Grid(30_000.0, dx, 0.002, 3.0), stim, record=jn.Record.reductions())
        assert float(sol.peak_v[-1]) > 80.0


# --- Recording.


def test_every_k_probes_and_history_agree():
    grid = jn.Grid(length=20_000.0, dx=250.0, dt=0.002, t_stop=2.0)
    stim = jn.cooley_dodge_stimulus(dx=grid.dx)
    full = jn.simulate_cable(jn.cooley_dodge_axon(), grid, stim, record=jn.Record(gates=True))
    sparse = jn.simulate_cable(jn.cooley_dodge_axon(), grid, stim, record=jn.Record(every=7, probes=(5000.0, 5125.0)))
    assert full.v.shape == (grid.n_steps + 1, grid.n_nodes) and full.gates.m.shape == full.v.shape
    np.testing.assert_allclose(sparse.t, np.arange(0, grid.n_steps + 1, 7) * grid.dt)
    np.testing.assert_allclose(sparse.v, full.v[::7], rtol=0, atol=1e-12)
    np.testing.assert_allclose(sparse.probe_v[:, 0], full.v[::7, 20], atol=1e-12)
    np.testing.assert_allclose(sparse.probe_v[:, 1], 0.5 * (full.v[::7, 20] + full.v[::7, 21]), atol=1e-12)
    # Online peaks agree with the parabola through the recorded history around its maximum.
    v = np.asarray(full.v[:, 40])
    k = int(np.argmax(v))
    off = 0.5 * (v[k - 1] - v[k + 1]) / (v[k - 1] - 2 * v[k] + v[k + 1])
    assert float(full.peak_t[40]) == pytest.approx((k + off) * grid.dt, rel=1e-12)
    # The final state holds the last two levels, to continue the run.
    np.testing.assert_allclose(full.final.v, full.v[-1])
    np.testing.assert_allclose(full.final.v_previous, full.v[-2])
    np.testing.assert_allclose(full.final.gates_previous.m, full.gates.m[-2])


def test_batched_history_probes_and_initial_state_match_single_runs():
    # Batches run node-major inside; every recorded field must come back batch-first.
    grid = jn.Grid(length=10_000.0, dx=250.0, dt=0.005, t_stop=1.0)
    radii = jnp.array([200.0, 260.0])
    stim = jn.cooley_dodge_stimulus(dx=grid.dx)
    record = jn.Record(every=10, gates=True, probes=(2_000.0, 5_125.0))
    initial_v = jnp.stack([jnp.linspace(0.0, 2.0, grid.n_nodes), jnp.linspace(1.0, 0.0, grid.n_nodes)])
    batch = jn.simulate_cable(jn.cooley_dodge_axon()._replace(radius=radii), grid, stim, record=record, initial_v=initial_v)
    assert batch.v.shape == (2, grid.n_steps // 10 + 1, grid.n_nodes) and batch.probe_v.shape == (2, batch.t.size, 2)
    for i in range(2):
        one = jn.simulate_cable(jn.cooley_dodge_axon()._replace(radius=float(radii[i])), grid, stim,
                                record=record, initial_v=initial_v[i])
        for got, want in ((batch.v[i], one.v), (batch.gates.m[i], one.gates.m), (batch.probe_v[i], one.probe_v),
                          (batch.final.v[i], one.final.v), (batch.peak_t[i], one.peak_t)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_linear_solvers_agree():
    grid = jn.Grid(length=20_000.0, dx=250.0, dt=0.002, t_stop=2.0)
    stim = jn.cooley_dodge_stimulus(dx=grid.dx)
    runs = [jn.simulate_cable(jn.cooley_dodge_axon(), grid, stim, record=jn.Record.reductions(), linear_solver=s)
            for s in ("thomas", "doubling", "lapack")]
    for other in runs[1:]:
        np.testing.assert_allclose(other.peak_t, runs[0].peak_t, rtol=1e-11)
    radii = jnp.array([200.0, 238.0])
    batches = [jn.simulate_cable(jn.cooley_dodge_axon()._replace(radius=radii), grid, stim, linear_solver=s)
               for s in ("thomas", "doubling", "lapack")]
    np.testing.assert_allclose(batches[0].peak_t[1], runs[0].peak_t, rtol=1e-11)
    for other in batches[1:]:
        np.testing.assert_allclose(other.peak_t, batches[0].peak_t, rtol=1e-11)


@pytest.mark.parametrize("record", [jn.Record(history=False, probes=(2_000.0, 6_000.0), peaks=False, threshold=None),
                                    jn.Record(every=5), jn.Record.reductions()], ids=["probes", "every-5", "reductions"])
def test_checkpoint_levels_change_neither_values_nor_gradients(record):
    grid = jn.Grid(length=10_000.0, dx=500.0, dt=0.01, t_stop=1.03)  # 103 steps: blocks with remainders

    def loss(radius, checkpoint):
        sol = jn.solve_cable(jn.Axon(radius=radius), grid, jn.cooley_dodge_stimulus(dx=500.0), record,
                             checkpoint=checkpoint)
        leaves = [leaf for leaf in (sol.v, sol.probe_v, sol.peak_v, sol.final.v) if leaf is not None]
        return sum(jnp.sum(jnp.where(jnp.isfinite(leaf), leaf, 0.0) ** 2) for leaf in leaves)

    plain = jax.value_and_grad(loss)(238.0, 0)
    # Each level's gradient compiles for ~10 s: one and three levels for the probes that fitting
    # records; two levels (blocks of blocks, each with a remainder) for the sampled chunks.
    for checkpoint in (1, 3) if record.probes else (2,):
        value, grad = jax.value_and_grad(loss)(238.0, checkpoint)
        assert float(value) == pytest.approx(float(plain[0]), rel=1e-12)
        assert float(grad) == pytest.approx(float(plain[1]), rel=1e-9)


def test_a_failed_arrival_does_not_poison_the_derivatives_of_the_others():
    """A batch member that never crossed at x1, x2 (times +inf) has a NaN velocity with its
    code; the derivative of the others' velocities stays finite (no 0 · inf)."""
    grid = jn.Grid(length=10_000.0, dx=500.0, dt=0.01, t_stop=1.5)
    sol = jn.simulate_cable(jn.cooley_dodge_axon(), grid, jn.cooley_dodge_stimulus(dx=grid.dx),
                            record=jn.Record.reductions())
    crossings = jnp.stack([sol.crossing_t, jnp.full_like(sol.crossing_t, jnp.inf)])

    def total(times):
        v = jn.conduction_velocity(sol._replace(crossing_t=times), 2_000.0, 6_000.0, "crossing", throw=False)
        return jnp.nansum(v), v

    (_, v), grad = jax.value_and_grad(total, has_aux=True)(crossings)
    assert np.isfinite(float(v[0])) and np.isnan(float(v[1]))
    assert np.all(np.isfinite(np.asarray(grad)))
    assert np.any(np.asarray(grad[0]) != 0.0) and np.all(np.asarray(grad[1]) == 0.0)


def test_converged_velocity_refuses_an_unknown_measure_and_a_run_without_its_times():
    grid = jn.Grid(length=10_000.0, dx=500.0, dt=0.01, t_stop=1.5)
    with pytest.raises(ValueError, match="measure"):
        jn.cable.converged_velocity(jn.cooley_dodge_axon(), grid, jn.cooley_dodge_stimulus(dx=grid.dx), 2_000.0,
                                    6_000.0, measure="Peak")
    no_peaks = jn.simulate_cable(jn.cooley_dodge_axon(), grid, jn.cooley_dodge_stimulus(dx=grid.dx),
                                 record=jn.Record(history=False, peaks=False))
    with pytest.raises(ValueError, match="no peak times"):
        jn.cable.converged_velocity(jn.cooley_dodge_axon(), grid, jn.cooley_dodge_stimulus(dx=grid.dx), 2_000.0,
                                    6_000.0, coarsest=no_peaks)
