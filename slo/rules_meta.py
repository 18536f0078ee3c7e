"""The SLO metadata series of ``loadgate rules``, for dashboards (issue 25, item 5). Pure.

One group per SLO, ``loadgate-<service>-<slo>-meta``, evaluated every ``META_INTERVAL`` (1m):
slower than the window records, as sloth's metadata, because the period-long average reads a
whole period of samples at each evaluation and a dashboard needs no finer step. Every series
carries the SLO's identity and labels (``group_by`` groups where the SLI has them):

* ``slo:objective:ratio``, ``slo:error_budget:ratio`` (1 - objective), ``slo:time_period:days``;
* ``slo:sli_error:ratio_rate<period>`` (``window="<period>"``): the average over the period of
  the shortest window's record, as sloth computes its period SLI;
* ``slo:current_burn_rate:ratio``: the shortest window's ratio over the budget;
* ``slo:period_burn_rate:ratio``: the period's ratio over the budget;
* ``slo:period_error_budget_remaining:ratio``: 1 - the period burn rate (below 0 once overspent);
* ``loadgate_slo_info{slo, service, spec, objective, period, loadgate_version, ...} 1``.
"""

from __future__ import annotations

from typing import Any

from slo.rules_alerts import RECORD_PREFIX, burn_of, selector_text
from slo.rules_sli import number
from slo.units import format_prom_duration as prom_duration

__all__ = ["META_INTERVAL", "META_RECORDS", "meta_group"]

META_INTERVAL = "1m"
META_RECORDS = ("slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days",
                "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
                "slo:period_error_budget_remaining:ratio", "loadgate_slo_info")


def meta_group(name: str, own: dict[str, str], every: dict[str, str], budget: float, period_s: float,
               spans: list[int], version: str) -> dict[str, Any]:
    """The metadata group of one objective: ``own`` selects its records, ``every`` labels the
    series; ``spans`` are its window records' lengths (seconds), the shortest read for the
    current burn rate and averaged over ``period_s`` for the period's."""
    mine = selector_text(own)
    shortest, period = min(spans), int(round(period_s))
    rules: list[dict[str, Any]] = []
    if period not in spans:
        rules.append({"record": f"{RECORD_PREFIX}{prom_duration(period)}",
                      "expr": f"avg_over_time({RECORD_PREFIX}{prom_duration(shortest)}{mine}[{prom_duration(period)}])",
                      "labels": {**every, "window": prom_duration(period)}})
    constants = (("slo:objective:ratio", round(1.0 - budget, 12)), ("slo:error_budget:ratio", budget),
                 ("slo:time_period:days", period / 86400))
    rules.extend({"record": rec, "expr": f"vector({number(value)})", "labels": dict(every)} for rec, value in constants)
    rules.append({"record": "slo:current_burn_rate:ratio", "expr": burn_of(shortest, mine, budget),
                  "labels": dict(every)})
    rules.append({"record": "slo:period_burn_rate:ratio", "expr": burn_of(period, mine, budget),
                  "labels": dict(every)})
    rules.append({"record": "slo:period_error_budget_remaining:ratio", "expr": f"1 - slo:period_burn_rate:ratio{mine}",
                  "labels": dict(every)})
    rules.append({"record": "loadgate_slo_info", "expr": "vector(1)",
                  "labels": {**every, "period": prom_duration(period), "loadgate_version": version or "unknown"}})
    return {"name": name, "interval": META_INTERVAL, "rules": rules}
