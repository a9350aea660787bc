"""Each ``jaxneuro`` command's wall time from a fresh process, with an empty compilation cache
(cold: everything compiles) and with a warm one (the programs load from the persistent cache).

    python benchmarks/cli.py                 # the single-model commands (a few minutes)
    python benchmarks/cli.py --reproduce     # also `reproduce --quick` and the full `reproduce`
    python benchmarks/cli.py --reproduce-only

Prints a table and writes ``benchmarks/results/cli.json`` and ``benchmarks/CLI.md`` (machine,
versions, date).  End to end: Python start, imports, compilation or cache loads, the run, output.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cli.json"
REPORT = HERE / "CLI.md"

COMMANDS = {
    "cable": ["cable"],
    "cable --richardson (converged velocity, 3 grids)": ["cable", "--richardson"],
    "speed": ["speed"],
    "speed --slow": ["speed", "--slow"],
    "extracellular": ["extracellular"],
    "population": ["population"],
    "phase-plane": ["phase-plane"],
    "sweep cable (3 radii)": ["sweep", "cable", "--values", "radius=150,238,400", "--out", "{tmp}/sweep"],
}
REPRODUCE = {
    "reproduce --quick": ["reproduce", "--quick", "--out", "{tmp}/quick"],
    "reproduce": ["reproduce", "--out", "{tmp}/full"],
}


def timed_call(arguments, cache: Path, tmp: Path) -> float:
    """Seconds of one ``python -m jaxneuro --cache-dir cache ARGS`` (raises if it fails)."""
    args = [a.format(tmp=tmp) for a in arguments]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "jaxneuro", "--cache-dir", str(cache), *args],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"jaxneuro {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return wall


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reproduce", action="store_true", help="also time reproduce --quick and reproduce")
    parser.add_argument("--reproduce-only", action="store_true",
                        help="time only reproduce --quick and reproduce (the other rows of the table are kept)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from timing import environment, table

    commands = REPRODUCE if args.reproduce_only else {**COMMANDS, **(REPRODUCE if args.reproduce else {})}
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for k, (name, arguments) in enumerate(commands.items()):
            cache = work / f"cache{k}"  # empty: this command's cold start
            cold = timed_call(arguments, cache, work / f"cold{k}")
            warm = timed_call(arguments, cache, work / f"warm{k}")
            rows.append({"command": f"jaxneuro {name}", "cold_s": cold, "warm_s": warm,
                         "date": environment()["date"]})
            print(f"  jaxneuro {name}: cold {cold:.1f} s, warm {warm:.1f} s", flush=True)
    table("wall time from a fresh process (s)", ("command", "cold cache", "warm cache"),
          [(r["command"], f"{r['cold_s']:.1f}", f"{r['warm_s']:.1f}") for r in rows])
    env = environment()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results = {"environment": env, "commands": {**results.get("commands", {}), **{r["command"]: r for r in rows}}}
    from jaxneuro.output import json_text

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json_text(results, indent=2))
    lines = ["# The command line, cold and warm", "",
             "Written by `python benchmarks/cli.py` from `benchmarks/results/cli.json`. Wall time of each command from a",
             "fresh process (Python start, imports, compilation or cache loads, the run, output), with an empty",
             "compilation cache (cold) and right after, with the cache it filled (warm). `reproduce` runs its",
             "sections in one process per core (2 here).", "",
             f"{env['device']}, {env['cpu']}; jax {env['jax']}, jaxneuro {env['jaxneuro']}, Python {env['python']}; "
             f"last run {env['date']}", "",
             "| command | cold cache (s) | warm cache (s) | measured |", "|---|---:|---:|---|"]
    lines += [f"| `{r['command']}` | {r['cold_s']:.1f} | {r['warm_s']:.1f} | {r.get('date', '')} |"
              for r in results["commands"].values()]
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
