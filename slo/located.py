"""Located YAML: the node-tree reading that every spec format shares, and its errors.

A spec is read as PyYAML's node tree (``yaml.compose``), not as plain dicts, so every value keeps
its line number. ``NodeParser`` holds one file's bytes and collects every problem it finds as a
``SpecIssue`` (``file:line: field.path: what is wrong``) instead of stopping at the first; a format
raises one ``SpecError`` holding them all, so a person can fix the whole file in one pass.

This module knows no format: ``slo.loadgate_v1`` and ``slo.openslo`` build on it, and
``slo.spec`` chooses between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo.units import UnitError, parse_comparison

__all__ = ["SpecIssue", "SpecError", "NodeParser", "line_of", "describe", "read_bytes"]


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


def read_bytes(path: Path) -> bytes:
    """The file at ``path``, or a ``SpecError`` saying why it cannot be read."""
    name = str(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SpecError([SpecIssue(name, 0, "(file)", "no such file")]) from None
    except OSError as exc:
        raise SpecError([SpecIssue(name, 0, "(file)", f"cannot read: {exc.strerror}")]) from None


def line_of(node: Node) -> int:
    """The 1-based line a node starts on."""
    return node.start_mark.line + 1


def describe(node: Node, value: Any = None) -> str:
    """What a node holds, for an error message: ``a mapping``, ``a list``, ``nothing``, ``str 'x'``."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if value is None:
        return "nothing" if node.value in ("", "~", "null") else repr(node.value)
    return f"{type(value).__name__} {value!r}"


class NodeParser:
    """Reads a YAML node tree (not plain dicts) so every value keeps its line number; collects
    every problem as a located ``SpecIssue`` instead of stopping at the first. Shared by the
    ``loadgate/v1`` parser (``slo.loadgate_v1``) and the OpenSLO one (``slo.openslo``)."""

    def __init__(self, data: bytes, filename: str):
        self.data = data
        self.file = filename
        self.issues: list[SpecIssue] = []
        self._constructor = SafeConstructor()

    # -- reporting ---------------------------------------------------------------------------
    def error(self, node: Node | int, path: str, message: str) -> None:
        line = node if isinstance(node, int) else line_of(node)
        self.issues.append(SpecIssue(self.file, line, path, message))

    # -- node helpers --------------------------------------------------------------------------
    def scalar(self, node: Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: Node, path: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]] | None:
        """Return ``{key: (key_node, value_node)}``, reporting non-mappings, duplicates and unknown keys."""
        if not isinstance(node, MappingNode):
            self.error(node, path or "(document)", f"expected a mapping, got {describe(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.error(key_node, path, "keys must be plain strings")
                continue
            sub = f"{path}.{key}" if path else key
            if key in out:
                self.error(key_node, sub, f"duplicate key (first on line {line_of(out[key][0])})")
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
            self.error(node, path, f"expected a non-empty string, got {describe(node, value)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.error(node, path, f"{value!r} is not a valid {what}")
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if not isinstance(value, bool):
            self.error(node, path, f"expected true or false, got {describe(node, value)}")
            return None
        return value

    def unit_value(self, node: Node, path: str, parse: Callable[[Any], float]) -> tuple[str | None, float] | None:
        value = self.scalar(node) if isinstance(node, ScalarNode) else None
        if value is None or isinstance(value, (bool, list, dict)):
            self.error(node, path, f"expected a value with units, got {describe(node, value)}")
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
