"""One objective of an OpenSLO SLO, mapped to one loadgate ``Objective``.

``read_objective(...)`` reads an item of ``spec.objectives`` (``target`` or ``targetPercent``,
``op``/``value`` for a ``thresholdMetric``, the time slices of ``Timeslices`` and
``RatioTimeslices``) against the SLO's indicator, reporting every problem on the file's parser.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import Node, ScalarNode

from slo import model
from slo.model import Objective, Target
from slo.openslo.documents import OPS, Doc, FileParser, duration_field
from slo.openslo.queries import ratio_template

__all__ = ["read_objective"]


def read_objective(doc: Doc, node: Node, path: str, index: int, count: int, method: str,
                   indicator: dict[str, Any] | None, title: str, description: str,
                   period: float | None) -> Objective | None:
    """The loadgate objective for item ``index`` of ``count`` in an SLO's ``spec.objectives``
    (``node``, at ``path``), or None with its problems reported on ``doc.parser``. ``method`` is
    the SLO's budgeting method, ``indicator`` its checked SLI (None when that had problems),
    ``period`` its time window in seconds."""
    p = doc.parser
    fields = p.mapping(node, path, ("displayName", "op", "value", "target", "targetPercent", "timeSliceTarget",
                                    "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight"))
    if fields is None:
        return None
    before = len(p.issues)
    for key in ("indicator", "indicatorRef", "compositeWeight"):
        if key in fields:
            p.error(fields[key][0], f"{path}.{key}", "composite SLOs (an indicator per objective) cannot be "
                                                     "graded; give each its own SLO")
    display = p.string(fields["displayName"][1], f"{path}.displayName") if "displayName" in fields else None
    target = _target(p, fields, node, path)
    threshold = indicator is not None and indicator["type"] == "threshold"
    op = None
    value = None
    if threshold:
        for key in ("op", "value"):
            if key not in fields:
                p.error(node, f"{path}.{key}", "missing; a thresholdMetric objective needs op and value")
    elif indicator is not None:
        for key in ("op", "value"):
            if key in fields:
                p.error(fields[key][0], f"{path}.{key}", "op and value apply to a thresholdMetric only")
    if "op" in fields:
        text = p.string(fields["op"][1], f"{path}.op")
        if text is not None and text not in OPS:
            p.error(fields["op"][1], f"{path}.op", f"invalid op {text!r}; one of {', '.join(OPS)}")
        elif text is not None:
            op = OPS[text]
    if "value" in fields:
        raw = p.scalar(fields["value"][1]) if isinstance(fields["value"][1], ScalarNode) else None
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            p.error(fields["value"][1], f"{path}.value", f"expected a number, got {raw!r}")
        else:
            value = float(raw)
    slice_s = slice_target = None
    if method in (model.TIMESLICES, model.RATIO_TIMESLICES):
        if "timeSliceWindow" not in fields:
            p.error(node, f"{path}.timeSliceWindow", f"missing; {method} needs a timeSliceWindow such as 1m")
        else:
            slice_s = duration_field(p, fields["timeSliceWindow"][1], f"{path}.timeSliceWindow")
        if method == model.TIMESLICES and not threshold:
            if "timeSliceTarget" not in fields:
                p.error(node, f"{path}.timeSliceTarget", "missing; Timeslices needs a timeSliceTarget in (0, 1]")
            else:
                slice_target = _fraction(p, fields["timeSliceTarget"][1], f"{path}.timeSliceTarget",
                                         upper=1.0, closed=True)
        if "timeSliceTarget" in fields and (threshold or method == model.RATIO_TIMESLICES):
            p.error(fields["timeSliceTarget"][0], f"{path}.timeSliceTarget",
                    "applies to Timeslices of a ratioMetric only (a thresholdMetric slice is good when it meets "
                    "op and value; RatioTimeslices averages the slices' ratios)")
        if method == model.RATIO_TIMESLICES and threshold:
            p.error(node, f"{path}", "RatioTimeslices needs a ratioMetric (the mean of the slices' ratios); "
                                     "use Timeslices with a thresholdMetric")
    else:
        for key in ("timeSliceTarget", "timeSliceWindow"):
            if key in fields:
                p.error(fields[key][0], f"{path}.{key}", f"applies to Timeslices and RatioTimeslices only, "
                                                         f"not {method}")
    if len(p.issues) != before or indicator is None or target is None:
        return None
    oid = _slug(doc.name)
    if count > 1:
        oid = f"{oid}_{_slug(display) if display else index + 1}"
    line = node.start_mark.line + 1
    common: dict[str, Any] = dict(
        id=oid, title=f"{title}: {display}" if display and count > 1 else (display or title),
        description=description, line=line, budgeting=method, period_s=period,
        origin=f"{p.file}:{line}", slice_seconds=slice_s, slice_target=slice_target)
    if threshold:
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
            template, note, ok = ratio_template(indicator[key], counter)
            parts[key] = template
            takes = takes and ok
            if note and note not in notes:
                notes.append(note)
    good = "good" in parts
    if method != model.OCCURRENCES or good:
        tgt = Target(">=", target)
    else:
        tgt = Target("<=", round(1.0 - target, 12))
    return Objective(kind=model.PROMQL_RATIO, target=tgt, good=parts.get("good"), bad=parts.get("bad"),
                     total=parts["total"], note="; ".join(notes), takes_selector=takes, **common)


def _target(p: FileParser, fields: dict[str, tuple[Node, Node]], node: Node, path: str) -> float | None:
    has_t, has_p = "target" in fields, "targetPercent" in fields
    if has_t == has_p:
        p.error(node, f"{path}.target", "give exactly one of target (in [0, 1)) and targetPercent (in [0, 100))")
        return None
    if has_t:
        return _fraction(p, fields["target"][1], f"{path}.target", upper=1.0)
    percent = _fraction(p, fields["targetPercent"][1], f"{path}.targetPercent", upper=100.0)
    return None if percent is None else round(percent / 100.0, 12)


def _fraction(p: FileParser, node: Node, path: str, upper: float, closed: bool = False) -> float | None:
    raw = p.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        p.error(node, path, f"expected a number, got {raw!r}")
        return None
    value = float(raw)
    ok = 0 < value <= upper if closed else 0 <= value < upper
    if not ok:
        bounds = f"(0, {upper:g}]" if closed else f"[0, {upper:g})"
        p.error(node, path, f"{value:g} is outside {bounds}")
        return None
    return value


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug if slug and slug[0].isalpha() else f"slo_{slug}"
