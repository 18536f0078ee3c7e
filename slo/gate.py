"""Verdicts to one gate result and exit code: the only place that decides how a gate ends.

* ``fail`` (exit 1) if any required objective fails (or warns, with ``fail_on_warn``);
* otherwise ``inconclusive`` (exit 3) if any required objective has no data or is
  inconclusive, or Prometheus could not be queried at all;
* otherwise ``pass`` (exit 0).

Objectives with ``required: false`` are graded and shown but never decide the gate.
Exit code 2 (usage or spec error) is decided by the CLI before any grading happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from slo.grade import FAIL, INCONCLUSIVE, NO_DATA, PASS, WARN, Verdict

__all__ = ["EXIT_PASS", "EXIT_FAIL", "EXIT_USAGE", "EXIT_INCONCLUSIVE", "GateResult", "decide"]

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3
_EXIT = {PASS: EXIT_PASS, FAIL: EXIT_FAIL, INCONCLUSIVE: EXIT_INCONCLUSIVE}


@dataclass(frozen=True)
class GateResult:
    """The overall verdict (``pass``, ``fail`` or ``inconclusive``), its exit code and why."""

    verdicts: tuple[Verdict, ...]
    status: str
    exit_code: int
    reason: str


def decide(verdicts: list[Verdict] | tuple[Verdict, ...], *, fail_on_warn: bool = False,
           source_error: str | None = None, regressions: dict[str, str] | None = None) -> GateResult:
    """Combine objective verdicts into the gate's result.

    ``regressions`` (objective id -> reason), given with ``--fail-on-regression``, fail the gate
    for required objectives even when their absolute targets pass.
    """
    required = [v for v in verdicts if v.objective.required]
    failed = [v for v in required if v.status == FAIL or (fail_on_warn and v.status == WARN)]
    regressed = [regressions[v.objective.id] for v in required if v.objective.id in (regressions or {})]
    undecided = [v for v in required if v.status in (NO_DATA, INCONCLUSIVE)]
    if failed or regressed:
        status = FAIL
        reason = "; ".join([v.reason for v in failed] + regressed)
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
