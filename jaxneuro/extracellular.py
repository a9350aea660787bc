"""The extracellular potential of an axon: the line-source formula (notebook eqs. 2–10).

A membrane current density i_m(x) = π a² σ_i ∂²V/∂x² (eq. 7) along the axis, in a homogeneous
medium of conductivity σ_e, gives at an electrode a distance h from the axis and X along it

    Φ_e = a² σ_i / (4 σ_e) ∫ ∂²V/∂x² / sqrt((x - X)² + h²) dx                        (eq. 9)
        = a² σ_i / (4 σ_e) ∫ (3u² / (u² + h²)^(5/2) - 1 / (u² + h²)^(3/2)) ΔV dx   (eq. 10)

with u = x - X; eq. 10 follows by two integrations by parts, whose boundary terms
[(1/r) V' + (u/r³) V] are kept here (the notebook drops them), so the two forms agree on any
domain.  Lengths are in µm and potentials in mV; σ_i = 1/ρ.  Results are in µV.  With
``units="notebook"`` the factor σ_i/(4σ_e) is left out, as in the notebook's printed numbers
(a² ∫ kernel · V du, a and u in µm).

The axon is a :class:`jaxneuro.Axon` (radius a in µm, resistivity ρ in Ω·cm); a batch of axons
is an ``Axon`` whose ``radius`` (and/or ``rho``) leaf is an array, as everywhere in jaxneuro.

Two routes:

* from a cable solution on its grid, at every recorded time: the waveform an electrode sees.
  :func:`grid_potential` offers eq. 9 as a sum of point sources at the nodes, the exact
  line-segment formula (the integral of 1/r over each segment, as LFPy does, finite as the
  electrode approaches the axon) and eq. 10;
* the notebook's fast route: one spike's spatial profile (:class:`SpikeProfile`, which carries
  the axon it was computed for), a not-a-knot cubic spline of it (as scipy's
  ``splrep``), widened by sqrt((a/ρ) / (a0/ρ0)) for another axon with the same membrane (the
  cable equation is invariant under x → x·sqrt(a/ρ), so the spike's length scales so), and
  Gauss–Legendre quadrature on the spline's knot intervals with an error estimate
  (:func:`profile_potential`, batched by :func:`sweep`).  Chosen by measurement: on the
  notebook's 29 × 9 sweep it runs in ~50 ms, against ~380 ms for quadax's adaptive ``quadgk``
  (epsrel 1e-10) with which it agrees to 2.5e-9, and 750 ms for the notebook's scipy loops.

Contents:

===========================  ===============================================================
:data:`NOTEBOOK_AXON`        the notebook's section-4 axon: 1 µm, ρ 150 Ω·cm, 30 °C
:func:`potential_scale`      the factor a² σ_i / (4 σ_e) in front of the integrals
:func:`kernel`               the eq. 10 kernel (1/µm³)
:func:`membrane_currents`    membrane current of each node's segment (nA)
:class:`Electrode`           electrode position: along the axon and distance from its axis
:func:`grid_potential`       Φ_e (µV) from a cable solution on its grid, at every time
:class:`SpikeProfile`        one spike's spatial profile and the axon it belongs to
:func:`profile_potential`    Φ_e (µV) of a profile for one axon and one electrode
:func:`sweep`                Φ_e (µV) for a batch of axons × a list of distances, one call
:func:`check_sweep_input`    the checks of :func:`sweep`, without a profile (host side)
:func:`fit_exponents`        power laws Φ_e ∝ a^p and ∝ d^q (NumPy, host side)
===========================  ===============================================================

Every public function checks concrete arguments before anything is compiled (``ValueError``
naming the argument); inside ``jit``/``vmap``/``grad`` the traced values are not checked.
Every computation is a module-level ``jax.jit`` with its formula and units as static
arguments, so a second call with the same shapes compiles nothing, and works under ``jit``,
``vmap`` and ``grad`` (w.r.t. radius, resistivity, distance, conductivity, the potentials).
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import NamedTuple, Optional, Union

import interpax
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from . import cable, results, rootfinding
from .cable import Axon
from .membrane import HHParams
from .validation import check_choice, check_interval, check_integer, check_number, is_tracer

Array = jax.Array

__all__ = [
    "NOTEBOOK_AXON", "SIGMA_E", "UNITS", "GRID_FORMULAS", "PROFILE_FORMULAS", "EQ10_MIN_DISTANCE",
    "POINTS_MIN_DISTANCE", "Electrode", "SpikeProfile", "Potential", "Exponents",
    "potential_scale", "kernel", "membrane_currents", "grid_potential", "profile_potential", "sweep",
    "check_sweep_input", "fit_exponents", "potential_many", "notebook_profile_run",
]

#: Extracellular conductivity σ_e (S/m) used unless one is given: grey matter, ~0.3 S/m.
SIGMA_E = 0.3
#: ``"physical"``: µV; ``"notebook"``: a² ∫ kernel · V du (a, u in µm; V in mV), no σ factor.
UNITS = ("physical", "notebook")
#: Formulas of :func:`grid_potential`.
GRID_FORMULAS = ("segments", "points", "eq10")
#: Formulas of :func:`profile_potential` and :func:`sweep`.
PROFILE_FORMULAS = ("eq10", "eq9")
#: The notebook's section-4 axon (1 µm, ρ 150 Ω·cm, H&H membrane at 30 °C, E_L 10.5987 mV):
#: the one its printed Φ_e numbers come from.  ``NOTEBOOK_AXON._replace(radius=...)`` for others.
NOTEBOOK_AXON = Axon(radius=1.0, rho=150.0, membrane=HHParams(EL=10.5987, temperature=30.0))

#: ``grid_potential(formula="eq10")`` warns when the electrode is closer than this many grid
#: steps to the axis.  Measured against ``"segments"`` at the waveform minimum (1 µm axon,
#: spike at 0.5 cm): h = 1.25 dx: +22 % (dx 20 µm), h = 1.5 dx: +7 to +11 % (dx 10, 20, 40 µm),
#: h = 2 dx: +1.3 / +2.7 / +6.3 %, of which the far-field O(dx²) difference is 0.6 / 1.8 / 4.9 %
#: (its value at h = 2.5–5 dx): below 2 dx the near-field error of the trapezoid rule on the
#: kernel (whose poles lie at u = ±ih) takes over, growing ~4–5× per 0.25 dx closer.
EQ10_MIN_DISTANCE = 2.0
#: ``grid_potential(formula="points")`` warns below this many grid steps: at h = dx the point
#: sources are +0.5 / +1.4 / +3.9 % above ``"segments"`` (dx 10, 20, 40 µm), at h = dx/2
#: +3.3 / +5.5 / +13 %, at h = dx/4 +24 / +38 %.
POINTS_MIN_DISTANCE = 1.0


# ----------------------------------------------------------------------------------------
# Input checks (concrete values only; tracers pass unchecked).


def _check_axon(axon, name: str = "axon") -> None:
    if not isinstance(axon, Axon):
        raise ValueError(f"{name} must be a jaxneuro.Axon (radius µm, rho Ω·cm, membrane), got {type(axon).__name__}"
                         f" {axon!r}")
    check_number(f"{name}.radius", axon.radius, positive=True, unit="µm")
    check_number(f"{name}.rho", axon.rho, positive=True, unit="Ω·cm")


def _check_scalar_axon(axon, name: str = "axon") -> None:
    _check_axon(axon, name)
    check_number(f"{name}.radius", axon.radius, scalar=True)
    check_number(f"{name}.rho", axon.rho, scalar=True)


def _check_sigma_e(sigma_e, name: str = "sigma_e", scalar: bool = False) -> None:
    check_number(name, sigma_e, positive=True, unit="S/m", scalar=scalar)


def _concrete_max(value) -> Optional[float]:
    return None if is_tracer(value) else float(np.max(np.asarray(value, float)))


def _concrete_min(value) -> Optional[float]:
    return None if is_tracer(value) else float(np.min(np.asarray(value, float)))


def _check_outside_axon(distance, radius, distance_name: str, radius_name: str) -> None:
    d, a = _concrete_min(distance), _concrete_max(radius)
    if d is not None and a is not None and d < a:
        raise ValueError(f"electrode inside the axon: {distance_name} {d} µm < {radius_name} {a} µm "
                         "(the electrode must be at or beyond the axon's surface)")


def _legacy(name: str, new: str, stacklevel: int = 4) -> None:
    """DeprecationWarning pointing at the user's call (``stacklevel`` counts from here)."""
    warnings.warn(f"the keyword {name}= is deprecated; use {new}", DeprecationWarning, stacklevel=stacklevel)


def _limits(limits, window):
    if window is not None:
        if limits is not None:
            raise ValueError("give limits= or its deprecated alias window=, not both")
        _legacy("window", "limits=(lo, hi) (µm)")
        limits = window
    if limits is None:
        return None
    if not results.is_concrete(limits):
        return jnp.asarray(limits, float)
    return check_interval("limits", limits, unit="µm")


# ----------------------------------------------------------------------------------------
# The scale factor and the kernel.


def _scale(radius, rho, sigma_e, units: str):
    radius = jnp.asarray(radius, float)
    if units == "notebook":
        return radius**2 * jnp.ones_like(jnp.asarray(rho, float) * jnp.asarray(sigma_e, float))
    sigma_i = 100.0 / jnp.asarray(rho, float)  # S/m
    return radius**2 * sigma_i / (4.0 * jnp.asarray(sigma_e, float)) * 1e3  # mV -> µV


_scale_jit = jax.jit(_scale, static_argnames="units")


def potential_scale(axon: Axon, sigma_e: ArrayLike = SIGMA_E, units: str = "physical") -> Array:
    """The factor a² σ_i / (4 σ_e) in front of the integrals of eqs. 9–10.

    Args:
        axon: the axon; its ``radius`` a (µm) and ``rho`` ρ (Ω·cm, σ_i = 100/ρ S/m) are used.
        sigma_e: extracellular conductivity (S/m), > 0.
        units: ``"physical"``: the factor times 1000, so that times an integral in mV/µm²
            (∫ kernel · V du, lengths in µm, V in mV) it gives µV; ``"notebook"``: a² alone.

    Returns:
        The factor (µm² · µV/mV; notebook: µm²), broadcast over the axon's leaves and ``sigma_e``.
    """
    _check_axon(axon)
    _check_sigma_e(sigma_e)
    check_choice("units", units, UNITS)
    return _scale_jit(axon.radius, axon.rho, sigma_e, units=units)


@jax.jit
def _kernel(u, h):
    s = u * u + h * h
    return (3.0 * u * u / s - 1.0) / (s * jnp.sqrt(s))


def kernel(u: ArrayLike, h: ArrayLike) -> Array:
    """The eq. 10 kernel 3u²/(u²+h²)^(5/2) - 1/(u²+h²)^(3/2).

    Args:
        u: position along the axis relative to the electrode (µm).
        h: electrode distance from the axis (µm), >= 0 (u and h not both 0).

    Returns:
        The kernel (1/µm³), broadcast over ``u`` and ``h``.
    """
    check_number("u", u, unit="µm")
    check_number("h", h, non_negative=True, unit="µm")
    return _kernel(u, h)


def _boundary_terms(u, h, v, dv):
    """[(1/r) V' + (u/r³) V] at u: what eq. 10 leaves out of eq. 9 at an end of the domain."""
    r = jnp.sqrt(u * u + h * h)
    return dv / r + u * v / r**3


# ----------------------------------------------------------------------------------------
# From a cable solution: the waveform at an electrode.


class Electrode(NamedTuple):
    """An electrode (a pytree: leaves may be traced, e.g. to differentiate w.r.t. distance).

    Attributes:
        x: position along the axon (µm, same origin as the cable's grid).
        distance: distance from the axon's axis (µm), at least the axon's radius.
    """

    x: ArrayLike
    distance: ArrayLike


def _segment_lengths(n: int, dx):
    return jnp.full(n, dx).at[0].set(dx / 2).at[-1].set(dx / 2)


def _membrane_currents(v, dx, radius, rho):
    padded = jnp.concatenate([v[..., 1:2], v, v[..., -2:-1]], axis=-1)  # mirrored sealed ends
    second = (padded[..., :-2] - 2.0 * v + padded[..., 2:]) / dx**2  # mV/µm²
    sigma_i = 1e-4 / jnp.asarray(rho, float)  # S/µm  (1/ρ S/cm)
    area = jnp.pi * jnp.asarray(radius, float) ** 2  # µm²
    return area * sigma_i * second * _segment_lengths(v.shape[-1], dx) * 1e6  # mV·S -> mA -> nA


_membrane_currents_jit = jax.jit(_membrane_currents)


def _check_potentials(v, n_nodes: Optional[int] = None, name: str = "v") -> None:
    if is_tracer(v):
        return
    if v is None or isinstance(v, (str, bytes, bool)):
        raise ValueError(f"{name} must be an array of potentials (mV), got {v!r}")
    dtype = getattr(v, "dtype", None)
    if dtype is None:
        check_number(name, v, unit="mV")  # lists: converts and checks everything
        v = np.asarray(v, float)
    elif not np.issubdtype(np.dtype(dtype), np.number) or np.issubdtype(np.dtype(dtype), np.complexfloating):
        raise ValueError(f"{name} must be an array of real potentials (mV), got dtype {dtype}")
    if np.ndim(v) < 1 or np.shape(v)[-1] < 3:
        raise ValueError(f"{name} must have a last (node) axis of length >= 3, got shape {np.shape(v)}")
    if n_nodes is not None and np.shape(v)[-1] != n_nodes:
        raise ValueError(f"{name}'s last axis ({np.shape(v)[-1]} nodes) must match x ({n_nodes} positions)")


def membrane_currents(v: ArrayLike, dx: ArrayLike, axon: Axon) -> Array:
    """Membrane current of each node's segment, outward positive, from eq. 7 with the
    sealed-end second difference: I_i = π a² σ_i (Λ V)_i / dx² × (segment length).

    They sum to zero (a sealed cable injects no net current).

    Args:
        v: potentials (mV from rest), nodes on the last axis (>= 3 nodes); leading axes are
            batch/time axes.
        dx: node spacing (µm), > 0.
        axon: the axon (scalar ``radius`` µm and ``rho`` Ω·cm; ``jax.vmap`` for a batch).

    Returns:
        Currents (nA), the shape of ``v``.
    """
    _check_potentials(v)
    check_number("dx", dx, positive=True, unit="µm", scalar=True)
    _check_scalar_axon(axon)
    return _membrane_currents_jit(jnp.asarray(v, float), dx, axon.radius, axon.rho)


@partial(jax.jit, static_argnames="formula")
def _grid_potential(v, x, x_e, h, radius, rho, sigma_e, formula: str):
    v = jnp.asarray(v, float)
    x = jnp.asarray(x, float)
    h = jnp.asarray(h, float)
    dx = x[1] - x[0]
    u = x - x_e
    if formula == "eq10":
        weights = _segment_lengths(x.shape[0], dx)
        # Sealed ends: V' = 0 there, only the (u/r³) V end terms remain.
        ends = _boundary_terms(u[-1], h, v[..., -1], 0.0) - _boundary_terms(u[0], h, v[..., 0], 0.0)
        integral = v @ (weights * _kernel(u, h)) + ends
        return _scale(radius, rho, sigma_e, "physical") * integral
    currents = _membrane_currents(v, dx, radius, rho) * 1e-9  # A
    if formula == "points":
        geometry = 1.0 / jnp.sqrt(u * u + h * h)
    else:  # segments
        lo = jnp.maximum(u - dx / 2, u[0])
        hi = jnp.minimum(u + dx / 2, u[-1])
        geometry = (jnp.arcsinh(hi / h) - jnp.arcsinh(lo / h)) / (hi - lo)
    sigma_e_per_um = jnp.asarray(sigma_e, float) * 1e-6  # S/m -> S/µm
    return currents @ geometry / (4.0 * jnp.pi * sigma_e_per_um) * 1e6  # V -> µV


def _check_grid(x) -> Optional[float]:
    """Checks the grid ``x``; returns dx (µm) when concrete."""
    if is_tracer(x):
        return None
    check_number("x", x, unit="µm")
    x = np.asarray(x, float)
    if x.ndim != 1 or x.size < 3:
        raise ValueError(f"x must be a 1-D grid of >= 3 positions (µm), got shape {x.shape}")
    steps = np.diff(x)
    dx = float(steps[0])
    if not (dx > 0 and np.allclose(steps, dx, rtol=1e-9, atol=0.0)):
        raise ValueError("x must be uniform and increasing (µm), as a cable solution's grid")
    return dx


def _electrode(electrode, name: str = "electrode") -> Electrode:
    if not isinstance(electrode, Electrode):
        try:
            electrode = Electrode(*electrode)
        except TypeError:
            raise ValueError(f"{name} must be an Electrode(x µm, distance µm), got {electrode!r}") from None
    check_number(f"{name}.x", electrode.x, unit="µm", scalar=True)
    check_number(f"{name}.distance", electrode.distance, positive=True, unit="µm", scalar=True)
    return electrode


def _legacy_axon(axon, radius, rho, function: str):
    """The axon from ``axon`` and the deprecated ``radius=``/``rho=`` keywords."""
    if radius is None and rho is None:
        if axon is None:
            raise ValueError(f"{function} needs the axon: pass axon=jaxneuro.Axon(radius=..., rho=...) (µm, Ω·cm)")
        return axon
    _legacy("radius=/rho", "axon=jaxneuro.Axon(radius=..., rho=...)")
    if axon is None:
        if radius is None or rho is None:
            raise ValueError(f"{function}: the deprecated radius= and rho= go together; better, pass axon=Axon(...)")
        return Axon(radius=radius, rho=rho)
    _check_axon(axon)
    return axon._replace(**{k: v for k, v in (("radius", radius), ("rho", rho)) if v is not None})


def grid_potential(
    v: ArrayLike,
    x: ArrayLike,
    electrode: Electrode,
    axon: Axon = None,
    *,
    sigma_e: ArrayLike = SIGMA_E,
    formula: str = "segments",
    radius: ArrayLike = None,
    rho: ArrayLike = None,
) -> Array:
    """Extracellular potential at ``electrode`` from the potentials of a sealed cable on its grid.

    Args:
        v: potentials (mV from rest), nodes on the last axis; leading (time) axes are kept.
        x: the uniform grid (µm) of the nodes, e.g. ``CableSolution.x``.
        electrode: :class:`Electrode` (x along the axon, distance from its axis; µm, scalars:
            ``jax.vmap`` over several electrodes).
        axon: the :class:`jaxneuro.Axon` the cable was simulated with (``radius`` µm, ``rho``
            Ω·cm); required (a default axon would silently disagree with ``v``).
        sigma_e: extracellular conductivity (S/m), > 0.
        formula: ``"segments"`` (exact integral of 1/r over each node's segment, finite up to
            the axon's surface), ``"points"`` (a point source at each node: eq. 9 by the
            trapezoid rule) or ``"eq10"`` (the kernel of eq. 10 on ΔV by the trapezoid rule,
            with the end terms).  ``"eq10"`` warns (``UserWarning``) when the electrode is
            closer than :data:`EQ10_MIN_DISTANCE` = 2 grid steps to the axis (measured: +22 %
            at 1.25 dx, +7–11 % at 1.5 dx against ``"segments"``), ``"points"`` closer than
            :data:`POINTS_MIN_DISTANCE` = 1 grid step (+3–13 % at dx/2).
        radius, rho: deprecated (``DeprecationWarning``): the axon's radius (µm) and ρ (Ω·cm).

    Returns:
        Φ_e (µV), of shape ``v.shape[:-1]``.

    Raises:
        ValueError: naming the argument, for non-numeric or non-finite input, a non-uniform
            grid, sigma_e, radius or rho <= 0, an electrode inside the axon, an unknown formula.

    Examples:
        >>> import jax, numpy as np
        >>> from jaxneuro import Axon, extracellular as ex
        >>> x = np.arange(0.0, 4000.0, 20.0)                        # µm
        >>> v = 100.0 * np.exp(-((x - 2000.0) / 300.0) ** 2)        # mV: a spike-like bump
        >>> axon = Axon(radius=1.0, rho=150.0)
        >>> phi = ex.grid_potential(v, x, ex.Electrode(2000.0, 50.0), axon)
        >>> round(float(phi), 4)                                    # µV
        -3.1413
        >>> slope = jax.grad(lambda h: ex.grid_potential(v, x, ex.Electrode(2000.0, h), axon))(50.0)
        >>> round(float(slope), 5)                                  # µV/µm
        0.04336
    """
    axon = _legacy_axon(axon, radius, rho, "grid_potential")
    dx = _check_grid(x)
    _check_potentials(v, None if dx is None else np.shape(x)[0])
    electrode = _electrode(electrode)
    _check_scalar_axon(axon)
    _check_sigma_e(sigma_e, scalar=True)
    check_choice("formula", formula, GRID_FORMULAS)
    _check_outside_axon(electrode.distance, axon.radius, "electrode.distance", "axon.radius")
    h = None if is_tracer(electrode.distance) else float(electrode.distance)
    if dx is not None and h is not None:
        least = {"eq10": EQ10_MIN_DISTANCE, "points": POINTS_MIN_DISTANCE}.get(formula)
        if least is not None and h < least * dx:
            warnings.warn(
                f"grid_potential(formula={formula!r}) is inaccurate with the electrode {h} µm from the axis on a "
                f"{dx} µm grid (closer than {least:g} dx): use formula='segments' or a finer grid", UserWarning,
                stacklevel=2)
    return _grid_potential(jnp.asarray(v, float), jnp.asarray(x, float), electrode.x, electrode.distance, axon.radius,
                           axon.rho, sigma_e, formula=formula)


# ----------------------------------------------------------------------------------------
# The notebook's fast route: one spike profile, rescaled for another axon.


def _widening(reference: Axon, axon: Axon):
    """sqrt((a/ρ) / (a0/ρ0)): how much longer the spike is on ``axon`` than on ``reference``."""
    return jnp.sqrt((jnp.asarray(axon.radius, float) / jnp.asarray(axon.rho, float))
                    * (jnp.asarray(reference.rho, float) / jnp.asarray(reference.radius, float)))


class _Spline(NamedTuple):
    """A cubic spline: ``knots`` (n,) and ``c`` (4, n-1), highest power first, in t = u - knot."""

    knots: Array
    c: Array


def _not_a_knot(x, y) -> _Spline:
    """The interpolating cubic spline with not-a-knot ends (scipy's ``CubicSpline`` default
    and ``splrep(s=0)``), by ``interpax``; its piecewise coefficients are evaluated here
    directly (:func:`_evaluate`), once per quadrature node."""
    if jax.config.jax_enable_x64:
        return _Spline(x, interpax.CubicSpline(x, y, check=False).c)
    with warnings.catch_warnings():  # a float32 sweep: interpax asks for float64, and gets float32
        warnings.simplefilter("ignore", UserWarning)
        return _Spline(x, interpax.CubicSpline(x, y, check=False).c)


def _evaluate(c, t):
    """V, V' and V'' of the cubics with coefficients ``c`` (4, ..., highest power first) at
    ``t`` from their left knots (broadcast)."""
    c3, c2, c1, c0 = c
    return ((c3 * t + c2) * t + c1) * t + c0, (3.0 * c3 * t + 2.0 * c2) * t + c1, 6.0 * c3 * t + 2.0 * c2


def _spline_at(spline: _Spline, u):
    """V, V', V'' at any ``u`` (the end cubics extrapolate)."""
    knots = spline.knots
    i = jnp.clip(jnp.searchsorted(knots, u, side="right"), 1, knots.shape[0] - 1) - 1
    return _evaluate(spline.c[:, i], u - knots[i])


@jax.jit
def _spline_peak(x, v, start):
    """Newton on V'(p) = 0 from ``start`` (the highest node) on the not-a-knot spline."""
    spline = _not_a_knot(x, v)
    return rootfinding.newton(lambda p: _spline_at(spline, p)[1], start, iterations=8)


@jax.jit
def _widened_spline(x, v, s, u):
    values = _spline_at(_not_a_knot(x, v), u / s)
    return jnp.stack([values[0], values[1] / s, values[2] / s**2])


class SpikeProfile(NamedTuple):
    """A spike's spatial profile at one instant, and the axon it was computed for.

    Attributes:
        x: positions (µm, increasing; a cable's uniform grid, typically).
        v: potentials (mV from rest) at ``x``.
        axon: the :class:`jaxneuro.Axon` of the simulation (its radius and ρ set the
            widening for other axons; its membrane must match theirs).
        peak: where the spike is highest (µm; between nodes with ``centre="spline"``).
    """

    x: Array
    v: Array
    axon: Axon
    peak: Array

    @classmethod
    def from_samples(cls, x: ArrayLike, v: ArrayLike, axon: Axon, centre: str = "spline") -> "SpikeProfile":
        """A profile from samples (host side: NumPy checks, concrete values only).

        Args:
            x: positions (µm), 1-D and increasing, >= 4 of them.
            v: potentials (mV from rest), same shape as ``x``.
            axon: the :class:`jaxneuro.Axon` the samples were computed for (scalar leaves).
            centre: ``"spline"``: the peak is the maximum of the spline (sub-node; Newton on
                V' = 0 from the highest node, kept if it converges within one node);
                ``"node"``: the highest node, as the notebook does.

        Returns:
            The :class:`SpikeProfile`.
        """
        check_choice("centre", centre, ("spline", "node"))
        check_number("x", x, unit="µm")
        check_number("v", v, unit="mV")
        x, v = np.asarray(x, float), np.asarray(v, float)
        if x.ndim != 1 or x.shape != v.shape or x.size < 4:
            raise ValueError(f"profile needs 1-D x and v of the same length >= 4, got {x.shape} and {v.shape}")
        if not np.all(np.diff(x) > 0):
            raise ValueError("profile positions x must increase")
        _check_scalar_axon(axon)
        k = int(np.argmax(v))
        peak = x[k]
        with jax.ensure_compile_time_eval():  # concrete values, also when called inside a trace
            if centre == "spline" and 0 < k < x.size - 1:
                p, result = _spline_peak(jnp.asarray(x), jnp.asarray(v), jnp.asarray(peak))
                p = float(p)
                if int(result) == results.SUCCESSFUL and x[k - 1] <= p <= x[k + 1]:
                    peak = p
            axon = axon._replace(radius=float(axon.radius), rho=float(axon.rho))
            return cls(jnp.asarray(x), jnp.asarray(v), axon, jnp.asarray(peak))

    def spline(self, axon: Axon = None):
        """V(u) (mV) for ``axon`` (default: the profile's own), u (µm) from the peak.

        The profile is widened by sqrt((a/ρ) / (a0/ρ0)); ``spline(u, nu)`` gives its ``nu``-th
        derivative (mV/µm^nu, nu = 0, 1 or 2).  Host-side helper for plots and checks; the potentials use the
        same spline inside their compiled functions.
        """
        s = 1.0 if axon is None else _widening(self.axon, axon)
        x = jnp.asarray(self.x - self.peak, float)
        return lambda u, nu=0: _widened_spline(x, jnp.asarray(self.v, float), s, jnp.asarray(u, float))[nu]


_GL16 = np.polynomial.legendre.leggauss(16)
_GL8 = np.polynomial.legendre.leggauss(8)


def _panel_rule(edges: Array, rule):
    """Nodes and weights of a Gauss–Legendre ``rule`` on each panel between ``edges``."""
    t, w = (jnp.asarray(a, edges.dtype) for a in rule)  # the working precision (float32 sweeps too)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    return (mid[:, None] + half[:, None] * t).ravel(), (half[:, None] * w).ravel()


class Potential(NamedTuple):
    """Φ_e and an estimate of its quadrature error.

    Attributes:
        value: Φ_e (µV; with ``units="notebook"`` the notebook's units, a² ∫ kernel·V du).
        error: |16-point - 8-point Gauss–Legendre| (same units).
    """

    value: Array
    error: Array


class _Nodes(NamedTuple):
    """A Gauss–Legendre rule on the panels of the unwidened profile: nodes ξ (µm from the peak),
    weights (µm), and V (mV) and V'' (mV/µm²) of the spline there."""

    xi: Array
    w: Array
    v: Array
    d2v: Array


class _Prepared(NamedTuple):
    """What depends on the profile only, computed once per call (outside any loop over axons)."""

    spline: _Spline  # V(ξ), ξ from the peak (µm)
    edges: Array  # panel edges in ξ (µm)
    fine: _Nodes  # 16-point rule
    coarse: _Nodes  # 8-point rule
    ends: Array  # V, V' at the first and the last knot: (2, 2)


def _nodes(spline, edges, rule, subdivisions: int) -> _Nodes:
    """The rule on the panels between ``edges`` (``subdivisions`` per knot interval), each node
    evaluated with its interval's cubic (no search).  A panel clipped to nothing has zero
    weight, so its nodes may lie anywhere."""
    xi, w = _panel_rule(edges, rule)
    intervals = spline.knots.shape[0] - 1
    t = xi.reshape(intervals, -1) - spline.knots[:-1, None]
    v, _, d2v = _evaluate(spline.c[:, :, None], t)
    return _Nodes(xi, w, v.ravel(), d2v.ravel())


def _prepare(profile: SpikeProfile, subdivisions: int) -> _Prepared:
    knots = profile.x - profile.peak
    spline = _not_a_knot(knots, jnp.asarray(profile.v, float))
    edges = jnp.linspace(knots[:-1], knots[1:], subdivisions + 1)[:-1].T.ravel()
    edges = jnp.concatenate([edges, knots[-1:]])
    v, dv, _ = _evaluate(spline.c[:, jnp.array([0, -1])], jnp.stack([0.0, knots[-1] - knots[-2]]))
    ends = jnp.stack([v, dv], axis=-1)
    return _Prepared(spline, edges, _nodes(spline, edges, _GL16, subdivisions),
                     _nodes(spline, edges, _GL8, subdivisions), ends)


def _profile_potential(profile, radius, rho, distance, x, sigma_e, limits, units, formula, clip, subdivisions,
                       prepared: _Prepared = None):
    """Φ_e for one axon (scalar radius, rho) and one electrode (scalar distance, x); traced.

    The integral runs in the unwidened variable ξ = u / s (s the widening): the quadrature
    nodes and the spline's values there do not depend on the axon, unless ``limits`` clip the
    panels (then the clipped panels' nodes are evaluated here)."""
    prepared = _prepare(profile, subdivisions) if prepared is None else prepared
    s = _widening(profile.axon, Axon(radius, rho, profile.axon.membrane))
    h = jnp.asarray(distance, float)
    rules = (prepared.fine, prepared.coarse)
    if clip:
        edges = jnp.clip(prepared.edges, limits[0] / s, limits[1] / s)
        rules = tuple(_nodes(prepared.spline, edges, rule, subdivisions) for rule in (_GL16, _GL8))

    def integral(nodes: _Nodes):
        u = s * nodes.xi
        if formula == "eq10":
            return s * jnp.sum(nodes.w * _kernel(u - x, h) * nodes.v)
        return jnp.sum(nodes.w * nodes.d2v / jnp.sqrt((u - x) ** 2 + h * h)) / s

    value, coarse = integral(rules[0]), integral(rules[1])
    if not clip and formula == "eq10":
        (v_lo, dv_lo), (v_hi, dv_hi) = prepared.ends
        lo, hi = s * prepared.edges[0], s * prepared.edges[-1]
        ends = _boundary_terms(hi - x, h, v_hi, dv_hi / s) - _boundary_terms(lo - x, h, v_lo, dv_lo / s)
        value, coarse = value + ends, coarse + ends
    scale = _scale(radius, rho, sigma_e, units)
    return Potential(scale * value, scale * jnp.abs(value - coarse))


_STATIC = ("units", "formula", "clip", "subdivisions")
_profile_potential_jit = jax.jit(_profile_potential, static_argnames=_STATIC)


def notebook_profile_run(radius: float = 1.0, dx: float = 20.0, dt: float = 0.01, density: float = 500.0,
                         at: float = None, *, tuned: Union[bool, str] = True):
    """jaxneuro's cable as in the notebook's section 4, and the spike profile it gives.

    The axon is :data:`NOTEBOOK_AXON` with the given radius (ρ 150 Ω·cm,
    H&H membrane at 30 °C); the cable is 1 cm long for 1 µm, scaled by sqrt(radius); 20 ms
    with a 0.5 ms pulse of ``density`` µA/cm² on node 0.

    Args:
        radius: axon radius (µm).
        dx: node spacing (µm).
        dt: time step (ms).
        density: stimulus current density (µA/cm²).
        at: position (µm) whose peak time picks the profile's instant (default: mid-cable).
        tuned: how the run compiles, as in :func:`jaxneuro.simulate_cable` (``"compile"``:
            in half the time, for a one-off run).

    Returns:
        ``(profile, solution)``: the :class:`SpikeProfile` (carrying its
        axon) at the time v peaks at ``at``, and the :class:`jaxneuro.CableSolution`.
    """
    length = 10_000.0 * float(np.sqrt(radius))
    axon = NOTEBOOK_AXON._replace(radius=float(radius))
    grid = cable.Grid(length=length, dx=dx, dt=dt, t_stop=20.0)
    sol = cable.simulate_cable(axon, grid, cable.Stimulus.from_density(density, radius, dx, duration=0.5),
                               tuned=tuned)
    v = np.asarray(sol.v)
    node = int(round((length / 2 if at is None else at) / dx))
    profile = SpikeProfile.from_samples(np.asarray(sol.x), v[int(np.argmax(v[:, node]))], axon)
    return profile, sol


@partial(jax.jit, static_argnames=("units", "formula", "subdivisions"))
def potential_many(profile: SpikeProfile, radius, rho, distance, x, sigma_e, *, units: str = "physical",
                   formula: str = "eq10", subdivisions: int = 2) -> Potential:
    """Φ_e for members given one by one (all arguments but ``profile`` of shape (members,): radius
    µm, ρ Ω·cm, electrode distance from the axis µm, position along it from the spike's peak µm,
    σ_e S/m), with no checks, for use inside a program (e.g. :class:`jaxneuro.jobs.Extracellular`;
    :func:`sweep` is the checked function for axons × distances).  The profile's quadrature
    nodes are prepared once for all members.

    Returns:
        :class:`Potential` with leaves of shape (members,) (µV, or the notebook's units).
    """
    prepared = _prepare(profile, subdivisions)

    def one(a, r, h, at, s):
        return _profile_potential(profile, a, r, h, at, s, None, units, formula, False, subdivisions, prepared)

    return jax.vmap(one)(radius, rho, distance, x, sigma_e)


def _check_profile(profile) -> None:
    if not isinstance(profile, SpikeProfile):
        raise ValueError(f"profile must be a SpikeProfile (SpikeProfile.from_samples), got {type(profile).__name__}")


def _warn_membrane(profile: SpikeProfile, axon: Axon) -> None:
    a, b = profile.axon.membrane, axon.membrane
    if not (results.is_concrete(a) and results.is_concrete(b)):
        return
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    if len(la) != len(lb) or any(not np.all(np.asarray(p) == np.asarray(q)) for p, q in zip(la, lb)):
        warnings.warn("the axon's membrane differs from the one the spike profile was computed for: the "
                      "sqrt((a/ρ)/(a0/ρ0)) widening holds for the same membrane only (simulate a profile for it)",
                      UserWarning, stacklevel=3)


def _common_checks(units, formula, subdivisions, sigma_e) -> None:
    check_choice("units", units, UNITS)
    check_choice("formula", formula, PROFILE_FORMULAS)
    check_integer("subdivisions", subdivisions, minimum=1)
    _check_sigma_e(sigma_e, scalar=True)


def profile_potential(
    profile: SpikeProfile,
    axon: Axon,
    distance: ArrayLike,
    *,
    x: ArrayLike = 0.0,
    sigma_e: ArrayLike = SIGMA_E,
    units: str = "physical",
    formula: str = "eq10",
    limits: tuple = None,
    subdivisions: int = 2,
    window: tuple = None,
) -> Potential:
    """Φ_e of ``profile`` widened for ``axon``, at one electrode.

    Quadrature: 16-point Gauss–Legendre on each knot interval of the widened spline, split in
    ``subdivisions``; the error estimate is the difference from the 8-point rule.

    Args:
        profile: the :class:`SpikeProfile`.
        axon: the axon (scalar ``radius`` µm and ``rho`` Ω·cm; its membrane should be the
            profile's: a different one warns); ``profile.axon`` for the profile's own.
            Batches: :func:`sweep`, or ``jax.vmap``.
        distance: electrode distance from the axis (µm), >= the radius.
        x: electrode position along the axis from the spike's peak (µm).
        sigma_e: extracellular conductivity (S/m), > 0.
        units: ``"physical"`` (µV) or ``"notebook"`` (a² ∫ kernel·V du, no σ factor).
        formula: ``"eq10"`` (kernel on V, with the end terms of the integration by parts) or
            ``"eq9"`` (1/r on V''); they agree to ~1e-11 without ``limits`` (measured on the
            notebook's 29 × 9 sweep).
        limits: integrate only over u in (lo, hi) µm from the peak (the notebook's
            (-1000, 1000), with V = 0 outside the profile and no end terms); default: the whole
            profile, with the end terms.
        subdivisions: panels per knot interval (static, >= 1).
        window: deprecated alias of ``limits``.

    Returns:
        :class:`Potential` (value and quadrature error, µV or notebook units), scalars.
    """
    limits = _limits(limits, window)
    _check_profile(profile)
    _check_scalar_axon(axon)
    check_number("distance", distance, positive=True, unit="µm", scalar=True)
    check_number("x", x, unit="µm", scalar=True)
    _common_checks(units, formula, subdivisions, sigma_e)
    _check_outside_axon(distance, axon.radius, "distance", "axon.radius")
    _warn_membrane(profile, axon)
    clip = limits is not None
    return _profile_potential_jit(profile, axon.radius, axon.rho, distance, x, sigma_e,
                                  jnp.zeros(2) if limits is None else jnp.asarray(limits, float),
                                  units=units, formula=formula, clip=clip, subdivisions=subdivisions)


@partial(jax.jit, static_argnames=_STATIC)
def _sweep(profile, radius, rho, distances, x, sigma_e, limits, *, units, formula, clip, subdivisions):
    radius, rho = jnp.broadcast_arrays(jnp.asarray(radius, float), jnp.asarray(rho, float))
    distances = jnp.asarray(distances, float)
    shape, flat_d = radius.shape, distances.ravel()

    prepared = _prepare(profile, subdivisions)

    def one(a, r, h):
        return _profile_potential(profile, a, r, h, x, sigma_e, limits, units, formula, clip, subdivisions, prepared)

    per_axon = jax.vmap(one, in_axes=(None, None, 0))
    n = radius.size
    # lax.map over the axons bounds memory for large sweeps (each: distances × nodes × 16).
    out = jax.lax.map(lambda ar: per_axon(ar[0], ar[1], flat_d), (radius.ravel(), rho.ravel()),
                      batch_size=min(32, n))
    return jax.tree.map(lambda o: o.reshape(shape + distances.shape), out)


def check_sweep_input(
    axon: Axon,
    distances: ArrayLike,
    *,
    sigma_e: ArrayLike = SIGMA_E,
    units: str = "physical",
    formula: str = "eq10",
    limits: tuple = None,
    subdivisions: int = 2,
    names: dict = None,
) -> None:
    """The checks :func:`sweep` makes of its arguments, for a caller without a profile yet
    (e.g. the command line, before it simulates one).  Host side.

    Args:
        axon, distances, sigma_e, units, formula, limits, subdivisions: as :func:`sweep`.
        names: how the message names an argument, e.g. ``{"axon.radius": "--radii"}``.

    Raises:
        ValueError: naming the argument, for empty, non-numeric, non-finite or non-positive
            radii, resistivities, distances or sigma_e, an electrode inside the axon
            (smallest distance < largest radius), unordered limits, an unknown units/formula.
    """
    names = names or {}

    def name(key):
        return names.get(key, key)

    if not isinstance(axon, Axon):
        raise ValueError(f"axon must be a jaxneuro.Axon (for several radii: axon._replace(radius=array)), got "
                         f"{type(axon).__name__} {axon!r}")
    check_number(name("axon.radius"), axon.radius, positive=True, unit="µm")
    check_number(name("axon.rho"), axon.rho, positive=True, unit="Ω·cm")
    check_number(name("distances"), distances, positive=True, unit="µm")
    check_number(name("sigma_e"), sigma_e, positive=True, unit="S/m", scalar=True)
    check_choice(name("units"), units, UNITS)
    check_choice(name("formula"), formula, PROFILE_FORMULAS)
    check_integer(name("subdivisions"), subdivisions, minimum=1)
    if limits is not None and results.is_concrete(limits):
        check_interval(name("limits"), limits, unit="µm")
    _check_outside_axon(distances, axon.radius, f"smallest {name('distances')}", f"largest {name('axon.radius')}")


def sweep(
    profile: SpikeProfile,
    axon: Axon = None,
    distances: ArrayLike = None,
    *,
    x: ArrayLike = 0.0,
    sigma_e: ArrayLike = SIGMA_E,
    units: str = "physical",
    formula: str = "eq10",
    limits: tuple = None,
    subdivisions: int = 2,
    radii: ArrayLike = None,
    window: tuple = None,
) -> Potential:
    """Φ_e for a batch of axons × a list of electrode distances, in one compiled call.

    Args:
        profile: the :class:`SpikeProfile` (carries the axon it was computed for).
        axon: the axons: an :class:`jaxneuro.Axon` whose ``radius`` (µm) and/or ``rho``
            (Ω·cm) leaves are arrays (they broadcast together); default ``profile.axon``.
            E.g. ``profile.axon._replace(radius=jnp.geomspace(0.1, 20, 1000))``.  Its
            membrane should be the profile's (a different one warns).
        distances: electrode distances from the axis (µm), any shape, each >= every radius.
        x: electrode position along the axis from the spike's peak (µm), scalar.
        sigma_e, units, formula, limits, subdivisions: as :func:`profile_potential`.
        radii: deprecated: ``profile.axon._replace(radius=radii)`` (``DeprecationWarning``).
        window: deprecated alias of ``limits``.

    Returns:
        :class:`Potential` of shape ``broadcast(radius, rho).shape + distances.shape``
        (µV, or notebook units).

    Examples:
        >>> import numpy as np
        >>> from jaxneuro import extracellular as ex
        >>> x = np.arange(0.0, 4000.0, 20.0)                        # µm
        >>> v = 100.0 * np.exp(-((x - 2000.0) / 300.0) ** 2)        # mV: a spike-like bump
        >>> profile = ex.SpikeProfile.from_samples(x, v, ex.NOTEBOOK_AXON)
        >>> axons = profile.axon._replace(radius=np.array([0.5, 1.0, 2.0]))
        >>> phi = ex.sweep(profile, axons, [50.0, 100.0])
        >>> phi.value.shape
        (3, 2)
        >>> np.round(np.asarray(phi.value), 4)                      # µV
        array([[-1.2117, -0.6033],
               [-3.1494, -1.7679],
               [-7.8487, -4.8468]])
    """
    limits = _limits(limits, window)
    _check_profile(profile)
    if radii is not None:
        if axon is not None:
            raise ValueError("give axon= (with its radius leaf an array) or the deprecated radii=, not both")
        _legacy("radii", "axon=profile.axon._replace(radius=radii)", stacklevel=3)
        check_number("radii", radii, positive=True, unit="µm")
        axon = profile.axon._replace(radius=radii)
        names = {"axon.radius": "radii"}
    else:
        names = {}
    axon = profile.axon if axon is None else axon
    if distances is None:
        raise ValueError("sweep needs distances (µm)")
    check_sweep_input(axon, distances, sigma_e=sigma_e, units=units, formula=formula, limits=limits,
                      subdivisions=subdivisions, names=names)
    check_number("x", x, unit="µm", scalar=True)
    _warn_membrane(profile, axon)
    return _sweep(profile, jnp.asarray(axon.radius, float), jnp.asarray(axon.rho, float),
                  jnp.asarray(distances, float), x, sigma_e,
                  jnp.zeros(2) if limits is None else jnp.asarray(limits, float),
                  units=units, formula=formula, clip=limits is not None, subdivisions=subdivisions)


class Exponents(NamedTuple):
    """Power laws of |Φ_e|: p (∝ a^p) per distance and q (∝ d^q) per radius, each as the
    least-squares slope on log–log axes and the range of local slopes (dimensionless)."""

    p: np.ndarray
    p_range: np.ndarray  # (distances, 2): min and max local slope
    q: np.ndarray
    q_range: np.ndarray  # (radii, 2)


def fit_exponents(radii: ArrayLike, distances: ArrayLike, phi: ArrayLike) -> Exponents:
    """Fit |Φ_e| ∝ a^p at each distance and ∝ d^q at each radius (NumPy, host side).

    Args:
        radii: axon radii (µm), 1-D, >= 2 distinct values, > 0.
        distances: electrode distances (µm), 1-D, >= 2 distinct values, > 0.
        phi: Φ_e of shape (radii, distances), any units, finite and non-zero.

    Returns:
        :class:`Exponents`.
    """
    check_number("radii", radii, positive=True, unit="µm")
    check_number("distances", distances, positive=True, unit="µm")
    check_number("phi", phi)
    radii, distances, phi = (np.asarray(a, float) for a in (radii, distances, phi))
    if radii.ndim != 1 or distances.ndim != 1 or radii.size < 2 or distances.size < 2:
        raise ValueError(f"radii and distances must be 1-D with >= 2 values each, got {radii.shape}, {distances.shape}")
    if np.unique(radii).size != radii.size or np.unique(distances).size != distances.size:
        raise ValueError("radii and distances must not repeat a value (local slopes divide by their steps)")
    if phi.shape != (radii.size, distances.size):
        raise ValueError(f"phi must have shape (radii, distances) = {(radii.size, distances.size)}, got {phi.shape}")
    if np.any(phi == 0):
        raise ValueError("phi must be non-zero (power laws of |Φ_e| on log axes)")
    la, ld, lp = np.log(radii), np.log(distances), np.log(np.abs(phi))

    def slopes(x, y):  # y: (..., len(x))
        fit = np.polyfit(x, y.T, 1)[0]
        local = np.diff(y, axis=-1) / np.diff(x)
        return fit, np.stack([local.min(axis=-1), local.max(axis=-1)], axis=-1)

    p, p_range = slopes(la, lp.T)
    q, q_range = slopes(ld, lp)
    return Exponents(p, p_range, q, q_range)
