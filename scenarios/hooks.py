"""Wiring into Locust's own hooks: options, the load shape, client metrics and precise percentiles.

``install()`` is called once by ``locustfile.py`` (through ``scenarios/plugin.py``). It:

* adds loadgate's options (``--lg-*``, ``scenarios.options``) through
  ``events.init_command_line_parser``, so plain ``locust -f locustfile.py`` (web UI,
  ``--headless``, ``--processes``, master/worker) takes them; ``LoadGateShape``
  (``scenarios.load_shape``) honours Locust's own: ``-u`` is the concurrency, ``-t`` ends the
  run, ``-r`` the spawn rate, and the web UI's start form sets them and ``lg_rate``;
* starts the open model (``scenarios.open_start``) in every process that runs open-model users:
  the process's share of the keys and of the rate on one schedule. A master gives each worker
  its share when the test starts and again when a worker joins mid-run (``scenarios.protocol``);
* records on the master which workers report, as ``worker_lost``/``worker_joined`` events in
  the client series, with each worker's responses in every snapshot;
* makes pooled keep-alive connections reusable above descriptor 1024 (``scenarios.keepalive``);
* collects the young generation of garbage every 20,000 objects, not 700 (``scenarios.collector``);
* replaces Locust's response-time rounding (up to 4.8 % off near 500 ms) with 3 significant
  digits (at most 0.5 % off), so client percentiles shown to users are within 1 %;
* counts every request in a ``ClientStats`` (``scenarios.request_listener``); workers send their
  counts to the master with Locust's periodic report, so the master's totals are exact in
  distributed mode;
* on the master (or the single local process) exposes the totals as ``loadgate_*`` series for
  Prometheus (``--lg-metrics-port``, ``scenarios.exporter``) and writes the client-series file
  (``--lg-series-file``, ``scenarios.series_writer``, format in ``contract``): a header, then a
  cumulative snapshot every second; it is the client-side source, and the only one when no
  Prometheus is used.

The process's shared state is ``scenarios.state.STATE``.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import gevent
import locust.stats
from locust import events
from locust.runners import MasterRunner, WorkerRunner

import contract
from scenarios import collector, exporter, keepalive, protocol, series_writer
from scenarios.clientstats import precise_bucket
from scenarios.dispatch import DISPATCH
from scenarios.load_shape import LoadGateShape
from scenarios.open_model import OpenModelUser
from scenarios.open_start import load_model, start_open_model
from scenarios.options import add_options
from scenarios.request_listener import on_request
from scenarios.schedule import concurrency
from scenarios.state import STATE
from scenarios.traffic import DEFAULT_IDS, read_ids

__all__ = ["install", "precise_bucket", "LoadGateShape", "STATE", "load_model"]


def _on_init(environment: Any, **_: Any) -> None:
    STATE.environment = environment
    options = environment.parsed_options
    if options is None:
        return
    try:
        read_ids(getattr(options, "lg_ids", DEFAULT_IDS))
    except ValueError as exc:
        # Before any user starts: every one of them would fail on it.
        sys.stderr.write(f"loadgate: --lg-ids: {exc}\n")
        raise SystemExit(2) from None
    # Read now: a worker's own options are overwritten by the master's with its first spawn.
    zone = str(getattr(options, "lg_zone", "") or "")
    if zone and (problem := contract.zone_problem(zone)):
        sys.stderr.write(f"loadgate: --lg-zone: {problem}\n")
        raise SystemExit(2)
    STATE.zone = zone
    if isinstance(environment.runner, WorkerRunner):
        protocol.register_worker(environment.runner)
        return
    if isinstance(environment.runner, MasterRunner):
        protocol.register_master(environment.runner)
    # Locust fills in -u and -r (1 and 1) only after this; the shape needs to know what was given.
    STATE.given_users, STATE.given_spawn_rate = options.num_users, options.spawn_rate
    STATE.given_workers = int(getattr(options, "lg_workers", 0) or 0)
    if not options.headless and not options.num_users:
        # The web UI's start form: its "users" field (the concurrency) starts sized for --lg-rate.
        options.num_users = concurrency(options.lg_rate)
    if getattr(options, "lg_metrics_port", 0):
        exporter.serve(options.lg_metrics_port, getattr(options, "lg_metrics_host", "127.0.0.1"))
    if getattr(options, "lg_series_file", ""):
        series_writer.start(Path(options.lg_series_file))


def _on_test_start(environment: Any, **_: Any) -> None:
    classes = list(environment.user_classes or ())
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        protocol.share_at_start(runner)
    if not isinstance(environment.runner, WorkerRunner):
        series_writer.write_event(
            contract.TEST_START, model=load_model(classes), concurrency=STATE.concurrency,
            user_classes=sorted(cls.__name__ for cls in classes),
            closed_user_classes=sorted(cls.__name__ for cls in classes if not issubclass(cls, OpenModelUser)))
    options = environment.parsed_options
    index = protocol.worker_index(environment)
    random.seed((getattr(options, "lg_seed", 1) if options else 1) * 31 + index)
    if options is not None and any(issubclass(cls, OpenModelUser) for cls in classes) \
            and not isinstance(environment.runner, MasterRunner):
        STATE.wants_open_model = True
        if isinstance(environment.runner, WorkerRunner) and STATE.share is None:
            gevent.spawn(protocol.share_or_fallback, environment)
        else:
            start_open_model(options, index)


def _on_test_stop(environment: Any, **_: Any) -> None:
    DISPATCH.stop()
    STATE.target_rate = 0.0
    STATE.open_model = STATE.wants_open_model = False
    STATE.test_started = STATE.share = None
    STATE.sharing, STATE.reporting, STATE.slots = (), set(), {}
    if not isinstance(environment.runner, WorkerRunner):
        series_writer.write_event(contract.TEST_STOP)
        series_writer.write_snapshot()


def _on_quit(environment: Any, **_: Any) -> None:
    series_writer.write_snapshot()  # the last line holds the final totals, workers' last reports included


def install() -> None:
    """Register every hook once (``locustfile.py`` calls this at import)."""
    if getattr(install, "done", False):
        return
    locust.stats.bucket_response_time = precise_bucket  # type: ignore[assignment]
    keepalive.install()
    collector.install()
    events.init_command_line_parser.add_listener(add_options)
    events.init.add_listener(_on_init)
    events.request.add_listener(on_request)
    events.report_to_master.add_listener(protocol.report_to_master)
    events.worker_report.add_listener(protocol.worker_report)
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quit)
    install.done = True  # type: ignore[attr-defined]
