"""The graded table on the terminal (rich), from the report's view model.

The table must read wherever a gate's verdict is read: a wide terminal, an 80-column one, and a
CI log (not a terminal at all, so no width of its own). Nothing is ever cut: Status never wraps,
Metric and Target keep their width when they can and wrap at their spaces when they cannot,
Measured and the optional columns wrap inside their cells, and when the width left for them is
too narrow to read, the optional columns (Client side, vs baseline) move to lines below the
table, one per objective. Below about 60 columns each objective is printed as a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports.context import ReportContext

__all__ = ["print_table", "LOG_WIDTH", "output_width", "Layout", "layout"]

_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "no_data": "dim", "inconclusive": "dim"}
#: The width of a CI log (or any output that is not a terminal) unless ``COLUMNS`` says otherwise.
LOG_WIDTH = 100
#: Below this many characters a wrapping column is too narrow to read: the optional ones move below.
_MIN_READABLE = 30
#: The least Measured keeps, and the least Metric and Target wrap to, before the table gives way to blocks.
_MIN_MEASURED = 16
_MIN_NAME = 10
#: The columns every table has, in order; Client side and vs baseline are optional.
_BASE = ("Metric", "Target", "Measured", "Status")
#: Between two columns of ``box.SIMPLE_HEAD`` without edges: a space of padding either side of a blank rule.
_GAP = 3


def output_width(out: TextIO, environ: Mapping[str, str]) -> int | None:
    """The width to lay out for: ``COLUMNS`` when it is a positive number, else the terminal's
    own (``None``: rich asks it), else ``LOG_WIDTH`` for a log."""
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if out.isatty() else LOG_WIDTH


def _widest(header: str, cells: list[str]) -> int:
    return max([cell_len(header), *(cell_len(c) for c in cells)])


def print_table(ctx: ReportContext, out: TextIO, environ: Mapping[str, str] | None = None) -> None:
    """Print Metric | Target | Measured | Status [| Client side] [| vs baseline], then the verdict
    line and the reason of each objective that did not pass."""
    tty = out.isatty()
    console = Console(file=out, width=output_width(out, environ or {}), highlight=False, no_color=not tty,
                      soft_wrap=False)
    with console.capture() as captured:
        _print(ctx, console)
    # Cells are padded to their column's width: trailing blanks only lengthen a log's lines.
    out.write("".join(line.rstrip(" ") + "\n" for line in captured.get().splitlines()))


@dataclass(frozen=True)
class Layout:
    """How the table fits a width: each column's width (in order), the optional columns moved below
    the table, and whether even that is too wide, so each objective is printed as a block instead."""

    widths: dict[str, int]
    below: tuple[str, ...] = ()
    stacked: bool = False


def layout(cells: dict[str, list[str]], width: int) -> Layout:
    """Widths for ``cells`` (column -> its texts; Metric, Target, Measured, Status, then the optional
    columns) at ``width`` characters. Pure.

    Status is never wrapped. Metric and Target keep their widest text when they can; otherwise
    Target wraps at its spaces first, then Metric, neither below ``_MIN_NAME``; Measured keeps at
    least ``_MIN_MEASURED``; the optional columns stay in the table only with ``_MIN_READABLE``
    each, and move below it otherwise.
    """
    widest = {name: _widest(name, texts) for name, texts in cells.items()}
    optional = [name for name in cells if name not in _BASE]
    status = widest["Status"]
    names = widest["Metric"] + widest["Target"]
    # Inline: the optional columns and Measured share what the three fixed columns leave.
    room = width - status - names - _GAP * (len(_BASE) + len(optional) - 1)
    if optional and room >= _MIN_READABLE * (1 + len(optional)):
        share = room // (1 + len(optional))
        widths = {"Metric": widest["Metric"], "Target": widest["Target"],
                  "Measured": min(widest["Measured"], share), "Status": status}
        widths.update({name: min(widest[name], share) for name in optional})
        spare = room - sum(widths[n] for n in ("Measured", *optional))
        widths["Measured"] += min(spare, widest["Measured"] - widths["Measured"])
        return Layout(widths)
    room = width - status - _GAP * (len(_BASE) - 1)
    measured = min(widest["Measured"], max(_MIN_MEASURED, room - names))
    left = room - measured
    if left >= names:
        metric, target = widest["Metric"], widest["Target"]
    elif left - widest["Metric"] >= _MIN_NAME:
        metric, target = widest["Metric"], left - widest["Metric"]  # Target wraps first: "(warn ...)" below
    elif left >= 2 * _MIN_NAME:
        metric, target = left - _MIN_NAME, _MIN_NAME  # then Metric wraps at its spaces too
    else:
        return Layout({}, tuple(optional), stacked=True)
    measured = max(measured, room - metric - target) if widest["Measured"] > measured else measured
    return Layout({"Metric": metric, "Target": target, "Measured": min(measured, room - metric - target),
                   "Status": status}, tuple(optional))


def _print(ctx: ReportContext, console: Console) -> None:
    """The table, what moved below it, the verdict line and the reasons, laid out for ``console.width``."""
    cells = {"Metric": [r.title for r in ctx.rows], "Target": [r.target for r in ctx.rows],
             "Measured": [r.measured for r in ctx.rows], "Status": [f"{r.icon} {r.label}" for r in ctx.rows]}
    if ctx.has_client:
        cells["Client side"] = [r.client for r in ctx.rows]
    if ctx.has_baseline:
        cells["vs baseline"] = [r.baseline for r in ctx.rows]
    plan = layout(cells, console.width)
    if plan.stacked:
        # Too narrow for columns: each objective as a block, nothing cut.
        for i, row in enumerate(ctx.rows):
            console.print(Text(f"{row.title}  {cells['Status'][i]}", style=_STYLES[row.status]))
            _print_notes(console, [("target", row.target, ""), ("measured", row.measured, "")])
    else:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for column, width in plan.widths.items():
            table.add_column(column, width=width, no_wrap=column == "Status", overflow="fold")
        for i, row in enumerate(ctx.rows):
            styles = {"Status": _STYLES[row.status], "vs baseline": "bold red" if row.regressed else ""}
            table.add_row(*(Text(cells[column][i], style=styles.get(column, "")) for column in plan.widths))
        console.print(table)
    below = [(row.id, f"{name.lower()}: {cells[name][i]}", "bold red" if name == "vs baseline" and row.regressed
              else "") for name in plan.below for i, row in enumerate(ctx.rows) if cells[name][i]]
    _print_notes(console, below)
    if ctx.zone_rows:
        _print_zones(ctx, console)
    console.print(Text(f"{ctx.icon} {ctx.label}: {ctx.reason}", style=_STYLES.get(ctx.verdict, "")))
    _print_notes(console, [(row.id, row.reason, "") for row in ctx.rows if row.status != "pass"])


def _print_zones(ctx: ReportContext, console: Console) -> None:
    """The load zones' figures (client side, per zone): a table when it fits, else a line per zone."""
    console.print(Text(ctx.zones_text))
    headers = ctx.zone_headers
    widths = [max(len(h), *(len(row[i]) for row in ctx.zone_rows)) for i, h in enumerate(headers)]
    if sum(widths) + 3 * len(widths) <= console.width:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for h in headers:
            table.add_column(h, no_wrap=True)
        for row in ctx.zone_rows:
            table.add_row(*row)
        console.print(table)
    else:
        _print_notes(console, [(row[0], ", ".join(f"{h.lower()} {c}" for h, c in zip(headers[1:], row[1:])), "")
                               for row in ctx.zone_rows])


def _print_notes(console: Console, notes: list[tuple[str, str, str]]) -> None:
    """``  id: text`` lines, the text wrapped under itself (a hanging indent), not under the id."""
    if not notes:
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, min_width=1)
    grid.add_column(overflow="fold")
    for oid, text, style in notes:
        grid.add_row(Text(f" {oid}:"), Text(text, style=style))
    console.print(grid)
