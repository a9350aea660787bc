"""One engine for every batched job: chunks within a memory budget, devices by JAX sharding.

A *job* is an :class:`equinox.Module` (a pytree: its arrays are shared by every member, its
static fields are configuration) that maps a dict of member parameters, each a 1-D array with
the members along axis 0, to a pytree whose every leaf has the members along axis 0.  The
batched jobs of jaxneuro are in :mod:`jaxneuro.jobs` (cable velocity, wave speed,
extracellular potential, population scan, fitting multi-starts); any function of that form
works.

:func:`run` evaluates a job over any number of members as if in one call, but

- splits them into chunks whose estimated memory fits ``memory_budget`` (the job's
  ``member_bytes()``, or XLA's memory analysis of a one-member program), and on a CPU
  :data:`CPU_CHUNK_BYTES` per device (cache-sized chunks run fastest there),
- places each chunk on all the devices with a :class:`jax.sharding.NamedSharding` over a 1-D
  mesh (axis ``"batch"``) and runs it under :func:`jax.shard_map`, each device on its own
  members with no communication, padding the last chunk (with copies of the last member)
  and dropping the padding,
- shows a progress bar per member on a terminal (``tqdm``; quiet otherwise or when asked),
- compiles once per (job configuration, chunk size, devices): equal jobs share programs.

Several CPU "devices" use several cores for one sweep (on 2 cores, 64–4096 Cooley–Dodge cables
ran at 106–118 M compartment-steps/s on two devices, against 73–94 M as one program): ask for them before JAX starts, with :func:`use_cpu_devices`
(or ``XLA_FLAGS=--xla_force_host_platform_device_count=N``).  Several hosts: start each
process with :func:`initialize_distributed` and call :func:`run` with the same members in
every process; the devices of all processes form the mesh and every process receives the
whole result.

Under ``jit``, ``vmap`` or ``grad`` (traced members) :func:`run` is the job applied to the
whole batch: no chunks, no placement (the caller's transformation decides).

Examples:
    >>> import jaxneuro as jn
    >>> members = jn.sweep.product({"radius": [100.0, 200.0], "temperature": [6.3, 18.5]})
    >>> members["radius"].tolist(), members["temperature"].tolist()
    ([100.0, 100.0, 200.0, 200.0], [6.3, 18.5, 6.3, 18.5])
"""

from __future__ import annotations

import hashlib
import math
import os
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import results

__all__ = [
    "AXIS",
    "product",
    "grid_shape",
    "check_members",
    "check_options",
    "flatten",
    "unflatten",
    "resolve_devices",
    "chunk_layout",
    "default_memory_budget",
    "member_bytes",
    "Plan",
    "plan",
    "run",
    "use_cpu_devices",
    "initialize_distributed",
]

#: The name of the mesh axis the members are spread over.
AXIS = "batch"

#: The fraction of a device's memory (or, on the CPU, of the machine's) a sweep uses by default.
MEMORY_FRACTION = 0.25
#: On a CPU device, a chunk's estimated working set is also kept within this many bytes (about a
#: last-level cache) unless a chunk size is given: measured on Cooley–Dodge cables (2 devices),
#: 16–256 cables per device ran at 120–132 M compartment-steps/s, 512 at 97 M and 1865 at 36 M.
CPU_CHUNK_BYTES = 32 * 2**20


# ----------------------------------------------------------------------------------------
# Members: grid specs and checks (host side).


def product(spec: Mapping[str, Sequence[float]]) -> dict:
    """The members of a grid spec: every combination of the listed values, flattened.

    Args:
        spec: parameter name -> 1-D sequence of values (the parameter's unit, e.g. radius µm,
            temperature °C).  The last name varies fastest (C order, like ``np.meshgrid(...,
            indexing="ij")`` raveled).

    Returns:
        dict name -> float64 array of ``prod(len(values))`` members.

    Raises:
        ValueError: an empty spec, an empty or non-1-D list, non-numeric or non-finite values.

    Examples:
        >>> from jaxneuro import sweep
        >>> sweep.product({"radius": [1.0, 2.0], "distance": [10.0, 20.0, 30.0]})["distance"].tolist()
        [10.0, 20.0, 30.0, 10.0, 20.0, 30.0]
    """
    values = _spec_values(spec)
    grids = np.meshgrid(*values.values(), indexing="ij")
    return {name: g.ravel() for name, g in zip(values, grids)}


def grid_shape(spec: Mapping[str, Sequence[float]]) -> tuple:
    """The shape of a grid spec's product, one axis per name (in order): reshape a
    :func:`run` result's leaves with ``leaf.reshape(grid_shape(spec) + leaf.shape[1:])``."""
    return tuple(len(v) for v in _spec_values(spec).values())


def _spec_values(spec) -> dict:
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"a grid spec must be a non-empty mapping name -> values, got {spec!r}")
    out = {}
    for name, values in spec.items():
        array = np.asarray(values, dtype=object if values is None else None)
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"grid spec {name!r} must list at least one value (a 1-D list), got {values!r}")
        try:
            array = array.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"grid spec {name!r} must list numbers, got {values!r}") from None
        if not np.all(np.isfinite(array)):
            raise ValueError(f"grid spec {name!r} must list finite numbers, got {values!r}")
        out[str(name)] = array
    return out


def flatten(tree, shape: tuple):
    """Every leaf of ``tree`` broadcast to the batch ``shape`` and raveled to one axis of
    ``prod(shape)`` members: how a module's batched function hands a batch of any shape to a
    compiled program over a flat batch (``None`` leaves stay ``None``)."""
    size = math.prod(shape)
    return jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, shape).reshape(size), tree)


def unflatten(tree, shape: tuple):
    """The inverse of :func:`flatten` on outputs: leaves (members, ...) to ``shape + (...)``."""
    return jax.tree.map(lambda leaf: leaf.reshape(tuple(shape) + leaf.shape[1:]), tree)


def check_members(job, members: Mapping) -> int:
    """Check a member dict against a job (host side); return the number of members.

    Raises:
        ValueError: not a mapping, empty, a name the job does not know (listing the ones it
            does, with units), arrays not 1-D or of different lengths, non-finite values, or
            values out of the job's ranges (its ``check(members)``, when it has one).
    """
    if not isinstance(members, Mapping) or not members:
        raise ValueError(f"members must be a non-empty dict name -> 1-D array, got {members!r}")
    known = getattr(job, "parameters", None)
    if known is not None:
        unknown = [name for name in members if name not in known]
        if unknown:
            listing = ", ".join(f"{k} ({u})" if u else k for k, u in known.items())
            raise ValueError(f"unknown parameter {unknown[0]!r} for {type(job).__name__}; it sweeps: {listing}")
    sizes = set()
    for name, values in members.items():
        if not results.is_concrete(values):
            continue
        shape = np.shape(values)
        if len(shape) != 1:
            raise ValueError(f"members[{name!r}] must be 1-D (one value per member), got shape {shape}")
        if shape[0] == 0:
            raise ValueError(f"members[{name!r}] is empty: a sweep needs at least one member")
        if not np.all(np.isfinite(np.asarray(values, float))):
            raise ValueError(f"members[{name!r}] must be finite")
        sizes.add(shape[0])
    if len(sizes) > 1:
        raise ValueError(f"every members array must have the same length, got {sorted(sizes)}")
    if hasattr(job, "check") and results.is_concrete(members):
        job.check(members)  # the job's own ranges (e.g. positive radii, electrodes outside the axon)
    return sizes.pop() if sizes else int(np.shape(next(iter(members.values())))[0])


# ----------------------------------------------------------------------------------------
# Devices and chunks.


def resolve_devices(devices=None) -> list:
    """The devices a sweep spreads over: ``None`` all of the default backend's devices (of every
    process), an int the first ``n`` of them, or a sequence of :class:`jax.Device`.

    Raises:
        ValueError: a count <= 0 or more than exist (saying how many there are and how to get
            more CPU devices), or an empty sequence.
    """
    available = jax.devices()
    if devices is None:
        return list(available)
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        if jax.process_count() > 1:
            raise ValueError("in a multi-process sweep give devices=None (every process's devices) or a list of "
                             "devices, not a count")
        if devices <= 0:
            raise ValueError(f"devices must be a positive count, got {devices}")
        if devices > len(available):
            raise ValueError(
                f"devices = {devices} requested but only {len(available)} {jax.default_backend()} device(s) exist"
                + (" (for several CPU devices call jaxneuro.sweep.use_cpu_devices(n) before JAX starts, or set "
                   "XLA_FLAGS=--xla_force_host_platform_device_count=n)" if jax.default_backend() == "cpu" else ""))
        return list(available[:devices])
    devices = list(devices)
    if not devices or not all(isinstance(d, jax.Device) for d in devices):
        raise ValueError(f"devices must be None, a count or a non-empty list of jax.Device, got {devices!r}")
    return devices


def default_memory_budget(devices: Sequence) -> int:
    """Bytes a sweep may use per device by default: :data:`MEMORY_FRACTION` of the device's memory
    (from ``memory_stats()``), or on the CPU of the machine's memory shared by its CPU devices."""
    local = [d for d in devices if d.process_index == jax.process_index()] or jax.local_devices()
    stats = local[0].memory_stats() if hasattr(local[0], "memory_stats") else None
    if stats and stats.get("bytes_limit"):
        return int(MEMORY_FRACTION * stats["bytes_limit"])
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return int(MEMORY_FRACTION * total / max(1, len(jax.local_devices())))


def chunk_layout(n_members: int, per_member: int, n_devices: int, *, chunk_size: Optional[int] = None,
                 memory_budget: Optional[int] = None) -> tuple:
    """``(chunk, n_chunks)``: members per chunk (a multiple of ``n_devices``) and how many chunks.

    ``chunk_size`` (members per chunk, all devices together) if given, else as many as fit
    ``memory_budget`` bytes per device at ``per_member`` bytes each; never more than the batch
    rounded up to the devices; chunks of equal size (the last one padded by less than one member
    per device and chunk).

    Raises:
        ValueError: ``chunk_size`` <= 0, or a budget below one member's estimate.
    """
    _check_chunking(chunk_size, memory_budget)
    if memory_budget is not None:
        if per_member > memory_budget:
            raise ValueError(f"memory_budget = {memory_budget:.4g} B per device is below one member's estimated "
                             f"footprint, {per_member:.4g} B: raise the budget")
    whole = n_devices * math.ceil(n_members / n_devices)
    if chunk_size is not None:
        chunk = int(chunk_size)
    elif memory_budget is None:
        chunk = whole
    else:
        chunk = n_devices * max(1, int(memory_budget // max(per_member, 1)))
    chunk = min(n_devices * math.ceil(chunk / n_devices), whole)
    return _balanced(n_members, chunk, n_devices)


def _balanced(n_members: int, chunk: int, n_devices: int) -> tuple:
    """As few chunks as ``chunk`` allows, of equal size (a multiple of the devices): the padding
    of the last chunk is then at most one member per device and chunk."""
    n_chunks = math.ceil(n_members / chunk)
    return n_devices * math.ceil(math.ceil(n_members / n_chunks) / n_devices), n_chunks


def check_options(*, devices=None, chunk_size=None, memory_budget=None, dtype=None) -> list:
    """Check :func:`run`'s options before any work (host side); return the devices.

    Raises:
        ValueError: as :func:`run` for its options; in a multi-process run also without an
            explicit ``chunk_size`` (every process must lay the sweep out the same way).
    """
    devices = resolve_devices(devices)
    _check_chunking(chunk_size, memory_budget)
    _float_type(dtype)
    if jax.process_count() > 1 and chunk_size is None:
        raise ValueError("a multi-process sweep needs an explicit chunk_size (the same in every process: their "
                         "memory may differ, their layouts must not)")
    return devices


def _float_type(dtype):
    """``None`` (float64) or float32/float64 as a NumPy dtype; ValueError otherwise."""
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64 (None), got {dtype!r}") from None
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64 (None), got {dtype!r}")
    return dtype


def _check_chunking(chunk_size, memory_budget) -> None:
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size <= 0:
            raise ValueError(f"chunk_size must be a positive integer (members per chunk), got {chunk_size!r}")
    if memory_budget is not None:
        if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float, np.integer, np.floating)) \
                or not np.isfinite(memory_budget) or memory_budget <= 0:
            raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")


def member_bytes(job, members: Mapping) -> int:
    """Estimated bytes one member needs: the job's own ``member_bytes()`` if it has one, else XLA's
    memory analysis (arguments + outputs + temporaries) of the job compiled for one member."""
    if hasattr(job, "member_bytes"):
        return int(job.member_bytes())
    one = {name: jax.ShapeDtypeStruct((1,), jnp.result_type(np.asarray(v).dtype)) for name, v in members.items()}
    analysis = _run_whole.lower(job, one).compile().memory_analysis()
    if analysis is None:
        return 1 << 20
    return int(analysis.argument_size_in_bytes + analysis.output_size_in_bytes + analysis.temp_size_in_bytes)


# ----------------------------------------------------------------------------------------
# The compiled chunk: one program per (job's static configuration and shapes, mesh).


def _whole(job, members):
    return job(members)


_run_whole = jax.jit(_whole)


def _sharded(job, members, *, mesh: Mesh):
    return jax.shard_map(
        _whole, mesh=mesh, in_specs=(PartitionSpec(), PartitionSpec(AXIS)), out_specs=PartitionSpec(AXIS),
        check_vma=False,
    )(job, members)


#: XLA:CPU options of a program that is its own top-level computation, measured on the
#: Cooley–Dodge cable (2-core AVX-512 CPU): region-based copy analysis removes about half of the
#: buffer copies of the time loop's carry (single run 23 -> 21.6 ms on one core), and 512-bit
#: vectors where the CPU has them (single run -8 %, batch of 16 -16 %; a preference elsewhere).
#: Jobs that declare ``tuned_for_cpu`` compile with them on the CPU (64 cables through a sweep
#: on 2 devices: 95 -> 108 M compartment-steps/s).
TUNED_CPU_OPTIONS = {"xla_cpu_copy_insertion_use_region_analysis": True, "xla_cpu_prefer_vector_width": 512}
#: XLA options of programs that take long to compile: XLA:CPU's older loop-fusion code
#: generator compiles them ~35-50 % faster (2-core CPU: a pulse solve 5.1 -> 3.3 s, running
#: 45 -> 40 ms; the Cooley–Dodge cable 2.3 -> 1.2 s, but running 32 -> 35 ms, and 50 ms with
#: :data:`TUNED_CPU_OPTIONS` added).  Used by the boundary-value solves of ``pulses`` and by
#: cable runs asked for with ``simulate_cable(tuned="compile")`` (``reproduce``'s one-off runs).
#: Not the library's default for the shooting search (17 % slower) or the population's scans
#: (~25 % slower); ``reproduce``'s parallel workers, which run most programs once, compile
#: everything with it (``reproduce.WORKER_XLA_FLAGS``).  Other backends ignore the option
#: (benchmarks/NOTES.md).
FAST_COMPILE_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def _inside_trace() -> bool:
    """True while a jit is being traced (any new array is then a tracer: JAX stages every
    operation under jit), so a nested jit cannot carry its own compiler options."""
    return isinstance(jnp.zeros(()), jax.core.Tracer)


def _jit_with_options(fun: Callable, compiler_options: dict, **jit_options) -> Callable:
    """``jax.jit(fun, **jit_options)`` that compiles with ``compiler_options`` when it is the
    top-level program (called eagerly with concrete arguments) and without them when it is
    traced inside another program (``jit``, ``vmap``, ``grad``: JAX refuses options there).
    Both jitted versions are made once, here."""
    top_level = jax.jit(fun, compiler_options=compiler_options, **jit_options)
    nested = jax.jit(fun, **jit_options)

    def call(*args, **kwargs):
        eager = results.is_concrete((args, kwargs)) and not _inside_trace()
        return (top_level if eager else nested)(*args, **kwargs)

    call.__name__, call.__doc__, call.__wrapped__ = fun.__name__, fun.__doc__, fun
    return call
_run_sharded = jax.jit(_sharded, static_argnames=("mesh",))
_run_sharded_tuned = jax.jit(_sharded, static_argnames=("mesh",), compiler_options=TUNED_CPU_OPTIONS)


def _check_output(job, members, n: int):
    shapes = _run_whole.eval_shape(job, {k: jax.ShapeDtypeStruct((n,) + np.shape(v)[1:], jnp.result_type(v))
                                         for k, v in members.items()})
    for path, leaf in jax.tree_util.tree_flatten_with_path(shapes)[0]:
        if not leaf.shape or leaf.shape[0] != n:
            raise ValueError(f"{type(job).__name__} must return the members along axis 0 of every leaf; "
                             f"output{jax.tree_util.keystr(path)} has shape {leaf.shape} for {n} members")
    return shapes


def _global(array: np.ndarray, sharding) -> jax.Array:
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def _to_host(tree):
    def fetch(leaf):
        if not leaf.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(leaf, tiled=True))
        return np.asarray(leaf)

    return jax.tree.map(fetch, tree)


class Plan(NamedTuple):
    """How :func:`run` lays a sweep out: ``devices`` (list), ``chunk`` (members per chunk, all
    devices together), ``n_chunks``, ``member_bytes`` (estimated bytes per member, 0 when not
    needed) and ``memory_budget`` (bytes per device, ``None`` when a chunk size was given)."""

    devices: list
    chunk: int
    n_chunks: int
    member_bytes: int
    memory_budget: Optional[float]


def plan(job, members: Mapping, *, devices=None, chunk_size: Optional[int] = None,
         memory_budget: Optional[float] = None) -> Plan:
    """The layout :func:`run` uses for these arguments (host side; checks them, compiles nothing
    unless the job has no ``member_bytes()`` and a budget must be applied).

    Raises:
        ValueError: as :func:`run`.
    """
    devices = check_options(devices=devices, chunk_size=chunk_size, memory_budget=memory_budget)
    n = check_members(job, members)
    _check_output(job, members, n)
    per_member = member_bytes(job, members) if chunk_size is None or memory_budget is not None else 0
    budget = default_memory_budget(devices) if memory_budget is None and chunk_size is None else memory_budget
    chunk, n_chunks = chunk_layout(n, per_member, len(devices), chunk_size=chunk_size, memory_budget=budget)
    if chunk_size is None and devices[0].platform == "cpu":  # cache-sized chunks run fastest on a CPU
        cached = len(devices) * max(1, CPU_CHUNK_BYTES // max(per_member, 1))
        if cached < chunk:
            chunk, n_chunks = _balanced(n, cached, len(devices))
    return Plan(devices, chunk, n_chunks, per_member, budget)


def _as_float32(leaf):
    """A job's floating leaf as float32 (host values stay on the host)."""
    if isinstance(leaf, (np.ndarray, np.floating)) and np.issubdtype(leaf.dtype, np.floating):
        return np.asarray(leaf, np.float32)
    if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jnp.floating):
        return np.asarray(leaf, np.float32)
    return leaf


def run(
    job: Callable,
    members: Mapping,
    *,
    devices: Union[None, int, Sequence] = None,
    chunk_size: Optional[int] = None,
    memory_budget: Optional[float] = None,
    progress: Optional[bool] = None,
    dtype=None,
):
    """Evaluate ``job`` over every member, chunked and spread over devices.

    Args:
        job: a batched job (:mod:`jaxneuro.jobs`): ``job(members) -> pytree`` with the members
            along axis 0 of every input and output leaf; an :class:`equinox.Module`, so that
            equal jobs share compiled programs.
        members: dict parameter name -> 1-D array (one value per member, in the parameter's
            unit; :func:`product` expands a grid spec).
        devices: ``None`` (all devices of the default backend), a count, or a list of devices.
        chunk_size: members per chunk (all devices together; rounded up to a multiple of the
            device count).  Default: as many as ``memory_budget`` holds.
        memory_budget: bytes per device a chunk may use; default :func:`default_memory_budget`.
        progress: a progress bar on stderr: ``None`` when stderr is a terminal, or True/False.
        dtype: ``jnp.float32``: the job is traced, compiled and run with JAX's 64-bit types off
            (``jax.enable_x64(False)``), so that every float in it, and every result, is float32
            (loosen tolerances below float32's resolution, e.g. ``jobs.Speed(rtol=1e-6)``);
            ``None`` (float64) otherwise.

    Returns:
        What ``job(members)`` returns for the whole batch (jax arrays, members along axis 0; the
        same values, to rounding: XLA may round a batch of another size differently).

    Raises:
        ValueError: before anything compiles: no members, unknown names, unequal lengths,
            ``chunk_size`` <= 0, a budget too small for one member, more devices than exist.

    Examples:
        >>> import jaxneuro as jn
        >>> job = jn.jobs.Extracellular(profile=jn.extracellular.notebook_profile_run(1.0)[0])
        >>> out = jn.sweep.run(job, {"radius": [1.0, 1.0], "distance": [50.0, 100.0]}, chunk_size=1)
        >>> out["phi_uV"].shape
        (2,)
    """
    dtype = _float_type(dtype)
    n = check_members(job, members)
    if not results.is_concrete(members):  # inside a transformation: the job over the whole batch
        if dtype == np.float32 and jax.config.jax_enable_x64:
            raise ValueError("dtype=float32 needs concrete members (a float32 sweep is traced with 64-bit types "
                             "off); under jit/vmap/grad pass float32 values and run with jax.enable_x64(False)")
        return job({k: jnp.asarray(v, jnp.result_type(float)) for k, v in members.items()})
    if dtype == np.float32:
        # Traced, compiled and run with 64-bit types off: every float of the job is float32.
        with jax.enable_x64(False):
            job = jax.tree.map(_as_float32, job)
            return _run_concrete(job, {k: np.asarray(v, np.float32) for k, v in members.items()}, n, devices,
                                 chunk_size, memory_budget, progress)
    return _run_concrete(job, {k: np.asarray(v, np.float64) for k, v in members.items()}, n, devices, chunk_size,
                         memory_budget, progress)


def _run_concrete(job, host: dict, n: int, devices, chunk_size, memory_budget, progress):
    layout = plan(job, host, devices=devices, chunk_size=chunk_size, memory_budget=memory_budget)
    if jax.process_count() > 1:  # every process must sweep the same members
        from jax.experimental import multihost_utils

        digest = np.frombuffer(hashlib.sha256(b"".join(np.ascontiguousarray(v).tobytes() for v in host.values()))
                               .digest()[:8], np.int32)
        multihost_utils.assert_equal(digest, "the processes of a multi-process sweep were given different members")
    devices, chunk, n_chunks = layout.devices, layout.chunk, layout.n_chunks
    mesh = Mesh(np.array(devices), (AXIS,))
    sharding = NamedSharding(mesh, PartitionSpec(AXIS))
    replicated = NamedSharding(mesh, PartitionSpec())
    job_on_mesh = jax.tree.map(lambda leaf: _global(np.asarray(leaf), replicated) if
                               isinstance(leaf, (jax.Array, np.ndarray)) else leaf, job)

    tuned = getattr(job, "tuned_for_cpu", False) and devices[0].platform == "cpu"
    program = _run_sharded_tuned if tuned else _run_sharded

    def launch(k):
        take = np.minimum(np.arange(k * chunk, (k + 1) * chunk), n - 1)  # padded with the last member
        placed = {name: _global(values[take], sharding) for name, values in host.items()}
        return program(job_on_mesh, placed, mesh=mesh), min(chunk, n - k * chunk)

    from tqdm.auto import tqdm

    parts = []
    with tqdm(total=n, unit="member", desc=type(job).__name__, disable=None if progress is None else not progress) as bar:
        pending = launch(0)
        for k in range(n_chunks):
            following = launch(k + 1) if k + 1 < n_chunks else None  # queued while this one runs
            out, real = pending
            parts.append(jax.tree.map(lambda leaf: leaf[:real], _to_host(out)))
            bar.update(real)
            pending = following
    whole = parts[0] if len(parts) == 1 else jax.tree.map(lambda *leaves: np.concatenate(leaves), *parts)
    return jax.tree.map(jnp.asarray, whole)


# ----------------------------------------------------------------------------------------
# Starting JAX for sweeps.


def use_cpu_devices(count: int) -> None:
    """Make the CPU backend expose ``count`` devices (one per core is a good choice), so that
    :func:`run` spreads a sweep over the cores.  Must be called before JAX starts its backend
    (before the first computation).

    Raises:
        ValueError: ``count`` <= 0, or JAX has already started with a different count.
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count <= 0:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if jax.config.jax_num_cpu_devices == count:
        return
    try:
        jax.config.update("jax_num_cpu_devices", int(count))
    except RuntimeError:
        if len(jax.devices("cpu")) == count:
            return
        raise ValueError(f"JAX has already started with {len(jax.devices('cpu'))} CPU device(s); call "
                         "use_cpu_devices before the first computation (or set XLA_FLAGS="
                         f"--xla_force_host_platform_device_count={count})") from None


def initialize_distributed(coordinator_address: str, num_processes: int, process_id: int, *,
                           local_cpu_devices: Optional[int] = None) -> None:
    """Join a multi-process (multi-host) sweep: :func:`jax.distributed.initialize` with, on CPUs,
    the Gloo collectives that gather results across processes.

    Every process then calls :func:`run` with the same job and members; the mesh spans the
    devices of all processes and each process gets the whole result.

    Args:
        coordinator_address: ``"host:port"`` of process 0.
        num_processes: how many processes take part.
        process_id: this process's index, 0 … num_processes - 1.
        local_cpu_devices: CPU devices of this process (:func:`use_cpu_devices`), if given.

    Examples (two processes on one machine)::

        # process 0                                      # process 1
        sweep.initialize_distributed("localhost:4321", 2, 0)   sweep.initialize_distributed("localhost:4321", 2, 1)
        out = sweep.run(job, members)                    out = sweep.run(job, members)
    """
    if local_cpu_devices is not None:
        use_cpu_devices(local_cpu_devices)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address, num_processes=num_processes, process_id=process_id)
