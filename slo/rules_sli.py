"""The PromQL of an objective's burn ratio over a window, for ``slo.rules``. Pure.

``ratio`` is the bad share of events over a window (latency as "requests slower than T", 5xx,
cache misses, a ``promql_ratio``); objectives budgeted in slices or points (``sliced``) burn by
their share of bad slices instead, recorded by ``slice_record``/``slice_bad``. ``total_series``
is what the absent alert watches.
"""

from __future__ import annotations

import contract
from analysis import queries as q
from analysis.queries import Matcher, Metrics, Selector
from slo import model
from slo.model import Objective
from slo.units import format_prom_duration as prom_duration

__all__ = ["SLICE_PREFIX", "number", "ratio", "sliced", "slice_record", "slice_bad", "total_series", "total_rate"]


def number(value: float) -> str:
    """A float as the rules and their tests write it: at most 10 significant digits (``0.0144``, ``14.4``)."""
    return f"{value:.10g}"


def _le_matcher(bound: float) -> Matcher:
    """The bucket at ``bound`` however a client library spells it (``1.0`` in Python, ``1`` in Go)."""
    spellings = sorted({contract.format_le(bound), f"{bound:g}"})
    return Matcher("le", "=", spellings[0]) if len(spellings) == 1 else Matcher("le", "=~", "|".join(spellings))


def ratio(objective: Objective, metrics: Metrics, sel: Selector, window_s: int) -> str | None:
    """The bad share of events over the window, as PromQL; None for kinds with no event ratio.
    A window without events has no ratio (its total is filtered with ``> 0``), never NaN. An
    objective's ``group_by`` gives one ratio per group (``sum by (route)``)."""
    kind = objective.kind
    by = objective.group_by
    rsel = metrics.request_selector(sel)  # the preset's own matchers, on its request series only
    if kind in (model.ERROR_RATE, model.AVAILABILITY):
        bad = q.counter_increase(metrics.requests, rsel, window_s, Matcher(metrics.code_label, "=~", "5.."), by=by)
        return f"({bad}) / ({q.counter_increase(metrics.requests, rsel, window_s, by=by)} > 0)"
    if kind == model.LATENCY:
        total = q.counter_increase(f"{metrics.duration}_count", rsel, window_s, by=by)
        within = q.counter_increase(f"{metrics.duration}_bucket", rsel, window_s,
                                    _le_matcher(metrics.le_bound(objective.target.value)), by=by)
        return f"(({total}) - ({within})) / ({total} > 0)"
    if kind == model.CACHE_HIT_RATE:
        if metrics.cache_hits is None or metrics.cache_misses is None:
            return None  # the preset has no cache counters: nothing to burn (_skip_reason says so)
        misses = q.counter_increase(metrics.cache_misses, sel, window_s, by=by)
        hits = q.counter_increase(metrics.cache_hits, sel, window_s, by=by)
        return f"({misses}) / ((({hits}) + ({misses})) > 0)"
    if kind == model.PROMQL_RATIO:
        assert objective.total is not None
        total = f"(({q.render_template(objective.total, sel, window_s)}) > 0)"
        if objective.good is not None:
            # No good series at all (every request failed) is a bad ratio of 1, not no data.
            return f"1 - (({q.render_template(objective.good, sel, window_s)}) or vector(0)) / {total}"
        assert objective.bad is not None
        return f"(({q.render_template(objective.bad, sel, window_s)}) or vector(0)) / {total}"
    return None


SLICE_PREFIX = "slo:slice_bad:"


def sliced(objective: Objective) -> bool:
    """Whether the objective's budget counts time slices or points (availability, OpenSLO
    Timeslices and RatioTimeslices, every thresholdMetric): its burn rate is then the share of bad
    slices (or points), never of bad events."""
    return objective.kind in (model.AVAILABILITY, model.PROMQL_THRESHOLD) or (
        objective.kind == model.PROMQL_RATIO and objective.budgeting != model.OCCURRENCES)


#: A point that misses ``value <op> threshold``: the opposite comparison.
_MISSES = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def slice_record(objective: Objective) -> str:
    """The recorded series of an objective's slice (or point) state: ``slo:slice_bad:1m``, or
    ``slo:point_bad`` for a thresholdMetric judged point by point."""
    if objective.kind == model.PROMQL_THRESHOLD and objective.budgeting == model.OCCURRENCES:
        return "slo:point_bad"
    return f"{SLICE_PREFIX}{prom_duration(int(round(objective.slice_seconds or 60)))}"


def slice_bad(objective: Objective, metrics: Metrics, sel: Selector, slice_s: int) -> str:
    """PromQL for "the slice ending now is bad": 1 or 0 (the bad share of the slice for RatioTimeslices;
    for a thresholdMetric, whether the query's value now misses its comparison)."""
    if objective.kind == model.PROMQL_THRESHOLD:
        assert objective.query is not None and objective.point_op is not None and objective.point_value is not None
        query = q.render_template(objective.query, sel, slice_s)
        misses = f"max(({query}) {_MISSES[objective.point_op]} bool {number(objective.point_value)})"
        if objective.budgeting == model.RATIO_TIMESLICES or objective.slice_target is not None:
            # Graded by the share of the slice's points that meet the comparison: the bad share over
            # the slice (RatioTimeslices), or whether it exceeds what the slice target allows.
            avg = f"avg_over_time(({misses})[{q.duration(slice_s)}:])"
            return avg if objective.slice_target is None else \
                f"{avg} > bool {number(round(1.0 - objective.slice_target, 12))}"
        return misses
    share = ratio(objective, metrics, sel, slice_s)
    if objective.kind == model.AVAILABILITY:
        assert objective.slice_max_error_ratio is not None
        down = f"min(min_over_time({metrics.up}{sel.braces()}[{q.duration(slice_s)}])) < bool 1"
        # Bad when either part is: the larger of the two, and no sample at all when neither has data.
        return (f'max(label_replace(({share}) > bool {number(objective.slice_max_error_ratio)}, "part", "5xx", "", "") '
                f'or label_replace({down}, "part", "up", "", ""))')
    if objective.budgeting == model.TIMESLICES:
        assert objective.slice_target is not None
        return f"({share}) > bool {number(round(1.0 - objective.slice_target, 12))}"
    return f"{share}"




def total_series(objective: Objective, metrics: Metrics, sel: Selector) -> str | None:
    """The raw total series of a native kind, which the absent alert wraps in ``absent()``; None for
    a user's PromQL, whose total may never be empty (``or vector(0)``): its alert watches its records."""
    kind = objective.kind
    rsel = metrics.request_selector(sel)
    if kind in (model.ERROR_RATE, model.AVAILABILITY):
        return f"{metrics.requests}{rsel.braces()}"
    if kind == model.LATENCY:
        return f"{metrics.duration}_count{rsel.braces()}"
    if kind == model.CACHE_HIT_RATE and metrics.cache_hits is not None and metrics.cache_misses is not None:
        return f"{metrics.cache_hits}{sel.braces()} or {metrics.cache_misses}{sel.braces()}"
    return None


def total_rate(objective: Objective, metrics: Metrics, sel: Selector, window_s: int) -> str | None:
    """The total events per second over the window (per ``group_by`` group), for the traffic floor:
    the raw counters' rate for a native kind, a user's total over the window divided by its length."""
    kind = objective.kind
    by = objective.group_by
    rsel = metrics.request_selector(sel)
    if kind in (model.ERROR_RATE, model.AVAILABILITY):
        return q.counter_rate(metrics.requests, rsel, window_s, by=by)
    if kind == model.LATENCY:
        return q.counter_rate(f"{metrics.duration}_count", rsel, window_s, by=by)
    if kind == model.CACHE_HIT_RATE and metrics.cache_hits is not None and metrics.cache_misses is not None:
        return (f"({q.counter_rate(metrics.cache_hits, sel, window_s, by=by)}) + "
                f"({q.counter_rate(metrics.cache_misses, sel, window_s, by=by)})")
    if kind == model.PROMQL_RATIO and objective.total is not None:
        return f"({q.render_template(objective.total, sel, window_s)}) / {int(window_s)}"
    return None
