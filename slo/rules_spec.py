"""The spec keys of alert rules, read from located YAML: ``service:``, ``labels:`` and ``alerting:``.

Shared by ``slo.loadgate_v1`` (top level and each objective) and ``slo.openslo`` (label names).
Every problem is reported on the ``NodeParser`` as ``file:line: field: problem``, so a bad label
name or alert name ends ``loadgate rules`` (and ``validate``) with exit 2, located.

The ``alerting:`` map, on the spec or an objective (an objective's keys win)::

    alerting:                       # or: alerting: false (records, no alerts)
      name: CheckoutBurn            # the burn-rate alert's name (default ErrorBudgetBurn)
      page:   {labels: {severity: critical, team: pay}, annotations: {...}, disable: false}
      ticket: {labels: {...}, annotations: {...}, disable: true}
      absent: {for: 10m}            # or absent: false; the alert when the total series is absent
      absent_name: SLOMetricAbsent
      min_traffic: {rate: 1/s, for: 10m, name: SLOTrafficLow}   # opt-in; or false
      windows: [{severity: page, budget: 2, long: 1h, short: 5m}, ...]   # slo.rules_windows
      runbook_url: https://runbooks/checkout

An objective's ``group_by: [route]`` splits its records and alerts by those labels (the native
kinds whose counters carry them: error_rate, latency, cache_hit_rate).
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo import model
from slo.located import NodeParser, describe
from slo.model import Alerting, Labels, MinTraffic, Routing
from slo.rules_windows import read_windows
from slo.units import UnitError, parse_duration, parse_rate

__all__ = ["RESERVED_LABELS", "LABEL_RE", "METRIC_RE", "label_problem", "read_labels", "read_alerting",
           "ALERTING_FIELDS", "read_rule_keys", "GROUPABLE_KINDS"]

#: Labels loadgate writes itself: a spec, a document or ``--label`` cannot set them.
RESERVED_LABELS = ("slo", "service", "spec", "objective", "alertname", "le", "__name__", "loadgate_severity",
                   "severity", "window")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
ALERTING_FIELDS = ("name", "page", "ticket", "absent", "absent_name", "min_traffic", "windows", "runbook_url")
#: The kinds ``group_by`` can split: their counters carry the service's own labels.
GROUPABLE_KINDS = (model.ERROR_RATE, model.LATENCY, model.CACHE_HIT_RATE)
_ROUTING_FIELDS = ("labels", "annotations", "disable")


def label_problem(name: str, routing: bool = False) -> str | None:
    """Why ``name`` cannot be a label on the rules (None when it can). ``routing``: a per-severity
    label, which may set ``severity``."""
    if not LABEL_RE.match(name) or name.startswith("__"):
        return (f"{name!r} is not a Prometheus label name (letters, digits and _, not starting with a digit "
                "or __)")
    if name in RESERVED_LABELS and not (routing and name == "severity"):
        return (f"{name!r} is reserved: loadgate writes it ({', '.join(RESERVED_LABELS)})"
                + ("; set severity under alerting.page.labels or alerting.ticket.labels" if name == "severity" else ""))
    return None


def _text(p: NodeParser, node: Node, path: str, what: str) -> str | None:
    value = p.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
        p.error(node, path, f"{what} must be a string, got {describe(node, value)}")
        return None
    return str(value)


def read_labels(p: NodeParser, node: Node, path: str, routing: bool = False, check: bool = True) -> Labels:
    """A ``{name: value}`` map of labels (or annotations, with ``check`` off), in the order written;
    each bad or reserved name is reported. A value may be a string or a number; a list of strings
    is joined with ``,`` (as OpenSLO writes several values)."""
    if not isinstance(node, MappingNode):
        p.error(node, path, f"expected a mapping of names to values, got {describe(node)}")
        return ()
    out: dict[str, str] = {}
    for key_node, value_node in node.value:
        key = p.scalar(key_node) if isinstance(key_node, ScalarNode) else None
        if not isinstance(key, str):
            p.error(key_node, path, "keys must be plain strings")
            continue
        sub = f"{path}.{key}"
        problem = label_problem(key, routing) if check else None
        if problem:
            p.error(key_node, sub, problem)
            continue
        if isinstance(value_node, SequenceNode):
            parts = [_text(p, item, sub, "each value of a list") for item in value_node.value]
            if any(v is None for v in parts):
                continue
            out[key] = ",".join(str(v) for v in parts)
        else:
            value = _text(p, value_node, sub, "a label's value" if check else "an annotation's value")
            if value is not None:
                out[key] = value
    return tuple(out.items())


def _routing(p: NodeParser, node: Node, path: str) -> Routing | None:
    fields = p.mapping(node, path, _ROUTING_FIELDS)
    if fields is None:
        return None
    labels = read_labels(p, fields["labels"][1], f"{path}.labels", routing=True) if "labels" in fields else ()
    notes = read_labels(p, fields["annotations"][1], f"{path}.annotations", check=False) \
        if "annotations" in fields else ()
    disable = p.boolean(fields["disable"][1], f"{path}.disable") if "disable" in fields else False
    return Routing(labels, notes, bool(disable))


def _metric_name(p: NodeParser, node: Node, path: str) -> str | None:
    name = p.string(node, path)
    if name is not None and not METRIC_RE.match(name):
        p.error(node, path, f"{name!r} is not a valid alert name (a Prometheus metric name: letters, digits, _ "
                            "and :, not starting with a digit)")
        return None
    return name


def read_alerting(p: NodeParser, node: Node, path: str) -> Alerting:
    """An ``alerting:`` map, or ``false`` (records only) / ``true``; its problems reported."""
    if isinstance(node, ScalarNode) and isinstance(p.scalar(node), bool):
        return Alerting(enabled=bool(p.scalar(node)))
    fields = p.mapping(node, path, ALERTING_FIELDS)
    if fields is None:
        return Alerting()
    name = _metric_name(p, fields["name"][1], f"{path}.name") if "name" in fields else None
    absent_name = _metric_name(p, fields["absent_name"][1], f"{path}.absent_name") if "absent_name" in fields \
        else None
    page = _routing(p, fields["page"][1], f"{path}.page") if "page" in fields else None
    ticket = _routing(p, fields["ticket"][1], f"{path}.ticket") if "ticket" in fields else None
    absent: bool | None = None
    absent_for: float | None = None
    if "absent" in fields:
        anode = fields["absent"][1]
        if isinstance(anode, ScalarNode) and isinstance(p.scalar(anode), bool):
            absent = bool(p.scalar(anode))
        else:
            afields = p.mapping(anode, f"{path}.absent", ("for",))
            if afields is not None:
                absent = True
                if "for" in afields:
                    parsed = p.unit_value(afields["for"][1], f"{path}.absent.for", parse_duration)
                    if parsed is not None and parsed[1] < 0:
                        p.error(afields["for"][1], f"{path}.absent.for", "a duration of at least 0s")
                    elif parsed is not None:
                        absent_for = parsed[1]
    windows = read_windows(p, fields["windows"][1], f"{path}.windows") if "windows" in fields else None
    runbook = p.string(fields["runbook_url"][1], f"{path}.runbook_url") if "runbook_url" in fields else None
    traffic = _min_traffic(p, fields["min_traffic"][1], f"{path}.min_traffic") if "min_traffic" in fields else None
    return Alerting(name=name, page=page, ticket=ticket, absent=absent, absent_for_s=absent_for,
                    absent_name=absent_name, windows=windows or None,
                    windows_name=f"{path}.windows" if windows else None, min_traffic=traffic, runbook_url=runbook)


def _min_traffic(p: NodeParser, node: Node, path: str) -> MinTraffic | bool | None:
    """``min_traffic: {rate: 1/s, for: 10m, name: X}``, or ``false`` (off)."""
    if isinstance(node, ScalarNode) and p.scalar(node) is False:
        return False
    fields = p.mapping(node, path, ("rate", "for", "name"))
    if fields is None:
        return None
    if "rate" not in fields:
        p.error(node, f"{path}.rate", "required: the floor, such as 1/s or 60/min")
        return None
    rate_node = fields["rate"][1]
    try:
        rate = parse_rate(p.scalar(rate_node) if isinstance(rate_node, ScalarNode) else "")
    except UnitError as exc:
        p.error(rate_node, f"{path}.rate", str(exc))
        return None
    if rate <= 0:
        p.error(rate_node, f"{path}.rate", "the floor must be above 0/s")
        return None
    for_s = 600.0
    if "for" in fields:
        parsed = p.unit_value(fields["for"][1], f"{path}.for", parse_duration)
        if parsed is None:
            return None
        for_s = parsed[1]
    name = _metric_name(p, fields["name"][1], f"{path}.name") if "name" in fields else None
    return MinTraffic(rate=rate, for_s=for_s, name=name)


def read_rule_keys(p: NodeParser, fields: dict[str, tuple[Node, Node]], path: str, kind: str) -> dict[str, object]:
    """An objective's ``labels``, ``alerting`` and ``group_by`` as ``Objective`` fields; problems reported."""
    out: dict[str, object] = {}
    if "labels" in fields:
        out["labels"] = read_labels(p, fields["labels"][1], f"{path}.labels")
    if "alerting" in fields:
        out["alerting"] = read_alerting(p, fields["alerting"][1], f"{path}.alerting")
    if "group_by" in fields:
        node = fields["group_by"][1]
        names = [p.scalar(n) if isinstance(n, ScalarNode) else None for n in getattr(node, "value", [])] \
            if isinstance(node, SequenceNode) else None
        if not names or not all(isinstance(n, str) for n in names):
            p.error(node, f"{path}.group_by", f"expected a list of label names, got {describe(node)}")
        elif kind not in GROUPABLE_KINDS:
            p.error(node, f"{path}.group_by", f"a {kind} objective cannot be grouped (only "
                                              f"{', '.join(GROUPABLE_KINDS)}: their counters carry the labels)")
        else:
            for i, name in enumerate(names):
                problem = label_problem(str(name))
                if problem:
                    p.error(node.value[i], f"{path}.group_by[{i}]", problem)
            out["group_by"] = tuple(str(n) for n in names)
    return out
