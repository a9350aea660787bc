"""The transform table: every public entry point × {eager, cached second call, jit, vmap, grad}.

Rows live in ``tests/transform_rows/`` (one module per jaxneuro module).  A public function
(in a module's ``__all__``) with no row, and not declared host-side in :data:`HOST_SIDE`,
fails :func:`test_every_public_function_has_a_row`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuro
from transform_rows import Row

ROW_MODULES = [importlib.import_module(f"transform_rows.{m.name}")
               for m in pkgutil.iter_modules([__import__("transform_rows").__path__[0]])]
ROWS: list[Row] = [row for module in ROW_MODULES for row in module.ROWS]
#: Public functions that run on the host (plots, file output, Python lists), with the reason.
HOST_SIDE: dict = {name: reason for module in ROW_MODULES for name, reason in getattr(module, "HOST_SIDE", {}).items()}

MODULES = ("cable", "membrane", "wave", "extracellular", "population", "tridiagonal", "integrators", "rootfinding",
           "results", "validation", "fitting", "recordings", "pulses", "bvp", "sweep", "jobs")


def public_functions():
    names = []
    for module_name in MODULES:
        module = importlib.import_module(f"jaxneuro.{module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) or (callable(obj) and hasattr(obj, "__wrapped__")):
                names.append(f"{module_name}.{name}")
    return names


def test_every_public_function_has_a_row():
    covered = {row.name for row in ROWS} | set(HOST_SIDE)
    missing = [name for name in public_functions() if name not in covered]
    assert not missing, f"public functions without a row in tests/transform_rows: {missing}"
    assert len(public_functions()) >= 40


class _CompileCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        text = record.getMessage()
        if text.startswith("Finished XLA compilation"):
            self.messages.append(text)


def count_compiles(thunk):
    """Run ``thunk`` and count XLA compilations during it (``jax.log_compiles``)."""
    handler = _CompileCounter()
    logger = logging.getLogger("jax")  # JAX's loggers are its children: their records reach it
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True):
            out = thunk()
            jax.block_until_ready(out)
    finally:
        logger.removeHandler(handler)
    return out, handler.messages


def _float_leaves(tree):
    return [np.asarray(leaf) for leaf in jax.tree.leaves(tree)
            if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating)]


def _assert_same(a, b, atol, rtol=1e-10):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol, equal_nan=True)


def _batch(row):
    return row.batch or tuple(row.x * f for f in (1.0, 1.01, 1.02))


def _ids(rows):
    return [row.name for row in rows]


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_eager_and_compile_cache(row):
    first = row.fn(row.x)
    assert jax.tree.leaves(first), "the row returns nothing to compare"
    second, compiles = count_compiles(lambda: row.fn(row.x))
    assert not compiles, f"second call compiled again: {compiles}"
    _assert_same(first, second, row.atol, rtol=0.0)


@pytest.mark.parametrize("row", [r for r in ROWS if "jit" not in r.skip], ids=_ids([r for r in ROWS if "jit" not in r.skip]))
def test_jit(row):
    _assert_same(jax.jit(row.fn)(row.x), row.fn(row.x), row.atol)


@pytest.mark.parametrize("row", [r for r in ROWS if "vmap" not in r.skip], ids=_ids([r for r in ROWS if "vmap" not in r.skip]))
def test_vmap(row):
    batch = _batch(row)
    batched = jax.vmap(row.fn)(jnp.asarray(batch))
    for i, x in enumerate(batch):
        _assert_same(jax.tree.map(lambda a: a[i], batched), row.fn(x), row.atol)


@pytest.mark.parametrize("row", [r for r in ROWS if "grad" not in r.skip], ids=_ids([r for r in ROWS if "grad" not in r.skip]))
def test_grad(row):
    def scalar(x):
        return sum(jnp.sum(leaf) for leaf in jax.tree.leaves(row.fn(x))
                   if jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating))

    derivative = float(jax.grad(scalar)(jnp.asarray(row.x, float)))
    h = row.eps * max(abs(row.x), 1e-3)
    central = (float(scalar(row.x + h)) - float(scalar(row.x - h))) / (2 * h)
    assert np.isfinite(derivative)
    assert derivative == pytest.approx(central, rel=row.rtol, abs=1e-9 * max(1.0, abs(central)))


def test_skip_reasons_are_known_transforms():
    for row in ROWS:
        assert set(row.skip) <= {"jit", "vmap", "grad"}, row.name
        assert all(isinstance(reason, str) and reason for reason in row.skip.values()), row.name


def test_version_is_package_metadata():
    from importlib.metadata import version

    assert jaxneuro.__version__ == version("jaxneuro")
