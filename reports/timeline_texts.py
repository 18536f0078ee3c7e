"""A drill's timeline in words, for the report and ``summary.md``: one row per action, the criteria
sentence, and the fault and recovery marks the charts draw. Pure: from ``verdict.json``'s
``timeline`` (``slo.timeline``) only.
"""

from __future__ import annotations

from typing import Any, Mapping

from slo.recovery import seconds_text
from slo.units import format_ratio

__all__ = ["TIMELINE_HEADERS", "timeline_rows", "timeline_text", "timeline_marks"]

TIMELINE_HEADERS = ("At", "Action", "Status", "What happened", "First failure", "Recovered", "Failed requests",
                    "Budget spent")
_STATUS = {"done": "✔ done", "failed": "✖ failed", "timed_out": "✖ timed out", "not_run": "– not run"}


def _offset(unix: Any, since: Any) -> str:
    if not isinstance(unix, (int, float)) or not isinstance(since, (int, float)):
        return "–"
    return f"+{seconds_text(max(0.0, float(unix) - float(since)))}"


def _fired(alert: Mapping[str, Any]) -> str:
    """``error_rate:page +12 s`` after the fault, or ``error_rate:page already firing``."""
    name = f"{alert.get('slo')}:{alert.get('severity')}"
    if alert.get("already_firing"):
        return f"{name} already firing"
    return f"{name} +{seconds_text(max(0.0, float(alert.get('after_s') or 0)))}"


def timeline_rows(timeline: Mapping[str, Any] | None) -> tuple[tuple[str, ...], ...]:
    """One row per action (``TIMELINE_HEADERS``): when, what, how it went, and for a fault its first
    failed request and recovery (both after the fault), the requests it failed and the budget spent."""
    rows = []
    for event in (timeline or {}).get("events") or ():
        recovery = event.get("recovery") or None
        role = "fault" if event.get("role") == "fault" else "recover"
        parts = [str(event.get("detail") or "")]
        tail = str(event.get("output_tail") or "").strip()
        if tail:
            parts.append(f"output: {tail.splitlines()[-1][:120]}")
        parts.append(str(event.get("undone") or ""))
        fired = event.get("alerts")
        if isinstance(fired, list):
            parts.append("alerts: " + (", ".join(_fired(a) for a in fired) or "none fired"))
        what = "; ".join(p for p in parts if p)
        cells = [f"{float(event.get('at_s', 0)):g} s", f"{role}: {event.get('action', '')}",
                 _STATUS.get(str(event.get("status")), str(event.get("status"))), what]
        if recovery is None:
            cells += ["", "", "", ""]
        else:
            started = event.get("started_unix")
            recovered = (f"after {seconds_text(float(recovery['recovery_s']))}" if recovery.get("recovered")
                         and recovery.get("recovery_s") is not None else "not recovered by the end of the run")
            spent = recovery.get("budget_spent")
            cells += [_offset(recovery.get("first_failure_unix"), started) if recovery.get("first_failure_unix")
                      else "none", recovered,
                      f"{int(recovery.get('failed_requests', 0)):,} of {int(recovery.get('requests', 0)):,}",
                      format_ratio(spent) if isinstance(spent, (int, float)) else "n/a"]
        rows.append(tuple(cells))
    return tuple(rows)


def timeline_text(timeline: Mapping[str, Any] | None) -> str:
    """How recovery was judged, in one sentence (empty without a drill)."""
    if not timeline:
        return ""
    criteria = "; ".join(str(c) for c in timeline.get("criteria") or ())
    return (f"Times count from the start of the steady state ({timeline.get('steady_start', '')}). The service has "
            f"recovered from a fault at the first moment from which every {timeline.get('window_s', 5):g} s window of "
            f"the load generator's responses stays within its objectives ({criteria}) for "
            f"{timeline.get('hold_s', 30):g} s; "
            "the budget spent is the share of the graded window's error budget failed from the fault to the end "
            "of the first window within objectives.")


def timeline_marks(timeline: Mapping[str, Any] | None) -> tuple[tuple[float, str], ...]:
    """``(unix time, "fault" | "recovered" | "recover")`` for each fault that ran, each recovery and
    each recovery action, for the charts' vertical lines."""
    marks = []
    for event in (timeline or {}).get("events") or ():
        started = event.get("started_unix")
        if not isinstance(started, (int, float)):
            continue
        marks.append((float(started), "fault" if event.get("role") == "fault" else "recover"))
        recovery = event.get("recovery") or {}
        if isinstance(recovery.get("recovered_at_unix"), (int, float)):
            marks.append((float(recovery["recovered_at_unix"]), "recovered"))
    return tuple(marks)
