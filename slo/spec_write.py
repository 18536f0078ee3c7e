"""Writing the ``loadgate/v1`` format: a ``Spec`` back to the YAML text ``load_loadgate_v1`` reads.

``dump_spec(spec)`` is pure (it returns text); ``loadgate convert`` writes the file. The alert
rules' keys (``service``, ``labels``, ``alerting``, ``group_by``) come from ``slo.spec_write_rules``;
``dump_warnings(spec)`` names what loadgate/v1 cannot carry of them.
"""

from __future__ import annotations

from typing import Any

import yaml

from analysis.presets import PRESETS
from slo import model
from slo.loadgate_v1 import METRIC_FIELDS, SPEC_VERSION
from slo.model import Metrics, Spec
from slo.spec_write_rules import rule_keys
from slo.units import format_spec_duration

__all__ = ["dump_spec", "dump_warnings"]


def _threshold_text(kind: str, op: str | None, value: float) -> str:
    """A threshold as the spec writes it: ``< 500ms``, ``>= 99.9%``, ``>= 180/s``, ``< 3``."""
    if kind == model.LATENCY:
        text = f"{value * 1000:.12g}ms"
    elif kind == model.RECOVERY:
        text = f"{value:.12g}s"
    elif kind == model.THROUGHPUT:
        text = f"{value:.12g}/s"
    elif kind == model.PROMQL_VALUE:
        text = f"{value:.12g}"
    else:
        text = f"{value * 100:.12g}%"
    return f"{op} {text}" if op else text


def dump_spec(spec: Spec, header: str = "") -> str:
    """``spec`` written as a ``loadgate/v1`` file that ``load_spec`` reads back to the same
    objectives (the reverse of ``load_spec``); ``header`` lines become comments on top."""
    keys, per, _ = rule_keys(spec)
    top: dict[str, Any] = {"version": SPEC_VERSION, "name": spec.name}
    if "service" in keys:
        top["service"] = keys.pop("service")
    if spec.description:
        top["description"] = spec.description
    if spec.selector:
        top["selector"] = spec.selector
    top.update(keys)
    if spec.metrics.preset in PRESETS and spec.metrics.preset != Metrics().preset:
        # A preset and the single names written over it, as the spec said them.
        top["metrics"] = {"preset": spec.metrics.preset, **dict(spec.metrics_overrides)}
    else:
        # Names of no preset (a mapping found from the series' shapes): each one that differs.
        defaults = Metrics()
        changed = {f: getattr(spec.metrics, f) for f in METRIC_FIELDS
                   if getattr(spec.metrics, f) not in (None, getattr(defaults, f))}
        if changed:
            top["metrics"] = changed
    objectives = []
    for o in spec.objectives:
        item: dict[str, Any] = {"id": o.id, "title": o.title, "kind": o.kind}
        if o.kind == model.LATENCY and o.quantile is not None:
            item["percentile"] = float(f"{o.quantile * 100:.12g}")
        item["threshold"] = _threshold_text(o.kind, o.target.op, o.target.value)
        if o.warn is not None:
            item["warn"] = _threshold_text(o.kind, None, o.warn)
        if not o.required:
            item["required"] = False
        if o.description:
            item["description"] = o.description
        if o.kind == model.AVAILABILITY:
            item["slice"] = format_spec_duration(o.slice_seconds or 60.0)
            item["slice_max_error_ratio"] = _threshold_text(o.kind, None, o.slice_max_error_ratio or 0.0)
        for key in ("good", "bad", "total", "query"):
            if getattr(o, key):
                item[key] = getattr(o, key)
        if o.kind == model.PROMQL_VALUE and o.unit:
            item["unit"] = o.unit
        if o.kind == model.PROMQL_THRESHOLD and o.point_op is not None and o.point_value is not None:
            item["point"] = f"{o.point_op} {o.point_value:.12g}"
        if o.kind in (model.PROMQL_RATIO, model.PROMQL_THRESHOLD) and o.budgeting != model.OCCURRENCES:
            item["budgeting"] = o.budgeting
            if o.slice_seconds is not None:
                item["slice"] = format_spec_duration(o.slice_seconds)
            if o.slice_target is not None:
                item["slice_target"] = _threshold_text(model.PROMQL_RATIO, None, o.slice_target)
        if o.kind == model.RECOVERY and o.budget_share is not None:
            item["budget"] = _threshold_text(model.ERROR_RATE, None, o.budget_share)
        if o.zones is not None:
            item["zones"] = o.zones
        if o.period_s is not None:
            item["period"] = format_spec_duration(o.period_s)
        if o.note:
            item["note"] = o.note
        item.update(per[o.id])
        objectives.append(item)
    top["objectives"] = objectives
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + yaml.safe_dump(top, sort_keys=False, allow_unicode=True, width=120)


def dump_warnings(spec: Spec) -> list[str]:
    """What ``dump_spec`` cannot carry of the spec's alert-rule keys, one line each."""
    return rule_keys(spec)[2]
