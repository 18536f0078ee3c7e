"""The alert-rule keys of a ``loadgate/v1`` spec written back: ``service``, ``labels``, ``alerting``. Pure.

``loadgate convert`` to loadgate/v1 uses it (through ``slo.spec_write``). From a loadgate/v1 spec
the keys are written as read. From OpenSLO, what ``loadgate rules`` reads of the documents becomes
the keys that make the same rules:

* ``service``: the SLOs' ``spec.service`` when they share one (loadgate/v1 has one service a
  spec; several are named in a warning, and the first kept);
* ``labels``: the Service's and SLO's ``metadata.labels``, at the top when every objective has the
  same, else on each objective;
* ``alerting``: an SLO's ``alertPolicies`` as ``name`` (the policy's CamelCased name),
  ``windows`` (each burnrate condition: its ``threshold``, ``lookbackWindow``, lookbackWindow/12
  and ``alertAfter``), ``page`` / ``ticket`` ``labels`` (the condition's ``severity`` label and the
  policy's labels) and ``annotations`` (its description and notification targets), ``absent``
  (``alertWhenNoData``); ``runbook_url`` from the SLO's annotations. What loadgate/v1 cannot say
  (several policies on one SLO, two severity labels for one loadgate severity) is a warning.
"""

from __future__ import annotations

from typing import Any

from slo.model import Alerting, Labels, Objective, Routing, Spec, WindowSpec
from slo.units import format_spec_duration

__all__ = ["alerting_doc", "policy_alerting", "rule_keys"]

_DEFAULT_SEVERITY = {"page": "critical", "ticket": "warning"}


def _routing_doc(r: Routing) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.labels:
        out["labels"] = dict(r.labels)
    if r.annotations:
        out["annotations"] = dict(r.annotations)
    if r.disable:
        out["disable"] = True
    return out


def _window_doc(w: WindowSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": w.severity}
    if w.factor is not None:
        out["factor"] = float(f"{w.factor:.12g}")
    else:
        out["budget"] = float(f"{(w.budget or 0) * 100:.12g}")
    out["long"], out["short"] = format_spec_duration(w.long_s), format_spec_duration(w.short_s)
    if w.for_s:
        out["for"] = format_spec_duration(w.for_s)
    return out


def alerting_doc(a: Alerting) -> dict[str, Any] | bool | None:
    """An ``Alerting`` as the ``alerting:`` value ``slo.rules_spec.read_alerting`` reads back;
    None when it says nothing."""
    if a.enabled is False:
        return False
    out: dict[str, Any] = {}
    if a.name:
        out["name"] = a.name
    for key, routing in (("page", a.page), ("ticket", a.ticket)):
        if routing is not None and _routing_doc(routing):
            out[key] = _routing_doc(routing)
    if a.absent is False:
        out["absent"] = False
    elif a.absent_for_s is not None:
        out["absent"] = {"for": format_spec_duration(a.absent_for_s)}
    if a.absent_name:
        out["absent_name"] = a.absent_name
    if a.min_traffic is False:
        out["min_traffic"] = False
    elif a.min_traffic is not None and a.min_traffic is not True:
        floor: dict[str, Any] = {"rate": f"{a.min_traffic.rate:.12g}/s",
                                 "for": format_spec_duration(a.min_traffic.for_s)}
        if a.min_traffic.name:
            floor["name"] = a.min_traffic.name
        out["min_traffic"] = floor
    if a.windows:
        out["windows"] = [_window_doc(w) for w in a.windows]
    if a.runbook_url:
        out["runbook_url"] = a.runbook_url
    return out or None


def policy_alerting(o: Objective) -> tuple[Alerting, list[str]]:
    """An OpenSLO objective's policies as the ``Alerting`` that writes the same alerts, and what it cannot say."""
    warnings: list[str] = []
    base = o.alerting
    if o.policies is None:
        return base, warnings
    policies = [p for p in o.policies if p.conditions] or list(o.policies[:1])
    if len({p.name for p in policies}) > 1:
        warnings.append(f"{o.id}: its alertPolicies {', '.join(p.name for p in policies)} are several alerts; "
                        f"loadgate/v1 names one (alerting.name): {policies[0].name} kept, with all conditions")
    policy = policies[0] if policies else None
    no_data = any(p.no_data for p in o.policies)
    windows: list[WindowSpec] = []
    labels: dict[str, str] = {}
    for p in policies:
        for c in p.conditions:
            severity = "page" if c.severity.lower() in ("page", "critical") else "ticket"
            if labels.setdefault(severity, c.severity) != c.severity:
                warnings.append(f"{o.id}: its {severity} conditions carry severity {labels[severity]!r} and "
                                f"{c.severity!r}; loadgate/v1 routes each severity one way: {labels[severity]!r} kept")
            windows.append(WindowSpec(severity, c.long_s, c.short_s, factor=c.factor, for_s=c.for_s))
    shared: Labels = policy.labels if policy else ()
    notes: Labels = policy.annotations if policy else ()

    def routing(severity: str) -> Routing | None:
        own = () if labels.get(severity, _DEFAULT_SEVERITY[severity]) == _DEFAULT_SEVERITY[severity] \
            else (("severity", labels[severity]),)
        if severity not in labels:
            return Routing(disable=True)
        return Routing(labels=(*shared, *own), annotations=notes) if (shared or own or notes) else None

    if shared and no_data and "ticket" in labels:
        warnings.append(f"{o.id}: its policy's labels ({', '.join(k for k, _ in shared)}) also label SLOMetricAbsent "
                        "in loadgate/v1, where alerting.ticket.labels label every ticket")
    alerting = Alerting(name=policy.name if policy else None, page=routing("page"), ticket=routing("ticket"),
                        absent=None if no_data else False, windows=tuple(windows) or None,
                        runbook_url=base.runbook_url)
    return alerting, warnings


def _effective_labels(spec: Spec, o: Objective) -> dict[str, str]:
    return {**dict(spec.labels), **dict(o.labels)}


def rule_keys(spec: Spec) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """The top-level keys (``service``, ``labels``, ``alerting``), each objective's (``labels``,
    ``alerting``, ``group_by``) and the warnings, for ``spec`` written as loadgate/v1."""
    top: dict[str, Any] = {}
    per: dict[str, dict[str, Any]] = {o.id: {} for o in spec.objectives}
    warnings: list[str] = []
    services = list(dict.fromkeys(o.service for o in spec.objectives if o.service))
    service = spec.service or (services[0] if services else "")
    if len(services) > 1:
        warnings.append(f"the SLOs are of several services ({', '.join(services)}); loadgate/v1 has one service: "
                        f"per spec, so {services[0]!r} labels every rule")
    if service and service != spec.name:
        top["service"] = service
    every = [_effective_labels(spec, o) for o in spec.objectives]
    same = bool(every) and all(e == every[0] for e in every)
    if same and every[0]:
        top["labels"] = every[0]
    top_alerting = alerting_doc(spec.alerting)
    if top_alerting is not None:
        top["alerting"] = top_alerting
    for o, labels in zip(spec.objectives, every):
        if labels and not same:
            per[o.id]["labels"] = labels
        alerting, notes = policy_alerting(o)
        warnings.extend(notes)
        doc = alerting_doc(alerting)
        if doc is not None:
            per[o.id]["alerting"] = doc
        if o.group_by:
            per[o.id]["group_by"] = list(o.group_by)
        if o.slo_name and o.slo_name != o.id:
            warnings.append(f"{o.id}: its slo label was {o.slo_name!r} (the OpenSLO name); loadgate/v1 labels its "
                            f"rules with the objective's id, {o.id!r}")
    return top, per, warnings
