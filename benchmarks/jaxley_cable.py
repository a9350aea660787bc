"""Jaxley's version of jaxneuro's Cooley–Dodge cable, for the benchmarks that compare with it
(``pip install jaxley``).

Jaxley's ``HH`` channel has H&H's rates at 6.3 °C (β_m with exponent 1/18 per mV) and absolute
potentials (rest -65 mV); here its rates are multiplied by the Q10 factor 3^((18.5 - 6.3) / 10)
for Cooley & Dodge's 18.5 °C, and its E_L is jaxneuro's (10.598 mV above -65 mV).  The cable is
one branch of ``ncomp`` compartments (7 cm, radius 238 µm, 35.4 Ω·cm, 1 µF/cm²), sealed, started
from the exact resting potential (gates at their steady state), stimulated with jaxneuro's
Cooley–Dodge pulse (4673 nA for 0.2 ms) in the first compartment, and stepped by Jaxley's
Crank–Nicolson (``solver="crank_nicolson"``).  Like NEURON's, Jaxley's potentials live at
compartment centres, so the velocity between 2 and 3 cm comes from the two centres either side
of each position (parabolic peak times, interpolated linearly), as in ``neuron_cable.py``.
"""

from __future__ import annotations

import numpy as np

LENGTH = 70_000.0  # µm
RADIUS = 238.0  # µm
WINDOW = (20_000.0, 30_000.0)  # µm
REST = -65.000236917  # mV: H&H with E_L = -65 + 10.598 mV rests here (jaxneuro: 2.3692e-4 mV below -65)
PHI = 3.0 ** ((18.5 - 6.3) / 10.0)  # H&H's rates from 6.3 to 18.5 °C


def _warm_hh():
    """Jaxley's HH channel with its rates at 18.5 °C (×PHI), E_L = -54.402 mV."""
    from jaxley.channels import HH

    class WarmHH(HH):
        def __init__(self, name=None):
            super().__init__(name)
            self.channel_params[f"{self._name}_eLeak"] = -65.0 + 10.598

        @staticmethod
        def m_gate(v):
            alpha, beta = HH.m_gate(v)
            return PHI * alpha, PHI * beta

        @staticmethod
        def h_gate(v):
            alpha, beta = HH.h_gate(v)
            return PHI * alpha, PHI * beta

        @staticmethod
        def n_gate(v):
            alpha, beta = HH.n_gate(v)
            return PHI * alpha, PHI * beta

    return WarmHH()


class JaxleyCable:
    """The cable in Jaxley on ``ncomp`` compartments with step ``dt`` (ms).  ``run()`` simulates
    5 ms (one compiled program per ``ncomp`` and ``dt``: the first call compiles) and returns the
    recorded potentials; ``velocity(v)`` is the velocity (m/s) between 2 and 3 cm.  Raises
    ImportError without Jaxley."""

    def __init__(self, ncomp: int, dt: float):
        import jax
        import jaxley as jx

        self.dt = dt
        branch = jx.Branch(jx.Compartment(), ncomp=ncomp)
        cell = jx.Cell(branch, parents=[-1])
        cell.set("length", LENGTH / ncomp)
        cell.set("radius", RADIUS)
        cell.set("axial_resistivity", 35.4)
        cell.set("capacitance", 1.0)
        cell.insert(_warm_hh())
        cell.set("v", REST)
        cell.init_states()
        self.centres = (np.arange(ncomp) + 0.5) * LENGTH / ncomp
        self.left = [int(np.searchsorted(self.centres, x)) - 1 for x in WINDOW]
        for i in self.left:
            for j in (0, 1):
                cell.branch(0).comp(i + j).record("v", verbose=False)
        current = jx.step_current(i_delay=0.0, i_dur=0.2, i_amp=4673.0, delta_t=dt, t_max=5.0)
        cell.branch(0).comp(0).stimulate(current, verbose=False)
        self.cell = cell
        self._run = jax.jit(lambda: jx.integrate(cell, delta_t=dt, t_max=5.0, solver="crank_nicolson"))

    def run(self):
        """Potentials (mV), (4, steps + 1): the two centres either side of 2 cm, then of 3 cm."""
        return self._run().block_until_ready()

    def velocity(self, v) -> float:
        """Velocity (m/s) between 2 and 3 cm from ``run()``'s potentials."""
        from neuron_cable import centre_velocities

        return centre_velocities(np.asarray(v).T, self.dt, self.centres, self.left, (WINDOW,))[0]
