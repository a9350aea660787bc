"""NEURON's version of jaxneuro's Cooley–Dodge cable, for the benchmarks that compare with it
(``pip install neuron``).

NEURON's ``hh`` has H&H's β_m (exponent 1/18 per mV) and absolute potentials (rest -65 mV);
its E_L is set to jaxneuro's (10.598 mV above rest), so that rest is exactly -65 mV.  The
stimulus is jaxneuro's Cooley–Dodge pulse (4673 nA for 0.2 ms) at x = 0, the time stepping
Crank–Nicolson (``secondorder = 2``).  NEURON's potentials live at segment centres,
(i + 1/2) L / nseg, so 2 and 3 cm fall between two of them: both are recorded and their
parabolic peak times interpolated linearly, as jaxneuro does between its nodes.

Every run starts from NEURON's own resting potential (-65.000237 mV: ``hh`` with this E_L rests
2.4e-4 mV below -65), found by letting one compartment settle, as jaxneuro starts from its exact
rest.  Started at -65 mV instead, the cable relaxes by those 2.4e-4 mV while the pulse forms, and
the velocity at 2–3 cm is 5e-6 (relative) lower.

By default ``hh`` evaluates its rates exactly (``usetable_hh = 0``), as jaxneuro does.  NEURON's
own default reads them from tables of 200 points over -100..100 mV (1 mV apart, interpolated
linearly): that makes the converged velocity 1.6e-4 (relative) too fast.  ``tables=True`` keeps
NEURON's default (what a NEURON user gets unless they switch it off).
"""

from __future__ import annotations

import functools

import numpy as np

LENGTH = 70_000.0  # µm
DIAMETER = 476.0  # µm
WINDOW = (20_000.0, 30_000.0)  # µm


def centre_velocities(v, dt: float, centres, left, windows) -> list:
    """Velocity (m/s) in each window ``(x1, x2)`` (µm) from potentials ``v`` (steps + 1, 2 per
    position) recorded at the two compartment centres either side of each position (indices
    ``left[k]``, ``left[k] + 1``): peak times parabolic in time, linear between the centres.
    NEURON's and Jaxley's potentials both live at centres."""
    i = np.argmax(v, axis=0)
    columns = np.arange(v.shape[1])
    a, b, c = (v[i + k, columns] for k in (-1, 0, 1))
    peaks = (i + 0.5 * (a - c) / (a - 2.0 * b + c)) * dt
    positions = [x for window in windows for x in window]
    times = [peaks[2 * n] + (x - centres[j]) / (centres[j + 1] - centres[j]) * (peaks[2 * n + 1] - peaks[2 * n])
             for n, (j, x) in enumerate(zip(left, positions))]
    return [(x2 - x1) / (times[2 * k + 1] - times[2 * k]) * 1e-3 for k, (x1, x2) in enumerate(windows)]


@functools.lru_cache(maxsize=None)
def resting_potential(tables: bool = False) -> float:
    """NEURON's resting potential (mV) of this ``hh`` membrane at 18.5 °C: one compartment left
    for 300 ms from -65 mV (the slowest relaxation is ~10 ms: settled to round-off).  Once per
    process, before any cable exists (NEURON would simulate those too)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    compartment = h.Section(name="rest")
    compartment.L = compartment.diam = 10.0
    compartment.insert("hh")
    compartment.el_hh = -65.0 + 10.598
    h.celsius, h.dt, h.secondorder, h.usetable_hh = 18.5, 0.025, 0, int(tables)
    h.finitialize(-65.0)
    h.continuerun(300.0)
    return float(compartment(0.5).v)


class NeuronCable:
    """The cable in NEURON on ``nseg`` segments with step ``dt`` (ms): ``run()`` simulates
    ``t_stop`` ms from its resting potential; ``velocity()`` is then the velocity (m/s) in each window.  Raises
    ImportError without NEURON.

    Args:
        nseg, dt: segments, time step (ms).
        tables: NEURON's rate tables (its default) instead of exact rates (jaxneuro's model).
        length: cable length (µm); t_stop: duration (ms), default 5 ms on 7 cm.
        windows: ((x1, x2), ...) positions (µm) between which velocities are measured.
    """

    def __init__(self, nseg: int, dt: float, *, tables: bool = False, length: float = LENGTH, t_stop: float = None,
                 windows=(WINDOW,)):
        from neuron import h

        h.load_file("stdrun.hoc")
        self.h, self.dt, self.tables, self.windows = h, dt, tables, tuple(windows)
        self.v_rest = resting_potential(tables)
        self.t_stop = 5.0 * length / LENGTH if t_stop is None else t_stop
        self.axon = h.Section(name=f"axon{nseg}")
        self.axon.L, self.axon.diam, self.axon.nseg, self.axon.Ra, self.axon.cm = length, DIAMETER, nseg, 35.4, 1.0
        self.axon.insert("hh")
        self.axon.el_hh = -65.0 + 10.598
        self.stim = h.IClamp(self.axon(0.0))
        self.stim.delay, self.stim.dur, self.stim.amp = 0.0, 0.2, 4673.0
        self.centres = (np.arange(nseg) + 0.5) * length / nseg
        self.left = [int(np.searchsorted(self.centres, x)) - 1 for window in self.windows for x in window]
        self.probes = [h.Vector().record(self.axon(self.centres[i + j] / length)._ref_v)
                       for i in self.left for j in (0, 1)]

    def run(self) -> None:
        self.h.celsius, self.h.dt, self.h.secondorder = 18.5, self.dt, 2
        self.h.usetable_hh = int(self.tables)
        self.h.finitialize(self.v_rest)
        self.h.continuerun(self.t_stop)

    def velocities(self) -> list:
        """Velocity (m/s) in each window (:func:`centre_velocities`)."""
        v = np.stack([np.asarray(p) for p in self.probes], axis=1)
        return centre_velocities(v, self.dt, self.centres, self.left, self.windows)

    def velocity(self) -> float:
        """Velocity (m/s) in the first window (2–3 cm by default)."""
        return self.velocities()[0]
