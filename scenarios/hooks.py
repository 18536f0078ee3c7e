"""Wiring into Locust's own hooks: options, the load shape, client metrics and precise percentiles.

``install()`` is called once by ``locustfile.py``. It:

* adds loadgate's options (``--lg-*``) through ``events.init_command_line_parser``, so plain
  ``locust -f locustfile.py`` (web UI, ``--headless``, ``--processes``, master/worker) takes them;
  ``LoadGateShape`` honours Locust's own: ``-u`` is the concurrency, ``-t`` ends the run, ``-r``
  the spawn rate, and the web UI's start form sets them and ``lg_rate``;
* starts the open model (``scenarios.open_model``) in every process that runs open-model users:
  the process's share of the keys and of the rate on one schedule. A master gives each worker
  its share (a ``loadgate_share`` message: slot, of how many, and the test's start time) when
  the test starts and again when a worker joins mid-run, so the workers together always send the
  target rate, never with two sharing a key; a worker lost mid-run is not replaced (its share is
  missing from the rate, and the run is invalid);
* records on the master which workers report, as ``worker_lost``/``worker_joined`` events in
  the client series, with each worker's responses in every snapshot;
* makes pooled keep-alive connections reusable above descriptor 1024 (``scenarios.keepalive``);
* replaces Locust's response-time rounding (up to 4.8 % off near 500 ms) with 3 significant
  digits (at most 0.5 % off), so client percentiles shown to users are within 1 %;
* counts every request in a ``ClientStats`` (tier from the user's context, result, status,
  ``X-Cache``); workers send their counts to the master with Locust's periodic report, so the
  master's totals are exact in distributed mode;
* on the master (or the single local process) exposes the totals as ``loadgate_*`` series for
  Prometheus (``--lg-metrics-port``) and writes the client-series file (``--lg-series-file``,
  format in ``contract``): a header, then a cumulative snapshot every second; it is the
  client-side source, and the only one when no Prometheus is used.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import gevent
import locust.stats
from locust import LoadTestShape, events
from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

import contract
from contract.keys import KeyPool, read_keys
from scenarios import keepalive
from scenarios.clientstats import BUCKETS, ClientStats, lateness, precise_bucket
from scenarios.dispatch import DISPATCH
from scenarios.keys import assign_slots, keys_needed, shortfall
from scenarios.open_model import OpenModelUser
from scenarios.schedule import DEFAULT_MAX_LATE_S, Due, KeySchedule, concurrency
from scenarios.shapes import SHAPES, ShapeSpec, effective_duration, target_rate
from scenarios.traffic import DEFAULT_IDS, DEFAULT_MIX, parse_mix, read_ids

__all__ = ["install", "precise_bucket", "LoadGateShape", "STATE", "load_model"]

#: The master's message to a worker: its share of the open model's rate and keys.
SHARE_MESSAGE = "loadgate_share"
#: A worker's message to the master once its hooks are in place: it can take a share now (a
#: message sent to it earlier, while Locust was still starting it, would have been dropped).
READY_MESSAGE = "loadgate_ready"
#: A worker that started its test without a share waits this long for one, then takes every
#: ``--lg-workers``-th key from its Locust worker index.
SHARE_WAIT_S = 3.0

_MIX_TEXT = ",".join(f"{tier}={share * 100:g}" for tier, share in DEFAULT_MIX.items())


class _State:
    """Per-process state: the counts, and the last target the shape asked for."""

    def __init__(self) -> None:
        self.stats = ClientStats()
        self.target_rate = 0.0
        self.series_path: Path | None = None
        self.environment: Any = None
        #: Open model: each worker's active keys per tier label, from its last report.
        self.worker_keys: dict[str, dict[str, int]] = {}
        #: Locust's own options as given on the command line (Locust fills in defaults later).
        self.given_users: int | None = None
        self.given_spawn_rate: float | None = None
        self.given_duration: float | None = None
        self.given_workers = 0
        #: The users the shape last asked for: the concurrency.
        self.concurrency = 0
        #: CPU percent of this process over the last second, and of each worker over its last report.
        self.cpu_self: float | None = None
        self.worker_cpu: dict[str, float] = {}
        self.cpu_reported: set[str] = set()
        #: When the test started (the master's clock; workers get it with their share).
        self.test_started: float | None = None
        #: A worker's share of a distributed run, from the master: (slot, of how many, test start).
        self.share: tuple[int, int, float] | None = None
        #: Whether this process's open model is running (a new share restarts it), and whether
        #: this process runs open-model users in the current test.
        self.open_model = False
        self.wants_open_model = False
        #: Master: the workers sharing the rate, those reporting at the last snapshot, and the
        #: responses each worker reported.
        self.sharing: tuple[str, ...] = ()
        self.slots: dict[str, int] = {}
        self.reporting: set[str] = set()
        self.worker_responses: dict[str, float] = {}

    def keys_by_label(self) -> dict[str, int]:
        """Active keys per tier label across this process and its workers (open model)."""
        total = dict(DISPATCH.keys_by_label())
        for keys in self.worker_keys.values():
            for label, n in keys.items():
                total[label] = total.get(label, 0) + n
        return total


STATE = _State()


class _CpuMeter:
    """This process's CPU use (user + system, all threads) since the last reading, in percent of
    one core. Locust's own monitor samples every 5 s and reads 0 at first; this is read every second."""

    def __init__(self) -> None:
        self._last = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.monotonic(), usage.ru_utime + usage.ru_stime

    def read(self) -> float:
        now = self._now()
        (t0, c0), (t1, c1) = self._last, now
        self._last = now
        return round(100.0 * (c1 - c0) / (t1 - t0), 1) if t1 > t0 else 0.0


_CPU = _CpuMeter()


def _add_options(parser: Any) -> None:
    group = parser.add_argument_group("loadgate", "Options added by loadgate's scenarios")

    def option(*flags: str, web: bool = True, **kwargs: Any) -> None:
        # Options added through a group skip Locust's own add_argument, so mark the web form's here.
        action = group.add_argument(*flags, **kwargs)
        action.include_in_web_ui, action.is_secret, action.is_required, action.is_multiple = web, False, False, False

    option("--lg-rate", type=float, default=200.0, help="target requests per second at peak")
    option("--lg-shape", choices=sorted(SHAPES), default="ramp", help="load shape")
    option("--lg-duration", type=float, default=None,
           help="seconds the shape runs (default: -t/--run-time, else 60; -t always ends the run)")
    option("--lg-rampup", type=float, default=10.0, help="seconds of ramp-up (not graded)")
    option("--lg-mix", default=_MIX_TEXT, help="share of traffic per tier")
    option("--lg-pace", type=float, default=0.8, help="in-limit keys' pace, share of their limit")
    option("--lg-over-limit", type=float, default=0.0, help="fraction of each tier's keys at 150 %% of the limit")
    option("--lg-ids", default=DEFAULT_IDS,
           help="user ids cached reads draw from, Zipf-ranked: a range A-B or a file of ids")
    option("--lg-zipf-s", type=float, default=1.2, help="Zipf exponent of id popularity")
    option("--lg-seed", type=int, default=1, help="seed for reproducible traffic")
    option("--lg-max-late", type=float, default=DEFAULT_MAX_LATE_S,
           help="seconds past its intended time after which a request still waiting for a free user is "
                "dropped, never sent, and counted")
    option("--lg-keys-file", default="", web=False,
           help="the API keys to send with, a CSV with the header tier,key (default: generated demo keys)")
    option("--lg-workers", type=int, default=0, web=False,
           help="processes sharing the rate (default: the workers connected when the test starts, or 1)")
    # Set by the master's shape for its workers (Locust sends the master's own options with each spawn).
    option("--lg-run-length", type=float, default=0.0, web=False, help=argparse.SUPPRESS)
    option("--lg-metrics-port", type=int, default=0, web=False,
           help="expose loadgate_* series on PORT (master or local process)")
    option("--lg-metrics-host", default="127.0.0.1", web=False,
           help="the address the loadgate_* series are served on (default 127.0.0.1; 0.0.0.0 for a "
                "Prometheus on another host)")
    option("--lg-series-file", default="", web=False, help="append client snapshots (JSON lines) here")


def _on_request(request_type: str, name: str, response_time: float, response_length: int, response: Any = None,
                context: dict[str, Any] | None = None, exception: Any = None, **_: Any) -> None:
    code = int(getattr(response, "status_code", 0) or 0)
    if exception is not None:
        result = contract.FAILURE
    elif code == 429:
        result = contract.RATE_LIMITED
    else:
        result = contract.OK
    tier = context.get("tier", "none") if context else "none"
    cache = response.headers.get("X-Cache") if code == 200 and name == "/api/users/{id}" else None
    late_s = None
    if context and "intended" in context:
        late_s = lateness(time.time(), response_time, context["intended"])
    STATE.stats.record(name, tier, result, code, response_time / 1000.0, cache, late_s)


def _report_to_master(client_id: str, data: dict[str, Any]) -> None:
    data["loadgate"] = STATE.stats.drain()
    data["loadgate_keys"] = DISPATCH.keys_by_label()
    data["loadgate_cpu"] = _CPU.read()


def _worker_report(client_id: str, data: dict[str, Any]) -> None:
    if "loadgate" in data:
        STATE.stats.merge(data["loadgate"])
        answered = sum(row[4] for row in data["loadgate"].get("responses", ()))
        STATE.worker_responses[client_id] = STATE.worker_responses.get(client_id, 0.0) + answered
    if "loadgate_keys" in data:
        STATE.worker_keys[client_id] = data["loadgate_keys"]
    if "loadgate_cpu" in data:
        # A worker's first report covers its start-up (imports, spawning its users), not load
        # generation: a worker joining mid-run would otherwise show as a saturated generator.
        if client_id in STATE.cpu_reported:
            STATE.worker_cpu[client_id] = float(data["loadgate_cpu"])
        STATE.cpu_reported.add(client_id)


class _Exporter:
    """``loadgate_*`` series from the master's totals, for Prometheus to scrape."""

    def collect(self) -> Iterator[Any]:
        snap = STATE.stats.snapshot()
        responses = CounterMetricFamily(contract.CLIENT_RESPONSES_FAMILY, "Responses seen by the load generator",
                                        labels=("endpoint", "tier", "result", "code"))
        for endpoint, tier, result, code, count in snap["responses"]:
            responses.add_metric((endpoint, tier, result, code), count)
        yield responses
        bounds = [contract.format_le(b) for b in BUCKETS] + ["+Inf"]
        for name, what, field in ((contract.CLIENT_DURATION, "Client-side response time", "latency"),
                                  (contract.CLIENT_CORRECTED_DURATION, "Client-side response time from the intended "
                                   "send (open-model requests: corrected for coordinated omission)", "corrected")):
            hist = HistogramMetricFamily(name, what, labels=("endpoint", "tier"))
            for endpoint, tier, counts, total in snap.get(field, []):
                hist.add_metric((endpoint, tier), list(zip(bounds, [float(c) for c in counts])), total)
            yield hist
        for key, name in (("hit", contract.CLIENT_CACHE_HITS_FAMILY), ("miss", contract.CLIENT_CACHE_MISSES_FAMILY)):
            family = CounterMetricFamily(name, f"X-Cache: {key.upper()} answers seen by the load generator")
            family.add_metric((), STATE.stats.cache[key])
            yield family
        users = GaugeMetricFamily(contract.CLIENT_USERS, "Running users per user class", labels=("user_class",))
        runner = STATE.environment.runner if STATE.environment else None
        for name, count in sorted((getattr(runner, "user_classes_count", None) or {}).items()):
            users.add_metric((name,), count)
        yield users
        yield GaugeMetricFamily(contract.CLIENT_TARGET_RATE, "Requests per second the shape asks for",
                                value=STATE.target_rate)


def _snapshot_line() -> str:
    runner = STATE.environment.runner if STATE.environment else None
    line = {"t": time.time(), "target_rate": STATE.target_rate,
            "users": dict(getattr(runner, "user_classes_count", None) or {}),
            "workers": _workers_reporting(runner) if isinstance(runner, MasterRunner) else 1,
            **STATE.stats.series_row()}
    keys = STATE.keys_by_label()
    if keys:
        line["keys"] = keys
    cpu = _busiest_cpu(runner)
    if cpu is not None:
        line["cpu"] = cpu
    if STATE.worker_responses:
        line["worker_responses"] = dict(STATE.worker_responses)
    return json.dumps(line, separators=(",", ":"))


def _workers_reporting(runner: Any) -> int:
    """Workers connected and sending heartbeats: a worker silent for 3 s is missing (and Locust
    keeps it in its list for a minute more)."""
    return len(runner.clients) - len(runner.clients.missing)


def _busiest_cpu(runner: Any) -> float | None:
    """The highest CPU percentage among this process (over the last second) and its connected
    workers (over their last report, every 3 s)."""
    figures = [] if STATE.cpu_self is None else [STATE.cpu_self]
    if isinstance(runner, MasterRunner):
        figures += [cpu for worker, cpu in STATE.worker_cpu.items()
                    if worker in runner.clients and runner.clients[worker].state != STATE_MISSING]
    return max(figures) if figures else None


def _append(line: str) -> None:
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


def _write_snapshot() -> None:
    if STATE.series_path is not None:
        _append(_snapshot_line())


def _series_loop() -> None:
    while True:
        gevent.sleep(1.0)
        STATE.cpu_self = _CPU.read()
        runner = STATE.environment.runner if STATE.environment else None
        if isinstance(runner, MasterRunner):
            _note_workers(runner)
        _write_snapshot()


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
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(SHARE_MESSAGE, _on_share)
        environment.runner.send_message(READY_MESSAGE, None)
        return
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(READY_MESSAGE, _on_worker_ready)
    # Locust fills in -u and -r (1 and 1) only after this; the shape needs to know what was given.
    STATE.given_users, STATE.given_spawn_rate = options.num_users, options.spawn_rate
    STATE.given_workers = int(getattr(options, "lg_workers", 0) or 0)
    if not options.headless and not options.num_users:
        # The web UI's start form: its "users" field (the concurrency) starts sized for --lg-rate.
        options.num_users = concurrency(options.lg_rate)
    if getattr(options, "lg_metrics_port", 0):
        registry = CollectorRegistry()
        registry.register(_Exporter())
        start_http_server(options.lg_metrics_port, addr=getattr(options, "lg_metrics_host", "127.0.0.1"),
                          registry=registry)
    if getattr(options, "lg_series_file", ""):
        path = Path(options.lg_series_file)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One file per test: the header starts it afresh.
            path.write_text(json.dumps(contract.series_header()) + "\n", encoding="utf-8")
        except OSError as exc:
            sys.stderr.write(f"loadgate: cannot write the client series: {exc}\n")
            raise SystemExit(contract.SERIES_WRITE_FAILED_EXIT) from None
        STATE.series_path = path
        gevent.spawn(_series_loop)


def _seconds(value: Any) -> float | None:
    """A number of seconds from the command line or the web form (where it arrives as text)."""
    if value in (None, ""):
        return None
    return float(value)


def load_model(user_classes: Any) -> str:
    """``open`` when every user class takes its requests from the schedule (``OpenModelUser``),
    ``closed`` when none does (plain Locust users: the rate is not controlled), else ``mixed``."""
    kinds = {issubclass(cls, OpenModelUser) for cls in user_classes}
    return "open" if kinds == {True} else "closed" if kinds == {False} else "mixed"


def _write_event(name: str, **fields: Any) -> None:
    _append(json.dumps({"event": name, "t": time.time(), **fields}))


def _on_test_start(environment: Any, **_: Any) -> None:
    classes = list(environment.user_classes or ())
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        STATE.test_started = time.time()
        STATE.reporting = set(_workers_sharing(runner))
        _send_shares(runner, _workers_sharing(runner))
    if not isinstance(environment.runner, WorkerRunner):
        _write_event(contract.TEST_START, model=load_model(classes), concurrency=STATE.concurrency,
                     user_classes=sorted(cls.__name__ for cls in classes),
                     closed_user_classes=sorted(cls.__name__ for cls in classes if not issubclass(cls, OpenModelUser)))
    options = environment.parsed_options
    index = _worker_index(environment)
    random.seed((getattr(options, "lg_seed", 1) if options else 1) * 31 + index)
    if options is not None and any(issubclass(cls, OpenModelUser) for cls in classes) \
            and not isinstance(environment.runner, MasterRunner):
        STATE.wants_open_model = True
        if isinstance(environment.runner, WorkerRunner) and STATE.share is None:
            gevent.spawn(_share_or_fallback, environment)
        else:
            _start_open_model(options, index)


def _workers(options: Any) -> int:
    """Processes that share the open model's rate: ``--lg-workers`` (which a master sets to the
    workers connected when the test starts, unless given), else 1."""
    return max(1, int(getattr(options, "lg_workers", 0) or 1))


def _workers_sharing(runner: Any, joining: str | None = None) -> tuple[str, ...]:
    """The workers that share the rate: those connected and not missing (and one joining now,
    which Locust adds to its list only after the connect event), in a stable order."""
    ids = {c.id for c in runner.clients.values() if c.state != STATE_MISSING}
    return tuple(sorted(ids | ({joining} if joining else set())))


def _send_shares(runner: Any, workers: tuple[str, ...]) -> None:
    """Tell each worker its share: its slot among ``workers`` and the test's start time."""
    STATE.sharing = workers
    STATE.slots = assign_slots(workers, STATE.slots)
    for worker in workers:
        runner.send_message(SHARE_MESSAGE, {"slot": STATE.slots[worker], "of": len(workers),
                                            "started": STATE.test_started}, client_id=worker)


def _on_worker_ready(environment: Any, msg: Any, **_: Any) -> None:
    """Master: a worker joining a running test gets a share, and every other worker a smaller one."""
    runner = environment.runner
    if STATE.test_started is None:
        return
    workers = _workers_sharing(runner, joining=msg.node_id)
    if workers != STATE.sharing:
        _send_shares(runner, workers)


def _on_share(environment: Any, msg: Any, **_: Any) -> None:
    """A worker's share from the master; the open model (re)starts with it."""
    data = msg.data or {}
    STATE.share = (int(data["slot"]), max(1, int(data["of"])), float(data["started"]))
    STATE.test_started = STATE.share[2]
    if STATE.wants_open_model and environment.parsed_options is not None:
        _start_open_model(environment.parsed_options, _worker_index(environment))


def _worker_index(environment: Any) -> int:
    return max(0, getattr(environment.runner, "worker_index", 0) or 0)


def _share_or_fallback(environment: Any) -> None:
    """A worker that began its test before its share came: wait for it, then do without."""
    gevent.sleep(SHARE_WAIT_S)
    if STATE.wants_open_model and not STATE.open_model and environment.parsed_options is not None:
        sys.stderr.write("loadgate: no share of the rate came from the master; taking every --lg-workers-th key\n")
        _start_open_model(environment.parsed_options, _worker_index(environment))


def _note_workers(runner: Any) -> None:
    """Master: a ``worker_lost`` event for each worker that stopped reporting since the last
    snapshot (missing its heartbeats, or gone), and ``worker_joined`` for each new one."""
    if STATE.test_started is None:
        return
    now = set(_workers_sharing(runner))
    for worker in sorted(STATE.reporting - now):
        _write_event(contract.WORKER_LOST, worker=worker)
    for worker in sorted(now - STATE.reporting):
        _write_event(contract.WORKER_JOINED, worker=worker)
    STATE.reporting = now


def _start_open_model(options: Any, worker_index: int) -> None:
    """This process's share of the keys and of the rate, on one schedule: the share the master
    gave it, else every ``--lg-workers``-th key from ``worker_index``."""
    slot, workers, began = STATE.share or (worker_index, _workers(options), None)
    STATE.open_model = True
    share = 1.0 / workers
    mix = parse_mix(options.lg_mix)
    pools = keys_needed(options.lg_rate * share, mix, options.lg_pace, options.lg_over_limit)
    mine: dict[str, tuple[str, ...]] = {}
    if getattr(options, "lg_keys_file", ""):
        # This process's keys: every ``workers``-th of the file's, so no two processes share a key.
        given = read_keys(options.lg_keys_file)
        mine = {tier: keys[slot % workers::workers] for tier, keys in given.keys.items()}
        short = shortfall(KeyPool(mine), pools, options.lg_rate * share, options.lg_pace)
        if short:
            sys.stderr.write(f"loadgate: --lg-keys-file: {short}; keys will send faster than their pace\n")
        pools = {tier: len(mine.get(tier, ())) for tier in pools}
    schedule = KeySchedule(pools, pace=options.lg_pace, over_limit_fraction=options.lg_over_limit,
                           seed=options.lg_seed * 131 + slot)
    length = getattr(options, "lg_run_length", 0.0) or effective_duration(_seconds(options.lg_duration), None)
    spec = ShapeSpec(options.lg_rate, length, options.lg_rampup)

    def rates(elapsed_s: float) -> dict[str, float] | None:
        rate = target_rate(options.lg_shape, elapsed_s, spec)
        return None if rate is None else {tier: rate * weight * share for tier, weight in mix.items()}

    DISPATCH.start(schedule, rates, mine, max_late_s=float(getattr(options, "lg_max_late", DEFAULT_MAX_LATE_S)),
                   on_drop=_count_dropped, began=began, slot=slot)


def _count_dropped(dues: list[Due], now: float) -> None:
    for due in dues:
        STATE.stats.count_dropped(contract.tier_label(due.tier, due.over_limit), now - due.intended)


def _on_test_stop(environment: Any, **_: Any) -> None:
    DISPATCH.stop()
    STATE.target_rate = 0.0
    STATE.open_model = STATE.wants_open_model = False
    STATE.test_started = STATE.share = None
    STATE.sharing, STATE.reporting, STATE.slots = (), set(), {}
    if not isinstance(environment.runner, WorkerRunner):
        _write_event(contract.TEST_STOP)
        _write_snapshot()


def _on_quit(environment: Any, **_: Any) -> None:
    _write_snapshot()  # the last line holds the final totals, workers' last reports included


class LoadGateShape(LoadTestShape):
    """Runs the chosen shape of target rates for its duration, with a fixed pool of users.

    Open-model users take the rate from the schedule (every process follows the shape); the users
    are the concurrency: ``-u`` (or the web form's users), else sized from ``--lg-rate`` by
    Little's law (``scenarios.schedule.concurrency``). Plain Locust users run closed-loop, as
    many as that. ``-t/--run-time`` always ends the run: with a shape, Locust waits for the shape
    to end before it starts its own run-time timer, so the shape ends itself at ``-t``.
    """

    use_common_options = True

    def reset_time(self) -> None:
        """A test starts: the shape's own length as given now (the command line or the web form);
        each tick then writes the length it runs back, for the workers."""
        super().reset_time()
        if self.runner is not None and self.runner.environment.parsed_options is not None:
            STATE.given_duration = _seconds(getattr(self.runner.environment.parsed_options, "lg_duration", None))

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None and self.runner.environment.parsed_options is not None
        options = self.runner.environment.parsed_options
        duration = effective_duration(STATE.given_duration, _seconds(options.run_time))
        # For the workers: Locust sends the master's own options with each spawn message.
        options.lg_run_length = duration
        if isinstance(self.runner, MasterRunner) and not STATE.given_workers:
            options.lg_workers = max(1, self.runner.worker_count)
        rate = target_rate(options.lg_shape, self.get_run_time(), ShapeSpec(options.lg_rate, duration,
                                                                             options.lg_rampup))
        if rate is None:
            return None
        STATE.target_rate = rate
        users = STATE.given_users if options.headless else options.num_users
        STATE.concurrency = users = int(users or concurrency(options.lg_rate))
        spawn_rate = STATE.given_spawn_rate if options.headless else options.spawn_rate
        if not spawn_rate:
            spawn_rate = max(1.0, users / options.lg_rampup) if options.lg_rampup > 0 else float(users)
        return users, float(spawn_rate)


def install() -> None:
    """Register every hook once (``locustfile.py`` calls this at import)."""
    if getattr(install, "done", False):
        return
    locust.stats.bucket_response_time = precise_bucket  # type: ignore[assignment]
    keepalive.install()
    events.init_command_line_parser.add_listener(_add_options)
    events.init.add_listener(_on_init)
    events.request.add_listener(_on_request)
    events.report_to_master.add_listener(_report_to_master)
    events.worker_report.add_listener(_worker_report)
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quit)
    install.done = True  # type: ignore[attr-defined]
