"""``loadgate history``: the trend of several gate, run and capacity directories, and the newest run's changes.

    loadgate history RUN_DIR_OR_GLOB... [--last N] [--label-from dir|git_sha|version]
                     [--alpha A] [--regression-tolerance KIND=PCT,...] [--out DIR]
                     [--fail-on-regression]

Each argument is a gate, run or capacity directory (or its ``verdict.json`` / ``capacity.json``),
a folder whose directories just below are such directories (CI artifacts downloaded into one
folder), or a glob of either (quoted, so loadgate expands it; ``**`` spans folders). Runs are
ordered by when they were graded (``generated_at``). A directory that holds no record, or a
broken one, is named in a warning on stderr and skipped; none at all is a usage error (exit 2).

Writes ``history.json``, ``history.html`` and ``history.md`` into ``--out`` (default
``runs/<UTC time>-history/``). Exit 0; with ``--fail-on-regression``, 1 when a required
objective of the newest gate or run record regressed significantly against the ones before it.
"""

from __future__ import annotations

import argparse
import glob
import json
from datetime import datetime, timezone
from pathlib import Path

from loadgate.argtypes import positive_int, significance
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_out
from loadgate.outdir import out_dir_for
from loadgate.version import tool_version
from reports.history import LABEL_SOURCES, HistoryInput, build_history
from reports.history_publish import publish_history
from reports.publish import OutputError, read_capacity
from reports.write import read_json
from slo.compare import parse_tolerances
from slo.gate import ExitCode
from slo.record import load_verdict
from slo.record_types import RecordError
from slo.regression import DEFAULT_ALPHA

__all__ = ["add_arguments", "run", "find_dirs", "read_dir"]

_GLOB = frozenset("*?[")
_FILES = ("verdict.json", "capacity.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", metavar="RUN_DIR_OR_GLOB", nargs="+",
                        help="gate, run or capacity directories, folders holding them (one level down), or "
                             "globs of either (quoted: loadgate expands them)")
    parser.add_argument("--last", type=positive_int, metavar="N",
                        help="only the newest N runs: the newest is compared with the N-1 before it "
                             "(default: every run found)")
    parser.add_argument("--label-from", choices=LABEL_SOURCES, default="dir",
                        help="label runs by their directory's name, the git sha the run recorded (a gate or "
                             "capacity search has none: its directory's name, with a warning) or the loadgate "
                             "version (default dir)")
    parser.add_argument("--alpha", type=significance, default=DEFAULT_ALPHA, metavar="A",
                        help=f"the significance level of the regression test (default {DEFAULT_ALPHA:g})")
    parser.add_argument("--regression-tolerance", default="", metavar="KIND=PCT,...",
                        help="the minimum effect that counts as a regression, once significant (defaults as "
                             "gate's --regression-tolerance)")
    add_out(parser, "output directory (default runs/<UTC time>-history/)")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 when a required objective of the newest run regressed significantly")


def _holds_record(path: Path) -> bool:
    return (path / "verdict.json").is_file() or (path / "capacity.json").is_file()


def _is_history(path: Path) -> bool:
    """An earlier ``loadgate history`` output (``runs/<time>-history/`` beside the runs): passed over quietly."""
    return (path / "history.json").is_file() and not _holds_record(path)


def _in_capacity_search(path: Path) -> bool:
    return any((above / "capacity.json").is_file() for above in path.resolve().parents)


def find_dirs(given: str, warn: list[str]) -> list[Path]:
    """The record directories one argument names, in name order; what holds none is added to ``warn``.

    A path holding a record is itself; a file is its directory; a folder without a record stands
    for the directories just below it that hold one (never deeper: a capacity search's steps stay
    inside it); an argument with ``*``, ``?`` or ``[`` that is not a path is a glob, of which only
    directories and record files count, never a capacity search's steps. An earlier history's output
    directory is passed over quietly."""
    if not Path(given).exists() and _GLOB & set(given):
        # Of what a glob matches, only directories and records count: a folder's logs are no runs.
        # A capacity search's steps are runs of their own, but part of it: a ``**`` never lists them.
        matched = sorted(p for p in glob.glob(given, recursive=True)
                         if ((Path(p).is_dir() and not _is_history(Path(p))) or Path(p).name in _FILES)
                         and not _in_capacity_search(Path(p)))
        # Under ``**`` most folders matched are parts of runs (``series/``): only finding nothing is said.
        quiet: list[str] = []
        found = [dir_ for path in matched for dir_ in find_dirs(path, quiet if "**" in given else warn)]
        if not found:
            warn.append(f"{given}: matches no gate, run or capacity directory")
        return found
    path = Path(given)
    if path.is_file():
        if path.name in _FILES:
            return [path.parent]
        warn.append(f"{given}: not a directory, verdict.json or capacity.json")
        return []
    if not path.is_dir():
        warn.append(f"{given}: no such directory")
        return []
    if _holds_record(path):
        return [path]
    below = sorted(p for p in path.iterdir() if p.is_dir() and _holds_record(p))
    if not below and not _is_history(path):
        warn.append(f"{given}: holds no verdict.json or capacity.json, nor do the directories in it")
    return below


def read_dir(directory: Path) -> HistoryInput:
    """The record a directory holds (``verdict.json``, else ``capacity.json``); ``OutputError`` when broken."""
    verdict = directory / "verdict.json"
    if verdict.is_file():
        try:
            record = load_verdict(read_json(verdict))
        except (OSError, json.JSONDecodeError) as exc:
            raise OutputError(f"{verdict}: cannot read: {exc}") from None
        except RecordError as exc:
            raise OutputError(f"{verdict}: not a loadgate verdict ({exc})") from None
        return HistoryInput(dir=str(directory), name=directory.resolve().name, verdict=record)
    return HistoryInput(dir=str(directory), name=directory.resolve().name, capacity=read_capacity(directory))


def run(args: argparse.Namespace, env: Env) -> int:
    try:
        tolerances = parse_tolerances(args.regression_tolerance)
    except ValueError as exc:
        raise UserError(f"--regression-tolerance: {exc}") from None
    warnings: list[str] = []
    found: dict[Path, Path] = {}
    for given in args.paths:
        for directory in find_dirs(given, warnings):
            found.setdefault(directory.resolve(), directory)
    inputs = []
    for directory in found.values():
        try:
            inputs.append(read_dir(directory))
        except OutputError as exc:
            warnings.append(f"{exc}; skipped")
    for warning in warnings:
        env.stderr.write(f"loadgate: warning: {warning}\n")
    if not inputs:
        raise UserError("history: no gate, run or capacity record found in " + ", ".join(args.paths))
    history = build_history(inputs, last=args.last, label_from=args.label_from, alpha=args.alpha,
                            tolerances=tolerances)
    for warning in history.warnings:
        env.stderr.write(f"loadgate: warning: {warning}\n")
    now = env.clock()
    out_dir = Path(args.out) if args.out else out_dir_for("history", now)
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        publish_history(out_dir, history, generated_at=stamp, tool_version=tool_version())
    except OSError as exc:
        raise UserError(f"cannot write outputs to {out_dir}: {exc.strerror or exc}") from None
    for row in history.regressions:
        if row.verdict in ("regressed", "improved"):
            env.stdout.write(f"{row.objective}: {row.verdict} ({row.note})\n")
    regressed = history.regressed
    env.stdout.write(f"{len(history.runs)} runs; newest {history.newest or 'none'}: "
                     + (f"{len(regressed)} regressed" if regressed else "no regression") + "\n")
    env.stderr.write(f"loadgate: wrote {out_dir}/ (history.json, history.html, history.md)\n")
    if regressed and args.fail_on_regression:
        return ExitCode.FAIL
    return ExitCode.PASS
