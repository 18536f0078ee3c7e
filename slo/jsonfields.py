"""Reading and writing the JSON form of loadgate's stored records: located field checks and JSON-safe values. Pure.

``need`` and ``opt`` read one field of a parsed document, raising ``RecordError`` that names the
field and what was expected; ``clean`` makes a value JSON-safe the one way every stored document
is (no NaN, no tuples, counts as integers).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

__all__ = ["RecordError", "COUNT_KEYS", "READABLE_VERSIONS", "NUMBER", "clean", "need", "opt", "version_of",
           "json_type"]

#: The versions of ``verdict.json`` and ``run.json`` this loadgate reads.
READABLE_VERSIONS = (1, 2)
#: Keys that hold a count of events, wherever they appear: always stored as integers.
COUNT_KEYS = frozenset({"events", "bad", "count", "requests", "failures", "failure", "success", "ok", "rate_limited",
                        "rate_limited_429", "http_429", "hits", "misses", "events_needed", "responses",
                        "client_responses", "good_slices", "slices", "server_counter_at_end",
                        "loadgate_exporter_responses", "users"})
#: A JSON number, as Python reads it.
NUMBER = (int, float)


class RecordError(ValueError):
    """A stored document this version cannot read: an unknown schema version, a missing or mistyped field."""


def clean(value: Any, key: str = "") -> Any:
    """Make a value JSON-safe: dataclasses to dicts, tuples to lists, NaN and ±Inf to None, and a
    count to the integer it counts: a float under one of ``COUNT_KEYS`` or under an HTTP status
    code (``"503": 12``; ``"0"`` for refused connections), and the cumulative count of each
    ``[bound, count]`` pair of ``buckets`` (Prometheus's ``increase()`` extrapolates, so its counts
    arrive as floats such as 968.0000001)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: clean(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if key == "buckets":
            return [[clean(pair[0]), clean(pair[1], "count")] if isinstance(pair, (list, tuple)) and len(pair) == 2
                    else clean(pair) for pair in value]
        return [clean(v, key) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if key in COUNT_KEYS or key.isdigit():
            return int(round(value))
    return value


def need(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``doc[key]``, which must be of ``kind``; ``where`` names ``doc`` in the error."""
    if key not in doc:
        raise RecordError(f"{where}: the field {key!r} is missing")
    value = doc[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # A JSON true is no number: bool is a subclass of int in Python, not in JSON.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise RecordError(f"{where}.{key}: a field of the wrong type: expected {_names(kind)}, "
                          f"got {json_type(value)}")
    return value


def opt(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    """``doc[key]`` when present and not null (then of ``kind``), else ``default``."""
    if doc.get(key) is None:
        return default
    return need(doc, key, kind, where)


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
                        float: "a number"}.get(k, k.__name__) for k in kinds)


def version_of(doc: Any, what: str) -> int:
    """The ``schema_version`` of a stored ``what``, which must be one this loadgate reads."""
    if not isinstance(doc, dict):
        raise RecordError(f"not a loadgate {what} (a JSON {json_type(doc)}, not an object)")
    version = doc.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise RecordError(f"schema_version {version!r}; this loadgate reads "
                          f"{' and '.join(str(v) for v in READABLE_VERSIONS)}")
    return int(version)


def json_type(value: Any) -> str:
    """JSON's name for a parsed value's type: ``list``, ``null``, ``number``..."""
    if value is None:
        return "null"
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")
