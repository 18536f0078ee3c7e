"""The ``metrics:`` block of a ``loadgate/v1`` spec: a preset, then single names, units and labels.

``metrics: {preset: istio}`` starts from ``analysis.presets``; any other field overrides one name
(``requests: my_requests_total``), the histogram's unit (``duration_unit: ms``) or the status label
(``code_label: status``). Every value is checked where it is written (a metric or label name, a
known preset, a known unit), with its line.
"""

from __future__ import annotations

import re

from yaml.nodes import Node

from analysis.presets import PRESETS, with_overrides
from analysis.queries import DURATION_UNITS, Metrics
from slo.located import NodeParser

__all__ = ["METRIC_FIELDS", "parse_metrics"]

#: The ``metrics:`` fields besides ``preset``, in the order they are written.
METRIC_FIELDS = ("requests", "duration", "duration_unit", "cache_hits", "cache_misses", "up", "code_label")
_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def parse_metrics(p: NodeParser, node: Node) -> tuple[Metrics, tuple[tuple[str, str], ...]]:
    """The metric names (a preset's, with single names overridden) and the overrides as written."""
    fields = p.mapping(node, "metrics", ("preset", *METRIC_FIELDS))
    if fields is None:
        return Metrics(), ()
    base = Metrics()
    if "preset" in fields:
        value_node = fields["preset"][1]
        name = p.string(value_node, "metrics.preset")
        if name is not None and name not in PRESETS:
            p.error(value_node, "metrics.preset", f"unknown preset {name!r}; one of {', '.join(PRESETS)}")
        elif name is not None:
            base = PRESETS[name]
    values: dict[str, str] = {}
    for key, (_, value_node) in fields.items():
        if key == "preset":
            continue
        if key == "duration_unit":
            value = p.string(value_node, "metrics.duration_unit")
            if value is not None and value not in DURATION_UNITS:
                p.error(value_node, "metrics.duration_unit",
                        f"expected one of {', '.join(DURATION_UNITS)}, got {value!r}")
                continue
        else:
            pattern, what = (_LABEL_RE, "label name") if key == "code_label" else (_METRIC_RE, "metric name")
            value = p.string(value_node, f"metrics.{key}", pattern, what)
        if value is not None:
            values[key] = value
    return with_overrides(base, values), tuple(values.items())
