"""The steps every load-test command shares: the checked plan from the flags, and running it to the table.

``run``, ``demo`` and ``capacity`` build their ``RunPlan`` with ``plan_from_args`` (every flag
checked before anything starts or is written), and ``run`` and ``demo`` end with ``finish``:
the load test, its record, and the graded table on stdout.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

from analysis.prom import PromConfig
from analysis.queries import Selector, SelectorError
from contract.keys import KeysError, read_keys
from loadgate.baselines import load_baseline
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.fault_actions import check_actions
from loadgate.faults import Target
from loadgate.hosts import check_host_actions
from loadgate.outdir import out_dir_for
from loadgate.run import RunPlan, execute
from loadgate.specs import load_spec_or_fail
from loadgate.table import print_table
from scenarios.keys import keys_needed, shortfall
from scenarios.traffic import DEFAULT_MIX, parse_mix, read_ids
from slo.alerts import ExpectationError, parse_expectations
from slo.model import Spec
from slo.rules import build_rules, impossible

__all__ = ["check_load_flags", "check_master_flags", "check_selector", "plan_from_args", "check_keys", "finish"]


def check_load_flags(args: argparse.Namespace, env: Env, host: str, prometheus_url: str | None) -> None:
    """The checks every load-test command makes before anything starts or is written: the processes,
    the mix and ids, the locustfile, the host's URL and the ``LOADGATE_PROM_*`` settings."""
    if not 1 <= args.processes <= 64:
        raise UserError("--processes must be between 1 and 64")
    for flag, value, parse in (("--mix", args.mix, parse_mix), ("--ids", getattr(args, "ids", None), read_ids)):
        if value:
            try:
                parse(value)
            except ValueError as exc:
                raise UserError(f"{flag}: {exc}") from None
    locustfile = getattr(args, "locustfile", None)
    if locustfile and not Path(locustfile).is_file():
        raise UserError(f"--locustfile: {locustfile}: no such file")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--host: expected an http(s) URL such as http://127.0.0.1:8000, got {host!r}")
    try:
        # Checked now, not after the load test: LOADGATE_PROM_* configure the local Prometheus's client too.
        PromConfig.from_env(prometheus_url or "http://127.0.0.1", env.environ)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def check_master_flags(args: argparse.Namespace) -> None:
    """``--master`` with ``--expect-workers N``, never one without the other, and not with ``--processes``."""
    if args.master and not args.expect_workers:
        raise UserError("--master needs --expect-workers N: how many workers to wait for")
    if args.expect_workers and not args.master:
        raise UserError("--expect-workers applies to --master only")
    if args.master and args.processes > 1:
        raise UserError("--master and --processes exclude each other: with --master the workers run elsewhere")


def check_selector(spec: Spec, selector: str) -> None:
    """A ``--selector`` that parses (with the spec's own), refused before any run directory is made."""
    try:
        spec.service_selector(selector)
    except SelectorError as exc:
        raise UserError(f"--selector: {exc}") from None


def plan_from_args(args: argparse.Namespace, env: Env, host: str, command: str, **extra: Any) -> RunPlan:
    """Check the shared options and build the plan."""
    if args.rampup >= args.duration:
        raise UserError(f"--rampup ({args.rampup:g}s) must be shorter than --duration ({args.duration:g}s)")
    check_load_flags(args, env, host, extra.get("prometheus_url"))
    if args.keys:
        check_keys(args)
    locustfile = getattr(args, "locustfile", None)
    spec = load_spec_or_fail(args.spec, getattr(args, "selector", ""), args.preset)
    check_selector(spec, extra.get("selector") or "")
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
    drill = (*getattr(args, "fault", ()), *getattr(args, "recover", ()))
    processes = args.api_processes + args.backup_processes if hasattr(args, "api_processes") else None
    problem = check_actions(drill, args.duration - args.rampup, processes) or check_host_actions(drill)
    if problem:
        raise UserError(problem)
    return RunPlan(host=host.rstrip("/"), drill=drill, action_timeout_s=getattr(args, "action_timeout", 30.0),
                   recovery_hold_s=getattr(args, "recovery_hold", 30.0), spec=spec, alert_rules=alert_rules,
                   expect_alerts=expected,
                   out_dir=Path(args.out) if args.out else out_dir_for(command, env.clock()),
                   shape=args.shape, rate=args.rate, duration=args.duration, rampup=args.rampup,
                   processes=args.processes, seed=args.seed, mix=args.mix, over_limit=args.over_limit, ids=args.ids,
                   users=args.users or 0, keys_file=args.keys, max_late=args.max_late,
                   zone=getattr(args, "zone", None) or "",
                   locustfile=str(Path(locustfile).resolve()) if locustfile else None,
                   fail_on_warn=args.fail_on_warn, require_evidence=args.require_evidence,
                   allow_invalid=args.allow_invalid, abort_on_fail=bool(getattr(args, "abort_on_fail", False)),
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


def finish(plan: RunPlan, env: Env, targets: Sequence[Target] = ()) -> int:
    """Execute the plan and print the table; returns the gate's exit code. ``targets`` are the
    processes a drill's ``kill-api:N`` may kill (the demo API's)."""
    record, ctx = execute(plan, env, targets=targets)
    print_table(ctx, env.stdout, env.environ)
    env.stderr.write(f"loadgate: report {plan.out_dir / 'report.html'}\n")
    return record.exit_code
