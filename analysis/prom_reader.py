"""Reading Prometheus for one graded window: the plumbing under ``PromSource``.

``PromReader`` holds the client, the metric names, the selector and the window; it runs each
distinct query once (memoised per source), records every query on the ``SLIData`` it serves,
infers the scrape interval from ``up`` to choose the chart step and rate window, and finds the
worst 5-minute burn inside the window. Failed chart or burn queries cost the chart or the burn
figure, never the grade. The SLIs themselves live in ``prom_source`` (the metric contract's
kinds) and ``prom_promql`` (a user's PromQL).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from analysis import queries as q
from analysis import sli
from analysis.prom import Prometheus, RangeSeries, Sample, safe_url
from analysis.queries import Metrics, Selector
from analysis.sli import BURN_WINDOW_S, Problem, SLIData, Window
from analysis.source import QueryFailed

__all__ = ["DEFAULT_SCRAPE_S", "TARGET_POINTS", "Resolution", "PromReader", "sum_samples", "by_time", "ratio_points"]

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


def sum_samples(samples: list[Sample]) -> float:
    """The sum of an instant vector's values, NaN left out."""
    return sum(v for _, v in samples if not math.isnan(v))


def by_time(series: list[RangeSeries]) -> dict[float, float]:
    """Range series summed at each timestamp (seconds), NaN left out."""
    out: dict[float, float] = {}
    for _, points in series:
        for t, v in points:
            if not math.isnan(v):
                out[t] = out.get(t, 0.0) + v
    return out


def ratio_points(num: dict[float, float], den: dict[float, float]) -> tuple[tuple[float, float], ...]:
    """num/den at each time den has events; a missing numerator is zero."""
    return tuple((t, num.get(t, 0.0) / d) for t, d in sorted(den.items()) if d > 0)


class PromReader:
    """Runs queries for one window, a selector and a set of metric names; each distinct query once.

    Grading uses the window; chart series start at ``chart_start`` (default: the window's start).
    """

    def __init__(self, prom: Prometheus, metrics: Metrics, selector: Selector, window: Window,
                 step_s: int | None = None, chart_start: float | None = None):
        self.prom = prom
        # Charts may begin before the graded window (a run's ramp-up, shaded in the report).
        self.chart_start = window.start if chart_start is None else min(chart_start, window.start)
        self.m = metrics
        self.sel = selector
        #: For the request and latency series: the preset's own matchers too (Istio's reporter).
        self.rsel = metrics.request_selector(selector)
        self.window = window
        self._step_s = step_s
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._resolution: Resolution | None = None

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

    def _slices_or_problem(self, data: SLIData, slice_s: float) -> tuple[int, list[float]]:
        """``_slices``; when the window holds none, ``data`` gets the ``SHORT_WINDOW`` problem."""
        width, ends = self._slices(slice_s)
        if not ends:
            data.problem = Problem(sli.SHORT_WINDOW,
                                   f"the window ({self.window.seconds:g}s) is shorter than one {width}s slice")
        return width, ends

    @staticmethod
    def _one_series(data: SLIData, found: int) -> bool:
        """Whether a user's query returned exactly one series; else ``data`` says why it cannot be graded."""
        if not found:
            data.problem = Problem(sli.NO_SERIES, "the query returned no data")
        elif found > 1:
            data.problem = Problem(sli.NOT_ONE_SERIES, f"the query returned {found} series; aggregate it to one "
                                   "(sum, max, ...)", "inconclusive")
        return found == 1

    def _burn_range(self, data: SLIData, bad_query: str, total_query: str) -> None:
        """Worst bad ratio over every ``BURN_WINDOW_S`` window inside the graded window."""
        w = self.window

        def windows() -> list[tuple[float, float]]:
            step = max(self.resolution().scrape_s, math.ceil(w.seconds / 1000))
            bad = by_time(self._range(data, bad_query, w.start + BURN_WINDOW_S, w.end, step))
            total = by_time(self._range(data, total_query, w.start + BURN_WINDOW_S, w.end, step))
            return [(bad.get(t, 0.0), n) for t, n in sorted(total.items())]

        try:
            sli.record_burn(data, w.seconds, windows)
        except QueryFailed as exc:
            data.detail["burn_error"] = str(exc)
