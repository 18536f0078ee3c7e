"""One file of OpenSLO v1 documents: every form the OpenSLO tools write, each document's envelope
(``apiVersion``, ``kind``, ``metadata``, ``spec``) checked and located, and the field rules the
kinds share.

The forms (as the go-sdk's ``openslosdk.Decode`` reads them and ``oslo fmt`` writes them): YAML
documents separated by ``---``, a YAML document that is a list of documents (any mix of the two),
and JSON, a single object or a list. JSON is read as the YAML it is, so every value keeps its line.

``FileParser.documents()`` gives one ``Doc`` per document whose envelope is sound;
``slo.openslo.read`` reads a set of files as one and checks each kind's ``spec``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo.located import NodeParser, describe
from slo.units import UnitError, parse_openslo_duration

__all__ = ["API_VERSION", "KINDS", "OPS", "MAX_DESCRIPTION", "api_version", "is_openslo", "Doc", "FileParser",
           "duration_field", "description_field", "name_field", "number_field", "NAME_RULE"]

API_VERSION = "openslo/v1"
#: Every kind of OpenSLO v1, in the spec's order.
KINDS = ("DataSource", "SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "Service")
#: OpenSLO's comparison operators, as loadgate writes them.
OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
MAX_DESCRIPTION = 1050
# The first apiVersion of a file in any form: a YAML document or list item, or JSON on one line.
_API_RE = re.compile(r"""^[ \t\-\[{]*["']?apiVersion["']?[ \t]*:[ \t]*["']?([^"'\s#,}\]]+)""", re.M)
_JSON_API_RE = re.compile(r'"apiVersion"\s*:\s*"([^"]*)"')
# RFC 1123 labels, as the spec requires, plus what it encourages implementations to take
# ('.', '|', '/', '\') and the '_' loadgate has always taken.
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9._|/\\]*[a-z0-9])?$")
NAME_RULE = ("must be a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit; "
             "loadgate also takes '.', '_', '|', '/' and '\\'), at most 255 characters")
_KEY_RE = re.compile(r"^[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")
_KEY_RULE = "at most 63 characters, beginning and ending with a letter or digit, with '-', '_' and '.' between"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading JSON's exponent numbers (``1e-3``) as numbers too, as YAML 1.2
    and JSON do (YAML 1.1 leaves them strings)."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(0|[1-9][0-9]*)(\.[0-9]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def api_version(text: str) -> tuple[str, int] | None:
    """A file's first ``apiVersion`` and its line, in any form the OpenSLO tools write; None without one."""
    found = [m for m in (_API_RE.search(text), _JSON_API_RE.search(text)) if m]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    return first.group(1), text.count("\n", 0, first.start()) + 1


def is_openslo(text: str) -> bool:
    """Whether a file's first ``apiVersion`` names OpenSLO (any version: the parser says which it reads)."""
    found = api_version(text)
    return bool(found and found[0].lower().startswith("openslo/"))


def _looks_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


class Doc:
    """One OpenSLO document: its kind, name, node, fields, ``spec`` (None when it has none) and
    the file parser that located it."""

    def __init__(self, parser: "FileParser", kind: str, name: str, node: Node,
                 fields: dict[str, tuple[Node, Node]], spec: MappingNode | None):
        self.parser, self.kind, self.name, self.node, self.fields, self.spec = parser, kind, name, node, fields, spec

    @property
    def where(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1


class FileParser(NodeParser):
    """The documents of one file, and the field rules every kind shares."""

    def documents(self) -> list[Doc]:
        """Every document of the file, a list's items each one; problems are reported, and a
        document whose envelope has one is left out."""
        text = self.text()
        if _looks_json(text) or self.file.endswith(".json"):
            # JSON may indent with tabs, which YAML does not allow; outside its strings a tab is a space.
            text = text.replace("\t", " ")
        try:
            roots = [r for r in yaml.compose_all(text, Loader=_Loader) if r is not None]
        except yaml.YAMLError as exc:
            raise self.yaml_error(exc) from None
        nodes: list[Node] = []
        for root in roots:
            nodes.extend(root.value if isinstance(root, SequenceNode) else [root])
        unsupported: dict[str, list[tuple[Node, int]]] = {}
        docs = []
        for index, node in enumerate(nodes):
            label = f"(document {index + 1})"
            fields = self.mapping(node, label, ("apiVersion", "kind", "metadata", "spec"))
            if fields is None:
                continue
            if "apiVersion" not in fields:
                self.error(node, f"{label}.apiVersion", f"apiVersion is required: {API_VERSION!r}")
                continue
            api = self.string(fields["apiVersion"][1], f"{label}.apiVersion")
            if api is not None and api != API_VERSION:
                unsupported.setdefault(api, []).append((fields["apiVersion"][1], index + 1))
                continue
            kind = self._kind(node, fields, label)
            name = self.metadata(fields["metadata"][1], f"{label}.metadata") if "metadata" in fields else None
            if "metadata" not in fields:
                self.error(node, f"{label}.metadata", "metadata is required (with metadata.name)")
            ok, spec = self._spec(node, fields, kind, f"{kind}/{name}" if kind and name else label)
            if kind is not None and name is not None and ok:
                docs.append(Doc(self, kind, name, node, fields, spec))
        for api, where in unsupported.items():
            more = f" (documents {', '.join(str(i) for _, i in where)})" if len(where) > 1 else ""
            self.error(where[0][0], f"(document {where[0][1]}).apiVersion",
                       f"unsupported apiVersion {api!r}{more}: loadgate reads {API_VERSION!r} documents (and "
                       "'version: loadgate/v1' specs); convert v1alpha and v2alpha documents to v1 first")
        return docs

    def _kind(self, node: Node, fields: dict[str, tuple[Node, Node]], label: str) -> str | None:
        if "kind" not in fields:
            self.error(node, f"{label}.kind", f"kind is required: one of {', '.join(KINDS)}")
            return None
        kind = self.string(fields["kind"][1], f"{label}.kind")
        if kind is not None and kind not in KINDS:
            self.error(fields["kind"][1], f"{label}.kind",
                       f"kind {kind!r} is not an OpenSLO v1 kind: one of {', '.join(KINDS)}")
            return None
        return kind

    def _spec(self, node: Node, fields: dict[str, tuple[Node, Node]], kind: str | None,
              where: str) -> tuple[bool, MappingNode | None]:
        """Whether the document's spec is sound, and its mapping (None when it has none, as a
        Service may)."""
        value = fields["spec"][1] if "spec" in fields else None
        if value is None or (isinstance(value, ScalarNode) and self.scalar(value) is None):
            if kind not in (None, "Service"):
                self.error(node, f"{where}.spec", f"spec is required on every {kind}")
                return False, None
            return True, None
        if not isinstance(value, MappingNode):
            self.error(value, f"{where}.spec", f"expected a mapping, got {describe(value)}")
            return False, None
        return True, value

    def metadata(self, node: Node, path: str) -> str | None:
        """``metadata`` checked (``name``, ``displayName``, ``labels``, ``annotations``); its name, or None."""
        meta = self.mapping(node, path, ("name", "displayName", "labels", "annotations", "namespace"))
        if meta is None:
            return None
        if "displayName" in meta:
            self.string(meta["displayName"][1], f"{path}.displayName")
        if "labels" in meta:
            self._labels(meta["labels"][1], f"{path}.labels")
        if "annotations" in meta:
            self._annotations(meta["annotations"][1], f"{path}.annotations")
        if "namespace" in meta:
            self.string(meta["namespace"][1], f"{path}.namespace")
        if "name" not in meta:
            self.error(node, f"{path}.name", "metadata.name is required")
            return None
        return name_field(self, meta["name"][1], f"{path}.name", "metadata.name")

    def _keyed(self, node: Node, path: str) -> list[tuple[str, Node, Node]]:
        if not isinstance(node, MappingNode):
            self.error(node, path, f"expected a mapping, got {describe(node)}")
            return []
        out = []
        for key_node, value_node in node.value:
            key = self.scalar(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.error(key_node, path, "keys must be plain strings")
                continue
            out.append((key, key_node, value_node))
        return out

    def _labels(self, node: Node, path: str) -> None:
        for key, key_node, value in self._keyed(node, path):
            if not _KEY_RE.match(key):
                self.error(key_node, f"{path}.{key}", f"a label's key is {_KEY_RULE}")
            items = value.value if isinstance(value, SequenceNode) else [value]
            if not all(isinstance(i, ScalarNode) and isinstance(self.scalar(i), str) for i in items):
                self.error(value, f"{path}.{key}", "a label's value is a string or a list of strings")

    def _annotations(self, node: Node, path: str) -> None:
        for key, key_node, value in self._keyed(node, path):
            prefix, _, name = key.rpartition("/")
            if not _KEY_RE.match(name) or (prefix and (len(prefix) > 253 or not _PREFIX_RE.match(prefix))):
                self.error(key_node, f"{path}.{key}", f"an annotation's key is an optional DNS subdomain and '/', "
                                                      f"then a name {_KEY_RULE}")
            if not (isinstance(value, ScalarNode) and isinstance(self.scalar(value), str)):
                self.error(value, f"{path}.{key}", "an annotation's value is a string")

    def peek(self, node: Node | None, key: str) -> str | None:
        """A scalar field of a mapping read a second time, without reporting its problems again."""
        if not isinstance(node, MappingNode):
            return None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key and isinstance(value_node, ScalarNode):
                value = self.scalar(value_node)
                return str(value) if value is not None else None
        return None


def name_field(p: FileParser, node: Node, path: str, what: str) -> str | None:
    """A document's name, or a reference to one (``indicatorRef``, ``conditionRef``...), checked."""
    name = p.string(node, path)
    if name is not None and (len(name) > 255 or not _NAME_RE.match(name)):
        p.error(node, path, f"{what} {name!r} {NAME_RULE}")
        return None
    return name


def duration_field(p: FileParser, node: Node, path: str, minutes: bool = False) -> float | None:
    """An OpenSLO duration-shorthand field (``28d``, ``1h``) in seconds, or None with its problem
    reported. ``minutes``: a bare number is minutes (``timeSliceWindow``, by the spec)."""
    raw = p.scalar(node) if isinstance(node, ScalarNode) else None
    if minutes and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if not isinstance(raw, int) or raw <= 0:
            p.error(node, path, f"{path.rsplit('.', 1)[-1]} is a duration such as 1m, or a whole number of minutes "
                                f"above 0 (found {raw!r})")
            return None
        return float(raw * 60)
    text = p.string(node, path)
    if text is None:
        return None
    try:
        return parse_openslo_duration(text)
    except UnitError as exc:
        p.error(node, path, str(exc))
        return None


def number_field(p: FileParser, node: Node, path: str, what: str) -> float | None:
    """A number, or None with "``what`` must be a number" reported."""
    raw: Any = p.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw:
        p.error(node, path, f"{what} must be a number (found {describe(node, raw)})")
        return None
    return float(raw)


def description_field(p: FileParser, fields: dict[str, tuple[Node, Node]], path: str) -> str:
    """A spec's optional ``description`` (a string of at most 1050 characters), or ``""``."""
    if "description" not in fields:
        return ""
    node = fields["description"][1]
    raw = p.scalar(node) if isinstance(node, ScalarNode) else None
    if raw is None and isinstance(node, ScalarNode):
        return ""
    if not isinstance(raw, str):
        p.error(node, f"{path}.description", f"description must be a string (found {describe(node, raw)})")
        return ""
    if len(raw) > MAX_DESCRIPTION:
        p.error(node, f"{path}.description", f"description is at most {MAX_DESCRIPTION} characters "
                                             f"(found {len(raw)})")
        return ""
    return raw
