"""Recordings to fit: membrane-potential traces, extracellular waveforms, conduction speeds.

Three types, each a pytree of NumPy arrays in jaxneuro's units, checked when made:

=============================  =====================================================================
:class:`TraceRecording`        v (mV from rest) at positions ``x`` (µm) along the axon and times ``t`` (ms)
:class:`WaveformRecording`     Φ_e (µV) at one electrode at times ``t`` (ms); its nominal distance
                               from the axis and position along it (µm)
:class:`SpeedRecording`        conduction speeds (m/s) under conditions: temperatures (°C) or radii (µm)
=============================  =====================================================================

Each may carry a noise level (standard deviation, in the values' unit; a scalar or one per
sample) that weights the fit; without one the fit estimates it from the residuals.

Files: :func:`save` and :func:`load` read and write ``.npz`` (arrays named ``<field>`` with a
``units`` entry, and ``kind``) and ``.csv`` (a header ``name [unit],...``; a trace is one row
per (t, x) sample; metadata as ``# name [unit]: value`` lines).  Units are written in every
file and checked on load: a known unit of the right dimension is converted (s, µs; mm, cm, m;
V, µV; mm/ms; K), anything else is an error naming the field.  Loading never modifies the file.

Examples:
    >>> import numpy as np, tempfile, os
    >>> from jaxneuro import recordings
    >>> rec = recordings.SpeedRecording.make("temperature", [6.3, 18.5], [10.8, 18.8], noise=0.1)
    >>> path = os.path.join(tempfile.mkdtemp(), "speeds.csv")
    >>> recordings.save(rec, path)
    >>> back = recordings.load(path)
    >>> back.condition, back.speed.tolist()
    ('temperature', [10.8, 18.8])
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import NamedTuple, Optional, Union

import numpy as np

__all__ = ["TraceRecording", "WaveformRecording", "SpeedRecording", "Recording", "UNITS", "load", "save"]

# Known units of each dimension: factor to jaxneuro's unit (first entry).
_CONVERSIONS = {
    "time": {"ms": 1.0, "s": 1e3, "µs": 1e-3, "us": 1e-3},
    "length": {"µm": 1.0, "um": 1.0, "mm": 1e3, "cm": 1e4, "m": 1e6},
    "potential": {"mV": 1.0, "V": 1e3, "µV": 1e-3, "uV": 1e-3},
    "field": {"µV": 1.0, "uV": 1.0, "mV": 1e3, "V": 1e6},
    "speed": {"m/s": 1.0, "mm/ms": 1.0, "µm/ms": 1e-3, "um/ms": 1e-3},
    "temperature": {"°C": 0.0, "degC": 0.0, "C": 0.0, "K": -273.15},  # offsets, not factors
}
_DIMENSION = {  # field -> dimension, per kind
    "trace": {"t": "time", "x": "length", "v": "potential", "noise": "potential"},
    "waveform": {"t": "time", "phi": "field", "noise": "field", "distance": "length", "position": "length"},
    "speed": {"temperature": "temperature", "radius": "length", "speed": "speed", "noise": "speed"},
}
#: jaxneuro's unit of each field, per kind of recording.
UNITS = {kind: {f: next(iter(_CONVERSIONS[d])) for f, d in fields.items()} for kind, fields in _DIMENSION.items()}
CONDITIONS = ("temperature", "radius")


def _array(name: str, value, ndim: int) -> np.ndarray:
    if value is None:
        raise ValueError(f"recording field {name} is missing")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"recording field {name} must be numbers, got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise ValueError(f"recording field {name} must have {ndim} dimension(s), got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"recording field {name} holds {int(bad.sum())} non-finite value(s) "
                         f"(first at index {index}: {array[index]})")
    return array


def _increasing(name: str, array: np.ndarray) -> None:
    if array.size < 2 or not np.all(np.diff(array) > 0):
        raise ValueError(f"recording field {name} must hold at least 2 strictly increasing values")


def _noise(noise, shape: tuple, unit: str) -> Optional[np.ndarray]:
    if noise is None:
        return None
    array = _array("noise", noise, np.ndim(noise))
    try:
        array = np.broadcast_to(array, shape).copy()
    except ValueError:
        raise ValueError(f"recording field noise ({unit}) must be a scalar or of the values' shape {shape}, "
                         f"got shape {array.shape}") from None
    if np.any(array <= 0):
        raise ValueError(f"recording field noise ({unit}) must be > 0 (a standard deviation)")
    return array


class TraceRecording(NamedTuple):
    """Membrane potential at positions along the axon.

    Attributes:
        t: sample times (ms), increasing, (n_t,).
        x: recording positions along the axon (µm), increasing, (n_x,).
        v: potential (mV from rest), (n_x, n_t).
        noise: standard deviation of v (mV): None, a scalar or (n_x, n_t).
    """

    t: np.ndarray
    x: np.ndarray
    v: np.ndarray
    noise: Optional[np.ndarray] = None

    @classmethod
    def make(cls, t, x, v, noise=None) -> "TraceRecording":
        """Checked construction (finite values, increasing t and x, v of shape (n_x, n_t))."""
        t, x, v = _array("t", t, 1), _array("x", x, 1), _array("v", v, 2)
        _increasing("t", t)
        if x.size > 1:
            _increasing("x", x)
        if v.shape != (x.size, t.size):
            raise ValueError(f"recording field v must have shape (len(x), len(t)) = ({x.size}, {t.size}), got {v.shape}")
        return cls(t, x, v, _noise(noise, v.shape, "mV"))

    @property
    def values(self) -> np.ndarray:
        return self.v


class WaveformRecording(NamedTuple):
    """The extracellular potential at one electrode.

    Attributes:
        t: sample times (ms), increasing.
        phi: potential (µV), same shape as ``t``.
        distance: nominal electrode distance from the axon's axis (µm), or NaN if unknown.
        position: nominal electrode position along the axon (µm), or NaN if unknown.
        noise: standard deviation of phi (µV): None, a scalar or one per sample.
    """

    t: np.ndarray
    phi: np.ndarray
    distance: float = float("nan")
    position: float = float("nan")
    noise: Optional[np.ndarray] = None

    @classmethod
    def make(cls, t, phi, distance=float("nan"), position=float("nan"), noise=None) -> "WaveformRecording":
        """Checked construction."""
        t, phi = _array("t", t, 1), _array("phi", phi, 1)
        _increasing("t", t)
        if phi.shape != t.shape:
            raise ValueError(f"recording field phi must have the shape of t {t.shape}, got {phi.shape}")
        for name, value in (("distance", distance), ("position", position)):
            if not isinstance(value, (int, float, np.floating, np.integer)) or np.isinf(value):
                raise ValueError(f"recording field {name} (µm) must be a finite number or NaN, got {value!r}")
        if distance <= 0:
            raise ValueError(f"recording field distance (µm) must be > 0, got {distance}")
        return cls(t, phi, float(distance), float(position), _noise(noise, phi.shape, "µV"))

    @property
    def values(self) -> np.ndarray:
        return self.phi


class SpeedRecording(NamedTuple):
    """Conduction speeds under several conditions.

    Attributes:
        condition: ``"temperature"`` (°C) or ``"radius"`` (µm): what differs between entries.
        conditions: the condition's values, (n,).
        speed: the measured speeds (m/s), (n,).
        noise: standard deviation of the speeds (m/s): None, a scalar or (n,).
    """

    condition: str
    conditions: np.ndarray
    speed: np.ndarray
    noise: Optional[np.ndarray] = None

    @classmethod
    def make(cls, condition: str, conditions, speed, noise=None) -> "SpeedRecording":
        """Checked construction."""
        if condition not in CONDITIONS:
            raise ValueError(f"recording condition must be one of {CONDITIONS}, got {condition!r}")
        conditions, speed = _array(condition, conditions, 1), _array("speed", speed, 1)
        if conditions.shape != speed.shape or conditions.size < 1:
            raise ValueError(f"recording fields {condition} and speed must have one shared length >= 1, "
                             f"got {conditions.shape} and {speed.shape}")
        if np.any(speed <= 0):
            raise ValueError("recording field speed (m/s) must be > 0")
        if condition == "radius" and np.any(conditions <= 0):
            raise ValueError("recording field radius (µm) must be > 0")
        return cls(condition, conditions, speed, _noise(noise, speed.shape, "m/s"))

    @property
    def values(self) -> np.ndarray:
        return self.speed


Recording = Union[TraceRecording, WaveformRecording, SpeedRecording]


def _kind(recording) -> str:
    kinds = {TraceRecording: "trace", WaveformRecording: "waveform", SpeedRecording: "speed"}
    if type(recording) not in kinds:
        raise ValueError(f"not a recording: {type(recording).__name__} (TraceRecording, WaveformRecording, SpeedRecording)")
    return kinds[type(recording)]


def _convert(kind: str, field: str, values, unit: str, source: str):
    dimension = _DIMENSION[kind].get(field)
    if dimension is None:
        raise ValueError(f"{source}: unknown field {field!r} for a {kind} recording (expected {sorted(_DIMENSION[kind])})")
    known = _CONVERSIONS[dimension]
    if unit not in known:
        raise ValueError(f"{source}: field {field} has unit {unit!r}, not a known {dimension} unit ({', '.join(known)})")
    values = np.asarray(values, dtype=float)
    if dimension == "temperature":
        return values + known[unit]
    return values * known[unit]


# ------------------------------------------------------------------------------------------------
# Files.


def save(recording: Recording, path) -> None:
    """Write ``recording`` to ``path`` (``.npz`` or ``.csv``, by the suffix) with its units."""
    kind, path = _kind(recording), Path(path)
    units = UNITS[kind]
    if path.suffix not in (".npz", ".csv"):
        raise ValueError(f"recording files are .npz or .csv, got {path.name!r}")
    fields = _fields(recording, kind)
    if path.suffix == ".npz":
        arrays = {name: np.asarray(value) for name, value in fields.items()}
        with open(path, "wb") as handle:
            np.savez(handle, kind=np.asarray(kind), units=np.asarray(json.dumps({f: units[f] for f in fields})), **arrays)
        return
    path.write_text(_csv_text(recording, kind, fields, units), encoding="utf-8")


def _fields(recording, kind: str) -> dict:
    fields = {}
    for name, value in recording._asdict().items():
        if name == "condition":
            continue
        if name == "conditions":
            name = recording.condition
        if value is None or (np.ndim(value) == 0 and np.isnan(value)):
            continue
        fields[name] = value
    return fields


def _csv_text(recording, kind: str, fields: dict, units: dict) -> str:
    out = io.StringIO()
    out.write(f"# jaxneuro recording: {kind}\n")
    meta = {k: v for k, v in fields.items() if np.ndim(v) == 0}
    for name, value in meta.items():
        out.write(f"# {name} [{units[name]}]: {float(value)!r}\n")
    columns = [k for k in fields if k not in meta]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f"{c} [{units[c]}]" for c in columns])
    if kind == "trace":  # one row per (x, t) sample
        x, t = np.meshgrid(recording.x, recording.t, indexing="ij")
        table = {"x": x, "t": t, "v": recording.v, "noise": recording.noise}
        data = [np.asarray(table[c]).ravel() for c in columns]
    else:
        data = [np.broadcast_to(np.asarray(fields[c]), np.shape(recording.values)).ravel() for c in columns]
    for row in zip(*data):
        writer.writerow([repr(float(v)) for v in row])
    return out.getvalue()


_HEADER = re.compile(r"^\s*([A-Za-z_]+)\s*\[(.+)\]\s*$")


def load(path) -> Recording:
    """Read a recording written by :func:`save` (or by hand in the same layout).

    Raises:
        ValueError: a missing file, unknown kind or field, a missing or unknown unit, non-finite
            values, non-increasing times, mismatched shapes; the message names the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"recording file {str(path)!r} does not exist")
    if path.suffix == ".npz":
        kind, fields = _read_npz(path)
    elif path.suffix == ".csv":
        kind, fields = _read_csv(path)
    else:
        raise ValueError(f"recording files are .npz or .csv, got {path.name!r}")
    return _build(kind, fields, str(path))


def _read_npz(path: Path):
    source = str(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            content = {k: data[k] for k in data.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{source}: not a readable .npz file ({error})") from None
    if "kind" not in content:
        raise ValueError(f"{source}: no 'kind' entry (trace, waveform or speed)")
    if "units" not in content:
        raise ValueError(f"{source}: no 'units' entry (a JSON object: field -> unit)")
    kind = str(content.pop("kind"))
    try:
        units = json.loads(str(content.pop("units")))
    except json.JSONDecodeError:
        raise ValueError(f"{source}: the 'units' entry is not JSON") from None
    if kind not in _DIMENSION:
        raise ValueError(f"{source}: unknown kind {kind!r} (trace, waveform or speed)")
    fields = {}
    for name, values in content.items():
        if name not in units:
            raise ValueError(f"{source}: field {name} has no unit in the 'units' entry")
        fields[name] = _convert(kind, name, values, units[name], source)
    return kind, fields


def _read_csv(path: Path):
    source = str(path)
    text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (as spreadsheets save) is dropped
    lines = text.splitlines()
    kind, meta, body = None, {}, []
    for line in lines:
        if line.startswith("#"):
            content = line[1:].strip()
            if content.startswith("jaxneuro recording:"):
                kind = content.split(":", 1)[1].strip()
            elif ":" in content:
                key, value = content.split(":", 1)
                match = _HEADER.match(key)
                if not match:
                    raise ValueError(f"{source}: metadata {key.strip()!r} has no unit (write 'name [unit]: value')")
                try:
                    meta[match.group(1)] = (float(value), match.group(2).strip())
                except ValueError:
                    raise ValueError(f"{source}: metadata {key.strip()!r} is not a number: {value.strip()!r}") from None
        elif line.strip():
            body.append(line)
    if kind not in _DIMENSION:
        raise ValueError(f"{source}: first line must be '# jaxneuro recording: trace|waveform|speed', got kind {kind!r}")
    if not body:
        raise ValueError(f"{source}: no header row")
    rows = list(csv.reader(body))
    header, rows = rows[0], rows[1:]
    names, units = [], []
    for column in header:
        match = _HEADER.match(column)
        if not match:
            raise ValueError(f"{source}: column {column.strip()!r} has no unit (write 'name [unit]')")
        if match.group(1) in names or match.group(1) in meta:
            raise ValueError(f"{source}: field {match.group(1)!r} is given twice")
        names.append(match.group(1))
        units.append(match.group(2).strip())
    try:
        table = np.array([[float(v) for v in row] for row in rows], dtype=float).reshape(len(rows), len(names))
    except ValueError:
        raise ValueError(f"{source}: every row must hold {len(names)} numbers") from None
    fields = {}
    for i, (name, unit) in enumerate(zip(names, units)):
        try:
            _array(name, table[:, i], 1)  # finite, reported with the column's name
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
        fields[name] = _convert(kind, name, table[:, i], unit, source)
    for name, (value, unit) in meta.items():
        fields[name] = _convert(kind, name, value, unit, source)
    if kind == "trace":
        fields = _trace_grid(fields, source)
    return kind, fields


def _trace_grid(fields: dict, source: str) -> dict:
    for name in ("t", "x", "v"):
        if name not in fields:
            raise ValueError(f"{source}: a trace needs columns t, x and v; {name} is missing")
    t, x = np.unique(fields["t"]), np.unique(fields["x"])
    if fields["v"].size != t.size * x.size:
        raise ValueError(f"{source}: a trace needs one row per (x, t) pair: {fields['v'].size} rows for "
                         f"{x.size} positions x {t.size} times")
    i, j = np.searchsorted(x, fields["x"]), np.searchsorted(t, fields["t"])
    filled = np.zeros((x.size, t.size), bool)
    filled[i, j] = True
    if not filled.all():
        raise ValueError(f"{source}: a trace needs one row per (x, t) pair (some pairs repeat)")
    out = {"t": t, "x": x}
    for name in ("v", "noise"):
        if name in fields:
            grid = np.empty((x.size, t.size))
            grid[i, j] = fields[name]
            out[name] = grid
    return out


def _build(kind: str, fields: dict, source: str) -> Recording:
    try:
        if kind == "trace":
            return TraceRecording.make(fields.get("t"), fields.get("x"), fields.get("v"), fields.get("noise"))
        if kind == "waveform":
            return WaveformRecording.make(fields.get("t"), fields.get("phi"), _scalar(fields, "distance"),
                                          _scalar(fields, "position"), fields.get("noise"))
        condition = [c for c in CONDITIONS if c in fields]
        if len(condition) != 1:
            raise ValueError(f"a speed recording needs exactly one condition column ({' or '.join(CONDITIONS)})")
        return SpeedRecording.make(condition[0], fields[condition[0]], fields.get("speed"), fields.get("noise"))
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def _scalar(fields: dict, name: str) -> float:
    value = fields.get(name)
    if value is None:
        return float("nan")
    value = np.asarray(value, float)
    if value.size != 1:
        raise ValueError(f"recording field {name} must be one number")
    return float(value.reshape(()))
