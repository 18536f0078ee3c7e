"""The facts around a run, outside the client series, and ``run.json`` built from them once. Pure.

``run_observe.gather_facts`` reads what the run left into ``RunFacts``; ``run_record`` joins the
plan, the client series, the graded window and those facts into the typed ``RunRecord``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import contract
from analysis.breakdown import client_latency
from analysis.client_series import ClientSeries
from analysis.sli import Window
from analysis.validity import Validity
from loadgate.run_plan import RunPlan
from slo.gate import Interruption
from slo.record_types import RunRecord, clean
from slo.units import rfc3339

__all__ = ["RunFacts", "run_record"]


@dataclass(frozen=True)
class RunFacts:
    """What was observed around the load test, outside the client series."""

    locust_exit_code: int | None
    #: Requests, failures and per-endpoint counts from Locust's own ``--json-file``.
    locust_totals: dict[str, Any]
    loadgen_cpu_over_90: bool
    #: The service's request counter as the local Prometheus last scraped it (None without one).
    server_counter_at_end: float | None
    #: The load generator's ``loadgate_responses_total`` as the local Prometheus last scraped it.
    exporter_responses: float | None
    git_sha: str | None
    versions: dict[str, str]


def run_record(plan: RunPlan, series: ClientSeries, window: Window, facts: RunFacts, *, source: str,
               prometheus: str | None, interrupted: Interruption | None = None,
               validity: Validity | None = None) -> RunRecord:
    """``run.json``, built once: what was asked, the graded window, what was observed and what ran it. Pure.

    ``prometheus`` is how the server side was read: "started by loadgate", a URL, or None; a run
    ``interrupted`` by a signal says when; ``validity`` holds its checks and whether they were
    enforced (``plan.allow_invalid``).
    """
    workers = max((s.workers for s in series.snapshots), default=0)
    last = series.snapshots[-1] if series.snapshots else None
    totals = facts.locust_totals
    model = _load_model_facts(plan, series, window)
    return RunRecord(
        host=plan.host, shape=plan.shape, target_rate=plan.rate, duration_s=plan.duration, rampup_s=plan.rampup,
        seed=plan.seed, processes=plan.generator_processes,
        workers=workers if plan.generator_processes > 1 or plan.master else 1,
        master={"bind": f"{plan.master_bind_host}:{plan.master_bind_port}",
                "expect_workers": plan.expect_workers} if plan.master else None,
        worker_responses={w: int(round(n)) for w, n in last.worker_responses.items()}
        if last is not None and last.worker_responses else None,
        worker_events=tuple({"event": kind, "worker": worker, "at": rfc3339(t)}
                            for t, kind, worker in series.worker_events) or None,
        window={"start_unix": window.start, "end_unix": window.end, "seconds": window.seconds},
        test_started_unix=series.started, test_stopped_unix=series.stopped, source=source, prometheus=prometheus,
        locust_exit_code=facts.locust_exit_code, requests=int(totals.get("requests", 0)),
        failures=int(totals.get("failures", 0)), endpoints=totals.get("endpoints", {}),
        client_responses=int(round(sum(last.responses.values()))) if last is not None else 0,
        loadgen_cpu_over_90=facts.loadgen_cpu_over_90,
        server_counter_at_end=clean(facts.server_counter_at_end, "server_counter_at_end"),
        loadgate_exporter_responses=clean(facts.exporter_responses, "loadgate_exporter_responses"),
        tier_limits_per_min=dict(contract.TIER_LIMITS), git_sha=facts.git_sha, versions=facts.versions,
        command=tuple(plan.command), ids=plan.ids, locustfile=plan.locustfile, **model,
        interrupted={"signal": interrupted.signal, "at": rfc3339(interrupted.at)} if interrupted else None,
        validity={**validity.to_dict(), "enforced": not plan.allow_invalid} if validity is not None else None,
        extra=dict(plan.extra))


def _load_model_facts(plan: RunPlan, series: ClientSeries, window: Window) -> dict[str, Any]:
    """How the load was generated: the model (``open``: arrival rate controlled; ``closed``: plain
    Locust users, rate not controlled; ``mixed``), the concurrency, the user classes, and the
    latency from the intended sends (for open-model requests)."""
    # A series written before loadgate recorded the model says nothing of it: nothing is guessed.
    facts: dict[str, Any] = {"model": series.model} if series.model is None else {
        "model": series.model, "concurrency": series.concurrency, "user_classes": tuple(series.user_classes),
        "closed_user_classes": tuple(series.closed_user_classes)}
    latency = client_latency(series, window)
    if latency is not None:
        facts["client_latency"] = clean(latency)
    return facts
