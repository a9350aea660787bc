"""Transform-table rows of jaxneuro.sweep (and the jobs it runs): a small extracellular sweep of
a synthetic spike.  Eagerly :func:`jaxneuro.sweep.run` chunks and places the members; traced
(jit, vmap, grad) it is the job over the whole batch, so both must give the same values."""

from __future__ import annotations

import jax.numpy as jnp

from jaxneuro import jobs, sweep

from . import Row
from .extracellular import profile

_DISTANCES = jnp.array([40.0, 60.0, 90.0])


def _run(radius):
    job = jobs.Extracellular(profile=profile())
    members = {"radius": jnp.broadcast_to(jnp.asarray(radius, float), (3,)), "distance": _DISTANCES}
    return sweep.run(job, members, chunk_size=2, progress=False)["phi_uV"]


ROWS = [
    Row("sweep.run", _run, 1.0),
]

HOST_SIDE = {
    **{f"sweep.{name}": "host-side bookkeeping of a sweep's members, devices and chunks (NumPy, Python numbers)"
       for name in ("product", "grid_shape", "check_members", "resolve_devices", "chunk_layout",
                    "default_memory_budget", "member_bytes")},
    "sweep.check_options": "host-side checks of a sweep's options (Python values); returns the devices",
    "sweep.plan": "host-side layout of a sweep (devices, chunk sizes) from concrete members",
    "sweep.flatten": "reshapes a batch to one axis for a module's batched function (used inside their rows)",
    "sweep.unflatten": "reshapes a flat batch's outputs back (used inside the cable, wave and population rows)",
    "sweep.use_cpu_devices": "configures JAX's CPU backend before it starts; returns nothing",
    "sweep.initialize_distributed": "joins a multi-process JAX run (jax.distributed); returns nothing",
    "jobs.default": "builds a job (static configuration) from its name",
}
