"""A failover drill's timeline: when each fault struck, what it cost and when the service recovered. Pure.

``build_timeline(actions, series, window, spec)`` reads the load generator's client series (a
cumulative snapshot a second, so every count between two snapshots is exact):

* **within objectives**: a trailing 5 s window (t - 5, t] is within objectives when it holds
  responses, its failure ratio meets every ``error_rate`` objective of the spec (with none, it
  has no failed request at all), and every ``latency`` objective holds in it (the share of its
  responses at or under T is at least Q, from the client's SLO buckets: from the intended sends
  for open-model requests, as the client source grades; the quantile estimate when T is no
  bucket bound);
* **recovered**: for a fault at F, the first moment R = F + k (k whole seconds, 0 included) from
  which every 5 s window inside [R, R + hold] is within objectives; ``recovery_s`` = k. When the
  graded window ends first, the fault was **not recovered by the end of the run**;
* **cost**: the requests and failed requests from F to the end of the first window within
  objectives, R + 5 s (failures a window's objectives tolerate are still the fault's: a request
  in flight on a killed process fails even when the failover is at once); to the graded window's
  end when not recovered. Also the first failed request after F (to the second of the snapshot that counted it),
  and the share of the graded window's error budget they spent: failures over (the first
  ``error_rate`` objective's allowed ratio x the window's requests).

With ``--alert-rules``, each fault that ran also lists the generated alerts that fired after it
(``first_alerts``: each alert's first firing at or after the fault, from the alert poller's spans,
and those already firing when it struck, said so).

Times are Unix seconds; a fault that never ran (the run ended first) has no recovery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from analysis import sli
from analysis.client_series import BUCKETS, ClientSeries, Counts
from analysis.sli import Window
from slo import model
from slo.grade import meets
from slo.model import Objective, Spec
from slo.units import OP_SYMBOLS, format_duration, format_value, rfc3339

__all__ = ["WINDOW_S", "HOLD_S", "FAULT", "RECOVER", "DONE", "FAILED", "TIMED_OUT", "NOT_RUN", "NOT_RECOVERED",
           "UNCONFIRMED", "UNCONFIRMED_NEXT",
           "NO_FAULT", "NO_FAULT_REASON", "ALERT_POLL_S", "ActionRun", "Recovery", "Timeline", "Health",
           "health_criteria", "recovery_of", "first_alerts", "build_timeline"]

#: The width of the windows health is judged on, seconds.
WINDOW_S = 5
#: How long every window must stay within objectives to count as recovered, seconds (the default).
HOLD_S = 30.0
FAULT, RECOVER = "fault", "recover"
#: What became of an action: it ran and succeeded; its command failed; it ran past its timeout
#: (and was killed); the run ended before its time came.
DONE, FAILED, TIMED_OUT, NOT_RUN = "done", "failed", "timed_out", "not_run"
NOT_RECOVERED = "not recovered by the end of the run"
#: A fault whose hold the run ended inside of, the service within objectives at the end.
UNCONFIRMED = "recovery not confirmed by the end of the run"
#: A fault still outside its objectives, or inside its hold, when the next fault struck.
UNCONFIRMED_NEXT = "recovery not confirmed before the next fault"
#: The problem code of a recovery objective with no fault to recover from.
NO_FAULT = "no_fault"
NO_FAULT_REASON = ("no fault was injected, so there is no recovery to grade (a recovery objective is graded from "
                   "a drill's timeline: loadgate run or demo with --fault AT:ACTION)")


@dataclass(frozen=True)
class ActionRun:
    """One ``--fault`` or ``--recover`` action as it ran: planned ``at_s`` seconds into the steady
    state (``planned_unix``), started at ``started_unix`` (None: never ran), its ``status``, a
    sentence of ``detail``, and for a command its exit code, the tail of its output and how long it ran;
    ``undone``: how a host fault was undone at the end of the run (or that it cannot be), else empty."""

    role: str
    action: str
    kind: str
    at_s: float
    planned_unix: float
    started_unix: float | None
    status: str
    detail: str = ""
    exit_code: int | None = None
    output_tail: str = ""
    duration_s: float | None = None
    undone: str = ""


@dataclass(frozen=True)
class Recovery:
    """What one fault cost, and when the service was back within its objectives (``recovered_unix``,
    None when it never was before the run ended)."""

    recovered_unix: float | None
    recovery_s: float | None
    first_failure_unix: float | None
    requests: int
    failed_requests: int
    #: The share of the graded window's error budget spent from the fault to the recovery (None
    #: without an error_rate objective, or without requests in the window).
    budget_spent: float | None
    reason: str
    #: Not recovered, but within objectives from some moment to the window's end, a stretch shorter
    #: than the hold: the run ended too soon after the fault to tell (never a failure to recover).
    unconfirmed: bool = False
    #: When not recovered: the fewest seconds its recovery can take (it was still outside its
    #: objectives until then), so that a grade can still fail on it when the recovery is unconfirmed.
    at_least_s: float | None = None
    #: Unconfirmed because the next fault struck before the recovery (and its hold) was seen.
    cut_short: bool = False

    @property
    def recovered(self) -> bool:
        return self.recovered_unix is not None


@dataclass(frozen=True)
class Health:
    """What a 5 s window must meet: the error ratio's targets and the latency objectives."""

    errors: tuple[Objective, ...]
    latency: tuple[Objective, ...]

    def within(self, counts: Counts) -> bool:
        """Whether one window's counts are within every objective (no responses: not within)."""
        if counts.total <= 0:
            return False
        ratio = counts.failures / counts.total
        if not self.errors and counts.failures > 0:
            return False
        if any(not meets(ratio, o.target) for o in self.errors):
            return False
        buckets = counts.corrected_buckets if counts.scheduled > 0 and counts.corrected_buckets else counts.buckets
        hist = sli.histogram_from_buckets(zip(BUCKETS, buckets))
        for o in self.latency:
            assert o.quantile is not None
            fraction = hist.fraction_at_or_below(o.target.value)
            if fraction is not None:
                if fraction < o.quantile and not sli.close(fraction, o.quantile):
                    return False
            elif hist.count <= 0 or not meets(hist.quantile(o.quantile), o.target):
                return False
        return True

    def describe(self) -> tuple[str, ...]:
        """Each criterion in words: ``error_rate: failure ratio < 0.1 %``, ``p99_latency: p99 < 500 ms``."""
        if not self.errors:
            out = ["no failed request (the spec has no error_rate objective)"]
        else:
            out = [f"{o.id}: failure ratio {OP_SYMBOLS[o.target.op]} {format_value(o.target.value, 'ratio')}"
                   for o in self.errors]
        for o in self.latency:
            assert o.quantile is not None
            out.append(f"{o.id}: p{o.quantile * 100:g} {OP_SYMBOLS[o.target.op]} {format_duration(o.target.value)}")
        return tuple(out)


def health_criteria(spec: Spec) -> Health:
    """The spec's error-rate and latency objectives, which every 5 s window must meet."""
    return Health(tuple(o for o in spec.objectives if o.kind == model.ERROR_RATE),
                  tuple(o for o in spec.objectives if o.kind == model.LATENCY))


def _first_failure(series: ClientSeries, start: float, end: float) -> float | None:
    """The time of the first snapshot after ``start`` (up to ``end``) that counted a failed request."""
    previous = start
    for snapshot in series.snapshots:
        if snapshot.t <= start or snapshot.t > end + 1e-6:
            continue
        if series.counts(previous, snapshot.t, times=False).failures > 0:
            return snapshot.t
        previous = snapshot.t
    return None


def recovery_of(fault_unix: float, series: ClientSeries, window: Window, health: Health,
                hold_s: float = HOLD_S, budget_ratio: float | None = None, window_requests: float = 0.0,
                next_fault_unix: float | None = None) -> Recovery:
    """The recovery from a fault at ``fault_unix``: the first R = fault + k (whole seconds) from
    which every 5 s window up to R + ``hold_s`` is within objectives, within the graded ``window``
    and before the next fault (``next_fault_unix``): what a later fault breaks is its own recovery
    and its own cost, never charged to this one. ``budget_ratio`` is the error_rate objective's
    allowed bad ratio, ``window_requests`` the window's requests, for the share of the budget spent."""
    end = window.end if next_fault_unix is None else min(window.end, next_fault_unix)
    cut = end < window.end  # the next fault strikes inside the window
    span = int(math.floor(end - fault_unix + 1e-9))
    hold = int(math.ceil(hold_s - 1e-9))
    # within[k]: the window (F + k - 5, F + k] is within objectives, for k = 5 .. span.
    within = {k: health.within(series.counts(fault_unix + k - WINDOW_S, fault_unix + k, times=False))
              for k in range(WINDOW_S, span + 1)}
    recovered_k = None
    run_start = None  # the first k of the current stretch of windows within objectives
    for k in range(WINDOW_S, span + 1):
        if not within[k]:
            run_start = None
            continue
        run_start = k if run_start is None else run_start
        first = run_start - WINDOW_S  # R = F + first: the stretch's windows start at R
        if k >= first + hold:
            recovered_k = first
            break
    recovered = fault_unix + recovered_k if recovered_k is not None else None
    until = min(recovered + WINDOW_S, end) if recovered is not None else end
    cost = series.counts(fault_unix, until, times=False) if until > fault_unix else None
    failed = int(round(cost.failures)) if cost else 0
    requests = int(round(cost.total)) if cost else 0
    spent = None
    if budget_ratio is not None and window_requests > 0 and budget_ratio > 0:
        spent = failed / (budget_ratio * window_requests)
    first_failure = _first_failure(series, fault_unix, until if recovered is not None else end)
    if recovered_k is not None:
        reason = (f"recovered {recovered_k:g} s after the fault: every {WINDOW_S} s window within objectives for "
                  f"{hold_s:g} s from {rfc3339(fault_unix + recovered_k)}")
    else:
        k = span
        while k >= WINDOW_S and within[k]:
            k -= 1
        tail = span - k + WINDOW_S - 1 if k < span else 0  # the last stretch within objectives, seconds
        at_least = float(max(0, k + 1 - WINDOW_S))  # the window ending at k was outside the objectives
        if tail and cut:
            reason = (f"{UNCONFIRMED_NEXT}: within objectives for its last {tail:g} s before the next fault struck "
                      f"{span:g} s after it, under the {hold_s:g} s hold")
        elif tail:
            reason = (f"{UNCONFIRMED}: within objectives for its last {tail:g} s, under the {hold_s:g} s hold "
                      f"(the fault came {span:g} s before the end)")
        elif cut:
            reason = (f"{UNCONFIRMED_NEXT}: still outside its objectives when the next fault struck {span:g} s "
                      f"after it, so its own recovery cannot be told apart from that fault's (at least "
                      f"{at_least:g} s)")
        else:
            reason = f"{NOT_RECOVERED}: {span:g} s after the fault, no {hold_s:g} s stretch within objectives"
    unconfirmed = recovered_k is None and (bool(tail) or cut)
    return Recovery(recovered, float(recovered_k) if recovered_k is not None else None, first_failure,
                    requests, failed, spent, reason, unconfirmed=unconfirmed,
                    at_least_s=at_least if recovered_k is None else None,
                    cut_short=recovered_k is None and cut)


@dataclass(frozen=True)
class Timeline:
    """The actions of a drill in time order, each fault with its recovery, and how recovery was judged."""

    actions: tuple[ActionRun, ...]
    recoveries: tuple[Recovery | None, ...]
    steady_start_unix: float
    hold_s: float
    criteria: tuple[str, ...]
    #: The firing spans of the generated alerts (``slo.alerts.spans``), with ``--alert-rules``; None without.
    alert_spans: tuple[Mapping[str, Any], ...] | None = None

    @property
    def faults(self) -> tuple[tuple[ActionRun, Recovery | None], ...]:
        """The faults, each with its recovery (None when it never ran)."""
        return tuple((a, r) for a, r in zip(self.actions, self.recoveries) if a.role == FAULT)

    def to_json(self) -> dict[str, Any]:
        """The ``timeline`` of ``verdict.json``: times as RFC 3339 and Unix seconds."""
        events = []
        for action, recovery in zip(self.actions, self.recoveries):
            entry: dict[str, Any] = {
                "role": action.role, "action": action.action, "kind": action.kind, "at_s": action.at_s,
                "planned": rfc3339(action.planned_unix), "planned_unix": action.planned_unix,
                "started": rfc3339(action.started_unix) if action.started_unix is not None else None,
                "started_unix": action.started_unix, "status": action.status, "detail": action.detail,
                "exit_code": action.exit_code, "output_tail": action.output_tail, "duration_s": action.duration_s,
                "undone": action.undone, "recovery": None,
                "alerts": first_alerts(action.started_unix, self.alert_spans)
                if self.alert_spans is not None and action.role == FAULT and action.started_unix is not None
                else None}
            if recovery is not None:
                entry["recovery"] = {
                    "recovered": recovery.recovered, "recovery_s": recovery.recovery_s,
                    "recovered_at": rfc3339(recovery.recovered_unix) if recovery.recovered_unix is not None else None,
                    "recovered_at_unix": recovery.recovered_unix,
                    "first_failure": rfc3339(recovery.first_failure_unix)
                    if recovery.first_failure_unix is not None else None,
                    "first_failure_unix": recovery.first_failure_unix, "requests": recovery.requests,
                    "failed_requests": recovery.failed_requests, "budget_spent": recovery.budget_spent,
                    "reason": recovery.reason}
            events.append(entry)
        return {"steady_start": rfc3339(self.steady_start_unix), "steady_start_unix": self.steady_start_unix,
                "window_s": WINDOW_S, "hold_s": self.hold_s, "criteria": list(self.criteria), "events": events}


#: How often the alert poller asks Prometheus (``loadgate.alertwatch``), seconds: a span whose last
#: poll is this close before a fault may still have been firing when it struck.
ALERT_POLL_S = 1.0


def first_alerts(fault_unix: float, spans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each generated alert firing at or after a fault at ``fault_unix``, in firing order:
    ``alertname``, ``slo``, ``severity``, ``first_firing`` (RFC 3339 and Unix seconds), ``after_s``
    (seconds from the fault to it) and ``already_firing``: the first span of the alert still firing
    when the fault struck or beginning after it; one that began before the fault (its ``after_s``
    negative) was already firing, so the fault did not set it off (``spans``: ``{"alertname", "slo",
    "severity", "first_firing", "last_firing"}``, Unix seconds, as ``slo.alerts.spans`` folds them)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for span in sorted(spans, key=lambda s: float(s["first_firing"])):
        first = float(span["first_firing"])
        last = float(span.get("last_firing", first))
        key = (str(span.get("slo", "")), str(span.get("severity", "")))
        if last + ALERT_POLL_S + 1e-6 < fault_unix or key in found:
            continue
        found[key] = {"alertname": str(span.get("alertname", "")), "slo": key[0], "severity": key[1],
                      "first_firing": rfc3339(first), "first_firing_unix": first,
                      "after_s": round(first - fault_unix, 3), "already_firing": first + 1e-6 < fault_unix}
    return list(found.values())


def build_timeline(actions: Sequence[ActionRun], series: ClientSeries, window: Window, spec: Spec,
                   steady_start_unix: float, hold_s: float = HOLD_S) -> Timeline:
    """Every action in the order it was planned, each fault that ran with its ``recovery_of``."""
    health = health_criteria(spec)
    errors = health.errors[0] if health.errors else None
    requests = series.counts(window.start, window.end, times=False).total
    ordered = tuple(sorted(actions, key=lambda a: (a.planned_unix, a.role != FAULT)))
    # Faults that did something: a failed one (no netem, a command that exited non-zero) bounds no other.
    struck = sorted(max(a.started_unix, window.start) for a in ordered
                    if a.role == FAULT and a.started_unix is not None and a.status == DONE)
    recoveries = []
    for action in ordered:
        ran = action.role == FAULT and action.started_unix is not None
        start = max(action.started_unix or 0.0, window.start)
        # Faults in the same second strike together: one incident, the same recovery for each.
        later = next((t for t in struck if t >= start + 1.0), None)
        recoveries.append(recovery_of(start, series, window, health, hold_s,
                                      errors.allowed_bad_ratio if errors else None, requests, later)
                          if ran and start < window.end else None)
    return Timeline(ordered, tuple(recoveries), steady_start_unix, hold_s, health.describe())

