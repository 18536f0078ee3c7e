"""What an OpenSLO SLO says about its alert rules: its labels, its Service's, and its alertPolicies.

The documents were checked by OpenSLO's rules already (``slo.openslo.kinds``); this module reads
them again for ``loadgate rules`` and reports only what the rules need beyond OpenSLO: a label key
that is no Prometheus label name, or one loadgate writes itself (``slo.rules_spec``).

* ``metadata.labels`` of the SLO's Service, then of the SLO, go on every record and alert; a label's
  value is a string, or a list of strings joined with ``,`` (``tags: [tier-1, web]`` becomes
  ``tags="tier-1,web"``).
* Each ``alertPolicies`` item, inline or an ``alertPolicyRef``, becomes alerts named after the
  policy in CamelCase (``checkout-availability-burn`` becomes ``CheckoutAvailabilityBurn``), with
  its ``metadata.labels``, its ``description`` (annotation ``description``) and its notification
  targets (annotation ``notification_targets``: ``name: target (description)``, ``;`` between).
  Each burnrate ``AlertCondition`` is one condition: ``threshold`` is the burn rate over
  ``lookbackWindow`` and lookbackWindow/12, ``alertAfter`` the rule's ``for``, its ``severity`` the
  ``severity`` label. ``alertWhenNoData: true`` asks for the absent alert.
* The SLO's ``metadata.annotations.runbook_url`` (or ``runbook``) becomes the alerts' ``runbook_url``.
"""

from __future__ import annotations

import re
from typing import Callable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo.model import AlertPolicy, Labels, PolicyCondition
from slo.openslo.documents import Doc, FileParser
from slo.rules import SHORT_PER_LONG
from slo.rules_spec import label_problem
from slo.units import UnitError, parse_openslo_duration

__all__ = ["camel_case", "doc_labels", "doc_runbook", "slo_policies"]

#: Documents by kind and name, as the set read them.
ByKind = dict[str, dict[str, Doc]]
Note = Callable[[FileParser, Node, str, str], None]


def camel_case(name: str) -> str:
    """An alert name from a document name: ``checkout-availability-burn`` -> ``CheckoutAvailabilityBurn``."""
    parts = [w for w in re.split(r"[^a-zA-Z0-9]+", name) if w]
    out = "".join(w[:1].upper() + w[1:] for w in parts)
    return out if out and not out[0].isdigit() else f"Alert{out}"


def _get(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)


def _str(p: FileParser, node: Node | None) -> str | None:
    value = p.scalar(node) if isinstance(node, ScalarNode) else None
    return value if isinstance(value, str) else None


def doc_labels(p: FileParser, metadata: Node | None, path: str) -> Labels:
    """A document's ``metadata.labels`` for the rules: a list's strings joined with ``,``; a key that
    cannot be a Prometheus label is reported (its value's shape was checked by OpenSLO's rules)."""
    node = _get(metadata, "labels")
    if not isinstance(node, MappingNode):
        return ()
    out: dict[str, str] = {}
    for key_node, value in node.value:
        key = _str(p, key_node)
        if key is None:
            continue
        problem = label_problem(key)
        if problem:
            p.error(key_node, f"{path}.labels.{key}", f"{problem}: the label goes on the alert rules")
            continue
        items = value.value if isinstance(value, SequenceNode) else [value]
        texts = [_str(p, i) for i in items]
        if all(t is not None for t in texts):
            out[key] = ",".join(t for t in texts if t is not None)
    return tuple(out.items())


def doc_runbook(p: FileParser, metadata: Node | None) -> str | None:
    """The SLO's ``metadata.annotations.runbook_url`` (or ``runbook``), the alerts' ``runbook_url``."""
    notes = _get(metadata, "annotations")
    return _str(p, _get(notes, "runbook_url")) or _str(p, _get(notes, "runbook"))


def _resolve(p: FileParser, node: Node, ref_key: str, kind: str, by_kind: ByKind) -> tuple[FileParser, Node | None,
                                                                                         Node | None] | None:
    """An inline document's or a reference's ``(parser, metadata, spec)``; None for a reference to
    nothing in the set (a note says so)."""
    ref = _str(p, _get(node, ref_key))
    if ref is not None:
        doc = by_kind[kind].get(ref)
        return None if doc is None else (doc.parser, doc.fields["metadata"][1], doc.spec)
    return p, _get(node, "metadata"), _get(node, "spec")


def _seconds(p: FileParser, node: Node | None) -> float | None:
    text = _str(p, node)
    try:
        return parse_openslo_duration(text) if text else None
    except UnitError:
        return None


def _condition(p: FileParser, spec: Node | None, path: str, note: Note) -> PolicyCondition | None:
    cond = _get(spec, "condition")
    severity = _str(p, _get(spec, "severity"))
    threshold = _get(cond, "threshold")
    raw = p.scalar(threshold) if isinstance(threshold, ScalarNode) else None
    long_s = _seconds(p, _get(cond, "lookbackWindow"))
    if severity is None or not isinstance(raw, (int, float)) or isinstance(raw, bool) or not long_s:
        return None
    op = _str(p, _get(cond, "op"))
    if op in ("lt", "lte") and cond is not None:
        note(p, cond, path, f"op {op}: loadgate alerts when the burn rate is above the threshold (gte)")
    return PolicyCondition(severity=severity, factor=float(raw), long_s=long_s, short_s=long_s / SHORT_PER_LONG,
                           for_s=_seconds(p, _get(cond, "alertAfter")) or 0.0)


def _targets(p: FileParser, spec: Node | None, by_kind: ByKind) -> str:
    items = _get(spec, "notificationTargets")
    out = []
    for item in items.value if isinstance(items, SequenceNode) else []:
        found = _resolve(p, item, "targetRef", "AlertNotificationTarget", by_kind)
        if found is None:
            continue
        tp, meta, tspec = found
        name, target = _str(tp, _get(meta, "name")), _str(tp, _get(tspec, "target"))
        about = _str(tp, _get(tspec, "description"))
        if name and target:
            out.append(f"{name}: {target}" + (f" ({about})" if about else ""))
    return "; ".join(out)


def slo_policies(doc: Doc, spec: dict[str, tuple[Node, Node]], by_kind: ByKind,
                 note: Note) -> tuple[AlertPolicy, ...] | None:
    """The SLO's ``alertPolicies`` as ``AlertPolicy`` values; None when it has none (the built-in
    table then). A reference to nothing in the set is left out (a note says so, from the set)."""
    p = doc.parser
    items = spec["alertPolicies"][1] if "alertPolicies" in spec else None
    if not isinstance(items, SequenceNode) or not items.value:
        return None
    out = []
    for i, item in enumerate(items.value):
        found = _resolve(p, item, "alertPolicyRef", "AlertPolicy", by_kind)
        if found is None:
            continue
        pp, meta, pspec = found
        name = _str(pp, _get(meta, "name"))
        if name is None:
            continue
        ref = _str(p, _get(item, "alertPolicyRef"))
        path = f"AlertPolicy/{ref}.spec" if ref else f"{doc.where}.spec.alertPolicies[{i}].spec"
        conditions = []
        listed = _get(pspec, "conditions")
        for j, c in enumerate(listed.value if isinstance(listed, SequenceNode) else []):
            cfound = _resolve(pp, c, "conditionRef", "AlertCondition", by_kind)
            if cfound is not None:
                condition = _condition(cfound[0], cfound[2], f"{path}.conditions[{j}]", note)
                if condition is not None:
                    conditions.append(condition)
        notes = {"description": _str(pp, _get(pspec, "description")) or "",
                 "notification_targets": _targets(pp, pspec, by_kind)}
        flag = _get(pspec, "alertWhenNoData")
        no_data = pp.scalar(flag) if isinstance(flag, ScalarNode) else None
        where = path.removesuffix(".spec") + ".metadata"
        out.append(AlertPolicy(name=camel_case(name), labels=doc_labels(pp, meta, where),
                               annotations=tuple((k, v) for k, v in notes.items() if v),
                               conditions=tuple(conditions), no_data=no_data is True))
    return tuple(out)
