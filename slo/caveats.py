"""What should make a reader doubt a record's numbers, decided once, when the record is built. Pure.

No data, a missing bucket, an objective the source could not grade, a client and a server that
disagree on a latency, a run graded although invalid, an uncontrolled arrival rate, an overloaded
or short-handed load generator, a rate below target. The sentences are stored in
``verdict.json``'s ``warnings``; renderers show them as they are.
"""

from __future__ import annotations

from analysis.sli import NEEDS_PROMETHEUS
from slo.grade import MISSING_BUCKET
from slo.record_types import ObjectiveRecord, VerdictRecord
from slo.units import format_duration, format_value

__all__ = ["caveats", "invalid_text"]


def invalid_text(validity: object, *, enforced: bool) -> str:
    """``INVALID RUN: the load was not delivered as asked (…)`` when the run's failed checks were
    (``enforced``) or were not (``--allow-invalid``) applied; empty for a valid run or the other case."""
    if not isinstance(validity, dict) or validity.get("valid", True):
        return ""
    if bool(validity.get("enforced", True)) != enforced:
        return ""
    failed = "; ".join(f"{c.get('id')}: {c.get('reason')}" for c in validity.get("checks") or ()
                       if isinstance(c, dict) and c.get("status") == "invalid")
    return f"INVALID RUN: the load was not delivered as asked ({failed})"


def _problem(o: ObjectiveRecord, legacy: bool) -> str | None:
    """The objective's problem code; an objective stored before codes existed (``legacy``: no
    ``problem`` key at all) has only its reason's wording to go by, the one time that wording is read."""
    if o.problem is not None or not legacy or o.status != "inconclusive":
        return o.problem
    return MISSING_BUCKET if "add a bucket" in o.reason else NEEDS_PROMETHEUS if "needs Prometheus" in o.reason \
        else None


def _objective_caveats(record: VerdictRecord, legacy: frozenset[str]) -> list[str]:
    out: list[str] = []
    for o in record.objectives:
        problem = _problem(o, o.id in legacy)
        if o.status == "no_data":
            out.append(f"No data for {o.title}: {o.reason}")
        elif problem == MISSING_BUCKET:
            out.append(f"Missing bucket for {o.title}: {o.reason}")
        elif problem == NEEDS_PROMETHEUS:
            out.append(f"{o.title} skipped: {o.reason}")
    for o in record.objectives:
        if o.kind != "latency" or o.client is None:
            continue
        server, seen = o.measured, o.client.measured
        if o.status in ("pass", "warn") and o.client.status == "fail":
            corrected = "measured_from" in o.client.detail
            out.append(f"{o.title} passes at the server but fails for the clients"
                       f"{' (timed from their intended sends)' if corrected else ''}: "
                       f"{format_duration(seen)} against {format_duration(server)}. Requests waited before "
                       "the server saw them: coordinated omission in a closed loop, a queue in front of the "
                       "service, or too few load-generator users (--users).")
        elif server and seen and seen >= 2 * server:
            out.append(f"Client-side {o.title} ({format_duration(seen)}) is {seen / server:.1f}× the "
                       f"server's ({format_duration(server)}): time spent queueing, on the network or in an "
                       "overloaded load generator.")
    return out


def _run_caveats(record: VerdictRecord) -> list[str]:
    run = record.run
    if run is None:
        return []
    out: list[str] = []
    if run.model in ("closed", "mixed"):
        # Series written before the closed classes were recorded name them all when every one was closed.
        closed = run.closed_user_classes or (run.user_classes if run.model == "closed" else None)
        plain = ", ".join(closed or ()) or "plain Locust users"
        out.append(f"The arrival rate was not controlled: {plain} ran closed-loop"
                   f"{' beside open-model users' if run.model == 'mixed' else ''}, each sending only after its last "
                   "response, so a slow service gets fewer requests and their latency undercounts what clients "
                   "would see (coordinated omission). Subclass scenarios.OpenModelUser to send at --rate.")
    if run.loadgen_cpu_over_90:
        out.append("The load generator's CPU went above 90 %: it may have limited the rate and inflated "
                   "client-side latency. Add worker processes (--processes) or machines.")
    if run.processes > 1 and run.workers < run.processes:
        out.append(f"Workers lost: {run.workers} of {run.processes} worker processes reported.")
    achieved = next(((o.client.measured if o.client else o.measured) for o in record.objectives
                     if o.kind == "throughput"), None)
    if run.target_rate and achieved is not None and achieved < 0.9 * run.target_rate:
        out.append(f"The achieved rate {format_value(achieved, '1/s')} is below 90 % of the requested "
                   f"{format_value(run.target_rate, '1/s')}.")
    return out


def caveats(record: VerdictRecord, *, legacy: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The warnings of ``record``, in the order a reader should meet them. ``legacy``: the ids of a
    version 1 record's objectives stored without a problem code."""
    out = _objective_caveats(record, legacy)
    allowed = invalid_text(record.validity, enforced=False)
    if allowed:
        out.append(f"{allowed}; graded anyway (--allow-invalid), so the verdict may blame the service for the "
                   "load generator")
    return tuple(out + _run_caveats(record))
