"""Verdicts to one gate result and exit code: the only place that decides how a gate ends.

* ``fail`` (exit 1) if any required objective fails (or warns, with ``fail_on_warn``);
* otherwise ``inconclusive`` (exit 3) if any required objective has no data or is
  inconclusive, or the source (Prometheus, the client series) could not be read at all;
* otherwise ``pass`` (exit 0).

A run that could not produce its load (``invalid``: the reasons of ``analysis.validity``'s failed
checks) is ``inconclusive``, unless a required latency, error-rate or availability objective
failed inside the graded window: that is evidence against the service, and fails the gate.

A run stopped by a signal (``Interruption``) is ``inconclusive`` whatever its objectives say, and
exits with the signal's code (130 SIGINT, 143 SIGTERM, 129 SIGHUP): what it measured is graded and
written, but a run that did not finish proves nothing either way.

Objectives with ``required: false`` are graded and shown but never decide the gate.
Exit code 2 (usage or spec error) is decided by the CLI before any grading happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from slo.grade import FAIL, INCONCLUSIVE, NO_DATA, PASS, WARN, Verdict

__all__ = ["ExitCode", "GateResult", "Interruption", "decide", "EVIDENCE_KINDS"]

#: Objective kinds whose breach an invalid run still proves: the service answered badly.
EVIDENCE_KINDS = ("latency", "error_rate", "availability")


class ExitCode(IntEnum):
    """Every exit code loadgate returns, and what it means to a pipeline."""

    PASS = 0          # every required objective met
    FAIL = 1          # a required objective breached (or regressed, with --fail-on-regression)
    USAGE = 2         # a bad flag, spec or file: nothing was graded
    INCONCLUSIVE = 3  # no data, or the source or a child process failed: nothing proven either way
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT
    HANGUP = 129       # SIGHUP
    TERMINATED = 143   # SIGTERM, how CI cancels a job


@dataclass(frozen=True)
class Interruption:
    """A run stopped by a signal: its name (``SIGTERM``), Unix time, and the exit code it gives."""

    signal: str
    at: float
    exit_code: ExitCode


_EXIT = {PASS: ExitCode.PASS, FAIL: ExitCode.FAIL, INCONCLUSIVE: ExitCode.INCONCLUSIVE}


@dataclass(frozen=True)
class GateResult:
    """The overall verdict (``pass``, ``fail`` or ``inconclusive``), its exit code and why."""

    verdicts: tuple[Verdict, ...]
    status: str
    exit_code: ExitCode
    reason: str


def decide(verdicts: list[Verdict] | tuple[Verdict, ...], *, fail_on_warn: bool = False,
           source_error: str | None = None, regressions: dict[str, str] | None = None,
           interrupted: Interruption | None = None, invalid: tuple[str, ...] = (),
           alert_failures: tuple[str, ...] = (), drill: bool = False, alerts_unread: str | None = None) -> GateResult:
    """Combine objective verdicts into the gate's result.

    ``alert_failures`` (from ``--expect-alerts``: an expected alert that did not fire, or any that
    fired when none was expected) fail the gate. In a ``drill`` (alerts expected to fire) the
    objectives' breaches are the fault injected on purpose: the alerts alone decide, pass when
    every expected one fired. Alerts that could not be read (``alerts_unread``) decide nothing:
    inconclusive.

    ``regressions`` (objective id -> reason), given with ``--fail-on-regression``, fail the gate
    for required objectives even when their absolute targets pass.
    """
    if interrupted is not None:
        return GateResult(tuple(verdicts), INCONCLUSIVE, interrupted.exit_code,
                          f"interrupted by {interrupted.signal}: the run did not finish; the window up to the "
                          "signal is graded below, but decides nothing")
    if drill:
        if invalid:
            return GateResult(tuple(verdicts), INCONCLUSIVE, _EXIT[INCONCLUSIVE],
                              "drill on an invalid run: " + "; ".join(invalid))
        if alerts_unread:
            return GateResult(tuple(verdicts), INCONCLUSIVE, _EXIT[INCONCLUSIVE], alerts_unread)
        if alert_failures:
            return GateResult(tuple(verdicts), FAIL, _EXIT[FAIL], "drill: " + "; ".join(alert_failures))
        return GateResult(tuple(verdicts), PASS, _EXIT[PASS],
                          "drill: every expected alert fired; the objectives below are graded as measured and "
                          "decide nothing in a drill")
    required = [v for v in verdicts if v.objective.required]
    failed = [v for v in required if v.status == FAIL or (fail_on_warn and v.status == WARN)]
    regressions = regressions or {}
    regressed = [regressions[v.objective.id] for v in required if v.objective.id in regressions]
    undecided = [v for v in required if v.status in (NO_DATA, INCONCLUSIVE)]
    if invalid:
        breached = [v for v in failed if v.status == FAIL and v.objective.kind in EVIDENCE_KINDS]
        why = "invalid run: " + "; ".join(invalid) + (f"; and {source_error}" if source_error else "")
        if breached:
            return GateResult(tuple(verdicts), FAIL, _EXIT[FAIL],
                              "; ".join(v.reason for v in breached) + f" (seen although the run was {why})")
        return GateResult(tuple(verdicts), INCONCLUSIVE, _EXIT[INCONCLUSIVE], why)
    if failed or regressed or alert_failures:
        status = FAIL
        reason = "; ".join([v.reason for v in failed] + regressed + list(alert_failures))
    elif alerts_unread:
        status, reason = INCONCLUSIVE, alerts_unread
    elif source_error:
        status, reason = INCONCLUSIVE, source_error
    elif undecided:
        status = INCONCLUSIVE
        reason = "; ".join(f"{v.objective.id}: {v.reason}" for v in undecided)
    elif not required:
        status, reason = INCONCLUSIVE, "the spec has no required objectives"
    else:
        status = PASS
        warned = [v for v in required if v.status == WARN]
        reason = f"all {len(required)} required objectives pass" + (
            f" ({len(warned)} with warnings)" if warned else "")
    return GateResult(tuple(verdicts), status, _EXIT[status], reason)
