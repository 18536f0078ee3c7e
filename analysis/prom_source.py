"""The Prometheus source: each SLI's counts and chart series for one window (``SLISource``).

This is the I/O half of the server-side analysis: it runs the PromQL that ``queries`` builds
and hands the plain numbers to ``sli`` for the maths. Grading values come from instant queries
at the window's end over the whole window; chart series come from range queries at a step
chosen so each series stays under Prometheus's point limit (``prom.Prometheus.range`` chunks
otherwise).

Every query run is recorded on the returned ``SLIData`` so reports can show them.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from analysis import queries as q
from analysis import sli
from analysis.prom import Prometheus, RangeSeries, Sample, safe_url
from analysis.queries import Metrics, Selector
from analysis.sli import BURN_WINDOW_S, Problem, Series, SLIData, Window
from analysis.source import LATENCY_CAPTION, LATENCY_TITLE, OVERVIEW_QUANTILES, Chart, QueryFailed, SourceError

__all__ = ["Resolution", "PromSource"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
#: Scrape interval assumed when it cannot be inferred from ``up``.
DEFAULT_SCRAPE_S = 15
#: Chart series aim for about this many points.
TARGET_POINTS = 600


@dataclass(frozen=True)
class Resolution:
    """Steps used for the range queries: inferred scrape interval, chart step and rate window."""

    scrape_s: int
    step_s: int
    rate_window_s: int
    scrape_inferred: bool


def _total(samples: list[Sample]) -> float:
    return sum(v for _, v in samples if not math.isnan(v))


def _by_time(series: list[RangeSeries]) -> dict[float, float]:
    out: dict[float, float] = {}
    for _, points in series:
        for t, v in points:
            if not math.isnan(v):
                out[t] = out.get(t, 0.0) + v
    return out


def _ratio_points(num: dict[float, float], den: dict[float, float]) -> tuple[tuple[float, float], ...]:
    """num/den at each time den has events; a missing numerator is zero."""
    return tuple((t, num.get(t, 0.0) / d) for t, d in sorted(den.items()) if d > 0)


class PromSource:
    """Runs the SLI queries for one window, a selector and a set of metric names.

    Identical queries are run once per source (throughput reuses the error rate's totals).
    Grading uses the window; chart series start at ``chart_start`` (default: the window's start).
    """

    name = "prometheus"
    title = "Prometheus"

    def __init__(self, prom: Prometheus, metrics: Metrics, selector: Selector, window: Window,
                 step_s: int | None = None, chart_start: float | None = None):
        self.prom = prom
        # Charts may begin before the graded window (a run's ramp-up, shaded in the report).
        self.chart_start = window.start if chart_start is None else min(chart_start, window.start)
        self.m = metrics
        self.sel = selector
        self.window = window
        self._step_s = step_s
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._resolution: Resolution | None = None

    # -- plumbing ------------------------------------------------------------------------
    def open(self) -> None:
        """Infer the resolution; raises ``PromUnreachable`` when Prometheus cannot be reached."""
        try:
            self.resolution()
        except QueryFailed:
            pass

    def info(self, error: str | None = None) -> dict[str, Any]:
        """Where Prometheus is, how it was read, and how many queries it answered."""
        out: dict[str, Any] = {"prometheus": safe_url(self.prom.config.url), "auth": self.prom.config.auth_kind}
        if self._resolution is not None:
            out.update(dataclasses.asdict(self._resolution))
        if error is not None:
            out["error"] = error
        out["queries_run"] = self.prom.queries_run
        return out

    def _instant(self, data: SLIData, query: str) -> list[Sample]:
        data.queries.append(query)
        key = ("instant", query)
        if key not in self._memo:
            self._memo[key] = self.prom.instant(query, self.window.end)
        result: list[Sample] = self._memo[key]
        return result

    def _range(self, data: SLIData, query: str, start: float, end: float, step: int) -> list[RangeSeries]:
        data.queries.append(query)
        key = ("range", query, start, end, step)
        if key not in self._memo:
            self._memo[key] = self.prom.range(query, start, end, step)
        result: list[RangeSeries] = self._memo[key]
        return result

    def resolution(self) -> Resolution:
        """Infer the scrape interval from ``up`` and choose the chart step and rate window.

        The rate window follows Grafana's ``$__rate_interval``: max(step + scrape, 4 × scrape),
        so every rate sees several samples.
        """
        if self._resolution is None:
            w = self.window.seconds
            scrape, inferred = DEFAULT_SCRAPE_S, False
            samples = self.prom.instant(q.up_samples(self.m.up, self.sel, w), self.window.end)
            most = max((v for _, v in samples if not math.isnan(v)), default=0.0)
            if most >= 2:
                scrape, inferred = max(1, int(round(w / most))), True
            step = self._step_s or max(scrape, math.ceil(w / TARGET_POINTS))
            self._resolution = Resolution(scrape, int(step), max(int(step) + scrape, 4 * scrape), inferred)
        return self._resolution

    def _chart(self, data: SLIData, build: Callable[[], None]) -> None:
        """Add chart series; a failed range query costs the chart, never the grade."""
        try:
            build()
        except QueryFailed as exc:
            data.detail["chart_error"] = str(exc)

    def _slices(self, slice_s: float) -> tuple[int, list[float]]:
        """The slice width in whole seconds and the end of every whole slice from the window's start
        (none when the window is shorter than one slice)."""
        width = max(1, int(round(slice_s)))
        return width, [self.window.start + (i + 1) * width for i in range(int(self.window.seconds // width))]

    def _burn_range(self, data: SLIData, bad_query: str, total_query: str) -> None:
        """Worst bad ratio over every ``BURN_WINDOW_S`` window inside the graded window."""
        w = self.window

        def windows() -> list[tuple[float, float]]:
            step = max(self.resolution().scrape_s, math.ceil(w.seconds / 1000))
            bad = _by_time(self._range(data, bad_query, w.start + BURN_WINDOW_S, w.end, step))
            total = _by_time(self._range(data, total_query, w.start + BURN_WINDOW_S, w.end, step))
            return [(bad.get(t, 0.0), n) for t, n in sorted(total.items())]

        try:
            sli.record_burn(data, w.seconds, windows)
        except QueryFailed as exc:
            data.detail["burn_error"] = str(exc)

    # -- the SLIs ------------------------------------------------------------------------
    def latency(self, quantile: float, threshold_s: float) -> SLIData:
        """The merged histogram over the window, its quantile estimate and the chart series."""
        queries: list[str] = []
        w = self.window
        samples = self._instant(SLIData(queries=queries),
                                q.latency_buckets(self.m.duration, self.sel, w.seconds))
        if not samples:
            return SLIData(queries=queries, problem=Problem(
                sli.NO_SERIES, f"no {self.m.duration}_bucket series match {self.sel.braces()}"))
        spellings: dict[float, set[str]] = {}
        pairs = []
        for labels, value in samples:
            le = labels.get("le")
            try:
                bound = float(le)  # type: ignore[arg-type]
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
                f"({q.latency_count(self.m.duration, self.sel, BURN_WINDOW_S)}) - "
                f"({q.counter_increase(f'{self.m.duration}_bucket', self.sel, BURN_WINDOW_S, at_threshold)})",
                q.latency_count(self.m.duration, self.sel, BURN_WINDOW_S),
            )
        res = self.resolution()

        def chart() -> None:
            query = q.latency_quantile(self.m.duration, self.sel, res.rate_window_s, quantile)
            points = _by_time(self._range(data, query, self.chart_start, w.end, res.step_s))
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
                    query = q.latency_quantile(self.m.duration, self.sel, res.rate_window_s, q_)
                    points = _by_time(self._range(data, query, self.chart_start, self.window.end, res.step_s))
                    data.series.append(Series(f"server p{_pct(q_)}", "s", tuple(sorted(points.items()))))

            self._chart(data, chart)
        except SourceError:
            return []
        return [Chart("latency", LATENCY_TITLE, "s", tuple(data.series), LATENCY_CAPTION)]

    def _by_code(self, data: SLIData) -> dict[str, float] | None:
        samples = self._instant(data, q.requests_by_code(self.m.requests, self.sel, self.window.seconds,
                                                         self.m.code_label))
        if not samples:
            data.problem = Problem(sli.NO_SERIES, f"no {self.m.requests} series match {self.sel.braces()}")
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
        self._burn_range(data, q.requests_5xx(self.m.requests, self.sel, BURN_WINDOW_S, self.m.code_label),
                         q.requests_total(self.m.requests, self.sel, BURN_WINDOW_S))
        res = self.resolution()

        def chart() -> None:
            w = self.window
            total_r = _by_time(self._range(data, q.requests_total(self.m.requests, self.sel, res.rate_window_s,
                                                                  rate=True), self.chart_start, w.end, res.step_s))
            err_r = _by_time(self._range(data, q.requests_5xx(self.m.requests, self.sel, res.rate_window_s,
                                                              self.m.code_label, rate=True),
                                         self.chart_start, w.end, res.step_s))
            lim_r = _by_time(self._range(data, q.requests_429(self.m.requests, self.sel, res.rate_window_s,
                                                              self.m.code_label, rate=True),
                                         self.chart_start, w.end, res.step_s))
            data.series.append(Series("5xx ratio", "ratio", _ratio_points(err_r, total_r)))
            data.series.append(Series("429 ratio (not errors)", "ratio", _ratio_points(lim_r, total_r)))

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
                per_minute = _by_time(self._range(data, q.requests_total(self.m.requests, self.sel, 60),
                                                  w.start + 60, w.end, 60))
                if per_minute:
                    data.detail["lowest_1m_rate"] = min(per_minute.values()) / 60.0
                    data.detail["minutes"] = len(per_minute)
            except QueryFailed as exc:
                data.detail["lowest_1m_error"] = str(exc)
        res = self.resolution()

        def chart() -> None:
            query = q.requests_total(self.m.requests, self.sel, res.rate_window_s, rate=True)
            points = _by_time(self._range(data, query, self.chart_start, w.end, res.step_s))
            data.series.append(Series("responses per second", "1/s", tuple(sorted(points.items()))))

        self._chart(data, chart)
        return data

    def cache(self) -> SLIData:
        """hits / (hits + misses); both counters must exist, or there is no data."""
        data = SLIData()
        w = self.window
        hits_s = self._instant(data, q.counter_increase(self.m.cache_hits, self.sel, w.seconds))
        miss_s = self._instant(data, q.counter_increase(self.m.cache_misses, self.sel, w.seconds))
        missing = [name for name, s in ((self.m.cache_hits, hits_s), (self.m.cache_misses, miss_s)) if not s]
        if missing:
            data.problem = Problem(sli.NO_SERIES, f"no {' or '.join(missing)} series match {self.sel.braces()}")
            return data
        hits, misses = _total(hits_s), _total(miss_s)
        data.events, data.bad = hits + misses, misses
        data.detail.update({"hits": hits, "misses": misses})
        if hits + misses <= 0:
            data.problem = Problem(sli.NO_EVENTS, "no cache lookups in the window")
            return data
        data.value = hits / (hits + misses)
        self._burn_range(data, q.counter_increase(self.m.cache_misses, self.sel, BURN_WINDOW_S),
                         f"{q.counter_increase(self.m.cache_hits, self.sel, BURN_WINDOW_S)} + "
                         f"{q.counter_increase(self.m.cache_misses, self.sel, BURN_WINDOW_S)}")
        res = self.resolution()

        def chart() -> None:
            hits_r = _by_time(self._range(data, q.counter_rate(self.m.cache_hits, self.sel, res.rate_window_s),
                                          self.chart_start, w.end, res.step_s))
            miss_r = _by_time(self._range(data, q.counter_rate(self.m.cache_misses, self.sel, res.rate_window_s),
                                          self.chart_start, w.end, res.step_s))
            lookups = {t: hits_r.get(t, 0.0) + miss_r.get(t, 0.0) for t in set(hits_r) | set(miss_r)}
            data.series.append(Series("cache hit ratio", "ratio", _ratio_points(hits_r, lookups)))

        self._chart(data, chart)
        return data

    def availability(self, slice_s: float, max_error_ratio: float) -> SLIData:
        """Good slices over all slices: a slice is good when ``up`` stayed 1 and its 5xx ratio was low."""
        queries: list[str] = []
        data = SLIData(queries=queries)
        width, ends = self._slices(slice_s)
        if not ends:
            data.problem = Problem(sli.SHORT_WINDOW,
                                   f"the window ({self.window.seconds:g}s) is shorter than one {width}s slice")
            return data
        up = _by_time(self._range(data, q.up_min(self.m.up, self.sel, width), ends[0], ends[-1], width))
        if not up:
            data.problem = Problem(sli.NO_SERIES, f"no {self.m.up} samples match {self.sel.braces()}")
            return data
        errors = _by_time(self._range(data, q.requests_5xx(self.m.requests, self.sel, width, self.m.code_label),
                                      ends[0], ends[-1], width))
        requests = _by_time(self._range(data, q.requests_total(self.m.requests, self.sel, width),
                                        ends[0], ends[-1], width))
        slices = sli.grade_slices(ends, up, errors, requests, max_error_ratio)
        data = sli.availability_sli(slices, width, max_error_ratio, self.window.seconds)
        data.queries = queries
        return data

    def promql_ratio(self, good: str | None, bad: str | None, total: str) -> SLIData:
        """A user's good/total or bad/total ratio; ``value`` is the ratio of the query given."""
        data = SLIData()
        w = self.window
        numerator = good if good is not None else bad
        assert numerator is not None
        tot_s = self._instant(data, q.render_template(total, self.sel, w.seconds))
        if not tot_s:
            data.problem = Problem(sli.NO_SERIES, "the total query returned no data")
            return data
        tot = _total(tot_s)
        num = _total(self._instant(data, q.render_template(numerator, self.sel, w.seconds)))
        data.events = tot
        if tot <= 0:
            data.problem = Problem(sli.NO_EVENTS, "the total query counted no events")
            return data
        data.value = num / tot
        data.bad = (tot - num) if good is not None else num
        bad_5m = (f"({q.render_template(total, self.sel, BURN_WINDOW_S)}) - "
                  f"({q.render_template(good, self.sel, BURN_WINDOW_S)})") if good is not None else \
            q.render_template(numerator, self.sel, BURN_WINDOW_S)
        self._burn_range(data, bad_5m, q.render_template(total, self.sel, BURN_WINDOW_S))
        res = self.resolution()

        def chart() -> None:
            num_r = _by_time(self._range(data, q.render_template(numerator, self.sel, res.rate_window_s),
                                         self.chart_start, w.end, res.step_s))
            tot_r = _by_time(self._range(data, q.render_template(total, self.sel, res.rate_window_s),
                                         self.chart_start, w.end, res.step_s))
            data.series.append(Series("good ratio" if good is not None else "bad ratio", "ratio",
                                      _ratio_points(num_r, tot_r)))

        self._chart(data, chart)
        return data

    def promql_value(self, query: str, unit: str) -> SLIData:
        """A user's single-value query; it must return exactly one series."""
        data = SLIData()
        w = self.window
        samples = self._instant(data, q.render_template(query, self.sel, w.seconds))
        if not samples:
            data.problem = Problem(sli.NO_SERIES, "the query returned no data")
            return data
        if len(samples) > 1:
            data.problem = Problem(sli.NOT_ONE_SERIES, f"the query returned {len(samples)} series; "
                                   "aggregate it to one (sum, max, ...)", "inconclusive")
            return data
        value = samples[0][1]
        if math.isnan(value):
            data.problem = Problem(sli.NOT_A_NUMBER, "the query returned NaN")
            return data
        data.value = value
        res = self.resolution()

        def chart() -> None:
            points = _by_time(self._range(data, q.render_template(query, self.sel, res.rate_window_s),
                                          self.chart_start, w.end, res.step_s))
            data.series.append(Series("value", unit, tuple(sorted(points.items()))))

        self._chart(data, chart)
        return data

    def promql_slices(self, good: str | None, bad: str | None, total: str, slice_s: float,
                      slice_target: float | None) -> SLIData:
        """Slices of ``slice_s`` ending at whole slices from the window's start; see ``SLISource``."""
        queries: list[str] = []
        data = SLIData(queries=queries)
        width, ends = self._slices(slice_s)
        if not ends:
            data.problem = Problem(sli.SHORT_WINDOW,
                                   f"the window ({self.window.seconds:g}s) is shorter than one {width}s slice")
            return data
        numerator = good if good is not None else bad
        assert numerator is not None
        num = _by_time(self._range(data, q.render_template(numerator, self.sel, width), ends[0], ends[-1], width))
        tot = _by_time(self._range(data, q.render_template(total, self.sel, width), ends[0], ends[-1], width))
        ratios: list[tuple[float, float]] = []
        for end in ends:
            n_total = tot.get(end, 0.0)
            if n_total > 0:
                share = num.get(end, 0.0) / n_total
                ratios.append((end, share if good is not None else 1.0 - share))
        data.detail.update({"slice_seconds": width, "slices": len(ends), "slices_with_events": len(ratios),
                            "budgeting": "Timeslices" if slice_target is not None else "RatioTimeslices"})
        if not ratios:
            data.problem = Problem(sli.NO_EVENTS, f"none of the {len(ends)} slices of {width}s counted any events")
            return data
        data.events = float(len(ratios))
        if slice_target is not None:
            bad_slices = [t for t, r in ratios if r < slice_target and not math.isclose(r, slice_target, rel_tol=1e-9)]
            data.bad = float(len(bad_slices))
            data.value = 1.0 - len(bad_slices) / len(ratios)
            data.detail.update({"slice_target": slice_target, "bad_slices": len(bad_slices)})
        else:
            data.value = sum(r for _, r in ratios) / len(ratios)
            data.bad = (1.0 - data.value) * len(ratios)
        data.series.append(Series("slice good ratio", "ratio", tuple(ratios)))
        return data

    def promql_threshold(self, query: str, op: str, value: float, step_s: float | None) -> SLIData:
        """Points of the query from the window's start, one a step; see ``SLISource``."""
        data = SLIData()
        w = self.window
        step = max(1, int(round(step_s))) if step_s else self.resolution().scrape_s
        if w.seconds < step:
            data.problem = Problem(sli.SHORT_WINDOW, f"the window ({w.seconds:g}s) is shorter than one {step}s step")
            return data
        series = self._range(data, q.render_template(query, self.sel, step), w.start + step, w.end, step)
        if not series:
            data.problem = Problem(sli.NO_SERIES, "the query returned no data")
            return data
        if len(series) > 1:
            data.problem = Problem(sli.NOT_ONE_SERIES, f"the query returned {len(series)} series; aggregate it to "
                                   "one (sum, max, ...)", "inconclusive")
            return data
        points = [(t, v) for t, v in series[0][1] if not math.isnan(v)]
        if not points:
            data.problem = Problem(sli.NO_EVENTS, "the query returned only NaN")
            return data
        bad = [t for t, v in points if not _OPS[op](v, value)]
        data.events, data.bad = float(len(points)), float(len(bad))
        data.value = 1.0 - len(bad) / len(points)
        data.detail.update({"points": len(points), "bad_points": len(bad), "step_seconds": step,
                            "point_condition": f"{op} {value:g}", "point_op": op, "point_value": value})
        data.series.append(Series("value", "", tuple(points)))
        return data


def _pct(quantile: float) -> str:
    return f"{quantile * 100:g}"
