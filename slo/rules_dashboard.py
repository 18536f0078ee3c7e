"""``loadgate rules --dashboard FILE``: a Grafana dashboard over the series the rules write. Pure.

A classic Grafana dashboard JSON model (``schemaVersion`` 39: Grafana 10.4 and later read it, and
migrate it forward), importable through the UI or provisioned from a file. Every query reads only
what ``slo.rules`` writes or what Prometheus writes for its alerts:

* the ``-meta`` group's series (``slo.rules_meta``): ``slo:period_error_budget_remaining:ratio``,
  ``slo:current_burn_rate:ratio``, ``slo:period_burn_rate:ratio``, ``slo:objective:ratio``,
  ``slo:error_budget:ratio``, the period's ``slo:sli_error:ratio_rate<period>`` and
  ``loadgate_slo_info`` (the template variables);
* the window records ``slo:sli_error:ratio_rate<W>``, chosen by their ``window`` label;
* ``ALERTS{alertstate="firing"}`` of the rules' alerts, which carry the SLO's identity.

Template variables: ``datasource`` (any Prometheus data source), ``service`` and ``slo`` (from
``loadgate_slo_info``), and ``period`` (hidden: the selected SLO's period, read from the same
series, so that ``slo:sli_error:ratio_rate${period}`` names its period record at any period). The
dashboard opens on the spec's first SLO. No panel uses ``rate()``: every ratio is recorded
already, so no ``$__rate_interval`` is needed.
"""

from __future__ import annotations

import json
from typing import Any

from slo.model import Spec
from slo.rules import RECORD_PREFIX, Rules
from slo.rules_operator import k8s_name
from slo.units import format_prom_duration as prom_duration

__all__ = ["SCHEMA_VERSION", "VARIABLES", "build_dashboard", "render_dashboard", "panel_queries",
           "variable_queries"]

#: Grafana's classic dashboard schema version written (Grafana 10.4).
SCHEMA_VERSION = 39
#: The template variables the queries use, in the order Grafana resolves them.
VARIABLES = ("datasource", "service", "slo", "period")
_DS = {"type": "prometheus", "uid": "${datasource}"}
_MINE = 'service="$service", slo="$slo"'


def _variable(name: str, label: str, query: str, current: str, hide: int = 0) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "query", "datasource": _DS,
            "query": {"query": query, "refId": f"{name}-values"}, "definition": query,
            "current": {"selected": True, "text": current, "value": current}, "options": [],
            "refresh": 2, "sort": 1, "regex": "", "hide": hide, "includeAll": False, "multi": False}


def _templating(service: str, slo: str, period: str) -> list[dict[str, Any]]:
    return [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "options": [], "refresh": 1, "regex": "", "hide": 0, "includeAll": False, "multi": False},
        _variable("service", "Service", "label_values(loadgate_slo_info, service)", service),
        _variable("slo", "SLO", 'label_values(loadgate_slo_info{service="$service"}, slo)', slo),
        _variable("period", "Period", f'label_values(loadgate_slo_info{{{_MINE}}}, period)', period, hide=2)]


def _target(ref: str, expr: str, legend: str, instant: bool = False) -> dict[str, Any]:
    return {"refId": ref, "datasource": _DS, "expr": expr, "legendFormat": legend, "range": not instant,
            "instant": instant, "editorMode": "code"}


def _steps(*steps: tuple[str, float | None]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def _stat(pid: int, title: str, about: str, expr: str, legend: str, unit: str, x: int,
          thresholds: dict[str, Any], decimals: int = 2) -> dict[str, Any]:
    return {"id": pid, "type": "stat", "title": title, "description": about, "datasource": _DS,
            "gridPos": {"h": 5, "w": 6, "x": x, "y": 0},
            "targets": [_target("A", expr, legend, instant=True)],
            "fieldConfig": {"defaults": {"unit": unit, "decimals": decimals, "thresholds": thresholds,
                                         "color": {"mode": "thresholds"}}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto", "justifyMode": "auto",
                        "orientation": "auto"}}


def _series(pid: int, title: str, about: str, targets: list[dict[str, Any]], unit: str, x: int, y: int,
            w: int = 12, line: float | None = None) -> dict[str, Any]:
    custom: dict[str, Any] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                              "spanNulls": False}
    thresholds = _steps(("green", None))
    if line is not None:
        custom["thresholdsStyle"] = {"mode": "dashed"}
        thresholds = _steps(("green", None), ("red", line))
    return {"id": pid, "type": "timeseries", "title": title, "description": about, "datasource": _DS,
            "gridPos": {"h": 8, "w": w, "x": x, "y": y}, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, "custom": custom, "thresholds": thresholds},
                            "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "none"}}}


def _panels(groups: tuple[str, ...]) -> list[dict[str, Any]]:
    who = "{{objective}}" + "".join(f" {{{{{g}}}}}" for g in groups)
    period_sli = f'1 - {RECORD_PREFIX}${{period}}{{{_MINE}, window="${{period}}"}}'
    now_sli = (f"1 - (slo:current_burn_rate:ratio{{{_MINE}}} * on (service, slo, spec, objective) group_left () "
               f"slo:error_budget:ratio{{{_MINE}}})")
    by = ", ".join(("alertname", "loadgate_severity", "severity", *groups))
    return [
        _stat(1, "Error budget remaining", "1 - the period's burn rate: the share of the period's error budget "
              "not spent yet (below 0 once overspent).", f"slo:period_error_budget_remaining:ratio{{{_MINE}}}",
              who, "percentunit", 0, _steps(("red", None), ("orange", 0), ("green", 0.25))),
        _stat(2, "SLI over the period", "The good share over the SLO's period (the average of the shortest "
              "window's record), against the objective beside it.", period_sli, who, "percentunit", 6,
              _steps(("blue", None)), decimals=3),
        _stat(3, "Objective", "The SLO's objective as a ratio.", f"slo:objective:ratio{{{_MINE}}}", who,
              "percentunit", 12, _steps(("blue", None)), decimals=3),
        _stat(4, "Burn rate now", "The shortest window's bad share over the error budget: 1 spends the budget "
              "exactly in one period.", f"slo:current_burn_rate:ratio{{{_MINE}}}", who, "suffix:x", 18,
              _steps(("green", None), ("orange", 1), ("red", 6))),
        _series(5, "Error budget remaining", "slo:period_error_budget_remaining:ratio over time.",
                [_target("A", f"slo:period_error_budget_remaining:ratio{{{_MINE}}}", who)], "percentunit", 0, 5),
        _series(6, "Burn rate: now and over the period", "slo:current_burn_rate:ratio (the shortest window) "
                "and slo:period_burn_rate:ratio (the period); the dashed line is 1.",
                [_target("A", f"slo:current_burn_rate:ratio{{{_MINE}}}", f"now {who}"),
                 _target("B", f"slo:period_burn_rate:ratio{{{_MINE}}}", f"period {who}")], "suffix:x", 12, 5,
                line=1.0),
        _series(7, "SLI against its objective", "The good share now (1 - burn rate x budget) and over the "
                "period, with the objective.",
                [_target("A", now_sli, f"now {who}"), _target("B", period_sli, f"period {who}"),
                 _target("C", f"slo:objective:ratio{{{_MINE}}}", f"objective {who}")], "percentunit", 0, 13),
        _series(8, "Bad share by window", "Every window record slo:sli_error:ratio_rate<W> of the SLO, by its "
                "window label (the alerts' windows and the period).",
                [_target("A", f'{{__name__=~"{RECORD_PREFIX}.+", {_MINE}}}', f"{{{{window}}}} {who}")],
                "percentunit", 12, 13),
        _series(9, "Alerts firing", "The SLO's alerts firing (ALERTS): burn-rate pages and tickets, the absent "
                "alert and the traffic floor.",
                [_target("A", f'sum by ({by}) (ALERTS{{alertstate="firing", {_MINE}}})',
                         "{{alertname}} {{loadgate_severity}}" + "".join(f" {{{{{g}}}}}" for g in groups))],
                "short", 0, 21, w=24)]


def build_dashboard(rules: Rules, spec: Spec) -> dict[str, Any]:
    """The dashboard JSON model (a dict) for the SLOs of ``rules``; it opens on the first one."""
    first = next(iter(rules.identities))
    ident = rules.identities[first]
    groups = tuple(dict.fromkeys(g for o in spec.objectives if o.id in rules.identities for g in o.group_by))
    service = ident["service"]
    return {
        "id": None, "uid": f"loadgate-{k8s_name(service)}"[:40], "title": f"SLOs of {service} (loadgate)",
        "description": f"Error budgets, burn rates, SLIs and alerts from the rules 'loadgate rules' writes for "
                       f"{spec.name}.",
        "tags": ["loadgate", "slo"], "timezone": "browser", "editable": True, "graphTooltip": 1,
        "time": {"from": "now-24h", "to": "now"}, "refresh": "1m", "schemaVersion": SCHEMA_VERSION,
        "version": 1, "links": [], "annotations": {"list": []},
        "templating": {"list": _templating(service, ident["slo"], prom_duration(int(rules.periods[first])))},
        "panels": _panels(groups)}


def render_dashboard(rules: Rules, spec: Spec) -> str:
    """The dashboard as JSON text (two-space indent, keys in order, a final newline)."""
    return json.dumps(build_dashboard(rules, spec), indent=2, ensure_ascii=False) + "\n"


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(panel title, expr)`` of every panel's every target."""
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", ())]


def variable_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(variable, label_values(...) query)`` of every query variable."""
    return [(v["name"], v["definition"]) for v in dashboard["templating"]["list"] if v["type"] == "query"]
