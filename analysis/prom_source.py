"""The Prometheus source: each SLI's counts and chart series for one window (``SLISource``).

This is the I/O half of the server-side analysis: it runs the PromQL that ``queries`` builds
and hands the plain numbers to ``sli`` for the maths. Grading values come from instant queries
at the window's end over the whole window; chart series come from range queries at a step
chosen so each series stays under Prometheus's point limit (``prom.Prometheus.range`` chunks
otherwise).

Every query run is recorded on the returned ``SLIData`` so reports can show them.

The plumbing (memoised queries, resolution, slices, burn ranges) is ``prom_reader.PromReader``;
the objectives written in a user's PromQL are ``prom_promql.PromQLSLIs``, which ``PromSource``
inherits; the metric contract's kinds (latency, errors, throughput, cache, availability) are here.
"""

from __future__ import annotations

import math
import re

from analysis import queries as q
from analysis import sli
from analysis.prom_promql import PromQLSLIs
from analysis.prom_reader import Resolution, by_time, ratio_points, sum_samples
from analysis.sli import BURN_WINDOW_S, Problem, Series, SLIData
from analysis.source import LATENCY_CAPTION, LATENCY_TITLE, OVERVIEW_QUANTILES, Chart, QueryFailed, SourceError

__all__ = ["Resolution", "PromSource"]


class PromSource(PromQLSLIs):
    """Runs the SLI queries for one window, a selector and a set of metric names.

    Identical queries are run once per source (throughput reuses the error rate's totals).
    Grading uses the window; chart series start at ``chart_start`` (default: the window's start).
    """

    name = "prometheus"
    title = "Prometheus"

    def latency(self, quantile: float, threshold_s: float) -> SLIData:
        """The merged histogram over the window, its quantile estimate and the chart series."""
        queries: list[str] = []
        w = self.window
        samples = self._instant(SLIData(queries=queries),
                                q.latency_buckets(self.m.duration, self.rsel, w.seconds))
        if not samples:
            return SLIData(queries=queries, problem=Problem(
                sli.NO_SERIES, f"no {self.m.duration}_bucket series match {self.rsel.braces()}"))
        spellings: dict[float, set[str]] = {}
        pairs = []
        for labels, value in samples:
            le = labels.get("le")
            try:
                # Bounds in seconds whatever the histogram's unit: 500 ms is the 0.5 s bucket, exactly.
                bound = float(le) / self.m.per_second  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            spellings.setdefault(bound, set()).add(str(le))
            pairs.append((bound, value))
        hist = sli.histogram_from_buckets(pairs)
        if not hist.valid:
            return SLIData(histogram=hist, queries=queries, problem=Problem(
                sli.NO_INF_BUCKET, f"{self.m.duration}_bucket has no +Inf bucket", "inconclusive"))
        data = sli.latency_sli(hist, quantile, threshold_s)
        data.queries = queries
        if data.problem:
            return data
        index = hist.bound_index(threshold_s)
        if index is not None:
            le_values = sorted(spellings[hist.bounds[index]])
            at_threshold = q.Matcher("le", "=", le_values[0]) if len(le_values) == 1 else \
                q.Matcher("le", "=~", "|".join(re.escape(v) for v in le_values))
            self._burn_range(
                data,
                f"({q.latency_count(self.m.duration, self.rsel, BURN_WINDOW_S)}) - "
                f"({q.counter_increase(f'{self.m.duration}_bucket', self.rsel, BURN_WINDOW_S, at_threshold)})",
                q.latency_count(self.m.duration, self.rsel, BURN_WINDOW_S),
            )
        res = self.resolution()

        def chart() -> None:
            query = q.latency_quantile(self.m.duration, self.rsel, res.rate_window_s, quantile,
                                       self.m.per_second)
            points = by_time(self._range(data, query, self.chart_start, w.end, res.step_s))
            data.series.append(Series(f"p{_pct(quantile)} (histogram_quantile)", "s", tuple(sorted(points.items()))))

        self._chart(data, chart)
        return data

    def overview(self, with_latency: bool) -> list[Chart]:
        """The server's p50/p95/p99 (``histogram_quantile``) when the spec grades latency. A failed
        query costs the lines not yet drawn; Prometheus gone since the grading costs the chart."""
        if not with_latency:
            return []
        data = SLIData()
        try:
            res = self.resolution()

            def chart() -> None:
                for q_ in OVERVIEW_QUANTILES:
                    query = q.latency_quantile(self.m.duration, self.rsel, res.rate_window_s, q_,
                                               self.m.per_second)
                    points = by_time(self._range(data, query, self.chart_start, self.window.end, res.step_s))
                    data.series.append(Series(f"server p{_pct(q_)}", "s", tuple(sorted(points.items()))))

            self._chart(data, chart)
        except SourceError:
            return []
        return [Chart("latency", LATENCY_TITLE, "s", tuple(data.series), LATENCY_CAPTION)]

    def _by_code(self, data: SLIData) -> dict[str, float] | None:
        samples = self._instant(data, q.requests_by_code(self.m.requests, self.rsel, self.window.seconds,
                                                         self.m.code_label))
        if not samples:
            data.problem = Problem(sli.NO_SERIES, f"no {self.m.requests} series match {self.rsel.braces()}")
            return None
        codes: dict[str, float] = {}
        for labels, value in samples:
            if not math.isnan(value):
                code = labels.get(self.m.code_label, "")
                codes[code] = codes.get(code, 0.0) + value
        return codes

    def errors(self) -> SLIData:
        """5xx over all responses; 429s counted separately; no 5xx series means zero errors."""
        data = SLIData()
        codes = self._by_code(data)
        if codes is None:
            return data
        total = sum(codes.values())
        errors = sum(v for c, v in codes.items() if c.startswith("5"))
        limited = codes.get("429", 0.0)
        data.events, data.bad = total, errors
        data.detail.update({
            "responses_by_code": {c: round(v, 3) for c, v in sorted(codes.items())},
            "errors_5xx": errors,
            "rate_limited_429": limited,
            "rate_limited_ratio": limited / total if total > 0 else None,
            "no_5xx_series": not any(c.startswith("5") for c in codes),
        })
        if total <= 0:
            data.problem = Problem(sli.NO_EVENTS, "no requests in the window")
            return data
        data.value = errors / total
        self._burn_range(data, q.requests_5xx(self.m.requests, self.rsel, BURN_WINDOW_S, self.m.code_label),
                         q.requests_total(self.m.requests, self.rsel, BURN_WINDOW_S))
        res = self.resolution()

        def chart() -> None:
            w = self.window
            total_r = by_time(self._range(data, q.requests_total(self.m.requests, self.rsel, res.rate_window_s,
                                                                  rate=True), self.chart_start, w.end, res.step_s))
            err_r = by_time(self._range(data, q.requests_5xx(self.m.requests, self.rsel, res.rate_window_s,
                                                              self.m.code_label, rate=True),
                                         self.chart_start, w.end, res.step_s))
            lim_r = by_time(self._range(data, q.requests_429(self.m.requests, self.rsel, res.rate_window_s,
                                                              self.m.code_label, rate=True),
                                         self.chart_start, w.end, res.step_s))
            data.series.append(Series("5xx ratio", "ratio", ratio_points(err_r, total_r)))
            data.series.append(Series("429 ratio (not errors)", "ratio", ratio_points(lim_r, total_r)))

        self._chart(data, chart)
        return data

    def throughput(self) -> SLIData:
        """All responses over the window divided by its length; the lowest 1-minute rate too."""
        data = SLIData()
        codes = self._by_code(data)
        if codes is None:
            return data
        w = self.window
        total = sum(codes.values())
        data.events = total
        if total <= 0:
            data.problem = Problem(sli.NO_EVENTS, "no requests in the window")
            return data
        data.value = total / w.seconds
        if w.seconds >= 60:
            try:
                per_minute = by_time(self._range(data, q.requests_total(self.m.requests, self.rsel, 60),
                                                  w.start + 60, w.end, 60))
                if per_minute:
                    data.detail["lowest_1m_rate"] = min(per_minute.values()) / 60.0
                    data.detail["minutes"] = len(per_minute)
            except QueryFailed as exc:
                data.detail["lowest_1m_error"] = str(exc)
        res = self.resolution()

        def chart() -> None:
            query = q.requests_total(self.m.requests, self.rsel, res.rate_window_s, rate=True)
            points = by_time(self._range(data, query, self.chart_start, w.end, res.step_s))
            data.series.append(Series("responses per second", "1/s", tuple(sorted(points.items()))))

        self._chart(data, chart)
        return data

    def cache(self) -> SLIData:
        """hits / (hits + misses); both counters must exist, or there is no data."""
        data = SLIData()
        w = self.window
        hits_name, misses_name = self.m.cache_hits, self.m.cache_misses
        if hits_name is None or misses_name is None:
            data.problem = Problem(sli.NO_SERIES, f"the {self.m.preset} metrics have no cache counters: map "
                                   "metrics.cache_hits and metrics.cache_misses in the spec to grade the cache")
            return data
        hits_s = self._instant(data, q.counter_increase(hits_name, self.sel, w.seconds))
        miss_s = self._instant(data, q.counter_increase(misses_name, self.sel, w.seconds))
        missing = [name for name, s in ((hits_name, hits_s), (misses_name, miss_s)) if not s]
        if missing:
            data.problem = Problem(sli.NO_SERIES, f"no {' or '.join(missing)} series match {self.sel.braces()}")
            return data
        hits, misses = sum_samples(hits_s), sum_samples(miss_s)
        data.events, data.bad = hits + misses, misses
        data.detail.update({"hits": hits, "misses": misses})
        if hits + misses <= 0:
            data.problem = Problem(sli.NO_EVENTS, "no cache lookups in the window")
            return data
        data.value = hits / (hits + misses)
        self._burn_range(data, q.counter_increase(misses_name, self.sel, BURN_WINDOW_S),
                         f"{q.counter_increase(hits_name, self.sel, BURN_WINDOW_S)} + "
                         f"{q.counter_increase(misses_name, self.sel, BURN_WINDOW_S)}")
        res = self.resolution()

        def chart() -> None:
            hits_r = by_time(self._range(data, q.counter_rate(hits_name, self.sel, res.rate_window_s),
                                          self.chart_start, w.end, res.step_s))
            miss_r = by_time(self._range(data, q.counter_rate(misses_name, self.sel, res.rate_window_s),
                                          self.chart_start, w.end, res.step_s))
            lookups = {t: hits_r.get(t, 0.0) + miss_r.get(t, 0.0) for t in set(hits_r) | set(miss_r)}
            data.series.append(Series("cache hit ratio", "ratio", ratio_points(hits_r, lookups)))

        self._chart(data, chart)
        return data

    def availability(self, slice_s: float, max_error_ratio: float) -> SLIData:
        """Good slices over all slices: a slice is good when ``up`` stayed 1 and its 5xx ratio was low."""
        queries: list[str] = []
        data = SLIData(queries=queries)
        width, ends = self._slices_or_problem(data, slice_s)
        if not ends:
            return data
        up = by_time(self._range(data, q.up_min(self.m.up, self.sel, width), ends[0], ends[-1], width))
        if not up:
            data.problem = Problem(sli.NO_SERIES, f"no {self.m.up} samples match {self.sel.braces()}")
            return data
        errors = by_time(self._range(data, q.requests_5xx(self.m.requests, self.rsel, width, self.m.code_label),
                                      ends[0], ends[-1], width))
        requests = by_time(self._range(data, q.requests_total(self.m.requests, self.rsel, width),
                                        ends[0], ends[-1], width))
        slices = sli.grade_slices(ends, up, errors, requests, max_error_ratio)
        data = sli.availability_sli(slices, width, max_error_ratio, self.window.seconds)
        data.queries = queries
        return data


def _pct(quantile: float) -> str:
    return f"{quantile * 100:g}"
