"""``loadgate gate``: grade a Prometheus window against an SLO spec, for release pipelines.

    loadgate gate --prometheus URL (--start T --end T | --last 30m) [--spec FILE]
                  [--selector 'job="api"'] [--out DIR] [--step SECONDS]
                  [--fail-on-warn] [--require-evidence]

Exit codes: 0 pass, 1 fail, 2 usage or spec error, 3 inconclusive (no data, or Prometheus
unreachable or erroring). Outputs are written for every verdict, inconclusive included.
Prometheus auth and TLS come from ``LOADGATE_PROM_*`` environment variables (see
``analysis.prom``), never from flags.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from analysis.prom import PromConfig, Prometheus, safe_url
from analysis.prom_source import PromSource
from analysis.queries import SelectorError
from analysis.sli import Window
from loadgate.argtypes import positive_int
from loadgate.baselines import load_baseline
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_baseline_arguments, add_out, add_selector, add_spec
from loadgate.outdir import out_dir_for
from loadgate.specs import load_spec_or_fail
from loadgate.table import print_table
from loadgate.timeparse import resolve_window
from loadgate.version import tool_version
from reports.publish import publish
from slo.evaluate import grade_source
from slo.record import build_record

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus base URL")
    parser.add_argument("--start", metavar="T", help="window start: RFC 3339 or Unix seconds")
    parser.add_argument("--end", metavar="T", help="window end: RFC 3339 or Unix seconds")
    parser.add_argument("--last", metavar="DURATION", help="window of this length ending now, e.g. 30m")
    add_spec(parser)
    add_selector(parser)
    add_out(parser, "output directory (default runs/<UTC time>-gate/)")
    parser.add_argument("--step", type=positive_int, metavar="SECONDS",
                        help="chart resolution (default: inferred from the scrape interval and window)")
    parser.add_argument("--fail-on-warn", action="store_true", help="a warning fails the gate")
    parser.add_argument("--require-evidence", action="store_true",
                        help="a pass the window's sample size cannot demonstrate is inconclusive")
    add_baseline_arguments(parser)


def run(args: argparse.Namespace, env: Env) -> int:
    parts = urlsplit(args.prometheus)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--prometheus: expected an http(s) URL such as http://127.0.0.1:9090, "
                        f"got {safe_url(args.prometheus)!r}")
    now = env.clock()
    try:
        start, end = resolve_window(args.start, args.end, args.last, now)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    spec = load_spec_or_fail(args.spec, args.selector, args.preset)
    try:
        selector = spec.service_selector(args.selector)
    except SelectorError as exc:
        raise UserError(f"--selector: {exc}") from None
    try:
        config = PromConfig.from_env(args.prometheus, env.environ)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if config.ca_file and not Path(config.ca_file).is_file():
        raise UserError(f"LOADGATE_PROM_CA_FILE: {config.ca_file}: no such file")

    baseline = load_baseline(args)
    window = Window(start, end)
    out_dir = Path(args.out) if args.out else out_dir_for("gate", now)
    env.stderr.write(f"loadgate: grading {spec.path} over {window.seconds:g}s from {safe_url(config.url)}\n")
    prom = Prometheus(config)
    try:
        graded = grade_source(spec, PromSource(prom, spec.metrics, selector, window, step_s=args.step),
                              require_evidence=args.require_evidence)
    finally:
        prom.close()
    record = build_record(spec, graded, window, selector=str(selector), generated_at=env.clock(),
                          tool_version=tool_version(), run_id=out_dir.resolve().name, baseline=baseline,
                          fail_on_warn=args.fail_on_warn,
                          options={"fail_on_warn": args.fail_on_warn, "require_evidence": args.require_evidence,
                                   "step": args.step, "fail_on_regression": args.fail_on_regression})
    try:
        ctx = publish(out_dir, record)
    except OSError as exc:
        raise UserError(f"cannot write outputs to {out_dir}: {exc.strerror or exc}") from None
    print_table(ctx, env.stdout, env.environ)
    env.stderr.write(f"loadgate: wrote {out_dir}/ (verdict.json, summary.md, junit.xml, report.html)\n")
    return record.exit_code
