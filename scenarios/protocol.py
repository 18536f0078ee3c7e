"""The master/worker protocol: workers' counts in Locust's reports, and each worker's share of the rate.

* Every worker adds its counts (drained, so each is sent once), its active keys, its CPU use and
  its load zone (``--lg-zone``) to Locust's periodic report (``report_to_master``); the master
  merges them (``worker_report``), so its totals are exact in distributed mode, and merges each
  zone's workers' counts apart too (``STATE.zone_stats``).
* A worker tells the master when its hooks are in place (``READY_MESSAGE``). The master gives each
  worker its share (``SHARE_MESSAGE``: slot, of how many, and the test's start time) when the
  test starts and again when a worker joins mid-run, so the workers together always send the
  target rate, never with two sharing a key. A worker lost mid-run is not replaced (its share is
  missing from the rate, and the run is invalid).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import gevent
from locust.runners import STATE_MISSING

from scenarios.clientstats import ClientStats
from scenarios.cpu import CPU
from scenarios.dispatch import DISPATCH
from scenarios.keys import assign_slots
from scenarios.open_start import start_open_model
from scenarios.state import STATE

__all__ = [
    "SHARE_MESSAGE", "READY_MESSAGE", "SHARE_WAIT_S", "report_to_master", "worker_report", "register_worker",
    "register_master", "share_at_start", "workers_sharing", "send_shares", "on_worker_ready", "on_share",
    "worker_index", "share_or_fallback",
]

#: The master's message to a worker: its share of the open model's rate and keys.
SHARE_MESSAGE = "loadgate_share"
#: A worker's message to the master once its hooks are in place: it can take a share now (a
#: message sent to it earlier, while Locust was still starting it, would have been dropped).
READY_MESSAGE = "loadgate_ready"
#: A worker that started its test without a share waits this long for one, then takes every
#: ``--lg-workers``-th key from its Locust worker index.
SHARE_WAIT_S = 3.0


def report_to_master(client_id: str, data: dict[str, Any]) -> None:
    """Worker (``events.report_to_master``): add this worker's counts since its last report, its
    active keys per tier label and its CPU percent to the report."""
    data["loadgate"] = STATE.stats.drain()
    data["loadgate_keys"] = DISPATCH.keys_by_label()
    data["loadgate_cpu"] = CPU.read()
    if STATE.zone:
        data["loadgate_zone"] = STATE.zone


def worker_report(client_id: str, data: dict[str, Any]) -> None:
    """Master (``events.worker_report``): merge a worker's counts, and note its responses, keys
    and CPU percent."""
    if "loadgate" in data:
        STATE.stats.merge(data["loadgate"])
        answered = sum(row[4] for row in data["loadgate"].get("responses", ()))
        STATE.worker_responses[client_id] = STATE.worker_responses.get(client_id, 0.0) + answered
        zone = data.get("loadgate_zone")
        if zone:
            # Per report, not per request: a zone costs the workers nothing, the master a second merge.
            STATE.worker_zones[client_id] = str(zone)
            STATE.zone_stats.setdefault(str(zone), ClientStats()).merge(data["loadgate"])
    if "loadgate_keys" in data:
        STATE.worker_keys[client_id] = data["loadgate_keys"]
    if "loadgate_cpu" in data:
        # A worker's first report covers its start-up (imports, spawning its users), not load
        # generation: a worker joining mid-run would otherwise show as a saturated generator.
        if client_id in STATE.cpu_reported:
            STATE.worker_cpu[client_id] = float(data["loadgate_cpu"])
        STATE.cpu_reported.add(client_id)


#: Seconds between a worker's reports to the master (Locust's default is 3 s): the master's counts
#: then move every second, so a short window (a capacity step of a few seconds) reads its rate and
#: throughput from whole seconds of every worker, not from whichever 3 s reports fell inside it.
REPORT_INTERVAL_S = 1.0


def register_worker(runner: Any) -> None:
    """Worker: report every ``REPORT_INTERVAL_S``, take shares from the master from now on, and tell it so."""
    from locust import runners

    runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL_S
    runner.register_message(SHARE_MESSAGE, on_share)
    runner.send_message(READY_MESSAGE, None)


def register_master(runner: Any) -> None:
    """Master: give a share to each worker that says it is ready."""
    runner.register_message(READY_MESSAGE, on_worker_ready)


def share_at_start(runner: Any) -> None:
    """Master, as a test starts: note its start time and the workers reporting, and give each
    connected worker its share."""
    STATE.test_started = time.time()
    STATE.reporting = set(workers_sharing(runner))
    send_shares(runner, workers_sharing(runner))


def workers_sharing(runner: Any, joining: str | None = None) -> tuple[str, ...]:
    """The workers that share the rate: those connected and not missing (and one joining now,
    which Locust adds to its list only after the connect event), in a stable order."""
    ids = {c.id for c in runner.clients.values() if c.state != STATE_MISSING}
    return tuple(sorted(ids | ({joining} if joining else set())))


def send_shares(runner: Any, workers: tuple[str, ...]) -> None:
    """Tell each worker its share: its slot among ``workers`` and the test's start time."""
    STATE.sharing = workers
    STATE.slots = assign_slots(workers, STATE.slots)
    for worker in workers:
        runner.send_message(SHARE_MESSAGE, {"slot": STATE.slots[worker], "of": len(workers),
                                            "started": STATE.test_started}, client_id=worker)


def on_worker_ready(environment: Any, msg: Any, **_: Any) -> None:
    """Master: a worker joining a running test gets a share, and every other worker a smaller one."""
    runner = environment.runner
    if STATE.test_started is None:
        return
    workers = workers_sharing(runner, joining=msg.node_id)
    if workers != STATE.sharing:
        send_shares(runner, workers)


def on_share(environment: Any, msg: Any, **_: Any) -> None:
    """A worker's share from the master; the open model (re)starts with it."""
    data = msg.data or {}
    STATE.share = (int(data["slot"]), max(1, int(data["of"])), float(data["started"]))
    STATE.test_started = STATE.share[2]
    if STATE.wants_open_model and environment.parsed_options is not None:
        start_open_model(environment.parsed_options, worker_index(environment))


def worker_index(environment: Any) -> int:
    """This process's Locust worker index (0 for a master or a single local process)."""
    return max(0, getattr(environment.runner, "worker_index", 0) or 0)


def share_or_fallback(environment: Any) -> None:
    """A worker that began its test before its share came: wait for it, then do without."""
    gevent.sleep(SHARE_WAIT_S)
    if STATE.wants_open_model and not STATE.open_model and environment.parsed_options is not None:
        sys.stderr.write("loadgate: no share of the rate came from the master; taking every --lg-workers-th key\n")
        start_open_model(environment.parsed_options, worker_index(environment))
