"""Whether a load test produced the load it claims: the run's validity checks. Pure.

A run that could not deliver its load must not pass, and must not fail the service either
(``slo.gate.decide`` makes it inconclusive, unless a latency, error-rate or availability breach
was seen). Each check reads the client series over the graded window:

* ``generator_exit``: Locust exited early, was killed or crashed (no ``test_stop``, or an exit
  code other than 0);
* ``achieved_rate``: the requests sent (answered or not) fell below 90 % of the target rate;
* ``generator_cpu``: a load-generator process was above 90 % CPU for more than 10 % of the window
  (with, when more would have been needed, an estimate of how many processes the target rate
  needs: each process's share of the rate sent, over the busiest process's mean CPU);
* ``late_requests``: more than 1 % of open-model requests went out over 100 ms after their
  intended time (the pool of users or the CPU could not keep the schedule);
* ``lost_workers``: fewer worker processes reported than were started.
"""

from __future__ import annotations

import math
import signal
import time
from dataclasses import dataclass
from typing import Any

from analysis.client_series import ClientSeries, Snapshot
from analysis.sli import Window

__all__ = ["Check", "Validity", "assess", "RATE_FLOOR", "CPU_LIMIT", "CPU_SHARE", "LATE_SHARE", "OK", "INVALID"]

OK, INVALID = "ok", "invalid"
#: The share of the target rate a valid run sends.
RATE_FLOOR = 0.9
#: A process above ``CPU_LIMIT`` % for more than ``CPU_SHARE`` of the window was the bottleneck.
CPU_LIMIT, CPU_SHARE = 90.0, 0.1
#: More than this share of open-model requests over 100 ms late: the schedule was not kept.
LATE_SHARE = 0.01
#: The mean CPU (percent of a core) a sizing of the generator aims each process at: headroom meant
#: to keep it under ``CPU_LIMIT`` through the window's peaks.
SIZING_CPU = 80.0


@dataclass(frozen=True)
class Check:
    """One validity check: ``status`` ``ok`` or ``invalid``, what was measured against what limit, and why."""

    id: str
    status: str
    measured: float | None
    limit: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "measured": self.measured, "limit": self.limit,
                "reason": self.reason}


@dataclass(frozen=True)
class Validity:
    """Every check of a run; the run is valid when none is invalid."""

    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return all(c.status == OK for c in self.checks)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The invalid checks, each as ``id: reason``."""
        return tuple(f"{c.id}: {c.reason}" for c in self.checks if c.status == INVALID)

    @property
    def invalid_ids(self) -> tuple[str, ...]:
        """The ids of the invalid checks, in order."""
        return tuple(c.id for c in self.checks if c.status == INVALID)

    def failed(self, check_id: str) -> bool:
        """Whether the check ``check_id`` found the run invalid."""
        return any(c.id == check_id and c.status == INVALID for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "checks": [c.to_dict() for c in self.checks]}


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def assess(series: ClientSeries, window: Window, *, locust_exit_code: int | None, expected_workers: int,
           model: str | None) -> Validity:
    """The validity checks of a run graded over ``window``; ``model`` is the series' load model."""
    checks = [_generator_exit(series, locust_exit_code)]
    snaps = [s for s in series.snapshots if window.start <= s.t <= window.end]
    counts = series.counts(window.start, window.end)
    targets = [s.target_rate for s in snaps if s.target_rate > 0]
    rates: tuple[float, float] | None = None  # the target and the sent rate, when there was a target
    if model == "closed":
        checks.append(Check("achieved_rate", OK, None, None,
                            "not applicable: plain Locust users have no target rate"))
    elif not targets or counts.seconds <= 0:
        checks.append(Check("achieved_rate", INVALID, None, RATE_FLOOR,
                            "no target rate or no time was recorded in the window"))
    else:
        target = sum(targets) / len(targets)
        sent = _sent_rate(snaps, counts.total / counts.seconds)
        ratio = sent / target
        rates = (target, sent)
        checks.append(Check("achieved_rate", OK if ratio >= RATE_FLOOR else INVALID, round(ratio, 4), RATE_FLOOR,
                            f"sent {sent:,.1f} req/s against a target of {target:,.1f} ({ratio:.1%})"))
    cpu = [s.cpu for s in snaps if s.cpu is not None]
    if not cpu:
        checks.append(Check("generator_cpu", OK, None, CPU_SHARE, "no CPU figures were recorded (older series)"))
    else:
        busy = sum(1 for c in cpu if c > CPU_LIMIT) / len(cpu)
        sizing = "" if busy <= CPU_SHARE or rates is None else _processes_needed(
            *rates, sum(cpu) / len(cpu), max(1, max(s.workers for s in snaps)))
        checks.append(Check("generator_cpu", OK if busy <= CPU_SHARE else INVALID, round(busy, 4), CPU_SHARE,
                            f"a load-generator process was above {CPU_LIMIT:g} % CPU for {busy:.0%} of the window "
                            f"(peak {max(cpu):g} %){sizing}"))
    intended = counts.scheduled + counts.dropped
    if intended <= 0:
        checks.append(Check("late_requests", OK, None, LATE_SHARE, "not applicable: no open-model requests"))
    else:
        late = (counts.very_late + counts.dropped) / intended
        dropped = f", {counts.dropped:,.0f} of them dropped unsent" if counts.dropped else ""
        checks.append(Check("late_requests", OK if late <= LATE_SHARE else INVALID, round(late, 4), LATE_SHARE,
                            f"{late:.1%} of requests were sent over 100 ms after their intended time{dropped}; "
                            "add users (--users) or generator processes"))
    checks.append(_lost_workers(series, snaps, window, expected_workers))
    return Validity(tuple(checks))


def _processes_needed(target: float, sent: float, busiest_cpu: float, processes: int) -> str:
    """An estimate of the processes ``target`` req/s needs, from the rate each of the ``processes`` sent
    (``sent`` shared evenly) over the busiest process's mean CPU (percent of a core); empty when those
    that ran would do. The busiest process's CPU stands for all of them, which errs high; the rate per
    CPU-second is that of a saturated process, which sends more per CPU-second than one paced below
    its limit, which errs low. With a master, its CPU is among those the busiest is taken from."""
    if busiest_cpu <= 0 or sent <= 0:
        return ""
    per_cpu_s = sent / processes / (busiest_cpu / 100)
    needed = math.ceil(target / (per_cpu_s * SIZING_CPU / 100))
    if needed <= processes:
        return ""
    return (f"; at {sent / processes:,.0f} req/s a process, the busiest at {busiest_cpu:.0f} % of a core on "
            f"average (about {per_cpu_s:,.0f} req per CPU-second), {target:,.0f} req/s needs about {needed} "
            f"load-generator processes, each on a core of its own and {SIZING_CPU:g} % busy (an estimate)")


def _lost_workers(series: ClientSeries, snaps: list[Snapshot], window: Window, expected: int) -> Check:
    if expected <= 1 and not series.worker_events:
        return Check("lost_workers", OK, 1, 1, "one load-generator process")
    seen = min((s.workers for s in snaps), default=0)
    lost = [(t, worker) for t, kind, worker in series.worker_events if kind == "worker_lost" and t <= window.end]
    named = "; ".join(f"worker {worker} stopped reporting at {_clock(t)} "
                      f"({_offset(t, window)})" for t, worker in lost)
    if seen >= expected and not lost:
        return Check("lost_workers", OK, seen, expected, f"{seen} of {expected} workers reported through the window")
    return Check("lost_workers", INVALID, seen, expected,
                 f"{seen} of {expected} workers reported through the window" + (f": {named}" if named else ""))


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t)) + " UTC"


def _offset(t: float, window: Window) -> str:
    if t < window.start:
        return f"{window.start - t:.0f} s before the graded window"
    return f"{t - window.start:.0f} s into the graded window"


def _sent_rate(snaps: list[Snapshot], fallback: float) -> float:
    """Requests sent per second, between the first and the last snapshot in the window at which
    the count moved: with worker processes the master's counts move only when a worker reports
    (every second, Locust's default 3 s before loadgate sets it), so the window's edges would read up
    to a report period short."""
    totals = [(s.t, sum(s.responses.values())) for s in snaps]
    moved = [(t, n) for (t, n), (_, before) in zip(totals[1:], totals) if n != before]
    if len(moved) < 2 or moved[-1][0] <= moved[0][0]:
        return fallback
    (t0, n0), (t1, n1) = moved[0], moved[-1]
    return (n1 - n0) / (t1 - t0)


def _generator_exit(series: ClientSeries, code: int | None) -> Check:
    if series.stopped is None:
        how = _exit_text(code) if code is not None else "stopped reporting"
        last = series.snapshots[-1].t if series.snapshots else None
        return Check("generator_exit", INVALID, code, 0,
                     f"the load generator {how} before the test ended"
                     + (f" (its last report at {last:.0f})" if last is not None else ""))
    if code not in (0, None):
        return Check("generator_exit", INVALID, code, 0, f"the load generator {_exit_text(code)}")
    return Check("generator_exit", OK, code, 0, "the load generator ran to the end of the test")
