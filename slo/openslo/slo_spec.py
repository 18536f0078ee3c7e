"""An SLO's ``spec`` checked by OpenSLO's rules: ``service``, ``timeWindow``, ``budgetingMethod``,
``objectives`` and ``alertPolicies``; its objectives mapped by ``slo.openslo.objective``.

The indicator is resolved by the set (``slo.openslo.read``), which hands in its kind and what
loadgate grades of it. Without a ``timeWindow`` (the spec makes it optional) the SLO is graded
over the gate's window like any other, and alert rules assume loadgate's 30-day period: a note
says so.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo import model
from slo.located import describe
from slo.model import Objective
from slo.openslo.documents import Doc, FileParser, description_field, duration_field
from slo.openslo.kinds import Refs, slo_alert_policy
from slo.openslo.objective import Note, read_objective
from slo.rules import PERIOD_S
from slo.units import format_prom_duration

__all__ = ["SLO_FIELDS", "is_composite", "slo_objectives"]

SLO_FIELDS = ("description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives",
              "alertPolicies")
_METHODS = ", ".join(model.BUDGETING_METHODS)
_START_FORMAT = "%Y-%m-%d %H:%M:%S"


def is_composite(p: FileParser, spec: dict[str, tuple[Node, Node]]) -> bool:
    """Whether any objective names its own indicator (a composite SLO)."""
    items = spec["objectives"][1] if "objectives" in spec else None
    if not isinstance(items, SequenceNode):
        return False
    return any(_has_key(item, "indicator") or _has_key(item, "indicatorRef") for item in items.value)


def _has_key(node: Node, key: str) -> bool:
    return isinstance(node, MappingNode) and any(isinstance(k, ScalarNode) and k.value == key for k, _ in node.value)


def slo_objectives(doc: Doc, spec: dict[str, tuple[Node, Node]], kind: str | None,
                   indicator: dict[str, Any] | None, note: Note, refs: Refs) -> list[Objective]:
    """The SLO's objectives as loadgate objectives, with every problem of its spec reported (then none)."""
    p, where = doc.parser, doc.where
    assert doc.spec is not None
    node = doc.spec
    before = len(p.issues)
    description = description_field(p, spec, f"{where}.spec")
    if "service" not in spec:
        p.error(node, f"{where}.spec.service", "service is required: the name of the service the SLO is about")
    else:
        p.string(spec["service"][1], f"{where}.spec.service")
    period = _time_window(p, spec, node, where, note)
    method = None
    if "budgetingMethod" not in spec:
        p.error(node, f"{where}.spec.budgetingMethod", f"budgetingMethod is required: one of {_METHODS}")
    else:
        value = p.string(spec["budgetingMethod"][1], f"{where}.spec.budgetingMethod")
        if value is not None and value not in model.BUDGETING_METHODS:
            p.error(spec["budgetingMethod"][1], f"{where}.spec.budgetingMethod",
                    f"budgetingMethod must be one of {_METHODS} (found {value!r})")
        elif value is not None:
            method = value
    if "alertPolicies" in spec:
        policies = spec["alertPolicies"][1]
        if not isinstance(policies, SequenceNode):
            p.error(policies, f"{where}.spec.alertPolicies",
                    f"alertPolicies must be a list (found {describe(policies)})")
        else:
            for i, item in enumerate(policies.value):
                slo_alert_policy(p, item, f"{where}.spec.alertPolicies[{i}]", refs)
            note(p, spec["alertPolicies"][0], where, "alertPolicies: read, not graded; 'loadgate rules' writes "
                                                     "their burn-rate alerts")
    if "objectives" not in spec:
        p.error(node, f"{where}.spec.objectives", "objectives is required: a non-empty list")
        return []
    items = spec["objectives"][1]
    if not isinstance(items, SequenceNode) or not items.value:
        p.error(items, f"{where}.spec.objectives", f"objectives must be a non-empty list (found {describe(items)})")
        return []
    if kind == "threshold" and len(items.value) > 1:
        p.error(items.value[1], f"{where}.spec.objectives", "a thresholdMetric SLO has only one objective (found "
                                                            f"{len(items.value)}): give each threshold its own SLO")
    title = p.peek(doc.fields["metadata"][1], "displayName") or doc.name
    out = []
    for index, item in enumerate(items.value):
        objective = read_objective(doc, item, f"{where}.spec.objectives[{index}]", index, len(items.value),
                                   method, kind, indicator, title, description, period, note)
        if objective is not None:
            out.append(objective)
    return out if len(p.issues) == before else []


def _time_window(p: FileParser, spec: dict[str, tuple[Node, Node]], node: Node, where: str,
                 note: Note) -> float | None:
    """The SLO's period in seconds, or None (no ``timeWindow``, or a problem with it, reported)."""
    if "timeWindow" not in spec:
        note(p, node, where, f"no timeWindow: graded over the gate's window; alert rules assume "
                             f"{format_prom_duration(int(PERIOD_S))}")
        return None
    windows = spec["timeWindow"][1]
    if not isinstance(windows, SequenceNode) or len(windows.value) != 1:
        count = len(windows.value) if isinstance(windows, SequenceNode) else describe(windows)
        p.error(windows, f"{where}.spec.timeWindow", f"timeWindow holds exactly one time window (found {count})")
        return None
    path = f"{where}.spec.timeWindow[0]"
    item = windows.value[0]
    window = p.mapping(item, path, ("duration", "isRolling", "calendar"))
    if window is None:
        return None
    seconds = None
    if "duration" not in window:
        p.error(item, f"{path}.duration", "duration is required: the window's length, such as 28d or 1M")
    else:
        seconds = duration_field(p, window["duration"][1], f"{path}.duration")
    rolling = p.boolean(window["isRolling"][1], f"{path}.isRolling") if "isRolling" in window else None
    if "calendar" in window:
        if rolling is True:
            p.error(window["calendar"][0], f"{path}.calendar", "calendar cannot be set when isRolling is true")
        _calendar(p, window["calendar"][1], f"{path}.calendar")
    elif rolling is False:
        p.error(item, f"{path}.calendar", "calendar is required when isRolling is false (startTime and timeZone)")
    return seconds


def _calendar(p: FileParser, node: Node, path: str) -> None:
    calendar = p.mapping(node, path, ("startTime", "timeZone"))
    if calendar is None:
        return
    for key in ("startTime", "timeZone"):
        if key not in calendar:
            p.error(node, f"{path}.{key}", f"{key} is required in a calendar")
    if "startTime" in calendar:
        value = calendar["startTime"][1]
        text = value.value if isinstance(value, ScalarNode) else None  # YAML would read it as a timestamp
        try:
            datetime.strptime(str(text), _START_FORMAT)
        except ValueError:
            p.error(value, f"{path}.startTime", f"startTime must be a date and time as 2022-01-21 12:30:00, without "
                                                f"a time zone (found {describe(value)})")
    if "timeZone" in calendar:
        zone = p.string(calendar["timeZone"][1], f"{path}.timeZone")
        if zone is not None and _zones() and zone not in _zones():
            p.error(calendar["timeZone"][1], f"{path}.timeZone",
                    f"timeZone must be a name from the IANA time zone database, such as America/New_York "
                    f"(found {zone!r})")


@functools.cache
def _zones() -> frozenset[str]:
    """The IANA names this machine knows; empty (and then unchecked) without a time zone database."""
    return frozenset(zoneinfo.available_timezones())
