"""NEURON's version of jaxneuro's Cooley–Dodge cable, for the benchmarks that compare with it
(``pip install neuron``).

NEURON's ``hh`` has H&H's β_m (exponent 1/18 per mV) and absolute potentials (rest -65 mV);
its E_L is set to jaxneuro's (10.598 mV above rest), so that rest is exactly -65 mV.  The
stimulus is jaxneuro's Cooley–Dodge pulse (4673 nA for 0.2 ms) at x = 0, the time stepping
Crank–Nicolson (``secondorder = 2``).  NEURON's potentials live at segment centres,
(i + 1/2) L / nseg, so 2 and 3 cm fall between two of them: both are recorded and their
parabolic peak times interpolated linearly, as jaxneuro does between its nodes.
"""

from __future__ import annotations

import numpy as np

LENGTH = 70_000.0  # µm
DIAMETER = 476.0  # µm
WINDOW = (20_000.0, 30_000.0)  # µm


class NeuronCable:
    """The cable in NEURON on ``nseg`` segments with step ``dt`` (ms): ``run()`` simulates 5 ms
    from rest; ``velocity()`` is then the velocity (m/s) between 2 and 3 cm.  Raises
    ImportError without NEURON."""

    def __init__(self, nseg: int, dt: float):
        from neuron import h

        h.load_file("stdrun.hoc")
        self.h, self.dt = h, dt
        self.axon = h.Section(name=f"axon{nseg}")
        self.axon.L, self.axon.diam, self.axon.nseg, self.axon.Ra, self.axon.cm = LENGTH, DIAMETER, nseg, 35.4, 1.0
        self.axon.insert("hh")
        self.axon.el_hh = -65.0 + 10.598
        self.stim = h.IClamp(self.axon(0.0))
        self.stim.delay, self.stim.dur, self.stim.amp = 0.0, 0.2, 4673.0
        self.centres = (np.arange(nseg) + 0.5) * LENGTH / nseg
        self.left = [int(np.searchsorted(self.centres, x)) - 1 for x in WINDOW]
        self.probes = [h.Vector().record(self.axon(self.centres[i + j] / LENGTH)._ref_v)
                       for i in self.left for j in (0, 1)]

    def run(self) -> None:
        self.h.celsius, self.h.dt, self.h.secondorder = 18.5, self.dt, 2
        self.h.finitialize(-65.0)
        self.h.continuerun(5.0)

    def velocity(self) -> float:
        v = np.stack([np.asarray(p) for p in self.probes], axis=1)
        i = np.argmax(v, axis=0)
        a, b, c = (v[i + k, np.arange(4)] for k in (-1, 0, 1))
        peaks = (i + 0.5 * (a - c) / (a - 2.0 * b + c)) * self.dt
        c0 = self.centres
        times = [peaks[2 * n] + (x - c0[j]) / (c0[j + 1] - c0[j]) * (peaks[2 * n + 1] - peaks[2 * n])
                 for n, (j, x) in enumerate(zip(self.left, WINDOW))]
        return (WINDOW[1] - WINDOW[0]) / (times[1] - times[0]) * 1e-3
