import jax
import jax.numpy as jnp
import pytest

from jaxneuro import results, rootfinding


def test_newton_converges_and_reports_a_flat_slope_as_stalled():
    root, code = rootfinding.newton(lambda x: x * x - 2.0, jnp.array([1.0, 3.0]))
    assert root.tolist() == pytest.approx([2**0.5, 2**0.5], rel=1e-15) and code.tolist() == [0, 0]
    assert int(rootfinding.newton(lambda x: x * x + 1.0, 0.0)[1]) == results.STALLED  # slope 0, no root
    assert int(rootfinding.newton(lambda x: jnp.tanh(x) - 2.0, 0.0)[1]) == results.STALLED  # slope underflows
    assert int(rootfinding.newton(lambda x: x * x - 2.0, 1.0, iterations=2)[1]) == results.MAX_ITERATIONS
    assert int(rootfinding.newton(lambda x: jnp.exp(x) * 0.0, 3.0)[1]) == results.SUCCESSFUL  # f == 0 everywhere


def test_bisect_refines_and_refuses_a_non_bracket_when_asked():
    side = lambda x, c: (jnp.sign(x * x - 2.0), c)  # noqa: E731
    lo, hi, _, code, _ = rootfinding.bisect(side, jnp.array(1.0), jnp.array(2.0), atol=1e-12)
    assert int(code) == 0 and float(hi - lo) <= 1e-12 and float(lo) == pytest.approx(2**0.5, abs=1e-12)
    lo, hi, k, code, _ = rootfinding.bisect(side, jnp.array(2.0), jnp.array(3.0), atol=1e-12, check_ends=True)
    assert int(code) == results.NO_BRACKET and int(k) == 0 and (float(lo), float(hi)) == (2.0, 3.0)
    stall = lambda x, c: (jnp.zeros_like(x), c)  # noqa: E731
    assert int(rootfinding.bisect(stall, jnp.array(0.0), jnp.array(1.0), atol=1e-9)[3]) == results.STALLED
    assert int(rootfinding.bisect(side, jnp.array(1.0), jnp.array(2.0), atol=0.0, max_iterations=5)[3]) == \
        results.MAX_ITERATIONS


@pytest.mark.parametrize("sections", [1, 3])
def test_bisect_checks_the_ends_inside_its_loop_and_traces_side_once(sections):
    traces = []

    def side(x, carry):  # the carry counts the bisection's calls; the ends' calls do not pass theirs on
        traces.append(x.shape)
        return jnp.sign(x * x - 2.0), carry + 1

    plain = rootfinding.bisect(side, jnp.array(1.0), jnp.array(2.0), jnp.array(0), atol=1e-12, sections=sections)
    traces.clear()
    lo, hi, k, code, calls = rootfinding.bisect(side, jnp.array(1.0), jnp.array(2.0), jnp.array(0), atol=1e-12,
                                                sections=sections, check_ends=True)
    assert traces == [(sections,)]  # one trace: the ends are the loop's first trials
    assert (float(lo), float(hi), int(k), int(code), int(calls)) == tuple(float(a) if i < 2 else int(a)
                                                                          for i, a in enumerate(plain))
    for lower, upper in ((1.5, 2.0), (0.0, 1.0), (2.0, 1.0)):  # both ends on one side, or swapped
        lo, hi, k, code, calls = rootfinding.bisect(side, jnp.array(lower), jnp.array(upper), jnp.array(0),
                                                    atol=1e-12, sections=sections, check_ends=True)
        assert int(code) == results.NO_BRACKET and int(k) == int(calls) == 0 and (float(lo), float(hi)) == (lower, upper)


def test_newton_without_iterations_and_bisect_checking_ends_under_vmap():
    root, code = rootfinding.newton(lambda x: x * x - 2.0, jnp.array(1.0), iterations=0)
    assert float(root) == 1.0 and int(code) == results.MAX_ITERATIONS
    # A smooth function has a finite gradient of its 0-step "root" (the start itself).
    assert float(jax.grad(lambda t: rootfinding.newton(lambda x: x - t, t, iterations=0)[0])(2.0)) == 1.0
    side = lambda x, c: (jnp.sign(x * x - 2.0), c)  # noqa: E731
    for sections in (1, 2):
        codes = jax.vmap(lambda lo: rootfinding.bisect(side, lo, jnp.array(2.0), atol=1e-12, sections=sections,
                                                       check_ends=True)[3])(jnp.array([1.0, 1.5, 1.2]))
        assert codes.tolist() == [results.SUCCESSFUL, results.NO_BRACKET, results.SUCCESSFUL]
