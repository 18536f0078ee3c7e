"""Custom burn-rate windows tables: ``alerting.windows:`` and ``loadgate rules --windows FILE``.

A table is a list of ``{severity, factor | budget, long, short, for}``: ``severity`` is ``page`` or
``ticket``; ``factor`` the burn rate, or ``budget`` the share of the period's error budget (a
percentage in (0, 100]) that burning at that rate for ``long`` spends, so factor = budget x period
/ long (the SRE workbook's and sloth's formula); ``short`` must be shorter than ``long``; ``for``
defaults to 0s. Windows are taken as written, never scaled by the period.

``--windows FILE`` reads that list (as a YAML list or under ``windows:``) or sloth's own
``AlertWindows`` files as they are (``apiVersion: sloth.slok.dev/v1``, ``kind: AlertWindows``,
``spec.sloPeriod`` and ``page``/``ticket`` ``quick``/``slow`` ``{errorBudgetPercent, shortWindow,
longWindow}``; sloth's older ``version: alertWindows/v1`` spelling too). Every problem is located
(``file:line: field: problem``), so a bad table exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slo.located import NodeParser, SpecError, SpecIssue, describe, read_bytes
from slo.model import WindowSpec
from slo.units import UnitError, parse_any_duration

__all__ = ["WINDOW_FIELDS", "WindowsTable", "read_windows", "load_windows"]

WINDOW_FIELDS = ("severity", "factor", "budget", "long", "short", "for")
_SLOTH_WINDOW = ("errorBudgetPercent", "shortWindow", "longWindow")


@dataclass(frozen=True)
class WindowsTable:
    """A windows file: its rows, the period it was written for (sloth's ``sloPeriod``; None when it
    names none) and how the rule file's header names it."""

    windows: tuple[WindowSpec, ...]
    period_s: float | None
    name: str


def _seconds(p: NodeParser, node: Node, path: str) -> float | None:
    value = p.scalar(node) if isinstance(node, ScalarNode) else None
    try:
        if isinstance(value, str):
            return parse_any_duration(value)
    except UnitError:
        pass
    p.error(node, path, f"expected a duration such as 5m, 1h or 3d, got {describe(node, value)}")
    return None


def _positive(p: NodeParser, node: Node, path: str, what: str, top: float | None = None) -> float | None:
    value = p.scalar(node) if isinstance(node, ScalarNode) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        p.error(node, path, f"{what} must be a number, got {describe(node, value)}")
        return None
    if value <= 0 or (top is not None and value > top):
        p.error(node, path, f"{what} must be above 0" + (f" and at most {top:g}" if top is not None else "")
                + f", got {value:g}")
        return None
    return float(value)


def _row(p: NodeParser, severity: str, sev_node: Node, fields: dict[str, tuple[Node, Node]], path: str,
         long_key: str, short_key: str, budget_key: str, factor_key: str | None) -> WindowSpec | None:
    """One row from its fields; None (reported) when it is not a usable condition."""
    long_s = _seconds(p, fields[long_key][1], f"{path}.{long_key}") if long_key in fields else None
    short_s = _seconds(p, fields[short_key][1], f"{path}.{short_key}") if short_key in fields else None
    for key in (long_key, short_key):
        if key not in fields:
            p.error(sev_node, f"{path}.{key}", "required")
    if long_s is not None and short_s is not None and short_s >= long_s:
        p.error(fields[short_key][1], f"{path}.{short_key}",
                f"the short window must be shorter than the long one ({fields[long_key][1].value})")
        return None
    given = [k for k in (factor_key, budget_key) if k and k in fields]
    if len(given) != 1:
        p.error(sev_node, path, "give exactly one of factor (a burn rate) or budget (a percentage of the period's "
                                "budget)" if factor_key else f"{budget_key}: required")
        return None
    factor = budget = None
    if given[0] == factor_key:
        factor = _positive(p, fields[factor_key][1], f"{path}.{factor_key}", "factor")
    else:
        percent = _positive(p, fields[budget_key][1], f"{path}.{budget_key}", "the budget share (%)", 100)
        budget = None if percent is None else percent / 100
    for_s = _seconds(p, fields["for"][1], f"{path}.for") if "for" in fields else 0.0
    if long_s is None or short_s is None or (factor is None and budget is None) or for_s is None:
        return None
    return WindowSpec(severity, long_s, short_s, factor=factor, budget=budget, for_s=for_s)


def read_windows(p: NodeParser, node: Node, path: str) -> tuple[WindowSpec, ...]:
    """A list of ``{severity, factor | budget, long, short, for}`` rows; each problem reported."""
    if not isinstance(node, SequenceNode) or not node.value:
        p.error(node, path, f"expected a non-empty list of windows, got {describe(node)}")
        return ()
    out = []
    for i, item in enumerate(node.value):
        sub = f"{path}[{i}]"
        fields = p.mapping(item, sub, WINDOW_FIELDS)
        if fields is None:
            continue
        severity = p.scalar(fields["severity"][1]) if "severity" in fields else None
        if severity not in ("page", "ticket"):
            p.error(fields["severity"][1] if "severity" in fields else item, f"{sub}.severity",
                    f"expected page or ticket, got {severity!r}")
            continue
        row = _row(p, severity, item, fields, sub, "long", "short", "budget", "factor")
        if row is not None:
            out.append(row)
    return tuple(out)


def _sloth(p: NodeParser, spec: Node) -> tuple[tuple[WindowSpec, ...], float | None]:
    fields = p.mapping(spec, "spec", ("sloPeriod", "page", "ticket"))
    if fields is None:
        return (), None
    period = _seconds(p, fields["sloPeriod"][1], "spec.sloPeriod") if "sloPeriod" in fields else None
    out = []
    for severity in ("page", "ticket"):
        if severity not in fields:
            p.error(spec, f"spec.{severity}", "required")
            continue
        speeds = p.mapping(fields[severity][1], f"spec.{severity}", ("quick", "slow"))
        for speed in ("quick", "slow"):
            if speeds is None or speed not in speeds:
                continue
            path = f"spec.{severity}.{speed}"
            row_fields = p.mapping(speeds[speed][1], path, _SLOTH_WINDOW)
            if row_fields is not None:
                row = _row(p, severity, speeds[speed][1], row_fields, path, "longWindow", "shortWindow",
                           "errorBudgetPercent", None)
                if row is not None:
                    out.append(row)
    return tuple(out), period


def load_windows(path: Path) -> WindowsTable:
    """A windows file (loadgate's list, or sloth's ``AlertWindows``), or a ``SpecError`` with every problem."""
    p = NodeParser(read_bytes(path), str(path))
    try:
        root = yaml.compose(p.text())
    except yaml.YAMLError as exc:
        raise p.yaml_error(exc) from None
    if root is None:
        raise SpecError([SpecIssue(str(path), 0, "(document)", "empty file: expected a windows table")])
    windows: tuple[WindowSpec, ...] = ()
    period: float | None = None
    if isinstance(root, SequenceNode):
        windows = read_windows(p, root, "windows")
    elif isinstance(root, MappingNode):
        keys = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
        if "windows" in keys:
            windows = read_windows(p, keys["windows"], "windows")
        elif p.scalar(keys.get("apiVersion", ScalarNode("", ""))) == "sloth.slok.dev/v1":
            fields = p.mapping(root, "", ("apiVersion", "kind", "spec")) or {}
            kind = p.scalar(fields["kind"][1]) if "kind" in fields else None
            if kind != "AlertWindows" or "spec" not in fields:
                p.error(root, "kind" if kind != "AlertWindows" else "spec",
                        "expected kind: AlertWindows with a spec (a sloth.slok.dev/v1 windows file)")
            else:
                windows, period = _sloth(p, fields["spec"][1])
        elif p.scalar(keys.get("version", ScalarNode("", ""))) == "alertWindows/v1":
            legacy = MappingNode("tag:yaml.org,2002:map", [(k, v) for k, v in root.value
                                                          if isinstance(k, ScalarNode) and k.value != "version"])
            windows, period = _sloth(p, legacy)
        else:
            p.error(root, "(document)", "expected a list of windows, windows: [...], or a sloth AlertWindows file "
                                        "(apiVersion: sloth.slok.dev/v1, kind: AlertWindows)")
    else:
        p.error(root, "(document)", f"expected a list or a mapping, got {describe(root)}")
    if p.issues:
        raise SpecError(p.issues)
    return WindowsTable(windows, period, path.name)
