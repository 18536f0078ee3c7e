"""``loadgate rules --spec FILE [--selector M] [--period 30d] [--out rules.yaml] [--tests]``.

Writes Prometheus recording and multi-window, multi-burn-rate alerting rules for the spec's
ratio objectives (``slo.rules``): to stdout, or to ``--out`` (atomically). With ``--tests`` (needs
``--out``) it also writes ``<out>.test.yaml`` beside it, ``promtool test rules`` unit tests in
which a breach fires and a healthy series stays silent. Objectives that get no rules are named
on stderr with the reason. Exit 0 when written, 2 for a bad spec or flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.queries import SelectorError
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_out, add_selector, add_spec
from loadgate.specs import load_spec_or_fail
from reports.write import write_text
from slo.gate import ExitCode
from slo.rule_tests import render_tests
from slo.rules import build_rules, never_fire, render_rules
from slo.units import UnitError, parse_any_duration

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec(parser)
    add_selector(parser, "label matchers added to every series the rules read; equality matchers also label "
                         "the recorded series and the alerts")
    parser.add_argument("--period", metavar="D",
                        help="the SLO period the windows scale with, such as 30d, 7d or 1d (default: each "
                             "objective's own, an OpenSLO timeWindow, else 30d)")
    parser.add_argument("--min-window", default="1m", metavar="D",
                        help="no window shorter than this (default 1m: four scrapes at 15s); a shorter period's "
                             "short windows are raised to it, and the file's header says so")
    add_out(parser, "write the rule file here instead of stdout", metavar="FILE")
    parser.add_argument("--tests", action="store_true",
                        help="with --out: also write promtool unit tests beside it (<out stem>.test.yaml)")


def _duration(flag: str, text: str) -> float:
    """``30d``, ``90s``, or OpenSLO's ``1w``/``1M``/``1Q`` (a month is 30 days), in seconds."""
    try:
        return parse_any_duration(text)
    except UnitError:
        raise UserError(f"{flag}: {text!r} is not a duration such as 90s, 1h, 30d, 1w or 1M") from None


def run(args: argparse.Namespace, env: Env) -> int:
    if args.tests and not args.out:
        raise UserError("--tests needs --out: the tests name the rule file they load")
    period = _duration("--period", args.period) if args.period else None
    if period is not None and period < 3600:
        raise UserError(f"--period {args.period}: at least 1h (shorter periods scale the windows below a "
                        "Prometheus scrape)")
    min_window = _duration("--min-window", args.min_window)
    if min_window < 1:
        raise UserError("--min-window: at least 1s")
    spec = load_spec_or_fail(args.spec, args.selector, args.preset)
    try:
        selector = spec.service_selector(args.selector)
    except SelectorError as exc:
        raise UserError(f"--selector: {exc}") from None
    rules = build_rules(spec, selector, period_s=period, min_window_s=int(min_window))
    if not rules.windows:
        raise UserError(f"{spec.path}: no objective has a ratio of bad events to alert on: "
                        + "; ".join(f"{oid}: {why}" for oid, why in rules.skipped))
    text = render_rules(rules, spec)
    for oid, why in rules.skipped:
        env.stderr.write(f"loadgate: {oid}: no rules: {why}\n")
    for line in never_fire(rules):
        env.stderr.write(f"loadgate: {line}\n")
    if not args.out:
        env.stdout.write(text)
        return ExitCode.PASS
    out = Path(args.out)
    write_text(out, text)
    env.stderr.write(f"loadgate: wrote {out} ({len(rules.windows)} objectives alerting)\n")
    if args.tests:
        tests = out.with_name(f"{out.stem}.test.yaml")
        write_text(tests, render_tests(rules, spec, out.name))
        env.stderr.write(f"loadgate: wrote {tests}; run: promtool test rules {tests}\n")
    return ExitCode.PASS
