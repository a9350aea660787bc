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

Two routes:

* from a cable solution on its grid, at every recorded time: the waveform an electrode sees.
  :func:`grid_potential` offers eq. 9 as a sum of point sources at the nodes, the exact
  line-segment formula (the integral of 1/r over each segment, as LFPy does, finite as the
  electrode approaches the axon) and eq. 10;
* the notebook's fast route: one spike's spatial profile (:class:`SpikeProfile`), a cubic
  spline of it (``interpax``, not-a-knot as scipy's ``splrep``), widened by sqrt(a / a0) for
  another radius (conduction velocity and hence the spike's length scale as sqrt(a)), and
  Gauss–Legendre quadrature on the spline's knot intervals with an error estimate
  (:func:`profile_potential`, vmapped by :func:`sweep`).  Chosen by measurement: on the
  notebook's 29 × 9 sweep it runs in ~50 ms, against ~380 ms for quadax's adaptive ``quadgk``
  (epsrel 1e-10) with which it agrees to 2.5e-9, and 750 ms for the notebook's scipy loops.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import interpax
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

Array = jax.Array

#: Extracellular conductivity σ_e (S/m) used unless one is given: grey matter, ~0.3 S/m.
SIGMA_E = 0.3
UNITS = ("physical", "notebook")
METHODS = ("eq10", "eq9")


def potential_scale(radius: ArrayLike, rho: ArrayLike, sigma_e: ArrayLike = SIGMA_E, units: str = "physical") -> Array:
    """The factor a² σ_i/(4 σ_e) in front of the integrals, times 1000 so that with a, x, h in µm
    and V in mV the result is in µV (σ_i = 100/ρ S/m with ρ in Ω·cm, σ_e in S/m).
    ``units="notebook"``: a² alone, as in the notebook's printed numbers."""
    if units not in UNITS:
        raise ValueError(f"units must be one of {UNITS}, got {units!r}")
    radius = jnp.asarray(radius, float)
    if units == "notebook":
        return radius**2
    sigma_i = 100.0 / jnp.asarray(rho, float)  # S/m
    return radius**2 * sigma_i / (4.0 * jnp.asarray(sigma_e, float)) * 1e3  # mV -> µV


def kernel(u: ArrayLike, h: ArrayLike) -> Array:
    """The eq. 10 kernel 3u²/(u²+h²)^(5/2) - 1/(u²+h²)^(3/2) (1/µm³)."""
    s = u * u + h * h
    return (3.0 * u * u / s - 1.0) / (s * jnp.sqrt(s))


def _boundary_terms(u, h, v, dv):
    """[(1/r) V' + (u/r³) V] at u: what eq. 10 leaves out of eq. 9 at an end of the domain."""
    r = jnp.sqrt(u * u + h * h)
    return dv / r + u * v / r**3


# ----------------------------------------------------------------------------------------
# From a cable solution: the waveform at an electrode.


class Electrode(NamedTuple):
    """An electrode at ``x`` (µm along the axon) and ``distance`` (µm from its axis)."""

    x: ArrayLike
    distance: ArrayLike


def _check_electrode(electrode: Electrode, radius) -> None:
    d = np.asarray(electrode.distance, float)
    if not np.all(np.isfinite(d)) or not np.all(np.isfinite(np.asarray(electrode.x, float))):
        raise ValueError(f"electrode position must be finite, got {electrode}")
    if np.any(d <= 0):
        raise ValueError(f"electrode distance must be > 0 µm, got {electrode.distance}")
    if np.any(d < np.asarray(radius, float)):
        raise ValueError(f"electrode inside the axon: distance {electrode.distance} µm < radius {radius} µm")


def membrane_currents(v: Array, dx: float, radius: ArrayLike, rho: ArrayLike) -> Array:
    """Membrane current (nA, outward) of each node's segment, from eq. 7 with the sealed-end
    second difference: I_i = π a² σ_i (Λ V)_i / dx² × (segment length).  They sum to zero."""
    padded = jnp.concatenate([v[..., 1:2], v, v[..., -2:-1]], axis=-1)  # mirrored sealed ends
    second = (padded[..., :-2] - 2.0 * v + padded[..., 2:]) / dx**2  # mV/µm²
    length = jnp.full(v.shape[-1], dx).at[0].set(dx / 2).at[-1].set(dx / 2)
    sigma_i = 1e-4 / jnp.asarray(rho, float)  # S/µm  (1/ρ S/cm)
    return jnp.pi * jnp.asarray(radius, float) ** 2 * sigma_i * second * length * 1e6  # mV·S -> mA -> nA


def grid_potential(
    v: ArrayLike,
    x: ArrayLike,
    electrode: Electrode,
    radius: float,
    rho: float,
    sigma_e: float = SIGMA_E,
    method: str = "segments",
) -> Array:
    """Extracellular potential (µV) at ``electrode`` from potentials ``v`` (mV from rest) on the
    uniform grid ``x`` (µm) of a sealed cable; ``v`` may carry leading (time) axes.

    ``method``: ``"segments"`` (exact integral of 1/r over each node's segment, finite up to the
    axon surface), ``"points"`` (a point source at each node: eq. 9 by the trapezoid rule) or
    ``"eq10"`` (the kernel of eq. 10 on ΔV by the trapezoid rule, with the end terms).
    """
    _check_electrode(electrode, radius)
    v = jnp.asarray(v, float)
    x = jnp.asarray(x, float)
    dx = float(x[1] - x[0])
    u = x - electrode.x
    h = jnp.asarray(electrode.distance, float)
    sigma_e_per_um = sigma_e * 1e-6  # S/m -> S/µm
    if method == "eq10":
        weights = jnp.full(x.shape, dx).at[0].set(dx / 2).at[-1].set(dx / 2)
        # Sealed ends: V' = 0 there, only the (u/r³) V end terms remain.
        ends = _boundary_terms(u[-1], h, v[..., -1], 0.0) - _boundary_terms(u[0], h, v[..., 0], 0.0)
        integral = v @ (weights * kernel(u, h)) + ends
        return potential_scale(radius, rho, sigma_e) * integral
    currents = membrane_currents(v, dx, radius, rho) * 1e-9  # A
    if method == "points":
        geometry = 1.0 / jnp.sqrt(u * u + h * h)
    elif method == "segments":
        lo = jnp.maximum(u - dx / 2, u[0])
        hi = jnp.minimum(u + dx / 2, u[-1])
        geometry = (jnp.arcsinh(hi / h) - jnp.arcsinh(lo / h)) / (hi - lo)
    else:
        raise ValueError(f"method must be 'segments', 'points' or 'eq10', got {method!r}")
    return currents @ geometry / (4.0 * jnp.pi * sigma_e_per_um) * 1e6  # V -> µV


# ----------------------------------------------------------------------------------------
# The notebook's fast route: one spike profile, rescaled by sqrt(radius).


class SpikeProfile(NamedTuple):
    """A spike's spatial profile: ΔV (mV) at positions ``x`` (µm, uniform, increasing) for an
    axon of ``radius`` (µm), with ``peak`` (µm) where it is highest (between nodes)."""

    x: Array
    v: Array
    radius: float
    peak: Array

    @classmethod
    def from_samples(cls, x: ArrayLike, v: ArrayLike, radius: float, centre: str = "spline") -> "SpikeProfile":
        """``centre="spline"``: the peak is the maximum of the spline (sub-node); ``"node"``:
        the highest node, as the notebook does."""
        x, v = np.asarray(x, float), np.asarray(v, float)
        if x.ndim != 1 or x.shape != v.shape or x.size < 4:
            raise ValueError(f"profile needs 1-D x and v of the same length >= 4, got {x.shape} and {v.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(v))):
            raise ValueError("profile contains NaN or infinite values")
        if not np.all(np.diff(x) > 0):
            raise ValueError("profile positions must increase")
        if not (np.isfinite(radius) and radius > 0):
            raise ValueError(f"profile radius must be > 0 µm, got {radius}")
        k = int(np.argmax(v))
        peak = x[k]
        if centre == "spline" and 0 < k < x.size - 1:
            spline = interpax.CubicSpline(jnp.asarray(x), jnp.asarray(v), check=False)
            # Newton on V' = 0 from the highest node.
            p = jnp.asarray(peak)
            for _ in range(8):
                p = p - spline(p, 1) / spline(p, 2)
            peak = float(p) if abs(float(p) - x[k]) <= x[1] - x[0] else x[k]
        elif centre not in ("spline", "node"):
            raise ValueError(f"centre must be 'spline' or 'node', got {centre!r}")
        return cls(jnp.asarray(x), jnp.asarray(v), float(radius), jnp.asarray(peak))

    def spline(self, radius: ArrayLike = None):
        """V(u) for an axon of ``radius`` (default: the profile's own), u from the peak (µm):
        the profile widened by sqrt(radius / self.radius); ``spline(u, nu)`` its derivatives."""
        base = interpax.CubicSpline(self.x - self.peak, self.v, check=False)
        s = 1.0 if radius is None else jnp.sqrt(jnp.asarray(radius, float) / self.radius)
        return lambda u, nu=0: base(u / s, nu) / s**nu


_GL_NODES = {k: np.polynomial.legendre.leggauss(k) for k in (8, 16)}


def _panel_rule(edges: Array, order: int):
    """Nodes and weights of ``order``-point Gauss–Legendre on each panel between ``edges``."""
    t, w = (jnp.asarray(a) for a in _GL_NODES[order])
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    return (mid[:, None] + half[:, None] * t).ravel(), (half[:, None] * w).ravel()


class Potential(NamedTuple):
    """Φ_e (µV, or notebook units) and an estimate of its quadrature error (same units)."""

    value: Array
    error: Array


def profile_potential(
    profile: SpikeProfile,
    radius: ArrayLike,
    distance: ArrayLike,
    *,
    x: ArrayLike = 0.0,
    rho: ArrayLike = 150.0,
    sigma_e: ArrayLike = SIGMA_E,
    units: str = "physical",
    method: str = "eq10",
    window: tuple = None,
    subdivisions: int = 2,
) -> Potential:
    """Φ_e at ``distance`` (µm from the axis) and ``x`` (µm along it, from the spike's peak) for
    an axon of ``radius`` whose spike is ``profile`` widened by sqrt(radius / profile.radius).

    Quadrature: 16-point Gauss–Legendre on each knot interval of the widened spline, split in
    ``subdivisions``; the error estimate is the difference from the 8-point rule.
    ``window``: integrate only over u in (lo, hi) µm (the notebook's (-1000, 1000), with V = 0
    outside the profile and no end terms); default: the whole profile, with the end terms of
    the integration by parts, so that eq. 9 and eq. 10 agree.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    spline = profile.spline(radius)
    s = jnp.sqrt(jnp.asarray(radius, float) / profile.radius)
    knots = (profile.x - profile.peak) * s
    edges = jnp.linspace(knots[:-1], knots[1:], subdivisions + 1)[:-1].T.ravel()
    edges = jnp.concatenate([edges, knots[-1:]])
    if window is not None:
        edges = jnp.clip(edges, window[0], window[1])
    h = jnp.asarray(distance, float)

    def integral(order):
        u, w = _panel_rule(edges, order)
        if method == "eq10":
            return jnp.sum(w * kernel(u - x, h) * spline(u))
        return jnp.sum(w * spline(u, 2) / jnp.sqrt((u - x) ** 2 + h * h))

    value, coarse = integral(16), integral(8)
    if window is None and method == "eq10":
        lo, hi = knots[0], knots[-1]
        ends = _boundary_terms(hi - x, h, spline(hi), spline(hi, 1)) - _boundary_terms(lo - x, h, spline(lo), spline(lo, 1))
        value, coarse = value + ends, coarse + ends
    scale = potential_scale(radius, rho, sigma_e, units)
    return Potential(scale * value, scale * jnp.abs(value - coarse))


def check_sweep_input(radii, distances, profile: SpikeProfile = None) -> None:
    """``ValueError`` for empty, non-finite or non-positive radii or distances, or an electrode
    inside the axon (distance < radius)."""
    radii, distances = np.asarray(radii, float), np.asarray(distances, float)
    for name, a in (("radii", radii), ("distances", distances)):
        if a.size == 0 or not np.all(np.isfinite(a)) or not np.all(a > 0):
            raise ValueError(f"{name} must be non-empty, finite and > 0 µm, got {a}")
    if distances.min() < radii.max():
        raise ValueError(
            f"electrode inside the axon: smallest distance {distances.min()} µm < largest radius {radii.max()} µm"
        )


@partial(jax.jit, static_argnames=("units", "method", "window", "subdivisions"))
def _sweep(profile, radii, distances, rho, sigma_e, units, method, window, subdivisions):
    def one(a, h):
        return profile_potential(profile, a, h, rho=rho, sigma_e=sigma_e, units=units, method=method,
                                 window=window, subdivisions=subdivisions)

    per_radius = jax.vmap(one, in_axes=(None, 0))
    # lax.map over radii bounds memory for large sweeps (each radius: distances × nodes × 16).
    return jax.lax.map(lambda a: per_radius(a, distances), radii, batch_size=min(32, radii.shape[0]))


def sweep(
    profile: SpikeProfile,
    radii: ArrayLike,
    distances: ArrayLike,
    *,
    rho: float = 150.0,
    sigma_e: float = SIGMA_E,
    units: str = "physical",
    method: str = "eq10",
    window: tuple = None,
    subdivisions: int = 2,
) -> Potential:
    """Φ_e on the radius × distance grid, one compiled call: value and error, (radii, distances)."""
    check_sweep_input(radii, distances)
    return _sweep(profile, jnp.asarray(radii, float), jnp.asarray(distances, float), rho, sigma_e, units, method,
                  None if window is None else tuple(float(w) for w in window), subdivisions)


class Exponents(NamedTuple):
    """Power laws of |Φ_e|: p (∝ a^p) per distance and q (∝ d^q) per radius, each as the
    least-squares slope on log–log axes and the range of local slopes."""

    p: np.ndarray
    p_range: np.ndarray  # (distances, 2): min and max local slope
    q: np.ndarray
    q_range: np.ndarray  # (radii, 2)


def fit_exponents(radii: ArrayLike, distances: ArrayLike, phi: ArrayLike) -> Exponents:
    """Fit |Φ_e| ∝ a^p at each distance and ∝ d^q at each radius (``phi``: (radii, distances))."""
    la, ld = np.log(np.asarray(radii, float)), np.log(np.asarray(distances, float))
    lp = np.log(np.abs(np.asarray(phi, float)))

    def slopes(x, y):  # y: (..., len(x))
        fit = np.polyfit(x, y.T, 1)[0]
        local = np.diff(y, axis=-1) / np.diff(x)
        return fit, np.stack([local.min(axis=-1), local.max(axis=-1)], axis=-1)

    p, p_range = slopes(la, lp.T)
    q, q_range = slopes(ld, lp)
    return Exponents(p, p_range, q, q_range)

