"""Prometheus recording and burn-rate alerting rules from a spec. Pure.

For every objective whose SLI is a ratio of events (latency as "requests slower than T",
error rate, cache misses, availability as the 5xx ratio, a ``promql_ratio``):

* recording rules ``slo:sli_error:ratio_rate<W>``: the bad share of events over each window W the
  alerts need, labelled with the objective's identity (``slo``, ``service``, ``spec``,
  ``objective``), the selector's equality matchers and the user's labels (``slo.rules_alerts``);
* one alert ``ErrorBudgetBurn{loadgate_severity="page", severity="critical"}`` firing when the
  budget burns 14.4x over 1h and 5m, or 6x over 6h and 30m; one ``loadgate_severity="ticket"``
  (``severity="warning"``) at 3x over 1d and 2h, or 1x over 3d and 6h (the Google SRE workbook's
  multi-window, multi-burn-rate alerts; each severity's two conditions joined with ``or``, so no
  two alerts share their labels). An OpenSLO SLO's ``alertPolicies`` replace that table: one alert
  per policy, named after it, each condition its ``threshold`` over ``lookbackWindow`` and
  lookbackWindow/12;
* ``SLOMetricAbsent`` when the objective's total series has been absent for 10m, and with
  ``alerting.min_traffic`` ``SLOTrafficLow`` when its total's rate stays below a floor;
* a ``-meta`` group per SLO (``slo.rules_meta``): objective, budget, period, burn rates, the
  remaining budget and ``loadgate_slo_info``. Every window record carries ``window="<W>"``.

A custom table (``alerting.windows``, ``--windows FILE``, sloth's ``AlertWindows``:
``slo.rules_windows``) replaces the workbook's; ``group_by`` makes every record and burn rate one
per group.

The windows are the workbook's for a 30-day period, scaled by period/30d as pyrra scales them,
never below ``min_window_s``; an OpenSLO policy's windows scale by ``period_s`` over the SLO's own
``timeWindow`` when ``period_s`` is given. Objectives with no event ratio (throughput, a single
value) get no rules, and ``build_rules`` says why for each. The ``promtool test rules`` tests for
these rules are written by ``slo.rule_tests``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis import queries as q
from analysis.queries import Selector
from slo import model
from slo.model import Objective, Spec, WindowSpec
from slo.rules_alerts import (
    ABSENT_NAME,
    ALERT_NAME,
    RECORD_PREFIX,
    AlertRule,
    BurnWindow,
    RulesError,
    absent_alert,
    alerting_of,
    burn_alerts,
    identity,
    selector_text,
    traffic_alert,
)
from slo.rules_meta import meta_group
from slo.rules_sli import number, ratio, slice_bad, slice_record, sliced, total_rate, total_series
from slo.rules_windows import WindowsTable
from slo.units import format_prom_duration as prom_duration

__all__ = ["impossible", "custom_windows", "never_fire", "sliced", "number", "dump_yaml",
           "PERIOD_S", "BurnWindow", "burn_windows", "prom_duration", "Rules", "build_rules", "render_rules",
           "ALERT_NAME", "ABSENT_NAME", "RECORD_PREFIX", "AlertRule", "RulesError", "SHORT_PER_LONG"]

PERIOD_S = 30 * 86400.0
#: An OpenSLO condition's short window is its lookbackWindow over this (the workbook's 1h and 5m).
SHORT_PER_LONG = 12
#: (severity, burn factor, long window, short window) for a 30-day period.
_WORKBOOK = (("page", 14.4, 3600, 300), ("page", 6.0, 21600, 1800),
             ("ticket", 3.0, 86400, 7200), ("ticket", 1.0, 259200, 21600))


def burn_windows(period_s: float = PERIOD_S, min_window_s: int = 1) -> tuple[BurnWindow, ...]:
    """The workbook's conditions with windows scaled by ``period_s``/30d, whole seconds, at least ``min_window_s``."""
    scale = period_s / PERIOD_S
    return tuple(BurnWindow(sev, factor, max(min_window_s, int(round(long * scale))),
                            max(min_window_s, int(round(short * scale)))) for sev, factor, long, short in _WORKBOOK)


def custom_windows(table: tuple[WindowSpec, ...], period_s: float, min_window_s: int = 1) -> tuple[BurnWindow, ...]:
    """A custom table's rows as conditions: windows as written (at least ``min_window_s``), a
    ``budget`` share turned into the burn rate that spends it over the long window
    (budget x period / long, as sloth and the workbook compute it)."""
    out = []
    for w in table:
        long_s, short_s = max(min_window_s, int(round(w.long_s))), max(min_window_s, int(round(w.short_s)))
        factor = w.factor if w.factor is not None else (w.budget or 0.0) * period_s / w.long_s
        out.append(BurnWindow(w.severity, round(factor, 10), long_s, short_s, for_s=int(round(w.for_s))))
    return tuple(out)


def _policy_windows(o: Objective, period_s: float | None, min_window_s: int) -> tuple[BurnWindow, ...]:
    """An OpenSLO SLO's policy conditions as windows: the long one its lookbackWindow, the short one
    a twelfth of it, scaled by ``period_s`` over the SLO's own period when ``period_s`` is given.
    ``loadgate_severity`` is page for a ``page`` or ``critical`` severity, else ticket."""
    scale = period_s / (o.period_s or PERIOD_S) if period_s else 1.0
    out = []
    for policy in o.policies or ():
        for c in policy.conditions:
            page = c.severity.lower() in ("page", "critical")
            out.append(BurnWindow("page" if page else "ticket", c.factor,
                                  max(min_window_s, int(round(c.long_s * scale))),
                                  max(min_window_s, int(round(c.short_s * scale))), label=c.severity,
                                  alert=policy.name, for_s=int(round(c.for_s * scale))))
    return tuple(out)


@dataclass(frozen=True)
class Rules:
    """A rule file's document, what was left out and why, and each alerting objective's windows and budget."""

    doc: dict[str, Any]
    skipped: tuple[tuple[str, str], ...]
    windows: dict[str, tuple[BurnWindow, ...]]
    budgets: dict[str, float]
    #: The selector's equality matchers (on every record and alert).
    labels: dict[str, str]
    periods: dict[str, float]
    #: Whether every selector matcher is an equality, so test series can carry them as labels.
    labels_select: bool = True
    #: Each objective's labels on its records (identity, selector, user's), and on the test series it reads.
    identities: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Each objective's alerting rules (burn-rate alerts, then the absent alert).
    alerts: dict[str, tuple[AlertRule, ...]] = field(default_factory=dict)
    #: The objectives whose windows come from OpenSLO alertPolicies.
    from_policies: tuple[str, ...] = ()
    #: Each objective's windows table, as the header names it.
    tables: dict[str, str] = field(default_factory=dict)


def _skip_reason(objective: Objective, metrics: model.Metrics) -> str:
    if objective.kind == model.THROUGHPUT:
        return "a throughput floor is no ratio of bad events, so it has no error budget to burn"
    if objective.kind == model.CACHE_HIT_RATE and metrics.cache_hits is None:
        return f"the {metrics.preset} metrics have no cache counters (map metrics.cache_hits and cache_misses)"
    return f"a {objective.kind} objective has no ratio of bad events to burn a budget with"


def _group_base(spec: Spec, o: Objective, shared: Counter[str]) -> str:
    """``loadgate-<service>-<slo>``, plus the objective's id when objectives share the SLO's name."""
    slo = o.slo_name or o.id
    base = f"loadgate-{o.service or spec.service or spec.name}-{slo}"
    return f"{base}-{o.id}" if shared[slo] > 1 else base


def _table(spec: Spec, o: Objective, windows: WindowsTable | None, period: float,
           min_window_s: int) -> tuple[tuple[BurnWindow, ...], str]:
    """The objective's conditions and the table's name: ``--windows``, else ``alerting.windows``,
    else the workbook's scaled by period/30d."""
    if windows is not None:
        kind = "sloth AlertWindows" if windows.period_s else "loadgate windows"
        return custom_windows(windows.windows, period, min_window_s), f"--windows {windows.name} ({kind})"
    own = alerting_of(spec, o)
    if own.windows:
        return custom_windows(own.windows, period, min_window_s), own.windows_name or "alerting.windows"
    scale = "" if period == PERIOD_S else f", scaled by {prom_duration(int(period))}/30d"
    return burn_windows(period, min_window_s), f"the SRE workbook's 30d table{scale}"


def build_rules(spec: Spec, selector: Selector, *, period_s: float | None = None, min_window_s: int = 1,
                labels: tuple[tuple[str, str], ...] = (), alerts: bool = True, windows: WindowsTable | None = None,
                version: str = "") -> Rules:
    """Recording and alerting rules for every ratio objective of ``spec``. ``period_s`` overrides
    each objective's own period (OpenSLO ``timeWindow``; a sloth windows file's ``sloPeriod``; 30
    days when it has none); ``labels`` (``--label``) go on every record and alert; ``alerts=False``
    writes the records only; ``windows`` (``--windows``) replaces every objective's table but an
    OpenSLO policy's; ``version`` goes on ``loadgate_slo_info``. Raises ``RulesError`` when a label
    clashes with the selector's, or the windows file's period is not the one asked for."""
    if windows is not None and windows.period_s and period_s and abs(windows.period_s - period_s) > 1:
        raise RulesError(f"--windows {windows.name} is sloth's table for a {prom_duration(int(windows.period_s))} "
                         f"period, not {prom_duration(int(period_s))}: its burn rates only hold at its own period")
    if windows is not None and windows.period_s and not period_s:
        period_s = windows.period_s
    chosen = {m.name: m.value for m in selector.matchers if m.op == "=" and m.name != "__name__"}
    groups: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    tables: dict[str, str] = {}
    conds: dict[str, tuple[BurnWindow, ...]] = {}
    budgets: dict[str, float] = {}
    periods: dict[str, float] = {}
    identities: dict[str, dict[str, str]] = {}
    alert_rules: dict[str, tuple[AlertRule, ...]] = {}
    shared = Counter(o.slo_name or o.id for o in spec.objectives)
    for o in spec.objectives:
        budget = o.allowed_bad_ratio
        period = period_s or o.period_s or PERIOD_S
        if budget is None or (ratio(o, spec.metrics, selector, 60) is None and not sliced(o)):
            skipped.append((o.id, _skip_reason(o, spec.metrics)))
            continue
        if budget <= 0:
            skipped.append((o.id, "its error budget is zero (a 100 % target): any bad event would page"))
            continue
        # alertPolicies without a burnrate condition write no burn-rate alert, and the built-in table's records.
        policy = _policy_windows(o, period_s, min_window_s) if o.policies else ()
        table, tables[o.id] = _table(spec, o, windows, period, min_window_s)
        if policy:
            tables[o.id] = f"OpenSLO alertPolicies (each lookbackWindow and lookbackWindow/{SHORT_PER_LONG})"
        conditions = policy or table
        conds[o.id], budgets[o.id], periods[o.id] = conditions, budget, period
        own, every = identity(spec, o, chosen, labels)
        identities[o.id] = every
        mine = selector_text(own)
        records = []
        slice_s = int(round(o.slice_seconds or 60)) if sliced(o) else 0
        if slice_s:
            records.append({"record": slice_record(o), "expr": slice_bad(o, spec.metrics, selector, slice_s),
                            "labels": dict(every)})
        spans = sorted({s for c in conditions for s in (c.long_s, c.short_s)})
        for w in spans:
            # A sliced objective burns by its share of bad slices (or points) over the window.
            expr = f"avg_over_time({slice_record(o)}{mine}[{q.duration(w)}])" if slice_s \
                else ratio(o, spec.metrics, selector, w) or ""
            records.append({"record": f"{RECORD_PREFIX}{prom_duration(w)}", "expr": expr,
                            "labels": {**every, "window": prom_duration(w)}})
        mine_alerts: list[AlertRule] = []
        if alerts and alerting_of(spec, o).enabled is not False:
            if o.policies is None or policy:
                mine_alerts = burn_alerts(spec, o, conditions, own, every, budget, period)
            # A user's PromQL is watched through its records: absent when its total is absent or zero.
            watched = total_series(o, spec.metrics, selector) or \
                f"{slice_record(o) if slice_s else RECORD_PREFIX + prom_duration(min(spans))}{mine}"
            for extra in (absent_alert(spec, o, own, every, watched),
                          traffic_alert(spec, o, own, every, total_rate(o, spec.metrics, selector,
                                                                        max(min_window_s, min(spans))))):
                if extra is not None:
                    mine_alerts.append(extra)
        alert_rules[o.id] = tuple(mine_alerts)
        base = _group_base(spec, o, shared)
        groups.append({"name": f"{base}-recordings", "rules": records})
        groups.append(meta_group(f"{base}-meta", own, every, budget, period, spans, version))
        if mine_alerts:
            groups.append({"name": f"{base}-alerts", "rules": [a.rule for a in mine_alerts]})
    return Rules({"groups": groups}, tuple(skipped), conds, budgets, chosen, periods,
                 labels_select=all(m.op == "=" and m.name != "__name__" for m in selector.matchers),
                 identities=identities, alerts=alert_rules,
                 from_policies=tuple(o.id for o in spec.objectives if o.policies and o.id in conds and
                                     any(c.alert for c in conds[o.id])), tables=tables)


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
    """Whether no burn-rate alert of ``severity`` can fire: there is none (alerts off, or that
    severity disabled), or each condition needs a bad ratio above 1."""
    return all(c.factor * rules.budgets[oid] >= 1 for a in rules.alerts.get(oid, ()) for c in a.conditions
               if a.severity == severity)


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
    names = sorted({a.name for rs in rules.alerts.values() for a in rs})
    head = [f"# Prometheus rules generated by loadgate from {Path(spec.path).name} ({spec.format}).",
            "# Labels on every record and alert: slo, service, spec, objective, the selector's equality matchers, "
            "then the spec's labels.",
            f"# Alerts: {', '.join(names) or 'none'}; burn-rate alerts carry loadgate_severity=page|ticket and "
            "severity (critical|warning unless routed); multi-window, multi-burn-rate (SRE workbook).",
            "# Window records carry window=<duration>; each SLO's -meta group (every 1m) records its objective, "
            "budget, period, burn rates, remaining budget and loadgate_slo_info."]
    if rules.from_policies:
        head.append(f"# OpenSLO alertPolicies ({', '.join(rules.from_policies)}): each burnrate condition's long "
                    f"window is its lookbackWindow, its short window lookbackWindow/{SHORT_PER_LONG} (the "
                    "workbook's ratio), its for alertAfter.")
    for oid, period in rules.periods.items():
        described = "; ".join(f"{c.severity} {number(c.factor)}x over {prom_duration(c.long_s)} and "
                              f"{prom_duration(c.short_s)}" for c in rules.windows[oid])
        head.append(f"# {oid}: period {prom_duration(int(period))}, budget {number(rules.budgets[oid] * 100)} %, "
                    f"windows from {rules.tables.get(oid, 'the SRE workbook')}: {described}")
        head.extend(f"#   {line}" for line in never_fire(rules, oid))
    for oid, why in rules.skipped:
        head.append(f"# {oid}: no rules: {why}")
    return "\n".join(head) + "\n" + dump_yaml(_blocks(rules.doc))
