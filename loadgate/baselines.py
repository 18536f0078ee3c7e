"""``--baseline DIR...`` for gate, run, demo and report: read earlier records to compare with (the flags
themselves are ``loadgate.flags.add_baseline_arguments``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from loadgate.errors import UserError
from reports.write import read_json
from slo.compare import Baseline, parse_tolerances
from slo.record import load_verdict
from slo.record_types import RecordError
from slo.regression import DEFAULT_ALPHA

__all__ = ["load_baseline"]

def load_baseline(args: argparse.Namespace, current: Path | None = None) -> Baseline | None:
    """The baseline runs the options name, or None; an unreadable one is a usage error (exit 2).

    Each ``--baseline`` argument is a run or gate directory, its ``verdict.json``, or a folder of
    run directories; they are ordered by when they were graded, oldest first. The ``current``
    run's own directory, when a folder holds it too, is never its own baseline."""
    named = getattr(args, "baseline", None)
    if not named:
        return None
    found: list[tuple[str, dict[str, Any]]] = []
    for given in named:
        listed, folder = _records(Path(given))
        found += [(str(path), _read(path, given)) for path in listed
                  if not folder or current is None or path.resolve() != current.resolve()]
    if not found:
        raise UserError(f"--baseline: {', '.join(named)}: holds no run but {current} itself")
    found.sort(key=lambda item: str(item[1].get("generated_at") or ""))
    try:
        tolerances = parse_tolerances(args.regression_tolerance)
    except ValueError as exc:
        raise UserError(f"--regression-tolerance: {exc}") from None
    alpha = float(getattr(args, "alpha", DEFAULT_ALPHA))
    return Baseline(tuple(path for path, _ in found), tuple(doc for _, doc in found), tolerances,
                    bool(getattr(args, "fail_on_regression", False)), alpha)


def _records(given: Path) -> tuple[list[Path], bool]:
    """The run directories ``given`` names: itself (or the directory of its verdict.json), else
    those just below it that hold a verdict.json; and whether they came from such a folder."""
    if given.is_file():
        return [given.parent], False
    if (given / "verdict.json").is_file() or not given.is_dir():
        return [given], False
    below = sorted(p for p in given.iterdir() if (p / "verdict.json").is_file())
    if not below:
        raise UserError(f"--baseline: {given}: holds no verdict.json, nor do the directories in it; "
                        "is it a run or gate directory?")
    return below, True


def _read(directory: Path, given: str) -> dict[str, Any]:
    path = directory / "verdict.json"
    try:
        doc = read_json(path)
    except FileNotFoundError:
        raise UserError(f"--baseline: {path}: no such file; is {given} a run or gate directory?") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"--baseline: {path}: cannot read: {exc}") from None
    try:
        # A version 1 record is read too, and compared in the current form.
        return load_verdict(doc).to_json()
    except RecordError as exc:
        raise UserError(f"--baseline: {path}: not a loadgate verdict ({exc})") from None
