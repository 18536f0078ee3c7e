"""``loadgate rules --spec FILE [--selector M] [--period 30d] [--windows F] [--label K=V]... [--no-alerts]
[--format prometheus|operator] [--out F] [--tests] [--dashboard F]``.

Writes Prometheus recording and multi-window, multi-burn-rate alerting rules for the spec's
ratio objectives (``slo.rules``): to stdout, or to ``--out`` (atomically). With ``--tests`` (needs
``--out``) it also writes ``<out>.test.yaml`` beside it, ``promtool test rules`` unit tests in
which a breach fires and a healthy series stays silent. Objectives that get no rules are named
on stderr with the reason. ``--label`` adds labels to every record and alert; ``--no-alerts``
writes the records only; ``--windows`` replaces the windows table (``slo.rules_windows``).
``--format operator`` writes the same groups as a prometheus-operator ``PrometheusRule``
(``slo.rules_operator``); with ``--tests`` the tests then load a plain sibling,
``<out stem>.prometheus.yaml``, written beside it, as promtool reads plain rule files only.
``--dashboard FILE`` also writes a Grafana dashboard over the rules' series (``slo.rules_dashboard``).
Exit 0 when written, 2 for a bad spec, label or flag.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.queries import SelectorError
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_out, add_selector, add_spec
from loadgate.specs import load_spec_or_fail
from loadgate.version import tool_version
from reports.write import write_text
from slo.gate import ExitCode
from slo.located import SpecError
from slo.rule_tests import render_tests
from slo.rules import RulesError, build_rules, never_fire, render_rules
from slo.rules_dashboard import render_dashboard
from slo.rules_operator import operator_text
from slo.rules_spec import label_problem
from slo.rules_windows import load_windows
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
    parser.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                        help="a label on every record and alert (repeatable; after the spec's own labels)")
    parser.add_argument("--windows", metavar="FILE",
                        help="a burn-rate windows table replacing the built-in one (and every alerting.windows): a "
                             "list of {severity, factor | budget, long, short, for}, or sloth's AlertWindows file "
                             "(apiVersion: sloth.slok.dev/v1) as it is, whose sloPeriod is then the period")
    parser.add_argument("--no-alerts", action="store_true",
                        help="write the recording rules only, no alert (as 'alerting: false' on every objective)")
    parser.add_argument("--format", choices=("prometheus", "operator"), default="prometheus", metavar="FORMAT",
                        help="prometheus: a Prometheus rule file (the default); operator: the same groups as a "
                             "prometheus-operator PrometheusRule (monitoring.coreos.com/v1) for kubectl or kustomize")
    add_out(parser, "write the rule file here instead of stdout", metavar="FILE")
    parser.add_argument("--tests", action="store_true",
                        help="with --out: also write promtool unit tests beside it (<out stem>.test.yaml); with "
                             "--format operator they load a plain copy of the rules, <out stem>.prometheus.yaml")
    parser.add_argument("--dashboard", metavar="FILE",
                        help="also write a Grafana dashboard (JSON model) over the series these rules write: "
                             "budget remaining, burn rates, the SLI against its objective, alerts firing")


def _duration(flag: str, text: str) -> float:
    """``30d``, ``90s``, or OpenSLO's ``1w``/``1M``/``1Q`` (a month is 30 days), in seconds."""
    try:
        return parse_any_duration(text)
    except UnitError:
        raise UserError(f"{flag}: {text!r} is not a duration such as 90s, 1h, 30d, 1w or 1M") from None


def _labels(given: list[str]) -> tuple[tuple[str, str], ...]:
    """``--label KEY=VALUE`` pairs, each name a Prometheus label name that loadgate does not write itself."""
    out: dict[str, str] = {}
    for item in given:
        key, eq, value = item.partition("=")
        if not eq:
            raise UserError(f"--label {item!r}: expected KEY=VALUE, such as team=payments")
        problem = label_problem(key.strip())
        if problem:
            raise UserError(f"--label {item!r}: {problem}")
        out[key.strip()] = value
    return tuple(out.items())


def run(args: argparse.Namespace, env: Env) -> int:
    if args.tests and not args.out:
        raise UserError("--tests needs --out: the tests name the rule file they load")
    period = _duration("--period", args.period) if args.period else None
    if period is not None and period < 3600:
        raise UserError(f"--period {args.period}: at least 1h (shorter periods scale the windows below a "
                        "Prometheus scrape)")
    labels = _labels(args.label)
    min_window = _duration("--min-window", args.min_window)
    if min_window < 1:
        raise UserError("--min-window: at least 1s")
    try:
        windows = load_windows(Path(args.windows)) if args.windows else None
    except SpecError as exc:
        raise UserError(f"--windows: {exc}") from None
    spec = load_spec_or_fail(args.spec, args.selector, args.preset)
    try:
        selector = spec.service_selector(args.selector)
    except SelectorError as exc:
        raise UserError(f"--selector: {exc}") from None
    try:
        rules = build_rules(spec, selector, period_s=period, min_window_s=int(min_window), labels=labels,
                            alerts=not args.no_alerts, windows=windows, version=tool_version())
    except RulesError as exc:
        raise UserError(f"{spec.path}: {exc}") from None
    if not rules.windows:
        raise UserError(f"{spec.path}: no objective has a ratio of bad events to alert on: "
                        + "; ".join(f"{oid}: {why}" for oid, why in rules.skipped))
    plain = render_rules(rules, spec)
    text = operator_text(plain, spec) if args.format == "operator" else plain
    for oid, why in rules.skipped:
        env.stderr.write(f"loadgate: {oid}: no rules: {why}\n")
    for line in never_fire(rules):
        env.stderr.write(f"loadgate: {line}\n")
    if args.dashboard:
        board = Path(args.dashboard)
        write_text(board, render_dashboard(rules, spec))
        env.stderr.write(f"loadgate: wrote {board} (a Grafana dashboard: import it, or provision it from a file)\n")
    if not args.out:
        env.stdout.write(text)
        return ExitCode.PASS
    out = Path(args.out)
    write_text(out, text)
    alerting = sum(1 for rs in rules.alerts.values() if rs)
    kind = "a PrometheusRule, " if args.format == "operator" else ""
    env.stderr.write(f"loadgate: wrote {out} ({kind}{len(rules.windows)} objectives recorded, {alerting} alerting)\n")
    if args.tests:
        loaded = out
        if args.format == "operator":
            # promtool reads plain rule files only: the tests load a plain copy of the same groups.
            loaded = out.with_name(f"{out.stem}.prometheus.yaml")
            write_text(loaded, plain)
            env.stderr.write(f"loadgate: wrote {loaded} (the same rules as a plain file, for promtool)\n")
        tests = out.with_name(f"{out.stem}.test.yaml")
        write_text(tests, render_tests(rules, spec, loaded.name))
        env.stderr.write(f"loadgate: wrote {tests}; run: promtool test rules {tests}\n")
    return ExitCode.PASS
