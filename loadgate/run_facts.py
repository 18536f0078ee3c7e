"""The facts around a run, outside the client series, and ``run.json`` built from them once.

``gather_facts`` reads what the run left (Locust's ``--json-file`` and log) and asks the local
Prometheus for the service's and the exporter's final counters; ``run_record`` (pure) joins the
plan, the client series, the graded window and those facts into the typed ``RunRecord``.
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import contract
from analysis.breakdown import client_latency
from analysis.client_series import ClientSeries
from analysis.prom import PromConfig, PromError, Prometheus
from analysis.sli import Window
from analysis.validity import Validity
from loadgate.run_plan import LOCUSTFILE, RunPlan
from reports.write import read_json
from slo.gate import Interruption
from slo.record import rfc3339
from slo.record_types import RunRecord, clean

__all__ = ["RunFacts", "locust_totals", "gather_facts", "run_record"]


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



def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("loadgate", "locust", "prometheus-api-client", "starlette", "uvicorn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    try:
        text = subprocess.run(["prometheus", "--version"], capture_output=True, text=True, timeout=5).stdout
        out["prometheus"] = text.split()[2] if text.startswith("prometheus, version") else text.strip()[:40]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return out


def _git_sha() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=LOCUSTFILE.parent)
        return result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def locust_totals(json_file: Path) -> dict[str, Any]:
    """Requests and failures from Locust's own ``--json-file`` (not the stale CSV)."""
    try:
        entries = read_json(json_file)
    except (OSError, ValueError):
        return {}
    return {"requests": sum(e.get("num_requests", 0) for e in entries),
            "failures": sum(e.get("num_failures", 0) for e in entries),
            "endpoints": {e["name"]: {"requests": e.get("num_requests", 0), "failures": e.get("num_failures", 0)}
                          for e in entries if "name" in e}}


def _prom_sum(url: str, query: str, at: float) -> float | None:
    """One number from the local Prometheus after the last scrape (None when it has none)."""
    prom = Prometheus(PromConfig(url))
    try:
        samples = prom.instant(query, at)
        return samples[0][1] if samples else None
    except PromError:
        return None
    finally:
        prom.close()


def gather_facts(out: Path, locust_code: int | None, local_prom: str | None, server_query: str,
                 now: float) -> RunFacts:
    """Locust's totals and log, and, with a local Prometheus, the service's and the exporter's totals."""
    log_path = out / "locust.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    server_total = exporter = None
    if local_prom:
        # The demo API's counter counts every request it answered, since it starts with the test.
        server_total = _prom_sum(local_prom, server_query, now)
        # last_over_time: once Locust has exited, its series are stale and an instant query is empty.
        exporter = _prom_sum(local_prom, f'sum(last_over_time({contract.CLIENT_RESPONSES_FAMILY}_total'
                                         f'{{job="{contract.CLIENT_JOB}"}}[10m]))', now)
    return RunFacts(
        locust_exit_code=locust_code, locust_totals=locust_totals(out / "locust.json"),
        # Locust logs this when a load-generator process passes 90 % CPU.
        loadgen_cpu_over_90=("CPU usage above" in log or "CPU usage threshold was exceeded" in log
                             or "CPU usage was too high" in log),
        server_counter_at_end=server_total, exporter_responses=exporter, git_sha=_git_sha(), versions=_versions())


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
