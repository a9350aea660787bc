"""What jaxneuro writes: valid JSON, and files in an output folder that it owns.

* :func:`json_text` writes strict JSON: NumPy and JAX values become numbers and lists, and a
  non-finite number becomes ``null`` with the reason beside it (key ``<name>_reason``), since
  ``NaN`` and ``Infinity`` are not JSON.
* :class:`OutputFolder` is where ``jaxneuro reproduce`` writes.  Before any work it refuses a
  path that is a file, a folder it cannot write, and a folder holding anything that jaxneuro
  did not write there (a manifest, ``.jaxneuro-manifest.json``, lists what it wrote): so the
  folder is new, empty, or an earlier output of jaxneuro.  It never deletes anything, and writes each file as a temporary file in the
  folder that ``os.replace`` moves onto the name: a symlink planted at that name is replaced,
  never written through.

Examples:
    >>> from jaxneuro.output import json_text
    >>> json_text({"speed_m_per_s": float("nan"), "radii_um": [1.0, float("inf")]})
    '{"speed_m_per_s": null, "speed_m_per_s_reason": "not a finite number (nan)", "radii_um": [1.0, null], "radii_um_reason": "null entries are not finite numbers (NaN: no value; inf: unbounded)"}'
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

MANIFEST = ".jaxneuro-manifest.json"


def _plain(value):
    """NumPy/JAX scalars and arrays as Python numbers and lists; non-finite floats as None."""
    if hasattr(value, "_asdict"):  # a NamedTuple: its field names are kept
        return _plain(value._asdict())
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = str(key)
            plain = _plain(item)
            out[key] = plain
            if f"{key}_reason" in value or not _holds_null(plain):
                continue
            if plain is None:
                out[f"{key}_reason"] = f"not a finite number ({_scalar_text(item)})"
            else:
                out[f"{key}_reason"] = "null entries are not finite numbers (NaN: no value; inf: unbounded)"
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__array__") or isinstance(value, (np.generic,)):
        array = np.asarray(value)
        if array.ndim:
            return _plain(array.tolist())
        value = array.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, complex):
        return [_plain(value.real), _plain(value.imag)]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _holds_null(plain) -> bool:
    """Whether a converted value is None or a list holding None (at any depth)."""
    if plain is None:
        return True
    return isinstance(plain, list) and any(_holds_null(item) for item in plain)


def _scalar_text(value) -> str:
    try:
        return str(float(np.asarray(value)))
    except (TypeError, ValueError):
        return "None"


#: How a unit is written at the end of a file key (JSON, CSV, NPZ): ``radius_um``, ``rho_ohm_cm``.
UNIT_SUFFIXES = {"µm": "um", "Ω·cm": "ohm_cm", "°C": "degC", "mS/cm²": "mS_per_cm2", "mV": "mV", "µF/cm²": "uF_per_cm2",
                 "µA/cm²": "uA_per_cm2", "nA": "nA", "S/m": "S_per_m", "ms": "ms", "1/mV": "per_mV", "m/s": "m_per_s",
                 "µV": "uV", "": ""}


def unit_key(name: str, unit: str) -> str:
    """A file key that carries its unit: ``unit_key("radius", "µm") == "radius_um"`` (unitless: the name)."""
    suffix = UNIT_SUFFIXES[unit]
    return f"{name}_{suffix}" if suffix else name


def json_text(value, indent=None) -> str:
    """Strict JSON of ``value`` (dicts, lists, NamedTuples, NumPy/JAX arrays and numbers)."""
    return json.dumps(_plain(value), indent=indent, allow_nan=False, ensure_ascii=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class OutputFolder:
    """A folder jaxneuro writes into, checked before any work (see the module docstring).

    Args:
        path: the folder (created if missing).

    Raises:
        ValueError: ``path`` is a file, cannot be created or written, or holds a file, folder
            or link that jaxneuro did not write.
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"--out {self.path} is a file, not a folder")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"--out {self.path}: cannot create the folder ({error.strerror})") from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise ValueError(f"--out {self.path}: the folder is not writable")
        try:  # a trial write: permissions are not the only way a folder refuses files
            with tempfile.NamedTemporaryFile(dir=self.path, prefix=".jaxneuro-", delete=True):
                pass
        except OSError as error:
            raise ValueError(f"--out {self.path}: cannot write in the folder ({error.strerror})") from None
        manifest = self.path / MANIFEST
        if (manifest.exists() or manifest.is_symlink()) and (manifest.is_symlink() or not manifest.is_file()):
            raise ValueError(f"--out {self.path}: {MANIFEST} is not a file jaxneuro wrote; choose another folder")
        self.owned = set(self._manifest())
        foreign = [entry.name for entry in self.path.iterdir()
                   if entry.name != MANIFEST and not (entry.name.startswith(".jaxneuro-") and entry.is_file()
                                                      and not entry.is_symlink())
                   and (entry.name not in self.owned or entry.is_symlink() or not entry.is_file())]
        if foreign:
            raise ValueError(
                f"--out {self.path} holds files that jaxneuro did not write: {', '.join(sorted(foreign))}; "
                "choose another folder or move them (jaxneuro never overwrites or deletes them)"
            )

    def _manifest(self) -> list:
        path = self.path / MANIFEST
        if path.is_symlink() or not path.is_file():
            return []
        try:
            names = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def _replace(self, name: str, write) -> Path:
        target = self.path / name
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".jaxneuro-", suffix=Path(name).suffix)
        try:
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would stay after os.replace
            with os.fdopen(handle, "wb") as stream:
                write(stream)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return target

    def _record(self, name: str) -> None:
        if name not in self.owned:
            self.owned.add(name)
            text = json.dumps(sorted(self.owned), indent=1).encode()
            self._replace(MANIFEST, lambda stream: stream.write(text))

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` to ``name`` in the folder (atomically; never through a link)."""
        self._record(name)
        return self._replace(name, lambda stream: stream.write(data))

    def write_text(self, name: str, text: str) -> Path:
        return self.write_bytes(name, text.encode())

    def save_figure(self, name: str, figure, dpi: int = 120) -> Path:
        """Save a matplotlib figure as ``name`` (its format from the suffix)."""
        self._record(name)
        return self._replace(name, lambda stream: figure.savefig(stream, dpi=dpi, format=Path(name).suffix[1:]))
