"""When a run can no longer pass: the certainty behind ``--abort-on-fail``. Pure, no I/O.

``cannot_pass(objectives, plan, counts)`` says whether a required objective has already lost, for
certain, over the *whole* planned graded window, from what the load generator counted since
that window began (the steady state after the ramp-up). Nothing the rest of the window brings
can then cure it, so the load can stop. It is certainty, not a threshold crossed at one moment
(as k6 aborts): a short burst that the rest of the window absorbs never aborts.

The most forgiving future is assumed: every request still planned succeeds and is fast, and the
planned events are ``max(plan.events, counts.total + plan.events_after(at_s))`` (the schedule's
requests over the window, or more if more were already counted). Then, per kind:

* ``error_rate`` (``< X`` or ``<= X``): the failures so far over the planned events is the lowest
  error rate the window can end with; when that already misses the target, it cannot pass. For
  ``< 0.1 %`` this is "more failures than 0.1 % of the planned events".
* ``latency`` pN ``< T``: the requests slower than T (from the SLO bucket at T, or the next bound
  above it, a lower bound on them) over the planned events is the lowest slow share the window can
  end with; it cannot pass when that exceeds 1 - N/100. Graded as the grader does (bucket bounds
  are inclusive, so ``<`` reads as ``<=``; open-model requests from their intended sends).
* ``availability``: the bad slices among the complete slices so far, against the planned window's
  slices, all the rest good; it cannot pass when even that misses the target.

Throughput and cache hit rate never abort: the requests still to come can always raise a
shortfall of either (a throughput shortfall is mostly the generator's, an invalid run; cache hits
depend on the reads to come, which no schedule fixes). PromQL kinds need Prometheus and are not
counted live. Error rate and latency need a schedule (the open model): with plain Locust users
the planned events are unknown, so only availability can abort. Nothing aborts while the
generator cannot keep its schedule (``counts.invalid``): that run is inconclusive, not failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.client_series import BUCKETS, ClientSeries
from analysis.sli import Window, close, grade_slices
from analysis.validity import assess
from slo.grade import meets
from slo.model import AVAILABILITY, ERROR_RATE, LATENCY, OCCURRENCES, Objective, Target
from slo.units import OP_SYMBOLS, format_ratio

__all__ = ["ABORT_KINDS", "Plan", "LiveCounts", "Abort", "cannot_pass", "live_counts"]

#: The kinds whose failure the counts so far can make certain.
ABORT_KINDS = (ERROR_RATE, LATENCY, AVAILABILITY)
#: Validity checks a live series cannot judge: the generator is still running.
_NOT_LIVE = ("generator_exit",)


@dataclass(frozen=True)
class Plan:
    """The graded window as planned: the target rate (requests/s) of each of its whole seconds, in order.

    ``scheduled`` is False when the rate is not controlled (plain Locust users): the planned
    events are then unknown, and only slice counts (availability) can be certain.
    """

    rates_per_s: tuple[float, ...]
    scheduled: bool = True

    @property
    def window_s(self) -> float:
        """The planned graded window's length, seconds."""
        return float(len(self.rates_per_s))

    @property
    def events(self) -> float:
        """The requests planned over the whole graded window."""
        return float(sum(self.rates_per_s))

    def events_after(self, at_s: float) -> float:
        """The requests planned from ``at_s`` seconds into the window to its end (whole seconds)."""
        return float(sum(self.rates_per_s[max(0, math.ceil(at_s - 1e-9)):]))


@dataclass(frozen=True)
class LiveCounts:
    """What the load generator counted from the start of the graded window to ``at_s`` seconds into it.

    ``buckets`` are cumulative response counts per ``analysis.client_series.BUCKETS`` bound
    (seconds; from the intended sends for open-model requests, as graded); ``per_second`` holds
    (responses, failures) of each whole second in ``[0, at_s)``; ``invalid`` the reasons the live
    series shows the generator, not the service, is the limit (empty when it kept up).
    """

    at_s: float
    total: float = 0.0
    failures: float = 0.0
    buckets: tuple[float, ...] = ()
    per_second: tuple[tuple[float, float], ...] = ()
    invalid: tuple[str, ...] = ()


@dataclass(frozen=True)
class Abort:
    """An objective that cannot pass: its id, when (seconds into the graded window), and why.

    ``bad`` are its bad events (or slices) so far; ``allowed`` the most the whole planned window allows.
    """

    objective: str
    at_s: float
    bad: float
    allowed: float
    reason: str

    def to_dict(self) -> dict[str, object]:
        """The record's ``aborted`` object: ``{at_s, objective, reason}`` (and the counts behind it)."""
        return {"at_s": self.at_s, "objective": self.objective, "reason": self.reason, "bad": self.bad,
                "allowed": self.allowed}


def cannot_pass(objectives: tuple[Objective, ...] | list[Objective], plan: Plan, counts: LiveCounts) -> Abort | None:
    """The first required objective (in spec order) that can no longer pass over ``plan``'s whole
    window, given ``counts``; None while every one still can, during the ramp-up (``at_s`` <= 0)
    and while the generator is the limit (``counts.invalid``)."""
    if counts.at_s <= 0 or counts.invalid or plan.window_s <= 0:
        return None
    for objective in objectives:
        if not objective.required or objective.kind not in ABORT_KINDS:
            continue
        found = None
        if objective.kind == AVAILABILITY:
            found = _availability(objective, plan, counts)
        elif plan.scheduled and objective.budgeting == OCCURRENCES and objective.target.is_upper_bound:
            found = _error_rate(objective, plan, counts) if objective.kind == ERROR_RATE \
                else _latency(objective, plan, counts)
        if found is not None:
            return found
    return None


def _planned_events(plan: Plan, counts: LiveCounts) -> float:
    """The fewest events the window can end with: the plan's, or what was counted plus the rest planned."""
    return max(plan.events, counts.total + plan.events_after(counts.at_s))


def _error_rate(objective: Objective, plan: Plan, counts: LiveCounts) -> Abort | None:
    events = _planned_events(plan, counts)
    if events <= 0 or counts.failures <= 0:
        return None
    lowest = counts.failures / events
    if meets(lowest, objective.target):
        return None
    allowed = objective.target.value * events
    return Abort(objective.id, counts.at_s, counts.failures, allowed,
                 f"{counts.failures:,.0f} failed requests in the first {counts.at_s:g}s of the graded window; "
                 f"{_target(objective.target)} of the {events:,.0f} requests planned over its {plan.window_s:g}s "
                 f"allows {allowed:,.1f}")


def _latency(objective: Objective, plan: Plan, counts: LiveCounts) -> Abort | None:
    quantile = objective.quantile
    if quantile is None or len(counts.buckets) != len(BUCKETS):
        return None
    threshold = objective.target.value
    # The SLO bucket at T, or the next bound above it: the requests above it were all slower than T.
    index = next((i for i, bound in enumerate(BUCKETS)
                  if math.isfinite(bound) and (bound > threshold or close(bound, threshold))), None)
    if index is None:
        return None
    slow = counts.buckets[-1] - counts.buckets[index]
    events = _planned_events(plan, counts)
    if events <= 0 or slow <= 0:
        return None
    budget = round(1.0 - quantile, 12)
    lowest = slow / events
    # The grader passes when the share at or below T is at least N/100 (up to float noise).
    if lowest <= budget or close(1.0 - lowest, quantile):
        return None
    allowed = budget * events
    over = "" if close(BUCKETS[index], threshold) else f" (counted over the next bucket bound, {BUCKETS[index]:g}s)"
    return Abort(objective.id, counts.at_s, slow, allowed,
                 f"{slow:,.0f} requests slower than {threshold:g}s in the first {counts.at_s:g}s of the graded "
                 f"window{over}; p{quantile * 100:g} allows {format_ratio(budget)} of the {events:,.0f} requests "
                 f"planned over its {plan.window_s:g}s: {allowed:,.1f}")


def _availability(objective: Objective, plan: Plan, counts: LiveCounts) -> Abort | None:
    if objective.slice_seconds is None or objective.slice_max_error_ratio is None:
        return None
    width = max(1, int(round(objective.slice_seconds)))
    planned = int(plan.window_s // width)
    done = min(len(counts.per_second), int(counts.at_s)) // width
    if planned < 1 or done < 1:
        return None
    ends = [float((i + 1) * width) for i in range(done)]
    requests = {end: sum(n for n, _ in counts.per_second[int(end) - width:int(end)]) for end in ends}
    errors = {end: sum(f for _, f in counts.per_second[int(end) - width:int(end)]) for end in ends}
    # As the client source grades them: a slice with responses is up; one without any is bad.
    slices = grade_slices(ends, {end: 1.0 for end in ends if requests[end] > 0}, errors, requests,
                          objective.slice_max_error_ratio, no_up="no responses", errors_name="failure ratio")
    bad = sum(1 for s in slices if not s.good)
    if bad <= 0 or meets((planned - bad) / planned, objective.target):
        return None
    allowed = _slices_allowed(planned, objective.target)
    return Abort(objective.id, counts.at_s, float(bad), float(allowed),
                 f"{bad} bad {width}s slice{'s' if bad > 1 else ''} in the first {done * width}s of the graded window; "
                 f"{_target(objective.target)} of the {planned} slices planned over its {plan.window_s:g}s "
                 f"allows {allowed}")


def _target(target: Target) -> str:
    """``< 0.1 %``: a ratio target as the report writes it."""
    return f"{OP_SYMBOLS[target.op]} {format_ratio(target.value)}"


def _slices_allowed(planned: int, target: Target) -> int:
    """The most bad slices of ``planned`` that still meet ``target``."""
    return max((k for k in range(planned + 1) if meets((planned - k) / planned, target)), default=0)


def live_counts(series: ClientSeries, window_start: float, *, expected_workers: int = 1) -> LiveCounts:
    """The counts of a growing ``series`` from ``window_start`` (Unix seconds, a whole second: the
    graded window's start) to the last whole second its snapshots reach, at the same edges the
    grading uses (the last snapshot at or before each second), with the validity checks a live
    series can judge (``analysis.validity``, all but the generator's exit)."""
    last = series.snapshots[-1].t if series.snapshots else window_start
    at_s = float(math.floor(last) - window_start)
    if at_s < 1:
        return LiveCounts(at_s=max(0.0, at_s))
    end = window_start + at_s
    c = series.counts(window_start, end, times=False)
    buckets = c.corrected_buckets if c.scheduled > 0 else c.buckets
    per_second = []
    for k in range(int(at_s)):
        s = series.counts(window_start + k, window_start + k + 1, times=False)
        per_second.append((s.total, s.failures))
    validity = assess(series, Window(window_start, end), locust_exit_code=0, expected_workers=expected_workers,
                      model=series.model)
    invalid = tuple(f"{check.id}: {check.reason}" for check in validity.checks
                    if check.status != "ok" and check.id not in _NOT_LIVE)
    return LiveCounts(at_s=at_s, total=c.total, failures=c.failures, buckets=tuple(buckets),
                      per_second=tuple(per_second), invalid=invalid)
