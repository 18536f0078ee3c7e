"""One objective of an OpenSLO SLO: the spec's rules, then one loadgate ``Objective``.

``read_objective(...)`` checks an item of ``spec.objectives`` (exactly one of ``target`` and
``targetPercent``; ``op`` and ``value`` required on a thresholdMetric and not allowed on a
ratioMetric; ``timeSliceTarget`` and ``timeSliceWindow`` as the budgeting method requires) against
the SLO's indicator, reporting every problem on the file's parser, and maps it:

* a ratioMetric: ``promql_ratio`` (Occurrences, Timeslices by ``timeSliceTarget``, RatioTimeslices);
* a thresholdMetric: ``promql_threshold``, the share of points meeting ``op value``
  (Occurrences), of ``timeSliceWindow`` slices whose share of such points reaches
  ``timeSliceTarget`` (Timeslices), or the mean of the slices' shares (RatioTimeslices).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from yaml.nodes import Node, ScalarNode

from slo import model
from slo.located import describe
from slo.model import Objective, Target
from slo.openslo.documents import OPS, Doc, FileParser, duration_field, number_field
from slo.openslo.queries import ratio_template

__all__ = ["OBJECTIVE_FIELDS", "read_objective", "slug"]

OBJECTIVE_FIELDS = ("displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow",
                    "indicator", "indicatorRef", "compositeWeight")
_OP_LIST = ", ".join(OPS)
#: A note about a node: (parser, node, path, text).
Note = Callable[[FileParser, Node, str, str], None]


def read_objective(doc: Doc, node: Node, path: str, index: int, count: int, method: str | None,
                   kind: str | None, indicator: dict[str, Any] | None, title: str, description: str,
                   period: float | None, note: Note) -> Objective | None:
    """The loadgate objective for item ``index`` of ``count`` in an SLO's ``spec.objectives``
    (``node``, at ``path``), or None with its problems reported on ``doc.parser``. ``method`` is
    the SLO's budgeting method (None when unsound), ``kind`` its indicator's (``ratio``,
    ``threshold``, or None when unknown), ``indicator`` what loadgate grades of it (None when it
    cannot), ``period`` its time window in seconds."""
    p = doc.parser
    fields = p.mapping(node, path, OBJECTIVE_FIELDS)
    if fields is None:
        return None
    before = len(p.issues)
    display = p.string(fields["displayName"][1], f"{path}.displayName") if "displayName" in fields else None
    if "compositeWeight" in fields:
        weight = number_field(p, fields["compositeWeight"][1], f"{path}.compositeWeight", "compositeWeight")
        if weight is not None and weight <= 0:
            p.error(fields["compositeWeight"][1], f"{path}.compositeWeight",
                    f"compositeWeight must be greater than 0 (found {weight:g})")
    target = _target(p, fields, node, path)
    op, value = _comparison(p, fields, node, path, kind)
    slice_s = slice_target = None
    if method in (model.TIMESLICES, model.RATIO_TIMESLICES):
        if "timeSliceWindow" not in fields:
            p.error(node, f"{path}.timeSliceWindow", f"timeSliceWindow is required with budgetingMethod {method}: a "
                                                     "duration such as 1m (a bare number is minutes)")
        else:
            slice_s = duration_field(p, fields["timeSliceWindow"][1], f"{path}.timeSliceWindow", minutes=True)
    if method == model.TIMESLICES:
        if "timeSliceTarget" not in fields:
            p.error(node, f"{path}.timeSliceTarget", "timeSliceTarget is required with budgetingMethod Timeslices: "
                                                     "the share in (0, 1] that makes a slice good")
        else:
            slice_target = _fraction(p, fields["timeSliceTarget"][1], f"{path}.timeSliceTarget", "timeSliceTarget",
                                     upper=1.0, closed=True)
    for key in ("timeSliceTarget", "timeSliceWindow"):
        ignored = method == model.OCCURRENCES or (method == model.RATIO_TIMESLICES and key == "timeSliceTarget")
        if key in fields and ignored:
            note(p, fields[key][0], f"{path}.{key}", f"ignored: budgetingMethod {method} does not use it")
    if len(p.issues) != before or indicator is None or target is None or method is None:
        return None
    oid = slug(doc.name)
    if count > 1:
        oid = f"{oid}_{slug(display) if display else index + 1}"
    line = node.start_mark.line + 1
    common: dict[str, Any] = dict(
        id=oid, title=f"{title}: {display}" if display and count > 1 else (display or title),
        description=description, line=line, budgeting=method, period_s=period,
        origin=f"{p.file}:{line}", slice_seconds=slice_s, slice_target=slice_target)
    if indicator["type"] == "threshold":
        assert op is not None and value is not None
        # The query is used as written (a selector is refused, never added to it).
        return Objective(kind=model.PROMQL_THRESHOLD, target=Target(">=", target), query=indicator["query"],
                         point_op=op, point_value=value, takes_selector=False, **common)
    counter = indicator["counter"]
    parts: dict[str, str] = {}
    notes: list[str] = []
    takes = True
    for key in ("good", "bad", "total"):
        if indicator.get(key) is not None:
            template, approx, ok = ratio_template(indicator[key], counter)
            parts[key] = template
            takes = takes and ok
            if approx and approx not in notes:
                notes.append(approx)
    good = "good" in parts
    if method != model.OCCURRENCES or good:
        tgt = Target(">=", target)
    else:
        tgt = Target("<=", round(1.0 - target, 12))
    return Objective(kind=model.PROMQL_RATIO, target=tgt, good=parts.get("good"), bad=parts.get("bad"),
                     total=parts["total"], note="; ".join(notes), takes_selector=takes, **common)


def _comparison(p: FileParser, fields: dict[str, tuple[Node, Node]], node: Node, path: str,
                kind: str | None) -> tuple[str | None, float | None]:
    """``op`` and ``value``: required on a thresholdMetric objective, not allowed on a ratioMetric one."""
    if kind == "ratio":
        for key in ("op", "value"):
            if key in fields:
                p.error(fields[key][0], f"{path}.{key}", f"{key} is not allowed on a ratioMetric objective (op and "
                                                         "value compare a thresholdMetric's values)")
        return None, None
    op = value = None
    if "op" in fields:
        text = p.string(fields["op"][1], f"{path}.op")
        if text is not None and text not in OPS:
            p.error(fields["op"][1], f"{path}.op", f"op must be one of {_OP_LIST} (found {text!r})")
        elif text is not None:
            op = OPS[text]
    elif kind == "threshold":
        p.error(node, f"{path}.op", f"op is required on a thresholdMetric objective: one of {_OP_LIST}")
    if "value" in fields:
        value = number_field(p, fields["value"][1], f"{path}.value", "value")
    elif kind == "threshold":
        p.error(node, f"{path}.value", "value is required on a thresholdMetric objective: the number op compares "
                                       "the query's value with")
    return op, value


def _target(p: FileParser, fields: dict[str, tuple[Node, Node]], node: Node, path: str) -> float | None:
    has_t, has_p = "target" in fields, "targetPercent" in fields
    if has_t == has_p:
        p.error(node, f"{path}.target", "exactly one of target (in [0, 1)) and targetPercent (in [0, 100)) "
                                        f"(found {'both' if has_t else 'neither'})")
        return None
    if has_t:
        return _fraction(p, fields["target"][1], f"{path}.target", "target", upper=1.0)
    percent = _fraction(p, fields["targetPercent"][1], f"{path}.targetPercent", "targetPercent", upper=100.0)
    return None if percent is None else round(percent / 100.0, 12)


def _fraction(p: FileParser, node: Node, path: str, what: str, upper: float, closed: bool = False) -> float | None:
    raw = p.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw:
        p.error(node, path, f"{what} must be a number (found {describe(node, raw)})")
        return None
    value = float(raw)
    ok = 0 < value <= upper if closed else 0 <= value < upper
    if not ok:
        bounds = f"(0, {upper:g}]" if closed else f"[0, {upper:g})"
        p.error(node, path, f"{what} is in {bounds} (found {value:g})")
        return None
    return value


def slug(text: str) -> str:
    """A loadgate id for an OpenSLO name: lower case, ``_`` for every run of other characters."""
    out = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return out if out and out[0].isalpha() else f"slo_{out}"
