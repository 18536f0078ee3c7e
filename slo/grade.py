"""Grade one objective: a measurement against its target, as a ``Verdict``. Pure, no I/O.

Statuses:

* ``pass``: the target is met; ``warn``: met, but beyond the warn threshold;
* ``fail``: the target is missed;
* ``no_data``: no series, NaN, or zero events, so nothing can be said;
* ``inconclusive``: data exists but cannot decide (a threshold between bucket bounds, a query
  error, or with ``require_evidence`` a pass that the sample size cannot demonstrate).

Latency ``pQ < T`` is graded exactly as *the fraction of requests <= T is at least Q*, from the
``le="T"`` bucket of the merged histogram. Bucket bounds are inclusive, so ``< T`` is graded as
``<= T``. When T is no bucket bound, the bucket holding the quantile decides if it can: its upper
bound <= T passes, its lower bound >= T fails, anything else is inconclusive.

Comparisons allow a relative tolerance of ``REL_TOL`` for float noise.

A verdict that is not a pass or a fail carries a ``problem`` code saying why: the SLI's own
(``analysis.sli.NO_SERIES``...), or one of this module's (``MISSING_BUCKET``,
``INSUFFICIENT_EVIDENCE``, ``QUERY_FAILED``, ``SOURCE_UNREACHABLE``). Reports decide from codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from analysis.sli import BURN_WINDOW_S, Evidence, SLIData, close, evidence
from slo import model
from slo.model import Objective, Target, unit_of
from slo.units import OP_SYMBOLS, format_duration, format_ratio, format_value

__all__ = ["PASS", "WARN", "FAIL", "NO_DATA", "INCONCLUSIVE", "STATUSES", "MISSING_BUCKET", "INSUFFICIENT_EVIDENCE",
           "QUERY_FAILED", "SOURCE_UNREACHABLE", "INVALID_RUN", "Budget", "Verdict", "grade", "inconclusive", "meets"]

PASS, WARN, FAIL, NO_DATA, INCONCLUSIVE = "pass", "warn", "fail", "no_data", "inconclusive"
STATUSES = (PASS, WARN, FAIL, NO_DATA, INCONCLUSIVE)

MISSING_BUCKET = "missing_bucket"              # the threshold lies inside the bucket holding the quantile
INSUFFICIENT_EVIDENCE = "insufficient_evidence"  # a pass the sample size cannot demonstrate
QUERY_FAILED = "query_failed"                  # the source refused or failed this objective's query
SOURCE_UNREACHABLE = "source_unreachable"      # the source could not be read at all
INVALID_RUN = "invalid_run"                    # the load generator did not deliver the load: not measurable


@dataclass(frozen=True)
class Budget:
    """Error budget use for a ratio objective.

    ``consumed`` is the window's bad ratio over the allowed bad ratio (1.0 = all of it);
    ``worst_burn_rate`` is the highest bad ratio over any ``burn_window_s`` window, divided
    by the allowed bad ratio.
    """

    allowed_bad_ratio: float
    bad_ratio: float | None
    consumed: float | None
    worst_burn_rate: float | None
    burn_window_s: int
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    """An objective's grade: status, what was measured, by how much it passed, and why."""

    objective: Objective
    status: str
    measured: float | None
    reason: str
    events: float | None = None
    margin: float | None = None
    evidence: Evidence | None = None
    budget: Budget | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def unit(self) -> str:
        return unit_of(self.objective.kind, self.objective.unit)


def meets(value: float, target: Target) -> bool:
    """``value <op> target.value``, with values equal up to float noise treated as equal."""
    if close(value, target.value):
        return target.op in ("<=", ">=")
    return {"<": value < target.value, "<=": value <= target.value,
            ">": value > target.value, ">=": value >= target.value}[target.op]


def inconclusive(objective: Objective, reason: str, problem: str) -> Verdict:
    """A verdict for an objective that could not be measured at all (query error, unreachable)."""
    return Verdict(objective, INCONCLUSIVE, None, reason, problem=problem)


def _margin(value: float, target: Target) -> float:
    """Relative headroom: positive when passing (0.2 = 20 % better than the threshold)."""
    diff = target.value - value if target.is_upper_bound else value - target.value
    return diff / abs(target.value) if target.value else diff


def _threshold_text(objective: Objective) -> str:
    unit = unit_of(objective.kind, objective.unit)
    return f"{OP_SYMBOLS[objective.target.op]} {format_value(objective.target.value, unit)}"


def grade(objective: Objective, data: SLIData, *, require_evidence: bool = False) -> Verdict:
    """Grade ``objective`` from its SLI ``data``."""
    detail = dict(data.detail)
    if data.problem:
        return Verdict(objective, data.problem.status, data.value, data.problem.message, events=data.events,
                       detail=detail, problem=data.problem.code)
    assert data.value is not None
    unit = unit_of(objective.kind, objective.unit)
    problem = None
    if objective.kind == model.LATENCY:
        status, reason = _grade_latency(objective, data, detail)
        problem = MISSING_BUCKET if status == INCONCLUSIVE else None
    else:
        ok = meets(data.value, objective.target)
        word = "meets" if ok else "misses"
        reason = f"{objective.title} {format_value(data.value, unit)} {word} {_threshold_text(objective)}"
        status = PASS if ok else FAIL
        if ok and objective.warn is not None:
            beyond = not meets(data.value, Target(objective.target.op, objective.warn))
            if beyond:
                status = WARN
                reason += f", but is beyond the warn threshold {format_value(objective.warn, unit)}"

    ev = None
    allowed = objective.allowed_bad_ratio
    if allowed is not None and data.events and data.bad is not None:
        ev = evidence(data.bad, data.events, allowed)
        if require_evidence and status in (PASS, WARN) and not ev.demonstrated:
            status, problem = INCONCLUSIVE, INSUFFICIENT_EVIDENCE
            reason = (f"{reason}; but {_count(data.events)} events cannot demonstrate it "
                      f"(needs at least {_count(ev.events_needed or 0)} with no bad events)")

    if objective.note:
        # How the SLI was read when it is not exact (OpenSLO subqueries, gauges): said in the verdict.
        detail["approximation"] = objective.note
        reason = f"{reason} (approximate: {objective.note})"
    budget = _budget(objective, data) if allowed is not None else None
    margin = _margin(data.value, objective.target)
    if objective.kind == model.LATENCY and "fraction_at_or_below" in detail:
        # For latency the graded quantity is the fraction under T; its headroom is the honest margin.
        assert objective.quantile is not None
        margin = detail["fraction_at_or_below"] - objective.quantile
    return Verdict(objective, status, data.value, reason, events=data.events, margin=margin, evidence=ev,
                   budget=budget, detail=detail, problem=problem)


def _grade_latency(objective: Objective, data: SLIData, detail: dict[str, Any]) -> tuple[str, str]:
    hist = data.histogram
    quantile = objective.quantile
    assert hist is not None and quantile is not None
    threshold = objective.target.value
    p = f"p{quantile * 100:g}"
    lower, upper = hist.quantile_bucket(quantile)
    detail["quantile_estimate"] = data.value
    detail["quantile_bucket"] = [lower, upper]
    method = detail.get("estimate_method", "histogram_quantile")
    estimate = f"{p} ≈ {format_duration(data.value)} ({method}; in bucket " \
               f"({format_duration(lower)}, {format_duration(upper)}])"

    fraction = hist.fraction_at_or_below(threshold)
    if fraction is not None:
        detail["fraction_at_or_below"] = fraction
        ok = fraction >= quantile or close(fraction, quantile)
        reason = (f"{format_ratio(fraction)} of {_count(hist.count)} requests took ≤ "
                  f"{format_duration(threshold)} ({p} needs {format_ratio(quantile)}); {estimate}")
    elif upper < threshold or close(upper, threshold):
        ok = True
        reason = f"{estimate} lies wholly at or below {format_duration(threshold)}"
    elif lower > threshold or close(lower, threshold):
        ok = False
        reason = f"{estimate} lies wholly above {format_duration(threshold)}"
    else:
        return INCONCLUSIVE, (f"{p} lies in bucket ({format_duration(lower)}, {format_duration(upper)}], which "
                              f"straddles {format_duration(threshold)}; add a bucket at le=\"{threshold:g}\" "
                              f"to grade it exactly")
    if not ok:
        return FAIL, reason
    if objective.warn is not None:
        warn_fraction = hist.fraction_at_or_below(objective.warn)
        if warn_fraction is not None:
            detail["fraction_at_or_below_warn"] = warn_fraction
            if warn_fraction < quantile and not close(warn_fraction, quantile):
                return WARN, (f"{reason}; only {format_ratio(warn_fraction)} took ≤ "
                              f"{format_duration(objective.warn)}, beyond the warn threshold")
        elif lower > objective.warn or close(lower, objective.warn):
            return WARN, f"{reason}; {p} is above the warn threshold {format_duration(objective.warn)}"
        elif upper > objective.warn and not close(upper, objective.warn):
            detail["warn_note"] = (f"the warn threshold {format_duration(objective.warn)} is no bucket bound, "
                                   f"so whether {p} exceeds it cannot be told")
    return PASS, reason


def _budget(objective: Objective, data: SLIData) -> Budget | None:
    allowed = objective.allowed_bad_ratio
    if allowed is None:
        return None
    bad_ratio = data.bad / data.events if (data.events and data.bad is not None) else None
    consumed = bad_ratio / allowed if (bad_ratio is not None and allowed > 0) else None
    burn = data.worst_bad_ratio / allowed if (data.worst_bad_ratio is not None and allowed > 0) else None
    note = data.detail.get("burn_note", "")
    if objective.kind == model.AVAILABILITY and data.detail.get("slice_seconds"):
        note = note or f"burn over {BURN_WINDOW_S // 60} min of {data.detail['slice_seconds']}s slices"
    return Budget(allowed_bad_ratio=allowed, bad_ratio=bad_ratio, consumed=consumed, worst_burn_rate=burn,
                  burn_window_s=BURN_WINDOW_S, note=note)


def _count(n: float) -> str:
    if math.isnan(n):
        return "n/a"
    return f"{n:,.0f}"
