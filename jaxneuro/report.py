"""The report of ``jaxneuro reproduce``: every figure with its caption, one comparison table,
the machine and the time per section, as ``report.md`` and a self-contained ``report.html``.

The report only lays out what the sections computed (:class:`Comparison` rows and
:class:`FigureNote` captions); it computes nothing.

Examples:
    >>> from jaxneuro import report
    >>> row = report.Comparison("Cooley–Dodge velocity", "m/s", notebook=18.75, jaxneuro=18.7215,
    ...                         reference=18.7318, reference_label="Richardson")
    >>> f"{row.relative_difference:.1e}"
    '-5.5e-04'
    >>> print(report.markdown_table([row]).splitlines()[2])
    | Cooley–Dodge velocity (m/s) | 18.75 | 18.7215 | 18.7318 (Richardson) | -5.5e-04 |  |
"""

from __future__ import annotations

import html
import math
from typing import NamedTuple, Optional

__all__ = ["Comparison", "FigureNote", "markdown", "markdown_table", "html_page", "format_value"]


class Comparison(NamedTuple):
    """One row of the table: a quantity from the notebook, from jaxneuro, and the converged or
    reference value it should be judged against.

    Attributes:
        quantity: what it is.
        unit: its unit ("" for unitless).
        notebook: the notebook's printed value, or None where the notebook has none.
        jaxneuro: jaxneuro's value.
        reference: the converged or independent reference value, or None.
        reference_label: how the reference was obtained (e.g. "Richardson, 3 grids").
        note: one short remark.
    """

    quantity: str
    unit: str
    notebook: Optional[float] = None
    jaxneuro: Optional[float] = None
    reference: Optional[float] = None
    reference_label: str = ""
    note: str = ""

    @property
    def relative_difference(self) -> Optional[float]:
        """jaxneuro / reference − 1 (or against the notebook where there is no reference)."""
        against = self.reference if self.reference is not None else self.notebook
        if against is None or self.jaxneuro is None or against == 0 or not math.isfinite(against):
            return None
        return self.jaxneuro / against - 1.0


class FigureNote(NamedTuple):
    """A figure file of the report and the caption that says what to look at."""

    file: str
    caption: str
    section: str


HEADER = ("quantity", "notebook", "jaxneuro", "converged or reference", "relative difference", "note")


def format_value(value, digits: int = 12) -> str:
    """A number as the shortest text that keeps ``digits`` significant digits ("—" for none)."""
    if value is None:
        return "—"
    value = float(value)
    if not math.isfinite(value):
        return "NaN"
    return f"{value:.{digits}g}"


def _cells(row: Comparison) -> list:
    unit = f" ({row.unit})" if row.unit else ""
    reference = format_value(row.reference)
    if row.reference is not None and row.reference_label:
        reference += f" ({row.reference_label})"
    difference = row.relative_difference
    return [row.quantity + unit, format_value(row.notebook), format_value(row.jaxneuro), reference,
            "—" if difference is None else f"{difference:.1e}", row.note]


def markdown_table(rows) -> str:
    """The comparison table in Markdown."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def _machine_lines(machine: dict, walls: dict, total: float) -> list:
    lines = [f"- {key}: {value}" for key, value in machine.items()]
    lines.append("- wall time per section: " + ", ".join(f"{k} {v:.1f} s" for k, v in walls.items())
                 + f"; total {total:.1f} s (compilation included; sections may run in parallel)")
    return lines


def markdown(title: str, intro: str, rows, figures, machine: dict, walls: dict, total: float) -> str:
    """``report.md``: the table, then every figure with its caption, then the machine."""
    parts = [f"# {title}", "", intro, "", "## Numbers", "", markdown_table(rows), "", "## Figures", ""]
    for k, note in enumerate(figures, 1):
        parts += [f"![{note.file}]({note.file})", "", f"*Figure {k} ({note.section}).* {note.caption}", ""]
    parts += ["## Machine", "", *_machine_lines(machine, walls, total), ""]
    return "\n".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { font-family: ui-monospace, monospace; white-space: nowrap; }
figure { margin: 2em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.95em; max-width: 900px; }
"""


def html_page(title: str, intro: str, rows, figures, machine: dict, walls: dict, total: float) -> str:
    """``report.html``: one self-contained page (figures linked beside it, no scripts)."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADER)
    body_rows = []
    for row in rows:
        cells = _cells(row)
        body_rows.append("<tr>" + "".join(f'<td{" class=num" if 0 < i < 5 else ""}>{e(c)}</td>'
                                          for i, c in enumerate(cells)) + "</tr>")
    figs = [f'<figure id="figure-{k}"><img src="{e(n.file)}" alt="{e(n.caption)}">'
            f"<figcaption><b>Figure {k} ({e(n.section)}).</b> {e(n.caption)}</figcaption></figure>"
            for k, n in enumerate(figures, 1)]
    machine_items = "".join(f"<li>{e(line[2:])}</li>" for line in _machine_lines(machine, walls, total))
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{e(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n<h1>{e(title)}</h1>\n<p>{e(intro)}</p>\n"
            f'<h2>Numbers</h2>\n<table id="comparison"><thead><tr>{head}</tr></thead><tbody>\n'
            + "\n".join(body_rows) + "\n</tbody></table>\n<h2>Figures</h2>\n" + "\n".join(figs)
            + f"\n<h2>Machine</h2>\n<ul>{machine_items}</ul>\n</body></html>\n")
