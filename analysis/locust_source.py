"""Client-side SLIs from the load generator's own counts (the ``client_series.jsonl`` file).

While Locust runs, loadgate's hooks append a cumulative snapshot of what the load generator saw
every second (responses by endpoint, tier, result and status; a latency histogram with buckets
at the SLO thresholds; ``X-Cache`` hits and misses), plus ``test_start``/``test_stop`` events.
This module reads them (``parse_series``) and computes the same ``SLIData`` as the Prometheus
collector, so the same grader grades both. Pure apart from nothing: callers pass the lines.

Client-side definitions, as a user sees the service:

* an *error* is a failed request (a failed check, a 5xx, a transport error, a 429 for an
  in-limit user); an expected 429 for an over-limit user is not an error;
* the cache-hit rate comes from ``X-Cache`` on single profile reads;
* a *slice* is good when it has responses and its error ratio is within the limit.

Counts between two snapshots are exact; window edges are placed at the last snapshot at or
before each edge (snapshots come every second; in distributed mode the workers report every 3 s,
Locust's worker report interval, so window edges there are placed to within 3 s).
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

from analysis.queries import DEFAULT_BUCKETS
from analysis.sli import (BURN_WINDOW_S, SLIData, Series, Window, grade_slices, histogram_from_buckets,
                          rolling_bad_fraction)

__all__ = ["BUCKETS", "Snapshot", "ClientSeries", "SeriesError", "parse_series", "ClientCollector",
           "nearest_rank_percentile", "breakdown"]

#: Quantiles of the percentile spectrum (p50 ... p99.99).
SPECTRUM = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999)
#: The client counts' bounds (the file stores counts, not bounds), with the +Inf bucket.
BUCKETS = (*DEFAULT_BUCKETS, math.inf)


class SeriesError(ValueError):
    """A client series file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Snapshot:
    """Cumulative client counts at Unix time ``t``."""

    t: float
    responses: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    latency: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    cache_hits: float = 0.0
    cache_misses: float = 0.0
    times_ms: dict[tuple[str, float], float] = field(default_factory=dict)
    target_rate: float = 0.0
    users: dict[str, int] = field(default_factory=dict)
    workers: int = 1


@dataclass(frozen=True)
class ClientSeries:
    """All snapshots in time order, and when the test started and stopped (if recorded)."""

    snapshots: tuple[Snapshot, ...]
    started: float | None = None
    stopped: float | None = None

    @cached_property
    def _times(self) -> list[float]:
        return [s.t for s in self.snapshots]

    def at(self, t: float) -> Snapshot:
        """The last snapshot at or before ``t`` (an empty one before the first)."""
        index = bisect.bisect_right(self._times, t + 1e-6) - 1
        if index < 0:
            return Snapshot(t=self.started if self.started is not None else t)
        return self.snapshots[index]


def parse_series(lines: Iterable[str], name: str = "client_series.jsonl") -> ClientSeries:
    """Read the JSON-lines file; a malformed line is a ``SeriesError`` naming it."""
    snapshots: list[Snapshot] = []
    started = stopped = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if "event" in row:
                if row["event"] == "test_start" and started is None:
                    started = float(row["t"])
                elif row["event"] == "test_stop":
                    stopped = float(row["t"])
                continue
            snapshots.append(Snapshot(
                t=float(row["t"]),
                responses={(e, tier, r, str(c)): float(n) for e, tier, r, c, n in row["responses"]},
                latency={(e, tier): [float(x) for x in counts] for e, tier, counts, _ in row["latency"]},
                cache_hits=float(row["cache"]["hit"]), cache_misses=float(row["cache"]["miss"]),
                times_ms={(e, float(ms)): float(n) for e, ms, n in row.get("times", [])},
                target_rate=float(row.get("target_rate", 0.0)), users=dict(row.get("users", {})),
                workers=int(row.get("workers", 1)),
            ))
        except (ValueError, KeyError, TypeError) as exc:
            raise SeriesError(f"{name}:{number}: not a loadgate client snapshot ({exc})") from None
    snapshots.sort(key=lambda s: s.t)
    return ClientSeries(tuple(snapshots), started, stopped)


@dataclass(frozen=True)
class _Counts:
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


def _delta(a: Snapshot, b: Snapshot) -> _Counts:
    by_code: dict[str, float] = {}
    by_tier: dict[str, dict[str, float]] = {}
    total = failures = limited = 0.0
    for key, count in b.responses.items():
        n = count - a.responses.get(key, 0.0)
        if n <= 0:
            continue
        _, tier, result, code = key
        total += n
        failures += n if result == "failure" else 0.0
        limited += n if result == "rate_limited" else 0.0
        by_code[code] = by_code.get(code, 0.0) + n
        tier_counts = by_tier.setdefault(tier, {})
        tier_counts[result] = tier_counts.get(result, 0.0) + n
    buckets = [0.0] * len(BUCKETS)
    for key, counts in b.latency.items():
        before = a.latency.get(key, [0.0] * len(counts))
        for i, (x, y) in enumerate(zip(before, counts)):
            buckets[i] += y - x
    times: dict[float, float] = {}
    for key, n in b.times_ms.items():
        d = n - a.times_ms.get(key, 0.0)
        if d > 0:
            times[key[1]] = times.get(key[1], 0.0) + d
    return _Counts(total, failures, limited, by_code, by_tier, buckets, b.cache_hits - a.cache_hits,
                   b.cache_misses - a.cache_misses, b.t - a.t, times)


def nearest_rank_percentile(times_ms: dict[float, float], q: float) -> float | None:
    """The q-quantile in seconds by nearest rank over rounded samples (as Locust computes it)."""
    total = sum(times_ms.values())
    if total <= 0:
        return None
    rank = max(1.0, math.ceil(q * total - 1e-9))
    running = 0.0
    for ms in sorted(times_ms):
        running += times_ms[ms]
        if running >= rank:
            return ms / 1000.0
    return max(times_ms) / 1000.0


class ClientCollector:
    """The ``analysis.collect.Collector`` interface over a ``ClientSeries`` instead of Prometheus."""

    def __init__(self, series: ClientSeries, window: Window, step_s: int = 1, chart_start: float | None = None):
        self.series = series
        self.window = window
        self.chart_start = window.start if chart_start is None else min(chart_start, window.start)
        self.step_s = max(1, step_s)
        self.counts = _delta(series.at(window.start), series.at(window.end))

    def _points(self, width_s: float, start: float | None = None) -> list[tuple[float, _Counts]]:
        """Counts over the trailing ``width_s`` at every step from ``start`` (the chart start) to the end."""
        out = []
        t = (self.chart_start if start is None else start) + width_s
        while t <= self.window.end + 1e-6:
            out.append((t, _delta(self.series.at(t - width_s), self.series.at(t))))
            t += self.step_s
        return out

    def _empty(self, data: SLIData) -> bool:
        if self.counts.total <= 0:
            data.problem = "the load generator recorded no responses in the window"
            return True
        return False

    def latency(self, quantile: float, threshold_s: float) -> SLIData:
        data = SLIData(queries=["client_series.jsonl: latency histogram"])
        if self._empty(data):
            return data
        hist = histogram_from_buckets(zip(BUCKETS, self.counts.buckets))
        data.histogram, data.events = hist, hist.count
        # Graded from the SLO buckets (exact at the threshold); shown as the percentile of the
        # rounded samples, within 0.5 % of the true one.
        precise = nearest_rank_percentile(self.counts.times_ms, quantile)
        data.value = precise if precise is not None else hist.quantile(quantile)
        if precise is not None:
            data.detail["estimate_method"] = "nearest rank over response times kept to 3 significant digits"
        data.detail["buckets"] = [[b, c] for b, c in zip(hist.bounds, hist.cumulative)]
        index = hist.bound_index(threshold_s)
        if index is not None:
            data.bad = hist.count - hist.cumulative[index]
        points = []
        for t, c in self._points(5):
            h = histogram_from_buckets(zip(BUCKETS, c.buckets))
            if h.count > 0:
                points.append((t, h.quantile(quantile)))
        data.series.append(Series(f"client p{quantile * 100:g} (5 s windows)", "s", tuple(points)))
        self._burn(data, lambda c: (c.buckets[index] if index is not None else math.nan, c.buckets[-1]))
        return data

    def errors(self) -> SLIData:
        data = SLIData(queries=["client_series.jsonl: responses by result"])
        if self._empty(data):
            return data
        c = self.counts
        data.value, data.events, data.bad = c.failures / c.total, c.total, c.failures
        data.detail.update({"responses_by_code": dict(sorted(c.by_code.items())), "failures": c.failures,
                            "rate_limited_429": c.rate_limited, "rate_limited_ratio": c.rate_limited / c.total,
                            "by_tier": c.by_tier})
        data.series.append(Series("client failure ratio (5 s windows)", "ratio",
                                  tuple((t, x.failures / x.total) for t, x in self._points(5) if x.total > 0)))
        data.series.append(Series("expected 429 ratio (not errors)", "ratio",
                                  tuple((t, x.rate_limited / x.total) for t, x in self._points(5) if x.total > 0)))
        self._burn(data, lambda x: (x.total - x.failures, x.total))
        return data

    def throughput(self) -> SLIData:
        data = SLIData(queries=["client_series.jsonl: responses"])
        if self._empty(data):
            return data
        c = self.counts
        data.events = c.total
        data.value = c.total / max(c.seconds, 1e-9)
        data.detail["measured_seconds"] = c.seconds
        data.series.append(Series("client responses per second", "1/s",
                                  tuple((t, x.total / max(x.seconds, 1e-9)) for t, x in self._points(1))))
        targets = [(s.t, s.target_rate) for s in self.series.snapshots
                   if self.chart_start <= s.t <= self.window.end]
        if targets:
            data.series.append(Series("target rate", "1/s", tuple(targets)))
        return data

    def cache(self) -> SLIData:
        data = SLIData(queries=["client_series.jsonl: X-Cache"])
        c = self.counts
        lookups = c.hits + c.misses
        data.events, data.bad = lookups, c.misses
        if lookups <= 0:
            data.problem = "no X-Cache answers were seen in the window"
            return data
        data.value = c.hits / lookups
        data.detail.update({"hits": c.hits, "misses": c.misses, "note": "single profile reads only (X-Cache)"})
        data.series.append(Series("client X-Cache hit ratio (5 s windows)", "ratio", tuple(
            (t, x.hits / (x.hits + x.misses)) for t, x in self._points(5) if x.hits + x.misses > 0)))
        self._burn(data, lambda x: (x.hits, x.hits + x.misses))
        return data

    def availability(self, slice_s: float, max_error_ratio: float) -> SLIData:
        data = SLIData(queries=["client_series.jsonl: responses per slice"])
        width = max(1, int(round(slice_s)))
        n = int(self.window.seconds // width)
        if n < 1:
            data.problem = f"the window ({self.window.seconds:g}s) is shorter than one {width}s slice"
            return data
        ends = [self.window.start + (i + 1) * width for i in range(n)]
        counts = {end: _delta(self.series.at(end - width), self.series.at(end)) for end in ends}
        # A slice without responses is bad: the load generator was sending, nothing came back.
        up = {end: 1.0 for end, c in counts.items() if c.total > 0}
        slices = grade_slices(ends, up, {e: c.failures for e, c in counts.items()},
                              {e: c.total for e, c in counts.items()}, max_error_ratio)
        good = sum(1 for s in slices if s.good)
        data.value, data.events, data.bad = good / n, float(n), float(n - good)
        data.detail.update({"slice_seconds": width, "slices": n, "good_slices": good,
                            "max_error_ratio": max_error_ratio, "resolution": 1.0 / n,
                            "bad_slices": [{"end": s.end, "reason": s.reason.replace("no up samples", "no responses")
                                            .replace("5xx ratio", "failure ratio")} for s in slices if not s.good]})
        data.worst_bad_ratio = max(rolling_bad_fraction([s.good for s in slices],
                                                        max(1, int(round(BURN_WINDOW_S / width)))))
        data.series.append(Series("good slice", "bool", tuple((s.end, 1.0 if s.good else 0.0) for s in slices)))
        return data

    def latency_overview(self, quantiles: tuple[float, ...] = (0.5, 0.95, 0.99)) -> SLIData:
        """Client p50/p95/p99 over 5 s windows, from the rounded response times."""
        data = SLIData()
        windows = self._points(5)
        for q_ in quantiles:
            points = [(t, v) for t, c in windows
                      if (v := nearest_rank_percentile(c.times_ms, q_)) is not None]
            data.series.append(Series(f"client p{q_ * 100:g}", "s", tuple(points)))
        return data

    def spectrum(self, quantiles: tuple[float, ...] = SPECTRUM) -> dict[str, list[list[float]]]:
        """Per endpoint, ``[quantile, seconds]`` over the window from the rounded response times."""
        a, b = self.series.at(self.window.start), self.series.at(self.window.end)
        per: dict[str, dict[float, float]] = {}
        for (endpoint, ms), n in b.times_ms.items():
            d = n - a.times_ms.get((endpoint, ms), 0.0)
            if d > 0:
                per.setdefault(endpoint, {})[ms] = d
        out = {}
        for endpoint, times in sorted(per.items()):
            out[endpoint] = [[q_, v] for q_ in quantiles if (v := nearest_rank_percentile(times, q_)) is not None]
        return out

    def users(self) -> SLIData:
        """Running users per tier (over-limit twins apart), from the snapshots."""
        data = SLIData()
        by_tier: dict[str, list[tuple[float, float]]] = {}
        for snap in self.series.snapshots:
            if not self.chart_start <= snap.t <= self.window.end:
                continue
            totals: dict[str, float] = {}
            for name, count in snap.users.items():
                totals[_tier_of_class(name)] = totals.get(_tier_of_class(name), 0.0) + count
            for tier, count in totals.items():
                by_tier.setdefault(tier, []).append((snap.t, count))
        for tier, points in sorted(by_tier.items()):
            if any(v for _, v in points):
                data.series.append(Series(tier.replace("_", " "), "users", tuple(points)))
        return data

    def promql_ratio(self, good: str | None, bad: str | None, total: str) -> SLIData:
        return SLIData(problem="a PromQL objective needs Prometheus; the client-side source cannot grade it",
                       problem_status="inconclusive")

    def promql_value(self, query: str, unit: str) -> SLIData:
        return self.promql_ratio(None, None, query)

    def _burn(self, data: SLIData, good_total: Any) -> None:
        """Worst bad ratio over any BURN_WINDOW_S window; the whole window's when it is shorter."""
        if self.window.seconds < BURN_WINDOW_S:
            data.detail["burn_note"] = (f"the window is shorter than {BURN_WINDOW_S // 60} min, "
                                        "so the burn rate is the whole window's")
            if data.events and data.bad is not None:
                data.worst_bad_ratio = data.bad / data.events
            return
        ratios = []
        for _, c in self._points(BURN_WINDOW_S, start=self.window.start):
            good, total = good_total(c)
            if total > 0 and not math.isnan(good):
                ratios.append((total - good) / total)
        data.worst_bad_ratio = max(ratios) if ratios else None


def _tier_of_class(name: str) -> str:
    """``FreeOverLimitUser`` -> ``free_over_limit``, as the client counts name tiers."""
    base = name.removesuffix("User")
    over = base.endswith("OverLimit")
    return base.removesuffix("OverLimit").lower() + ("_over_limit" if over else "")


def breakdown(series: ClientSeries, window: Window) -> dict[str, list[dict[str, Any]]]:
    """Per-endpoint and per-tier client figures over the window.

    Endpoints: requests, rate, failures, expected 429s, and p50/p99 estimated from the SLO buckets.
    Tiers: users, requests, accepted (ok) requests, expected 429s, failures, every 429 (an
    in-limit user's 429 is also a failure), and the accepted rate per user per minute, to hold
    against the tier's limit.
    """
    a, b = series.at(window.start), series.at(window.end)
    seconds = max(b.t - a.t, 1e-9)
    endpoints: dict[str, dict[str, float]] = {}
    tiers: dict[str, dict[str, float]] = {}
    for key, count in b.responses.items():
        n = count - a.responses.get(key, 0.0)
        if n <= 0:
            continue
        endpoint, tier, result, code = key
        for table, name in ((endpoints, endpoint), (tiers, tier)):
            row = table.setdefault(name, {"requests": 0.0, "ok": 0.0, "rate_limited": 0.0, "failure": 0.0,
                                          "http_429": 0.0})
            row["requests"] += n
            row[result] = row.get(result, 0.0) + n
            row["http_429"] += n if code == "429" else 0.0
    buckets: dict[str, list[float]] = {}
    for (endpoint, _), counts in b.latency.items():
        before = a.latency.get((endpoint, _), [0.0] * len(counts))
        mine = buckets.setdefault(endpoint, [0.0] * len(counts))
        for i, (x, y) in enumerate(zip(before, counts)):
            mine[i] += y - x
    users: dict[str, int] = {}
    for name, count in b.users.items():
        users[_tier_of_class(name)] = users.get(_tier_of_class(name), 0) + int(count)
    endpoint_rows = []
    for name, row in sorted(endpoints.items()):
        hist = histogram_from_buckets(zip(BUCKETS, buckets.get(name, [])))
        endpoint_rows.append({"endpoint": name, **row, "rate": row["requests"] / seconds,
                              "p50": hist.quantile(0.5) if hist.count else None,
                              "p99": hist.quantile(0.99) if hist.count else None})
    tier_rows = []
    for name, row in sorted(tiers.items()):
        count = users.get(name, 0)
        accepted = row["ok"] / count / seconds * 60.0 if count else None
        tier_rows.append({"tier": name, "users": count, **row, "accepted_per_user_per_min": accepted})
    return {"endpoints": endpoint_rows, "tiers": tier_rows}
