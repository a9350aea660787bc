"""The notebooks' printed numbers (golden values), in one data file with their units.

``jaxneuro/data/reference_values.json`` holds what the two source notebooks print: the
Cooley–Dodge velocity and the hand-tuned wave speed of the Hodgkin–Huxley notebook, its list of
minimal extracellular potentials at 50 µm, and the population notebook's end of run and speed
statistics.  Tests and ``jaxneuro reproduce`` compare against these and nothing else typed by
hand.

Examples:
    >>> from jaxneuro import references
    >>> references.values()["hh_cable_notebook"]["wave_speed_hand_tuned_m_per_s"]
    18.75056546181582
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

__all__ = ["values", "NOTEBOOK_WAVE_SPEED", "NOTEBOOK_RADII", "NOTEBOOK_DISTANCES", "NOTEBOOK_PHI_50"]


def values() -> dict:
    """A fresh copy of every golden number (nested dict; units in the keys)."""
    return json.loads(resources.files("jaxneuro").joinpath("data/reference_values.json").read_text(encoding="utf-8"))


def _frozen(seq) -> np.ndarray:
    array = np.array(seq, dtype=float)
    array.flags.writeable = False
    return array


_HH = values()["hh_cable_notebook"]
#: The notebook's hand-tuned travelling-wave speed (m/s; printed as 1.8750565461815821 "mm/ms").
NOTEBOOK_WAVE_SPEED: float = _HH["wave_speed_hand_tuned_m_per_s"]
#: The notebook's radii (µm) and electrode distances (µm) of its extracellular sweep.
NOTEBOOK_RADII = _frozen(_HH["extracellular_radii_um"])
NOTEBOOK_DISTANCES = _frozen(_HH["extracellular_distances_um"])
#: Its printed minimal extracellular potential at 50 µm per radius (notebook units).
NOTEBOOK_PHI_50 = _frozen(_HH["phi_min_at_50um_notebook_units"])
del _HH
