"""Hodgkin–Huxley membrane kinetics (pure functions of the membrane potential).

Conventions (see DESIGN.md): ``v`` is the deviation from rest in mV, as in Hodgkin & Huxley
(1952) and the notebook; rates are in 1/ms at 6.3 °C and are multiplied by the Q10 factor
``3 ** ((T - 6.3) / 10)``; conductance densities in mS/cm², capacitance in µF/cm², current
densities in µA/cm² (outward positive for the ionic current).

The rate functions ``alpha_n`` and ``alpha_m`` have removable singularities (0/0 at v = 10 and
v = 25 mV).  They are written as ``x / expm1(x)`` with a series branch near x = 0 and the
"double where" idiom, so both the values and the gradients are finite and correct there.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import results, rootfinding, validation

__all__ = [
    "BETA_M_EXPONENT_HH",
    "BETA_M_EXPONENT_NOTEBOOK",
    "REFERENCE_TEMPERATURE",
    "Gates",
    "HHParams",
    "alpha_h",
    "alpha_m",
    "alpha_n",
    "beta_h",
    "beta_m",
    "beta_n",
    "gate_derivatives",
    "ionic_current",
    "length_constant",
    "membrane_conductance",
    "q10_factor",
    "resting_potential",
    "solve_resting_potential",
    "steady_state",
]

Array = jax.Array

#: β_m exponent printed in the notebook (1/mV).
BETA_M_EXPONENT_NOTEBOOK = 0.0555
#: β_m exponent of Hodgkin & Huxley (1952) and NEURON's ``hh`` mechanism (1/mV).
BETA_M_EXPONENT_HH = 1.0 / 18.0
#: Temperature at which the H&H rates were measured (°C).
REFERENCE_TEMPERATURE = 6.3


class HHParams(NamedTuple):
    """Membrane parameters of the Hodgkin–Huxley model (a pytree; leaves may be batched).

    Attributes:
        Cm: membrane capacitance (µF/cm²).
        gNa, gK, gL: maximal sodium, potassium and leak conductance densities (mS/cm²).
        ENa, EK, EL: reversal potentials, as deviations from rest (mV).
        temperature: temperature (°C); rates scale by q10**((T - 6.3)/10).
        beta_m_exponent: the k of β_m = 4 exp(-k v) (1/mV); notebook 0.0555, H&H 1/18.
        q10: the Q10 base (dimensionless, > 0): rates scale by q10**((T - 6.3)/10); H&H's 3.
    """

    Cm: ArrayLike = 1.0
    gNa: ArrayLike = 120.0
    ENa: ArrayLike = 115.0
    gK: ArrayLike = 36.0
    EK: ArrayLike = -12.0
    gL: ArrayLike = 0.3
    EL: ArrayLike = 10.5987
    temperature: ArrayLike = REFERENCE_TEMPERATURE
    beta_m_exponent: ArrayLike = BETA_M_EXPONENT_NOTEBOOK
    q10: ArrayLike = 3.0


class Gates(NamedTuple):
    """Gating variables n, m, h (dimensionless, in [0, 1]); leaves share one shape."""

    n: Array
    m: Array
    h: Array


def q10_factor(temperature: ArrayLike, base: ArrayLike = 3.0) -> Array:
    """Rate multiplier base**((T - 6.3)/10) for a temperature in °C (``base``: the Q10, H&H's 3)."""
    return jnp.asarray(base) ** ((jnp.asarray(temperature) - REFERENCE_TEMPERATURE) / 10.0)


def _x_over_expm1(x: ArrayLike, expm1_x: ArrayLike) -> Array:
    """x / (exp(x) - 1) given exp(x) - 1; finite, with a finite slope (-1/2), at x = 0."""
    near_zero = jnp.abs(x) < 1e-2
    # Bernoulli series; the first omitted term, x**6/30240, is below 4e-17 on |x| < 1e-2.
    series = 1.0 - x / 2.0 + x * x / 12.0 - x**4 / 720.0
    # The "double where": the unused branch must not see 0/0, or its NaN leaks into grads.
    return jnp.where(near_zero, series, jnp.where(near_zero, 1.0, x) / jnp.where(near_zero, 1.0, expm1_x))


class _Exponentials(NamedTuple):
    """exp(-v/10), exp(-v/20) and exp(-v/80): every v-dependent exponential of the H&H rates
    except β_m's (whose exponent is a parameter).  One exp and three squarings give all three;
    on the CPU transcendental functions dominate the cost of a cable step."""

    tenth: Array
    twentieth: Array
    eightieth: Array


def _exponentials(v: ArrayLike) -> _Exponentials:
    # The barrier stores exp(-v/80) once; without it XLA rewrites the squarings back into
    # exp(-v/20) and exp(-v/10) and computes three exponentials (measured in the cable step).
    eightieth = jax.lax.optimization_barrier(jnp.exp(-jnp.asarray(v) / 80.0))
    twentieth = jnp.square(jnp.square(eightieth))
    return _Exponentials(jnp.square(twentieth), twentieth, eightieth)


# exp((c - v)/10) - 1 = e^(c/10) exp(-v/10) - 1.  Near the removable singularities this
# loses a few bits to cancellation (relative error < 1e-13 where |c - v| >= 0.1 mV); closer
# in, the series takes over.
_E1, _E25, _E3 = math.exp(1.0), math.exp(2.5), math.exp(3.0)


def _alpha_n(v, ex: _Exponentials):
    return 0.1 * _x_over_expm1((10.0 - v) / 10.0, _E1 * ex.tenth - 1.0)


def _beta_n(v, ex: _Exponentials):
    return 0.125 * ex.eightieth


def _alpha_m(v, ex: _Exponentials):
    return _x_over_expm1((25.0 - v) / 10.0, _E25 * ex.tenth - 1.0)


def _alpha_h(v, ex: _Exponentials):
    return 0.07 * ex.twentieth


def _beta_h(v, ex: _Exponentials):
    return 1.0 / (_E3 * ex.tenth + 1.0)


def alpha_n(v: ArrayLike) -> Array:
    """α_n(v) = 0.01 (10 - v) / (exp((10 - v)/10) - 1), 1/ms at 6.3 °C (0.1 at v = 10)."""
    return _alpha_n(jnp.asarray(v), _exponentials(v))


def beta_n(v: ArrayLike) -> Array:
    """β_n(v) = 0.125 exp(-v/80), 1/ms at 6.3 °C."""
    return _beta_n(jnp.asarray(v), _exponentials(v))


def alpha_m(v: ArrayLike) -> Array:
    """α_m(v) = 0.1 (25 - v) / (exp((25 - v)/10) - 1), 1/ms at 6.3 °C (1 at v = 25)."""
    return _alpha_m(jnp.asarray(v), _exponentials(v))


def beta_m(v: ArrayLike, exponent: ArrayLike = BETA_M_EXPONENT_NOTEBOOK) -> Array:
    """β_m(v) = 4 exp(-exponent v), 1/ms at 6.3 °C."""
    return 4.0 * jnp.exp(-exponent * jnp.asarray(v))


def alpha_h(v: ArrayLike) -> Array:
    """α_h(v) = 0.07 exp(-v/20), 1/ms at 6.3 °C."""
    return _alpha_h(jnp.asarray(v), _exponentials(v))


def beta_h(v: ArrayLike) -> Array:
    """β_h(v) = 1 / (exp((30 - v)/10) + 1), 1/ms at 6.3 °C."""
    return _beta_h(jnp.asarray(v), _exponentials(v))


def _rates(v: ArrayLike, params: HHParams):
    v = jnp.asarray(v)
    ex = _exponentials(v)
    # Each gate's rates are left to fuse into that gate's update (one pass over the nodes per
    # gate); only the exponential they share is stored (see _exponentials).
    return (
        (_alpha_n(v, ex), _beta_n(v, ex)),
        (_alpha_m(v, ex), beta_m(v, params.beta_m_exponent)),
        (_alpha_h(v, ex), _beta_h(v, ex)),
    )


def steady_state(v: ArrayLike, params: HHParams = HHParams()) -> Gates:
    """Steady-state gates x_inf = α/(α + β) at potential ``v`` (mV); independent of T."""
    _check_params(params)
    return Gates(*(a / (a + b) for a, b in _rates(v, params)))


def gate_derivatives(v: ArrayLike, gates: Gates, params: HHParams = HHParams()) -> Gates:
    """dn/dt, dm/dt, dh/dt (1/ms) = Q10 (α (1 - x) - β x), with Q10 = params.q10**((T - 6.3)/10)."""
    _check_params(params)
    q = q10_factor(params.temperature, params.q10)
    return Gates(*(q * (a * (1.0 - x) - b * x) for (a, b), x in zip(_rates(v, params), gates)))


def ionic_current(v: ArrayLike, gates: Gates, params: HHParams = HHParams()) -> Array:
    """Total ionic current density (µA/cm², outward positive) at potential ``v`` (mV)."""
    _check_params(params)
    n, m, h = gates
    return (
        params.gNa * m**3 * h * (v - params.ENa)
        + params.gK * n**4 * (v - params.EK)
        + params.gL * (v - params.EL)
    )


def membrane_conductance(v: ArrayLike = 0.0, params: HHParams = HHParams()) -> Array:
    """Steady-state chord conductance gK n∞⁴ + gNa m∞³ h∞ + gL at ``v`` (mS/cm²).

    At v = 0 with the notebook's defaults this is 0.67725364844574128 mS/cm² (the notebook's
    ``sigma_m_rest`` = 0.00067725... S/cm²).
    """
    _check_params(params)
    n, m, h = steady_state(v, params)
    return params.gK * n**4 + params.gNa * m**3 * h + params.gL


def solve_resting_potential(params: HHParams = HHParams(), iterations: int = 12):
    """Potential (mV) where the steady-state ionic current vanishes, by Newton from v = 0, and
    its result code (:mod:`jaxneuro.results`; ``MAX_ITERATIONS`` if the last Newton step was
    still above 1e-10 mV (1e-4 mV in float32), ``DIVERGED`` if it left the numbers).

    Returns:
        ``(v_rest, result)``, each of the broadcast shape of the parameter leaves.
    """

    def steady_current(v):
        return ionic_current(v, steady_state(v, params), params)

    dtype = jnp.result_type(*(jnp.asarray(leaf) for leaf in params))
    start = jnp.zeros(jnp.broadcast_shapes(*(jnp.shape(leaf) for leaf in params)), dtype)
    atol = 1e-10 if dtype == jnp.float64 else 1e-4  # float32: the current's rounding, ~1e-5 mV
    return rootfinding.newton(steady_current, start, iterations=iterations, rtol=0.0, atol=atol)


_solve_resting_potential = solve_resting_potential  # for use inside a caller's program
_solve_resting_potential_jit = jax.jit(solve_resting_potential, static_argnames=("iterations",))


def _check_params(params) -> None:
    """``ValueError`` naming the leaf (``params.gNa`` ...) for non-numeric, non-finite or
    out-of-range membrane parameters (concrete leaves only; tracers pass)."""
    if not isinstance(params, HHParams):
        raise ValueError(f"params must be a jaxneuro.HHParams, got {type(params).__name__}")
    for name, leaf in zip(HHParams._fields, params):
        if name == "temperature":
            validation.check_temperature("params.temperature", leaf)
        else:
            validation.check_number(f"params.{name}", leaf, positive=name in ("Cm", "q10"),
                                    non_negative=name in ("gNa", "gK", "gL"))


def solve_resting_potential(params: HHParams = HHParams(), iterations: int = 12):  # noqa: F811
    _check_params(params)
    validation.check_integer("iterations", iterations, minimum=1)
    return _solve_resting_potential_jit(params, iterations)


solve_resting_potential.__doc__ = _solve_resting_potential.__doc__


def resting_potential(params: HHParams = HHParams(), iterations: int = 12, *, throw: bool = True) -> Array:
    """Potential (mV from the nominal rest) where the steady-state ionic current vanishes.

    Newton from v = 0 (:func:`solve_resting_potential`).  With the notebook's EL = 10.5987 the
    rest is within a few µV of 0.  If the steady-state current has no slope (all conductances
    zero) the start value 0 is returned unchanged.

    Args:
        params: membrane parameters (leaves may be batched).
        iterations: Newton steps.
        throw: raise :class:`jaxneuro.results.NumericalError` (eagerly) if Newton did not converge.

    Returns:
        The resting potential (mV), of the batch shape of ``params``.

    Examples:
        >>> from jaxneuro import membrane
        >>> abs(float(membrane.resting_potential(membrane.HHParams()))) < 1e-2
        True
    """
    _check_params(params)
    v, result = (_solve_resting_potential_jit if results.is_concrete(params) else _solve_resting_potential)(
        params, iterations)
    if throw:
        results.raise_if_failed(result, "resting potential")
    return v


def length_constant(
    radius: ArrayLike, rho: ArrayLike, params: HHParams = HHParams(), v: ArrayLike = 0.0
) -> Array:
    """Resting length constant λ = sqrt(a / (2 ρ g_m)) in µm.

    Args:
        radius: axon radius a (µm).
        rho: intracellular resistivity (Ω·cm).
        params: membrane parameters (g_m is the chord conductance at ``v``).
        v: potential at which the membrane conductance is taken (mV), 0 as in the notebook.
    """
    g_m = membrane_conductance(v, params) * 1e-3  # S/cm²
    radius_cm = jnp.asarray(radius) * 1e-4
    return jnp.sqrt(radius_cm / (2.0 * rho * g_m)) * 1e4
