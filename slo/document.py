"""The gate's result as a JSON-ready document (``verdict.json``). Pure: builds dicts, writes nothing.

The document is the one record of a gate: reports, summaries and JUnit files are all rendered
from it (plus the ``series/`` files), so ``loadgate report DIR`` can re-render them without
Prometheus. Every stored document carries ``schema_version``; readers refuse versions they do
not know.

Floats that are NaN or infinite become ``null`` (JSON has neither); times are RFC 3339 UTC.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone
from typing import Any

from slo.gate import GateResult
from slo.grade import Verdict
from slo.model import Spec

__all__ = ["SCHEMA_VERSION", "rfc3339", "clean", "objective_entry", "build_document"]

SCHEMA_VERSION = 1


def rfc3339(unix_s: float) -> str:
    """``2026-01-01T00:15:00Z`` for a Unix time (whole seconds shown when whole)."""
    dt = datetime.fromtimestamp(unix_s, tz=timezone.utc)
    text = dt.isoformat(timespec="milliseconds" if unix_s % 1 else "seconds")
    return text.replace("+00:00", "Z")


def clean(value: Any) -> Any:
    """Make a value JSON-safe: dataclasses to dicts, tuples to lists, NaN and ±Inf to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def objective_entry(verdict: Verdict, *, queries: list[str] | None = None,
                    series_file: str | None = None) -> dict[str, Any]:
    """One objective of ``verdict.json``."""
    o = verdict.objective
    return clean({
        "id": o.id,
        "title": o.title,
        "kind": o.kind,
        "required": o.required,
        "status": verdict.status,
        "measured": verdict.measured,
        "unit": verdict.unit,
        "target": {"op": o.target.op, "value": o.target.value},
        "warn": o.warn,
        "quantile": o.quantile,
        "events": verdict.events,
        "margin": verdict.margin,
        "evidence": verdict.evidence,
        "budget": verdict.budget,
        "reason": verdict.reason,
        "detail": verdict.detail,
        "queries": list(dict.fromkeys(queries or [])),
        "series_file": series_file,
    })


def build_document(result: GateResult, spec: Spec, *, start: float, end: float, source: str,
                   selector: str, generated_at: float, tool_version: str,
                   source_info: dict[str, Any] | None = None, options: dict[str, Any] | None = None,
                   objectives: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole ``verdict.json`` document.

    ``objectives`` are entries from ``objective_entry`` (in spec order); when omitted they are
    built from the verdicts alone.
    """
    entries = objectives if objectives is not None else [objective_entry(v) for v in result.verdicts]
    return clean({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "loadgate", "version": tool_version},
        "generated_at": rfc3339(generated_at),
        "verdict": result.status,
        "exit_code": result.exit_code,
        "reason": result.reason,
        "spec": {"path": spec.path, "name": spec.name, "version": spec.version, "text": spec.source_text},
        "window": {"start": rfc3339(start), "end": rfc3339(end), "seconds": end - start,
                   "start_unix": start, "end_unix": end},
        "source": source,
        "source_info": source_info or {},
        "selector": selector,
        "options": options or {},
        "objectives": entries,
    })
