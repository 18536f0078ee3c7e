"""``loadgate report DIR``: re-render report.html, summary.md and junit.xml from DIR alone.

Reads ``DIR/verdict.json`` and ``DIR/series/``; needs no Prometheus. Exit 0 when rendered, 2
when DIR holds no readable gate record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loadgate.errors import UserError
from loadgate.table import print_table
from reports.publish import OutputError, render_outputs

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="a gate or run directory holding verdict.json")


def run(args: argparse.Namespace, env: "Env") -> int:  # type: ignore[name-defined]  # noqa: F821
    directory = Path(args.directory)
    try:
        ctx = render_outputs(directory)
    except OutputError as exc:
        raise UserError(str(exc), 2) from None
    print_table(ctx, env.stdout)
    env.stderr.write(f"loadgate: re-rendered {directory / 'report.html'}, summary.md and junit.xml\n")
    return 0
