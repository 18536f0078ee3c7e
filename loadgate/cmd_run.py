"""``loadgate run``: a load test of a service, graded against an SLO spec.

    loadgate run --host URL [--spec FILE] [--shape ramp|step|spike|soak] [--rate R]
                 [--duration S] [--rampup S] [--processes N] [--users N] [--keys FILE]
                 [--locustfile FILE] [--prometheus URL | --start-prometheus] [--selector M]
                 [--max-late S] [--seed N] [--out DIR]
                 [--master --expect-workers N [--expect-workers-timeout S]
                  [--master-bind-host H] [--master-bind-port P]] [--metrics-host H] [--metrics-port P]

Locust runs headless as a subprocess, with loadgate's scenarios or a QA team's own locustfile.
With ``--start-prometheus`` a local Prometheus scrapes the
service and the load generator every second; with ``--prometheus URL`` an existing one is used
(pass ``--selector`` to pick the service's series); with neither, the load generator's own
counts are the source. The steady state (after the ramp-up) is graded; exit codes are the gate's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from analysis.prom import PromConfig
from analysis.queries import Selector
from contract.keys import KeysError, read_keys
from loadgate.argtypes import fraction, non_negative, positive, positive_int
from loadgate.baselines import add_baseline_arguments, load_baseline
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.outdir import out_dir_for
from loadgate.promserver import INSTALL_HINT, binaries
from loadgate.run import RunPlan, execute
from loadgate.specs import DEFAULT_SPEC, load_spec_or_fail
from loadgate.table import print_table
from scenarios.keys import keys_needed, shortfall
from scenarios.schedule import DEFAULT_MAX_LATE_S
from scenarios.shapes import SHAPES
from scenarios.traffic import DEFAULT_MIX, parse_mix, read_ids
from slo.alerts import ExpectationError, parse_expectations
from slo.rules import build_rules, impossible

__all__ = ["add_arguments", "add_load_arguments", "run", "plan_from_args"]


def add_load_arguments(parser: argparse.ArgumentParser, *, rate: float, duration: float, spec: str) -> None:
    """Options shared by ``run`` and ``demo``."""
    parser.add_argument("--spec", default=spec, metavar="FILE", help=f"SLO spec (default {spec})")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="ramp", help="load shape (default ramp)")
    parser.add_argument("--rate", type=positive, default=rate, metavar="R",
                        help=f"target requests per second at peak (default {rate:g})")
    parser.add_argument("--duration", type=positive, default=duration, metavar="S",
                        help=f"seconds of load (default {duration:g})")
    parser.add_argument("--rampup", type=non_negative, default=10.0, metavar="S",
                        help="seconds of ramp-up, not graded (default 10)")
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="Locust worker processes on this machine (default 1)")
    parser.add_argument("--mix", metavar="TIERS", help="share of traffic per tier, e.g. free=10,basic=20,pro=30,"
                                                       "enterprise=40")
    parser.add_argument("--over-limit", type=fraction, default=0.0, metavar="F",
                        help="fraction of each tier's API keys sending at 150 %% of their limit")
    parser.add_argument("--ids", metavar="A-B|FILE",
                        help="user ids cached reads draw from, Zipf-ranked with the first most popular: a range "
                             "such as 1-250000, or a file of ids, one a line (default 1-10000)")
    parser.add_argument("--users", type=positive_int, metavar="N",
                        help="Locust users carrying the requests, the concurrency (default: Little's law, "
                             "rate x 50 ms x 4 headroom, at least 10)")
    parser.add_argument("--keys", metavar="FILE",
                        help="the API keys to send with, a CSV with the header tier,key (the demo API accepts "
                             "the same file); never written anywhere by loadgate")
    parser.add_argument("--max-late", type=positive, default=DEFAULT_MAX_LATE_S, metavar="S",
                        help="a request still waiting for a free user S seconds after its intended time is "
                             f"dropped unsent and counted (default {DEFAULT_MAX_LATE_S:g})")
    parser.add_argument("--seed", type=int, default=1, help="seed for reproducible traffic")
    parser.add_argument("--out", metavar="DIR", help="run directory (default runs/<UTC time>-<command>/)")
    parser.add_argument("--fail-on-warn", action="store_true", help="a warning fails the gate")
    parser.add_argument("--require-evidence", action="store_true",
                        help="a pass the sample size cannot demonstrate is inconclusive")
    parser.add_argument("--allow-invalid", action="store_true",
                        help="a run that could not deliver its load (generator died or saturated, rate short, "
                             "requests late, workers lost) is graded with warnings instead of inconclusive")
    alerting = parser.add_argument_group("alerts proven under load (needs the local Prometheus)")
    alerting.add_argument("--alert-rules", action="store_true",
                          help="load the spec's burn-rate alert rules (loadgate rules) into the local Prometheus, "
                               "their windows scaled to the run, and record which alerts fired and when")
    alerting.add_argument("--expect-alerts", metavar="SLO:SEV,...",
                          help="a drill: pass only if each named alert fired (e.g. error_rate:page); 'none': fail if "
                               "any alert fired. Implies --alert-rules")
    add_baseline_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", required=True, metavar="URL", help="base URL of the service under test")
    add_load_arguments(parser, rate=200.0, duration=60.0, spec=DEFAULT_SPEC)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--prometheus", metavar="URL", help="grade from this Prometheus")
    source.add_argument("--start-prometheus", action="store_true",
                        help="start a local Prometheus that scrapes the host and the load generator")
    parser.add_argument("--selector", default="", metavar="MATCHERS", help="label matchers for the service's series")
    parser.add_argument("--locustfile", metavar="FILE",
                        help="your own Locust scenarios instead of loadgate's: users subclassing "
                             "scenarios.OpenModelUser get the arrival rate; plain HttpUser/FastHttpUser run "
                             "closed-loop (--users of them), and the report says the rate was not controlled")
    hosts = parser.add_argument_group("workers on other hosts (loadgate worker, or locust --worker, joins)")
    hosts.add_argument("--master", action="store_true",
                       help="run the Locust master only: the load comes from workers on other hosts")
    hosts.add_argument("--expect-workers", type=positive_int, metavar="N",
                       help="with --master: start once N workers are connected")
    hosts.add_argument("--expect-workers-timeout", type=positive, default=60.0, metavar="S",
                       help="with --master: give up (exit 3) if N workers have not connected in S seconds "
                            "(default 60)")
    hosts.add_argument("--master-bind-host", default="0.0.0.0", metavar="H",
                       help="with --master: the address workers connect to (default 0.0.0.0)")
    hosts.add_argument("--master-bind-port", type=positive_int, default=5557, metavar="P",
                       help="with --master: the port workers connect to (default 5557)")
    hosts.add_argument("--metrics-host", default="127.0.0.1", metavar="H",
                       help="serve the load generator's loadgate_* series on this address (default 127.0.0.1; "
                            "0.0.0.0 when a Prometheus on another host scrapes them)")
    hosts.add_argument("--metrics-port", type=positive_int, metavar="P",
                       help="the port of the loadgate_* series (default: a free port)")


def plan_from_args(args: argparse.Namespace, env: Env, host: str, command: str, **extra: Any) -> RunPlan:
    """Check the shared options and build the plan."""
    if args.rampup >= args.duration:
        raise UserError(f"--rampup ({args.rampup:g}s) must be shorter than --duration ({args.duration:g}s)")
    if not 1 <= args.processes <= 64:
        raise UserError("--processes must be between 1 and 64")
    for flag, value, parse in (("--mix", args.mix, parse_mix), ("--ids", args.ids, read_ids)):
        if value:
            try:
                parse(value)
            except ValueError as exc:
                raise UserError(f"{flag}: {exc}") from None
    locustfile = getattr(args, "locustfile", None)
    if locustfile and not Path(locustfile).is_file():
        raise UserError(f"--locustfile: {locustfile}: no such file")
    if args.keys:
        check_keys(args)
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--host: expected an http(s) URL such as http://127.0.0.1:8000, got {host!r}")
    try:
        # Checked now, not after the load test: LOADGATE_PROM_* configure the local Prometheus's client too.
        PromConfig.from_env(extra.get("prometheus_url") or "http://127.0.0.1", env.environ)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    spec = load_spec_or_fail(args.spec, getattr(args, "selector", ""))
    alert_rules = bool(args.alert_rules or args.expect_alerts is not None)
    expected = None
    if alert_rules:
        if not extra.get("start_prometheus"):
            raise UserError("--alert-rules and --expect-alerts need the local Prometheus (--start-prometheus; the "
                            "demo starts one unless --no-prometheus): loadgate loads the rules into it")
        rules = build_rules(spec, Selector())
        if not rules.windows:
            raise UserError(f"--alert-rules: {spec.path} has no objective with a ratio of bad events to alert on")
        if args.expect_alerts is not None:
            never = [(oid, sev) for oid in rules.windows for sev in ("page", "ticket") if impossible(rules, oid, sev)]
            try:
                expected = parse_expectations(args.expect_alerts, rules.windows, never)
            except ExpectationError as exc:
                raise UserError(f"--expect-alerts: {exc}") from None
    return RunPlan(host=host.rstrip("/"), spec=spec, alert_rules=alert_rules, expect_alerts=expected,
                   out_dir=Path(args.out) if args.out else out_dir_for(command, env.clock()),
                   shape=args.shape, rate=args.rate, duration=args.duration, rampup=args.rampup,
                   processes=args.processes, seed=args.seed, mix=args.mix, over_limit=args.over_limit, ids=args.ids,
                   users=args.users or 0, keys_file=args.keys, max_late=args.max_late,
                   locustfile=str(Path(locustfile).resolve()) if locustfile else None,
                   fail_on_warn=args.fail_on_warn, require_evidence=args.require_evidence,
                   allow_invalid=args.allow_invalid,
                   command=["loadgate", *env.argv], baseline=load_baseline(args), **extra)


def check_keys(args: argparse.Namespace) -> None:
    """A keys file that is readable and large enough for the rate, split over the processes."""
    try:
        pool = read_keys(args.keys)
    except KeysError as exc:
        raise UserError(f"--keys: {exc}") from None
    processes = getattr(args, "expect_workers", None) or args.processes
    per_process = keys_needed(args.rate / processes, parse_mix(args.mix) if args.mix else DEFAULT_MIX,
                              over_limit_fraction=args.over_limit)
    message = shortfall(pool, {tier: n * processes for tier, n in per_process.items()}, args.rate, 0.8)
    if message:
        raise UserError(f"--keys: {args.keys}: {message}")


def finish(plan: RunPlan, env: Env) -> int:
    """Execute the plan and print the table; returns the gate's exit code."""
    record, ctx = execute(plan, env)
    print_table(ctx, env.stdout, env.environ)
    env.stderr.write(f"loadgate: report {plan.out_dir / 'report.html'}\n")
    return record.exit_code


def run(args: argparse.Namespace, env: Env) -> int:
    if args.master and not args.expect_workers:
        raise UserError("--master needs --expect-workers N: how many workers to wait for")
    if args.expect_workers and not args.master:
        raise UserError("--expect-workers applies to --master only")
    if args.master and args.processes > 1:
        raise UserError("--master and --processes exclude each other: with --master the workers run elsewhere")
    plan = plan_from_args(args, env, args.host, "run", prometheus_url=args.prometheus,
                          start_prometheus=args.start_prometheus, selector=args.selector,
                          master=bool(args.master), expect_workers=args.expect_workers or 0,
                          workers_timeout=args.expect_workers_timeout, master_bind_host=args.master_bind_host,
                          master_bind_port=args.master_bind_port, metrics_host=args.metrics_host,
                          metrics_port=args.metrics_port or 0)
    if plan.start_prometheus and binaries() is None:
        raise UserError(f"--start-prometheus: Prometheus is not installed; {INSTALL_HINT}")
    return finish(plan, env)
