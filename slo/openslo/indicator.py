"""An SLI (``kind: SLI``, or an SLO's inline ``indicator.spec``): OpenSLO's rules, then what loadgate grades.

Two steps, so that a valid SLI no SLO uses is never refused for what loadgate cannot grade:

* ``check_indicator`` applies the spec's rules to any indicator (exactly one of ``ratioMetric``
  and ``thresholdMetric``; ``total`` or ``raw``; exactly one of ``good`` and ``bad``; ``rawType``
  with ``raw``; every ``metricSource`` with its ``spec``) and ``resolve_types`` the rule that joins
  it to the set's data sources: ``type`` may be left out only when ``metricSourceRef`` names a
  ``DataSource``, whose type is then the source's.
* ``gradable`` says, for an indicator an SLO uses, what loadgate cannot grade ("cannot be graded
  by loadgate: ..."): a raw ratio, a source that is not Prometheus, a source without
  ``spec.query``, a ratio that does not say ``counter``. It returns what ``slo.openslo.objective``
  maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from yaml.nodes import MappingNode, Node, ScalarNode

from analysis.queries import unbalanced
from slo.openslo.documents import FileParser, description_field, name_field

__all__ = ["Source", "Indicator", "check_indicator", "resolve_types", "gradable", "RAW_TYPES"]

RAW_TYPES = ("success", "failure")
#: A note about a node: (parser, node, path, text).
Note = Callable[[FileParser, Node, str, str], None]


@dataclass
class Source:
    """One ``metricSource``: where it is, the DataSource it names, its type and its ``spec``."""

    node: Node
    path: str
    ref: str | None = None
    ref_node: Node | None = None
    type: str | None = None
    type_node: Node | None = None
    spec: MappingNode | None = None
    #: The type given, or inferred from the DataSource ``ref`` names (None: unknown).
    resolved: str | None = None
    inferred: bool = False


@dataclass
class Indicator:
    """One checked indicator: ``ratio`` or ``threshold``, its parts by name (``good``, ``bad``,
    ``total``, ``raw``; ``thresholdMetric``) and whether it broke any of the spec's rules."""

    parser: FileParser
    path: str
    node: Node
    kind: str
    parts: dict[str, Source] = field(default_factory=dict)
    counter: bool | None = None
    raw: bool = False
    sound: bool = True


def check_indicator(p: FileParser, node: Node, path: str) -> Indicator | None:
    """The indicator at ``path`` checked by OpenSLO's rules (problems reported on ``p``), or None
    when not even its kind can be told."""
    spec = p.mapping(node, path, ("description", "ratioMetric", "thresholdMetric"))
    if spec is None:
        return None
    before = len(p.issues)
    description_field(p, spec, path)
    has_ratio, has_threshold = "ratioMetric" in spec, "thresholdMetric" in spec
    if has_ratio == has_threshold:
        p.error(node, path, "exactly one of ratioMetric and thresholdMetric "
                            f"(found {'both' if has_ratio else 'neither'})")
        return None
    if has_threshold:
        part = _metric(p, spec["thresholdMetric"][1], f"{path}.thresholdMetric")
        return Indicator(p, path, node, "threshold", {"thresholdMetric": part} if part else {},
                         sound=len(p.issues) == before and part is not None)
    rnode = spec["ratioMetric"][1]
    rp = f"{path}.ratioMetric"
    ratio = p.mapping(rnode, rp, ("counter", "good", "bad", "total", "raw", "rawType"))
    if ratio is None:
        return Indicator(p, path, node, "ratio", sound=False)
    raw = "raw" in ratio
    if ("total" in ratio) == raw:
        p.error(rnode, rp, f"exactly one of total and raw (found {'both' if raw else 'neither'})")
    if raw and ("good" in ratio or "bad" in ratio):
        p.error(ratio["raw"][0], f"{rp}.raw", "raw cannot be used with good or bad (a raw ratio is precomputed)")
    elif "total" in ratio and ("good" in ratio) == ("bad" in ratio):
        p.error(rnode, f"{rp}.good", "exactly one of good and bad (with total) "
                                     f"(found {'both' if 'good' in ratio else 'neither'})")
    if raw and "rawType" not in ratio:
        p.error(rnode, f"{rp}.rawType", f"rawType is required with raw: {' or '.join(RAW_TYPES)}")
    elif "rawType" in ratio and not raw:
        p.error(ratio["rawType"][0], f"{rp}.rawType", "rawType is used with raw only (good or bad already says "
                                                      "which ratio it is)")
    elif raw:
        kind = p.string(ratio["rawType"][1], f"{rp}.rawType")
        if kind is not None and kind not in RAW_TYPES:
            p.error(ratio["rawType"][1], f"{rp}.rawType", f"rawType must be {' or '.join(RAW_TYPES)} (found {kind!r})")
    counter = p.boolean(ratio["counter"][1], f"{rp}.counter") if "counter" in ratio else None
    parts: dict[str, Source] = {}
    for key in ("good", "bad", "total", "raw"):
        if key in ratio:
            part = _metric(p, ratio[key][1], f"{rp}.{key}")
            if part is not None:
                parts[key] = part
    return Indicator(p, path, node, "ratio", parts, counter, raw, sound=len(p.issues) == before)


def _metric(p: FileParser, node: Node, path: str) -> Source | None:
    part = p.mapping(node, path, ("metricSource",))
    if part is None:
        return None
    if "metricSource" not in part:
        p.error(node, f"{path}.metricSource", "metricSource is required")
        return None
    src_node = part["metricSource"][1]
    mp = f"{path}.metricSource"
    src = p.mapping(src_node, mp, ("metricSourceRef", "type", "spec"))
    if src is None:
        return None
    out = Source(src_node, mp)
    if "metricSourceRef" in src:
        out.ref_node = src["metricSourceRef"][1]
        out.ref = name_field(p, out.ref_node, f"{mp}.metricSourceRef", "metricSourceRef")
    if "type" in src:
        out.type_node = src["type"][1]
        out.type = p.string(out.type_node, f"{mp}.type")
    if "spec" not in src:
        p.error(src_node, f"{mp}.spec", "spec is required: what to ask the data source, such as a query")
        return None
    spec = src["spec"][1]
    if not isinstance(spec, MappingNode) or not spec.value:
        p.error(spec, f"{mp}.spec", "spec must be a non-empty mapping: what to ask the data source, such as a query")
        return None
    out.spec = spec
    return out


def resolve_types(ind: Indicator, sources: dict[str, str | None]) -> None:
    """Each source's type, given or inferred from the DataSource its ``metricSourceRef`` names
    (``sources``: name -> type, None when that DataSource is unsound); the spec's rule that
    ``type`` is left out only then is reported on the indicator's parser."""
    p = ind.parser
    for s in ind.parts.values():
        if s.ref is not None and s.ref in sources:
            inferred = sources[s.ref]
            if s.type is not None and inferred is not None and s.type.lower() != inferred.lower():
                assert s.type_node is not None
                p.error(s.type_node, f"{s.path}.type", f"type {s.type!r} differs from the type {inferred!r} of "
                                                       f"DataSource/{s.ref}, which metricSourceRef names")
                ind.sound = False
            s.resolved, s.inferred = (s.type, False) if s.type is not None else (inferred, True)
        elif s.type is None:
            if s.ref is not None:
                assert s.ref_node is not None
                p.error(s.ref_node, f"{s.path}.type", f"type is required: metricSourceRef {s.ref!r} names no "
                                                      "DataSource in the files given, and OpenSLO infers the type "
                                                      "only from a DataSource")
            elif s.ref_node is None:
                p.error(s.node, f"{s.path}.type", "type is required without a metricSourceRef (OpenSLO infers the "
                                                  "type only from the DataSource a metricSourceRef names)")
            ind.sound = False
        else:
            s.resolved = s.type


def gradable(ind: Indicator, note: Note) -> dict[str, Any] | None:
    """What ``slo.openslo.objective`` maps for an indicator an SLO uses, or None: its spec problems
    were reported already, and what loadgate cannot grade is reported now."""
    p = ind.parser
    before = len(p.issues)
    if ind.raw:
        where = ind.parts["raw"].node if "raw" in ind.parts else ind.node
        p.error(where, f"{ind.path}.ratioMetric.raw", "cannot be graded by loadgate: a raw ratio (precomputed) has "
                                                      "no good or bad events and their total; give good or bad with "
                                                      "total")
        return None
    if ind.kind == "ratio" and ind.counter is None and ind.sound:
        p.error(ind.node, f"{ind.path}.ratioMetric.counter",
                "cannot be graded by loadgate without counter: true for a counter, false for a gauge (the spec "
                "leaves it unset, and the two are read differently)")
    queries = {key: _query(p, s, note) for key, s in ind.parts.items()}
    if len(p.issues) != before or not ind.sound or None in queries.values():
        return None
    if ind.kind == "threshold":
        return {"type": "threshold", "query": queries["thresholdMetric"], "line": ind.node.start_mark.line + 1}
    return {"type": "ratio", "counter": bool(ind.counter), "line": ind.node.start_mark.line + 1, **queries}


def _query(p: FileParser, s: Source, note: Note) -> str | None:
    """A Prometheus source's ``spec.query``, or None with why loadgate cannot grade it."""
    if s.resolved is None:
        return None  # its type's own problem (or its DataSource's) is reported already
    if s.resolved.lower() != "prometheus":
        whose = f" (the type of DataSource/{s.ref})" if s.inferred else ""
        where = s.type_node or s.ref_node or s.node
        p.error(where, f"{s.path}.type", f"cannot be graded by loadgate: it reads Prometheus queries only, "
                                         f"not {s.resolved!r}{whose}")
        return None
    assert s.spec is not None
    query_node = None
    for key_node, value_node in s.spec.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        if key == "query":
            query_node = value_node
        else:
            note(p, key_node, f"{s.path}.spec.{key}", "not used: loadgate reads a Prometheus source's spec.query")
    if query_node is None:
        p.error(s.spec, f"{s.path}.spec.query", "cannot be graded by loadgate without spec.query, a Prometheus "
                                                "source's PromQL")
        return None
    query = p.string(query_node, f"{s.path}.spec.query")
    problem = unbalanced(query) if query is not None else None
    if problem:
        p.error(query_node, f"{s.path}.spec.query", f"not PromQL: {problem}")
        return None
    return query
