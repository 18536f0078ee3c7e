"""The OpenSLO v1 kinds loadgate reads but does not grade, checked by the spec's rules.

``DataSource`` (its type is what an SLI's ``metricSourceRef`` infers), ``Service``,
``AlertPolicy``, ``AlertCondition`` and ``AlertNotificationTarget``, standing alone or inlined
(an SLO's ``alertPolicies``, a policy's ``conditions`` and ``notificationTargets``). A valid one
is read and ignored (``loadgate rules`` writes burn-rate alerts from the SLOs instead); an
invalid one is refused for the rule it breaks. References (``alertPolicyRef``, ``conditionRef``,
``targetRef``) are collected as ``Ref`` so the set can say which name nothing in it defines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from yaml.nodes import MappingNode, Node, SequenceNode

from slo.located import describe
from slo.openslo.documents import OPS, FileParser, description_field, duration_field, name_field, number_field

__all__ = ["Ref", "data_source", "service", "alert_policy", "alert_condition", "notification_target",
           "slo_alert_policy", "CONDITION_KINDS"]

#: The kinds of alert condition OpenSLO v1 defines.
CONDITION_KINDS = ("burnrate",)
_OP_LIST = ", ".join(OPS)


@dataclass(frozen=True)
class Ref:
    """A reference to a document by kind and name, where it was written."""

    parser: FileParser
    node: Node
    path: str
    kind: str
    name: str


Refs = list[Ref]
Check = Callable[[FileParser, Node, str, Refs], None]


def _spec(p: FileParser, node: Node | None, path: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
    if node is None:
        return {}
    return p.mapping(node, path, allowed) or {}


def data_source(p: FileParser, node: Node | None, path: str) -> tuple[str | None, Node | None]:
    """A DataSource's spec: ``type`` and ``connectionDetails`` required. Its type (None when it
    has a problem) and its ``connectionDetails`` key node, for the note that loadgate ignores them."""
    spec = _spec(p, node, path, ("description", "type", "connectionDetails"))
    where = node if node is not None else 0
    description_field(p, spec, path)
    kind = None
    if "type" not in spec:
        p.error(where, f"{path}.type", "type is required: the data source's type, such as Prometheus")
    else:
        kind = p.string(spec["type"][1], f"{path}.type")
    if "connectionDetails" not in spec:
        p.error(where, f"{path}.connectionDetails", "connectionDetails is required (anything that is YAML; "
                                                    "loadgate does not use it)")
        return kind, None
    return kind, spec["connectionDetails"][0]


def service(p: FileParser, node: Node | None, path: str, refs: Refs) -> None:
    """A Service's spec: an optional ``description`` and nothing else."""
    description_field(p, _spec(p, node, path, ("description",)), path)


def notification_target(p: FileParser, node: Node | None, path: str, refs: Refs) -> None:
    """An AlertNotificationTarget's spec: ``target`` required."""
    spec = _spec(p, node, path, ("description", "target"))
    description_field(p, spec, path)
    if "target" not in spec:
        p.error(node if node is not None else 0, f"{path}.target",
                "target is required: where notifications go, such as email or slack")
    else:
        p.string(spec["target"][1], f"{path}.target")


def alert_condition(p: FileParser, node: Node | None, path: str, refs: Refs) -> None:
    """An AlertCondition's spec: ``severity`` and a ``condition`` of kind ``burnrate`` with ``op``,
    ``threshold`` and ``lookbackWindow`` (``alertAfter`` optional)."""
    spec = _spec(p, node, path, ("description", "severity", "condition"))
    where = node if node is not None else 0
    description_field(p, spec, path)
    if "severity" not in spec:
        p.error(where, f"{path}.severity", "severity is required, such as page or ticket")
    else:
        p.string(spec["severity"][1], f"{path}.severity")
    if "condition" not in spec:
        p.error(where, f"{path}.condition", "condition is required (kind burnrate, op, threshold, lookbackWindow)")
        return
    cnode = spec["condition"][1]
    cp = f"{path}.condition"
    cond = p.mapping(cnode, cp, ("kind", "op", "threshold", "lookbackWindow", "alertAfter"))
    if cond is None:
        return
    if "kind" in cond:  # the spec: it defaults to burnrate
        kind = p.string(cond["kind"][1], f"{cp}.kind")
        if kind is not None and kind not in CONDITION_KINDS:
            p.error(cond["kind"][1], f"{cp}.kind", f"AlertCondition.spec.condition.kind must be burnrate "
                                                   f"(found {kind!r})")
            return
    if "op" not in cond:
        p.error(cnode, f"{cp}.op", f"op is required for a burnrate condition: one of {_OP_LIST}")
    else:
        op = p.string(cond["op"][1], f"{cp}.op")
        if op is not None and op not in OPS:
            p.error(cond["op"][1], f"{cp}.op", f"op must be one of {_OP_LIST} (found {op!r})")
    if "threshold" not in cond:
        p.error(cnode, f"{cp}.threshold", "threshold is required for a burnrate condition: the burn rate to "
                                          "compare with")
    else:
        number_field(p, cond["threshold"][1], f"{cp}.threshold", "threshold")
    if "lookbackWindow" not in cond:
        p.error(cnode, f"{cp}.lookbackWindow", "lookbackWindow is required for a burnrate condition: a duration "
                                               "such as 1h")
    else:
        duration_field(p, cond["lookbackWindow"][1], f"{cp}.lookbackWindow")
    if "alertAfter" in cond:
        duration_field(p, cond["alertAfter"][1], f"{cp}.alertAfter")


def alert_policy(p: FileParser, node: Node | None, path: str, refs: Refs) -> None:
    """An AlertPolicy's spec: exactly one condition and at least one notification target, each
    inline or by reference; the three ``alertWhen*`` flags are booleans."""
    spec = _spec(p, node, path, ("description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching",
                                 "conditions", "notificationTargets"))
    where = node if node is not None else 0
    description_field(p, spec, path)
    for key in ("alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"):
        if key in spec:
            p.boolean(spec[key][1], f"{path}.{key}")
    for key, ref_key, kind, check, count in (
            ("conditions", "conditionRef", "AlertCondition", alert_condition, "exactly one condition"),
            ("notificationTargets", "targetRef", "AlertNotificationTarget", notification_target,
             "at least one target")):
        if key not in spec:
            p.error(where, f"{path}.{key}", f"{key} is required: {count}")
            continue
        items = spec[key][1]
        if not isinstance(items, SequenceNode):
            p.error(items, f"{path}.{key}", f"{key} must be a list of {count} (found {describe(items)})")
            continue
        found = len(items.value)
        if (key == "conditions" and found != 1) or found == 0:
            p.error(items, f"{path}.{key}", f"{key} holds {count} (found {found})")
        for i, item in enumerate(items.value):
            inline_or_ref(p, item, f"{path}.{key}[{i}]", ref_key, kind, check, refs)


def slo_alert_policy(p: FileParser, node: Node, path: str, refs: Refs) -> None:
    """One item of an SLO's ``alertPolicies``: an ``alertPolicyRef``, or an inline AlertPolicy."""
    inline_or_ref(p, node, path, "alertPolicyRef", "AlertPolicy", alert_policy, refs)


def inline_or_ref(p: FileParser, node: Node, path: str, ref_key: str, kind: str, check: Check, refs: Refs) -> None:
    """``{REF_KEY: name}`` or an inline ``{kind: KIND, metadata, spec}``, exactly one of the two."""
    fields = p.mapping(node, path, (ref_key, "kind", "metadata", "spec"))
    if fields is None:
        return
    inline = [k for k in ("kind", "metadata", "spec") if k in fields]
    if (ref_key in fields) == bool(inline):
        p.error(node, path, f"exactly one of {ref_key} and an inline {kind} (kind, metadata, spec) "
                            f"(found {'both' if inline else 'neither'})")
        return
    if ref_key in fields:
        name = name_field(p, fields[ref_key][1], f"{path}.{ref_key}", ref_key)
        if name is not None:
            refs.append(Ref(p, fields[ref_key][1], f"{path}.{ref_key}", kind, name))
        return
    if "kind" not in fields:
        p.error(node, f"{path}.kind", f"kind is required on an inline {kind}: {kind}")
    else:
        given = p.string(fields["kind"][1], f"{path}.kind")
        if given is not None and given != kind:
            p.error(fields["kind"][1], f"{path}.kind", f"an inline {kind}'s kind must be {kind} (found {given!r})")
    if "metadata" not in fields:
        p.error(node, f"{path}.metadata", "metadata is required (with metadata.name)")
    else:
        p.metadata(fields["metadata"][1], f"{path}.metadata")
    if "spec" not in fields or not isinstance(fields["spec"][1], MappingNode):
        p.error(fields["spec"][1] if "spec" in fields else node, f"{path}.spec",
                f"spec is required on an inline {kind} (a mapping)")
        return
    check(p, fields["spec"][1], f"{path}.spec", refs)
