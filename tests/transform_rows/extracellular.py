"""Transform-table rows of jaxneuro.extracellular: a small synthetic spike (no cable run)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from jaxneuro import extracellular as ex

from . import Row

AXON = ex.NOTEBOOK_AXON  # 1 µm, ρ 150 Ω·cm
X = np.arange(0.0, 2000.0, 20.0)  # µm, 100 nodes
#: Three instants of a spike-like bump travelling along the grid (mV).
V = np.stack([100.0 * np.exp(-((X - c) / 200.0) ** 2) - 10.0 * np.exp(-((X - c + 400.0) / 300.0) ** 2)
              for c in (900.0, 1000.0, 1100.0)])
U = np.linspace(-200.0, 200.0, 9)  # µm


@functools.lru_cache(maxsize=None)
def profile() -> ex.SpikeProfile:
    return ex.SpikeProfile.from_samples(X, V[1], AXON)


ROWS = [
    Row("extracellular.potential_many", lambda h: ex.potential_many(
        profile(), jnp.full(2, 1.0), jnp.full(2, 150.0), jnp.stack([h, 2 * h]), jnp.zeros(2), jnp.full(2, 0.3)), 50.0),
    Row("extracellular.potential_scale", lambda a: ex.potential_scale(AXON._replace(radius=a)), 1.0),
    Row("extracellular.potential_scale", lambda s: ex.potential_scale(AXON, sigma_e=s), 0.3),
    Row("extracellular.kernel", lambda h: ex.kernel(U, h), 50.0),
    Row("extracellular.membrane_currents", lambda a: ex.membrane_currents(V, 20.0, AXON._replace(radius=a)), 1.0),
    Row("extracellular.membrane_currents", lambda rho: ex.membrane_currents(V, 20.0, AXON._replace(rho=rho)), 150.0),
    # grid_potential: w.r.t. electrode distance and radius, each formula.
    Row("extracellular.grid_potential", lambda h: ex.grid_potential(V, X, ex.Electrode(1000.0, h), AXON), 50.0),
    Row("extracellular.grid_potential",
        lambda h: ex.grid_potential(V, X, ex.Electrode(1000.0, h), AXON, formula="points"), 50.0),
    Row("extracellular.grid_potential",
        lambda a: ex.grid_potential(V, X, ex.Electrode(1000.0, 60.0), AXON._replace(radius=a), formula="eq10"), 1.0),
    Row("extracellular.grid_potential",
        lambda x: ex.grid_potential(V, X, ex.Electrode(x, 60.0), AXON), 950.0),
    # profile_potential: w.r.t. radius (eq. 10 with end terms) and distance (eq. 9, notebook limits).
    Row("extracellular.profile_potential",
        lambda a: ex.profile_potential(profile(), AXON._replace(radius=a), 60.0), 1.0),
    Row("extracellular.profile_potential",
        lambda h: ex.profile_potential(profile(), AXON, h, formula="eq9", units="notebook", limits=(-600.0, 600.0)),
        60.0),
    # sweep: a 2 x 2 grid, w.r.t. a radius scale and the distances; ρ (it widens the spike too).
    Row("extracellular.sweep",
        lambda a: ex.sweep(profile(), AXON._replace(radius=a * jnp.array([0.5, 1.0])), [40.0, 80.0]), 1.0),
    Row("extracellular.sweep",
        lambda h: ex.sweep(profile(), AXON._replace(radius=jnp.array([0.5, 1.0])), h * jnp.array([1.0, 2.0])), 40.0),
    Row("extracellular.sweep", lambda rho: ex.sweep(profile(), AXON._replace(rho=rho), [40.0, 80.0]), 150.0),
]

HOST_SIDE = {
    "extracellular.notebook_profile_run": "a checked cable run and a NumPy profile from its concrete history",
    "extracellular.fit_exponents": "NumPy least-squares fit of log-log slopes on concrete results (np.polyfit)",
    "extracellular.check_sweep_input": "checks concrete arguments on the host before anything is compiled",
    "extracellular.SpikeProfile.from_samples": "builds a profile from concrete samples (NumPy checks; the peak's "
                                               "Newton runs in a module-level jit)",
}
