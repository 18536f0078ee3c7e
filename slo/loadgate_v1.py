"""The ``loadgate/v1`` spec format: YAML bytes parsed into a validated ``Spec``.

``load_loadgate_v1(data, filename)`` only parses (``slo.spec`` reads files and chooses the format);
it raises ``SpecError`` holding *every* problem found, each located as
``file:line: field.path: what is wrong``. ``slo.spec_write.dump_spec`` writes the reverse.

The format, by example::

    version: loadgate/v1
    name: production
    service: checkout                # optional; the rules' service label (default: name)
    labels: {team: payments}         # optional; on every record and alert (also per objective)
    alerting: {name: CheckoutBurn}   # optional; alert names, routing, absent (slo.rules_spec)
    selector: 'job="api"'            # optional; label matchers added to every default query
    metrics:                         # optional; defaults are loadgate's metric contract
      requests: http_requests_total
    objectives:
      - id: p99_latency
        title: P99 latency
        kind: latency
        percentile: 99
        threshold: "< 500ms"         # operator optional; each kind has a natural one
        warn: 400ms
      - id: availability
        kind: availability
        threshold: ">= 99.99%"
        slice: 60s
        slice_max_error_ratio: 1%
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from analysis.queries import SelectorError, parse_selector, unbalanced
from slo import model
from slo.located import NodeParser, SpecError, SpecIssue, describe, line_of
from slo.model import Alerting, Metrics, Objective, Spec, Target
from slo.recovery import read_budget_share
from slo.rules_spec import read_alerting, read_labels, read_rule_keys
from slo.spec_metrics import METRIC_FIELDS, parse_metrics
from slo.units import parse_duration, parse_number, parse_rate, parse_ratio
from slo.zones import read_zones

__all__ = ["SPEC_VERSION", "METRIC_FIELDS", "load_loadgate_v1"]

SPEC_VERSION = "loadgate/v1"

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PLACEHOLDERS = {"window", "selector"}

_TOP_FIELDS = ("version", "name", "service", "description", "selector", "labels", "alerting", "metrics", "objectives")
_COMMON_FIELDS = ("id", "title", "kind", "threshold", "warn", "required", "description", "period", "note", "labels",
                  "alerting", "group_by", "zones")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    model.LATENCY: ("percentile",),
    model.ERROR_RATE: (),
    model.THROUGHPUT: (),
    model.CACHE_HIT_RATE: (),
    model.AVAILABILITY: ("slice", "slice_max_error_ratio"),
    model.PROMQL_RATIO: ("good", "bad", "total", "budgeting", "slice", "slice_target"),
    model.PROMQL_VALUE: ("query", "unit"),
    model.PROMQL_THRESHOLD: ("query", "point", "budgeting", "slice", "slice_target"),
    model.RECOVERY: ("budget",),
}
#: The ``metrics:`` fields, in the order they are written.


def load_loadgate_v1(data: bytes, filename: str = "<spec>") -> Spec:
    """Parse ``loadgate/v1`` spec bytes into a ``Spec``, or raise ``SpecError`` listing every problem."""
    return _Parser(data, filename).parse()


class _Parser(NodeParser):
    """The ``loadgate/v1`` format."""

    # -- the document ------------------------------------------------------------------------
    def parse(self) -> Spec:
        text = self.text()
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise self.yaml_error(exc) from None
        if root is None:
            raise SpecError([SpecIssue(self.file, 1, "(document)", "the file is empty")])

        fields = self.mapping(root, "", _TOP_FIELDS)
        if fields is None:
            raise SpecError(self.issues)

        version = None
        if "version" not in fields:
            self.error(root, "version", f"missing; the first line should be 'version: {SPEC_VERSION}'")
        else:
            version = self.string(fields["version"][1], "version")
            if version is not None and version != SPEC_VERSION:
                self.error(fields["version"][1], "version",
                           f"unsupported version {version!r}; this loadgate reads {SPEC_VERSION!r}")

        name = Path(self.file).stem
        if "name" in fields:
            name = self.string(fields["name"][1], "name") or name
        description = ""
        if "description" in fields:
            description = self.string(fields["description"][1], "description") or ""
        service = self.string(fields["service"][1], "service") or "" if "service" in fields else ""
        labels = read_labels(self, fields["labels"][1], "labels") if "labels" in fields else ()
        alerting = read_alerting(self, fields["alerting"][1], "alerting") if "alerting" in fields else Alerting()
        selector = ""
        if "selector" in fields:
            selector = self._selector(fields["selector"][1])
        metrics: Metrics = Metrics()
        overrides: tuple[tuple[str, str], ...] = ()
        if "metrics" in fields:
            metrics, overrides = parse_metrics(self, fields["metrics"][1])

        objectives: list[Objective] = []
        if "objectives" not in fields:
            self.error(root, "objectives", "missing; a spec needs at least one objective")
        else:
            objectives = self._objectives(fields["objectives"][1])

        if self.issues:
            raise SpecError(self.issues)
        return Spec(version=str(version), name=name, path=self.file, objectives=tuple(objectives),
                    metrics=metrics, metrics_overrides=overrides, selector=selector, description=description,
                    source_text=text, service=service, labels=labels, alerting=alerting)

    def _selector(self, node: Node) -> str:
        # analysis owns the selector grammar; slo only checks the spec's copy.
        value = self.string(node, "selector")
        if value is None:
            return ""
        try:
            parse_selector(value)
        except SelectorError as exc:
            self.error(node, "selector", str(exc))
            return ""
        return value

    def _objectives(self, node: Node) -> list[Objective]:
        if not isinstance(node, SequenceNode):
            self.error(node, "objectives", f"expected a list of objectives, got {describe(node)}")
            return []
        if not node.value:
            self.error(node, "objectives", "the list is empty; a spec needs at least one objective")
            return []
        out: list[Objective] = []
        first_line: dict[str, int] = {}
        for index, item in enumerate(node.value):
            objective = self._objective(item, f"objectives[{index}]")
            if objective is None:
                continue
            if objective.id in first_line:
                self.error(objective.line, f"objectives[{index}].id",
                           f"duplicate id {objective.id!r} (first defined on line {first_line[objective.id]})")
                continue
            first_line[objective.id] = objective.line
            out.append(objective)
        return out

    def _objective(self, node: Node, path: str) -> Objective | None:
        all_fields = _COMMON_FIELDS + tuple(f for fs in _KIND_FIELDS.values() for f in fs)
        fields = self.mapping(node, path, tuple(dict.fromkeys(all_fields)))
        if fields is None:
            return None
        before = len(self.issues)

        for needed in ("id", "kind", "threshold"):
            if needed not in fields:
                self.error(node, f"{path}.{needed}", "missing")
        oid = self.string(fields["id"][1], f"{path}.id", _ID_RE,
                          "id (use lower case letters, digits and _)") if "id" in fields else None
        kind = self.string(fields["kind"][1], f"{path}.kind") if "kind" in fields else None
        if kind is not None and kind not in model.KINDS:
            self.error(fields["kind"][1], f"{path}.kind", f"unknown kind {kind!r}; one of {', '.join(model.KINDS)}")
            kind = None
        if kind is not None:
            allowed = _COMMON_FIELDS + _KIND_FIELDS[kind]
            for key, (key_node, _) in fields.items():
                if key not in allowed:
                    self.error(key_node, f"{path}.{key}", f"not a field of kind {kind!r}")

        title = self.string(fields["title"][1], f"{path}.title") if "title" in fields else None
        description = ""
        if "description" in fields:
            description = self.string(fields["description"][1], f"{path}.description") or ""
        required = True
        if "required" in fields:
            flag = self.boolean(fields["required"][1], f"{path}.required")
            required = True if flag is None else flag

        extra: dict[str, Any] = {}
        if kind is not None:
            extra = self._kind_fields(kind, fields, node, path)
        target = None
        warn = None
        if kind is not None and "threshold" in fields:
            target = self._target(kind, fields["threshold"][1], f"{path}.threshold", extra)
            if target is not None and "warn" in fields:
                warn = self._warn(kind, target, fields["warn"][1], f"{path}.warn")

        if len(self.issues) != before or oid is None or kind is None or target is None:
            return None
        if kind in (model.PROMQL_RATIO, model.PROMQL_VALUE, model.PROMQL_THRESHOLD):
            templates = [str(extra[k]) for k in ("good", "bad", "total", "query") if extra.get(k)]
            extra["takes_selector"] = all("{{selector}}" in re.sub(r"\s+", "", t) for t in templates)
        if "note" in fields:
            extra["note"] = self.string(fields["note"][1], f"{path}.note") or ""
        extra.update(read_rule_keys(self, fields, path, kind))
        extra.update(read_zones(self, fields, path, kind))
        if "period" in fields:
            parsed = self.unit_value(fields["period"][1], f"{path}.period", parse_duration)
            if parsed is None:
                return None
            extra["period_s"] = parsed[1]
        return Objective(id=oid, title=title or oid.replace("_", " ").capitalize(), kind=kind, target=target,
                         warn=warn, required=required, description=description, line=line_of(node),
                         origin=f"{self.file}:{line_of(node)}", **extra)

    def _kind_fields(self, kind: str, fields: dict[str, tuple[Node, Node]], node: Node,
                     path: str) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if kind == model.LATENCY:
            if "percentile" not in fields:
                self.error(node, f"{path}.percentile", "missing; latency objectives name a percentile such as 99")
            else:
                pnode = fields["percentile"][1]
                value = self.scalar(pnode) if isinstance(pnode, ScalarNode) else None
                if isinstance(value, str) and value.lower().startswith("p"):
                    try:
                        value = float(value[1:])
                    except ValueError:
                        pass
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100:
                    self.error(pnode, f"{path}.percentile",
                               f"expected a number between 0 and 100 such as 99 or 99.9, got {describe(pnode, value)}")
                else:
                    extra["quantile"] = round(float(value) / 100.0, 12)
        elif kind == model.AVAILABILITY:
            extra["slice_seconds"] = 60.0
            extra["slice_max_error_ratio"] = 0.01
            if "slice" in fields:
                parsed = self.unit_value(fields["slice"][1], f"{path}.slice", parse_duration)
                if parsed is not None:
                    if parsed[1] < 1:
                        self.error(fields["slice"][1], f"{path}.slice", "a slice must be at least 1s")
                    else:
                        extra["slice_seconds"] = parsed[1]
            if "slice_max_error_ratio" in fields:
                parsed = self.unit_value(fields["slice_max_error_ratio"][1], f"{path}.slice_max_error_ratio",
                                         parse_ratio)
                if parsed is not None:
                    extra["slice_max_error_ratio"] = parsed[1]
        elif kind == model.PROMQL_RATIO:
            if ("good" in fields) == ("bad" in fields):
                self.error(node, f"{path}.good", "give exactly one of 'good' or 'bad', plus 'total'")
            for key in ("good", "bad", "total"):
                if key in fields:
                    extra[key] = self._promql(fields[key][1], f"{path}.{key}")
            if "total" not in fields:
                self.error(node, f"{path}.total", "missing; a ratio needs a total query")
            self._budgeting(fields, node, path, extra, ratio=True)
        elif kind in (model.PROMQL_VALUE, model.PROMQL_THRESHOLD):
            if "query" not in fields:
                self.error(node, f"{path}.query", f"missing; a {kind} objective needs a query")
            else:
                extra["query"] = self._promql(fields["query"][1], f"{path}.query")
            if "unit" in fields:
                extra["unit"] = self.string(fields["unit"][1], f"{path}.unit") or ""
        if kind == model.PROMQL_THRESHOLD:
            if "point" not in fields:
                self.error(node, f"{path}.point", "missing; the comparison each point must meet, such as '< 0.5'")
            else:
                parsed = self.unit_value(fields["point"][1], f"{path}.point", parse_number)
                if parsed is not None and parsed[0] is None:
                    self.error(fields["point"][1], f"{path}.point", "needs an operator, such as '< 0.5' or '>= 100'")
                elif parsed is not None:
                    extra["point_op"], extra["point_value"] = parsed
            self._budgeting(fields, node, path, extra, ratio=False)
        if kind == model.RECOVERY and "budget" in fields:
            extra.update(read_budget_share(self, fields["budget"][1], f"{path}.budget"))
        return extra

    def _budgeting(self, fields: dict[str, tuple[Node, Node]], node: Node, path: str, extra: dict[str, Any],
                   ratio: bool) -> None:
        """``budgeting`` (OpenSLO's method), ``slice`` and ``slice_target`` of the PromQL kinds."""
        methods = model.BUDGETING_METHODS
        method = model.OCCURRENCES
        if "budgeting" in fields:
            value = self.string(fields["budgeting"][1], f"{path}.budgeting")
            if value is not None and value not in methods:
                self.error(fields["budgeting"][1], f"{path}.budgeting",
                           f"unknown {value!r}; one of {', '.join(methods)}")
            elif value is not None:
                method = value
        extra["budgeting"] = method
        sliced = method != model.OCCURRENCES
        if sliced and "slice" not in fields:
            self.error(node, f"{path}.slice", f"missing; {method} needs the slice length, such as 60s")
        if not sliced:
            for key in ("slice", "slice_target"):
                if key in fields:
                    self.error(fields[key][0], f"{path}.{key}", "applies with budgeting Timeslices or RatioTimeslices")
        if sliced and "slice" in fields:
            parsed = self.unit_value(fields["slice"][1], f"{path}.slice", parse_duration)
            if parsed is not None:
                extra["slice_seconds"] = parsed[1]
        if method == model.TIMESLICES:
            # A ratio's slice needs its good ratio; a threshold's slice may instead be one point (the
            # slice's last), or, with slice_target, the share of its points that must meet ``point``.
            if "slice_target" not in fields and ratio:
                self.error(node, f"{path}.slice_target", "missing; the good ratio a slice needs, such as 99%")
            elif "slice_target" in fields:
                parsed = self.unit_value(fields["slice_target"][1], f"{path}.slice_target", parse_ratio)
                if parsed is not None:
                    extra["slice_target"] = parsed[1]
        elif "slice_target" in fields and method == model.RATIO_TIMESLICES:
            self.error(fields["slice_target"][0], f"{path}.slice_target", "applies with budgeting Timeslices only")

    def _promql(self, node: Node, path: str) -> str | None:
        text = self.string(node, path)
        if text is None:
            return None
        problem = unbalanced(re.sub(r"\{\{\s*[^{}]*?\s*\}\}", "", text))
        if problem:
            self.error(node, path, f"not PromQL: {problem}")
            return None
        for match in _PLACEHOLDER_RE.finditer(text):
            if match.group(1) not in _PLACEHOLDERS:
                self.error(node, path, f"unknown placeholder {{{{{match.group(1)}}}}}; "
                                       "only {{window}} and {{selector}} exist")
        return text

    def _parser_for(self, kind: str) -> Callable[[Any], float]:
        if kind in (model.LATENCY, model.RECOVERY):
            return parse_duration
        if kind == model.THROUGHPUT:
            return parse_rate
        if kind == model.PROMQL_VALUE:
            return parse_number
        return parse_ratio

    def _target(self, kind: str, node: Node, path: str, extra: dict[str, Any]) -> Target | None:
        parsed = self.unit_value(node, path, self._parser_for(kind))
        if parsed is None:
            return None
        op, value = parsed
        if op is None:
            if kind in model.DEFAULT_OPS:
                op = model.DEFAULT_OPS[kind]
            elif kind == model.PROMQL_RATIO:
                op = ">=" if extra.get("good") or extra.get("budgeting", model.OCCURRENCES) != model.OCCURRENCES \
                    else "<="

            else:
                self.error(node, path, "a promql_value threshold needs an operator, such as '< 3' or '>= 100'")
                return None
        if kind in model.UPPER_BOUND_KINDS and op not in ("<", "<="):
            self.error(node, path, f"{kind} objectives are upper bounds; use < or <=, not {op}")
            return None
        if kind in model.LOWER_BOUND_KINDS and op not in (">", ">="):
            self.error(node, path, f"{kind} objectives are lower bounds; use > or >=, not {op}")
            return None
        if kind == model.PROMQL_RATIO and extra.get("budgeting", model.OCCURRENCES) != model.OCCURRENCES \
                and op not in (">", ">="):
            self.error(node, path, "a sliced promql_ratio measures the good share of its slices; use >= or >")
            return None
        if kind in (model.LATENCY, model.RECOVERY) and value <= 0:
            self.error(node, path, f"a {kind} threshold must be above 0")
            return None
        if kind == model.THROUGHPUT and value <= 0:
            self.error(node, path, "a throughput threshold must be above 0")
            return None
        return Target(op, value)

    def _warn(self, kind: str, target: Target, node: Node, path: str) -> float | None:
        parsed = self.unit_value(node, path, self._parser_for(kind))
        if parsed is None:
            return None
        op, value = parsed
        if op is not None and (op in ("<", "<=")) != target.is_upper_bound:
            self.error(node, path, f"the warn threshold must point the same way as the threshold ({target.op})")
            return None
        stricter = value < target.value if target.is_upper_bound else value > target.value
        if not stricter:
            side = "below" if target.is_upper_bound else "above"
            self.error(node, path, f"the warn threshold must be {side} the threshold, so a warning comes first")
            return None
        return value
