"""The versioned SLO spec (``version: loadgate/v1``): parse YAML bytes into a validated ``Spec``.

``load_spec(data, filename)`` only parses; ``read_spec(path)`` is the thin wrapper that reads a
file. Either raises ``SpecError`` holding *every* problem found, each located as
``file:line: field.path: what is wrong`` so a person can fix the whole file in one pass.

The format, by example::

    version: loadgate/v1
    name: production
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo import model
from slo.model import Metrics, Objective, Spec, Target
from slo.units import UnitError, parse_comparison, parse_duration, parse_number, parse_rate, parse_ratio

__all__ = ["SPEC_VERSION", "SpecIssue", "SpecError", "load_spec", "read_spec", "dump_spec"]

SPEC_VERSION = "loadgate/v1"

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PLACEHOLDERS = {"window", "selector"}

_TOP_FIELDS = ("version", "name", "description", "selector", "metrics", "objectives")
_COMMON_FIELDS = ("id", "title", "kind", "threshold", "warn", "required", "description", "period", "note")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    model.LATENCY: ("percentile",),
    model.ERROR_RATE: (),
    model.THROUGHPUT: (),
    model.CACHE_HIT_RATE: (),
    model.AVAILABILITY: ("slice", "slice_max_error_ratio"),
    model.PROMQL_RATIO: ("good", "bad", "total", "budgeting", "slice", "slice_target"),
    model.PROMQL_VALUE: ("query", "unit"),
    model.PROMQL_THRESHOLD: ("query", "point", "budgeting", "slice"),
}
_METRIC_FIELDS = ("requests", "duration", "cache_hits", "cache_misses", "up", "code_label")


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a spec file: where it is and what is wrong."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}"


class SpecError(Exception):
    """A spec that cannot be used; ``issues`` lists every problem, in file order."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = sorted(issues, key=lambda i: (i.file, i.line))
        super().__init__("\n".join(str(i) for i in self.issues))


def _read(path: Path) -> bytes:
    name = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SpecError([SpecIssue(name, 0, "(file)", "no such file")]) from None
    except OSError as exc:
        raise SpecError([SpecIssue(name, 0, "(file)", f"cannot read: {exc.strerror}")]) from None


def read_spec(path: str | Path) -> Spec:
    """Read and parse the spec at ``path``: a ``loadgate/v1`` file, a file of OpenSLO v1 documents,
    or a directory whose ``*.yaml``/``*.yml`` files are one set of OpenSLO documents (an SLO may
    then refer to an SLI in another file). Problems are a ``SpecError``."""
    given = Path(path)
    if given.is_dir():
        from slo.openslo import is_openslo, load_openslo

        files = sorted(p for p in given.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise SpecError([SpecIssue(str(given), 0, "(directory)", "no *.yaml or *.yml files in it")])
        found = [(str(f), _read(f)) for f in files]
        plain = [name for name, data in found if not is_openslo(data.decode("utf-8", "replace"))]
        if plain:
            raise SpecError([SpecIssue(name, 0, "(file)", "a directory of specs holds OpenSLO documents only "
                                                          "(apiVersion: openslo/v1); give a loadgate/v1 spec as "
                                                          "its own file") for name in plain])
        return load_openslo(found)
    return load_spec(_read(given), str(given))


def load_spec(data: bytes, filename: str = "<spec>") -> Spec:
    """Parse spec bytes (``loadgate/v1``, or OpenSLO v1 documents) into a ``Spec``, or raise
    ``SpecError`` listing every problem."""
    from slo.openslo import is_openslo, load_openslo

    if is_openslo(data.decode("utf-8", "replace")):
        return load_openslo([(filename, data)])
    return _Parser(data, filename).parse()


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class NodeParser:
    """Reads a YAML node tree (not plain dicts) so every value keeps its line number; collects
    every problem as a located ``SpecIssue`` instead of stopping at the first. Shared by the
    ``loadgate/v1`` parser here and the OpenSLO one (``slo.openslo``)."""

    def __init__(self, data: bytes, filename: str):
        self.data = data
        self.file = filename
        self.issues: list[SpecIssue] = []
        self._constructor = SafeConstructor()

    # -- reporting ---------------------------------------------------------------------------
    def error(self, node: Node | int, path: str, message: str) -> None:
        line = node if isinstance(node, int) else _line(node)
        self.issues.append(SpecIssue(self.file, line, path, message))

    # -- node helpers --------------------------------------------------------------------------
    def scalar(self, node: Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: Node, path: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]] | None:
        """Return ``{key: (key_node, value_node)}``, reporting non-mappings, duplicates and unknown keys."""
        if not isinstance(node, MappingNode):
            self.error(node, path or "(document)", f"expected a mapping, got {_describe(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.error(key_node, path, "keys must be plain strings")
                continue
            sub = f"{path}.{key}" if path else key
            if key in out:
                self.error(key_node, sub, f"duplicate key (first on line {_line(out[key][0])})")
                continue
            if key not in allowed:
                self.error(key_node, sub, f"unknown field; allowed here: {', '.join(allowed)}")
                continue
            out[key] = (key_node, value_node)
        return out

    def string(self, node: Node, path: str, pattern: re.Pattern[str] | None = None,
               what: str = "") -> str | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, str) or not value.strip():
            self.error(node, path, f"expected a non-empty string, got {_describe(node, value)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.error(node, path, f"{value!r} is not a valid {what}")
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, bool):
            self.error(node, path, f"expected true or false, got {_describe(node, value)}")
            return None
        return value

    def unit_value(self, node: Node, path: str, parse: Callable[[Any], float]) -> tuple[str | None, float] | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if value is None or isinstance(value, (bool, list, dict)):
            self.error(node, path, f"expected a value with units, got {_describe(node, value)}")
            return None
        op, rest = parse_comparison(value)
        try:
            return op, parse(rest)
        except UnitError as exc:
            self.error(node, path, str(exc))
            return None

    def text(self) -> str:
        """The file as UTF-8 text, or a ``SpecError``."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError([SpecIssue(self.file, 0, "(file)", f"not UTF-8 text ({exc.reason})")]) from None

    def yaml_error(self, exc: yaml.YAMLError) -> SpecError:
        """A YAML syntax error, located."""
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            problem = exc.problem or exc.context or "invalid YAML"
            return SpecError([SpecIssue(self.file, line, "(yaml)", f"YAML syntax error: {problem}")])
        return SpecError([SpecIssue(self.file, 0, "(yaml)", f"YAML error: {exc}")])


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
        selector = ""
        if "selector" in fields:
            selector = self._selector(fields["selector"][1])
        metrics = Metrics()
        if "metrics" in fields:
            metrics = self._metrics(fields["metrics"][1])

        objectives: list[Objective] = []
        if "objectives" not in fields:
            self.error(root, "objectives", "missing; a spec needs at least one objective")
        else:
            objectives = self._objectives(fields["objectives"][1])

        if self.issues:
            raise SpecError(self.issues)
        return Spec(version=str(version), name=name, path=self.file, objectives=tuple(objectives),
                    metrics=metrics, selector=selector, description=description, source_text=text)

    def _selector(self, node: Node) -> str:
        # Imported here: analysis owns the selector grammar, slo only checks the spec's copy.
        from analysis.queries import SelectorError, parse_selector

        value = self.string(node, "selector")
        if value is None:
            return ""
        try:
            parse_selector(value)
        except SelectorError as exc:
            self.error(node, "selector", str(exc))
            return ""
        return value

    def _metrics(self, node: Node) -> Metrics:
        fields = self.mapping(node, "metrics", _METRIC_FIELDS)
        if fields is None:
            return Metrics()
        values: dict[str, str] = {}
        for key, (_, value_node) in fields.items():
            pattern, what = (_LABEL_RE, "label name") if key == "code_label" else (_METRIC_RE, "metric name")
            value = self.string(value_node, f"metrics.{key}", pattern, what)
            if value is not None:
                values[key] = value
        return Metrics(**values)

    def _objectives(self, node: Node) -> list[Objective]:
        if not isinstance(node, SequenceNode):
            self.error(node, "objectives", f"expected a list of objectives, got {_describe(node)}")
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
        if "period" in fields:
            parsed = self.unit_value(fields["period"][1], f"{path}.period", parse_duration)
            if parsed is None:
                return None
            extra["period_s"] = parsed[1]
        return Objective(id=oid, title=title or oid.replace("_", " ").capitalize(), kind=kind, target=target,
                         warn=warn, required=required, description=description, line=_line(node),
                         origin=f"{self.file}:{_line(node)}", **extra)

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
                               f"expected a number between 0 and 100 such as 99 or 99.9, got {_describe(pnode, value)}")
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
        return extra

    def _budgeting(self, fields: dict[str, tuple[Node, Node]], node: Node, path: str, extra: dict[str, Any],
                   ratio: bool) -> None:
        """``budgeting`` (OpenSLO's method), ``slice`` and ``slice_target`` of the PromQL kinds."""
        methods = model.BUDGETING_METHODS if ratio else (model.OCCURRENCES, model.TIMESLICES)
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
        if ratio and method == model.TIMESLICES:
            if "slice_target" not in fields:
                self.error(node, f"{path}.slice_target", "missing; the good ratio a slice needs, such as 99%")
            else:
                parsed = self.unit_value(fields["slice_target"][1], f"{path}.slice_target", parse_ratio)
                if parsed is not None:
                    extra["slice_target"] = parsed[1]
        elif "slice_target" in fields and method == model.RATIO_TIMESLICES:
            self.error(fields["slice_target"][0], f"{path}.slice_target", "applies with budgeting Timeslices only")

    def _promql(self, node: Node, path: str) -> str | None:
        from analysis.queries import unbalanced

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
        if kind == model.LATENCY:
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
        if kind == model.LATENCY and value <= 0:
            self.error(node, path, "a latency threshold must be above 0")
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


def _describe(node: Node, value: Any = None) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if value is None:
        return "nothing" if node.value in ("", "~", "null") else repr(node.value)
    return f"{type(value).__name__} {value!r}"


def _threshold_text(kind: str, op: str | None, value: float) -> str:
    """A threshold as the spec writes it: ``< 500ms``, ``>= 99.9%``, ``>= 180/s``, ``< 3``."""
    if kind == model.LATENCY:
        text = f"{value * 1000:.12g}ms"
    elif kind == model.THROUGHPUT:
        text = f"{value:.12g}/s"
    elif kind == model.PROMQL_VALUE:
        text = f"{value:.12g}"
    else:
        text = f"{value * 100:.12g}%"
    return f"{op} {text}" if op else text


def _seconds(value: float) -> str:
    if value >= 86400 and value % 86400 == 0:
        return f"{value / 86400:.12g}d"
    return f"{value:.12g}s"


def dump_spec(spec: Spec, header: str = "") -> str:
    """``spec`` written as a ``loadgate/v1`` file that ``load_spec`` reads back to the same
    objectives (the reverse of ``load_spec``); ``header`` lines become comments on top."""
    top: dict[str, Any] = {"version": SPEC_VERSION, "name": spec.name}
    if spec.description:
        top["description"] = spec.description
    if spec.selector:
        top["selector"] = spec.selector
    defaults = Metrics()
    changed = {f: getattr(spec.metrics, f) for f in _METRIC_FIELDS if getattr(spec.metrics, f) != getattr(defaults, f)}
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
            item["slice"] = _seconds(o.slice_seconds or 60.0)
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
                item["slice"] = _seconds(o.slice_seconds)
            if o.slice_target is not None:
                item["slice_target"] = _threshold_text(model.PROMQL_RATIO, None, o.slice_target)
        if o.period_s is not None:
            item["period"] = _seconds(o.period_s)
        if o.note:
            item["note"] = o.note
        objectives.append(item)
    top["objectives"] = objectives
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + yaml.safe_dump(top, sort_keys=False, allow_unicode=True, width=120)
