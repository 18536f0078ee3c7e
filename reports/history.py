"""The history of several graded runs: records in, a typed history, its ``history.json`` form and a view model. Pure.

``build_history(inputs)`` orders the gate, run and capacity records by when they were graded
(``generated_at``; oldest first), keeps the newest ``last`` of them, labels each run, lays out
each objective's trend (measured value, threshold and status per run) and compares the newest
gate or run record with the gate and run records before it (``slo.regression.compare_docs``).
Capacity searches appear in the trend with their ``capacity_rps``; they are never baselines,
since they graded many rates, not one. ``history_view`` formats the same for the templates:
``history.html`` and ``history.md`` (a pull-request comment, lines kept within 80 columns).
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from slo.record_types import VerdictRecord
from slo.regression import DEFAULT_ALPHA, Comparison, compare_docs
from slo.units import format_percent, format_rate, format_value

__all__ = ["HISTORY_SCHEMA_VERSION", "LABEL_SOURCES", "MARKER", "HistoryInput", "HistoryRun", "ObjectivePoint",
           "ObjectiveTrend", "RegressionRow", "History", "build_history", "history_view", "STATUS_ICONS"]

HISTORY_SCHEMA_VERSION = 1
#: Where a run's label comes from (``--label-from``).
LABEL_SOURCES = ("dir", "git_sha", "version")
#: The first line of ``history.md``: a CI step finds its earlier comment by it and updates that one.
MARKER = "<!-- loadgate-history -->"
#: Each status as a word's stand-in; status is never shown by colour alone.
STATUS_ICONS = {"pass": "✓", "warn": "!", "fail": "✗", "no_data": "·", "inconclusive": "?"}
#: ``history.md`` keeps within this many columns, so it reads in a CI log too.
MD_WIDTH = 80
#: What Before and Now are, under the table of changes.
CHANGES_NOTE = ("Before: the earlier runs pooled; Now: the newest run; Change: relative to Before. Both are "
                "the values the test compared (a latency's quantile read from its histogram).")
#: Runs shown in ``history.md``'s status trend (the newest ones), to stay within ``MD_WIDTH``.
MD_TREND_RUNS = 20


@dataclass(frozen=True)
class HistoryInput:
    """One directory read: its path and name, and its verdict record or its capacity document (one of them)."""

    dir: str
    name: str
    verdict: VerdictRecord | None = None
    capacity: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class HistoryRun:
    """One run in the history: ``kind`` is gate, run or capacity; ``graded_at`` an RFC 3339 UTC time."""

    id: str
    dir: str
    label: str
    graded_at: str
    kind: str
    verdict: str
    git_sha: str | None
    tool_version: str | None
    #: The capacity search's answer in req/s; None for a gate or run (or a search where nothing passed).
    capacity_rps: float | None = None


@dataclass(frozen=True)
class ObjectivePoint:
    """One run's grading of one objective; values in the objective's unit (seconds, ratio, 1/s)."""

    run: str
    status: str
    measured: float | None
    threshold: float | None
    warn: float | None


@dataclass(frozen=True)
class ObjectiveTrend:
    """An objective across the runs that graded it, oldest first; title, kind and unit as the newest run has them."""

    id: str
    title: str
    kind: str
    unit: str
    op: str
    points: tuple[ObjectivePoint, ...]


@dataclass(frozen=True)
class RegressionRow:
    """The newest run's change on one objective against the earlier runs (``effect``: (cur - base) / base)."""

    run: str
    objective: str
    baseline_runs: int
    effect: float | None
    p_value: float | None
    significant: bool
    verdict: str
    baseline: float | None
    current: float | None
    min_effect: float | None
    method: str
    note: str
    required: bool


@dataclass(frozen=True)
class History:
    """The runs (oldest first), each objective's trend, and the newest gate or run record's comparison."""

    runs: tuple[HistoryRun, ...]
    objectives: tuple[ObjectiveTrend, ...]
    regressions: tuple[RegressionRow, ...]
    #: The run compared (the newest gate or run record), and the runs it was compared with.
    newest: str | None
    baseline: tuple[str, ...]
    alpha: float
    label_from: str
    #: What a reader of stderr should know (a label that fell back to the directory's name).
    warnings: tuple[str, ...] = ()

    @property
    def regressed(self) -> tuple[RegressionRow, ...]:
        """The required objectives of the newest run that regressed significantly."""
        return tuple(r for r in self.regressions if r.verdict == "regressed" and r.required)

    def to_json(self, *, generated_at: str = "", tool_version: str = "") -> dict[str, Any]:
        """The ``history.json`` document (``schemas/history.schema.json``)."""
        return {
            "schema_version": HISTORY_SCHEMA_VERSION, "tool": {"name": "loadgate", "version": tool_version},
            "generated_at": generated_at, "label_from": self.label_from, "alpha": self.alpha,
            "newest": self.newest, "baseline_runs": list(self.baseline),
            "runs": [{"id": r.id, "dir": r.dir, "label": r.label, "graded_at": r.graded_at, "kind": r.kind,
                      "verdict": r.verdict, "git_sha": r.git_sha, "tool_version": r.tool_version,
                      "capacity_rps": r.capacity_rps} for r in self.runs],
            "objectives": {t.id: [{"run": p.run, "status": p.status, "measured": p.measured,
                                   "threshold": p.threshold, "warn": p.warn} for p in t.points]
                           for t in self.objectives},
            "objective_info": {t.id: {"title": t.title, "kind": t.kind, "unit": t.unit, "op": t.op}
                               for t in self.objectives},
            "regressions": [{"run": r.run, "objective": r.objective, "baseline_runs": r.baseline_runs,
                             "effect": r.effect, "p_value": r.p_value, "significant": r.significant,
                             "verdict": r.verdict, "baseline": r.baseline, "current": r.current,
                             "min_effect": r.min_effect, "method": r.method, "note": r.note, "required": r.required}
                            for r in self.regressions],
            "warnings": list(self.warnings),
        }


def _graded_at(item: HistoryInput) -> str:
    if item.verdict is not None:
        return item.verdict.generated_at
    return str((item.capacity or {}).get("generated_at") or "")


def _time_key(text: str) -> datetime:
    """When a record was graded, for ordering; a record without a readable time sorts first."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _capacity_verdict(doc: Mapping[str, Any]) -> str:
    """A capacity search's verdict, as its own report decides it (``reports.capacity``)."""
    if doc.get("capacity_rps") is None or (doc.get("lower_bound") and doc.get("meets_target") is False):
        return "inconclusive"
    return "pass" if doc.get("meets_target") in (True, None) else "fail"


def _unique(names: Sequence[str]) -> list[str]:
    """``names`` with repeats told apart: ``demo``, ``demo-2``, ``demo-3``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def _label(item: HistoryInput, run_id: str, label_from: str, warnings: list[str]) -> str:
    if label_from == "git_sha":
        sha = item.verdict.run.git_sha if item.verdict is not None and item.verdict.run is not None else None
        if sha:
            return sha[:7]
        warnings.append(f"{item.dir}: no git sha recorded (a gate, a capacity search, or a run outside a git "
                        f"checkout); labelled by its directory, {run_id}")
    elif label_from == "version":
        version = item.verdict.tool_version if item.verdict is not None else None
        if version:
            return version
        warnings.append(f"{item.dir}: no loadgate version recorded; labelled by its directory, {run_id}")
    return run_id


def _run(item: HistoryInput, run_id: str, label: str) -> HistoryRun:
    if item.verdict is not None:
        record = item.verdict
        return HistoryRun(id=run_id, dir=item.dir, label=label, graded_at=record.generated_at,
                          kind="run" if record.run is not None else "gate", verdict=record.verdict,
                          git_sha=record.run.git_sha if record.run is not None else None,
                          tool_version=record.tool_version or None)
    doc = item.capacity or {}
    capacity = doc.get("capacity_rps")
    return HistoryRun(id=run_id, dir=item.dir, label=label, graded_at=_graded_at(item), kind="capacity",
                      verdict=_capacity_verdict(doc), git_sha=None, tool_version=None,
                      capacity_rps=float(capacity) if isinstance(capacity, (int, float)) else None)


def _trends(records: Sequence[tuple[str, VerdictRecord]]) -> tuple[ObjectiveTrend, ...]:
    """Each objective any record graded, in the order the newest record lists them (then the rest)."""
    order: list[str] = []
    for _, record in reversed(records):
        order += [o.id for o in record.objectives if o.id not in order]
    trends = []
    for oid in order:
        points, newest = [], None
        for run_id, record in records:
            entry = next((o for o in record.objectives if o.id == oid), None)
            if entry is None:
                continue
            newest = entry
            points.append(ObjectivePoint(run=run_id, status=entry.status, measured=entry.measured,
                                         threshold=entry.target.value, warn=entry.warn))
        assert newest is not None
        trends.append(ObjectiveTrend(id=oid, title=newest.title, kind=newest.kind, unit=newest.unit,
                                     op=newest.target.op, points=tuple(points)))
    return tuple(trends)


Compare = Callable[..., Mapping[str, Comparison]]


def build_history(inputs: Sequence[HistoryInput], *, last: int | None = None, label_from: str = "dir",
                  alpha: float = DEFAULT_ALPHA, tolerances: Mapping[str, float] | None = None,
                  compare: Compare = compare_docs) -> History:
    """The history of ``inputs`` (any order), the newest ``last`` runs of it when given.

    Invariants: runs are oldest first with unique ids; the newest gate or run record is compared
    with every gate or run record kept before it; ``regressions`` is empty when it has none before it.
    """
    if label_from not in LABEL_SOURCES:
        raise ValueError(f"label_from: expected one of {', '.join(LABEL_SOURCES)}, got {label_from!r}")
    ordered = sorted(inputs, key=lambda item: (_time_key(_graded_at(item)), item.name, item.dir))
    if last is not None:
        ordered = ordered[-last:] if last > 0 else []
    ids = _unique([item.name for item in ordered])
    warnings: list[str] = []
    runs = tuple(_run(item, run_id, _label(item, run_id, label_from, warnings)) for item, run_id in zip(ordered, ids))
    labels = _unique([run.label for run in runs])
    runs = tuple(dataclasses.replace(run, label=label) for run, label in zip(runs, labels))
    graded = [(run_id, item.verdict) for item, run_id in zip(ordered, ids) if item.verdict is not None]
    regressions: tuple[RegressionRow, ...] = ()
    newest, baseline = (graded[-1][0] if graded else None), tuple(run_id for run_id, _ in graded[:-1])
    if len(graded) >= 2:
        current = graded[-1][1]
        found = compare(current.to_json(), [record.to_json() for _, record in graded[:-1]], alpha=alpha,
                        tolerances=dict(tolerances) if tolerances is not None else None)
        required = {o.id: o.required for o in current.objectives}
        # Through ``to_json``: an infinite effect (from a baseline of 0) becomes None, as JSON needs.
        regressions = tuple(
            RegressionRow(run=graded[-1][0], objective=j["objective"], baseline_runs=j["baseline_runs"],
                          effect=j["effect"], p_value=j["p_value"], significant=j["significant"],
                          verdict=j["verdict"], baseline=j["baseline"], current=j["current"],
                          min_effect=j["min_effect"], method=j["method"], note=j["note"],
                          required=required.get(j["objective"], True))
            for oid in [o.id for o in current.objectives] if (c := found.get(oid)) is not None
            for j in [c.to_json()])
    return History(runs=runs, objectives=_trends(graded), regressions=regressions, newest=newest, baseline=baseline,
                   alpha=alpha, label_from=label_from, warnings=tuple(warnings))


def _p_text(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _change_text(row: RegressionRow) -> str:
    return "n/a" if row.effect is None else format_percent(row.effect, signed=True)


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, MD_WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def history_view(history: History) -> dict[str, Any]:
    """What ``history.html`` and ``history.md`` show, formatted; the runs' ids key the charts. Pure."""
    runs = {run.id: run for run in history.runs}
    newest = runs.get(history.newest or "")
    titles = {t.id: t.title for t in history.objectives}
    units = {t.id: t.unit for t in history.objectives}
    changes = [{"id": r.objective, "title": titles.get(r.objective, r.objective),
                "before": format_value(r.baseline, units.get(r.objective, "")),
                "now": format_value(r.current, units.get(r.objective, "")), "change": _change_text(r),
                "p": _p_text(r.p_value), "significant": "yes" if r.significant else "no", "verdict": r.verdict,
                "note": r.note, "required": r.required} for r in history.regressions]
    regressed = [r.objective for r in history.regressed]
    counts = {v: sum(1 for r in history.regressions if r.verdict == v) for v in ("improved", "inconclusive")}
    if newest is None:
        headline = "no gate or run record to compare"
    elif not history.baseline:
        headline = f"{newest.label} ({newest.verdict.upper()}): no earlier run to compare with"
    else:
        rest = [f"{n} {verdict}" for verdict, n in counts.items() if n]
        headline = f"{newest.label} ({newest.verdict.upper()}): " + ", ".join(
            [f"{len(regressed)} regressed ({', '.join(regressed)})" if regressed else "no regression"] + rest)
        if len(headline) > MD_WIDTH - len("### loadgate history: "):
            # The Markdown heading cannot wrap: the regressed ids are in the table below it.
            headline = f"{newest.label} ({newest.verdict.upper()}): " + ", ".join(
                [f"{len(regressed)} regressed" if regressed else "no regression"] + rest)
    summary = ""
    if newest is not None:
        summary = (f"The newest run, {newest.label} ({newest.verdict.upper()}, graded {newest.graded_at}), "
                   + (f"against the {len(history.baseline)} run{'s' if len(history.baseline) != 1 else ''} "
                      f"before it, pooled (alpha {history.alpha:g}): a change is significant when that test "
                      f"says so, and regressed when it is also at least the objective's minimum effect."
                      if history.baseline else "has no earlier gate or run record to compare with."))
    grid = []
    for run in history.runs:
        cells = []
        for trend in history.objectives:
            point = next((p for p in trend.points if p.run == run.id), None)
            status = point.status if point is not None else None
            cells.append({"status": status or "none", "icon": STATUS_ICONS.get(status or "", "–"),
                          "word": (status or "not graded").replace("_", " "),
                          "value": format_value(point.measured, trend.unit) if point is not None else ""})
        grid.append({"run": run, "cells": cells, "when": run.graded_at[:16].replace("T", " "),
                     "capacity": format_rate(run.capacity_rps) if run.kind == "capacity" else ""})
    shown = history.runs[-MD_TREND_RUNS:]
    width = max([len(t.id) for t in history.objectives] + [9])
    trend_lines = [f"{t.id:<{width}}  " + " ".join(
        STATUS_ICONS.get(next((p.status for p in t.points if p.run == run.id), ""), "–") for run in shown)
        for t in history.objectives]
    capacity = [(run.label, format_rate(run.capacity_rps)) for run in history.runs if run.kind == "capacity"]
    # Green only when every objective was told apart from noise and none regressed.
    banner = "fail" if regressed else "pass" if history.baseline and not counts["inconclusive"] else "inconclusive"
    return {"history": history, "newest": newest, "headline": headline, "banner": banner, "summary": summary,
            "summary_md": _wrap(summary), "changes": changes, "changes_note": _wrap(CHANGES_NOTE),
            "grid": grid, "objectives": history.objectives,
            "trend_lines": trend_lines, "trend_runs": len(shown), "trend_width": width,
            "capacity": capacity, "marker": MARKER, "icons": STATUS_ICONS,
            "runs_md": [_wrap(f"{i}. {run.label}: {run.kind}, {run.verdict.upper()}, graded {run.graded_at}"
                              + (f", capacity {format_rate(run.capacity_rps)}" if run.kind == "capacity" else ""),
                              "   ")
                        for i, run in enumerate(history.runs, 1)]}
