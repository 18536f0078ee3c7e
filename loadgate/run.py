"""One load test end to end, as small steps. Owns the run directory.

``execute(plan, env)`` runs the chain:

1. a local Prometheus when asked (``local_prometheus``: scrapes the service and the load
   generator every second) under an ``ExitStack`` that holds everything until the record is
   written, and within it the Locust child (``locust_child``), stopped as soon as it is done;
   every process stops on return, on error and on Ctrl-C;
2. live progress from the client series while Locust runs (``follow``);
3. the steady-state window (``steady_window``: the ramp-up excluded; cut short by a signal or by
   a load generator that died) graded from the load generator's series and, when there is a
   Prometheus, from it (``slo.evaluate``); a signal during the run (``signals.Interrupted``)
   stops Locust and goes on to grade what was measured; a full disk stops the run (exit 2);
4. the facts around the run (``gather_facts``), the pure ``run_record`` (``run.json``) and the
   run's validity checks (``analysis.validity``); with ``--alert-rules``, the spec's burn-rate
   rules ran in the local Prometheus (``write_alert_rules``), an ``AlertWatcher`` polled its
   alerts throughout, and ``alert_record`` folds them into spans and the expectation's failures;
5. one record (``slo.record.build_record``), written by ``reports.publish``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import platform
import subprocess
import sys
import time
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TextIO
from urllib.parse import urlsplit

import requests

import contract
from analysis.breakdown import breakdown, client_latency, spectrum
from analysis.client_series import ClientSeries, SeriesError, SeriesReader, parse_series
from analysis.client_source import ClientSource
from analysis.prom import PromConfig, PromError, Prometheus
from analysis.prom_source import PromSource
from analysis.queries import Selector, SelectorError
from analysis.sli import Window
from analysis.validity import assess
from loadgate import procs
from loadgate.alertwatch import AlertWatcher
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.progress import Progress
from loadgate.promserver import PrometheusServer
from loadgate.signals import Interrupted, deferred
from loadgate.version import tool_version
from reports.context import ReportContext
from reports.publish import publish
from reports.write import read_json, write_text
from scenarios.schedule import DEFAULT_MAX_LATE_S
from slo.alerts import check, spans
from slo.compare import Baseline
from slo.evaluate import Graded, grade_source
from slo.gate import ExitCode, Interruption
from slo.model import Spec
from slo.record import build_record, rfc3339
from slo.rules import build_rules, prom_duration, render_rules

__all__ = ["RUN_SCHEMA_VERSION", "LOCUSTFILE", "RunPlan", "RunFacts", "prometheus_config", "locust_command",
           "steady_window", "local_prometheus", "locust_child", "read_series", "run_record", "execute"]

RUN_SCHEMA_VERSION = 1
LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"
#: loadgate's hooks and shape without its scenarios, joined to a QA team's own locustfile.
PLUGIN = LOCUSTFILE.parent / "scenarios" / "plugin.py"
SCRAPE_S = 1
#: The job under which a local Prometheus scrapes the service (its default selector).
SERVICE_JOB = "service"


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
    #: The user ids cached reads draw from (``--ids``: a range or a file); None for 1-10000.
    ids: str | None = None
    #: Locust users carrying the requests (the concurrency); 0 sizes them from the rate.
    users: int = 0
    #: A QA team's own locustfile, run with loadgate's hooks (None: loadgate's scenarios).
    locustfile: str | None = None
    #: The API keys to send with (``--keys``): only the path is ever recorded, never a key.
    keys_file: str | None = None
    #: Seconds a request may wait for a free user past its intended time before it is dropped.
    max_late: float = DEFAULT_MAX_LATE_S
    #: Run the Locust master only, for ``expect_workers`` workers on other hosts.
    master: bool = False
    expect_workers: int = 0
    workers_timeout: float = 60.0
    master_bind_host: str = "0.0.0.0"
    master_bind_port: int = 5557
    #: Where the loadgate_* series are served (port 0: a free one).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    #: What a local Prometheus scrapes as the service (``host:port`` each; default: ``host``'s).
    scrape_targets: tuple[str, ...] = ()
    #: Load the spec's burn-rate rules into the local Prometheus and record the alerts that fire.
    alert_rules: bool = False
    #: ``--expect-alerts``: None for no expectation, ``()`` for none at all, else (slo, severity) pairs.
    expect_alerts: tuple[tuple[str, str], ...] | None = None

    @property
    def generator_processes(self) -> int:
        """The load-generator processes that share the rate: the workers, else 1."""
        return self.expect_workers if self.master else self.processes
    fail_on_warn: bool = False
    require_evidence: bool = False
    #: Report a run's failed validity checks as warnings instead of making it inconclusive.
    allow_invalid: bool = False
    command: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    baseline: Baseline | None = None


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


def prometheus_config(service: str | Sequence[str], loadgen: str, scrape_s: int = SCRAPE_S,
                      rule_file: Path | None = None) -> str:
    """Scrape the service's /metrics (job ``SERVICE_JOB``; one instance per target) and the load
    generator (``contract.CLIENT_JOB``); evaluate ``rule_file``'s rules every scrape."""
    targets = ", ".join(f"'{t}'" for t in ([service] if isinstance(service, str) else service))
    rules = f"rule_files: ['{rule_file}']\n" if rule_file is not None else ""
    return (f"global:\n  scrape_interval: {scrape_s}s\n  scrape_timeout: {scrape_s}s\n"
            f"  evaluation_interval: {scrape_s}s\n{rules}"
            f"scrape_configs:\n"
            f"  - job_name: {SERVICE_JOB}\n    static_configs:\n      - targets: [{targets}]\n"
            f"  - job_name: {contract.CLIENT_JOB}\n    static_configs:\n      - targets: ['{loadgen}']\n")


def locust_command(plan: RunPlan, series_file: Path, json_file: Path, metrics_port: int) -> list[str]:
    """The headless Locust command line for ``plan``."""
    files = f"{PLUGIN},{plan.locustfile}" if plan.locustfile else str(LOCUSTFILE)
    argv = [sys.executable, "-m", "locust", "-f", files, "--headless", "--host", plan.host,
            "--lg-shape", plan.shape, "--lg-rate", f"{plan.rate:g}", "--lg-duration", f"{plan.duration:g}",
            "--lg-rampup", f"{plan.rampup:g}", "--lg-seed", str(plan.seed), "--lg-max-late", f"{plan.max_late:g}",
            "--lg-over-limit", f"{plan.over_limit:g}", "--lg-metrics-port", str(metrics_port),
            "--lg-metrics-host", plan.metrics_host,
            "--lg-series-file", str(series_file), "--json-file", str(json_file.with_suffix("")),
            "--exit-code-on-error", "0", "--stop-timeout", "5", "--loglevel", "WARNING"]
    if plan.mix:
        argv += ["--lg-mix", plan.mix]
    if plan.ids:
        argv += ["--lg-ids", plan.ids]
    if plan.users:
        argv += ["-u", str(plan.users)]
    if plan.keys_file:
        argv += ["--lg-keys-file", str(Path(plan.keys_file).resolve())]
    if plan.processes > 1:
        argv += ["--processes", str(plan.processes), "--lg-workers", str(plan.processes)]
    if plan.master:
        argv += ["--master", "--expect-workers", str(plan.expect_workers),
                 "--expect-workers-max-wait", f"{plan.workers_timeout:g}",
                 "--master-bind-host", plan.master_bind_host, "--master-bind-port", str(plan.master_bind_port)]
    return argv


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


# -- processes ---------------------------------------------------------------------------------
@contextmanager
def local_prometheus(out: Path, host: str, metrics_port: int, targets: Sequence[str] = (),
                     rule_file: Path | None = None) -> Iterator[str]:
    """A Prometheus on 127.0.0.1 scraping ``host`` (or each of ``targets``) and the load generator
    every second; yields its URL once it has scraped the service once, so the first seconds are not lost."""
    target = urlsplit(host)
    service = list(targets) or [f"{target.hostname}:{target.port or (443 if target.scheme == 'https' else 80)}"]
    config = prometheus_config(service, f"127.0.0.1:{metrics_port}", rule_file=rule_file)
    with PrometheusServer(out / "prometheus", config) as server:
        _wait_first_scrape(server.url)
        yield server.url


@contextmanager
def locust_child(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Locust as a child process (its own process group), stopped on the way out whatever happens."""
    proc = procs.start(argv, log)
    try:
        yield proc
    finally:
        procs.stop(proc, timeout_s=15)


def _wait_first_scrape(url: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{url}/api/v1/query", params={"query": f'up{{job="{SERVICE_JOB}"}}'},
                                  timeout=2).json()
            if answer.get("data", {}).get("result"):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.2)


def _read_new(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended to ``path`` since byte ``offset``, and the new offset."""
    if not path.exists():
        return [], offset
    with path.open("r", encoding="utf-8") as handle:
        handle.seek(offset)
        text = handle.read()
    complete = text[: text.rfind("\n") + 1]
    return complete.splitlines(), offset + len(complete.encode("utf-8"))


def follow(proc: subprocess.Popen[bytes], series_file: Path, duration_s: float, stderr: TextIO,
           status: Callable[[], str] | None = None) -> None:
    """Wait for Locust, showing progress from its series file (and ``status()``, the alerts firing,
    after it); give up if it overruns by 90 s."""
    progress = Progress(duration_s, stderr)
    reader = SeriesReader(series_file.name, keep=2)
    offset = 0
    deadline = time.monotonic() + duration_s + 90
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                stderr.write("loadgate: Locust overran its duration by 90 s; stopping it\n")
                break
            new, offset = _read_new(series_file, offset)
            try:
                reader.feed(new)
            except SeriesError:
                pass  # the graded read after the run names the line
            snaps = reader.snapshots[-2:]
            progress.update(snaps[0] if len(snaps) == 2 else None, snaps[-1] if snaps else None,
                            status() if status else "")
            time.sleep(0.5)
    finally:
        progress.close()


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


def _gave_up_on_workers(log: Path) -> bool:
    """Whether the Locust master gave up waiting for its workers (``--expect-workers-max-wait``)."""
    try:
        return "Gave up waiting for workers to connect" in log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _disk_full(directory: Path) -> bool:
    """Whether the file system holding ``directory`` has no block or no inode left."""
    try:
        stats = os.statvfs(directory)
    except OSError:
        return False
    return stats.f_bavail == 0 or (stats.f_files > 0 and stats.f_favail == 0)


def _cut_partial_line(series_file: Path) -> None:
    """Cut off a half-written last line, so the file holds only whole snapshots."""
    try:
        with series_file.open("r+b") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)
    except OSError:
        pass


def _unwritable(series_file: Path) -> str:
    """Why Locust could not write the client series, in one line naming the path (a full disk, most
    often); the half-written last line is cut off."""
    _cut_partial_line(series_file)
    what = "no space left on device" if _disk_full(series_file.parent) else "the load generator could not write it"
    return f"{series_file}: {what}; the load test was stopped"


def read_series(path: Path) -> ClientSeries:
    """The whole client series; an unreadable one makes the run inconclusive (exit 3)."""
    try:
        return parse_series(path.read_text(encoding="utf-8").splitlines() if path.exists() else [], path.name)
    except SeriesError as exc:
        raise UserError(str(exc), ExitCode.INCONCLUSIVE) from None


# -- facts around the run ----------------------------------------------------------------------
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
               prometheus: str | None) -> dict[str, Any]:
    """``run.json``: what was asked, the graded window, what was observed and what ran it. Pure.

    ``prometheus`` is how the server side was read: "started by loadgate", a URL, or None.
    """
    workers = max((s.workers for s in series.snapshots), default=0)
    return {
        "schema_version": RUN_SCHEMA_VERSION,
        "host": plan.host, "shape": plan.shape, "target_rate": plan.rate, "duration_s": plan.duration,
        "rampup_s": plan.rampup, "seed": plan.seed, "processes": plan.generator_processes,
        "workers": workers if plan.generator_processes > 1 or plan.master else 1,
        **({"master": {"bind": f"{plan.master_bind_host}:{plan.master_bind_port}",
                       "expect_workers": plan.expect_workers}} if plan.master else {}),
        **({"worker_responses": series.snapshots[-1].worker_responses}
           if series.snapshots and series.snapshots[-1].worker_responses else {}),
        **({"worker_events": [{"event": kind, "worker": worker, "at": rfc3339(t)}
                              for t, kind, worker in series.worker_events]} if series.worker_events else {}),
        "window": {"start_unix": window.start, "end_unix": window.end, "seconds": window.seconds},
        "test_started_unix": series.started, "test_stopped_unix": series.stopped,
        "source": source, "prometheus": prometheus,
        "locust_exit_code": facts.locust_exit_code, **facts.locust_totals,
        "client_responses": sum(series.snapshots[-1].responses.values()) if series.snapshots else 0,
        "loadgen_cpu_over_90": facts.loadgen_cpu_over_90,
        "server_counter_at_end": facts.server_counter_at_end,
        "loadgate_exporter_responses": facts.exporter_responses,
        "tier_limits_per_min": dict(contract.TIER_LIMITS),
        "git_sha": facts.git_sha, "versions": facts.versions, "command": plan.command,
        **({"ids": plan.ids} if plan.ids else {}), **_load_model_facts(plan, series, window), **plan.extra,
    }


def _load_model_facts(plan: RunPlan, series: ClientSeries, window: Window) -> dict[str, Any]:
    """How the load was generated: the model (``open``: arrival rate controlled; ``closed``: plain
    Locust users, rate not controlled; ``mixed``), the concurrency, the user classes, the
    locustfile, and the latency from the intended sends (for open-model requests)."""
    # A series written before loadgate recorded the model says nothing of it: nothing is guessed.
    facts: dict[str, Any] = {"model": series.model} if series.model is None else {
        "model": series.model, "concurrency": series.concurrency, "user_classes": list(series.user_classes),
        "closed_user_classes": list(series.closed_user_classes)}
    if plan.locustfile:
        facts["locustfile"] = plan.locustfile
    latency = client_latency(series, window)
    if latency is not None:
        facts["client_latency"] = latency
    return facts


# -- alerts ------------------------------------------------------------------------------------
#: The scaled period is this many times the graded seconds: the page's long window (1h of 30d)
#: is then half the graded window, so a breach from the start pages within the run.
ALERT_PERIOD_PER_GRADED_S = 360.0
#: No window below four scrapes, so every rate sees several samples.
MIN_ALERT_WINDOW_S = 4 * SCRAPE_S


def write_alert_rules(plan: RunPlan, selector: Selector, stderr: TextIO) -> dict[str, Any]:
    """Write ``alert-rules.yaml`` into the run directory (the spec's rules, the period scaled so the
    page's long window is half the graded window); returns what ``verdict.json``'s ``alert_rules``
    says of them."""
    graded = max(1.0, plan.duration - plan.rampup)
    period = graded * ALERT_PERIOD_PER_GRADED_S
    rules = build_rules(plan.spec, selector, period_s=period, min_window_s=MIN_ALERT_WINDOW_S)
    path = (plan.out_dir / "alert-rules.yaml").resolve()
    write_text(path, render_rules(rules, plan.spec))
    windows = {oid: [{"severity": w.severity, "factor": w.factor, "long": prom_duration(w.long_s),
                      "short": prom_duration(w.short_s)} for w in ws] for oid, ws in rules.windows.items()}
    page = next(iter(windows.values()))[0]
    stderr.write(f"loadgate: alert rules for {', '.join(rules.windows)} loaded into the local Prometheus, period "
                 f"scaled to {prom_duration(int(period))} (page at 14.4x over {page['long']} and {page['short']})\n")
    return {"file": path, "period": prom_duration(int(period)), "windows": windows,
            "skipped": dict(rules.skipped)}


def alert_record(alerting: dict[str, Any], watcher: AlertWatcher,
                 expected: tuple[tuple[str, str], ...] | None, window: Window) -> dict[str, Any]:
    """What ``build_record`` needs of the alerts: their firing spans, the expectation and its failures.

    A span outside the graded window (a cold cache missing during the ramp-up, say, or an alert
    that began after the load stopped) is listed with ``graded: false`` and, like the ramp-up
    itself, decides nothing. Each span says whether it was ``expected``."""
    wanted = set(expected or ())
    seen = [{**s, "graded": s["first_firing"] <= window.end and s["last_firing"] >= window.start,
             "since_rampup": s["first_firing"] < window.start,
             "expected": (s["slo"], s["severity"]) in wanted} for s in spans(watcher.polls)]
    unread = None if watcher.answered else \
        "the local Prometheus never answered /api/v1/alerts, so whether alerts fired is unknown"
    return {"spans": seen, "file": alerting["file"].name, "period": alerting["period"],
            "windows": alerting["windows"], "no_rules": alerting["skipped"], "polls": watcher.answered,
            "expected": [list(p) for p in expected] if expected else ([] if expected is not None else None),
            "failures": check(expected, [s for s in seen if s["graded"]]) if expected is not None and not unread
            else [],
            "unread": unread if expected is not None else None}


# -- the chain ---------------------------------------------------------------------------------
def execute(plan: RunPlan, env: Env) -> tuple[ExitCode, ReportContext]:
    """Run the load test of ``plan`` and grade it; returns the gate's exit code and the report model."""
    out = plan.out_dir
    out.mkdir(parents=True, exist_ok=True)
    series_file, json_file = out / "client_series.jsonl", out / "locust.json"
    series_file.unlink(missing_ok=True)
    metrics_port = plan.metrics_port or procs.free_port()
    default_selector = f'job="{SERVICE_JOB}"' if plan.start_prometheus else ""
    try:
        selector = Selector.parse(plan.spec.selector, plan.selector or default_selector)
    except SelectorError as exc:
        raise UserError(f"--selector: {exc}") from None
    alerting = write_alert_rules(plan, selector, env.stderr) if plan.alert_rules else None
    with ExitStack() as stack:
        local_prom = stack.enter_context(local_prometheus(out, plan.host, metrics_port, plan.scrape_targets,
                                                          alerting["file"] if alerting else None)) \
            if plan.start_prometheus else None
        prom_url = local_prom or plan.prometheus_url
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
        with locust_child(locust_command(plan, series_file, json_file, metrics_port), out / "locust.log") as locust:
            try:
                follow(locust, series_file, plan.duration + (plan.workers_timeout if plan.master else 0),
                       env.stderr, watcher.firing_now if watcher else None)
            except Interrupted as exc:
                # Leaving this block stops Locust (it writes its last counts); what was measured is graded.
                signalled = exc
                env.stderr.write(f"loadgate: {exc.name}: stopping the load test; grading what was measured "
                                 "(a second signal stops at once)\n")
        if locust.returncode == contract.SERIES_WRITE_FAILED_EXIT or _disk_full(out):
            raise UserError(_unwritable(series_file))
        # The results are written before a first signal now takes effect (a second still stops at once).
        with deferred():
            _cut_partial_line(series_file)  # a load generator killed mid-write leaves half a line
            series = read_series(series_file)
            until = signalled.at if signalled else None
            if series.stopped is None and series.snapshots:
                # The load generator died: grade only what it reported, not the seconds after it was gone.
                until = min(until if until is not None else math.inf, series.snapshots[-1].t)
            try:
                window = steady_window(series, plan.rampup, plan.duration, until=until)
            except UserError:
                if signalled is not None:
                    raise signalled from None  # stopped during the ramp-up: nothing steady to grade
                if plan.master and series.started is None and _gave_up_on_workers(out / "locust.log"):
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
            client = grade_source(plan.spec, client_source, require_evidence=plan.require_evidence)
            primary: Graded = client
            if prom_url:
                time.sleep(2 * SCRAPE_S + 0.5)  # let Prometheus scrape the final counters
                prom = stack.enter_context(closing(Prometheus(PromConfig.from_env(prom_url, env.environ))))
                primary = grade_source(plan.spec, PromSource(prom, plan.spec.metrics, selector, window,
                                                             chart_start=chart_start),
                                       require_evidence=plan.require_evidence)
            alerts = None
            if alerting is not None and watcher is not None:
                watcher.stop()
                alerts = alert_record(alerting, watcher, plan.expect_alerts, window)
            facts = gather_facts(out, locust.returncode, local_prom,
                                 f"sum({plan.spec.metrics.requests}{selector.braces()})", env.clock())
            run = run_record(plan, series, window, facts, source=primary.source,
                             prometheus="started by loadgate" if local_prom else plan.prometheus_url)
            if interrupted is not None:
                run["interrupted"] = {"signal": interrupted.signal, "at": rfc3339(interrupted.at)}
            validity = assess(series, window, locust_exit_code=locust.returncode,
                              expected_workers=plan.generator_processes, model=series.model)
            run["validity"] = {**validity.to_dict(), "enforced": not plan.allow_invalid}
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
                co_located=_on_loopback(plan.host), alerts=alerts)
            return record.exit_code, publish(out, record)

