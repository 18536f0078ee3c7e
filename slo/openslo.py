"""OpenSLO v1 documents (``apiVersion: openslo/v1``) read into loadgate's model, and back.

``load_openslo(files)`` parses a set of files (one or several, each one or several YAML
documents) holding ``kind: SLO``, ``kind: SLI`` and ``kind: DataSource`` documents, applies
OpenSLO's own rules and raises ``SpecError`` listing every violation located as
``file:line: KIND/name.field.path: message``. One objective of an SLO becomes one loadgate
objective, its id ``metadata.name`` (``-`` and ``.`` become ``_``), plus the objective's
``displayName`` when the SLO has several.

How each indicator is graded (``Objective.note`` says so whenever it is not exact):

* ``ratioMetric`` with ``counter: true`` and a plain vector selector (``metric{a="b"}``): read
  with ``sum(increase(SELECTOR[window]))``, exactly, and the gate's selector is added to its
  matchers. Any other query is read through a subquery at Prometheus's evaluation interval
  (``increase((Q)[window:])`` for counters, ``sum_over_time((Q)[window:])`` for gauges) and the
  approximation is stated. A selector (``--selector`` or the spec's) cannot be added to such a
  literal expression: ``refuse_selector`` makes that an error instead of ignoring it.
* ``thresholdMetric`` with ``op`` and ``value`` on each objective: the share of the query's
  points (``Occurrences``, one a scrape interval) or time slices (``Timeslices``) that meet
  the comparison.
* ``budgetingMethod: Timeslices`` of a ratio: the share of ``timeSliceWindow`` slices whose own
  good ratio is at least ``timeSliceTarget``; ``RatioTimeslices``: the mean of the slices' ratios.

``to_openslo(spec)`` writes the reverse: each loadgate objective as an SLO over ratio queries of
loadgate's metric contract (or the spec's metric names), where OpenSLO can say it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

import contract
from analysis.queries import SelectorError, parse_selector, unbalanced
from slo import model
from slo.model import Objective, Spec, Target
from slo.spec import NodeParser, SpecError, SpecIssue

__all__ = ["API_VERSION", "is_openslo", "load_openslo", "parse_duration", "plain_selector", "ratio_template",
           "refuse_selector", "to_openslo", "ConvertError"]

API_VERSION = "openslo/v1"
_API_RE = re.compile(r"^apiVersion\s*:\s*['\"]?([^'\"\s#]+)", re.M)
_DURATION_RE = re.compile(r"^([0-9]+)(m|h|d|w|M|Q|Y)$")
#: OpenSLO's duration units (no seconds: ``1m`` is a minute, ``1M`` a month).
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "Q": 90 * 86400, "Y": 365 * 86400}
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_KINDS_READ = ("SLO", "SLI", "DataSource", "Service")
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$")
_PLAIN_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$", re.S)


class ConvertError(ValueError):
    """A spec that OpenSLO cannot express; the message names every objective and why."""


def is_openslo(text: str) -> bool:
    """Whether a file's first ``apiVersion`` names OpenSLO (any version: the parser says which it reads)."""
    match = _API_RE.search(text)
    return bool(match and match.group(1).lower().startswith("openslo/"))


def parse_duration(text: str) -> float:
    """OpenSLO's ``28d``, ``1h``, ``1M`` (a month, 30 days) in seconds; ``ValueError`` otherwise."""
    match = _DURATION_RE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an OpenSLO duration: a whole number and one of m, h, d, w, M, Q, Y "
                         "(there is no s; 1m is a minute, 1M a month)")
    return float(int(match.group(1)) * _UNIT_S[match.group(2)])


def format_duration(seconds: float) -> str | None:
    """The OpenSLO spelling of whole minutes (``1m``, ``2h``, ``28d``), or None below a minute."""
    s = int(round(seconds))
    if s < 60 or s % 60:
        return None
    for unit, size in (("d", 86400), ("h", 3600)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s // 60}m"


def plain_selector(query: str) -> tuple[str, str] | None:
    """``(metric, matchers)`` when ``query`` is one vector selector (``metric{a="b"}``, ``{__name__=~"x"}``),
    else None. The matchers are returned as written, checked by ``analysis.queries``."""
    match = _PLAIN_RE.match(query)
    if not match or not (match.group(1) or match.group(2)):
        return None
    inner = (match.group(2) or "").strip()
    try:
        parse_selector(inner)
    except SelectorError:
        return None
    return match.group(1) or "", inner


def ratio_template(query: str, counter: bool) -> tuple[str, str, bool]:
    """``(template, note, takes_selector)``: the PromQL template (``{{window}}``, ``{{selector}}``)
    counting one side of a ratio over the window, what is approximate about it (empty when exact),
    and whether the gate's selector can be added to it."""
    plain = plain_selector(query)
    if plain is not None:
        fn = "increase" if counter else "sum_over_time"
        names = _name_alternatives(plain[1])
        if names is not None:
            # increase() drops the metric name, so two names' series would collide: one sum per name.
            # A name with no series counts 0 ('or vector(0)'), so the total is never lost to one of them.
            rest = ", ".join(m.render() for m in parse_selector(plain[1]) if m.name != "__name__")
            terms = [f"(sum({fn}({name}{{{rest + ', ' if rest else ''}{{{{selector}}}}}}[{{{{window}}}}])) "
                     "or vector(0))" for name in names]
            template = " + ".join(terms)
        else:
            metric, inner = plain
            matchers = f"{inner}, {{{{selector}}}}" if inner else "{{selector}}"
            template = f"sum({fn}({metric}{{{matchers}}}[{{{{window}}}}]))"
        if counter:
            return template, "", True
        return (template,
                "counter: false: the gauge's samples are summed over the window (sum_over_time), so the ratio "
                "is weighted by samples and 'events' counts sample values, not requests", True)
    if counter:
        return (f"sum(increase(({query})[{{{{window}}}}:]))",
                "read through a subquery at Prometheus's evaluation interval (increase((query)[window:])): "
                "counter resets inside an aggregation and the subquery's steps make it approximate", False)
    return (f"sum(sum_over_time(({query})[{{{{window}}}}:]))",
            "read through a subquery at Prometheus's evaluation interval (sum_over_time((query)[window:])): "
            "the ratio is weighted by evaluation steps, and 'events' counts summed values, not requests", False)


def _name_alternatives(inner: str) -> list[str] | None:
    """The metric names of a ``__name__=~"a|b"`` matcher that lists plain names, else None."""
    for m in parse_selector(inner):
        if m.name == "__name__" and m.op == "=~":
            names = m.value.split("|")
            if len(names) > 1 and all(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", n) for n in names):
                return names
    return None


def refuse_selector(spec: Spec, selector: str, flag: str) -> str | None:
    """The error to give when ``selector`` (from ``flag``) would have to be added to an objective's
    literal PromQL, which loadgate does not rewrite; None when every objective takes it."""
    if not selector.strip():
        return None
    literal = [o for o in spec.objectives if not o.takes_selector]
    if not literal:
        return None
    names = ", ".join(f"{o.id} ({o.origin})" for o in literal)
    return (f"{flag} {selector!r} cannot be added to the literal PromQL of {names}: loadgate adds selectors to "
            "plain vector selectors only (metric{...}), never rewrites an expression; write the matchers into "
            "the query, or drop the selector")


# -- reading ---------------------------------------------------------------------------------------
class _Doc:
    """One OpenSLO document: its kind, name, node and the file parser that located it."""

    def __init__(self, parser: "_FileParser", kind: str, name: str, node: Node,
                 fields: dict[str, tuple[Node, Node]]):
        self.parser, self.kind, self.name, self.node, self.fields = parser, kind, name, node, fields

    @property
    def where(self) -> str:
        return f"{self.kind}/{self.name}"


class _FileParser(NodeParser):
    """The documents of one file."""

    def documents(self) -> list[_Doc]:
        text = self.text()
        try:
            roots = [r for r in yaml.compose_all(text, Loader=yaml.SafeLoader) if r is not None]
        except yaml.YAMLError as exc:
            raise self.yaml_error(exc) from None
        docs = []
        for index, root in enumerate(roots):
            fields = self.mapping(root, f"(document {index + 1})", ("apiVersion", "kind", "metadata", "spec"))
            if fields is None:
                continue
            label = f"(document {index + 1})"
            api = self.string(fields["apiVersion"][1], f"{label}.apiVersion") if "apiVersion" in fields else None
            if "apiVersion" not in fields:
                self.error(root, f"{label}.apiVersion", f"missing; loadgate reads 'apiVersion: {API_VERSION}'")
            elif api is not None and api != API_VERSION:
                self.error(fields["apiVersion"][1], f"{label}.apiVersion",
                           f"unsupported apiVersion {api!r}; loadgate reads {API_VERSION!r} (v1alpha and v2alpha "
                           "documents: convert them to v1 first)")
                continue
            kind = self.string(fields["kind"][1], f"{label}.kind") if "kind" in fields else None
            if "kind" not in fields:
                self.error(root, f"{label}.kind", "missing; one of SLO, SLI, DataSource")
            elif kind is not None and kind not in _KINDS_READ:
                self.error(fields["kind"][1], f"{label}.kind",
                           f"kind {kind!r} is not read by loadgate: it grades SLO, SLI and DataSource documents "
                           "(and skips Service); alerting comes from 'loadgate rules', so keep "
                           "AlertPolicy and the like in files not given to loadgate")
                kind = None
            name = None
            if "metadata" not in fields:
                self.error(root, f"{label}.metadata", "missing; every document needs metadata.name")
            else:
                meta = self.mapping(fields["metadata"][1], f"{label}.metadata",
                                    ("name", "displayName", "labels", "annotations", "namespace"))
                if meta is not None:
                    if "name" not in meta:
                        self.error(fields["metadata"][1], f"{label}.metadata.name", "missing")
                    else:
                        name = self.string(meta["name"][1], f"{label}.metadata.name")
                        if name is not None and not _NAME_RE.match(name):
                            self.error(meta["name"][1], f"{label}.metadata.name",
                                       f"{name!r} is not a valid name (lower case letters, digits, '-' and '.')")
                            name = None
            if "spec" not in fields:
                self.error(root, f"{label}.spec", "missing")
            if kind is None or name is None or "spec" not in fields:
                continue
            if not isinstance(fields["spec"][1], MappingNode):
                self.error(fields["spec"][1], f"{kind}/{name}.spec", "expected a mapping")
                continue
            docs.append(_Doc(self, kind, name, root, fields))
        return docs

    def peek(self, node: Node, key: str) -> str | None:
        """A scalar field of a mapping read a second time, without reporting its problems again."""
        if not isinstance(node, MappingNode):
            return None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key and isinstance(value_node, ScalarNode):
                value = self.scalar(value_node)
                return str(value) if value is not None else None
        return None


class _SetParser:
    """A set of files read as one: SLIs and data sources are found by name across files."""

    def __init__(self, files: list[tuple[str, bytes]]):
        self.parsers = [_FileParser(data, name) for name, data in files]
        self.notes: list[str] = []
        self.services: set[str] = set()

    @property
    def issues(self) -> list[SpecIssue]:
        return [i for p in self.parsers for i in p.issues]

    def parse(self) -> Spec:
        docs: list[_Doc] = []
        for parser in self.parsers:
            docs.extend(parser.documents())
        by_kind: dict[str, dict[str, _Doc]] = {k: {} for k in _KINDS_READ}
        for doc in docs:
            first = by_kind[doc.kind].get(doc.name)
            if first is not None:
                doc.parser.error(doc.node, doc.where, f"duplicate {doc.kind} name (first in "
                                                      f"{first.parser.file}:{first.node.start_mark.line + 1})")
                continue
            by_kind[doc.kind][doc.name] = doc
        self.sources = {name: self._data_source(doc) for name, doc in by_kind["DataSource"].items()}
        for doc in by_kind["SLI"].values():
            self._indicator(doc.parser, doc.fields["spec"][1], f"{doc.where}.spec")  # validated even if unused
        objectives: list[Objective] = []
        first_id: dict[str, str] = {}
        for doc in by_kind["SLO"].values():
            for objective in self._slo(doc, by_kind["SLI"]):
                if objective.id in first_id:
                    doc.parser.error(objective.line, f"{doc.where}.spec.objectives",
                                     f"objective id {objective.id!r} is already taken by {first_id[objective.id]}; "
                                     "rename one (ids come from metadata.name and displayName)")
                    continue
                first_id[objective.id] = objective.origin
                objectives.append(objective)
        if not by_kind["SLO"] and not self.issues:
            self.parsers[0].error(1, "(documents)", "no kind: SLO document; loadgate grades SLOs")
        if self.issues:
            raise SpecError(self.issues)
        names = [n for n in (doc.name for doc in by_kind["SLO"].values())]
        files = [p.file for p in self.parsers]
        name = names[0] if len(names) == 1 else \
            next(iter(self.services)) if len(self.services) == 1 else Path(files[0]).stem
        return Spec(version=API_VERSION, name=name,
                    path=files[0] if len(files) == 1 else str(Path(files[0]).parent), objectives=tuple(objectives),
                    description="; ".join(d for d in (self._description(doc) for doc in by_kind["SLO"].values())
                                          if d),
                    source_text="\n---\n".join(p.data.decode("utf-8") for p in self.parsers),
                    format=API_VERSION, notes=tuple(self.notes))

    def _description(self, doc: _Doc) -> str:
        return doc.parser.peek(doc.fields["spec"][1], "description") or ""

    def _data_source(self, doc: _Doc) -> str | None:
        p = doc.parser
        spec = p.mapping(doc.fields["spec"][1], f"{doc.where}.spec", ("type", "connectionDetails", "description"))
        if spec is None:
            return None
        if "type" not in spec:
            p.error(doc.fields["spec"][1], f"{doc.where}.spec.type", "missing")
            return None
        kind = p.string(spec["type"][1], f"{doc.where}.spec.type")
        if kind is not None and kind.lower() != "prometheus":
            p.error(spec["type"][1], f"{doc.where}.spec.type",
                    f"data source type {kind!r} cannot be graded: loadgate reads Prometheus only")
            return None
        if "connectionDetails" in spec:
            self.notes.append(f"{p.file}:{spec['connectionDetails'][0].start_mark.line + 1}: {doc.where}: "
                              "connectionDetails are not used; the Prometheus comes from --prometheus or "
                              "--start-prometheus")
        return kind

    # -- SLO ----------------------------------------------------------------------------------------
    def _slo(self, doc: _Doc, slis: dict[str, _Doc]) -> list[Objective]:
        p, where = doc.parser, doc.where
        node = doc.fields["spec"][1]
        spec = p.mapping(node, f"{where}.spec", _SLO_FIELDS)
        if spec is None:
            return []
        before = len(p.issues)
        if "service" not in spec:
            p.error(node, f"{where}.spec.service", "missing; an SLO names the service it is about")
        else:
            service = p.string(spec["service"][1], f"{where}.spec.service")
            if service:
                self.services.add(service)
        if "alertPolicies" in spec:
            self.notes.append(f"{p.file}:{spec['alertPolicies'][0].start_mark.line + 1}: {where}: alertPolicies "
                              "are not read; 'loadgate rules' generates the burn-rate alerts")
        period = self._time_window(p, spec, node, where)
        method = model.OCCURRENCES
        if "budgetingMethod" not in spec:
            p.error(node, f"{where}.spec.budgetingMethod", f"missing; one of {', '.join(model.BUDGETING_METHODS)}")
        else:
            value = p.string(spec["budgetingMethod"][1], f"{where}.spec.budgetingMethod")
            if value is not None and value not in model.BUDGETING_METHODS:
                p.error(spec["budgetingMethod"][1], f"{where}.spec.budgetingMethod",
                        f"unknown budgeting method {value!r}; one of {', '.join(model.BUDGETING_METHODS)}")
            elif value is not None:
                method = value
        indicator = self._slo_indicator(doc, spec, node, slis)
        if "objectives" not in spec:
            p.error(node, f"{where}.spec.objectives", "missing; an SLO needs at least one objective")
            return []
        items = spec["objectives"][1]
        if not isinstance(items, SequenceNode) or not items.value:
            p.error(items, f"{where}.spec.objectives", "expected a non-empty list of objectives")
            return []
        title = p.peek(doc.fields["metadata"][1], "displayName") or doc.name
        description = self._description(doc)
        out = []
        for index, item in enumerate(items.value):
            objective = self._objective(doc, item, f"{where}.spec.objectives[{index}]", index, len(items.value),
                                        method, indicator, title, description, period)
            if objective is not None:
                out.append(objective)
        return out if len(p.issues) == before else []

    def _time_window(self, p: _FileParser, spec: dict[str, tuple[Node, Node]], node: Node,
                     where: str) -> float | None:
        if "timeWindow" not in spec:
            p.error(node, f"{where}.spec.timeWindow", "missing; exactly one time window, such as "
                                                      "[{duration: 28d, isRolling: true}]")
            return None
        windows = spec["timeWindow"][1]
        if not isinstance(windows, SequenceNode) or len(windows.value) != 1:
            count = len(windows.value) if isinstance(windows, SequenceNode) else "not a list"
            p.error(windows, f"{where}.spec.timeWindow", f"exactly one time window is allowed (found {count})")
            return None
        path = f"{where}.spec.timeWindow[0]"
        window = p.mapping(windows.value[0], path, ("duration", "isRolling", "calendar"))
        if window is None:
            return None
        seconds = None
        if "duration" not in window:
            p.error(windows.value[0], f"{path}.duration", "missing")
        else:
            seconds = _duration_field(p, window["duration"][1], f"{path}.duration")
        rolling = p.boolean(window["isRolling"][1], f"{path}.isRolling") if "isRolling" in window else None
        if rolling is False and "calendar" not in window:
            p.error(windows.value[0], f"{path}.calendar", "missing; a calendar window (isRolling: false) needs one")
        return seconds

    def _slo_indicator(self, doc: _Doc, spec: dict[str, tuple[Node, Node]], node: Node,
                       slis: dict[str, _Doc]) -> dict[str, Any] | None:
        p, where = doc.parser, doc.where
        if ("indicator" in spec) == ("indicatorRef" in spec):
            p.error(node, f"{where}.spec.indicator", "give exactly one of indicator and indicatorRef")
            return None
        if "indicatorRef" in spec:
            ref = p.string(spec["indicatorRef"][1], f"{where}.spec.indicatorRef")
            if ref is None:
                return None
            if ref not in slis:
                p.error(spec["indicatorRef"][1], f"{where}.spec.indicatorRef",
                        f"no kind: SLI named {ref!r} in the files given"
                        + (f" (there are: {', '.join(sorted(slis))})" if slis else ""))
                return None
            sli = slis[ref]
            # The SLI's own problems are reported once, on the SLI document.
            quiet = _FileParser(sli.parser.data, sli.parser.file)
            return self._indicator(quiet, sli.fields["spec"][1], f"{sli.where}.spec", report=False)
        inline = p.mapping(spec["indicator"][1], f"{where}.spec.indicator", ("metadata", "spec"))
        if inline is None:
            return None
        if "spec" not in inline:
            p.error(spec["indicator"][1], f"{where}.spec.indicator.spec", "missing")
            return None
        return self._indicator(p, inline["spec"][1], f"{where}.spec.indicator.spec")

    def _indicator(self, p: _FileParser, node: Node, path: str, report: bool = True) -> dict[str, Any] | None:
        spec = p.mapping(node, path, ("description", "ratioMetric", "thresholdMetric"))
        if spec is None:
            return None
        if ("ratioMetric" in spec) == ("thresholdMetric" in spec):
            p.error(node, path, "give exactly one of ratioMetric and thresholdMetric")
            return None
        before = len(p.issues)
        out: dict[str, Any] | None = None
        if "thresholdMetric" in spec:
            query = self._metric(p, spec["thresholdMetric"][1], f"{path}.thresholdMetric")
            out = {"type": "threshold", "query": query, "line": spec["thresholdMetric"][1].start_mark.line + 1}
        else:
            rnode = spec["ratioMetric"][1]
            ratio = p.mapping(rnode, f"{path}.ratioMetric", ("counter", "good", "bad", "total", "raw", "rawType"))
            if ratio is None:
                return None
            if "raw" in ratio or "rawType" in ratio:
                key = "raw" if "raw" in ratio else "rawType"
                p.error(ratio[key][0], f"{path}.ratioMetric.{key}",
                        "raw ratios (a precomputed ratio metric) cannot be graded: loadgate needs good or bad "
                        "events and their total")
            counter = False
            if "raw" in ratio or "rawType" in ratio:
                return None
            if "counter" not in ratio:
                p.error(rnode, f"{path}.ratioMetric.counter", "missing; true for counters, false for gauges")
            else:
                counter = bool(p.boolean(ratio["counter"][1], f"{path}.ratioMetric.counter"))
            if ("good" in ratio) == ("bad" in ratio):
                p.error(rnode, f"{path}.ratioMetric.good", "give exactly one of good and bad (with total)")
            if "total" not in ratio:
                p.error(rnode, f"{path}.ratioMetric.total", "missing; a ratio needs a total")
            out = {"type": "ratio", "counter": counter, "line": rnode.start_mark.line + 1}
            for key in ("good", "bad", "total"):
                if key in ratio:
                    out[key] = self._metric(p, ratio[key][1], f"{path}.ratioMetric.{key}")
        clean = len(p.issues) == before
        if not report:
            del p.issues[before:]
        return out if clean else None

    def _metric(self, p: _FileParser, node: Node, path: str) -> str | None:
        part = p.mapping(node, path, ("metricSource",))
        if part is None:
            return None
        if "metricSource" not in part:
            p.error(node, f"{path}.metricSource", "missing")
            return None
        src_node = part["metricSource"][1]
        src = p.mapping(src_node, f"{path}.metricSource", ("metricSourceRef", "type", "spec"))
        if src is None:
            return None
        kind = p.string(src["type"][1], f"{path}.metricSource.type") if "type" in src else None
        if "metricSourceRef" in src:
            ref = p.string(src["metricSourceRef"][1], f"{path}.metricSource.metricSourceRef")
            if ref is not None and ref not in self.sources:
                p.error(src["metricSourceRef"][1], f"{path}.metricSource.metricSourceRef",
                        f"no kind: DataSource named {ref!r} in the files given")
                return None
            if ref is not None and kind is None:
                kind = self.sources[ref]
                if kind is None:
                    return None  # the data source's own error says why
        if kind is None:
            if "type" not in src and "metricSourceRef" not in src:
                p.error(src_node, f"{path}.metricSource.type", "missing; loadgate reads type: Prometheus")
            return None
        if kind.lower() != "prometheus":
            p.error(src.get("type", src.get("metricSourceRef"))[1], f"{path}.metricSource.type",  # type: ignore
                    f"metric source {kind!r} cannot be graded: loadgate reads Prometheus queries only")
            return None
        if "spec" not in src:
            p.error(src_node, f"{path}.metricSource.spec", "missing; a Prometheus source needs spec.query")
            return None
        qspec = p.mapping(src["spec"][1], f"{path}.metricSource.spec", ("query",))
        if qspec is None:
            return None
        if "query" not in qspec:
            p.error(src["spec"][1], f"{path}.metricSource.spec.query", "missing")
            return None
        query = p.string(qspec["query"][1], f"{path}.metricSource.spec.query")
        problem = unbalanced(query) if query is not None else None
        if problem:
            p.error(qspec["query"][1], f"{path}.metricSource.spec.query", f"not PromQL: {problem}")
            return None
        return query

    # -- one objective ------------------------------------------------------------------------------
    def _objective(self, doc: _Doc, node: Node, path: str, index: int, count: int, method: str,
                   indicator: dict[str, Any] | None, title: str, description: str,
                   period: float | None) -> Objective | None:
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
        target = self._target(p, fields, node, path)
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
            if text is not None and text not in _OPS:
                p.error(fields["op"][1], f"{path}.op", f"invalid op {text!r}; one of {', '.join(_OPS)}")
            elif text is not None:
                op = _OPS[text]
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
                slice_s = _duration_field(p, fields["timeSliceWindow"][1], f"{path}.timeSliceWindow")
            if method == model.TIMESLICES and not threshold:
                if "timeSliceTarget" not in fields:
                    p.error(node, f"{path}.timeSliceTarget", "missing; Timeslices needs a timeSliceTarget in (0, 1]")
                else:
                    slice_target = self._fraction(p, fields["timeSliceTarget"][1], f"{path}.timeSliceTarget",
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

    def _target(self, p: _FileParser, fields: dict[str, tuple[Node, Node]], node: Node, path: str) -> float | None:
        has_t, has_p = "target" in fields, "targetPercent" in fields
        if has_t == has_p:
            p.error(node, f"{path}.target", "give exactly one of target (in [0, 1)) and targetPercent (in [0, 100))")
            return None
        if has_t:
            return self._fraction(p, fields["target"][1], f"{path}.target", upper=1.0)
        percent = self._fraction(p, fields["targetPercent"][1], f"{path}.targetPercent", upper=100.0)
        return None if percent is None else round(percent / 100.0, 12)

    @staticmethod
    def _fraction(p: _FileParser, node: Node, path: str, upper: float, closed: bool = False) -> float | None:
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


def _duration_field(p: _FileParser, node: Node, path: str) -> float | None:
    """An OpenSLO duration field in seconds, or None with its problem reported."""
    text = p.string(node, path)
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        p.error(node, path, str(exc))
        return None


_SLO_FIELDS = ("description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives",
               "alertPolicies")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug if slug and slug[0].isalpha() else f"slo_{slug}"


def load_openslo(files: list[tuple[str, bytes]]) -> Spec:
    """Parse a set of OpenSLO v1 files (``(name, bytes)`` each) into one ``Spec``, or raise ``SpecError``."""
    return _SetParser(files).parse()


# -- writing -----------------------------------------------------------------------------------------
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
        "service": _name(spec.name),
        "indicator": {"metadata": {"name": name}, "spec": indicator},
        # loadgate/v1 objectives without a period alert over 30 days, as 'loadgate rules' does.
        "timeWindow": [{"duration": format_duration(o.period_s or 30 * 86400) or "30d", "isRolling": True}],
        "budgetingMethod": model.OCCURRENCES,
        "objectives": [{"displayName": o.title, "target": target}],
    })
    if extra:
        body.update(extra)
    return {"apiVersion": API_VERSION, "kind": "SLO", "metadata": {"name": name, "displayName": o.title},
            "spec": body}


_OP_NAMES = {v: k for k, v in _OPS.items()}
_BACK = [(re.compile(r"^sum\(increase\((?P<q>.*)\[\{\{window\}\}\]\)\)$", re.S), True, False),
         (re.compile(r"^sum\(sum_over_time\((?P<q>.*)\[\{\{window\}\}\]\)\)$", re.S), False, False),
         (re.compile(r"^sum\(increase\(\((?P<q>.*)\)\[\{\{window\}\}:\]\)\)$", re.S), True, True),
         (re.compile(r"^sum\(sum_over_time\(\((?P<q>.*)\)\[\{\{window\}\}:\]\)\)$", re.S), False, True)]


_TERM_RE = re.compile(r"^\(sum\((?P<fn>increase|sum_over_time)\((?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
                      r"\{(?P<rest>.*?)\{\{selector\}\}\}\[\{\{window\}\}\]\)\) or vector\(0\)\)$")


def _query_back(template: str) -> tuple[str, bool] | None:
    """The OpenSLO query and counter flag behind a template ``ratio_template`` wrote, else None."""
    terms = [_TERM_RE.match(t.strip()) for t in template.split(" + ")]
    if len(terms) > 1 and all(terms):
        found = [t for t in terms if t is not None]
        rests = {t.group("rest").strip().rstrip(",").strip() for t in found}
        fns = {t.group("fn") for t in found}
        if len(rests) == 1 and len(fns) == 1:
            rest = rests.pop()
            names = "|".join(t.group("name") for t in found)
            return f'{{__name__=~"{names}"{", " + rest if rest else ""}}}', fns.pop() == "increase"
    for pattern, counter, literal in _BACK:
        match = pattern.match(template.strip())
        if match:
            query = match.group("q")
            if not literal:
                query = re.sub(r"\{\s*\{\{selector\}\}\s*\}$", "", query)
                query = re.sub(r",\s*\{\{selector\}\}\s*\}$", "}", query)
                if "{{" in query:
                    return None
            return query, counter
    return None


def _ratio_back(o: Objective) -> dict[str, Any] | None:
    parts = {}
    counters = set()
    for key in ("good", "bad", "total"):
        template = getattr(o, key)
        if template is None:
            continue
        back = _query_back(template)
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
    objective["timeSliceWindow"] = format_duration(o.slice_seconds) or f"{max(1, round(o.slice_seconds / 60))}m"
    if o.slice_target is not None:
        objective["timeSliceTarget"] = o.slice_target


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
        if o.kind == model.LATENCY:
            assert o.quantile is not None
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "good": _source(q(f"{m.duration}_bucket", _le(o.target.value))),
                "total": _source(q(f"{m.duration}_count"))}}, o.quantile))
            if o.warn is not None:
                warnings.append(f"{where}: the warn threshold has no OpenSLO equivalent and was left out")
        elif o.kind == model.ERROR_RATE:
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "bad": _source(q(m.requests, code_5xx)), "total": _source(q(m.requests))}},
                round(1.0 - o.target.value, 12)))
        elif o.kind == model.CACHE_HIT_RATE:
            both = f'__name__=~"{re.escape(m.cache_hits)}|{re.escape(m.cache_misses)}"'
            docs.append(_slo_doc(spec, o, {"ratioMetric": {
                "counter": True, "good": _source(q(m.cache_hits)), "total": _source(q("", both))}},
                o.target.value))
        elif o.kind == model.AVAILABILITY:
            assert o.slice_seconds is not None and o.slice_max_error_ratio is not None
            window = format_duration(o.slice_seconds)
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
    warnings = problems + warnings
    text = yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, width=120)
    header = f"# OpenSLO v1 documents converted by loadgate from {spec.path} ({spec.version}).\n"
    return header + text, warnings
