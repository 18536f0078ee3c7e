"""The labels and alerting rules of one objective, for ``slo.rules``. Pure.

Identity: every record and alert carries ``slo`` (the id, or OpenSLO's ``metadata.name`` exactly
as written), ``service`` (loadgate/v1 ``service:``, OpenSLO ``spec.service``, else the spec's
name), ``spec`` (the spec's name) and ``objective`` (loadgate's id, which ``--expect-alerts``, the
report and ``verdict.json`` name), then the selector's equality matchers, then the user's labels
(the spec's, the objective's or its OpenSLO Service's and SLO's, ``--label``).

Burn-rate alerts add ``loadgate_severity`` (``page`` or ``ticket``: it never changes, and the drills
read it) and ``severity`` (``critical`` for page and ``warning`` for ticket, the Alertmanager
convention, unless ``alerting.page.labels`` or an OpenSLO condition says otherwise). The absent
alert (``SLOMetricAbsent``) fires when the objective's total series has been absent for
``alerting.absent.for`` (10m); it is a ticket. So is ``SLOTrafficLow`` (``alerting.min_traffic``,
opt-in): the total's rate below a floor.

Annotations: ``title`` and ``summary`` are Go templates over the alert's labels
(``{{ $labels.service }}/{{ $labels.slo }}``) and its value (``{{ $value | humanize }}``: the
current burn rate, the short window's, which each condition puts first); ``description`` is the
objective's (else the spec's), ``runbook`` a stable text, ``runbook_url`` ``alerting.runbook_url``.
Text from the spec is escaped so it is never read as a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis import queries as q
from slo import model
from slo.model import Alerting, MinTraffic, Objective, Routing, Spec
from slo.rules_sli import number, sliced
from slo.units import OP_SYMBOLS, format_value
from slo.units import format_prom_duration as prom_duration

__all__ = ["ALERT_NAME", "ABSENT_NAME", "ABSENT_FOR_S", "TRAFFIC_NAME", "traffic_alert", "literal",
           "burn_of", "DEFAULT_SEVERITY", "RECORD_PREFIX", "BurnWindow",
           "AlertRule", "RulesError", "identity", "burn_alerts", "absent_alert", "alerting_of", "selector_text"]

ALERT_NAME = "ErrorBudgetBurn"
ABSENT_NAME = "SLOMetricAbsent"
ABSENT_FOR_S = 600
TRAFFIC_NAME = "SLOTrafficLow"
RECORD_PREFIX = "slo:sli_error:ratio_rate"
#: The ``severity`` label of each loadgate severity unless routed otherwise.
DEFAULT_SEVERITY = {"page": "critical", "ticket": "warning"}


class RulesError(ValueError):
    """Rules that cannot be written as asked (a label that clashes with the selector's)."""


@dataclass(frozen=True)
class BurnWindow:
    """One alert condition: the bad ratio above ``factor`` x budget over both windows (seconds).
    ``severity`` is ``page`` or ``ticket``; ``label`` the ``severity`` label and ``alert`` the alert
    name an OpenSLO condition gives ("" for the defaults); ``for_s`` its ``for``."""

    severity: str
    factor: float
    long_s: int
    short_s: int
    label: str = ""
    alert: str = ""
    for_s: int = 0


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule of an objective: its name, loadgate severity (``page``, ``ticket``; the
    absent alert is a ticket), its burn conditions (none for the absent alert) and the rule."""

    name: str
    severity: str
    conditions: tuple[BurnWindow, ...]
    rule: dict[str, Any]
    for_s: int = 0
    #: ``burn``, ``absent`` or ``traffic`` (the floor of ``alerting.min_traffic``).
    kind: str = "burn"

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = self.rule["labels"]
        return labels


def alerting_of(spec: Spec, o: Objective) -> Alerting:
    """The objective's ``alerting:`` laid over the spec's."""
    return o.alerting.over(spec.alerting)


def identity(spec: Spec, o: Objective, selector_labels: dict[str, str],
             extra: tuple[tuple[str, str], ...] = ()) -> tuple[dict[str, str], dict[str, str]]:
    """The labels that select the objective's records (identity and the selector's), and all its
    labels (those, then the user's). Raises ``RulesError`` when a user's label names a selector label."""
    own = {"slo": o.slo_name or o.id, "service": o.service or spec.service or spec.name, "spec": spec.name,
           "objective": o.id, **selector_labels}
    users = {**dict(spec.labels), **dict(o.labels), **dict(extra)}
    for name, value in users.items():
        if name in own:
            raise RulesError(f"{o.id}: label {name}={value!r} clashes with the selector's {name}={own[name]!r}: "
                             "the selector's equality matchers label the rules already")
    return own, {**own, **users}


def selector_text(labels: dict[str, str]) -> str:
    """``{slo="a", service="b"}``: the equality matchers of ``labels``."""
    return "{" + ", ".join(f'{k}="{q.escape_label_value(v)}"' for k, v in labels.items()) + "}"


def _target_text(o: Objective) -> str:
    unit = model.unit_of(o.kind, o.unit)
    text = f"{OP_SYMBOLS[o.target.op]} {format_value(o.target.value, unit)}"
    return f"p{o.quantile * 100:g} {text}" if o.kind == model.LATENCY and o.quantile is not None else text


def _budget_unit(o: Objective) -> str:
    if o.kind == model.PROMQL_THRESHOLD and o.budgeting == model.OCCURRENCES:
        return "points"
    return f"{prom_duration(int(round(o.slice_seconds or 60)))} slices" if sliced(o) else "events"


def _runbook(spec: Spec, o: Objective, own: dict[str, str]) -> str:
    # Stable text: never the spec's local path or a command line, so the file is the same wherever
    # it is generated, and no local path reaches the pager.
    return literal(f"SLO {own['slo']} (objective {o.id}) of service {own['service']}, spec {spec.name}. Check the "
                   f"{_title(o)} chart for when the burn began, then recent deploys and dependencies.")


def _title(o: Objective) -> str:
    # "SLO 01." must not end "SLO 01. is burning": the sentence adds its own words and stop.
    return o.title.strip().rstrip(". ") or o.id


def literal(text: str) -> str:
    """``text`` as literal text inside an annotation (a Go template): ``{{`` is escaped."""
    return text.replace("{{", '{{ "{{" }}')


def _who(o: Objective, own: dict[str, str] | None = None) -> str:
    """``{{ $labels.service }}/{{ $labels.slo }}`` and each ``group_by`` label's value, read from the
    alert's series; or, for an alert whose series carries no labels (``absent()``, a ``sum``),
    ``own``'s values written out."""
    groups = "".join(f" {g}={{{{ $labels.{g} }}}}" for g in o.group_by)
    if own is not None:
        return literal(f"{own['service']}/{own['slo']}") + groups
    return "{{ $labels.service }}/{{ $labels.slo }}" + groups


def _common_notes(spec: Spec, o: Objective, own: dict[str, str]) -> dict[str, str]:
    """``description`` (the objective's, else the spec's), the stable ``runbook`` text and
    ``runbook_url`` when ``alerting.runbook_url`` gives one."""
    out = {}
    description = o.description.strip() or spec.description.strip()
    if description:
        out["description"] = literal(description)
    out["runbook"] = _runbook(spec, o, own)
    url = alerting_of(spec, o).runbook_url
    if url:
        out["runbook_url"] = url
    return out


def burn_of(window_s: int, mine: str, budget: float) -> str:
    """The burn rate over a window: its record over the budget, without the ``window`` label so that
    two windows' records match."""
    return f"max without (window) ({RECORD_PREFIX}{prom_duration(window_s)}{mine}) / {number(budget)}"


def _grouped(conditions: tuple[BurnWindow, ...]) -> dict[tuple[str, str, str], list[BurnWindow]]:
    groups: dict[tuple[str, str, str], list[BurnWindow]] = {}
    for c in conditions:
        groups.setdefault((c.alert, c.label, c.severity), []).append(c)
    return groups


def burn_alerts(spec: Spec, o: Objective, conditions: tuple[BurnWindow, ...], own: dict[str, str],
                labels: dict[str, str], budget: float, period_s: float) -> list[AlertRule]:
    """The burn-rate alerts: one per severity of the built-in table, or one per OpenSLO policy
    condition; each condition needs both its windows' records above ``factor`` x ``budget``. A
    severity whose routing says ``disable`` gets none. ``own`` selects the records."""
    alerting = alerting_of(spec, o)
    mine = selector_text(own)
    policies = {p.name: p for p in o.policies or ()}
    out = []
    for (alert, label, severity), group in _grouped(conditions).items():
        routing = (alerting.page if severity == "page" else alerting.ticket) or Routing()
        if routing.disable:
            continue
        policy = policies.get(alert)
        # Short window first: an alert's $value is its left operand's, the current burn rate.
        parts = [f"({burn_of(c.short_s, mine, budget)} > {number(c.factor)} and "
                 f"{burn_of(c.long_s, mine, budget)} > {number(c.factor)})" for c in group]
        described = ", or ".join(f"{number(c.factor)}x over {prom_duration(c.long_s)} and "
                                 f"{prom_duration(c.short_s)}" for c in group)
        notes = {
            "title": f"{_who(o)}: {literal(_title(o))} is burning its error budget ({severity})",
            "summary": f"{literal(_title(o))} ({literal(_target_text(o))}) is burning its error budget "
                       "{{ $value | humanize }}x as fast as it may"
                       f" ({severity}: {described}; budget {number(budget * 100)} % of {_budget_unit(o)} over "
                       f"{prom_duration(int(period_s))})",
            "target": _target_text(o),
            **_common_notes(spec, o, own),
            **dict(policy.annotations if policy else ()), **dict(routing.annotations)}
        rule: dict[str, Any] = {"alert": alert or alerting.name or ALERT_NAME, "expr": "\nor\n".join(parts)}
        for_s = max(c.for_s for c in group)
        if for_s:
            rule["for"] = prom_duration(for_s)
        rule["labels"] = {**labels, **dict(policy.labels if policy else ()), "loadgate_severity": severity,
                          "severity": label or DEFAULT_SEVERITY[severity], **dict(routing.labels)}
        rule["annotations"] = notes
        out.append(AlertRule(rule["alert"], severity, tuple(group), rule, for_s))
    return out


def absent_alert(spec: Spec, o: Objective, own: dict[str, str], labels: dict[str, str],
                 total: str | None) -> AlertRule | None:
    """The alert when the objective's total series (``total``, PromQL) has been absent for
    ``alerting.absent.for``; None when it is off (``alerting.absent: false``; an OpenSLO SLO with
    alertPolicies asks for it with ``alertWhenNoData: true``)."""
    alerting = alerting_of(spec, o)
    wanted = alerting.absent
    if wanted is None:
        wanted = o.policies is None or any(p.no_data for p in o.policies)
    if not wanted or total is None:
        return None
    for_s = int(round(alerting.absent_for_s if alerting.absent_for_s is not None else ABSENT_FOR_S))
    routing = alerting.ticket or Routing()
    # absent() of a sum carries no labels of its own, so the alert's labels are exactly the rule's.
    rule: dict[str, Any] = {"alert": alerting.absent_name or ABSENT_NAME, "expr": f"absent(sum({total}))"}
    if for_s:
        rule["for"] = prom_duration(for_s)
    rule["labels"] = {**labels, "loadgate_severity": "ticket", "severity": DEFAULT_SEVERITY["ticket"],
                      **dict(routing.labels)}
    rule["annotations"] = {
        "title": f"{literal(own['service'] + '/' + own['slo'])}: {literal(_title(o))}: no data",
        "summary": f"No series of {literal(total)} for {prom_duration(for_s) if for_s else 'a moment'}: SLO "
                   f"{literal(own['slo'])} cannot be measured (a target down, or a metric renamed), so no burn-rate "
                   "alert can fire",
        **_common_notes(spec, o, own)}
    return AlertRule(rule["alert"], "ticket", (), rule, for_s, kind="absent")


def traffic_alert(spec: Spec, o: Objective, own: dict[str, str], labels: dict[str, str],
                  rate: str | None) -> AlertRule | None:
    """The traffic floor (``alerting.min_traffic``): the total's rate (``rate``, PromQL, events per
    second) below the floor for its ``for``; None when not asked for. Counters still scraped but
    flat are not absent, and no ratio alert sees them: this one does."""
    floor = alerting_of(spec, o).min_traffic
    if not isinstance(floor, MinTraffic) or rate is None:
        return None
    for_s = int(round(floor.for_s))
    rule: dict[str, Any] = {"alert": floor.name or TRAFFIC_NAME, "expr": f"{rate} < {number(floor.rate)}"}
    if for_s:
        rule["for"] = prom_duration(for_s)
    rule["labels"] = {**labels, "loadgate_severity": "ticket", "severity": DEFAULT_SEVERITY["ticket"],
                      **dict((alerting_of(spec, o).ticket or Routing()).labels)}
    rule["annotations"] = {
        "title": f"{_who(o, own)}: {literal(_title(o))}: traffic below {number(floor.rate)}/s",
        "summary": "{{ $value | humanize }} events/s, under the floor of " + f"{number(floor.rate)}/s for "
                   f"{prom_duration(for_s) if for_s else 'a moment'}: the counters are scraped but barely move, "
                   "so the burn rate says nothing",
        **_common_notes(spec, o, own)}
    return AlertRule(rule["alert"], "ticket", (), rule, for_s, kind="traffic")
