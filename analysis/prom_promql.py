"""The Prometheus source's objectives written in a user's PromQL (OpenSLO's and the ``promql_*`` kinds).

``PromQLSLIs`` adds to ``PromReader`` the five ``SLISource`` methods whose queries come from the
spec as templates (``q.render_template`` fills in the selector and the window): a good/total or
bad/total ratio, a single value, a ratio judged slice by slice, a value judged point by point
against a threshold, and those points judged slice by slice. ``PromSource`` inherits them.
"""

from __future__ import annotations

import math
import operator

from analysis import queries as q
from analysis import sli
from analysis.prom_reader import PromReader, by_time, ratio_points, sum_samples
from analysis.sli import BURN_WINDOW_S, Problem, Series, SLIData

__all__ = ["PromQLSLIs"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class PromQLSLIs(PromReader):
    """The SLIs whose queries a user wrote in PromQL, for one window and selector."""

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
        tot = sum_samples(tot_s)
        num = sum_samples(self._instant(data, q.render_template(numerator, self.sel, w.seconds)))
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
            num_r = by_time(self._range(data, q.render_template(numerator, self.sel, res.rate_window_s),
                                         self.chart_start, w.end, res.step_s))
            tot_r = by_time(self._range(data, q.render_template(total, self.sel, res.rate_window_s),
                                         self.chart_start, w.end, res.step_s))
            data.series.append(Series("good ratio" if good is not None else "bad ratio", "ratio",
                                      ratio_points(num_r, tot_r)))

        self._chart(data, chart)
        return data

    def promql_value(self, query: str, unit: str) -> SLIData:
        """A user's single-value query; it must return exactly one series."""
        data = SLIData()
        w = self.window
        samples = self._instant(data, q.render_template(query, self.sel, w.seconds))
        if not self._one_series(data, len(samples)):
            return data
        value = samples[0][1]
        if math.isnan(value):
            data.problem = Problem(sli.NOT_A_NUMBER, "the query returned NaN")
            return data
        data.value = value
        res = self.resolution()

        def chart() -> None:
            points = by_time(self._range(data, q.render_template(query, self.sel, res.rate_window_s),
                                          self.chart_start, w.end, res.step_s))
            data.series.append(Series("value", unit, tuple(sorted(points.items()))))

        self._chart(data, chart)
        return data

    def promql_slices(self, good: str | None, bad: str | None, total: str, slice_s: float,
                      slice_target: float | None) -> SLIData:
        """Slices of ``slice_s`` ending at whole slices from the window's start; see ``SLISource``."""
        queries: list[str] = []
        data = SLIData(queries=queries)
        width, ends = self._slices_or_problem(data, slice_s)
        if not ends:
            return data
        numerator = good if good is not None else bad
        assert numerator is not None
        num = by_time(self._range(data, q.render_template(numerator, self.sel, width), ends[0], ends[-1], width))
        tot = by_time(self._range(data, q.render_template(total, self.sel, width), ends[0], ends[-1], width))
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
        _grade_slices(data, ratios, slice_target)
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
        if not self._one_series(data, len(series)):
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

    def promql_threshold_slices(self, query: str, op: str, value: float, slice_s: float,
                                slice_target: float | None) -> SLIData:
        """The query's points, one a scrape interval, judged slice by slice; see ``SLISource``."""
        data = SLIData()
        width, ends = self._slices_or_problem(data, slice_s)
        if not ends:
            return data
        step = min(self.resolution().scrape_s, width)
        start = self.window.start
        series = self._range(data, q.render_template(query, self.sel, step), start + step, ends[-1], step)
        if not self._one_series(data, len(series)):
            return data
        points = [(t, v) for t, v in series[0][1] if not math.isnan(v)]
        # A point at t belongs to the slice (end - width, end] that holds it.
        judged: dict[int, list[bool]] = {}
        for t, v in points:
            judged.setdefault(math.ceil((t - start) / width - 1e-9) - 1, []).append(_OPS[op](v, value))
        shares = [(ends[i], sum(ok) / len(ok)) for i, ok in sorted(judged.items()) if 0 <= i < len(ends)]
        data.detail.update({"slice_seconds": width, "slices": len(ends), "slices_with_points": len(shares),
                            "step_seconds": step, "point_condition": f"{op} {value:g}", "point_op": op,
                            "point_value": value,
                            "budgeting": "Timeslices" if slice_target is not None else "RatioTimeslices"})
        if not shares:
            data.problem = Problem(sli.NO_EVENTS, f"the query returned no number in any of the {len(ends)} slices "
                                                  f"of {width}s")
            return data
        _grade_slices(data, shares, slice_target)
        data.series.append(Series("value", "", tuple(points)))
        return data


def _grade_slices(data: SLIData, shares: list[tuple[float, float]], slice_target: float | None) -> None:
    """Grade slices by their good shares: Timeslices (``slice_target``) counts the slices that reach
    it; RatioTimeslices (None) is the mean of the shares. ``shares`` is never empty."""
    data.events = float(len(shares))
    if slice_target is not None:
        bad = [t for t, s in shares if s < slice_target and not math.isclose(s, slice_target, rel_tol=1e-9)]
        data.bad = float(len(bad))
        data.value = 1.0 - len(bad) / len(shares)
        data.detail.update({"slice_target": slice_target, "bad_slices": len(bad)})
    else:
        data.value = sum(s for _, s in shares) / len(shares)
        data.bad = (1.0 - data.value) * len(shares)
