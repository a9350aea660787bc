"""Rows of the transform test table (tests/test_transforms.py), one module per jaxneuro module.

A :class:`Row` names one public function and wraps it as ``fn(x)`` of one float ``x``, a
physical parameter (radius, temperature, distance, ...), returning a pytree of float arrays.
The table checks, for every row: eager call; the second call compiles nothing; ``jax.jit``
gives the same values; ``jax.vmap`` over 3 values equals 3 single calls; ``jax.grad`` of the
sum of the outputs agrees with central differences.  A transform that does not apply is listed
in ``skip`` with the reason (e.g. an integer-valued output has no gradient), and must be one
of ``"jit"``, ``"vmap"``, ``"grad"``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple


class Row(NamedTuple):
    name: str  # "module.function", e.g. "population.simulate"
    fn: Callable  # x -> pytree of arrays
    x: float  # the point at which it is evaluated and differentiated
    batch: tuple = ()  # 3 values for vmap; default x * (1, 1.01, 1.02)
    skip: dict = {}  # transform -> reason it does not apply
    rtol: float = 1e-5  # gradient against central differences
    eps: float = 1e-5  # relative step of the central differences
    atol: float = 1e-12  # absolute tolerance of value comparisons (jit/vmap)
