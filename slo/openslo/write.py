"""Writing OpenSLO v1: a ``Spec``'s objectives as SLO documents, where OpenSLO can say them.

``to_openslo(spec)`` is pure (it returns the YAML text and the warnings); ``loadgate convert``
writes the file. Objectives OpenSLO cannot express are left out with a warning, and a spec with
none it can express is a ``ConvertError``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

import contract
from slo import model
from slo.model import Objective, Spec
from slo.openslo.documents import API_VERSION, OPS
from slo.openslo.queries import query_back
from slo.openslo.write_alerting import alert_keys, target_doc
from slo.units import format_openslo_duration

__all__ = ["ConvertError", "to_openslo"]


class ConvertError(ValueError):
    """A spec that OpenSLO cannot express; the message names every objective and why."""


def _le(bound: float) -> str:
    """A matcher for the bucket at ``bound`` however a client spells it (``1.0`` in Python, ``1`` in Go)."""
    spellings = sorted({contract.format_le(bound), f"{bound:g}"})
    return f'le="{spellings[0]}"' if len(spellings) == 1 else f'le=~"{"|".join(spellings)}"'


def _source(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _name(text: str) -> str:
    """An OpenSLO name (lower case letters, digits and single '-') for a loadgate id or spec name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "slo"


def _slo_doc(spec: Spec, o: Objective, indicator: dict[str, Any], target: float,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    name = _name(o.id)
    body: dict[str, Any] = {"description": o.description} if o.description else {}
    body.update({
        "service": _name(spec.service or spec.name),
        "indicator": {"metadata": {"name": name}, "spec": indicator},
        # loadgate/v1 objectives without a period alert over 30 days, as 'loadgate rules' does.
        "timeWindow": [{"duration": format_openslo_duration(o.period_s or 30 * 86400) or "30d", "isRolling": True}],
        "budgetingMethod": model.OCCURRENCES,
        "objectives": [{"displayName": o.title, "target": target}],
    })
    if extra:
        body.update(extra)
    return {"apiVersion": API_VERSION, "kind": "SLO", "metadata": {"name": name, "displayName": o.title},
            "spec": body}


_OP_NAMES = {v: k for k, v in OPS.items()}


def _ratio_back(o: Objective) -> dict[str, Any] | None:
    parts = {}
    counters = set()
    for key in ("good", "bad", "total"):
        template = getattr(o, key)
        if template is None:
            continue
        back = query_back(template)
        if back is None:
            return None
        parts[key] = _source(back[0])
        counters.add(back[1])
    if len(counters) != 1:
        return None
    return {"counter": counters.pop(), **parts}


def _slices(doc: dict[str, Any], o: Objective) -> None:
    if o.budgeting == model.OCCURRENCES or o.slice_seconds is None:
        return
    objective = doc["spec"]["objectives"][0]
    objective["timeSliceWindow"] = format_openslo_duration(o.slice_seconds) or f"{max(1, round(o.slice_seconds / 60))}m"
    if o.slice_target is not None:
        objective["timeSliceTarget"] = o.slice_target


def _rule_keys(spec: Spec, docs: list[dict[str, Any]]) -> list[str]:
    """The alert rules' keys (service, labels, runbook_url, alerting) laid on the SLO documents
    (``slo.openslo.write_alerting``), with a notification target when a policy names one; the warnings."""
    warnings = []
    service = spec.service or spec.name
    if _name(service) != service:
        warnings.append(f"the service {service!r} becomes {_name(service)!r}, an OpenSLO name")
    by_name = {_name(o.id): o for o in spec.objectives}
    for doc in list(docs):
        o = by_name[doc["metadata"]["name"]]
        where = f"{spec.path}:{o.line}: {o.id}" if o.line else o.id
        meta, body, notes = alert_keys(spec, o, where)
        doc["metadata"].update(meta)
        doc["spec"].update(body)
        warnings.extend(notes)
        if o.id != doc["metadata"]["name"]:
            warnings.append(f"{where}: its slo label becomes {doc['metadata']['name']!r}, the OpenSLO name")
    if any("alertPolicies" in d["spec"] for d in docs):
        docs.append(target_doc(API_VERSION))
    return warnings


def to_openslo(spec: Spec) -> tuple[str, list[str]]:
    """The spec as OpenSLO v1 YAML (one SLO document per objective) and a warning for each
    objective OpenSLO cannot express exactly or at all (left out: a throughput floor, a single
    value, a sub-minute time slice). Raises ``ConvertError`` when nothing can be written.

    Latency ``pQ < T`` is written as the share of requests at or below the bucket ``le=T`` with
    target Q (how loadgate grades it); error rate as bad 5xx over all responses; cache hits as hits
    over hits and misses; availability as 1-minute (or longer) time slices of the 5xx ratio.
    """
    m = spec.metrics
    sel = spec.selector.strip()
    if sel.startswith("{") and sel.endswith("}"):
        sel = sel[1:-1]

    def q(metric: str, *matchers: str) -> str:
        inner = ", ".join(x for x in (*matchers, sel) if x)
        return f"{metric}{{{inner}}}" if inner else metric

    docs: list[dict[str, Any]] = []
    problems: list[str] = []
    warnings: list[str] = []
    code_5xx = f'{m.code_label}=~"5.."'
    for o in spec.objectives:
        where = f"{spec.path}:{o.line}: {o.id}" if o.line else o.id
        if o.zones is not None:
            warnings.append(f"{where}: 'zones: {o.zones}' has no OpenSLO equivalent and was left out: the converted "
                            "SLO holds overall, not in every load zone")
        if o.kind == model.LATENCY:
            assert o.quantile is not None
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "good": _source(q(f"{m.duration}_bucket", _le(m.le_bound(o.target.value)))),
                "total": _source(q(f"{m.duration}_count"))}}, o.quantile))
            if o.warn is not None:
                warnings.append(f"{where}: the warn threshold has no OpenSLO equivalent and was left out")
        elif o.kind == model.ERROR_RATE:
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "bad": _source(q(m.requests, code_5xx)), "total": _source(q(m.requests))}},
                round(1.0 - o.target.value, 12)))
        elif o.kind == model.CACHE_HIT_RATE and (m.cache_hits is None or m.cache_misses is None):
            problems.append(f"{where}: left out: the {m.preset} metrics have no cache counters")
        elif o.kind == model.CACHE_HIT_RATE:
            assert m.cache_hits is not None and m.cache_misses is not None
            both = f'__name__=~"{re.escape(m.cache_hits)}|{re.escape(m.cache_misses)}"'
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "good": _source(q(m.cache_hits)), "total": _source(q("", both))}},
                o.target.value))
        elif o.kind == model.AVAILABILITY:
            assert o.slice_seconds is not None and o.slice_max_error_ratio is not None
            window = format_openslo_duration(o.slice_seconds)
            if window is None:
                problems.append(f"{where}: left out: its {o.slice_seconds:g}s slices cannot be written, as OpenSLO "
                                "time slices are whole minutes or longer")
                continue
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "bad": _source(q(m.requests, code_5xx)), "total": _source(q(m.requests))}},
                o.target.value, {"budgetingMethod": model.TIMESLICES}))
            docs[-1]["spec"]["objectives"][0].update(
                {"timeSliceTarget": round(1.0 - o.slice_max_error_ratio, 12), "timeSliceWindow": window})
            warnings.append(f"{where}: OpenSLO slices are judged by their 5xx ratio only; loadgate also counts a "
                            f"slice bad when '{m.up}' fell to 0, which the converted SLO does not")
        elif o.kind == model.PROMQL_RATIO:
            ratio = _ratio_back(o)
            if ratio is None:
                problems.append(f"{where}: left out: its PromQL templates are not counters or gauges read over "
                                "{{window}} as loadgate writes them, so OpenSLO cannot hold them; write its "
                                "good/bad and total as OpenSLO queries by hand")
                continue
            good = o.good is not None
            target = o.target.value if (good or o.budgeting != model.OCCURRENCES) else round(1 - o.target.value, 12)
            docs.append(_slo_doc(spec, o, {"ratioMetric": ratio}, target, {"budgetingMethod": o.budgeting}))
            _slices(docs[-1], o)
        elif o.kind == model.PROMQL_THRESHOLD and o.budgeting == model.TIMESLICES and o.slice_target is None:
            problems.append(f"{where}: left out: its slices are judged by one point each, which OpenSLO cannot say "
                            "(its Timeslices need a timeSliceTarget: the share of a slice's points that must meet "
                            "op and value)")
        elif o.kind == model.PROMQL_THRESHOLD:
            assert o.query is not None and o.point_op is not None
            docs.append(_slo_doc(spec, o, {"thresholdMetric": _source(o.query)}, o.target.value,
                                 {"budgetingMethod": o.budgeting}))
            docs[-1]["spec"]["objectives"][0].update({"op": _OP_NAMES[o.point_op], "value": o.point_value})
            _slices(docs[-1], o)
        else:
            problems.append(f"{where}: left out: a {o.kind} objective has no OpenSLO form (OpenSLO grades ratios of "
                            "good events and per-point thresholds)")
    if not docs:
        raise ConvertError("\n".join(problems + ["nothing could be converted"]))
    warnings = problems + warnings + _rule_keys(spec, docs)
    text = yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, width=120)
    header = f"# OpenSLO v1 documents converted by loadgate from {spec.path} ({spec.version}).\n"
    return header + text, warnings
