"""One load test end to end, as small steps. Owns the run directory.

``execute(plan, env)`` runs the chain:

1. a local Prometheus when asked (``run_children.local_prometheus``: scrapes the service and the
   load generator every second) under an ``ExitStack`` that holds everything until the record is
   written, and within it the Locust child (``run_children.locust_child``), stopped as soon as it
   is done; every process stops on return, on error and on Ctrl-C;
2. live progress from the client series while Locust runs (``run_children.follow``);
3. the steady-state window (``steady_window``: the ramp-up excluded; cut short by a signal or by
   a load generator that died) graded from the load generator's series and, when there is a
   Prometheus, from it (``slo.evaluate``); a signal during the run (``signals.Interrupted``)
   stops Locust and goes on to grade what was measured; a full disk stops the run (exit 2); with
   ``--abort-on-fail`` an objective that can no longer pass (``slo.abort``, checked after each
   read of the series) stops Locust the same way, and the window up to that moment is graded;
4. the facts around the run (``run_observe.gather_facts``), ``run.json`` built from them once
   (``run_facts.run_record``) and the run's validity checks (``analysis.validity``); with
   ``--alert-rules``, the spec's burn-rate rules ran in the local Prometheus
   (``drill.write_alert_rules``), an ``AlertWatcher`` polled its alerts throughout, and
   ``drill.alert_record`` folds them into spans and the expectation's failures;
5. one typed record (``slo.record.build_record``), written and rendered by ``reports.publish``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import time
from contextlib import ExitStack, closing
from typing import Callable, Sequence
from urllib.parse import urlsplit

import contract
from analysis.breakdown import breakdown, spectrum
from analysis.client_series import ClientSeries
from analysis.client_source import ClientSource
from analysis.prom import PromConfig, Prometheus
from analysis.prom_source import PromSource
from analysis.queries import SelectorError
from analysis.sli import Window
from analysis.validity import OK, Check, Validity, assess
from loadgate import procs
from loadgate.alertwatch import AlertWatcher
from loadgate.drill import alert_record, write_alert_rules
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.faults import Drill, Target
from loadgate.run_children import (
    cut_partial_line,
    disk_full,
    follow,
    gave_up_on_workers,
    local_prometheus,
    locust_child,
    read_series,
    scraped_by,
    unwritable,
    wait_scraped_after,
)
from loadgate.run_facts import run_record
from loadgate.run_observe import gather_facts
from loadgate.run_plan import SCRAPE_S, SERVICE_JOB, RunPlan, locust_command, planned_window
from loadgate.run_zones import grade_each_zone, zones_record
from loadgate.signals import Interrupted, deferred
from loadgate.version import tool_version
from reports.context import ReportContext
from reports.publish import publish
from slo.abort import Abort, Plan, cannot_pass, live_counts
from slo.evaluate import Graded, grade_source
from slo.gate import ExitCode, Interruption
from slo.grade import FAIL
from slo.record import Record, build_record
from slo.recovery import with_recovery
from slo.timeline import build_timeline

__all__ = ["RunPlan", "steady_window", "execute", "PROM_MIN_WINDOW_S"]

#: With Prometheus grading, the fewest seconds of graded window an abort leaves it: its
#: ``increase()`` over the window needs a few of its 1 s scrapes.
PROM_MIN_WINDOW_S = 5.0


def steady_window(series: ClientSeries, rampup: float, duration: float, until: float | None = None) -> Window:
    """The graded window: from the end of the ramp-up to the end of the shape (or the test's stop,
    or ``until``, an interrupt, if earlier), in whole seconds."""
    if series.started is None:
        raise UserError("the load test never started (no test_start in client_series.jsonl); see locust.log",
                        ExitCode.INCONCLUSIVE)
    end = series.started + duration
    for earlier in (series.stopped, until):
        if earlier is not None:
            end = min(end, earlier)
    start_s, end_s = math.ceil(series.started + rampup), math.floor(end)
    if end_s - start_s < 1:
        raise UserError(f"the steady state lasted under a second (ramp-up {rampup:g}s of {duration:g}s)")
    return Window(float(start_s), float(end_s))


def _abort_check(plan: RunPlan, min_window_s: float) -> Callable[[ClientSeries], Abort | None]:
    """``--abort-on-fail``'s check of the series read so far: an ``Abort`` once a required objective
    cannot pass over the planned graded window (``slo.abort.cannot_pass``), never in the ramp-up,
    after the test stopped, or before ``min_window_s`` of the graded window were counted."""
    planned: list[Plan] = []

    def check(series: ClientSeries) -> Abort | None:
        if series.started is None or series.stopped is not None:
            return None
        start = float(math.ceil(series.started + plan.rampup))  # as steady_window places it
        if not planned:
            planned.append(planned_window(plan, series.started, start, scheduled=series.model == "open"))
        counts = live_counts(series, start, expected_workers=plan.generator_processes)
        if counts.at_s < min_window_s:
            return None
        return cannot_pass(plan.spec.objectives, planned[0], counts)

    return check


def _stopped_by_abort(validity: Validity, series: ClientSeries, window: Window, code: int | None) -> Validity:
    """The checks of a run ``--abort-on-fail`` stopped: the load generator was stopped on purpose
    after the graded window, so how it exited says nothing about the window (Locust may not
    outlive the SIGTERM that stops it); it counts as ended once it reported through the window."""
    last = series.snapshots[-1].t if series.snapshots else None
    if last is None or last < window.end:
        return validity
    ended = Check("generator_exit", OK, code, 0, "the load generator reported through the graded window, then "
                                                 "--abort-on-fail stopped it")
    return Validity(tuple(ended if c.id == "generator_exit" else c for c in validity.checks))


def _on_loopback(url: str) -> bool:
    """Whether the service at ``url`` runs on this machine (a loopback address): it then shares
    the CPUs with the load generator."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def execute(plan: RunPlan, env: Env, *, targets: Sequence[Target] = ()) -> tuple[Record, ReportContext]:
    """Run the load test of ``plan`` and grade it; returns its record (the gate's exit code is
    ``record.exit_code``) and the report's view model. ``targets`` are the processes a drill's
    ``kill-api:N`` kills (the demo API's)."""
    if plan.master and plan.zone:
        raise UserError("--zone applies to a local run; with --master each worker names its own zone "
                        "(loadgate worker --zone NAME)")
    default_selector = f'job="{SERVICE_JOB}"' if plan.start_prometheus else ""
    try:
        # Before the run directory exists: a refused selector must leave nothing behind.
        selector = plan.spec.service_selector(plan.selector or default_selector)
    except SelectorError as exc:
        raise UserError(f"--selector: {exc}") from None
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    series_file, json_file = out / "client_series.jsonl", out / "locust.json"
    series_file.unlink(missing_ok=True)
    metrics_port = plan.metrics_port or procs.free_port()
    alerting = write_alert_rules(plan, selector, env.stderr) if plan.alert_rules else None
    with ExitStack() as stack:
        local_prom = stack.enter_context(local_prometheus(out, plan.host, metrics_port, plan.scrape_targets,
                                                          alerting["file"] if alerting else None,
                                                          head_start_s=plan.rampup)) \
            if plan.start_prometheus else None
        prom_url = local_prom or plan.prometheus_url
        drill = stack.enter_context(Drill(plan.drill, out=out / "drill", stderr=env.stderr, targets=targets,
                                          timeout_s=plan.action_timeout_s)) if plan.drill else None
        watcher = None
        if alerting and local_prom:
            watcher = AlertWatcher(local_prom).start()
            stack.callback(watcher.stop)
        env.stderr.write(f"loadgate: {plan.shape} to {plan.rate:g} req/s for {plan.duration:g}s "
                         f"(ramp-up {plan.rampup:g}s) against {plan.host}"
                         f"{f' with {plan.processes} worker processes' if plan.processes > 1 else ''}\n")
        if plan.master:
            env.stderr.write(f"loadgate: Locust master on {plan.master_bind_host}:{plan.master_bind_port}, waiting up "
                             f"to {plan.workers_timeout:g}s for {plan.expect_workers} workers (loadgate worker "
                             f"--master HOST:{plan.master_bind_port})\n")
        signalled: Interrupted | None = None
        aborted: Abort | None = None
        check = _abort_check(plan, PROM_MIN_WINDOW_S if prom_url else 1.0) if plan.abort_on_fail else None
        with locust_child(locust_command(plan, series_file, json_file, metrics_port), out / "locust.log") as locust:
            try:
                aborted = follow(locust, series_file, plan.duration + (plan.workers_timeout if plan.master else 0),
                                 env.stderr, watcher.firing_now if watcher else None, until=check,
                                 started=(lambda t: drill.begin(math.ceil(t + plan.rampup))) if drill else None)
            except Interrupted as exc:
                # Leaving this block stops Locust (it writes its last counts); what was measured is graded.
                signalled = exc
                env.stderr.write(f"loadgate: {exc.name}: stopping the load test; grading what was measured "
                                 "(a second signal stops at once)\n")
            if aborted is not None:
                # As for a signal: leaving this block stops Locust; the window up to the abort is graded.
                env.stderr.write(f"loadgate: aborted at {aborted.at_s:g}s: {aborted.objective} cannot pass "
                                 f"({aborted.reason}); stopping the load test and grading what was measured\n")
        if drill is not None:
            # The load has stopped: so has the drill, every command it started and every host fault it
            # made undone; a first signal meanwhile waits for the undo, then the run is graded as above.
            try:
                with deferred():
                    drill.close()
            except Interrupted as exc:
                signalled = signalled or exc
                env.stderr.write(f"loadgate: {exc.name}: the drill's faults are undone; grading what was measured "
                                 "(a second signal stops at once)\n")
        if locust.returncode == contract.SERIES_WRITE_FAILED_EXIT or disk_full(out):
            raise UserError(unwritable(series_file))
        # The results are written before a first signal now takes effect (a second still stops at once).
        with deferred():
            cut_partial_line(series_file)  # a load generator killed mid-write leaves half a line
            series = read_series(series_file)
            until = signalled.at if signalled else None
            if aborted is not None and series.started is not None:
                until = math.ceil(series.started + plan.rampup) + aborted.at_s  # the seconds the abort counted
            if series.stopped is None and series.snapshots:
                # The load generator died: grade only what it reported, not the seconds after it was gone.
                until = min(until if until is not None else math.inf, series.snapshots[-1].t)
            try:
                window = steady_window(series, plan.rampup, plan.duration, until=until)
            except UserError:
                if signalled is not None:
                    raise signalled from None  # stopped during the ramp-up: nothing steady to grade
                if plan.master and series.started is None and gave_up_on_workers(out / "locust.log"):
                    raise UserError(f"{plan.expect_workers} workers did not all connect to the master on "
                                    f"{plan.master_bind_host}:{plan.master_bind_port} within "
                                    f"{plan.workers_timeout:g}s (--expect-workers-timeout); no load was sent; "
                                    "see locust.log", ExitCode.INCONCLUSIVE) from None
                if series.stopped is None:
                    raise UserError(f"the load generator stopped (exit code {locust.returncode}) before a second of "
                                    "steady state was measured; see locust.log", ExitCode.INCONCLUSIVE) from None
                raise
            interrupted = Interruption(signalled.name, signalled.at, ExitCode(signalled.exit_code)) \
                if signalled is not None else None
            chart_start = float(math.floor(series.started)) if series.started is not None else None
            client_source = ClientSource(series, window, chart_start=chart_start, file_name=series_file.name)
            timeline = build_timeline(drill.results(), series, window, plan.spec, drill.steady_start or window.start,
                                      plan.recovery_hold_s) if drill is not None else None
            client = with_recovery(grade_source(plan.spec, client_source, require_evidence=plan.require_evidence),
                                   timeline)
            client = grade_each_zone(plan.spec, client, series, window, chart_start, series_file.name,
                                     plan.require_evidence)
            primary: Graded = client
            if prom_url:
                # Let Prometheus scrape the final counters: the local one is asked when it has.
                if not local_prom or not wait_scraped_after(local_prom, time.time(), 2 * SCRAPE_S + 0.5):
                    time.sleep(0 if local_prom else 2 * SCRAPE_S + 0.5)
                if local_prom and not scraped_by(local_prom, window.start):
                    env.stderr.write("loadgate: warning: the local Prometheus first scraped the service after the "
                                     "graded window began; its first seconds are extrapolated (a longer --rampup "
                                     "avoids this)\n")
                prom = stack.enter_context(closing(Prometheus(PromConfig.from_env(prom_url, env.environ))))
                primary = with_recovery(grade_source(plan.spec, PromSource(prom, plan.spec.metrics, selector, window,
                                                                           chart_start=chart_start),
                                                     require_evidence=plan.require_evidence), timeline)
                primary = grade_each_zone(plan.spec, primary, series, window, chart_start, series_file.name,
                                          plan.require_evidence, charts=False)
            alerts = None
            if alerting is not None and watcher is not None:
                watcher.stop()
                alerts = alert_record(alerting, watcher, plan.expect_alerts, window)
                if timeline is not None:  # each fault gains when each generated alert first fired after it
                    timeline = dataclasses.replace(timeline, alert_spans=tuple(alerts["spans"]))
            facts = gather_facts(out, locust.returncode, local_prom,
                                 f"sum({plan.spec.metrics.requests}{selector.braces()})", env.clock())
            validity = assess(series, window, locust_exit_code=locust.returncode,
                              expected_workers=plan.generator_processes, model=series.model)
            if aborted is not None:
                validity = _stopped_by_abort(validity, series, window, locust.returncode)
            run = run_record(plan, series, window, facts, source=primary.source,
                             prometheus="started by loadgate" if local_prom else plan.prometheus_url,
                             interrupted=interrupted, validity=validity)
            if aborted is not None:
                run = dataclasses.replace(run, extra={**run.extra, "aborted": aborted.to_dict()})
            zones = zones_record(series, window)
            if zones is not None:
                run = dataclasses.replace(run, extra={**run.extra, "zones": zones})
            record = build_record(
                plan.spec, primary, window, client=client, run=run, baseline=plan.baseline,
                selector=str(selector) if primary.source == PromSource.name else "", generated_at=env.clock(),
                tool_version=tool_version(), run_id=out.resolve().name, chart_start=chart_start,
                fail_on_warn=plan.fail_on_warn,
                options={"fail_on_warn": plan.fail_on_warn, "require_evidence": plan.require_evidence,
                         "allow_invalid": plan.allow_invalid,
                         "fail_on_regression": bool(plan.baseline and plan.baseline.fail_on_regression)},
                breakdown={**breakdown(series, window), "spectrum": spectrum(series, window)},
                interrupted=interrupted, validity=validity, allow_invalid=plan.allow_invalid,
                co_located=_on_loopback(plan.host), alerts=alerts,
                timeline=timeline.to_json() if timeline is not None else None)
            if timeline is not None:
                for action, recovery in timeline.faults:
                    env.stderr.write(f"loadgate: drill: {action.action} at {action.at_s:g}s ({action.status}): "
                                     f"{recovery.reason if recovery else action.detail}\n")
            if aborted is not None:
                graded = next((o.status for o in record.verdict.objectives if o.id == aborted.objective), None)
                if graded != FAIL:
                    env.stderr.write(f"loadgate: warning: the abort was decided on the load generator's counts, "
                                     f"but {primary.source} grades {aborted.objective} {graded}\n")
            return record, publish(out, record)
