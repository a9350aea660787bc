"""Matplotlib figures, one function per figure.  Solvers never call this module.

Each function takes results (arrays or the result objects of the science modules), draws on
``ax`` (or ``axes``) when given, else on a new figure, and returns the ``Figure``; saving is the
caller's business.  Nothing here computes science: phase-plane fields, nullclines and scans come
in as arguments.  One style for all (:data:`STYLE`: sizes, grid, no top/right spines), axis
labels with units, plain tick labels on log axes (``300``, not ``3×10²``).  Importing this
module leaves matplotlib's backend as it was (matplotlib picks a non-interactive one by itself
where there is no display).

Examples:
    >>> import numpy as np
    >>> from jaxneuro import plotting
    >>> fig = plotting.radius_sweep_figure(np.array([100.0, 200.0]), np.array([12.0, 17.0]), 0.5, 1.2)
    >>> fig.axes[0].get_xlabel()
    'Axon radius (µm)'
    >>> plotting.plt.close(fig)
"""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .cable import CableSolution

_UM_PER_CM = 1e4

#: The one style of every figure (matplotlib rc parameters).
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 120, "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9,
    "legend.fontsize": 7.5, "legend.framealpha": 0.85, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "axes.grid": True, "grid.alpha": 0.25, "axes.spines.top": False, "axes.spines.right": False,
    "lines.linewidth": 1.5, "figure.constrained_layout.use": True,
}


def _styled(fn):
    """Draw inside :data:`STYLE` (the rc context only lasts for the call)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with plt.rc_context(STYLE):
            return fn(*args, **kwargs)

    return wrapper


def _axes(ax, figsize=(6, 4)):
    """(figure, axes): those of ``ax``, or a new figure's."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def plain_log_ticks(ax, axis: str = "both") -> None:
    """Plain numbers (1, 10, 100, 0.5 …) on log axes instead of 10^k and k×10^n labels."""
    for name in ("x", "y") if axis == "both" else (axis,):
        target = ax.xaxis if name == "x" else ax.yaxis
        if (ax.get_xscale() if name == "x" else ax.get_yscale()) != "log":
            continue
        target.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        target.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        target.set_minor_formatter(NullFormatter())


def _sample_index(solution: CableSolution, time: float) -> int:
    return int(np.argmin(np.abs(np.asarray(solution.t) - time)))


# ----------------------------------------------------------------------------------------
# The cable.


@_styled
def spatial_profiles(solution: CableSolution, times, title: str = "", *, ax=None):
    """Membrane potential (mV from rest) along the cable (cm) at the given ``times`` (ms)
    (notebook Figure 2)."""
    fig, ax = _axes(ax, (7, 3.2))
    x_cm = np.asarray(solution.x) / _UM_PER_CM
    v = np.asarray(solution.v)
    for t in times:
        ax.plot(x_cm, v[_sample_index(solution, t)], color="black", lw=1.2)
    ax.set_xlim(x_cm[0], x_cm[-1])
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel(r"$\Delta V_m$ (mV)")
    ax.set_title(title or "Spatial profiles at " + ", ".join(f"{t:g}" for t in times[:3]) + "… ms")
    return fig


@_styled
def cooley_dodge_figure(solution: CableSolution, profile_times=(0.2, 0.5, 1.0, 2.0, 3.0),
                        positions_cm=(0.0, 1.0, 2.0, 3.0), velocity: float | None = None, *, axes=None):
    """Replica of Cooley & Dodge (1966) Fig. 2 (notebook Figure 3): space profiles at
    ``profile_times`` (ms), top; time courses at ``positions_cm``, bottom (two ``axes``)."""
    if axes is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6))
    else:
        (top, bottom), fig = axes, axes[0].figure
    x_cm = np.asarray(solution.x) / _UM_PER_CM
    t = np.asarray(solution.t)
    v = np.asarray(solution.v)
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(profile_times)))
    for time, shade in zip(profile_times, shades):
        top.plot(x_cm, v[_sample_index(solution, time)], color=shade, label=f"{time:g} ms")
    top.legend(loc="upper right", title="time", ncols=len(profile_times))
    top.set_xlim(0, x_cm[-1])
    top.set_ylim(-20, 135)
    top.set_xlabel("Position (cm)")
    top.set_ylabel(r"$\Delta V_m$ (mV)")
    label = f": {velocity:.4f} m/s between 2 and 3 cm" if velocity is not None else ""
    top.set_title("Cooley & Dodge (1966), Fig. 2" + label)
    dx_cm = x_cm[1] - x_cm[0]
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(positions_cm)))
    for pos, shade in zip(positions_cm, shades):
        bottom.plot(t, v[:, int(round(pos / dx_cm))], color=shade, label=f"{pos:g} cm")
    bottom.set_xlim(0, min(3.5, t[-1]))
    bottom.set_ylim(-20, 135)
    bottom.set_xlabel("Time (ms)")
    bottom.set_ylabel(r"$\Delta V_m$ (mV)")
    bottom.legend(loc="upper right", title="position", ncols=len(positions_cm))
    return fig


@_styled
def convergence_figure(results: dict, *, ax=None):
    """|velocity − Richardson value| (m/s) against dx (µm), log–log, for each labelled
    :class:`~jaxneuro.cable.ConvergedVelocity` in ``results``, with a dx² guide."""
    fig, ax = _axes(ax, (5, 4))
    first = next(iter(results.values()))
    for label, cv in results.items():
        dx = np.asarray(cv.dx)
        err = np.abs(np.asarray(cv.velocities) - cv.velocity)
        ax.loglog(dx, err, "o-", label=f"{label}: {cv.velocity:.6f} m/s")
    ref = np.asarray(first.dx)
    e0 = abs(first.velocities[0] - first.velocity)
    ax.loglog(ref, e0 * (ref / ref[0]) ** 2, "k--", lw=1, label=r"$\propto \Delta x^2$")
    ax.set_xlabel(r"$\Delta x$ (µm), with $\Delta t \propto \Delta x$")
    ax.set_ylabel("|velocity − Richardson| (m/s)")
    ax.set_title("Second-order convergence of the Lees scheme")
    ax.legend(loc="lower right")
    plain_log_ticks(ax, "x")
    return fig


@_styled
def peak_along_cable(solution: CableSolution, title: str = "Peak potential along the cable", *, ax=None):
    """Per-node peak potential (mV) against position (cm): the far end must fire fully."""
    fig, ax = _axes(ax, (6, 3))
    x_cm = np.asarray(solution.x) / _UM_PER_CM
    ax.plot(x_cm, np.asarray(solution.peak_v), color="black")
    ax.set_xlim(x_cm[0], x_cm[-1])
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel(r"Peak $\Delta V_m$ (mV)")
    ax.set_title(title)
    return fig


@_styled
def radius_sweep_figure(radii, velocities, exponent: float, prefactor: float, *, ax=None):
    """Conduction velocity (m/s) against radius (µm), log–log, with the fitted power law."""
    fig, ax = _axes(ax, (5, 4))
    radii = np.asarray(radii)
    ax.loglog(radii, velocities, "o", ms=3, label="simulated (one compiled call)")
    ax.loglog(radii, prefactor * radii**exponent, "k-", lw=1, label=f"fit: $\\propto a^{{{exponent:.4f}}}$")
    ax.set_xlabel("Axon radius (µm)")
    ax.set_ylabel("Conduction velocity (m/s)")
    ax.set_title("Velocity against radius (Cooley–Dodge membrane)")
    ax.legend(loc="upper left")
    plain_log_ticks(ax)
    return fig


# ----------------------------------------------------------------------------------------
# The travelling wave and the pulses.


@_styled
def cable_versus_wave_figure(result, *, ax=None):
    """Notebook Fig. 4: the cable's time course at 2 cm against the travelling-wave solution
    started from the cable's state at 1 ms (both on the time axis of that start, ms; mV)."""
    fig, ax = _axes(ax)
    sol = result.jaxneuro_cable
    node = int(np.argmin(np.abs(np.asarray(sol.x) - 20_000.0)))
    ax.plot(np.asarray(sol.t) - 1.0, np.asarray(sol.v)[:, node], lw=3, color="tab:red", alpha=0.6,
            label="full cable at 2 cm (Lees / Crank–Nicolson)")
    ax.plot(result.trajectory_z, result.trajectory_v, lw=1.2, color="tab:blue",
            label=f"travelling wave, u = {result.from_jaxneuro_cable:.9f} m/s\n(found automatically)")
    ax.set_xlim(0, 4)
    ax.set_ylim(-20, 110)
    ax.set_xlabel("Time from the start state (ms)")
    ax.set_ylabel(r"$\Delta V_m$ (mV)")
    ax.set_title("Cable against travelling wave (notebook Fig. 4)")
    ax.legend(loc="center right")
    return fig


@_styled
def speed_temperature_figure(result, *, ax=None):
    """The fast pulse's speed (m/s) against temperature (°C) up to where propagation fails, and
    the shooting's second root (a front from rest onto a wave train, not a pulse)."""
    fig, ax = _axes(ax)
    ax.plot(result.temperatures, result.fast, "o-", ms=3, label="fast (stable) pulse")
    temperatures = result.temperatures if result.train_front_temperatures is None else result.train_front_temperatures
    ax.plot(temperatures, result.train_front, "s", ms=3, color="0.5",
            label="front onto a wave train (shooting's 2nd root)")
    failure = result.failure
    ax.axvline(float(failure.temperature), color="k", ls=":", lw=1)
    ax.plot([float(failure.temperature)], [float(failure.speed)], "k*", ms=10,
            label=f"failure: {float(failure.temperature):.2f} °C, {float(failure.speed):.2f} m/s")
    ax.set_xlabel("Temperature (°C)")
    ax.set_ylabel("Speed (m/s)")
    ax.set_title("Travelling pulses by shooting, Cooley–Dodge axon (a = 238 µm)")
    ax.set_ylim(0, 1.3 * np.nanmax(result.fast))
    ax.legend(loc="upper left")
    return fig


# ----------------------------------------------------------------------------------------
# The extracellular potential.


@_styled
def spike_profiles_figure(profiles: dict, *, xlim=(-4.0, 1.5), ax=None):
    """Spike profiles (:class:`jaxneuro.extracellular.SpikeProfile`, labelled) along the axon,
    each from its own peak: ΔV (mV) against position from the peak (mm) (notebook Fig. 5)."""
    fig, ax = _axes(ax)
    for label, profile in profiles.items():
        ax.plot((np.asarray(profile.x) - float(profile.peak)) / 1e3, profile.v, lw=2, label=label)
    ax.set_xlim(*xlim)
    ax.set_xlabel("Position from the peak (mm)")
    ax.set_ylabel(r"$\Delta V_m$ (mV)")
    ax.set_title("Spatial profiles when the spike peaks at mid-cable (notebook Fig. 5)")
    ax.legend(loc="upper left")
    return fig


@_styled
def spike_profile_figure(profile, *, ax=None):
    """One spike profile with its spline peak (dotted) (notebook Fig. 6)."""
    fig, ax = _axes(ax)
    x_cm = np.asarray(profile.x) / _UM_PER_CM
    ax.plot(x_cm, profile.v, lw=2)
    ax.axvline(float(profile.peak) / _UM_PER_CM, color="k", ls=":", lw=1)
    ax.set_xlim(x_cm[0], x_cm[-1])
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel(r"$\Delta V_m$ (mV)")
    ax.set_title(f"Prototypical profile, a = {float(profile.axon.radius):g} µm (notebook Fig. 6); dotted: spline peak")
    return fig


@_styled
def widened_profiles_figure(profile, radii=(0.5, 1.0, 2.0), *, ax=None):
    """The profile's spline widened by sqrt(a) for each radius (µm) (notebook Fig. 7)."""
    fig, ax = _axes(ax)
    u = np.linspace(-4000, 1000, 5001)
    for radius in radii:
        ax.plot(u, profile.spline(profile.axon._replace(radius=radius))(u), lw=2, label=f"a = {radius:g} µm")
    ax.set_xlim(u[0], u[-1])
    ax.set_xlabel("Position from the peak (µm)")
    ax.set_ylabel(r"$\Delta V_m$ (mV)")
    ax.set_title("The 1 µm profile widened by sqrt(a) (notebook Fig. 7)")
    ax.legend(loc="upper left")
    return fig


@_styled
def phi_radius_figure(radii, distances, phi, *, n_distances: int = 4, ax=None):
    """Φe(a) / Φe(a₀) against a / a₀ at the first ``n_distances`` distances, with x^1.4 and
    x^1.9 for comparison (notebook Fig. 8).  ``phi`` (radii × distances) in any unit."""
    fig, ax = _axes(ax)
    radii, distances, phi = np.asarray(radii), np.asarray(distances), np.asarray(phi)
    ratio = radii / radii[0]
    shades = plt.cm.Greys(np.linspace(0.45, 0.95, n_distances))
    for j in range(n_distances):
        ax.plot(ratio, phi[:, j] / phi[0, j], color=shades[j], lw=1.5, label=f"{distances[j]:g} µm")
    ax.plot(ratio, ratio**1.9, color="tab:red", lw=1.5, ls="--", label="$x^{1.9}$")
    ax.plot(ratio, ratio**1.4, color="tab:blue", lw=1.5, ls="--", label="$x^{1.4}$")
    ax.set_xlabel(f"Radius ratio a / {radii[0]:g} µm")
    ax.set_ylabel("Φe ratio")
    ax.set_title(f"Φe(a) / Φe({radii[0]:g} µm) (notebook Fig. 8)")
    ax.legend(loc="upper left", title="distance")
    return fig


@_styled
def phi_distance_figure(radii, distances, phi, *, shown=(0.1, 0.5, 1.0, 10.0, 20.0), ax=None):
    """−Φe (µV) against electrode distance (µm), log–log, for the radii ``shown`` (µm)
    (notebook Fig. 9)."""
    fig, ax = _axes(ax)
    radii, distances, phi = np.asarray(radii), np.asarray(distances), np.asarray(phi)
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(shown)))
    for radius, shade in zip(shown, shades):
        i = int(np.argmin(np.abs(radii - radius)))
        ax.loglog(distances, -phi[i], "o-", ms=3, color=shade, label=f"a = {radius:g} µm")
    ax.set_xlabel("Electrode distance d (µm)")
    ax.set_ylabel("−Φe (µV)")
    ax.set_title("Φe against distance (notebook Fig. 9; σe = 0.3 S/m)")
    ax.legend(loc="lower left")
    plain_log_ticks(ax)
    return fig


@_styled
def waveform_figure(waveforms: dict, *, xlim=(5, 11), ax=None):
    """Extracellular waveforms {distance µm: (t ms, Φe µV)} over time."""
    fig, ax = _axes(ax)
    for d, (t, w) in waveforms.items():
        if d <= 100.0:
            ax.plot(t, w, lw=1.5, label=f"{d:g} µm")
    ax.set_xlim(*xlim)
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Φe (µV)")
    ax.set_title("Extracellular waveform at 0.5 cm, 1 µm axon (line-segment formula)")
    ax.legend(title="distance from axis", loc="lower right")
    return fig


# ----------------------------------------------------------------------------------------
# The population oscillator (E, I unitless; times in the model's time unit).

_KIND_STYLE = {"saddle": ("X", "tab:orange"), "stable node": ("o", "tab:green"), "unstable node": ("o", "tab:red"),
               "stable focus": ("s", "tab:green"), "unstable focus": ("s", "tab:red"), "degenerate": ("D", "k"),
               "centre": ("P", "tab:blue")}


@_styled
def population_run_figure(run, end=None, *, axes=None):
    """A :class:`jaxneuro.population.Trajectory`: E and I against time (left) and the orbit in
    the (I, E) plane (right)."""
    if axes is None:
        fig, axes = plt.subplots(ncols=2, figsize=(9, 3.4))
    fig = axes[0].figure
    axes[0].plot(run.t, run.E, color="red", label="excitatory E")
    axes[0].plot(run.t, run.I, color="deepskyblue", label="inhibitory I")
    axes[0].set_xlabel("Time (model time unit)")
    axes[0].set_ylabel("Activity (unitless)")
    axes[0].legend(loc="lower right")
    axes[1].plot(run.I, run.E, color="magenta")
    axes[1].set_xlabel("Inhibitory I")
    axes[1].set_ylabel("Excitatory E")
    end = np.asarray(run.state[-1]) if end is None else np.asarray(end)
    fig.suptitle(f"Population oscillations, homoclinic preset (end of run E, I = {end[0]:.3f}, {end[1]:.3f})")
    return fig


@_styled
def phase_plane_figure(field, nullclines, fixed_points, *, ax=None):
    """Speed |f| (colour), vector field (arrows), nullclines ``((E, I) of dE/dt = 0, (E, I) of
    dI/dt = 0)`` and fixed points (:class:`jaxneuro.population.FixedPoint`, by type) on a
    :class:`jaxneuro.population.Field`."""
    fig, ax = _axes(ax, (7, 6))
    E, I = np.asarray(field.E), np.asarray(field.I)
    extent = [E.min(), E.max(), I.min(), I.max()]
    im = ax.imshow(np.asarray(field.speed), extent=extent, origin="lower", cmap="hot", alpha=0.7, aspect="auto")
    ax.quiver(E, I, field.dE_dt, field.dI_dt, color="white", angles="xy", scale_units="xy", scale=50, width=0.004,
              alpha=0.8)
    fig.colorbar(im, ax=ax, shrink=0.7, label="speed |f| (1 / model time)")
    (xe, xi), (ye, yi) = nullclines
    ax.plot(xe, xi, "c--", lw=2, label="dE/dt = 0")
    ax.plot(ye, yi, "--", color="lime", lw=2, label="dI/dt = 0")
    for p in fixed_points:
        marker, colour = _KIND_STYLE[p.kind]
        ax.plot(p.E, p.I, marker, color=colour, ms=10, mec="k", label=p.kind)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("Excitatory E")
    ax.set_ylabel("Inhibitory I")
    ax.set_title("Speed, vector field, exact nullclines and fixed points (SNIC preset)")
    ax.legend(loc="upper left")
    return fig


@_styled
def streamplot_figure(field, *, ax=None):
    """Streamlines of a :class:`jaxneuro.population.Field`, coloured by speed."""
    fig, ax = _axes(ax, (7, 6))
    E, I = np.asarray(field.E), np.asarray(field.I)
    strm = ax.streamplot(E, I, np.asarray(field.dE_dt), np.asarray(field.dI_dt), color=np.asarray(field.speed),
                         cmap="plasma", linewidth=1.2, density=1.2, arrowstyle="->")
    fig.colorbar(strm.lines, ax=ax, shrink=0.7, label="speed |f| (1 / model time)")
    ax.set_xlim(E.min(), E.max())
    ax.set_ylim(I.min(), I.max())
    ax.set_xlabel("Excitatory E")
    ax.set_ylabel("Inhibitory I")
    ax.set_title("Vector field as streamlines coloured by speed (SNIC preset)")
    return fig


@_styled
def bifurcation_figure(scans: dict, saddle_node: float, onsets: dict, *, axes=None):
    """Bifurcation diagrams over h_E: ``scans`` {preset: (h_E values, Scan)}; fixed points by
    type and the limit cycle's E range; the saddle-node (dotted) and each onset (dashed)."""
    from .population import KINDS

    if axes is None:
        fig, axes = plt.subplots(ncols=len(scans), figsize=(11, 4), sharey=True, squeeze=False)
        axes = axes[0]
    fig = axes[0].figure
    for ax, (name, (h, s)) in zip(axes, scans.items()):
        fx, kind = np.asarray(s.fixed_E), np.asarray(s.kind)
        for code, label in enumerate(KINDS):
            mask = kind == code
            if mask.any():
                marker, colour = _KIND_STYLE[label]
                ax.plot(np.broadcast_to(h[:, None], fx.shape)[mask], fx[mask], ".", ms=3, color=colour, label=label)
        osc = np.asarray(s.oscillation.oscillating)
        ax.fill_between(h, np.where(osc, s.oscillation.E_min, np.nan), np.where(osc, s.oscillation.E_max, np.nan),
                        color="tab:purple", alpha=0.25, label="limit cycle (E range)")
        ax.axvline(saddle_node, color="k", ls=":", lw=1)
        ax.axvline(onsets[name], color="tab:purple", ls="--", lw=1)
        ax.set_xlabel("h_E (unitless)")
        ax.set_title(f"{name} preset (dotted: saddle-node, dashed: onset)")
    axes[0].set_ylabel("E at fixed points / on the cycle")
    axes[0].legend(loc="upper left", markerscale=3)
    return fig


@_styled
def bifurcation_2d_figure(h_E, h_I, scan, *, ax=None):
    """A 2-D :class:`jaxneuro.population.Scan` over (h_E, h_I): the period where it oscillates
    (colour) and the borders between 1 and 3 fixed points (white)."""
    fig, ax = _axes(ax, (6, 4.5))
    count = np.asarray(scan.valid).sum(axis=-1)
    im = ax.pcolormesh(h_E, h_I, np.where(np.asarray(scan.oscillation.oscillating),
                                          np.asarray(scan.oscillation.period), np.nan), cmap="viridis", shading="auto")
    ax.contour(h_E, h_I, count, levels=[1.5, 2.5], colors="w", linewidths=1)
    fig.colorbar(im, ax=ax, label="period (model time unit)")
    ax.set_xlabel("h_E (unitless)")
    ax.set_ylabel("h_I (unitless)")
    ax.set_title("Period over (h_E, h_I), SNIC preset; white: 1 | 3 fixed points")
    return fig


@_styled
def period_scaling_figure(scaling: dict, *, ax=None):
    """Period against μ = h_E − h_E(onset), log–log, with the fits a/√μ + b and −a ln μ + b of
    each :class:`jaxneuro.population.PeriodScaling` in ``scaling`` {preset: result}."""
    fig, ax = _axes(ax, (8, 4.5))
    for (name, sc), colour in zip(scaling.items(), ("tab:blue", "tab:red", "tab:green")):
        ax.loglog(sc.mu, sc.period, "o", color=colour, ms=6 if len(sc.mu) <= 20 else 2.5, label=f"{name} preset")
        a, b, rms = sc.sqrt_fit
        ax.loglog(sc.mu, a / np.sqrt(sc.mu) + b, "-", color=colour, lw=1, label=f"a/√μ + b (rms {rms:.1%})")
        a, b, rms = sc.log_fit
        ax.loglog(sc.mu, -a * np.log(sc.mu) + b, "--", color=colour, lw=1, label=f"−a ln μ + b (rms {rms:.1%})")
    ax.set_xlabel("μ = h_E − h_E(onset) (unitless)")
    ax.set_ylabel("Period (model time unit)")
    ax.set_title("Period near the onset of oscillation")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    plain_log_ticks(ax, "y")
    return fig


# ----------------------------------------------------------------------------------------
# Fitting and pulses.


@_styled
def fit_figure(result, recording, prediction, band=None, *, axes=None):
    """A fit at a glance: the loss per iteration (left) and the recorded values with the fitted
    model and its ±2 SE band from the parameters' uncertainty (right).

    Args:
        result: a :class:`jaxneuro.fitting.Fit`.
        recording: the recording it was fitted to (:mod:`jaxneuro.recordings`).
        prediction, band: :func:`jaxneuro.fitting.prediction` at the fitted values (values in
            the recording's shape, and their standard errors or None).
        axes: two matplotlib axes to draw on (default: a new figure).

    Returns:
        The ``Figure``.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    else:
        fig = axes[0].figure
    loss_ax, data_ax = axes
    history = np.asarray(result.loss_history)
    loss_ax.semilogy(np.arange(history.size), history, "k.-")
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel(r"loss $\frac{1}{2}\sum ((\mathrm{model}-\mathrm{data})/\sigma)^2$")
    loss_ax.set_title(f"{result.method}: {result.iterations} iterations")
    prediction = np.asarray(prediction)
    values = np.asarray(recording.values)
    if values.ndim == 1:
        x = np.asarray(getattr(recording, "t", getattr(recording, "conditions", None)))
        values, prediction = values[None], prediction[None]
        band = None if band is None else np.asarray(band)[None]
        labels = [""]
    else:
        x = np.asarray(recording.t)
        labels = [f"x = {p / 1e3:g} mm" for p in np.asarray(recording.x)]
    for k in range(values.shape[0]):
        color = f"C{k}"
        data_ax.plot(x, values[k], ".", ms=2.5, color=color, alpha=0.6)
        data_ax.plot(x, prediction[k], "-", color=color, lw=1.2, label=labels[k] or "fit")
        if band is not None:
            data_ax.fill_between(x, prediction[k] - 2 * band[k], prediction[k] + 2 * band[k], color=color, alpha=0.3)
    text = ("\n" if len(result.names) > 2 else ", ").join(f"{n} = {v:.4g} ± {s:.2g} {u}".rstrip() for n, v, s, u in
                     zip(result.names, result.values, result.standard_errors, result.units))
    data_ax.set_title(text, fontsize=8)
    data_ax.set_xlabel({"TraceRecording": "t (ms)", "WaveformRecording": "t (ms)"}.get(type(recording).__name__,
                                                                                     getattr(recording, "condition", "")))
    data_ax.set_ylabel({"TraceRecording": r"$\Delta V_m$ (mV)", "WaveformRecording": r"$\Phi_e$ (µV)"}.get(
        type(recording).__name__, "speed (m/s)"))
    data_ax.legend(fontsize=7)
    return fig


@_styled
def pulse_branch_figure(branch, *, train_front=None, ax=None):
    """Speed of the solitary pulses against the continuation parameter: the fast (stable) and
    slow (unstable) sides of a :class:`jaxneuro.pulses.PulseBranch`, the fold marked; optionally
    the shooting's second root ``train_front = (temperatures, speeds)`` for comparison.

    Returns the Figure (``ax``'s when given)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
    fast, slow = branch.fast, ~branch.fast
    ax.plot(branch.values[fast], branch.speed[fast], "-", color="tab:blue", label="fast pulse (stable)")
    ax.plot(branch.values[slow], branch.speed[slow], "-", color="tab:red", label="slow pulse (unstable)")
    if np.isfinite(branch.fold_value):
        ax.plot([branch.fold_value], [branch.fold_speed], "k*", ms=10,
                label=f"fold: {branch.fold_value:.4f}, {branch.fold_speed:.3f} m/s")
    if train_front is not None:
        ax.plot(*train_front, "--", color="0.5", lw=1, label="shooting's 2nd root (front onto a wave train)")
    unit = " (°C)" if branch.parameter == "temperature" else ""
    ax.set_xlabel(f"{branch.parameter}{unit}")
    ax.set_ylabel("Speed (m/s)")
    ax.set_title("Solitary pulses by continuation (boundary-value problem)")
    ax.legend(loc="lower left")
    return fig


@_styled
def dispersion_figure(curves, *, pulse_speeds=None, ax=None):
    """Speed against period of wave trains (:class:`jaxneuro.pulses.Dispersion`, one or many):
    the fast side solid, the slow side dashed; the solitary pulses' speeds as dotted lines."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
    for i, curve in enumerate(curves if isinstance(curves, (list, tuple)) else [curves]):
        color = f"C{i}"
        ax.plot(curve.period[curve.fast], curve.speed[curve.fast], "-", color=color, label=f"{curve.temperature:g} °C")
        ax.plot(curve.period[~curve.fast], curve.speed[~curve.fast], "--", color=color)
        ax.axhline(curve.pulse_speed, color=color, ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("Period (ms)")
    ax.set_ylabel("Speed (m/s)")
    ax.set_title("Wave trains: dispersion (dotted: the solitary pulse)")
    ax.legend(loc="lower right")
    plain_log_ticks(ax, "x")
    return fig


@_styled
def pulse_profiles_figure(pulse_list, labels, *, ax=None):
    """V (mV from rest) against z (ms) of :class:`jaxneuro.pulses.Pulse` profiles, each
    shifted so that its peak is at z = 0, with speed and peak in the legend."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4))
    for pulse, label in zip(pulse_list, labels):
        z, v = np.asarray(pulse.z), np.asarray(pulse.profile.v)
        ax.plot(z - z[np.argmax(v)], v, label=f"{label}: {float(pulse.speed):.4f} m/s, peak {float(pulse.peak_v):.2f} mV")
    ax.set_xlim(-3, 12)
    ax.set_xlabel("z = t - x/u (ms), from the peak")
    ax.set_ylabel("V (mV from rest)")
    ax.set_title(f"Solitary pulses at {float(pulse_list[0].temperature):g} °C (boundary-value problem)")
    ax.legend(loc="upper right")
    return fig
