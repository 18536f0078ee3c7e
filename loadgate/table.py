"""The graded table on the terminal (rich), from the report's view model.

The table must read wherever a gate's verdict is read: a wide terminal, an 80-column one, and a
CI log (not a terminal at all, so no width of its own). Metric, Target and Status are never cut;
Measured and the optional columns wrap inside their cells, and when the width left for them is
too narrow to read, the optional columns (Client side, vs baseline) move to lines below the
table, one per objective.
"""

from __future__ import annotations

from typing import Mapping, TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports.context import ReportContext

__all__ = ["print_table", "LOG_WIDTH", "output_width"]

_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "no_data": "dim", "inconclusive": "dim"}
#: The width of a CI log (or any output that is not a terminal) unless ``COLUMNS`` says otherwise.
LOG_WIDTH = 100
#: Below this many characters a wrapping column is too narrow to read: the optional ones move below.
_MIN_READABLE = 30
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


def _print(ctx: ReportContext, console: Console) -> None:
    """The table, what moved below it, the verdict line and the reasons, laid out for ``console.width``."""
    fixed = {"Metric": [r.title for r in ctx.rows], "Target": [r.target for r in ctx.rows],
             "Status": [f"{r.icon} {r.label}" for r in ctx.rows]}
    optional: dict[str, list[str]] = {}
    if ctx.has_client:
        optional["Client side"] = [r.client for r in ctx.rows]
    if ctx.has_baseline:
        optional["vs baseline"] = [r.baseline for r in ctx.rows]
    fixed_width = sum(_widest(h, c) for h, c in fixed.items())
    inline = bool(optional) and console.width - fixed_width - _GAP * (2 + len(optional)) \
        >= _MIN_READABLE * (1 + len(optional))
    columns = ["Metric", "Target", "Measured", "Status"] + (list(optional) if inline else [])
    flexible = len(columns) - len(fixed)
    # What the wrapping columns share; each keeps at least a few characters even on a tiny screen.
    share = max((console.width - fixed_width - _GAP * (len(columns) - 1)) // flexible, 4)

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        if column in fixed:
            width = _widest(column, fixed[column])
            table.add_column(column, no_wrap=True, min_width=width, max_width=width)
        else:
            table.add_column(column, overflow="fold", ratio=1, min_width=min(_MIN_READABLE, share))
    for i, row in enumerate(ctx.rows):
        cells = [Text(row.title), Text(row.target), Text(row.measured),
                 Text(fixed["Status"][i], style=_STYLES[row.status])]
        if inline:
            cells += [Text(row.client)] if "Client side" in optional else []
            cells += [Text(row.baseline, style="bold red" if row.regressed else "")] if "vs baseline" in optional \
                else []
        table.add_row(*cells)
    console.print(table)
    below: list[tuple[str, str, str]] = []
    if optional and not inline:
        for name, texts in optional.items():
            below += [(row.id, f"{name.lower()}: {text}", "bold red" if name == "vs baseline" and row.regressed
                       else "") for row, text in zip(ctx.rows, texts) if text]
    _print_notes(console, below)
    console.print(Text(f"{ctx.icon} {ctx.label}: {ctx.reason}", style=_STYLES.get(ctx.verdict, "")))
    _print_notes(console, [(row.id, row.reason, "") for row in ctx.rows if row.status != "pass"])


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
