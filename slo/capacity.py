"""The capacity search: which rate to offer next, and what the steps so far say. Pure.

A search offers ``start``, then ``start × factor`` and so on up to ``max_rate``. The first step
that breaches a required objective starts a bisection between the last passing rate and it,
until the two are within ``precision`` of the passing one. The search stops there, at
``max_rate``, or when the load generator becomes the limit (an invalid step without a breach of
the service): the capacity is then a lower bound. ``capacity_rps`` is the offered rate of the
highest step that passed (None if none did).

A step's verdict comes from grading it like any run, with throughput judged against its own
offered rate (``THROUGHPUT_SHARE`` of it must arrive). When several objectives break at one step,
``limited_by`` names a latency, error-rate or availability objective before throughput: a
throughput shortfall follows from them.

With workers on other hosts, a step whose workers did not all connect, or that lost one mid-step
(``WORKER_CHECKS``), is missing part of its load: it is never a pass and never a breach, the
search stops there, and the answer is a lower bound (``limited_by: workers``) naming the step and
the workers, whatever the steps before it said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CAPACITY_SCHEMA_VERSION", "Step", "Outcome", "next_rate", "outcome", "step_from_verdict",
           "performance_table", "document", "THROUGHPUT_SHARE", "SERVICE_KINDS", "GENERATOR_CHECKS",
           "POOL_CHECKS", "WORKER_CHECKS", "workers_missing_step"]

#: The version of ``capacity.json`` this module writes.
CAPACITY_SCHEMA_VERSION = 1
#: A step's throughput passes when this share of its offered rate arrived.
THROUGHPUT_SHARE = 0.9
#: Objective kinds named first when several break at once: the service answered badly.
SERVICE_KINDS = ("latency", "error_rate", "availability")
#: What ``capacity.json`` keeps of each objective of a step.
STEP_FIELDS = ("status", "measured", "client", "as_sent", "kind", "unit")
#: Validity checks that make the load generator, not the service, the limit.
GENERATOR_CHECKS = ("generator_cpu", "generator_exit")
#: Validity checks that, without the generator's, mean the pool of users ran dry: the service slowed.
POOL_CHECKS = ("achieved_rate", "late_requests")
#: Checks that say part of a step's load never came: a worker lost mid-step, or workers that did not
#: all connect before it (``workers_connected``: no load was sent).
WORKER_CHECKS = ("lost_workers", "workers_connected")


@dataclass(frozen=True)
class Step:
    """One graded step: the offered ``rate``, the ``achieved`` one, the gate's ``verdict``
    (``pass``, ``fail`` or ``inconclusive``), its validity, and each objective's status and kind."""

    rate: float
    achieved: float | None
    verdict: str
    valid: bool
    #: objective id -> {"status", "measured", "kind", "required"}
    objectives: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The ids of the validity checks that failed.
    invalid_checks: tuple[str, ...] = ()
    #: With workers on other hosts: each worker's responses in the step (Locust worker id -> count).
    workers: dict[str, int] | None = None
    #: The workers lost mid-step (Locust worker ids).
    lost_workers: tuple[str, ...] = ()
    #: Why the step is missing part of its load, in words (a worker check's reason), else "".
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == "pass" and self.valid

    @property
    def generator_ran_out(self) -> bool:
        """The load generator itself failed a validity check (its CPU, or it exited)."""
        return any(c in GENERATOR_CHECKS for c in self.invalid_checks)

    @property
    def workers_missing(self) -> bool:
        """Part of the step's load never came: a worker was lost, or not all connected."""
        return any(c in WORKER_CHECKS for c in self.invalid_checks)

    @property
    def breached(self) -> list[str]:
        """The required objectives that failed, service kinds first, in the spec's order; none
        when the generator ran out or workers were missing (such a step is never a breach). A step
        invalid only because its pool of users ran dry (late requests, a rate short) breached: the
        service slowed."""
        if self.generator_ran_out or self.workers_missing:
            return []
        failed = [oid for oid, o in self.objectives.items() if o.get("status") == "fail" and o.get("required", True)]
        if not failed and any(c in POOL_CHECKS for c in self.invalid_checks):
            # No objective failed, yet the users, sized for the latency ceiling, could not keep the
            # rate: the service held them. The throughput objective (inconclusive in an invalid run)
            # is what broke, else the check that saw it.
            failed = [oid for oid, o in self.objectives.items() if o.get("kind") == "throughput"
                      and o.get("required", True)] or [c for c in self.invalid_checks if c in POOL_CHECKS][:1]
        return sorted(failed, key=lambda oid: 0 if (self.objectives.get(oid) or {}).get("kind") in SERVICE_KINDS
                      else 1)

    @property
    def generator_limited(self) -> bool:
        """An invalid step the load generator, not the service, limited."""
        return not self.valid and self.generator_ran_out


@dataclass(frozen=True)
class Outcome:
    """What the steps say: the capacity, what limited it, and whether it is only a lower bound."""

    capacity_rps: float | None
    limited_by: str | None
    lower_bound: bool
    reason: str


def next_rate(steps: list[Step], *, start: float, factor: float, max_rate: float, precision: float) -> float | None:
    """The rate to offer next, or None when the search is over."""
    if not steps:
        return min(start, max_rate)
    last = steps[-1]
    if last.generator_limited or (not last.passed and not last.breached):
        return None  # the generator ran out, or a step said nothing: no further step can say more
    passing = [s.rate for s in steps if s.passed]
    breaching = [s.rate for s in steps if s.breached]
    if not breaching:
        if last.rate >= max_rate:
            return None
        return min(last.rate * factor, max_rate)
    low = max((r for r in passing if r < min(breaching)), default=None)
    high = min(breaching)
    if low is None or (high - low) <= precision * low:
        return None
    return (low + high) / 2.0


def outcome(steps: list[Step], *, max_rate: float) -> Outcome:
    """The capacity the steps show."""
    passing = [s for s in steps if s.passed]
    breaching = [s for s in steps if s.breached]
    top = max((s.rate for s in passing), default=None)
    missing = next(((n, s) for n, s in enumerate(steps, 1) if s.workers_missing), None)
    if missing is not None:
        number, step = missing
        why = f"step {number} ({step.rate:g} req/s) is missing load: {step.note or ', '.join(step.invalid_checks)}"
        if breaching:
            lowest = min(breaching, key=lambda s: s.rate)
            why += f"; {lowest.breached[0]} breached at {lowest.rate:g} req/s"
        return Outcome(top, "workers", True, f"{why}; the search stopped there, " +
                       (f"at least {top:g} req/s" if top is not None else "before any step passed"))
    if breaching:
        first = min(breaching, key=lambda s: s.rate)
        limited = first.breached[0]
        if top is None:
            return Outcome(None, limited, False, f"the first step, {first.rate:g} req/s, already breached {limited}")
        return Outcome(top, limited, False, f"{limited} breached at {first.rate:g} req/s; the highest rate that "
                                            f"passed is {top:g} req/s")
    generator = next((s for s in steps if s.generator_limited), None)
    if generator is not None:
        checks = ", ".join(generator.invalid_checks)
        if top is None:
            return Outcome(None, "generator", True, f"the load generator ran out at the first step "
                                                    f"({generator.rate:g} req/s: {checks}) before any breach")
        return Outcome(top, "generator", True, f"the load generator ran out at {generator.rate:g} req/s ({checks}) "
                                               f"before the service breached: at least {top:g} req/s")
    if top is not None and top >= max_rate:
        return Outcome(top, "max_rate", True, f"every step up to --to {max_rate:g} req/s passed: at least that")
    last = steps[-1] if steps else None
    why = f"the step at {last.rate:g} req/s was {last.verdict}" if last else "no step ran"
    return Outcome(top, None, top is not None, f"{why}; the search could not go on")


def step_from_verdict(rate: float, doc: dict[str, Any]) -> Step:
    """A step from its run's ``verdict.json``: the gate's verdict, validity and objectives. The
    achieved rate is the throughput objective's measure, else the share of the rate the load
    generator sent (``achieved_rate``) times the offered rate."""
    objectives = {o["id"]: {"status": o.get("status"), "measured": o.get("measured"), "kind": o.get("kind"),
                            "required": o.get("required", True), "unit": o.get("unit"),
                            "client": (o.get("client") or {}).get("measured"),
                            "as_sent": _as_sent(o)}
                  for o in doc.get("objectives", [])}
    validity = doc.get("validity") or {}
    checks = {c["id"]: c for c in validity.get("checks", [])}
    achieved = next((o["measured"] for o in objectives.values() if o["kind"] == "throughput"
                     and isinstance(o["measured"], (int, float))), None)
    if achieved is None and isinstance((checks.get("achieved_rate") or {}).get("measured"), (int, float)):
        achieved = float(checks["achieved_rate"]["measured"]) * rate
    invalid = tuple(cid for cid, c in checks.items() if c.get("status") == "invalid")
    run = doc.get("run") or {}
    responses = run.get("worker_responses")
    lost = tuple(str(e.get("worker")) for e in run.get("worker_events") or () if e.get("event") == "worker_lost")
    note = "; ".join(str(checks[c].get("reason", c)) for c in WORKER_CHECKS if c in invalid)
    return Step(rate, achieved, str(doc.get("verdict")), bool(validity.get("valid", True)), objectives, invalid,
                workers={str(w): int(n) for w, n in responses.items()} if isinstance(responses, dict) else None,
                lost_workers=lost, note=note)


def workers_missing_step(rate: float, reason: str) -> Step:
    """A step that never started: its workers did not all connect (``reason`` says how many, where)."""
    return Step(rate, None, "inconclusive", False, {}, ("workers_connected",), note=reason)


def _as_sent(entry: dict[str, Any]) -> Any:
    """The client's latency from the actual sends, where the verdict keeps it (its own detail when
    the client was the source, its client figure's otherwise)."""
    for detail in ((entry.get("detail") or {}), ((entry.get("client") or {}).get("detail") or {})):
        if "measured_from_actual_sends" in detail:
            return detail["measured_from_actual_sends"]
    return None


def performance_table(targets: list[dict[str, Any]], steps: list[Step], result: Outcome) -> list[dict[str, Any]]:
    """The seed's table, **Metric | Target | Current | Status**: each objective of the spec as
    written (``targets``: id, title, kind, target text, op, value), measured at the highest
    passing step (throughput: the capacity itself), graded against its own target."""
    top = max((s for s in steps if s.passed), key=lambda s: s.rate, default=None)
    rows = []
    for t in targets:
        measured: float | None
        if t["kind"] == "throughput":
            measured = result.capacity_rps
        else:
            measured = top.objectives.get(t["id"], {}).get("measured") if top is not None else None
        status = "n/a" if measured is None else ("pass" if _meets(float(measured), t["op"], t["value"]) else "fail")
        rows.append({"id": t["id"], "metric": t["title"], "kind": t["kind"], "target": t["text"],
                     "target_op": t["op"], "target_value": t["value"], "current": measured,
                     "unit": t["unit"], "status": status,
                     "at_rps": (top.rate if top is not None else None) if t["kind"] != "throughput" else None})
    return rows


def _meets(value: float, op: str, bound: float) -> bool:
    return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[op]


def document(steps: list[Step], result: Outcome, *, spec_name: str, spec_path: str, host: str,
             targets: list[dict[str, Any]], search: dict[str, Any], throughput_target: float | None,
             step_dirs: list[str], generated_at: str, interrupted: str | None = None) -> dict[str, Any]:
    """``capacity.json``: the answer, every step, and the performance table."""
    return {
        "schema_version": CAPACITY_SCHEMA_VERSION,
        "capacity_rps": result.capacity_rps, "limited_by": result.limited_by, "lower_bound": result.lower_bound,
        "reason": result.reason, "throughput_target": throughput_target,
        "meets_target": None if result.capacity_rps is None or throughput_target is None
        else result.capacity_rps >= throughput_target,
        "generated_at": generated_at, "host": host, "spec": {"name": spec_name, "path": spec_path},
        "search": search, **({"interrupted": interrupted} if interrupted else {}),
        "steps": [{"rate": s.rate, "achieved": s.achieved, "verdict": s.verdict, "valid": s.valid,
                   "invalid_checks": list(s.invalid_checks), "breached": s.breached, "dir": d,
                   "objectives": {oid: {k: o.get(k) for k in STEP_FIELDS} for oid, o in s.objectives.items()},
                   **({"workers": dict(sorted(s.workers.items()))} if s.workers is not None else {}),
                   **({"lost_workers": list(s.lost_workers)} if s.lost_workers else {}),
                   **({"note": s.note} if s.note else {})}
                  for s, d in zip(steps, step_dirs)],
        "table": performance_table(targets, steps, result),
    }
