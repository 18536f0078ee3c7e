"""The load generator's source: each SLI from its own client series (``SLISource``).

It grades what the users of the service saw, from ``client_series.jsonl``, with the same
maths (``sli``) as the Prometheus source, so the same grader grades both. Client-side
definitions, as a user sees the service:

* an *error* is a failed request (a failed check, a 5xx, a transport error, a 429 for an
  in-limit user); an expected 429 for an over-limit user is not an error;
* the cache-hit rate comes from ``X-Cache`` on single profile reads;
* a *slice* is good when it has responses and its error ratio is within the limit.

Counts between two snapshots are exact; window edges are placed at the last snapshot at or
before each edge (within a second; within 3 s in distributed mode). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Callable

from analysis import sli
from analysis.client_series import BUCKETS, ClientSeries, Counts, users_by_tier
from analysis.sli import Problem, Series, SLIData, Window
from analysis.source import LATENCY_CAPTION, LATENCY_TITLE, OVERVIEW_QUANTILES, Chart

__all__ = ["ClientSource", "client_percentile", "USERS_CAPTION", "KEYS_CAPTION"]

USERS_CAPTION = ("Running Locust users: per user class for plain Locust users; per tier in series recorded by "
                 "loadgate's retired closed model, over-limit users apart.")
KEYS_CAPTION = ("Open model: the API keys (clients) sending per tier, over-limit keys apart; the Locust users "
                "are the concurrency that carries their requests.")


def client_percentile(times_ms: dict[float, float], q: float) -> float | None:
    """The q-quantile in seconds by nearest rank over response times kept in milliseconds."""
    ms = sli.nearest_rank_percentile(times_ms, q)
    return None if ms is None else ms / 1000.0


class ClientSource:
    """The SLIs of a ``ClientSeries`` over one window; chart series start at ``chart_start``."""

    name = "locust"
    title = "the load generator's series"

    def __init__(self, series: ClientSeries, window: Window, step_s: int = 1, chart_start: float | None = None,
                 file_name: str = "client_series.jsonl"):
        self.series = series
        self.window = window
        self.chart_start = window.start if chart_start is None else min(chart_start, window.start)
        self.step_s = max(1, step_s)
        self.file_name = file_name
        self.counts = series.counts(window.start, window.end)

    def open(self) -> None:
        """The series is already read: nothing to contact."""

    def info(self, error: str | None = None) -> dict[str, Any]:
        return {"series": self.file_name, **({"error": error} if error else {})}

    def _points(self, width_s: float, start: float | None = None, times: bool = False) -> list[tuple[float, Counts]]:
        """Counts over the trailing ``width_s`` at every step from ``start`` (the chart start) to
        the end; with the response times only if asked (``times``)."""
        out = []
        t = (self.chart_start if start is None else start) + width_s
        while t <= self.window.end + 1e-6:
            out.append((t, self.series.counts(t - width_s, t, times=times)))
            t += self.step_s
        return out

    def _empty(self, data: SLIData) -> bool:
        if self.counts.total <= 0:
            data.problem = Problem(sli.NO_EVENTS, "the load generator recorded no responses in the window")
            return True
        return False

    def _burn(self, data: SLIData, bad_total: Callable[[Counts], tuple[float, float]]) -> None:
        sli.record_burn(data, self.window.seconds, lambda: (
            bad_total(c) for _, c in self._points(sli.BURN_WINDOW_S, start=self.window.start)))

    def latency(self, quantile: float, threshold_s: float) -> SLIData:
        queries = [f"{self.file_name}: latency histogram"]
        empty = SLIData(queries=queries)
        if self._empty(empty):
            return empty
        # Open-model requests are graded from their intended sends: what clients would have waited.
        corrected = self.counts.scheduled > 0

        def buckets_of(c: Counts) -> list[float]:
            return c.corrected_buckets if corrected else c.buckets

        hist = sli.histogram_from_buckets(zip(BUCKETS, buckets_of(self.counts)))
        data = sli.latency_sli(hist, quantile, threshold_s)
        data.queries = queries
        if data.problem:
            return data
        # Graded from the SLO buckets (exact at the threshold); shown as the percentile of the
        # rounded samples, within 0.5 % of the true one.
        precise = client_percentile(self.counts.corrected_times_ms if corrected else self.counts.times_ms, quantile)
        if precise is not None:
            data.value = precise
            data.detail["estimate_method"] = "nearest rank over response times kept to 3 significant digits"
        p = f"p{quantile * 100:g}"
        lines = [(f"client {p} (5 s windows)", buckets_of)]
        if corrected:
            data.detail["measured_from"] = "the intended sends (open model: corrected for coordinated omission)"
            data.detail["measured_from_actual_sends"] = client_percentile(self.counts.times_ms, quantile)
            lines.append((f"client {p} from the actual sends (5 s windows)", lambda c: c.buckets))
        windows = self._points(5)
        for name, pick in lines:
            points = []
            for t, c in windows:
                h = sli.histogram_from_buckets(zip(BUCKETS, pick(c)))
                if h.count > 0:
                    points.append((t, h.quantile(quantile)))
            data.series.append(Series(name, "s", tuple(points)))
        index = hist.bound_index(threshold_s)

        def over_threshold(c: Counts) -> tuple[float, float]:
            counts = buckets_of(c)
            return (counts[-1] - counts[index] if index is not None else float("nan")), counts[-1]

        self._burn(data, over_threshold)
        return data

    def errors(self) -> SLIData:
        data = SLIData(queries=[f"{self.file_name}: responses by result"])
        if self._empty(data):
            return data
        c = self.counts
        data.value, data.events, data.bad = c.failures / c.total, c.total, c.failures
        data.detail.update({"responses_by_code": dict(sorted(c.by_code.items())), "failures": c.failures,
                            "rate_limited_429": c.rate_limited, "rate_limited_ratio": c.rate_limited / c.total,
                            "by_tier": c.by_tier})
        windows = [(t, x) for t, x in self._points(5) if x.total > 0]
        data.series.append(Series("client failure ratio (5 s windows)", "ratio",
                                  tuple((t, x.failures / x.total) for t, x in windows)))
        data.series.append(Series("expected 429 ratio (not errors)", "ratio",
                                  tuple((t, x.rate_limited / x.total) for t, x in windows)))
        self._burn(data, lambda x: (x.failures, x.total))
        return data

    def throughput(self) -> SLIData:
        """Responses that arrived per second: a request refused, reset or timed out got no answer and
        is not throughput (it is an error)."""
        data = SLIData(queries=[f"{self.file_name}: responses"])
        if self._empty(data):
            return data
        c = self.counts
        data.events = c.answered
        data.value = c.answered / max(c.seconds, 1e-9)
        data.detail.update({"measured_seconds": c.seconds, "transport_errors": c.transport_errors})
        data.series.append(Series("client responses per second", "1/s",
                                  tuple((t, x.answered / max(x.seconds, 1e-9)) for t, x in self._points(1))))
        targets = [(s.t, s.target_rate) for s in self.series.snapshots
                   if self.chart_start <= s.t <= self.window.end]
        if targets:
            data.series.append(Series("target rate", "1/s", tuple(targets)))
        return data

    def cache(self) -> SLIData:
        data = SLIData(queries=[f"{self.file_name}: X-Cache"])
        c = self.counts
        lookups = c.hits + c.misses
        data.events, data.bad = lookups, c.misses
        if lookups <= 0:
            data.problem = Problem(sli.NO_EVENTS, "no X-Cache answers were seen in the window")
            return data
        data.value = c.hits / lookups
        data.detail.update({"hits": c.hits, "misses": c.misses, "note": "single profile reads only (X-Cache)"})
        data.series.append(Series("client X-Cache hit ratio (5 s windows)", "ratio", tuple(
            (t, x.hits / (x.hits + x.misses)) for t, x in self._points(5) if x.hits + x.misses > 0)))
        self._burn(data, lambda x: (x.misses, x.hits + x.misses))
        return data

    def availability(self, slice_s: float, max_error_ratio: float) -> SLIData:
        queries = [f"{self.file_name}: responses per slice"]
        width = max(1, int(round(slice_s)))
        n = int(self.window.seconds // width)
        if n < 1:
            return SLIData(queries=queries, problem=Problem(
                sli.SHORT_WINDOW, f"the window ({self.window.seconds:g}s) is shorter than one {width}s slice"))
        ends = [self.window.start + (i + 1) * width for i in range(n)]
        counts = {end: self.series.counts(end - width, end) for end in ends}
        # A slice without responses is bad: the load generator was sending, nothing came back.
        up = {end: 1.0 for end, c in counts.items() if c.total > 0}
        slices = sli.grade_slices(ends, up, {e: c.failures for e, c in counts.items()},
                                  {e: c.total for e, c in counts.items()}, max_error_ratio,
                                  no_up="no responses", errors_name="failure ratio")
        data = sli.availability_sli(slices, width, max_error_ratio, self.window.seconds)
        data.queries = queries
        return data

    def promql_ratio(self, good: str | None, bad: str | None, total: str) -> SLIData:
        return SLIData(problem=Problem(
            sli.NEEDS_PROMETHEUS, "a PromQL objective needs Prometheus; the client-side source cannot grade it",
            "inconclusive"))

    def promql_value(self, query: str, unit: str) -> SLIData:
        return self.promql_ratio(None, None, query)

    def promql_slices(self, good: str | None, bad: str | None, total: str, slice_s: float,
                      slice_target: float | None) -> SLIData:
        return self.promql_ratio(good, bad, total)

    def promql_threshold(self, query: str, op: str, value: float, step_s: float | None) -> SLIData:
        return self.promql_ratio(None, None, query)

    def promql_threshold_slices(self, query: str, op: str, value: float, slice_s: float,
                                slice_target: float | None) -> SLIData:
        return self.promql_ratio(None, None, query)

    def overview(self, with_latency: bool = True) -> list[Chart]:
        """Client p50/p95/p99 over 5 s windows, and the running users per tier.

        The latency chart is drawn whatever the spec grades: it is what the users saw.
        """
        windows = self._points(5, times=True)
        latency = []
        for q_ in OVERVIEW_QUANTILES:
            points = [(t, v) for t, c in windows if (v := client_percentile(c.times_ms, q_)) is not None]
            latency.append(Series(f"client p{q_ * 100:g}", "s", tuple(points)))
        charts = [Chart("latency", LATENCY_TITLE, "s", tuple(latency), LATENCY_CAPTION)]
        if any(s.keys for s in self.series.snapshots):
            charts.append(Chart("users", "API keys sending per tier", "keys", tuple(self._users()), KEYS_CAPTION))
        else:
            charts.append(Chart("users", "Running users", "users", tuple(self._users()), USERS_CAPTION))
        return charts

    def _users(self) -> list[Series]:
        """Clients per tier from the snapshots: running users (closed model) or sending keys (open model),
        over-limit ones apart."""
        by_tier: dict[str, list[tuple[float, float]]] = {}
        for snap in self.series.snapshots:
            if self.chart_start <= snap.t <= self.window.end:
                for tier, running in users_by_tier(snap).items():
                    by_tier.setdefault(tier, []).append((snap.t, running))
        unit = "keys" if any(s.keys for s in self.series.snapshots) else "users"
        return [Series(tier.replace("_", " "), unit, tuple(points))
                for tier, points in sorted(by_tier.items()) if any(v for _, v in points)]
