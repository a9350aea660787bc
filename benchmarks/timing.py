"""Shared helpers of the benchmark scripts: timing after compilation, and the printed table."""

from __future__ import annotations

import os
import platform
import statistics
import time

import jax


def timed(fn, repeats: int):
    """(result of the first call, its seconds including compilation, median seconds of
    ``repeats`` further calls)."""
    start = time.perf_counter()
    result = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        walls.append(time.perf_counter() - start)
    return result, first, statistics.median(walls)


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores | "
            f"jax {jax.__version__} on {jax.devices()[0].platform}")


def print_table(title: str, rows, footer: str, width: int = 54) -> None:
    """Rows of (case, compile+first seconds or None, wall seconds, note)."""
    print(f"{title} | {machine()}")
    header = f"{'case':{width}} {'compile+1st (s)':>15} {'wall (ms)':>10}  note"
    print(header)
    print("-" * len(header))
    for name, first, wall, note in rows:
        print(f"{name:{width}} {('-' if first is None else f'{first:.2f}'):>15} {wall * 1e3:>10.1f}  {note}")
    print(footer)


def environment() -> dict:
    """Where and when a benchmark ran: the header of every results file."""
    import datetime

    import jaxneuro

    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "device": str(jax.devices()[0]),
            "cpu": platform.processor() or platform.machine(), "jax": jax.__version__,
            "jaxneuro": jaxneuro.__version__, "python": platform.python_version()}


def merge_results(path, out: dict) -> None:
    """Update the JSON results file ``path`` with ``out`` (sections not run are kept)."""
    import json
    from pathlib import Path

    from jaxneuro.output import json_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.update(out)
    path.write_text(json_text(existing, indent=2))
    print(f"\nwrote {path}")


def table(title: str, header, rows) -> None:
    """Print ``rows`` under ``header`` in left-aligned columns, after a blank line and ``title``."""
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
