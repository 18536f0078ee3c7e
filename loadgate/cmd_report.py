"""``loadgate report DIR [--baseline B]``: re-render report.html, summary.md and junit.xml.

Reads ``DIR/verdict.json`` and ``DIR/series/``; needs no Prometheus. A capacity search's
directory (``capacity.json``) gets its report.html and summary.md re-rendered instead. With ``--baseline`` the
comparison with B is stored in ``verdict.json`` and shown (the verdict itself is not changed:
``--fail-on-regression`` belongs to gate and run). Exit 0 when rendered, 2 when a directory holds
no readable record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loadgate.baselines import load_baseline
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_baseline_arguments
from loadgate.table import print_table
from reports.publish import OutputError, compare_stored, render_capacity_outputs, render_outputs
from slo.gate import ExitCode

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR",
                        help="a gate or run directory holding verdict.json, or a capacity search's (capacity.json)")
    add_baseline_arguments(parser, gating=False)


def run(args: argparse.Namespace, env: Env) -> int:
    directory = Path(args.directory)
    if (directory / "capacity.json").is_file() and not (directory / "verdict.json").exists():
        return _capacity(directory, env)
    baseline = load_baseline(args, current=directory)
    try:
        if baseline is not None:
            compare_stored(directory, baseline)
        ctx = render_outputs(directory)
    except OutputError as exc:
        raise UserError(str(exc)) from None
    print_table(ctx, env.stdout, env.environ)
    env.stderr.write(f"loadgate: re-rendered {directory / 'report.html'}, summary.md and junit.xml\n")
    return ExitCode.PASS


def _capacity(directory: Path, env: Env) -> int:
    try:
        render_capacity_outputs(directory)
    except OutputError as exc:
        raise UserError(str(exc)) from None
    env.stderr.write(f"loadgate: re-rendered {directory / 'report.html'} and summary.md of the capacity search\n")
    return ExitCode.PASS
