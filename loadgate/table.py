"""The graded table on the terminal (rich), from the report's view model."""

from __future__ import annotations

from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reports.context import ReportContext
from reports.render import render_terminal_rows

__all__ = ["print_table"]

_STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "no_data": "dim", "inconclusive": "dim"}


def print_table(ctx: ReportContext, out: TextIO) -> None:
    """Print Metric | Target | Measured | Status, then the verdict line."""
    console = Console(file=out, width=160 if not out.isatty() else None, highlight=False,
                      no_color=not out.isatty())
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    columns = ["Metric", "Target", "Measured", "Status"] + (["Client side"] if ctx.has_client else []) + \
        (["vs baseline"] if ctx.has_baseline else [])
    for column in columns:
        table.add_column(column, no_wrap=column != "Metric")
    for (title, target, measured, status, _), row in zip(render_terminal_rows(ctx), ctx.rows):
        cells = [Text(title), Text(target), Text(measured), Text(status, style=_STYLES[row.status])]
        cells += [Text(row.client)] if ctx.has_client else []
        cells += [Text(row.baseline, style="bold red" if row.regressed else "")] if ctx.has_baseline else []
        table.add_row(*cells)
    console.print(table)
    console.print(Text(f"{ctx.icon} {ctx.label}: {ctx.reason}", style=_STYLES.get(ctx.verdict, "")))
    for row in ctx.rows:
        if row.status != "pass":
            console.print(Text(f"  {row.id}: {row.reason}"))
