"""``--baseline DIR`` for gate, run, demo and report: read an earlier record to compare with."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loadgate.errors import UserError
from reports.write import read_json
from slo.compare import DEFAULT_TOLERANCES, Baseline, parse_tolerances
from slo.record import load_verdict
from slo.record_types import RecordError

__all__ = ["add_baseline_arguments", "load_baseline"]

# argparse formats help text with %: a literal percent sign is written %%.
_DEFAULTS = ",".join(f"{kind}={value * 100:g}%%" for kind, value in DEFAULT_TOLERANCES.items())


def add_baseline_arguments(parser: argparse.ArgumentParser, *, gating: bool = True) -> None:
    parser.add_argument("--baseline", metavar="DIR", help="compare with an earlier run or gate directory")
    parser.add_argument("--regression-tolerance", default="", metavar="KIND=PCT,...",
                        help=f"how much worse counts as a regression (defaults: {_DEFAULTS})")
    if gating:
        parser.add_argument("--fail-on-regression", action="store_true",
                            help="a regression against the baseline fails the gate (exit 1)")


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
