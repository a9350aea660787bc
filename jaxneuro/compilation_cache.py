"""JAX's persistent compilation cache for the command line: compile once per machine, not per call.

The ``jaxneuro`` command and ``jaxneuro reproduce`` store every compiled XLA program in a folder
(default: ``$JAXNEURO_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxneuro/jax``, else
``~/.cache/jaxneuro/jax``), so a second call with the same shapes loads the program instead of
compiling it again (``jaxneuro cable``: ~5 s cold, well under 1 s of compilation warm).  The
folder may be deleted at any time; ``--no-cache`` (or ``JAXNEURO_CACHE_DIR=off``) turns it off.
Library users opt in with :func:`enable` (JAX's own ``jax_compilation_cache_dir`` works too).

JAX never stores a program that calls back into Python.  diffrax checks its save times with
equinox's ``error_if``, a callback that raises; the population's programs (which build those
times correctly) would then compile on every call.  So :func:`enable` also sets equinox's
documented ``EQX_ON_ERROR=nan`` (the check gives NaN, with no callback) when equinox is not
imported yet and the variable is unset; jaxneuro reports failures as result codes either way.

Examples:
    >>> from jaxneuro import compilation_cache
    >>> compilation_cache.default_dir().name
    'jax'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import jax

__all__ = ["OFF", "default_dir", "enable"]

#: Values of ``JAXNEURO_CACHE_DIR`` that turn the cache off.
OFF = ("", "0", "off", "none", "false")


def default_dir() -> Path:
    """The cache folder: ``$JAXNEURO_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxneuro/jax``, else
    ``~/.cache/jaxneuro/jax`` (not created here)."""
    explicit = os.environ.get("JAXNEURO_CACHE_DIR")
    if explicit is not None and explicit.strip().lower() not in OFF:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "jaxneuro" / "jax"


def enable(path: Optional[os.PathLike] = None) -> Optional[Path]:
    """Store compiled programs in ``path`` (default :func:`default_dir`) and load them from there.

    Every program is cached, however short its compilation (JAX's default skips those under
    1 s, which are most of a CLI call's).  Call before the first computation.

    Args:
        path: the cache folder; created if missing.

    Returns:
        The folder used, or None where ``JAXNEURO_CACHE_DIR`` turns the cache off, or the folder
        cannot be created (then JAX compiles as usual: the cache is a speed-up, never required).
    """
    if path is None:
        if os.environ.get("JAXNEURO_CACHE_DIR", "x").strip().lower() in OFF:
            return None
        path = default_dir()
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if "equinox" not in sys.modules:  # read by equinox when it is imported
        os.environ.setdefault("EQX_ON_ERROR", "nan")
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
