"""OpenSLO v1 documents read into loadgate's model: a set of files becomes one ``Spec``.

``load_openslo(files)`` reads every file's documents in any form (``slo.openslo.documents``),
checks every kind by OpenSLO's rules (SLIs: ``slo.openslo.indicator``; SLOs:
``slo.openslo.slo_spec``; the kinds loadgate does not grade: ``slo.openslo.kinds``), finds SLIs,
data sources and alerting documents by name across the files, and maps each SLO's objectives. It
raises ``SpecError`` listing every violation, located as ``file:line: KIND/name.field.path:
message``; what is read but not graded is a note (``Spec.notes``), located the same way.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from slo.located import SpecError, SpecIssue
from slo.model import Objective, Spec
from slo.openslo.alerting import doc_labels, doc_runbook, slo_policies
from slo.openslo.documents import API_VERSION, KINDS, Doc, FileParser, name_field
from slo.openslo.indicator import Indicator, check_indicator, gradable, resolve_types
from slo.openslo.kinds import Refs, alert_condition, alert_policy, data_source, notification_target, service
from slo.openslo.slo_spec import SLO_FIELDS, is_composite, slo_objectives

__all__ = ["load_openslo"]

_NOT_GRADED = {
    "Service": "read, not graded: a Service groups SLOs; its labels go on their alert rules",
    "AlertPolicy": "read, not graded: 'loadgate rules' writes the alerts of the SLOs that use it",
    "AlertCondition": "read, not graded: 'loadgate rules' writes it as a burn-rate condition of the policies "
                      "that use it",
    "AlertNotificationTarget": "read, not graded: an annotation of the alerts whose policy names it; routing is "
                               "left to Alertmanager",
}
_CHECKS = {"Service": service, "AlertPolicy": alert_policy, "AlertCondition": alert_condition,
           "AlertNotificationTarget": notification_target}


def load_openslo(files: list[tuple[str, bytes]]) -> Spec:
    """Parse a set of OpenSLO v1 files (``(name, bytes)`` each) into one ``Spec``, or raise ``SpecError``."""
    return _SetParser(files).parse()


class _SetParser:
    """A set of files read as one: documents refer to each other by kind and name across files."""

    def __init__(self, files: list[tuple[str, bytes]]):
        self.parsers = [FileParser(data, name) for name, data in files]
        self._notes: list[tuple[int, int, str]] = []
        self.services: set[str] = set()
        self.sources: dict[str, str | None] = {}
        self.slis: dict[str, Indicator | None] = {}
        self.graded: dict[str, dict[str, Any] | None] = {}
        self.refs: Refs = []
        self.by_kind: dict[str, dict[str, Doc]] = {k: {} for k in KINDS}

    @property
    def issues(self) -> list[SpecIssue]:
        return [i for p in self.parsers for i in p.issues]

    def note(self, p: FileParser, node: Node, path: str, text: str) -> None:
        """Something read but not used, located like an error; notes come out in file order."""
        line = node.start_mark.line + 1
        self._notes.append((self.parsers.index(p), line, f"{p.file}:{line}: {path}: {text}"))

    def parse(self) -> Spec:
        docs: list[Doc] = []
        for parser in self.parsers:
            docs.extend(parser.documents())
        by_kind = self.by_kind
        for doc in docs:
            first = by_kind[doc.kind].get(doc.name)
            if first is not None:
                doc.parser.error(doc.node, doc.where,
                                 f"names are unique per kind: a second {doc.kind} named {doc.name!r} (the first is "
                                 f"at {first.parser.file}:{first.line})")
                continue
            by_kind[doc.kind][doc.name] = doc
        for name, doc in by_kind["DataSource"].items():
            self.sources[name], details = data_source(doc.parser, doc.spec, f"{doc.where}.spec")
            if details is not None:
                self.note(doc.parser, details, doc.where, "connectionDetails: not used; the Prometheus comes from "
                                                          "--prometheus or --start-prometheus")
        for name, doc in by_kind["SLI"].items():
            assert doc.spec is not None
            indicator = check_indicator(doc.parser, doc.spec, f"{doc.where}.spec")
            if indicator is not None:
                resolve_types(indicator, self.sources)
            self.slis[name] = indicator
        for kind, check in _CHECKS.items():
            for doc in by_kind[kind].values():
                check(doc.parser, doc.spec, f"{doc.where}.spec", self.refs)
                self.note(doc.parser, doc.node, doc.where, _NOT_GRADED[kind])
        objectives: list[Objective] = []
        first_id: dict[str, str] = {}
        for doc in by_kind["SLO"].values():
            for objective in self._slo(doc):
                if objective.id in first_id:
                    doc.parser.error(objective.line, f"{doc.where}.spec.objectives",
                                     f"objective id {objective.id!r} is already taken by {first_id[objective.id]}; "
                                     "rename one (ids come from metadata.name and displayName)")
                    continue
                first_id[objective.id] = objective.origin
                objectives.append(objective)
        for ref in self.refs:
            if ref.name not in by_kind[ref.kind]:
                self.note(ref.parser, ref.node, ref.path, f"no kind: {ref.kind} named {ref.name!r} in the files "
                                                          "given: left out of the alert rules")
        for name, doc in by_kind["SLI"].items():
            if name not in self.graded:
                self.note(doc.parser, doc.node, doc.where, "read, not graded: no SLO in the files given uses it")
        if not by_kind["SLO"] and not self.issues:
            held = sorted({d.kind for d in docs})
            self.parsers[0].error(1, "(documents)", "no kind: SLO document: loadgate grades SLOs"
                                                    + (f" (the files hold: {', '.join(held)})" if held else ""))
        if self.issues:
            raise SpecError(self.issues)
        return self._spec(list(by_kind["SLO"].values()), objectives)

    def _spec(self, slos: list[Doc], objectives: list[Objective]) -> Spec:
        names = [doc.name for doc in slos]
        files = [p.file for p in self.parsers]
        name = names[0] if len(names) == 1 else \
            next(iter(self.services)) if len(self.services) == 1 else Path(files[0]).stem
        descriptions = [doc.parser.peek(doc.spec, "description") or "" for doc in slos]
        return Spec(version=API_VERSION, name=name,
                    path=files[0] if len(files) == 1 else str(Path(files[0]).parent), objectives=tuple(objectives),
                    description="; ".join(d for d in descriptions if d),
                    source_text="\n---\n".join(p.data.decode("utf-8") for p in self.parsers),
                    format=API_VERSION, notes=tuple(text for _, _, text in sorted(self._notes)))

    def _slo(self, doc: Doc) -> list[Objective]:
        p, where = doc.parser, doc.where
        assert doc.spec is not None
        spec = p.mapping(doc.spec, f"{where}.spec", SLO_FIELDS)
        if spec is None:
            return []
        before = len(p.issues)
        kind, graded = self._indicator(doc, spec)
        objectives = slo_objectives(doc, spec, kind, graded, self.note, self.refs)
        service_name = p.peek(doc.spec, "service")
        if service_name:
            self.services.add(service_name)
        # What the alert rules carry: the Service's labels then the SLO's, and its policies' alerts.
        owner = self.by_kind["Service"].get(service_name or "")
        labels = dict(doc_labels(owner.parser, owner.fields.get("metadata", (None, None))[1], owner.where)
                      if owner else ())
        labels.update(doc_labels(p, doc.fields["metadata"][1], f"{where}.metadata"))
        policies = slo_policies(doc, spec, self.by_kind, self.note)
        runbook = doc_runbook(p, doc.fields["metadata"][1])
        objectives = [replace(o, slo_name=doc.name, service=service_name or "", labels=tuple(labels.items()),
                              policies=policies, alerting=replace(o.alerting, runbook_url=runbook or None))
                      for o in objectives]
        return objectives if len(p.issues) == before else []

    def _indicator(self, doc: Doc, spec: dict[str, tuple[Node, Node]]) -> tuple[str | None, dict[str, Any] | None]:
        """The SLO's indicator: its kind (``ratio``, ``threshold``) and what loadgate grades of it."""
        p, where = doc.parser, doc.where
        assert doc.spec is not None
        has_inline, has_ref = "indicator" in spec, "indicatorRef" in spec
        if is_composite(p, spec):
            if has_inline or has_ref:
                p.error(doc.spec, f"{where}.spec.indicator", "indicator or indicatorRef is given on the spec (a "
                                                             "standard SLO) or on its objectives (a composite SLO), "
                                                             "not both")
            else:
                p.error(spec["objectives"][0], f"{where}.spec.objectives",
                        "cannot be graded by loadgate: a composite SLO (an indicator on each objective); give each "
                        "objective its own SLO")
            return None, None
        if has_inline == has_ref:
            p.error(doc.spec, f"{where}.spec.indicator", "exactly one of indicator and indicatorRef "
                                                         f"(found {'both' if has_inline else 'neither'})")
            return None, None
        if has_ref:
            node = spec["indicatorRef"][1]
            ref = name_field(p, node, f"{where}.spec.indicatorRef", "indicatorRef")
            if ref is None:
                return None, None
            if ref not in self.slis:
                known = f" (there are: {', '.join(sorted(self.slis))})" if self.slis else ""
                p.error(node, f"{where}.spec.indicatorRef", f"no kind: SLI named {ref!r} in the files given{known}: "
                                                            "indicatorRef names the SLI the SLO is graded by")
                return None, None
            indicator = self.slis[ref]
            if indicator is None:
                return None, None
            if ref not in self.graded:  # what loadgate cannot grade of it is said once, on the SLI
                self.graded[ref] = gradable(indicator, self.note)
            return indicator.kind, self.graded[ref]
        inline_node = spec["indicator"][1]
        inline = p.mapping(inline_node, f"{where}.spec.indicator", ("metadata", "spec"))
        if inline is None:
            return None, None
        if "metadata" not in inline:
            p.error(inline_node, f"{where}.spec.indicator.metadata", "metadata is required on an inline indicator "
                                                                     "(with metadata.name)")
        else:
            p.metadata(inline["metadata"][1], f"{where}.spec.indicator.metadata")
        if "spec" not in inline:
            p.error(inline_node, f"{where}.spec.indicator.spec", "spec is required on an inline indicator")
            return None, None
        indicator = check_indicator(p, inline["spec"][1], f"{where}.spec.indicator.spec")
        if indicator is None:
            return None, None
        resolve_types(indicator, self.sources)
        return indicator.kind, gradable(indicator, self.note)
