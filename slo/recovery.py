"""The ``recovery`` objective: time to recover from a drill's faults, graded from its timeline. Pure.

``kind: recovery, threshold: "< 90s"`` holds when every fault injected (``--fault``) was followed
by a recovery (``slo.timeline``) within the threshold; ``budget: 50%`` adds that no fault may
spend more than that share of the ``error_rate`` objective's budget over the graded window.

* no fault injected (a plain run, or ``loadgate gate``): ``no_data``, saying so;
* a fault whose action failed or ran past its timeout says nothing about recovery: it is left out,
  and named; when no fault succeeded, the objective is ``inconclusive``;
* a fault not recovered by the end of the run fails it.

The measured value is the longest recovery, in seconds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from yaml.nodes import Node

from slo.evaluate import Graded
from slo.grade import FAIL, INCONCLUSIVE, NO_DATA, PASS, Verdict, meets
from slo.located import NodeParser
from slo.model import RECOVERY, Objective
from slo.timeline import DONE, NO_FAULT, NO_FAULT_REASON, NOT_RECOVERED, Timeline
from slo.units import OP_SYMBOLS, format_ratio, parse_ratio

__all__ = ["read_budget_share", "seconds_text", "grade_recovery", "with_recovery"]

#: The problem codes of an inconclusive recovery objective, beside ``no_fault``: the run ended
#: inside a fault's hold, the service within objectives; the error budget spent cannot be known.
UNCONFIRMED_PROBLEM = "recovery_unconfirmed"
BUDGET_UNKNOWN = "budget_unknown"


def read_budget_share(parser: NodeParser, node: Node, path: str) -> dict[str, Any]:
    """A recovery objective's ``budget``: a share of the error budget in (0 %, 100 %]."""
    parsed = parser.unit_value(node, path, parse_ratio)
    if parsed is None:
        return {}
    if not 0 < parsed[1] <= 1:
        parser.error(node, path, "a share of the error budget, above 0% and at most 100%, such as 50%")
        return {}
    return {"budget_share": parsed[1]}


def seconds_text(seconds: float) -> str:
    """Recovery times as people read them: ``2 s``, ``12.5 s``, ``90 s``."""
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:,.0f} s"


def _target(o: Objective) -> str:
    return f"{OP_SYMBOLS[o.target.op]} {seconds_text(o.target.value)}"


def grade_recovery(objective: Objective, timeline: Timeline | None) -> Verdict:
    """Grade ``objective`` (kind ``recovery``) from a drill's ``timeline``."""
    faults = timeline.faults if timeline is not None else ()
    if not faults:
        return Verdict(objective, NO_DATA, None, NO_FAULT_REASON, problem=NO_FAULT)
    ran = [(a, r) for a, r in faults if a.status == DONE and r is not None]
    skipped = [f"{a.action} at {a.at_s:g}s {a.status.replace('_', ' ')}" + (f" ({a.detail})" if a.detail else "")
               for a, r in faults if not (a.status == DONE and r is not None)]
    left_out = f"; left out: {'; '.join(skipped)}" if skipped else ""
    detail: dict[str, Any] = {"faults": len(faults), "graded_faults": len(ran),
                              "recovery_s": [r.recovery_s for _, r in ran],
                              "budget_spent": [r.budget_spent for _, r in ran]}
    if not ran:
        return Verdict(objective, INCONCLUSIVE, None, f"no fault was injected successfully{left_out}",
                       events=0, detail=detail, problem=NO_FAULT)
    # Never recovered; or unconfirmed, but still outside the objectives for longer than the threshold allows.
    never = [(a, r) for a, r in ran if not r.recovered and (not r.unconfirmed or (
        r.at_least_s is not None and not meets(r.at_least_s, objective.target)))]
    if never:
        reason = "; ".join(f"{a.action} at {a.at_s:g}s: {r.reason}" for a, r in never)
        return Verdict(objective, FAIL, None, f"{NOT_RECOVERED}: {reason}{left_out}", events=len(ran), detail=detail)
    unconfirmed = [(a, r) for a, r in ran if r.unconfirmed]
    if unconfirmed:
        # The run ended, or the next fault struck, inside the hold or before a recovery: it cannot say.
        reason = "; ".join(f"{a.action} at {a.at_s:g}s: {r.reason}" for a, r in unconfirmed)
        advice = ("inject the fault earlier, run longer or shorten --recovery-hold"
                  if not any(r.cut_short for _, r in unconfirmed) else
                  "space the faults further apart (each recovery and its hold before the next fault), or shorten "
                  "--recovery-hold")
        return Verdict(objective, INCONCLUSIVE, None, f"{reason}: {advice}{left_out}", events=len(ran),
                       detail=detail, problem=UNCONFIRMED_PROBLEM)
    worst = max(ran, key=lambda pair: pair[1].recovery_s or 0.0)
    longest = float(worst[1].recovery_s or 0.0)
    ok = meets(longest, objective.target)
    status = PASS if ok else FAIL
    reason = (f"the longest recovery, {seconds_text(longest)} after {worst[0].action} at {worst[0].at_s:g}s, "
              f"{'meets' if ok else 'misses'} {_target(objective)} ({len(ran)} fault{'s' if len(ran) > 1 else ''})")
    if objective.budget_share is not None:
        spent = [(a, r.budget_spent) for a, r in ran]
        if any(s is None for _, s in spent):
            return Verdict(objective, INCONCLUSIVE, longest, f"{reason}; but the error budget spent is unknown (the "
                           f"spec has no error_rate objective, or the window no requests){left_out}",
                           events=len(ran), detail=detail, problem=BUDGET_UNKNOWN)
        action, most = max(spent, key=lambda pair: pair[1] or 0.0)
        within = (most or 0.0) <= objective.budget_share
        reason += (f"; {action.action} spent {format_ratio(most)} of the error budget, "
                   f"{'within' if within else 'over'} the {format_ratio(objective.budget_share)} a fault may spend")
        status = status if within else FAIL
    margin = (objective.target.value - longest) / objective.target.value if objective.target.value else None
    return Verdict(objective, status, longest, reason + left_out, events=len(ran), margin=margin, detail=detail)


def with_recovery(graded: Graded, timeline: Timeline | None) -> Graded:
    """``graded`` with each recovery objective graded from ``timeline`` (sources cannot grade them)."""
    return dataclasses.replace(graded, verdicts=tuple(
        grade_recovery(v.objective, timeline) if v.objective.kind == RECOVERY else v for v in graded.verdicts))
