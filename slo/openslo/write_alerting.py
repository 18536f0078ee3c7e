"""The alert-rule keys of a loadgate/v1 objective as OpenSLO, for ``to_openslo``. Pure.

* ``service:`` (else the spec's name) is each SLO's ``spec.service``;
* the spec's and the objective's ``labels`` are the SLO's ``metadata.labels``;
* ``alerting.runbook_url`` is the SLO's ``metadata.annotations.runbook_url``;
* an ``alerting:`` map that changes the alerts (a name, a windows table, per-severity labels,
  a disabled severity, the absent alert off) becomes ``alertPolicies``: OpenSLO's AlertPolicy
  holds exactly one condition, so each row of the objective's table is one inline AlertPolicy,
  all named after the alert (``CheckoutBurn`` -> ``checkout-burn``, which ``loadgate rules``
  CamelCases back) so that they make one alert per severity again; each condition is its burn
  rate (``threshold``, op ``gte``), ``lookbackWindow`` (the long window), ``alertAfter`` (its
  ``for``) and ``severity`` (the ``severity`` label); ``alertWhenNoData`` is the absent alert.
  Every policy notifies the ``alertmanager`` AlertNotificationTarget (OpenSLO requires one).

What OpenSLO cannot hold is a warning: a short window other than lookbackWindow/12, labels that
differ between page and ticket, per-severity annotations, ``alerting: false``, the absent alert's
name and ``for``, ``min_traffic``, ``group_by``, a label key OpenSLO refuses.
"""

from __future__ import annotations

import re
from typing import Any

from slo.model import Objective, Routing, Spec
from slo.openslo.alerting import camel_case
from slo.rules import PERIOD_S, SHORT_PER_LONG, burn_windows, custom_windows
from slo.rules_alerts import DEFAULT_SEVERITY, alerting_of
from slo.units import format_openslo_duration

__all__ = ["TARGET_NAME", "kebab_case", "target_doc", "alert_keys"]

TARGET_NAME = "alertmanager"
_KEY_RE = re.compile(r"^[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")


def kebab_case(name: str) -> str:
    """An OpenSLO name for an alert name: ``CheckoutBurn`` -> ``checkout-burn``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-") or "alert"


def target_doc(api_version: str) -> dict[str, Any]:
    """The notification target every converted policy names: Prometheus's Alertmanager."""
    return {"apiVersion": api_version, "kind": "AlertNotificationTarget", "metadata": {"name": TARGET_NAME},
            "spec": {"target": "alertmanager",
                     "description": "Prometheus's Alertmanager, which routes the alerts by their labels"}}


def _changes_alerts(spec: Spec, o: Objective) -> bool:
    a = alerting_of(spec, o)
    return any(x is not None for x in (a.name, a.page, a.ticket, a.windows, a.absent, a.enabled))


def alert_keys(spec: Spec, o: Objective, where: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The SLO's extra ``metadata`` (labels, annotations), extra ``spec`` (``alertPolicies``) and
    the warnings, for the objective ``o`` (``where`` names it in them)."""
    meta: dict[str, Any] = {}
    body: dict[str, Any] = {}
    warnings: list[str] = []
    labels = {**dict(spec.labels), **dict(o.labels)}
    refused = [k for k in labels if not _KEY_RE.match(k)]
    if refused:
        warnings.append(f"{where}: labels {', '.join(refused)} are not OpenSLO label keys: left out")
    if labels.keys() - set(refused):
        meta["labels"] = {k: v for k, v in labels.items() if k not in refused}
    a = alerting_of(spec, o)
    if a.runbook_url:
        meta["annotations"] = {"runbook_url": a.runbook_url}
    if o.group_by:
        warnings.append(f"{where}: group_by ({', '.join(o.group_by)}) has no OpenSLO form: left out")
    if a.min_traffic not in (None, False):
        warnings.append(f"{where}: alerting.min_traffic has no OpenSLO form: left out")
    if a.absent_name or a.absent_for_s is not None:
        warnings.append(f"{where}: the absent alert's name and for have no OpenSLO form (alertWhenNoData is "
                        "on or off): left out")
    if not _changes_alerts(spec, o):
        return meta, body, warnings
    if a.enabled is False:
        warnings.append(f"{where}: alerting: false has no OpenSLO form (an AlertPolicy holds exactly one "
                        "condition): the converted SLO alerts with the built-in table")
        return meta, body, warnings
    period = o.period_s or PERIOD_S
    table = custom_windows(a.windows, period) if a.windows else burn_windows(period)
    name = a.name or "ErrorBudgetBurn"
    policy_name = kebab_case(name)
    if camel_case(policy_name) != name:
        warnings.append(f"{where}: the alert name {name!r} becomes {camel_case(policy_name)!r} (an AlertPolicy "
                        f"named {policy_name!r}, CamelCased)")
    page, ticket = a.page or Routing(), a.ticket or Routing()
    shared = {k: v for k, v in page.labels if k != "severity" and (k, v) in ticket.labels}
    if {k for k, _ in (*page.labels, *ticket.labels) if k != "severity"} - set(shared):
        warnings.append(f"{where}: page and ticket labels differ; an AlertPolicy's labels label all its alerts: "
                        f"only the shared ones ({', '.join(shared) or 'none'}) carried")
    if page.annotations or ticket.annotations:
        warnings.append(f"{where}: alerting.page/ticket annotations have no OpenSLO form: left out")
    policies = []
    for i, c in enumerate(table):
        routing = page if c.severity == "page" else ticket
        if routing.disable:
            continue
        if abs(c.short_s * SHORT_PER_LONG - c.long_s) > 1:
            warnings.append(f"{where}: the {c.severity} condition's short window ({c.short_s}s) is not its long "
                            f"window/{SHORT_PER_LONG}, as OpenSLO's lookbackWindow gives it: it becomes "
                            f"{c.long_s / SHORT_PER_LONG:g}s")
        lookback = format_openslo_duration(c.long_s)
        if lookback is None:
            warnings.append(f"{where}: a {c.long_s}s window is no OpenSLO duration (whole minutes): left out")
            continue
        condition: dict[str, Any] = {"kind": "burnrate", "op": "gte", "threshold": c.factor,
                                     "lookbackWindow": lookback}
        after = format_openslo_duration(c.for_s) if c.for_s else None
        if c.for_s and after is None:
            warnings.append(f"{where}: a for of {c.for_s}s is no OpenSLO duration (whole minutes): left out")
        if after:
            condition["alertAfter"] = after
        severity = dict(routing.labels).get("severity", DEFAULT_SEVERITY[c.severity])
        if (severity.lower() in ("page", "critical")) != (c.severity == "page"):
            # loadgate reads an OpenSLO condition as a page only when its severity is page or critical.
            warnings.append(f"{where}: a {c.severity} condition's severity {severity!r} would read back as a "
                            f"{'ticket' if c.severity == 'page' else 'page'}: written as "
                            f"{DEFAULT_SEVERITY[c.severity]!r}")
            severity = DEFAULT_SEVERITY[c.severity]
        policy_meta: dict[str, Any] = {"name": policy_name}
        if shared:
            policy_meta["labels"] = dict(shared)
        policies.append({"kind": "AlertPolicy", "metadata": policy_meta, "spec": {
            "alertWhenNoData": a.absent is not False,
            "conditions": [{"kind": "AlertCondition", "metadata": {"name": f"{policy_name}-{c.severity}-{i + 1}"},
                            "spec": {"severity": severity, "condition": condition}}],
            "notificationTargets": [{"targetRef": TARGET_NAME}]}})
    if not policies:
        warnings.append(f"{where}: both severities are disabled, which OpenSLO cannot say (an AlertPolicy holds "
                        "exactly one condition): the converted SLO alerts with the built-in table")
        return meta, body, warnings
    body["alertPolicies"] = policies
    return meta, body, warnings
