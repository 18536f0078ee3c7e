"""Compare a gate's objectives with earlier runs': deltas, regression verdicts and flags. Pure.

With ``--baseline DIR...`` each objective of the newest run is tested against the baseline runs'
pooled counts by ``slo.regression`` (a test that fits what is measured, corrected for run-to-run
variation): ``regressed`` only when the change is significant at ``alpha`` *and* at least the
minimum effect, which is the tolerance of its kind. Defaults: a P99 (any latency) worse by 10 %,
an error rate up by 50 %, throughput or cache hit rate down by 10 %; availability at all (the
target's allowed bad share). ``compare_endpoints`` keeps the plain tolerance comparison of one
value against another: an endpoint's row has no counts to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from slo.regression import DEFAULT_ALPHA, DEFAULT_TOLERANCES, Comparison, compare_docs

__all__ = ["DEFAULT_TOLERANCES", "Baseline", "Delta", "parse_tolerances", "attach_to", "attach",
           "compare_endpoints", "regression_entry"]


@dataclass(frozen=True)
class Baseline:
    """Earlier runs or gates to compare with (``--baseline DIR...``): their paths and ``verdict.json``
    documents, oldest first. The newest of them is the one whose series are drawn and whose
    endpoints are compared."""

    paths: tuple[str, ...]
    docs: tuple[dict[str, Any], ...]
    tolerances: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    fail_on_regression: bool = False
    alpha: float = DEFAULT_ALPHA

    @property
    def path(self) -> str:
        return self.paths[-1]

    @property
    def doc(self) -> dict[str, Any]:
        return self.docs[-1]


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


def regression_entry(comparison: Comparison, current: float | None) -> dict[str, Any]:
    """What an objective's ``baseline`` entry keeps of its comparison."""
    relative = comparison.effect
    base = comparison.baseline
    return {"measured": base, "change": (current - base) if current is not None and base is not None else None,
            "relative": relative, "tolerance": comparison.min_effect, "verdict": comparison.verdict,
            "regressed": comparison.verdict == "regressed", "improved": comparison.verdict == "improved",
            "p_value": comparison.p_value, "significant": comparison.significant,
            "detectable": comparison.detectable, "more_time": comparison.more_time, "method": comparison.method,
            "runs": comparison.baseline_runs, "dispersion": comparison.dispersion, "note": comparison.note}


def attach_to(entries: list[dict[str, Any]], window_seconds: float | None, breakdown: dict[str, Any] | None,
              baseline: Baseline) -> tuple[dict[str, str], dict[str, Any]]:
    """Add its ``baseline`` comparison to each objective entry the baseline runs also graded.

    Returns the regressions (objective id -> reason) and the record's ``baseline`` section: what
    was compared, which objectives regressed or could not be told apart from noise, and each
    endpoint's p99 against the newest baseline's.
    """
    current = {"objectives": entries, "window": {"seconds": window_seconds}}
    comparisons = compare_docs(current, baseline.docs, alpha=baseline.alpha, tolerances=baseline.tolerances)
    regressions: dict[str, str] = {}
    for entry in entries:
        comparison = comparisons.get(entry["id"])
        if comparison is None:
            entry.pop("baseline", None)
            continue
        entry["baseline"] = regression_entry(comparison, entry.get("measured"))
        if comparison.verdict == "regressed":
            regressions[entry["id"]] = f"{entry['title']} regressed: {comparison.note}"
    newest = baseline.doc
    verdicts = {c.objective: c.verdict for c in comparisons.values()}
    section = {"path": baseline.path, "paths": list(baseline.paths), "runs": len(baseline.docs),
               "alpha": baseline.alpha, "verdict": newest.get("verdict"),
               "generated_at": newest.get("generated_at"), "window": newest.get("window"),
               "regressions": sorted(regressions),
               "inconclusive": sorted(oid for oid, v in verdicts.items() if v == "inconclusive"),
               "endpoints": compare_endpoints((breakdown or {}).get("endpoints", []),
                                              (newest.get("breakdown") or {}).get("endpoints", []),
                                              baseline.tolerances["latency"])}
    return regressions, section


def attach(doc: dict[str, Any], baseline: Baseline) -> dict[str, str]:
    """Compare a stored ``verdict.json`` document with baseline runs', in place; returns the regressions."""
    regressions, doc["baseline"] = attach_to(doc["objectives"], (doc.get("window") or {}).get("seconds"),
                                             doc.get("breakdown"), baseline)
    return regressions


def compare_endpoints(current: list[dict[str, Any]], baseline: list[dict[str, Any]],
                      tolerance: float) -> dict[str, dict[str, Any]]:
    """Per endpoint: the p99 against the baseline's, flagged beyond the latency tolerance."""
    out = {}
    for row, old in _matched(current, baseline, "endpoint"):
        delta = _delta("<", old.get("p99"), row.get("p99"), tolerance)
        out[row["endpoint"]] = {"p99": delta.baseline, "relative": delta.relative, "regressed": delta.regressed}
    return out
