"""Input checks that run on concrete values before anything is traced or compiled.

Every public function checks its arguments with these helpers first, so that bad input gives a
``ValueError`` naming the argument (by its pytree path, e.g. ``axon.membrane.gNa``) and the
valid range, in well under a second, instead of a JAX or NumPy message after compilation.
Traced leaves (inside ``jit``/``vmap``/``grad``) are skipped: their values are not known.

Examples:
    >>> from jaxneuro import validation
    >>> validation.check_number("radius", "abc")
    Traceback (most recent call last):
        ...
    ValueError: radius must be a number, got 'abc' (str)
    >>> validation.check_number("radius", -1.0, positive=True)
    Traceback (most recent call last):
        ...
    ValueError: radius must be > 0, got -1.0
"""

from __future__ import annotations

import math
import numbers
from typing import Optional

import jax
import numpy as np

__all__ = [
    "ABSOLUTE_ZERO",
    "TEMPERATURE_RANGE",
    "batch_shape",
    "check_choice",
    "check_integer",
    "check_interval",
    "check_number",
    "check_temperature",
    "is_finite_number",
    "is_tracer",
    "leaves_with_names",
]

#: Absolute zero (°C).
ABSOLUTE_ZERO = -273.15
#: Temperatures (°C) accepted by the H&H kinetics: liquid water, where the Q10 law is used.
TEMPERATURE_RANGE = (-10.0, 50.0)


def is_tracer(value) -> bool:
    return isinstance(value, jax.core.Tracer)


def _as_array(name: str, value) -> Optional[np.ndarray]:
    """A float array of ``value``, or ``ValueError`` if it is not numeric; None for a tracer."""
    if is_tracer(value):
        return None
    if value is None or isinstance(value, (str, bytes)) or isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if isinstance(value, numbers.Number):
        if isinstance(value, complex):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        return np.asarray(float(value))
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001  (anything NumPy cannot read is not a number)
        raise ValueError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r} (dtype {array.dtype})")
    return array.astype(float)


def check_number(
    name: str,
    value,
    *,
    positive: bool = False,
    non_negative: bool = False,
    finite: bool = True,
    lower: Optional[float] = None,
    upper: Optional[float] = None,
    unit: str = "",
    scalar: bool = False,
) -> None:
    """``ValueError`` unless ``value`` (a number or array) is numeric, finite and in range.

    Args:
        name: how the message names the argument.
        value: the value (a tracer is accepted unchecked).
        positive, non_negative: require > 0 or >= 0.
        finite: require finite values.
        lower, upper: inclusive bounds.
        unit: unit for the message.
        scalar: require a single number.
    """
    if type(value) is float and math.isfinite(value) and lower is None and upper is None:  # the common case, fast
        if (not positive or value > 0) and (not non_negative or value >= 0):
            return
    array = _as_array(name, value)
    if array is None:
        return
    unit_text = f" {unit}" if unit else ""
    shown = value if np.ndim(value) == 0 else np.asarray(value)
    if scalar and array.ndim != 0:
        raise ValueError(f"{name} must be a single number, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if finite and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {shown}")
    if positive and not np.all(array > 0):
        raise ValueError(f"{name} must be > 0{unit_text}, got {shown}")
    if non_negative and not np.all(array >= 0):
        raise ValueError(f"{name} must be >= 0{unit_text}, got {shown}")
    if lower is not None and not np.all(array >= lower):
        raise ValueError(f"{name} must be >= {lower}{unit_text}, got {shown}")
    if upper is not None and not np.all(array <= upper):
        raise ValueError(f"{name} must be <= {upper}{unit_text}, got {shown}")


def check_temperature(name: str, value) -> None:
    """Temperature (°C): above absolute zero, and within the range the H&H kinetics (with their
    Q10 = 3 scaling) are meant for, :data:`TEMPERATURE_RANGE`."""
    if type(value) is float and TEMPERATURE_RANGE[0] <= value <= TEMPERATURE_RANGE[1]:  # the common case, fast
        return
    check_number(name, value, unit="°C")
    array = _as_array(name, value)
    if array is None:
        return
    if np.any(array <= ABSOLUTE_ZERO):
        raise ValueError(f"{name} must be above absolute zero ({ABSOLUTE_ZERO} °C), got {value}")
    lo, hi = TEMPERATURE_RANGE
    if np.any(array < lo) or np.any(array > hi):
        raise ValueError(
            f"{name} must lie in [{lo}, {hi}] °C, where the Hodgkin–Huxley kinetics and their Q10 scaling "
            f"are meant to hold, got {value}"
        )


def check_integer(name: str, value, *, minimum: int = 0) -> None:
    """``ValueError`` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_choice(name: str, value, choices) -> None:
    """``ValueError`` unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_interval(name: str, interval, *, unit: str = "") -> tuple:
    """A pair (lo, hi) of finite numbers with lo < hi; returned as floats."""
    try:
        lo, hi = interval
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (lo, hi), got {interval!r}") from None
    check_number(f"{name}[0]", lo, scalar=True, unit=unit)
    check_number(f"{name}[1]", hi, scalar=True, unit=unit)
    if not float(lo) < float(hi):
        raise ValueError(f"{name} must be ordered, lo < hi, got ({lo}, {hi})")
    return float(lo), float(hi)


def leaves_with_names(tree, prefix: str):
    """(``prefix.path``, leaf) for every leaf of a pytree of NamedTuples, ``None`` leaves included."""
    paths, _ = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda x: x is None)
    out = []
    for path, leaf in paths:
        out.append((prefix + "".join(f".{getattr(k, 'name', getattr(k, 'idx', k))}" for k in path), leaf))
    return out


def batch_shape(*named_trees) -> tuple:
    """The common shape of the non-scalar leaves of ``(prefix, tree)`` pairs (``()`` if none).

    ``ValueError`` naming the leaves whose shapes disagree."""
    shapes = {}
    for prefix, tree in named_trees:
        for name, leaf in leaves_with_names(tree, prefix):
            shape = np.shape(leaf)
            if shape != ():
                shapes[name] = shape
    if len(set(shapes.values())) > 1:
        listing = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise ValueError(f"batched parameters must all have the same shape (or be scalars); got {listing}")
    return next(iter(shapes.values())) if shapes else ()


def is_finite_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
