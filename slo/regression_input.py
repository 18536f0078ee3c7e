"""What the regression test reads of one run: an objective's counts, from its verdict.json entry. Pure.

``slo.regression`` tests the newest run's ``Evidence`` against the baseline runs'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Evidence", "evidence_of"]


@dataclass(frozen=True)
class Evidence:
    """One run's evidence for one objective. Counts are whole numbers (Prometheus's fractional
    increases rounded); ``seconds`` is the graded window's length; ``target`` the target's value
    (a ratio for shares), used for the minimum effects of error rate and availability."""

    kind: str               # latency | error_rate | throughput | cache_hit_rate | availability | promql_*
    op: str                 # the target's op: "<", "<=", ">", ">="
    measured: float | None
    seconds: float | None
    bad: int | None         # error_rate: 5xx; cache_hit_rate: misses; availability: bad slices
    events: int | None      # error_rate: requests; cache: hits+misses; availability: slices; throughput: requests
    buckets: tuple[tuple[float | None, int], ...] | None   # latency: cumulative (le, count); le None = +Inf
    quantile: float | None  # latency: 0.99 etc.
    target: float | None = None


def _int(value: Any) -> int | None:
    return int(round(float(value))) if isinstance(value, (int, float)) and math.isfinite(value) else None


def evidence_of(entry: dict[str, Any], window_seconds: float | None) -> Evidence:
    """From one objective entry of a verdict.json (schema v2, as ``slo.record.load_verdict(doc).to_json()``
    gives). Missing counts stay None (the comparison is then inconclusive)."""
    kind, detail, evidence = str(entry.get("kind")), entry.get("detail") or {}, entry.get("evidence") or {}
    bad, events = _int(evidence.get("bad")), _int(entry.get("events", evidence.get("events")))
    seconds, buckets, target = window_seconds, None, entry.get("target") or {}
    if kind in ("latency", "throughput"):
        bad, raw = None, detail.get("buckets")
        if kind == "latency" and isinstance(raw, list) and raw:
            buckets = tuple((None if le is None else float(le), int(round(float(c)))) for le, c in raw)
        if kind == "throughput" and isinstance(detail.get("measured_seconds"), (int, float)):
            seconds = float(detail["measured_seconds"])
    elif kind == "error_rate":
        bad = next((_int(detail[k]) for k in ("errors_5xx", "failures") if _int(detail.get(k)) is not None), bad)
    elif kind == "cache_hit_rate" and None not in (_int(detail.get("hits")), _int(detail.get("misses"))):
        bad, events = _int(detail["misses"]), _int(detail["hits"] + detail["misses"])
    elif kind == "availability" and None not in (_int(detail.get("slices")), _int(detail.get("good_slices"))):
        events = _int(detail["slices"])
        bad = (events or 0) - int(round(detail["good_slices"]))
    value = target.get("value")
    return Evidence(kind, str(target.get("op", "<")), entry.get("measured"), seconds, bad, events, buckets,
                    entry.get("quantile"), float(value) if isinstance(value, (int, float)) else None)
