"""What ``loadgate run`` (or ``demo``, or a capacity step) was asked to do, and the Locust command for it.

``RunPlan`` is the checked plan a command builds from its flags; ``locust_command`` turns it into
the headless Locust command line, and ``prometheus_config`` into the local Prometheus's
configuration. Pure: nothing here starts a process.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import contract
from loadgate.fault_actions import DEFAULT_TIMEOUT_S, TimedAction
from scenarios.schedule import DEFAULT_MAX_LATE_S
from scenarios.shapes import ShapeSpec, target_rate
from slo.abort import Plan
from slo.compare import Baseline
from slo.model import Spec
from slo.timeline import HOLD_S

__all__ = ["LOCUSTFILE", "PLUGIN", "SCRAPE_S", "SERVICE_JOB", "RunPlan", "prometheus_config", "locust_command",
           "planned_window"]

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
    #: The load zone every request of a local run is counted in (``--zone``; "" for none).
    zone: str = ""
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
    #: ``--abort-on-fail``: stop the load once a required objective cannot pass (``slo.abort``).
    abort_on_fail: bool = False
    command: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    baseline: Baseline | None = None
    #: A failover drill's ``--fault`` and ``--recover`` actions, checked (``loadgate.fault_actions``).
    drill: tuple[TimedAction, ...] = ()
    #: How long a ``cmd:`` action may run before it is killed with its process group, seconds.
    action_timeout_s: float = DEFAULT_TIMEOUT_S
    #: How long every 5 s window must stay within objectives after a fault to count as recovered.
    recovery_hold_s: float = HOLD_S


def planned_window(plan: RunPlan, started: float, window_start: float, *, scheduled: bool = True) -> Plan:
    """The graded window as planned, for a test that started at Unix time ``started`` and is graded
    from ``window_start`` (a whole second) to the shape's end: the shape's target rate (req/s) at
    the middle of each whole second. ``scheduled`` is False when the rate is not controlled."""
    spec = ShapeSpec(plan.rate, plan.duration, plan.rampup)
    seconds = int(math.floor(started + plan.duration) - window_start)
    rates = (target_rate(plan.shape, window_start - started + k + 0.5, spec) for k in range(max(0, seconds)))
    return Plan(rates_per_s=tuple(r or 0.0 for r in rates), scheduled=scheduled)


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
    if plan.zone:
        argv += ["--lg-zone", plan.zone]
    if plan.processes > 1:
        argv += ["--processes", str(plan.processes), "--lg-workers", str(plan.processes)]
    if plan.master:
        argv += ["--master", "--expect-workers", str(plan.expect_workers),
                 "--expect-workers-max-wait", f"{plan.workers_timeout:g}",
                 "--master-bind-host", plan.master_bind_host, "--master-bind-port", str(plan.master_bind_port)]
    return argv
