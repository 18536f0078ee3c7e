"""The client-series file (``--lg-series-file``): a header, then a cumulative snapshot every second.

Written by the master or the single local process (the format is in ``contract``; the reader is
``analysis.client_series``). Each line is appended as it comes, so a run cut short still leaves
every second it ran. Besides snapshots the file holds events: ``test_start``, ``test_stop``, and on
a master ``worker_lost``/``worker_joined`` for each worker that stops or starts reporting (with
its load zone, once it reported one). With load zones each snapshot holds each zone's counts. The
file is the client-side source of a run, and the only one when no Prometheus is used; a write
that fails stops the run with ``contract.SERIES_WRITE_FAILED_EXIT``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust.runners import STATE_MISSING, MasterRunner

import contract
from scenarios.cpu import CPU
from scenarios.protocol import workers_sharing
from scenarios.state import STATE

__all__ = ["start", "snapshot_line", "append", "write_snapshot", "write_event", "note_workers", "series_loop"]


def start(path: Path) -> None:
    """Start the file at ``path`` afresh with its header (one file per test), then append a
    snapshot every second; a file that cannot be written ends the process at once with
    ``contract.SERIES_WRITE_FAILED_EXIT``, before any user starts."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One file per test: the header starts it afresh.
        path.write_text(json.dumps(contract.series_header()) + "\n", encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"loadgate: cannot write the client series: {exc}\n")
        raise SystemExit(contract.SERIES_WRITE_FAILED_EXIT) from None
    STATE.series_path = path
    gevent.spawn(series_loop)


def snapshot_line() -> str:
    """One snapshot as a compact JSON line: the time (epoch seconds), the target rate, users per
    class, workers reporting, the cumulative counts, and (when there are any) active keys per
    tier label, the busiest generator's CPU percent and each worker's responses."""
    runner = STATE.environment.runner if STATE.environment else None
    line = {"t": time.time(), "target_rate": STATE.target_rate,
            "users": dict(getattr(runner, "user_classes_count", None) or {}),
            "workers": workers_reporting(runner) if isinstance(runner, MasterRunner) else 1,
            **STATE.stats.series_row()}
    keys = STATE.keys_by_label()
    if keys:
        line["keys"] = keys
    cpu = busiest_cpu(runner)
    if cpu is not None:
        line["cpu"] = cpu
    if STATE.worker_responses:
        line["worker_responses"] = dict(STATE.worker_responses)
    zones = zone_rows(runner, line)
    if zones:
        line["zones"] = zones
    return json.dumps(line, separators=(",", ":"))


#: The fields of a snapshot that a zone's own counts repeat.
ZONE_FIELDS = ("responses", "latency", "times", "cache", "corrected", "corrected_times", "late")


def zone_rows(runner: Any, line: dict[str, Any]) -> dict[str, Any]:
    """Each load zone's counts for a snapshot: on a master, merged from its workers' reports, with
    its workers reporting now and their responses; in a single process with ``--lg-zone``, the
    process's own counts (``line``), under its zone."""
    if not isinstance(runner, MasterRunner):
        if not STATE.zone:
            return {}
        return {STATE.zone: {"workers": 1, **{k: line[k] for k in ZONE_FIELDS if k in line}}}
    live = set(workers_sharing(runner))
    out = {}
    for zone, stats in sorted(STATE.zone_stats.items()):
        mine = {w for w, z in STATE.worker_zones.items() if z == zone}
        out[zone] = {"workers": len(mine & live),
                     "worker_responses": {w: n for w, n in STATE.worker_responses.items() if w in mine},
                     **stats.series_row()}
    return out


def workers_reporting(runner: Any) -> int:
    """Workers connected and sending heartbeats: a worker silent for 3 s is missing (and Locust
    keeps it in its list for a minute more)."""
    return len(runner.clients) - len(runner.clients.missing)


def busiest_cpu(runner: Any) -> float | None:
    """The highest CPU percentage among this process (over the last second) and its connected
    workers (over their last report, every 3 s)."""
    figures = [] if STATE.cpu_self is None else [STATE.cpu_self]
    if isinstance(runner, MasterRunner):
        figures += [cpu for worker, cpu in STATE.worker_cpu.items()
                    if worker in runner.clients and runner.clients[worker].state != STATE_MISSING]
    return max(figures) if figures else None


def append(line: str) -> None:
    """Append one line to the client series; a failed write (a full disk) stops the run at once
    with ``SERIES_WRITE_FAILED_EXIT``: a load test that cannot record what it measures is stopped."""
    if STATE.series_path is None:
        return
    try:
        with STATE.series_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        STATE.series_path = None
        sys.stderr.write(f"loadgate: cannot write the client series: {exc}\n")
        environment = STATE.environment
        if environment is not None:
            environment.process_exit_code = contract.SERIES_WRITE_FAILED_EXIT
            if environment.runner is not None:
                gevent.spawn(environment.runner.quit)


def write_snapshot() -> None:
    """Append a snapshot of the totals now (nothing when no series file is written)."""
    if STATE.series_path is not None:
        append(snapshot_line())


def write_event(name: str, **fields: Any) -> None:
    """Append the event ``name`` at the time now (epoch seconds), with ``fields``."""
    append(json.dumps({"event": name, "t": time.time(), **fields}))


def note_workers(runner: Any) -> None:
    """Master: a ``worker_lost`` event for each worker that stopped reporting since the last
    snapshot (missing its heartbeats, or gone), and ``worker_joined`` for each new one."""
    if STATE.test_started is None:
        return
    now = set(workers_sharing(runner))
    for worker in sorted(STATE.reporting - now):
        write_event(contract.WORKER_LOST, worker=worker, **_zone_of(worker))
    for worker in sorted(now - STATE.reporting):
        write_event(contract.WORKER_JOINED, worker=worker, **_zone_of(worker))
    STATE.reporting = now


def _zone_of(worker: str) -> dict[str, str]:
    """``{"zone": name}`` for a worker whose reports named its zone, else nothing."""
    zone = STATE.worker_zones.get(worker)
    return {"zone": zone} if zone else {}


def series_loop() -> None:
    """Every second, for the process's life: read this process's CPU, note the workers that
    stopped or started reporting (master), and append a snapshot."""
    while True:
        gevent.sleep(1.0)
        STATE.cpu_self = CPU.read()
        runner = STATE.environment.runner if STATE.environment else None
        if isinstance(runner, MasterRunner):
            note_workers(runner)
        write_snapshot()
