"""Prometheus recording and burn-rate alerting rules from a spec. Pure.

For every objective whose SLI is a ratio of events (latency as "requests slower than T",
error rate, cache misses, availability as the 5xx ratio, a ``promql_ratio``):

* recording rules ``slo:sli_error:ratio_rate<W>{slo="<id>"}``: the bad share of events over each
  window W the alerts need;
* one alert ``ErrorBudgetBurn{slo, severity="page"}`` firing when the budget burns 14.4x over 1h
  and 5m, or 6x over 6h and 30m; one ``severity="ticket"`` at 3x over 1d and 2h, or 1x over 3d and
  6h (the Google SRE workbook's multi-window, multi-burn-rate alerts; each severity's two
  conditions joined with ``or``, so no two alerts share their labels).

The windows are the workbook's for a 30-day period, scaled by period/30d as pyrra scales them,
never below ``min_window_s``. Labels: ``slo``, ``severity`` and the selector's equality matchers.
Objectives with no event ratio (throughput, a single value, a per-point threshold) get no rules,
and ``build_rules`` says why for each. The ``promtool test rules`` tests for these rules are
written by ``slo.rule_tests``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

import contract
from analysis import queries as q
from analysis.queries import Matcher, Metrics, Selector
from slo import model
from slo.model import Objective, Spec
from slo.units import OP_SYMBOLS, format_value
from slo.units import format_prom_duration as prom_duration

__all__ = ["impossible", "never_fire", "sliced", "number", "dump_yaml",
           "PERIOD_S", "BurnWindow", "burn_windows", "prom_duration", "Rules", "build_rules", "render_rules",
           "ALERT_NAME", "RECORD_PREFIX"]

PERIOD_S = 30 * 86400.0
ALERT_NAME = "ErrorBudgetBurn"
RECORD_PREFIX = "slo:sli_error:ratio_rate"
#: (severity, burn factor, long window, short window) for a 30-day period.
_WORKBOOK = (("page", 14.4, 3600, 300), ("page", 6.0, 21600, 1800),
             ("ticket", 3.0, 86400, 7200), ("ticket", 1.0, 259200, 21600))


@dataclass(frozen=True)
class BurnWindow:
    """One alert condition: the bad ratio above ``factor`` x budget over both windows (seconds)."""

    severity: str
    factor: float
    long_s: int
    short_s: int


def burn_windows(period_s: float = PERIOD_S, min_window_s: int = 1) -> tuple[BurnWindow, ...]:
    """The workbook's conditions with windows scaled by ``period_s``/30d, whole seconds, at least ``min_window_s``."""
    scale = period_s / PERIOD_S
    return tuple(BurnWindow(sev, factor, max(min_window_s, int(round(long * scale))),
                            max(min_window_s, int(round(short * scale)))) for sev, factor, long, short in _WORKBOOK)


def _le_matcher(bound: float) -> Matcher:
    """The bucket at ``bound`` however a client library spells it (``1.0`` in Python, ``1`` in Go)."""
    spellings = sorted({contract.format_le(bound), f"{bound:g}"})
    return Matcher("le", "=", spellings[0]) if len(spellings) == 1 else Matcher("le", "=~", "|".join(spellings))


def _ratio(objective: Objective, metrics: Metrics, sel: Selector, window_s: int) -> str | None:
    """The bad share of events over the window, as PromQL; None for kinds with no event ratio.
    A window without events has no ratio (its total is filtered with ``> 0``), never NaN."""
    kind = objective.kind
    rsel = metrics.request_selector(sel)  # the preset's own matchers, on its request series only
    if kind in (model.ERROR_RATE, model.AVAILABILITY):
        bad = q.requests_5xx(metrics.requests, rsel, window_s, metrics.code_label)
        return f"({bad}) / ({q.requests_total(metrics.requests, rsel, window_s)} > 0)"
    if kind == model.LATENCY:
        total = q.latency_count(metrics.duration, rsel, window_s)
        within = q.counter_increase(f"{metrics.duration}_bucket", rsel, window_s,
                                    _le_matcher(metrics.le_bound(objective.target.value)))
        return f"(({total}) - ({within})) / ({total} > 0)"
    if kind == model.CACHE_HIT_RATE:
        if metrics.cache_hits is None or metrics.cache_misses is None:
            return None  # the preset has no cache counters: nothing to burn (_skip_reason says so)
        misses = q.counter_increase(metrics.cache_misses, sel, window_s)
        return f"({misses}) / ((({q.counter_increase(metrics.cache_hits, sel, window_s)}) + ({misses})) > 0)"
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


def _slice_record(objective: Objective) -> str:
    """The recorded series of an objective's slice (or point) state: ``slo:slice_bad:1m``, or
    ``slo:point_bad`` for a thresholdMetric judged point by point."""
    if objective.kind == model.PROMQL_THRESHOLD and objective.budgeting == model.OCCURRENCES:
        return "slo:point_bad"
    return f"{SLICE_PREFIX}{prom_duration(int(round(objective.slice_seconds or 60)))}"


def _slice_bad(objective: Objective, metrics: Metrics, sel: Selector, slice_s: int) -> str:
    """PromQL for "the slice ending now is bad": 1 or 0 (the bad share of the slice for RatioTimeslices;
    for a thresholdMetric, whether the query's value now misses its comparison)."""
    if objective.kind == model.PROMQL_THRESHOLD:
        assert objective.query is not None and objective.point_op is not None and objective.point_value is not None
        query = q.render_template(objective.query, sel, slice_s)
        misses = f"max(({query}) {_MISSES[objective.point_op]} bool {number(objective.point_value)})"
        if objective.budgeting == model.RATIO_TIMESLICES or objective.slice_target is not None:
            # Graded by the share of the slice's points that meet the comparison: the bad share over
            # the slice (RatioTimeslices), or whether it exceeds what the slice target allows.
            share = f"avg_over_time(({misses})[{q.duration(slice_s)}:])"
            return share if objective.slice_target is None else \
                f"{share} > bool {number(round(1.0 - objective.slice_target, 12))}"
        return misses
    ratio = _ratio(objective, metrics, sel, slice_s)
    if objective.kind == model.AVAILABILITY:
        assert objective.slice_max_error_ratio is not None
        down = f"min(min_over_time({metrics.up}{sel.braces()}[{q.duration(slice_s)}])) < bool 1"
        # Bad when either part is: the larger of the two, and no sample at all when neither has data.
        return (f'max(label_replace(({ratio}) > bool {number(objective.slice_max_error_ratio)}, "part", "5xx", "", "") '
                f'or label_replace({down}, "part", "up", "", ""))')
    if objective.budgeting == model.TIMESLICES:
        assert objective.slice_target is not None
        return f"({ratio}) > bool {number(round(1.0 - objective.slice_target, 12))}"
    return f"{ratio}"


def _budget_unit(o: Objective) -> str:
    if o.kind == model.PROMQL_THRESHOLD and o.budgeting == model.OCCURRENCES:
        return "points"
    return f"{prom_duration(int(round(o.slice_seconds or 60)))} slices" if sliced(o) else "events"


def _skip_reason(objective: Objective, metrics: Metrics) -> str:
    if objective.kind == model.THROUGHPUT:
        return "a throughput floor is no ratio of bad events, so it has no error budget to burn"
    if objective.kind == model.CACHE_HIT_RATE and metrics.cache_hits is None:
        return f"the {metrics.preset} metrics have no cache counters (map metrics.cache_hits and cache_misses)"
    return f"a {objective.kind} objective has no ratio of bad events to burn a budget with"


def _target_text(o: Objective) -> str:
    unit = model.unit_of(o.kind, o.unit)
    text = f"{OP_SYMBOLS[o.target.op]} {format_value(o.target.value, unit)}"
    return f"p{o.quantile * 100:g} {text}" if o.kind == model.LATENCY and o.quantile is not None else text


@dataclass(frozen=True)
class Rules:
    """A rule file's document, what was left out and why, and each alerting objective's windows and budget."""

    doc: dict[str, Any]
    skipped: tuple[tuple[str, str], ...]
    windows: dict[str, tuple[BurnWindow, ...]]
    budgets: dict[str, float]
    labels: dict[str, str]
    periods: dict[str, float]
    #: Whether every selector matcher is an equality, so test series can carry them as labels.
    labels_select: bool = True


def number(value: float) -> str:
    """A float as the rules and their tests write it: at most 10 significant digits (``0.0144``, ``14.4``)."""
    return f"{value:.10g}"


def build_rules(spec: Spec, selector: Selector, *, period_s: float | None = None, min_window_s: int = 1) -> Rules:
    """Recording and alerting rules for every ratio objective of ``spec``. ``period_s`` overrides
    each objective's own period (OpenSLO ``timeWindow``; 30 days when it has none)."""
    labels = {m.name: m.value for m in selector.matchers if m.op == "=" and m.name != "__name__"}
    groups: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    windows: dict[str, tuple[BurnWindow, ...]] = {}
    budgets: dict[str, float] = {}
    periods: dict[str, float] = {}
    for o in spec.objectives:
        budget = o.allowed_bad_ratio
        period = period_s or o.period_s or PERIOD_S
        if budget is None or (_ratio(o, spec.metrics, selector, 60) is None and not sliced(o)):
            skipped.append((o.id, _skip_reason(o, spec.metrics)))
            continue
        if budget <= 0:
            skipped.append((o.id, "its error budget is zero (a 100 % target): any bad event would page"))
            continue
        conditions = burn_windows(period, min_window_s)
        windows[o.id], budgets[o.id], periods[o.id] = conditions, budget, period
        own = {"slo": o.id, **labels}
        records = []
        slice_s = int(round(o.slice_seconds or 60)) if sliced(o) else 0
        if slice_s:
            records.append({"record": _slice_record(o), "expr": _slice_bad(o, spec.metrics, selector, slice_s),
                            "labels": dict(own)})
        mine = "{" + ", ".join(f'{k}="{q.escape_label_value(v)}"' for k, v in own.items()) + "}"
        for w in sorted({s for c in conditions for s in (c.long_s, c.short_s)}):
            # A sliced objective burns by its share of bad slices (or points) over the window.
            expr = f"avg_over_time({_slice_record(o)}{mine}[{q.duration(w)}])" if slice_s \
                else _ratio(o, spec.metrics, selector, w) or ""
            records.append({"record": f"{RECORD_PREFIX}{prom_duration(w)}", "expr": expr, "labels": dict(own)})
        alerts = []
        for severity in ("page", "ticket"):
            parts = []
            for c in (c for c in conditions if c.severity == severity):
                threshold = number(c.factor * budget)
                series = mine
                parts.append(f"({RECORD_PREFIX}{prom_duration(c.long_s)}{series} > {threshold} and "
                             f"{RECORD_PREFIX}{prom_duration(c.short_s)}{series} > {threshold})")
            described = ", or ".join(f"{number(c.factor)}x over {prom_duration(c.long_s)} and "
                                     f"{prom_duration(c.short_s)}" for c in conditions if c.severity == severity)
            alerts.append({
                "alert": ALERT_NAME,
                "expr": "\nor\n".join(parts),
                "labels": {**own, "severity": severity},
                "annotations": {
                    "title": o.title,
                    "target": _target_text(o),
                    "summary": f"{o.title} is burning its error budget ({severity}: {described}; budget "
                               f"{number(budget * 100)} % of "
                               f"{_budget_unit(o)} over "
                               f"{prom_duration(int(period))})",
                    "runbook": f"Objective {o.id} of spec {spec.name} ({o.origin or spec.path}). Check the "
                               f"{o.title} chart for when it started, recent deploys and dependencies; reproduce with "
                               f"'loadgate run --host URL --start-prometheus --spec {spec.path} --alert-rules'.",
                },
            })
        groups.append({"name": f"loadgate-slo-{o.id}-recordings", "rules": records})
        groups.append({"name": f"loadgate-slo-{o.id}-alerts", "rules": alerts})
    return Rules({"groups": groups}, tuple(skipped), windows, budgets, labels, periods,
                 labels_select=all(m.op == "=" and m.name != "__name__" for m in selector.matchers))


class _Literal(str):
    """A string written as a YAML block (``|``), so multi-line PromQL stays readable."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def dump_yaml(doc: Any) -> str:
    """A rule or test file's YAML: keys in their order, lines up to 200 columns, multi-line ``expr`` as blocks."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True)


def _blocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_Literal(v) if k == "expr" and isinstance(v, str) else _blocks(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_blocks(v) for v in value]
    return value


def impossible(rules: Rules, oid: str, severity: str) -> bool:
    """Whether no condition of ``severity`` can fire: each needs a bad ratio above 1."""
    return all(c.factor * rules.budgets[oid] >= 1 for c in rules.windows[oid] if c.severity == severity)


def never_fire(rules: Rules, oid: str | None = None) -> list[str]:
    """One line per objective with conditions that can never fire (a 50 % budget cannot burn 14.4x)."""
    out = []
    for key in [oid] if oid else list(rules.windows):
        reach = [c for c in rules.windows[key] if c.factor * rules.budgets[key] >= 1]
        if reach:
            severities = " and ".join(sorted({c.severity for c in reach}))
            out.append(f"{key}: a bad ratio cannot exceed 1, so its {severities} condition(s) at "
                       f"{', '.join(number(c.factor) + 'x' for c in reach)} can never fire"
                       + (f" ({', '.join(s for s in ('page', 'ticket') if impossible(rules, key, s))} never)"
                          if any(impossible(rules, key, s) for s in ("page", "ticket")) else ""))
    return out


def render_rules(rules: Rules, spec: Spec) -> str:
    """The rule file's text, with a header saying where it came from and what has no rules."""
    head = [f"# Prometheus rules generated by loadgate from {spec.path} ({spec.format}).",
            f"# Alerts: {ALERT_NAME}{{slo, severity=page|ticket}}; multi-window, multi-burn-rate (SRE workbook)."]
    for oid, period in rules.periods.items():
        described = "; ".join(f"{c.severity} {number(c.factor)}x over {prom_duration(c.long_s)} and "
                              f"{prom_duration(c.short_s)}" for c in rules.windows[oid])
        head.append(f"# {oid}: period {prom_duration(int(period))}, budget {number(rules.budgets[oid] * 100)} %: "
                    f"{described}")
        head.extend(f"#   {line}" for line in never_fire(rules, oid))
    for oid, why in rules.skipped:
        head.append(f"# {oid}: no rules: {why}")
    return "\n".join(head) + "\n" + dump_yaml(_blocks(rules.doc))
