"""Compare a gate's objectives with a baseline run's: deltas and regression flags. Pure.

A regression is a change in the *worse* direction by more than a tolerance, relative to the
baseline value: worse is higher for upper-bound objectives (latency, error rate) and lower for
lower-bound ones (throughput, cache hit rate, availability). Defaults: a P99 (any latency) worse
by more than 10 %, an error rate up by more than 50 %, throughput or cache hit rate down by more
than 10 %, availability down at all. From a baseline of exactly 0, any increase of an
upper-bound objective is a regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from slo.units import format_value

__all__ = ["DEFAULT_TOLERANCES", "Baseline", "Delta", "compare", "parse_tolerances", "attach_to", "attach",
           "compare_endpoints"]

DEFAULT_TOLERANCES = {"latency": 0.10, "error_rate": 0.50, "throughput": 0.10, "cache_hit_rate": 0.10,
                      "availability": 0.0, "promql_ratio": 0.10, "promql_value": 0.10}


@dataclass(frozen=True)
class Baseline:
    """An earlier run or gate to compare with (``--baseline DIR``): its path and ``verdict.json``."""

    path: str
    doc: dict[str, Any]
    tolerances: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    fail_on_regression: bool = False


@dataclass(frozen=True)
class Delta:
    """One objective against its baseline. ``relative`` is (current - baseline) / baseline."""

    baseline: float | None
    current: float | None
    change: float | None
    relative: float | None
    tolerance: float
    regressed: bool
    improved: bool


def parse_tolerances(text: str) -> dict[str, float]:
    """Parse ``latency=10%,error_rate=50%`` over the defaults; raises ``ValueError`` naming the part."""
    out = dict(DEFAULT_TOLERANCES)
    for part in (p.strip() for p in text.split(",") if p.strip()):
        kind, _, value = part.partition("=")
        if kind not in DEFAULT_TOLERANCES:
            raise ValueError(f"unknown objective kind {kind!r}; one of {', '.join(DEFAULT_TOLERANCES)}")
        try:
            number = float(value.rstrip("%")) / (100.0 if value.endswith("%") else 1.0)
        except ValueError:
            raise ValueError(f"{kind}: expected a percentage such as 10%, got {value!r}") from None
        if number < 0:
            raise ValueError(f"{kind}: a tolerance cannot be negative")
        out[kind] = number
    return out


def _delta(op: str, baseline: float | None, current: float | None, tolerance: float) -> Delta:
    if baseline is None or current is None:
        return Delta(baseline, current, None, None, tolerance, False, False)
    change = current - baseline
    relative = change / abs(baseline) if baseline else None
    worse = change if op in ("<", "<=") else -change  # > 0 means worse
    if baseline == 0:
        regressed = worse > 0 and op in ("<", "<=")
    else:
        regressed = worse / abs(baseline) > tolerance + 1e-12
    return Delta(baseline, current, change, relative, tolerance, regressed, worse < 0)


def _matched(current: list[dict[str, Any]], baseline: list[dict[str, Any]],
             key: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(current, baseline) rows that share ``row[key]``, in the current order."""
    before = {row[key]: row for row in baseline}
    for row in current:
        old = before.get(row[key])
        if old is not None:
            yield row, old


def compare(current: list[dict[str, Any]], baseline: list[dict[str, Any]],
            tolerances: dict[str, float] | None = None) -> dict[str, Delta]:
    """Deltas for every current objective that the baseline also graded (matched by id)."""
    tolerances = tolerances or DEFAULT_TOLERANCES
    return {entry["id"]: _delta(entry["target"]["op"], old.get("measured"), entry.get("measured"),
                                tolerances.get(entry["kind"], 0.10))
            for entry, old in _matched(current, baseline, "id")}


def describe(title: str, delta: Delta, unit: str) -> str:
    """``P99 latency 412 ms → 530 ms (+29 %, tolerance 10 %)``."""
    change = f"{delta.relative * 100:+.3g} %" if delta.relative is not None else "from 0"
    return (f"{title} {format_value(delta.baseline, unit)} → {format_value(delta.current, unit)} "
            f"({change}, tolerance {delta.tolerance * 100:g} %)")


def attach_to(entries: list[dict[str, Any]], breakdown: dict[str, Any] | None, baseline_doc: dict[str, Any],
              baseline_path: str, tolerances: dict[str, float] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Add its ``baseline`` delta to each compared objective entry.

    Returns the regressions (objective id -> reason) and the record's ``baseline`` section: what
    was compared, which objectives regressed, and each endpoint's p99 against the baseline's.
    """
    deltas = compare(entries, baseline_doc.get("objectives", []), tolerances)
    regressions: dict[str, str] = {}
    for entry in entries:
        delta = deltas.get(entry["id"])
        if delta is None:
            entry.pop("baseline", None)
            continue
        entry["baseline"] = {"measured": delta.baseline, "change": delta.change, "relative": delta.relative,
                             "tolerance": delta.tolerance, "regressed": delta.regressed, "improved": delta.improved}
        if delta.regressed:
            regressions[entry["id"]] = "regressed: " + describe(entry["title"], delta, entry["unit"])
    section = {"path": baseline_path, "verdict": baseline_doc.get("verdict"),
               "generated_at": baseline_doc.get("generated_at"), "window": baseline_doc.get("window"),
               "regressions": sorted(regressions),
               "endpoints": compare_endpoints((breakdown or {}).get("endpoints", []),
                                              (baseline_doc.get("breakdown") or {}).get("endpoints", []),
                                              (tolerances or DEFAULT_TOLERANCES)["latency"])}
    return regressions, section


def attach(doc: dict[str, Any], baseline_doc: dict[str, Any], baseline_path: str,
           tolerances: dict[str, float] | None = None) -> dict[str, str]:
    """Compare a stored ``verdict.json`` document with a baseline's, in place; returns the regressions."""
    regressions, doc["baseline"] = attach_to(doc["objectives"], doc.get("breakdown"), baseline_doc, baseline_path,
                                             tolerances)
    return regressions


def compare_endpoints(current: list[dict[str, Any]], baseline: list[dict[str, Any]],
                      tolerance: float) -> dict[str, dict[str, Any]]:
    """Per endpoint: the p99 against the baseline's, flagged beyond the latency tolerance."""
    out = {}
    for row, old in _matched(current, baseline, "endpoint"):
        delta = _delta("<", old.get("p99"), row.get("p99"), tolerance)
        out[row["endpoint"]] = {"p99": delta.baseline, "relative": delta.relative, "regressed": delta.regressed}
    return out
