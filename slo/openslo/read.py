"""OpenSLO v1 documents read into loadgate's model: a set of files becomes one ``Spec``.

``load_openslo(files)`` reads every file's documents (``slo.openslo.documents``), finds SLIs and
data sources by name across the files, validates each SLO's time window, budgeting method and
indicator, and maps each objective (``slo.openslo.objective``). It raises ``SpecError`` listing
every violation, located as ``file:line: KIND/name.field.path: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yaml.nodes import Node, SequenceNode

from analysis.queries import unbalanced
from slo import model
from slo.located import SpecError, SpecIssue
from slo.model import Objective, Spec
from slo.openslo.documents import API_VERSION, KINDS_READ, Doc, FileParser, duration_field
from slo.openslo.objective import read_objective

__all__ = ["load_openslo"]

_SLO_FIELDS = ("description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives",
               "alertPolicies")


def load_openslo(files: list[tuple[str, bytes]]) -> Spec:
    """Parse a set of OpenSLO v1 files (``(name, bytes)`` each) into one ``Spec``, or raise ``SpecError``."""
    return _SetParser(files).parse()


class _SetParser:
    """A set of files read as one: SLIs and data sources are found by name across files."""

    def __init__(self, files: list[tuple[str, bytes]]):
        self.parsers = [FileParser(data, name) for name, data in files]
        self.notes: list[str] = []
        self.services: set[str] = set()

    @property
    def issues(self) -> list[SpecIssue]:
        return [i for p in self.parsers for i in p.issues]

    def parse(self) -> Spec:
        docs: list[Doc] = []
        for parser in self.parsers:
            docs.extend(parser.documents())
        by_kind: dict[str, dict[str, Doc]] = {k: {} for k in KINDS_READ}
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

    def _description(self, doc: Doc) -> str:
        return doc.parser.peek(doc.fields["spec"][1], "description") or ""

    def _data_source(self, doc: Doc) -> str | None:
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
    def _slo(self, doc: Doc, slis: dict[str, Doc]) -> list[Objective]:
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
            objective = read_objective(doc, item, f"{where}.spec.objectives[{index}]", index, len(items.value),
                                       method, indicator, title, description, period)
            if objective is not None:
                out.append(objective)
        return out if len(p.issues) == before else []

    def _time_window(self, p: FileParser, spec: dict[str, tuple[Node, Node]], node: Node,
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
            seconds = duration_field(p, window["duration"][1], f"{path}.duration")
        rolling = p.boolean(window["isRolling"][1], f"{path}.isRolling") if "isRolling" in window else None
        if rolling is False and "calendar" not in window:
            p.error(windows.value[0], f"{path}.calendar", "missing; a calendar window (isRolling: false) needs one")
        return seconds

    def _slo_indicator(self, doc: Doc, spec: dict[str, tuple[Node, Node]], node: Node,
                       slis: dict[str, Doc]) -> dict[str, Any] | None:
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
            quiet = FileParser(sli.parser.data, sli.parser.file)
            return self._indicator(quiet, sli.fields["spec"][1], f"{sli.where}.spec", report=False)
        inline = p.mapping(spec["indicator"][1], f"{where}.spec.indicator", ("metadata", "spec"))
        if inline is None:
            return None
        if "spec" not in inline:
            p.error(spec["indicator"][1], f"{where}.spec.indicator.spec", "missing")
            return None
        return self._indicator(p, inline["spec"][1], f"{where}.spec.indicator.spec")

    def _indicator(self, p: FileParser, node: Node, path: str, report: bool = True) -> dict[str, Any] | None:
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

    def _metric(self, p: FileParser, node: Node, path: str) -> str | None:
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
