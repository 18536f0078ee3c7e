"""``loadgate capacity``: the highest rate at which every objective of the spec still holds.

    loadgate capacity --host URL [--spec FILE] [--from R0] [--to RMAX] [--factor 1.5]
                      [--step-duration S] [--step-rampup S] [--precision 0.1] [--locustfile F]
                      [--keys FILE] [--prometheus URL | --start-prometheus] [--selector M] [--out DIR]
                      [--master --expect-workers N [--master-bind-host H] [--master-bind-port P]]

Each step is a whole ``loadgate run`` at one offered rate (its own run directory under
``steps/``, which ``loadgate report`` re-renders), graded against the spec with throughput
judged against the step's own rate (90 % of it must arrive). The search (``slo/capacity.py``)
climbs by ``--factor`` from ``--from``, bisects between the last pass and the first breach down
to ``--precision``, and stops at ``--to`` or when the load generator becomes the limit (a lower
bound). Exit 0: the capacity meets the spec's throughput target; 1: it is below; 3: no step
passed, or the generator ran out before any breach; 2: usage.

With ``--master --expect-workers N`` each step is a ``loadgate run --master``: a new Locust master
on the same address, which waits for N workers (``loadgate worker --master HOST:PORT --loop`` on
each host joins every step's master in turn). A step whose workers did not all connect, or that
lost one, stops the search with that step named (``slo.capacity``: a lower bound, never a guess).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from contract import TIER_LIMITS
from loadgate.argtypes import fraction, non_negative, positive
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_host, add_locustfile, add_master_arguments, add_out, add_source, add_spec, add_traffic
from loadgate.load_test import check_keys, check_load_flags, check_master_flags, check_selector
from loadgate.outdir import out_dir_for
from loadgate.promserver import INSTALL_HINT, binaries
from loadgate.run import RunPlan, execute
from loadgate.run_children import gave_up_on_workers
from loadgate.signals import Interrupted
from loadgate.specs import load_spec_or_fail
from reports.publish import publish_capacity
from scenarios.schedule import concurrency
from slo.capacity import (
    THROUGHPUT_SHARE,
    Outcome,
    Step,
    document,
    next_rate,
    outcome,
    step_from_verdict,
    workers_missing_step,
)
from slo.gate import ExitCode
from slo.model import Spec, Target
from slo.units import format_rate, rfc3339

__all__ = ["add_arguments", "run", "step_spec", "exit_code"]

#: Bounds on a step, so a search stays a gentle, bounded load on the target.
MAX_STEP_S, MAX_STEP_RAMPUP_S, MAX_STEPS = 600.0, 60.0, 40
#: The pause between steps: one interval of the slowest tier's limit, and a fifth more. Each step
#: is a new load generator whose keys start at random phases; without it a key that sent at the
#: end of one step could send again at the start of the next, faster than its limit allows.
STEP_PAUSE_S = 60.0 / min(TIER_LIMITS.values()) * 1.2
#: Users per step: enough for the rate at the spec's highest latency threshold, twice over, so
#: the pool runs dry only once the service is slower than its objectives allow (a breach the
#: service caused, seen in the latency from the actual sends too).
USERS_HEADROOM = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_host(parser)
    add_spec(parser)
    parser.add_argument("--from", dest="start", type=positive, default=50.0, metavar="R0",
                        help="the first rate offered, req/s (default 50)")
    parser.add_argument("--to", dest="max_rate", type=positive, default=10_000.0, metavar="RMAX",
                        help="the highest rate offered, req/s (default 10000)")
    parser.add_argument("--factor", type=positive, default=1.5, help="each step offers this times the last "
                                                                     "until a breach (default 1.5)")
    parser.add_argument("--precision", type=fraction, default=0.1,
                        help="bisect until the first breach is within this share above the last pass (default 0.1)")
    parser.add_argument("--step-duration", type=positive, default=30.0, metavar="S",
                        help="seconds each step holds its rate, graded (default 30)")
    parser.add_argument("--step-rampup", type=non_negative, default=5.0, metavar="S",
                        help="seconds each step ramps up to its rate, not graded (default 5)")
    add_traffic(parser, users_help="Locust users per step (default: sized from each step's rate)")
    add_locustfile(parser)
    add_source(parser, "start a local Prometheus for each step that scrapes the host and the load generator")
    add_out(parser, "directory of the search (default runs/<UTC time>-capacity/)")
    add_master_arguments(parser, each_step=True)


def step_spec(spec: Spec, rate: float) -> Spec:
    """The spec with every throughput objective judged against ``rate``: 90 % of it must arrive."""
    objectives = tuple(dataclasses.replace(o, target=Target(">=", rate * THROUGHPUT_SHARE))
                       if o.kind == "throughput" else o for o in spec.objectives)
    return dataclasses.replace(spec, objectives=objectives)


def _targets(spec: Spec) -> list[dict[str, Any]]:
    from slo.units import format_value

    out = []
    for o in spec.objectives:
        unit = {"latency": "s", "throughput": "1/s"}.get(o.kind, "ratio")
        out.append({"id": o.id, "title": o.title, "kind": o.kind, "op": o.target.op, "value": o.target.value,
                    "unit": unit, "text": f"{o.target.op} {format_value(o.target.value, unit)}"})
    return out


def _check(args: argparse.Namespace) -> None:
    if args.max_rate < args.start:
        raise UserError(f"--to ({args.max_rate:g}) must be at least --from ({args.start:g})")
    if not 1.05 <= args.factor <= 10:
        raise UserError(f"--factor must be between 1.05 and 10, got {args.factor:g}")
    if not 0.01 <= args.precision < 1:
        raise UserError(f"--precision must be between 0.01 and 1, got {args.precision:g}")
    if args.step_duration > MAX_STEP_S:
        raise UserError(f"--step-duration is at most {MAX_STEP_S:g} s: a capacity search is a series of short steps")
    if args.step_rampup > MAX_STEP_RAMPUP_S:
        raise UserError(f"--step-rampup is at most {MAX_STEP_RAMPUP_S:g} s")
    if args.start_prometheus and binaries() is None:
        raise UserError(f"--start-prometheus: Prometheus is not installed; {INSTALL_HINT}")


def _workers_text(step: Step) -> str:
    """Each worker's responses in the step, for the progress line ("" on one machine)."""
    if not step.workers:
        return ""
    return "; workers " + ", ".join(f"{w} {n:,}" for w, n in sorted(step.workers.items()))


def run(args: argparse.Namespace, env: Env) -> int:
    _check(args)
    check_master_flags(args)
    check_load_flags(args, env, args.host, args.prometheus)
    spec = load_spec_or_fail(args.spec, args.selector, args.preset)
    check_selector(spec, args.selector)
    if args.keys:
        check_keys(argparse.Namespace(keys=args.keys, rate=args.max_rate, processes=args.processes, mix=args.mix,
                                      over_limit=0.0, expect_workers=args.expect_workers if args.master else None))
    out = Path(args.out) if args.out else out_dir_for("capacity", env.clock())
    out.mkdir(parents=True, exist_ok=True)
    throughput_target = next((o.target.value for o in spec.objectives if o.kind == "throughput"), None)
    search = {"from": args.start, "to": args.max_rate, "factor": args.factor, "precision": args.precision,
              "step_duration_s": args.step_duration, "step_rampup_s": args.step_rampup,
              "throughput_share": THROUGHPUT_SHARE, "source": "prometheus" if args.prometheus or args.start_prometheus
              else "locust",
              **({"master": {"bind": f"{args.master_bind_host}:{args.master_bind_port}",
                             "expect_workers": args.expect_workers}} if args.master else {})}
    base = RunPlan(host=args.host.rstrip("/"), spec=spec, out_dir=out, shape="ramp", processes=args.processes,
                   prometheus_url=args.prometheus, start_prometheus=args.start_prometheus, selector=args.selector,
                   seed=args.seed, mix=args.mix, users=args.users or 0, keys_file=args.keys,
                   locustfile=str(Path(args.locustfile).resolve()) if args.locustfile else None,
                   command=["loadgate", *env.argv], master=bool(args.master),
                   expect_workers=args.expect_workers or 0, workers_timeout=args.expect_workers_timeout,
                   master_bind_host=args.master_bind_host, master_bind_port=args.master_bind_port,
                   metrics_host=args.metrics_host, metrics_port=args.metrics_port or 0)
    env.stderr.write(f"loadgate: capacity of {base.host} against {spec.name}: from {args.start:g} req/s by "
                     f"x{args.factor:g} up to {args.max_rate:g}, {args.step_duration:g}s a step "
                     f"(+{args.step_rampup:g}s ramp-up), bisecting to {args.precision:.0%}"
                     f"{f'; each step on {args.expect_workers} workers' if args.master else ''}\n")
    ceiling = max((o.target.value for o in spec.objectives if o.kind == "latency"), default=0.5)
    steps: list[Step] = []
    dirs: list[str] = []
    stopped_by: int | None = None  # a signal's exit code
    while len(steps) < MAX_STEPS:
        rate = next_rate(steps, start=args.start, factor=args.factor, max_rate=args.max_rate,
                         precision=args.precision)
        if rate is None:
            break
        name = f"steps/{len(steps) + 1:02d}-{rate:g}rps"
        plan = dataclasses.replace(base, spec=step_spec(spec, rate), rate=rate, out_dir=out / name,
                                   duration=args.step_duration + args.step_rampup, rampup=args.step_rampup,
                                   users=args.users or concurrency(rate, ceiling, USERS_HEADROOM))
        try:
            if steps:
                time.sleep(STEP_PAUSE_S)
            env.stderr.write(f"loadgate: step {len(steps) + 1}: {format_rate(rate)}, {plan.users} users\n")
            record, _ = execute(plan, env)
            code = record.exit_code
        except UserError as exc:
            if exc.exit_code != ExitCode.INCONCLUSIVE:
                raise
            env.stderr.write(f"loadgate: step {len(steps) + 1} could not be graded: {exc.message}\n")
            steps.append(workers_missing_step(rate, exc.message) if plan.master and
                         gave_up_on_workers(plan.out_dir / "locust.log")
                         else Step(rate, None, "inconclusive", False, {}, ("generator_exit",)))
            dirs.append(name)
            break
        except Interrupted as exc:
            stopped_by = exc.exit_code  # stopped in a step's ramp-up: nothing of it to grade
            break
        if code in (ExitCode.INTERRUPTED, ExitCode.HANGUP, ExitCode.TERMINATED):
            stopped_by = int(code)  # the step was graded as far as it went, but is no evidence of capacity
            break
        step = step_from_verdict(rate, record.doc)
        steps.append(step)
        dirs.append(name)
        env.stderr.write(f"loadgate: step {len(steps)}: {format_rate(rate)} offered, "
                         f"{format_rate(step.achieved)} achieved: {step.verdict}"
                         f"{'' if step.valid else ' (invalid run: ' + ', '.join(step.invalid_checks) + ')'}"
                         f"{'; breached ' + ', '.join(step.breached) if step.breached else ''}"
                         f"{_workers_text(step)}{'; ' + step.note if step.note else ''}\n")
    result = outcome(steps, max_rate=args.max_rate)
    doc = document(steps, result, spec_name=spec.name, spec_path=spec.path, host=base.host,
                   targets=_targets(spec), search=search, throughput_target=throughput_target,
                   step_dirs=dirs, generated_at=rfc3339(env.clock()),
                   interrupted=ExitCode(stopped_by).name.lower() if stopped_by else None)
    publish_capacity(out, doc)
    answer = "none" if result.capacity_rps is None else format_rate(result.capacity_rps)
    env.stdout.write(f"capacity: {answer}{' (a lower bound)' if result.lower_bound else ''}; "
                     f"limited by {result.limited_by or 'nothing found'}: {result.reason}\n")
    env.stderr.write(f"loadgate: report {out / 'report.html'}\n")
    return stopped_by if stopped_by is not None else exit_code(result, throughput_target)


def exit_code(result: Outcome, throughput_target: float | None) -> int:
    """0: the capacity meets the throughput target; 1: it is below it; 3: no step passed, or the
    search stopped at a lower bound (the generator ran out, or --to) below the target."""
    if result.capacity_rps is None:
        return ExitCode.INCONCLUSIVE
    if throughput_target is None or result.capacity_rps >= throughput_target:
        return ExitCode.PASS
    return ExitCode.INCONCLUSIVE if result.lower_bound else ExitCode.FAIL
