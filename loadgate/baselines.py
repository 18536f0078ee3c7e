"""``--baseline DIR`` for gate, run, demo and report: read an earlier record to compare with (the flags
themselves are ``loadgate.flags.add_baseline_arguments``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loadgate.errors import UserError
from reports.write import read_json
from slo.compare import Baseline, parse_tolerances
from slo.record import load_verdict
from slo.record_types import RecordError

__all__ = ["load_baseline"]

def load_baseline(args: argparse.Namespace) -> Baseline | None:
    """The baseline the options name, or None; an unreadable one is a usage error (exit 2)."""
    if not getattr(args, "baseline", None):
        return None
    # A run or gate directory, or its verdict.json itself.
    path = Path(args.baseline)
    if not path.is_file():
        path = path / "verdict.json"
    try:
        doc = read_json(path)
    except FileNotFoundError:
        raise UserError(f"--baseline: {path}: no such file; is {args.baseline} a run or gate directory?") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"--baseline: {path}: cannot read: {exc}") from None
    try:
        # A version 1 record is read too, and compared in the current form.
        doc = load_verdict(doc).to_json()
    except RecordError as exc:
        raise UserError(f"--baseline: {path}: not a loadgate verdict ({exc})") from None
    try:
        tolerances = parse_tolerances(args.regression_tolerance)
    except ValueError as exc:
        raise UserError(f"--regression-tolerance: {exc}") from None
    return Baseline(str(args.baseline), doc, tolerances, bool(getattr(args, "fail_on_regression", False)))
