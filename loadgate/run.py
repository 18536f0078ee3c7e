"""One load test end to end: Prometheus, Locust, grading and the report. Owns the run directory.

``execute(plan)`` starts a local Prometheus when asked (scraping the service and the load
generator every second), runs Locust headless as a subprocess with loadgate's scenarios, shows
live progress, then grades the steady state (the ramp-up excluded) from Prometheus, or from
the load generator's own counts when there is no Prometheus, and writes everything beside
``run.json``. Every process it starts is stopped on return, on error and on Ctrl-C.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests

from analysis.locust_source import ClientCollector, ClientSeries, SeriesError, breakdown, parse_series
from analysis.prom import PromConfig, PromError, Prometheus
from analysis.queries import Selector, SelectorError
from analysis.sli import Window
from loadgate import procs
from loadgate.errors import UserError
from loadgate.evaluate import LATENCY_CAPTION, Baseline, Evaluation, evaluate, grade_prometheus, store
from loadgate.progress import Progress
from loadgate.promserver import PrometheusServer
from reports.context import ReportContext
from reports.write import read_json, write_json
from scenarios.traffic import TIER_LIMITS
from slo.model import Spec

__all__ = ["RUN_SCHEMA_VERSION", "LOCUSTFILE", "RunPlan", "prometheus_config", "locust_command", "steady_window",
           "execute"]

RUN_SCHEMA_VERSION = 1
LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"
SCRAPE_S = 1


@dataclass
class RunPlan:
    """What ``loadgate run`` (or ``demo``) was asked to do."""

    host: str
    spec: Spec
    out_dir: Path
    shape: str = "ramp"
    rate: float = 200.0
    duration: float = 60.0
    rampup: float = 10.0
    processes: int = 1
    prometheus_url: str | None = None
    start_prometheus: bool = False
    selector: str = ""
    seed: int = 1
    mix: str | None = None
    over_limit: float = 0.0
    fail_on_warn: bool = False
    require_evidence: bool = False
    command: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    baseline: Baseline | None = None


def prometheus_config(service: str, loadgen: str, scrape_s: int = SCRAPE_S) -> str:
    """Scrape the service's /metrics (job ``service``) and the load generator (job ``loadgate``)."""
    return (f"global:\n  scrape_interval: {scrape_s}s\n  scrape_timeout: {scrape_s}s\n"
            f"  evaluation_interval: {scrape_s}s\n"
            f"scrape_configs:\n"
            f"  - job_name: service\n    static_configs:\n      - targets: ['{service}']\n"
            f"  - job_name: loadgate\n    static_configs:\n      - targets: ['{loadgen}']\n")


def locust_command(plan: RunPlan, series_file: Path, json_file: Path, metrics_port: int) -> list[str]:
    """The headless Locust command line for ``plan``."""
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", plan.host,
            "--lg-shape", plan.shape, "--lg-rate", f"{plan.rate:g}", "--lg-duration", f"{plan.duration:g}",
            "--lg-rampup", f"{plan.rampup:g}", "--lg-seed", str(plan.seed),
            "--lg-over-limit", f"{plan.over_limit:g}", "--lg-metrics-port", str(metrics_port),
            "--lg-series-file", str(series_file), "--json-file", str(json_file.with_suffix("")),
            "--exit-code-on-error", "0", "--stop-timeout", "5", "--loglevel", "WARNING"]
    if plan.mix:
        argv += ["--lg-mix", plan.mix]
    if plan.processes > 1:
        argv += ["--processes", str(plan.processes)]
    return argv


def steady_window(series: ClientSeries, rampup: float, duration: float) -> Window:
    """The graded window: from the end of the ramp-up to the end of the shape, in whole seconds."""
    if series.started is None:
        raise UserError("the load test never started (no test_start in client_series.jsonl); see locust.log", 3)
    end = series.started + duration
    if series.stopped is not None:
        end = min(end, series.stopped)
    start_s, end_s = math.ceil(series.started + rampup), math.floor(end)
    if end_s - start_s < 1:
        raise UserError(f"the steady state lasted under a second (ramp-up {rampup:g}s of {duration:g}s)", 2)
    return Window(float(start_s), float(end_s))


def _read_new(path: Path, offset: int) -> tuple[list[str], int]:
    if not path.exists():
        return [], offset
    with path.open("r", encoding="utf-8") as handle:
        handle.seek(offset)
        text = handle.read()
    complete = text[: text.rfind("\n") + 1]
    return complete.splitlines(), offset + len(complete.encode("utf-8"))


def _follow(proc: subprocess.Popen[bytes], series_file: Path, plan: RunPlan, stderr: TextIO) -> None:
    """Wait for Locust, showing progress from its series file; kill it if it overruns badly."""
    progress = Progress(plan.duration, stderr)
    offset, lines = 0, []
    deadline = time.monotonic() + plan.duration + 90
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                stderr.write("loadgate: Locust overran its duration by 90 s; stopping it\n")
                break
            new, offset = _read_new(series_file, offset)
            lines = (lines + [line for line in new if '"event"' not in line])[-2:]
            try:
                snaps = parse_series(lines).snapshots
            except SeriesError:
                snaps = ()
            progress.update(snaps[0] if len(snaps) == 2 else None, snaps[-1] if snaps else None)
            time.sleep(0.5)
    finally:
        progress.close()


def _wait_first_scrape(url: str, timeout_s: float = 20.0) -> None:
    """Block until Prometheus has scraped the service once, so the first seconds are not lost."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{url}/api/v1/query", params={"query": 'up{job="service"}'}, timeout=2).json()
            if answer.get("data", {}).get("result"):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.2)


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


def _locust_totals(json_file: Path) -> dict[str, Any]:
    """Requests and failures from Locust's own ``--json-file`` (not the stale CSV)."""
    try:
        entries = read_json(json_file)
    except (OSError, ValueError):
        return {}
    return {"requests": sum(e.get("num_requests", 0) for e in entries),
            "failures": sum(e.get("num_failures", 0) for e in entries),
            "endpoints": {e["name"]: {"requests": e.get("num_requests", 0), "failures": e.get("num_failures", 0)}
                          for e in entries if "name" in e}}


def _prom_sum(url: str, query: str) -> float | None:
    """One number from the local Prometheus after the last scrape (None when it has none)."""
    prom = Prometheus(PromConfig(url))
    try:
        samples = prom.instant(query, time.time())
        return samples[0][1] if samples else None
    except PromError:
        return None
    finally:
        prom.close()


def execute(plan: RunPlan, stdout: TextIO, stderr: TextIO, tool_version: str) -> tuple[int, ReportContext]:
    """Run the load test of ``plan`` and grade it; returns the gate's exit code and the report model."""
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    series_file, json_file = out / "client_series.jsonl", out / "locust.json"
    series_file.unlink(missing_ok=True)
    metrics_port = procs.free_port()
    server: PrometheusServer | None = None
    locust: subprocess.Popen[bytes] | None = None
    prom_url = plan.prometheus_url
    selector_text = plan.selector
    try:
        if plan.start_prometheus:
            target = urlsplit(plan.host)
            service = f"{target.hostname}:{target.port or (443 if target.scheme == 'https' else 80)}"
            server = PrometheusServer(out / "prometheus",
                                      prometheus_config(service, f"127.0.0.1:{metrics_port}")).start()
            prom_url = server.url
            selector_text = selector_text or 'job="service"'
            _wait_first_scrape(prom_url)
        try:
            selector = Selector.parse(plan.spec.selector, selector_text)
        except SelectorError as exc:
            raise UserError(f"--selector: {exc}") from None
        argv = locust_command(plan, series_file, json_file, metrics_port)
        stderr.write(f"loadgate: {plan.shape} to {plan.rate:g} req/s for {plan.duration:g}s "
                     f"(ramp-up {plan.rampup:g}s) against {plan.host}"
                     f"{f' with {plan.processes} worker processes' if plan.processes > 1 else ''}\n")
        locust = procs.start(argv, out / "locust.log")
        _follow(locust, series_file, plan, stderr)
        procs.stop(locust, timeout_s=15)
        locust_code = locust.returncode
        locust = None
        try:
            series = parse_series(series_file.read_text(encoding="utf-8").splitlines()
                                  if series_file.exists() else [])
        except SeriesError as exc:
            raise UserError(str(exc), 3) from None
        window = steady_window(series, plan.rampup, plan.duration)
        chart_start = float(math.floor(series.started)) if series.started is not None else None
        client_collector = ClientCollector(series, window, chart_start=chart_start)
        client = evaluate(plan.spec, client_collector, source="locust",
                          require_evidence=plan.require_evidence, fail_on_warn=plan.fail_on_warn,
                          source_info={"series": series_file.name})
        primary: Evaluation = client
        if prom_url:
            time.sleep(2 * SCRAPE_S + 0.5)  # let Prometheus scrape the final counters
            prom = Prometheus(PromConfig.from_env(prom_url, os.environ))
            try:
                primary = grade_prometheus(plan.spec, prom, window, selector, require_evidence=plan.require_evidence,
                                           fail_on_warn=plan.fail_on_warn, chart_start=chart_start)
            finally:
                prom.close()
        # The client's percentiles join the server's on one chart; users per tier come from the client.
        client_latency = client_collector.latency_overview().series
        if primary is client:
            primary.overview.append(("latency", "Latency p50, p95 and p99", "s", client_latency, LATENCY_CAPTION))
        else:
            for item in primary.overview:
                if item[0] == "latency":
                    item[3].extend(client_latency)
        primary.overview.append(("users", "Running users per tier", "users", client_collector.users().series,
                                 "Users the shape runs per tier; over-limit twins are counted apart."))
        # Totals as the local Prometheus scraped them: the service's counter (every request the
        # demo API answered, since it starts with the test) and the load generator's exporter.
        server_total = scraped_client = None
        if server is not None and prom_url:
            server_total = _prom_sum(prom_url, f"sum({plan.spec.metrics.requests}{selector.braces()})")
            # last_over_time: once Locust has exited, its series are stale and an instant query is empty.
            scraped_client = _prom_sum(prom_url, 'sum(last_over_time(loadgate_responses_total{job="loadgate"}[10m]))')
        workers = max((s.workers for s in series.snapshots), default=0)
        log = (out / "locust.log").read_text(encoding="utf-8", errors="replace") if (out / "locust.log").exists() else ""
        record = {
            "schema_version": RUN_SCHEMA_VERSION,
            "host": plan.host, "shape": plan.shape, "target_rate": plan.rate, "duration_s": plan.duration,
            "rampup_s": plan.rampup, "seed": plan.seed, "processes": plan.processes,
            "workers": workers if plan.processes > 1 else 1,
            "window": {"start_unix": window.start, "end_unix": window.end, "seconds": window.seconds},
            "test_started_unix": series.started, "test_stopped_unix": series.stopped,
            "source": primary.source, "prometheus": "started by loadgate" if server else prom_url,
            "locust_exit_code": locust_code, **_locust_totals(json_file),
            "client_responses": sum(series.snapshots[-1].responses.values()) if series.snapshots else 0,
            # Locust logs this when a load-generator process passes 90 % CPU.
            "loadgen_cpu_over_90": "CPU usage above" in log or "CPU usage threshold was exceeded" in log
                                   or "CPU usage was too high" in log,
            "server_counter_at_end": server_total,
            "loadgate_exporter_responses": scraped_client,
            "tier_limits_per_min": dict(TIER_LIMITS),
            "git_sha": _git_sha(), "versions": _versions(), "command": plan.command, **plan.extra,
        }
        write_json(out / "run.json", record)
        ctx = store(out, primary, plan.spec, window, selector=str(selector) if primary.source == "prometheus" else "",
                    generated_at=time.time(), tool_version=tool_version,
                    options={"fail_on_warn": plan.fail_on_warn, "require_evidence": plan.require_evidence,
                             "fail_on_regression": bool(plan.baseline and plan.baseline.fail_on_regression)},
                    client=client, run=record, baseline=plan.baseline,
                    breakdown={**breakdown(series, window), "spectrum": client_collector.spectrum()},
                    chart_start=chart_start)
        return ctx.exit_code, ctx
    finally:
        if locust is not None:
            procs.stop(locust, timeout_s=15)
        if server is not None:
            server.stop()

