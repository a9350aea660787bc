"""Failures as values: result codes, and the errors they become when a call is eager.

Solvers, bisections and Newton iterations return a result code (an int array, one per batch
member) beside their values, after diffrax's ``RESULTS`` and ``throw=``.  Inside ``jit``,
``vmap`` or ``grad`` the code travels with the values and a failed batch member never poisons
the others; called eagerly (concrete values) the public functions raise a clear error by
default (``throw=True``), naming the failure and the batch member.

Codes (:data:`MESSAGES` has the text of each):

==========================  ====  ==========================================================
``SUCCESSFUL``              0     converged / completed
``MAX_ITERATIONS``          1     an iteration ran out of steps before reaching its tolerance
``STALLED``                 2     an iteration could not make progress (e.g. no divergence
                                  within the integration limit inside a bisection)
``DIVERGED``                3     a state became non-finite or left its physical range
                                  (e.g. an unstable time step)
``NO_PULSE``                4     no travelling pulse of the requested branch exists (or none
                                  could be bracketed)
``DID_NOT_FIRE``            5     no spike reached the requested position (threshold never
                                  crossed there)
``NO_BRACKET``              6     the given interval does not bracket a root
``OUTSIDE``                 7     a position outside the domain (off the cable), when it could
                                  not be refused before tracing
==========================  ====  ==========================================================

Examples:
    >>> import jax.numpy as jnp
    >>> from jaxneuro import results
    >>> results.message(results.DID_NOT_FIRE)
    'no spike reached the position (the threshold was never crossed there)'
    >>> results.first_failure(jnp.array(0), jnp.array(3))
    Array(3, dtype=int32)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "SUCCESSFUL",
    "MAX_ITERATIONS",
    "STALLED",
    "DIVERGED",
    "NO_PULSE",
    "DID_NOT_FIRE",
    "NO_BRACKET",
    "OUTSIDE",
    "MESSAGES",
    "NAMES",
    "NumericalError",
    "first_failure",
    "is_concrete",
    "message",
    "name",
    "raise_if_failed",
]

Array = jax.Array

SUCCESSFUL = 0
MAX_ITERATIONS = 1
STALLED = 2
DIVERGED = 3
NO_PULSE = 4
DID_NOT_FIRE = 5
NO_BRACKET = 6
OUTSIDE = 7

#: Text of each result code.
MESSAGES = {
    SUCCESSFUL: "successful",
    MAX_ITERATIONS: "did not converge within the maximum number of iterations",
    STALLED: "the iteration stalled (no decision within the integration limit)",
    DIVERGED: "the state diverged (became non-finite or left its physical range)",
    NO_PULSE: "no travelling pulse of this branch exists (none could be bracketed)",
    DID_NOT_FIRE: "no spike reached the position (the threshold was never crossed there)",
    NO_BRACKET: "the interval does not bracket a root",
    OUTSIDE: "the position lies outside the domain (e.g. off the cable)",
}

#: Short names of the codes, as written in JSON output.
NAMES = {
    SUCCESSFUL: "successful",
    MAX_ITERATIONS: "max_iterations",
    STALLED: "stalled",
    DIVERGED: "diverged",
    NO_PULSE: "no_pulse",
    DID_NOT_FIRE: "did_not_fire",
    NO_BRACKET: "no_bracket",
    OUTSIDE: "outside",
}


class NumericalError(RuntimeError):
    """A computation failed numerically (its result code was not ``SUCCESSFUL``).

    Attributes:
        code: the first failing result code (int).
    """

    def __init__(self, text: str, code: int):
        super().__init__(text)
        self.code = int(code)


def message(code) -> str:
    """The text of a result code (int)."""
    return MESSAGES.get(int(code), f"unknown result code {int(code)}")


def name(code) -> str:
    """The short name of a result code, as used in JSON output."""
    return NAMES.get(int(code), f"code_{int(code)}")


def first_failure(*codes) -> Array:
    """Elementwise, the first non-successful code among ``codes`` (``SUCCESSFUL`` if none)."""
    out = jnp.asarray(codes[-1], jnp.int32)
    for code in reversed(codes[:-1]):
        code = jnp.asarray(code, jnp.int32)
        out = jnp.where(code != SUCCESSFUL, code, out)
    return out


def is_concrete(tree) -> bool:
    """True when no leaf of ``tree`` is a tracer (values can be read on the host)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def raise_if_failed(result, what: str, *, error=NumericalError, detail=None) -> None:
    """Raise ``error`` if any entry of the concrete result code array ``result`` is a failure.

    Does nothing when ``result`` is traced (inside ``jit``/``vmap``/``grad`` the code is
    returned as a value instead).

    Args:
        result: result code(s), int array of any (batch) shape.
        what: what failed, e.g. ``"wave speed"``; starts the message.
        error: exception type, a subclass of :class:`NumericalError`.
        detail: optional callable ``index -> str`` adding context for the first failed member.
    """
    if not is_concrete(result):
        return
    codes = np.asarray(result)
    bad = np.argwhere(codes != SUCCESSFUL) if codes.ndim else np.zeros((int(codes != SUCCESSFUL), 0), int)
    if len(bad) == 0:
        return
    first = tuple(int(i) for i in bad[0])
    code = int(codes[first])
    text = f"{what}: {message(code)}"
    if detail is not None:
        text += f" {detail(first)}"
    if codes.ndim:
        text += f" (batch member {first}; {len(bad)} of {codes.size} failed)"
    raise error(text, code)
