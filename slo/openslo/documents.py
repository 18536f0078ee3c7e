"""One file of OpenSLO v1 documents: the envelope of each (``apiVersion``, ``kind``, ``metadata``,
``spec``) checked and located, and the vocabulary the reader and the writer share.

``FileParser`` reads one file's documents (``Doc`` each); ``slo.openslo.read`` reads a set of
files as one and maps their SLOs to the model.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from slo.located import NodeParser
from slo.units import UnitError, parse_openslo_duration

__all__ = ["API_VERSION", "OPS", "KINDS_READ", "is_openslo", "Doc", "FileParser", "duration_field"]

API_VERSION = "openslo/v1"
_API_RE = re.compile(r"^apiVersion\s*:\s*['\"]?([^'\"\s#]+)", re.M)
#: OpenSLO's comparison operators, as loadgate writes them.
OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
KINDS_READ = ("SLO", "SLI", "DataSource", "Service")
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$")


def is_openslo(text: str) -> bool:
    """Whether a file's first ``apiVersion`` names OpenSLO (any version: the parser says which it reads)."""
    match = _API_RE.search(text)
    return bool(match and match.group(1).lower().startswith("openslo/"))


class Doc:
    """One OpenSLO document: its kind, name, node and the file parser that located it."""

    def __init__(self, parser: "FileParser", kind: str, name: str, node: Node,
                 fields: dict[str, tuple[Node, Node]]):
        self.parser, self.kind, self.name, self.node, self.fields = parser, kind, name, node, fields

    @property
    def where(self) -> str:
        return f"{self.kind}/{self.name}"


class FileParser(NodeParser):
    """The documents of one file."""

    def documents(self) -> list[Doc]:
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
            elif kind is not None and kind not in KINDS_READ:
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
            docs.append(Doc(self, kind, name, root, fields))
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


def duration_field(p: FileParser, node: Node, path: str) -> float | None:
    """An OpenSLO duration field in seconds, or None with its problem reported."""
    text = p.string(node, path)
    if text is None:
        return None
    try:
        return parse_openslo_duration(text)
    except UnitError as exc:
        p.error(node, path, str(exc))
        return None
