"""The client-series file (``client_series.jsonl``): its format, its reader and counts between snapshots.

While Locust runs, loadgate's hooks write a header line (``contract.series_header()``), then
append a cumulative snapshot of what the load generator saw every second (responses by
endpoint, tier, result and status; a latency histogram with buckets at the SLO thresholds;
``X-Cache`` hits and misses; response times kept to 3 significant digits, written as they grew
since the previous snapshot), plus ``test_start``/``test_stop`` events. ``parse_series`` reads
it; ``ClientSeries.counts`` gives the exact counts between two times. Pure: callers pass the lines.

Snapshots come every second; in distributed mode the workers report every 3 s (Locust's
worker report interval), so counts there move in steps of up to 3 s.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Iterable

import contract

#: Responses per (endpoint, response time in ms).
TimesTable = dict[tuple[str, float], float]

__all__ = ["BUCKETS", "Snapshot", "ClientSeries", "SeriesError", "SeriesReader", "parse_series", "Counts", "delta",
           "users_by_tier"]

#: The client counts' bounds (the file stores counts, not bounds), with the +Inf bucket.
BUCKETS = (*contract.SLO_BUCKETS, math.inf)


class SeriesError(ValueError):
    """A client series file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Snapshot:
    """Cumulative client counts at Unix time ``t``; the response times (``new_times_ms``,
    ``new_corrected_times_ms``) are only those counted since the previous snapshot."""

    t: float
    responses: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    latency: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    cache_hits: float = 0.0
    cache_misses: float = 0.0
    new_times_ms: dict[tuple[str, float], float] = field(default_factory=dict)
    target_rate: float = 0.0
    users: dict[str, int] = field(default_factory=dict)
    workers: int = 1
    #: From the intended sends of open-model requests (empty for closed-model ones).
    corrected: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    new_corrected_times_ms: dict[tuple[str, float], float] = field(default_factory=dict)
    scheduled: float = 0.0
    late: float = 0.0
    #: Open model: API keys sending, per tier label (the clients; ``users`` are then the concurrency).
    keys: dict[str, int] = field(default_factory=dict)
    #: Open-model requests sent over 100 ms late (the generator could not keep its schedule).
    very_late: float = 0.0
    #: Open-model requests dropped unsent: still waiting for a free user past ``--lg-max-late``.
    dropped: float = 0.0
    #: The busiest load-generator process's CPU, percent of a core: each process measures its own
    #: every second (``getrusage``), workers send theirs with their reports.
    cpu: float | None = None
    #: Master: the responses each worker has reported, by Locust's worker id.
    worker_responses: dict[str, float] = field(default_factory=dict)
    #: Load zones: each zone's own counts (``workers`` there: its workers reporting); ``analysis.zones``.
    zones: dict[str, Snapshot] = field(default_factory=dict)

    def select(self, *, endpoint: str | None = None, tier: str | None = None) -> Snapshot:
        """The counts of one endpoint, or of one tier (response times are kept per endpoint only)."""
        def keep(e: str, t: str | None) -> bool:
            return (endpoint is None or e == endpoint) and (tier is None or t == tier)

        return Snapshot(
            t=self.t,
            responses={k: n for k, n in self.responses.items() if keep(k[0], k[1])},
            latency={k: c for k, c in self.latency.items() if keep(k[0], k[1])},
            new_times_ms={k: n for k, n in self.new_times_ms.items() if tier is None and keep(k[0], None)},
            target_rate=self.target_rate, users=self.users, workers=self.workers, keys=self.keys,
            corrected={k: c for k, c in self.corrected.items() if keep(k[0], k[1])},
            new_corrected_times_ms={k: n for k, n in self.new_corrected_times_ms.items()
                                    if tier is None and keep(k[0], None)})


@dataclass(frozen=True)
class ClientSeries:
    """All snapshots in time order, when the test started and stopped, and how its load was
    generated (from the ``test_start`` event; absent in files written before loadgate recorded it)."""

    snapshots: tuple[Snapshot, ...]
    started: float | None = None
    stopped: float | None = None
    #: ``open`` (arrival rate controlled), ``closed`` (plain Locust users) or ``mixed``.
    model: str | None = None
    #: Locust users carrying the requests.
    concurrency: int | None = None
    user_classes: tuple[str, ...] = ()
    #: Those of them that ran closed-loop (plain Locust users, not ``OpenModelUser``).
    closed_user_classes: tuple[str, ...] = ()
    #: Master: ``(t, "worker_lost" | "worker_joined", worker id)``, in time order.
    worker_events: tuple[tuple[float, str, str], ...] = ()

    @cached_property
    def _times(self) -> list[float]:
        return [s.t for s in self.snapshots]

    def _index(self, t: float) -> int:
        return bisect.bisect_right(self._times, t + 1e-6) - 1

    def at(self, t: float) -> Snapshot:
        """The last snapshot at or before ``t`` (an empty one before the first)."""
        index = self._index(t)
        if index < 0:
            return Snapshot(t=self.started if self.started is not None else t)
        return self.snapshots[index]

    def counts(self, t0: float, t1: float, *, endpoint: str | None = None, tier: str | None = None,
               times: bool = True) -> Counts:
        """What the load generator counted from ``at(t0)`` to ``at(t1)``, of one endpoint or one
        tier if asked (response times are kept per endpoint only). ``times=False`` leaves the
        response times out (they are summed over every snapshot between: the costly part)."""
        a, b = self.at(t0), self.at(t1)
        between: Iterable[Snapshot] = self.snapshots[self._index(t0) + 1:self._index(t1) + 1]
        if tier is not None or not times:
            between = ()
        if endpoint is not None or tier is not None:
            a, b = a.select(endpoint=endpoint, tier=tier), b.select(endpoint=endpoint, tier=tier)
        if endpoint is not None:
            between = [Snapshot(t=s.t, new_times_ms={k: n for k, n in s.new_times_ms.items() if k[0] == endpoint},
                                new_corrected_times_ms={k: n for k, n in s.new_corrected_times_ms.items()
                                                        if k[0] == endpoint})
                       for s in between]
        return delta(a, b, between)

    def endpoints(self) -> list[str]:
        """Every endpoint the load generator counted a response or a response time of."""
        return sorted({key[0] for s in self.snapshots for table in (s.responses, s.new_times_ms) for key in table})


def _snapshot(row: dict[str, Any]) -> Snapshot:
    """One snapshot line as written (version 1 lines hold cumulative response-time tables);
    a missing field or a wrong type raises KeyError, TypeError or ValueError."""
    return Snapshot(
        t=float(row["t"]),
        responses={(e, tier, r, str(c)): float(n) for e, tier, r, c, n in row["responses"]},
        latency={(e, tier): [float(x) for x in counts] for e, tier, counts, _ in row["latency"]},
        cache_hits=float(row["cache"]["hit"]), cache_misses=float(row["cache"]["miss"]),
        new_times_ms=_times_table(row.get("times", [])),
        target_rate=float(row.get("target_rate", 0.0)), users=dict(row.get("users", {})),
        workers=int(row.get("workers", 1)),
        corrected={(e, tier): [float(x) for x in counts] for e, tier, counts, _ in row.get("corrected", [])},
        new_corrected_times_ms=_times_table(row.get("corrected_times", [])),
        scheduled=float(row.get("late", {}).get("scheduled", 0)), late=float(row.get("late", {}).get("late", 0)),
        keys={str(k): int(v) for k, v in row.get("keys", {}).items()},
        very_late=float(row.get("late", {}).get("very_late", 0)),
        dropped=float(row.get("late", {}).get("dropped", 0)),
        cpu=float(row["cpu"]) if row.get("cpu") is not None else None,
        worker_responses={str(w): float(n) for w, n in row.get("worker_responses", {}).items()},
        zones={str(z): _snapshot({"t": row["t"], **part}) for z, part in row.get("zones", {}).items()},
    )


def _times_table(times: Any) -> TimesTable:
    """A response-time table: ``{endpoint: [ms, n, ms, n, ...]}`` (version 2) or rows
    ``[[endpoint, ms, n]]`` (version 1)."""
    if isinstance(times, dict):
        out = {}
        for endpoint, flat in times.items():
            if len(flat) % 2:
                raise ValueError(f"the response times of {endpoint} are not [ms, n] pairs")
            for i in range(0, len(flat), 2):
                out[(str(endpoint), float(flat[i]))] = float(flat[i + 1])
        return out
    return {(str(e), float(ms)): float(n) for e, ms, n in times}


class SeriesReader:
    """Reads a client-series file line by line, as it grows or all at once.

    The first line must be the header of a format version this loadgate knows; after it, each
    line is an event or a snapshot. A malformed line is a ``SeriesError`` naming it. With
    ``keep`` only the last ``keep`` snapshots are held (enough for a live progress line).
    """

    def __init__(self, name: str = "client_series.jsonl", keep: int | None = None):
        self.name = name
        self.keep = keep
        self.number = 0
        self.header = False
        self.snapshots: list[Snapshot] = []
        self.started: float | None = None
        self.stopped: float | None = None
        self.load: dict[str, Any] = {}
        self.cumulative_times = False
        self.worker_events: list[tuple[float, str, str]] = []
        self._last_times: tuple[dict[tuple[str, float], float], dict[tuple[str, float], float]] = ({}, {})

    def feed(self, lines: Iterable[str]) -> None:
        """Read more lines (complete ones, without their newlines)."""
        for line in lines:
            self.number += 1
            if line.strip():
                self._line(line)

    def _line(self, line: str) -> None:
        where = f"{self.name}:{self.number}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise SeriesError(f"{where}: not a loadgate client snapshot ({exc})") from None
        if not isinstance(row, dict):
            raise SeriesError(f"{where}: not a loadgate client snapshot (a JSON {type(row).__name__})")
        if not self.header:
            if row.get("format") != contract.SERIES_FORMAT:
                raise SeriesError(f"{where}: not a loadgate client series (no {contract.SERIES_FORMAT} header)")
            version = row.get("schema_version")
            if version not in contract.SERIES_SCHEMA_VERSIONS_READ:
                known = " and ".join(str(v) for v in contract.SERIES_SCHEMA_VERSIONS_READ)
                raise SeriesError(f"{where}: client series schema_version {version!r}; this loadgate reads {known}")
            self.header = True
            self.cumulative_times = version == 1
            return
        try:
            if "event" in row:
                if row["event"] == contract.TEST_START and self.started is None:
                    self.started = float(row["t"])
                    self.load = {"model": str(row["model"]) if "model" in row else None,
                                 "concurrency": int(row["concurrency"]) if row.get("concurrency") else None,
                                 "user_classes": tuple(str(name) for name in row.get("user_classes", ())),
                                 "closed_user_classes": tuple(str(name) for name in
                                                              row.get("closed_user_classes", ()))}
                elif row["event"] == contract.TEST_STOP:
                    self.stopped = float(row["t"])
                elif row["event"] in (contract.WORKER_LOST, contract.WORKER_JOINED):
                    self.worker_events.append((float(row["t"]), str(row["event"]), str(row["worker"])))
                return
            snapshot = _snapshot(row)
            if self.cumulative_times:
                snapshot = self._increments(snapshot)
            self.snapshots.append(snapshot)
            if self.keep is not None and len(self.snapshots) > self.keep:
                del self.snapshots[:-self.keep]
        except (ValueError, KeyError, TypeError) as exc:
            raise SeriesError(f"{where}: not a loadgate client snapshot ({exc})") from None

    def _increments(self, snapshot: Snapshot) -> Snapshot:
        """A version-1 snapshot (cumulative response-time tables) with the tables as increments."""
        times, corrected = self._last_times
        self._last_times = (snapshot.new_times_ms, snapshot.new_corrected_times_ms)
        return replace(snapshot, new_times_ms=_grown(times, snapshot.new_times_ms),
                       new_corrected_times_ms=_grown(corrected, snapshot.new_corrected_times_ms))

    def series(self) -> ClientSeries:
        """Everything read so far, snapshots in time order."""
        return ClientSeries(tuple(sorted(self.snapshots, key=lambda s: s.t)), self.started, self.stopped,
                            worker_events=tuple(sorted(self.worker_events)), **self.load)


def parse_series(lines: Iterable[str], name: str = "client_series.jsonl") -> ClientSeries:
    """Read a whole client-series file's lines; an empty file is an empty series."""
    reader = SeriesReader(name)
    reader.feed(lines)
    return reader.series()


@dataclass(frozen=True)
class Counts:
    """What the load generator counted between two snapshots, over ``seconds``.

    ``by_tier`` maps a tier label to counts per result; ``buckets`` are cumulative counts per
    ``BUCKETS`` bound; ``times_ms`` maps a response time (ms, 3 significant digits) to a count.
    ``corrected_*`` are the same from the intended sends of open-model requests (with the
    requests dropped unsent, at how long they waited); ``scheduled`` of those were sent, ``late``
    of them later than the load generator's threshold, ``very_late`` over 100 ms late, and
    ``dropped`` more were never sent.
    """

    total: float
    failures: float
    rate_limited: float
    by_code: dict[str, float]
    by_tier: dict[str, dict[str, float]]
    buckets: list[float]
    hits: float
    misses: float
    seconds: float
    times_ms: dict[float, float]
    corrected_buckets: list[float] = field(default_factory=list)
    corrected_times_ms: dict[float, float] = field(default_factory=dict)
    scheduled: float = 0.0
    late: float = 0.0
    very_late: float = 0.0
    dropped: float = 0.0

    @property
    def transport_errors(self) -> float:
        """Requests that got no HTTP answer at all (refused, reset, timed out): status code 0."""
        return self.by_code.get("0", 0.0)

    @property
    def answered(self) -> float:
        """Requests the service answered, whatever the status: what throughput counts."""
        return self.total - self.transport_errors


def users_by_tier(snapshot: Snapshot) -> dict[str, float]:
    """Clients per tier label (``pro``, ``pro_over_limit``): the open model's active API keys; in
    series of the retired closed model, its running users per tier class (each held one key); for
    plain Locust users, the running users per class name."""
    if snapshot.keys:
        return {label: float(n) for label, n in snapshot.keys.items()}
    out: dict[str, float] = {}
    for name, count in snapshot.users.items():
        tier = contract.tier_of_user_class(name)
        label = tier if tier.removesuffix(contract.OVER_LIMIT_SUFFIX) in contract.TIERS else name
        out[label] = out.get(label, 0.0) + count
    return out


def delta(a: Snapshot, b: Snapshot, between: Iterable[Snapshot] = ()) -> Counts:
    """The counts from snapshot ``a`` to the later snapshot ``b`` (exact: both are cumulative);
    the response times are those of ``between``, the snapshots after ``a`` up to ``b``
    (``ClientSeries.counts`` passes them; without them the counts hold no response times).

    Cache hits and misses and the late counts are the whole load generator's: ``select`` leaves them out.
    """
    by_code: dict[str, float] = {}
    by_tier: dict[str, dict[str, float]] = {}
    total = failures = limited = 0.0
    times: dict[float, float] = {}
    corrected_times: dict[float, float] = {}
    for snapshot in between:
        _add_times(times, snapshot.new_times_ms)
        _add_times(corrected_times, snapshot.new_corrected_times_ms)
    for key, count in b.responses.items():
        n = count - a.responses.get(key, 0.0)
        if n <= 0:
            continue
        _, tier, result, code = key
        total += n
        failures += n if result == contract.FAILURE else 0.0
        limited += n if result == contract.RATE_LIMITED else 0.0
        by_code[code] = by_code.get(code, 0.0) + n
        tier_counts = by_tier.setdefault(tier, {})
        tier_counts[result] = tier_counts.get(result, 0.0) + n
    return Counts(total, failures, limited, by_code, by_tier, _bucket_delta(a.latency, b.latency),
                  b.cache_hits - a.cache_hits, b.cache_misses - a.cache_misses, b.t - a.t,
                  times, _bucket_delta(a.corrected, b.corrected), corrected_times, b.scheduled - a.scheduled,
                  b.late - a.late, b.very_late - a.very_late, b.dropped - a.dropped)


def _bucket_delta(a: dict[tuple[str, str], list[float]], b: dict[tuple[str, str], list[float]]) -> list[float]:
    buckets = [0.0] * len(BUCKETS)
    for slot, counts in b.items():
        before = a.get(slot, [0.0] * len(counts))
        for i, (x, y) in enumerate(zip(before, counts)):
            buckets[i] += y - x
    return buckets


def _add_times(into: dict[float, float], times: dict[tuple[str, float], float]) -> None:
    for (_, ms), n in times.items():
        into[ms] = into.get(ms, 0.0) + n


def _grown(before: TimesTable, after: TimesTable) -> TimesTable:
    """The rows of a cumulative table that grew from ``before`` to ``after``, by how much."""
    return {key: n - before.get(key, 0.0) for key, n in after.items() if n > before.get(key, 0.0)}
