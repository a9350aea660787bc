"""Matplotlib figures, one function per figure.  Solvers never call this module.

Each function takes solutions (NumPy-convertible) and returns the ``Figure``; saving is the
caller's business.  Importing this module leaves matplotlib's backend as it was (matplotlib picks
a non-interactive one by itself where there is no display).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .cable import CableSolution

_UM_PER_CM = 1e4


def _sample_index(solution: CableSolution, time: float) -> int:
    return int(np.argmin(np.abs(np.asarray(solution.t) - time)))


def spatial_profiles(solution: CableSolution, times, title: str = ""):
    """Membrane potential along the cable at the given ``times`` (ms) (notebook Figure 2)."""
    fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
    x_cm = np.asarray(solution.x) / _UM_PER_CM
    v = np.asarray(solution.v)
    for t in times:
        ax.plot(x_cm, v[_sample_index(solution, t)], color="black", lw=1.5)
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel(r"$\Delta V_m$ (mV)")
    ax.set_title(title or "Spatial profiles every " + ", ".join(f"{t:g}" for t in times[:3]) + "… ms")
    return fig


def cooley_dodge_figure(solution: CableSolution, profile_times=(0.2, 0.5, 1.0, 2.0, 3.0),
                        positions_cm=(0.0, 1.0, 2.0, 3.0), velocity: float | None = None):
    """Replica of Cooley & Dodge (1966) Fig. 2 (notebook Figure 3): space profiles at
    ``profile_times`` (ms), top; time courses at ``positions_cm``, bottom."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), constrained_layout=True)
    x_cm = np.asarray(solution.x) / _UM_PER_CM
    t = np.asarray(solution.t)
    v = np.asarray(solution.v)
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(profile_times)))
    for time, shade in zip(profile_times, shades):
        top.plot(x_cm, v[_sample_index(solution, time)], color=shade, lw=1.5, label=f"{time:g} ms")
    top.legend(fontsize=8, loc="upper right", title="time")
    top.set_xlim(0, x_cm[-1])
    top.set_ylim(-20, 115)
    top.set_xlabel("Position (cm)")
    top.set_ylabel(r"$\Delta V_m$ (mV)")
    label = f" — {velocity:.4f} m/s between 2 and 3 cm" if velocity is not None else ""
    top.set_title("Cooley & Dodge (1966), Fig. 2" + label)
    dx_cm = x_cm[1] - x_cm[0]
    shades = plt.cm.viridis(np.linspace(0.0, 0.85, len(positions_cm)))
    for pos, shade in zip(positions_cm, shades):
        bottom.plot(t, v[:, int(round(pos / dx_cm))], color=shade, lw=1.5, label=f"{pos:g} cm")
    bottom.set_xlim(0, min(3.5, t[-1]))
    bottom.set_xlabel("Time (ms)")
    bottom.set_ylabel(r"$\Delta V_m$ (mV)")
    bottom.legend(fontsize=8, loc="upper right", title="position")
    return fig


def convergence_figure(results: dict):
    """Velocity vs dx (log–log error vs the Richardson value) for each labelled
    :class:`~jaxneuro.cable.ConvergedVelocity` in ``results``."""
    fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    for label, cv in results.items():
        dx = np.asarray(cv.dx)
        err = np.abs(np.asarray(cv.velocities) - cv.velocity)
        ax.loglog(dx, err, "o-", label=f"{label}: {cv.velocity:.6f} m/s")
    ref = np.asarray(next(iter(results.values())).dx)
    first = np.abs(np.asarray(next(iter(results.values())).velocities[0]) - next(iter(results.values())).velocity)
    ax.loglog(ref, first * (ref / ref[0]) ** 2, "k--", lw=1, label=r"$\propto \Delta x^2$")
    ax.set_xlabel(r"$\Delta x$ (µm), with $\Delta t \propto \Delta x$")
    ax.set_ylabel("|velocity - Richardson| (m/s)")
    ax.set_title("Second-order convergence of the Lees scheme")
    ax.legend(fontsize=8)
    return fig


def peak_along_cable(solution: CableSolution, title: str = "Peak potential along the cable"):
    """Per-node peak potential (mV) against position (cm): the far end must fire fully."""
    fig, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    ax.plot(np.asarray(solution.x) / _UM_PER_CM, np.asarray(solution.peak_v), color="black")
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel("Peak $\\Delta V_m$ (mV)")
    ax.set_title(title)
    return fig


def radius_sweep_figure(radii, velocities, exponent: float, prefactor: float):
    """Conduction velocity against radius (log–log) with the fitted power law."""
    fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    radii = np.asarray(radii)
    ax.loglog(radii, velocities, "o", ms=3, label="simulated (one vmapped call)")
    ax.loglog(radii, prefactor * radii**exponent, "k-", lw=1, label=f"fit: $\\propto a^{{{exponent:.4f}}}$")
    ax.set_xlabel("Axon radius (µm)")
    ax.set_ylabel("Conduction velocity (m/s)")
    ax.legend(fontsize=8)
    return fig


def cable_versus_wave_figure(result):
    """Notebook Fig. 4: the cable's time course at 2 cm against the travelling-wave solution
    started from the cable's state at 1 ms (both on the time axis of that start)."""
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    sol = result.jaxneuro_cable
    node = int(np.argmin(np.abs(np.asarray(sol.x) - 20_000.0)))
    ax.plot(np.asarray(sol.t) - 1.0, np.asarray(sol.v)[:, node], lw=3, color="tab:red", alpha=0.6,
            label="full cable at 2 cm (Lees / Crank–Nicolson)")
    ax.plot(result.trajectory_z, result.trajectory_v, lw=1.2, color="tab:blue",
            label=f"travelling wave, u = {result.from_jaxneuro_cable:.9f} m/s (found automatically)")
    ax.set_xlim(0, 4)
    ax.set_ylim(-20, 110)
    ax.set_xlabel("Time from the start state (ms)")
    ax.set_ylabel("ΔV (mV)")
    ax.set_title("Cable vs travelling wave (notebook Fig. 4)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    return fig


def speed_temperature_figure(result):
    """The fast pulse's speed against temperature up to where propagation fails, and the
    shooting's second root (a front from rest onto a wave train, not a pulse)."""
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.plot(result.temperatures, result.fast, "o-", ms=3, label="fast (stable) pulse")
    ax.plot(result.temperatures, result.train_front, "s--", ms=3, color="0.5",
            label="front onto a wave train (shooting's 2nd root)")
    failure = result.failure
    ax.axvline(float(failure.temperature), color="k", ls=":", lw=1)
    ax.plot([float(failure.temperature)], [float(failure.speed)], "k*", ms=10,
            label=f"fold: {float(failure.temperature):.2f} °C, {float(failure.speed):.2f} m/s")
    ax.set_xlabel("Temperature (°C)")
    ax.set_ylabel("Speed (m/s)")
    ax.set_title("H&H travelling pulses, Cooley–Dodge axon (a = 238 µm)", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def extracellular_figures(study) -> dict:
    """Notebook Figs. 5–9 and the extracellular waveform over time, keyed by file name.

    Args:
        study: a :class:`jaxneuro.reproduce.ExtracellularStudy` (profiles in µm and mV, Φ_e in µV).

    Returns:
        ``{file name: matplotlib Figure}``.
    """
    figs = {}
    p1, p4 = study.profile, study.profile_4um

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.plot(np.asarray(p1.x) / _UM_PER_CM, p1.v, lw=2, color="tab:red", label="a = 1 µm")
    ax.plot(np.asarray(p4.x) / _UM_PER_CM, p4.v, lw=2, color="tab:blue", label="a = 4 µm")
    ax.set_xlim(0.3, 0.7)
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel("ΔV (mV)")
    ax.set_title("Spatial profiles when the spike peaks at mid-cable (notebook Fig. 5)", fontsize=9)
    ax.legend(fontsize=8)
    figs["extracellular_fig5_profiles_1_vs_4um.png"] = fig

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.plot(np.asarray(p1.x) / _UM_PER_CM, p1.v, lw=2)
    ax.axvline(float(p1.peak) / _UM_PER_CM, color="k", ls=":", lw=1)
    ax.set_xlabel("Position (cm)")
    ax.set_ylabel("ΔV (mV)")
    ax.set_title("Prototypical profile, 1 µm axon (notebook Fig. 6); dotted: spline peak", fontsize=9)
    figs["extracellular_fig6_prototypical_profile.png"] = fig

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    u = np.linspace(-4000, 1000, 5001)
    for radius, colour in ((0.5, "tab:blue"), (1.0, "k"), (2.0, "tab:red")):
        ax.plot(u, p1.spline(p1.axon._replace(radius=radius))(u), color=colour, lw=2, label=f"a = {radius} µm")
    ax.set_xlabel("Position from the peak (µm)")
    ax.set_ylabel("ΔV (mV)")
    ax.set_title("Spline of the 1 µm profile widened by sqrt(a) (notebook Fig. 7)", fontsize=9)
    ax.legend(fontsize=8)
    figs["extracellular_fig7_spline_check.png"] = fig

    radii, distances, phi = study.radii, study.distances, study.phi
    ratio = radii / radii[0]
    fig, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
    for j in range(4):
        ax.plot(ratio, phi[:, j] / phi[0, j], color="k", lw=1.5, label="25, 50, 75, 100 µm" if j == 0 else None)
    ax.plot(ratio, ratio**1.9, color="tab:red", lw=1.5, label="$x^{1.9}$")
    ax.plot(ratio, ratio**1.4, color="tab:blue", lw=1.5, label="$x^{1.4}$")
    ax.set_xlabel("Radius ratio a / 0.1 µm")
    ax.set_ylabel("Φe ratio")
    ax.set_title("Φe(a) / Φe(0.1 µm) (notebook Fig. 8)", fontsize=10)
    ax.legend(fontsize=8)
    figs["extracellular_fig8_phi_vs_radius.png"] = fig

    fig, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
    for radius, colour in ((0.1, "tab:orange"), (0.5, "k"), (1.0, "k"), (10.0, "k"), (20.0, "brown")):
        i = int(np.argmin(np.abs(radii - radius)))
        ax.loglog(distances, -phi[i], "o-", ms=3, color=colour, lw=1.5, label=f"a = {radius} µm")
    ax.set_xlabel("Electrode distance d (µm)")
    ax.set_ylabel("−Φe (µV)")
    ax.set_title("Φe against distance (notebook Fig. 9; σe = 0.3 S/m)", fontsize=10)
    ax.legend(fontsize=8)
    figs["extracellular_fig9_phi_vs_distance.png"] = fig

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    for d in (25.0, 50.0, 100.0):
        t, w = study.waveforms[d]
        ax.plot(t, w, lw=1.5, label=f"{d:.0f} µm")
    ax.set_xlim(5, 11)
    ax.set_xlabel("Time (ms)")
    ax.set_ylabel("Φe (µV)")
    ax.set_title("Extracellular waveform at 0.5 cm, 1 µm axon (line-segment formula)", fontsize=9)
    ax.legend(title="distance from axis", fontsize=8)
    figs["extracellular_waveform_over_time.png"] = fig
    return figs


_KIND_STYLE = {"saddle": ("X", "tab:orange"), "stable node": ("o", "tab:green"), "unstable node": ("o", "tab:red"),
               "stable focus": ("s", "tab:green"), "unstable focus": ("s", "tab:red"), "degenerate": ("D", "k"), "centre": ("P", "tab:blue")}


def population_figures(study) -> dict:
    """Time course + phase portrait, speed heatmap + quiver + nullclines + fixed points,
    streamplot, bifurcation diagrams (h_E; (h_E, h_I)), period against distance to onset.
    Host-side (matplotlib); E, I unitless, times in the model's time unit."""
    from . import population as pop

    figs = {}
    run = study.run
    fig, ax = plt.subplots(ncols=2, figsize=(9, 3.4), constrained_layout=True)
    ax[0].plot(run.t, run.E, color="red", label="Excitatory E")
    ax[0].plot(run.t, run.I, color="deepskyblue", label="Inhibitory I")
    ax[0].set_xlabel("Time (model time unit)")
    ax[0].legend(loc="lower right", fontsize=8)
    ax[1].plot(run.I, run.E, color="magenta")
    ax[1].set_xlabel("Inhibitory I")
    ax[1].set_ylabel("Excitatory E")
    fig.suptitle(f"Population oscillations, homoclinic preset (end of run {np.round(study.end, 3)})", fontsize=10)
    figs["population_time_course_and_phase_portrait.png"] = fig

    params = pop.preset("snic")
    f = study.field
    fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    im = ax.imshow(np.asarray(f.speed), extent=[-10, 10, -20, 10], origin="lower", cmap="hot", alpha=0.7)
    ax.quiver(f.E, f.I, f.dE_dt, f.dI_dt, color="white", angles="xy", scale_units="xy", scale=50, width=0.004, alpha=0.8)
    fig.colorbar(im, ax=ax, shrink=0.6, label="Speed |f|")
    ax.plot(*pop.x_nullcline_curve(params), "c--", lw=2, label="dE/dt = 0")
    x = np.linspace(-10, 10, 2001)
    ax.plot(x, np.asarray(pop.y_nullcline(x, params)), "--", color="lime", lw=2, label="dI/dt = 0")
    for p in study.fixed_points["snic"]:
        marker, colour = _KIND_STYLE[p.kind]
        ax.plot(p.E, p.I, marker, color=colour, ms=10, mec="k", label=p.kind)
    ax.set_xlim(-10, 10)
    ax.set_ylim(-20, 10)
    ax.set_xlabel("Excitatory E")
    ax.set_ylabel("Inhibitory I")
    ax.set_title("SNIC preset: speed, vector field, exact nullclines, fixed points", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    figs["population_speed_quiver_nullclines.png"] = fig

    fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    fine = pop.field(params, pop.Grid2D(-10, 10, -20, 10, 200, 300))
    strm = ax.streamplot(np.asarray(fine.E), np.asarray(fine.I), np.asarray(fine.dE_dt), np.asarray(fine.dI_dt),
                         color=np.asarray(fine.speed), cmap="plasma", linewidth=1.2, density=1.2, arrowstyle="->")
    fig.colorbar(strm.lines, ax=ax, shrink=0.6, label="Speed |f|")
    ax.set_xlim(-10, 10)
    ax.set_ylim(-20, 10)
    ax.set_xlabel("Excitatory E")
    ax.set_ylabel("Inhibitory I")
    ax.set_title("Vector field as a streamplot coloured by speed (SNIC preset)", fontsize=10)
    figs["population_streamplot.png"] = fig

    fig, axes = plt.subplots(ncols=2, figsize=(11, 4), constrained_layout=True, sharey=True)
    for ax, name in zip(axes, ("homoclinic", "snic")):
        h, s = study.scans[name]
        fx, kind = np.asarray(s.fixed_E), np.asarray(s.kind)
        for code, label in enumerate(pop.KINDS):
            mask = kind == code
            if mask.any():
                marker, colour = _KIND_STYLE[label]
                ax.plot(np.broadcast_to(h[:, None], fx.shape)[mask], fx[mask], ".", ms=3, color=colour, label=label)
        osc = np.asarray(s.oscillation.oscillating)
        ax.fill_between(h, np.where(osc, s.oscillation.E_min, np.nan), np.where(osc, s.oscillation.E_max, np.nan),
                        color="tab:purple", alpha=0.25, label="limit cycle (E range)")
        ax.axvline(study.saddle_node, color="k", ls=":", lw=1)
        ax.axvline(study.onsets[name], color="tab:purple", ls="--", lw=1)
        ax.set_xlabel("h_E")
        ax.set_title(f"{name} preset (dotted: saddle-node, dashed: onset)", fontsize=9)
    axes[0].set_ylabel("E at fixed points / on the cycle")
    axes[0].legend(fontsize=7)
    figs["population_bifurcation_h_E.png"] = fig

    he, hi, s2 = study.scan_2d
    fig, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
    count = np.asarray(s2.valid).sum(axis=-1)
    im = ax.pcolormesh(he, hi, np.where(np.asarray(s2.oscillation.oscillating), np.asarray(s2.oscillation.period), np.nan),
                       cmap="viridis", shading="auto")
    ax.contour(he, hi, count, levels=[1.5, 2.5], colors="w", linewidths=1)
    fig.colorbar(im, ax=ax, label="period (model time unit; colour: oscillating)")
    ax.set_xlabel("h_E")
    ax.set_ylabel("h_I")
    ax.set_title("SNIC preset over (h_E, h_I): period; white: 1 | 3 fixed points", fontsize=9)
    figs["population_bifurcation_2d.png"] = fig

    fig, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
    for name, colour in (("snic", "tab:blue"), ("homoclinic", "tab:red")):
        sc = study.scaling[name]
        ax.loglog(sc.mu, sc.period, "o", color=colour, label=f"{name} preset")
        a, b, rms = sc.sqrt_fit
        ax.loglog(sc.mu, a / np.sqrt(sc.mu) + b, "-", color=colour, lw=1, label=f"a/√μ + b (rms {rms:.1%})")
        a, b, rms = sc.log_fit
        ax.loglog(sc.mu, -a * np.log(sc.mu) + b, "--", color=colour, lw=1, label=f"−a ln μ + b (rms {rms:.1%})")
    ax.set_xlabel("μ = h_E − h_E(onset)")
    ax.set_ylabel("Period (model time unit)")
    ax.set_title("Period near the onset of oscillation", fontsize=10)
    ax.legend(fontsize=7)
    figs["population_period_vs_onset_distance.png"] = fig
    return figs


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
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
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


def pulse_branch_figure(branch, *, train_front=None, ax=None):
    """Speed of the solitary pulses against the continuation parameter: the fast (stable) and
    slow (unstable) sides of a :class:`jaxneuro.pulses.PulseBranch`, the fold marked; optionally
    the shooting's second root ``train_front = (temperatures, speeds)`` for comparison.

    Returns the Figure (``ax``'s when given)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4), constrained_layout=True)
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
    ax.set_title("Solitary pulses by continuation (boundary-value problem)", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def dispersion_figure(curves, *, pulse_speeds=None, ax=None):
    """Speed against period of wave trains (:class:`jaxneuro.pulses.Dispersion`, one or many):
    the fast side solid, the slow side dashed; the solitary pulses' speeds as dotted lines."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4), constrained_layout=True)
    for i, curve in enumerate(curves if isinstance(curves, (list, tuple)) else [curves]):
        color = f"C{i}"
        ax.plot(curve.period[curve.fast], curve.speed[curve.fast], "-", color=color, label=f"{curve.temperature:g} °C")
        ax.plot(curve.period[~curve.fast], curve.speed[~curve.fast], "--", color=color)
        ax.axhline(curve.pulse_speed, color=color, ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("Period (ms)")
    ax.set_ylabel("Speed (m/s)")
    ax.set_title("Wave trains: dispersion (dotted: the solitary pulse)", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def pulse_profiles_figure(pulse_list, labels, *, ax=None):
    """V (mV from rest) against z (ms) of :class:`jaxneuro.pulses.Pulse` profiles, each
    shifted so that its peak is at z = 0, with speed and peak in the legend."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 4), constrained_layout=True)
    for pulse, label in zip(pulse_list, labels):
        z, v = np.asarray(pulse.z), np.asarray(pulse.profile.v)
        ax.plot(z - z[np.argmax(v)], v, label=f"{label}: {float(pulse.speed):.4f} m/s, peak {float(pulse.peak_v):.2f} mV")
    ax.set_xlim(-3, 12)
    ax.set_xlabel("z = t - x/u (ms), from the peak")
    ax.set_ylabel("V (mV from rest)")
    ax.set_title(f"Solitary pulses at {float(pulse_list[0].temperature):g} °C (boundary-value problem)", fontsize=10)
    ax.legend(fontsize=8)
    return fig
