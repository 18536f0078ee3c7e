"""The report's view model, built from the typed record. Pure: no I/O, no rendering.

Every renderer (HTML, Markdown, terminal) takes this plain data, so the words and numbers a
lead reads are tested here once, and the templates only lay them out. What a load test adds
(its facts, endpoints, tiers, alerts) is put in words by ``reports.run_texts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from reports.run_texts import (
    alert_cases,
    alert_rows,
    alerts_text,
    endpoint_rows,
    incomplete_text,
    run_facts,
    tier_rows,
)
from reports.timeline_texts import TIMELINE_HEADERS, timeline_rows, timeline_text
from reports.zone_texts import ZONE_HEADERS, zone_rows, zones_text
from slo.caveats import invalid_text
from slo.record_types import ClientFigures, ObjectiveRecord, VerdictRecord
from slo.recovery import seconds_text
from slo.units import OP_SYMBOLS, format_duration, format_percent, format_ratio, format_value, format_window, rfc3339

__all__ = ["STATUS_LABELS", "Row", "ReportContext", "build_context", "target_text", "evidence_text",
           "budget_text", "baseline_text", "baseline_summary"]

#: Status words and icons: status is never shown by colour alone.
STATUS_LABELS = {
    "pass": ("✔", "PASS"),
    "warn": ("⚠", "WARN"),
    "fail": ("✘", "FAIL"),
    "no_data": ("∅", "NO DATA"),
    "inconclusive": ("?", "INCONCLUSIVE"),
}


@dataclass(frozen=True)
class Row:
    """One graded objective, every value already in words."""

    id: str
    title: str
    kind: str
    required: bool
    status: str
    icon: str
    label: str
    target: str
    measured: str
    margin: str
    evidence: str
    budget: str
    reason: str
    notes: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    client: str = ""
    baseline: str = ""
    regressed: bool = False


@dataclass(frozen=True)
class ReportContext:
    """Everything a report shows, top to bottom."""

    verdict: str
    icon: str
    label: str
    reason: str
    spec_name: str
    spec_path: str
    spec_text: str
    window_start: str
    window_end: str
    window_text: str
    source: str
    source_detail: tuple[str, ...]
    selector: str
    generated_at: str
    tool_version: str
    exit_code: int
    rows: tuple[Row, ...]
    options: dict[str, Any] = field(default_factory=dict)

    baseline_path: str = ""
    baseline_verdict: str = ""
    #: What the run was compared with and what the regression test found, in one sentence.
    baseline_text: str = ""
    warnings: tuple[str, ...] = ()
    run_facts: tuple[tuple[str, str], ...] = ()
    #: Why the run is incomplete (a signal stopped it), in words; empty for a run that finished.
    incomplete: str = ""
    #: ``--abort-on-fail`` stopped the load (an objective could no longer pass), in words; else empty.
    aborted: str = ""
    #: Why the run is invalid (its load was not delivered) when its checks were enforced: the verdict
    #: is then inconclusive, or a failure the service's own breach decided.
    invalid: str = ""
    run_id: str = ""
    host: str = ""
    endpoint_rows: tuple[tuple[str, ...], ...] = ()
    tier_rows: tuple[tuple[str, ...], ...] = ()
    evidence_rows: tuple[tuple[str, str, str], ...] = ()
    #: ``--alert-rules``: one line on how the alerts were watched (empty when they were not), and
    #: one row per firing span: objective, severity, first and last firing, for how long, graded.
    alerts_text: str = ""
    alert_rows: tuple[tuple[str, str, str, str, str, str], ...] = ()
    #: ``--expect-alerts``: one (test name, failure message or "") per expectation; ``drill`` when
    #: alerts were expected to fire, so the objectives' breaches are the injected fault.
    alert_cases: tuple[tuple[str, str], ...] = ()
    drill: bool = False
    #: The objectives that had burn-rate alert rules in the run (their charts shade the alerts).
    alerting_ids: tuple[str, ...] = ()
    #: A failover drill (``--fault``): how recovery was judged, and a row per action (``TIMELINE_HEADERS``).
    timeline_text: str = ""
    timeline_rows: tuple[tuple[str, ...], ...] = ()
    #: Load zones: where their figures come from, and a row per zone (``ZONE_HEADERS``).
    zones_text: str = ""
    zone_rows: tuple[tuple[str, ...], ...] = ()

    @property
    def has_baseline(self) -> bool:
        """True when the record was compared with a baseline run."""
        return bool(self.baseline_path)

    @property
    def timeline_headers(self) -> tuple[str, ...]:
        """The columns of ``timeline_rows``."""
        return TIMELINE_HEADERS

    @property
    def zone_headers(self) -> tuple[str, ...]:
        """The columns of ``zone_rows``."""
        return ZONE_HEADERS

    @property
    def has_client(self) -> bool:
        """True when the rows carry the load generator's own figures beside the server's."""
        return any(r.client for r in self.rows)


def target_text(entry: ObjectiveRecord) -> str:
    """``< 100 ms``, ``≥ 99.99 %``, ``≥ 10,000 req/s`` (latency adds its percentile)."""
    target = entry.target
    shown = seconds_text if entry.kind == "recovery" else lambda v: format_value(v, entry.unit)
    text = f"{OP_SYMBOLS.get(target.op, target.op)} {shown(target.value)}"
    if entry.warn is not None:
        text += f" (warn {format_value(entry.warn, entry.unit)})"
    return text


def _measured_text(entry: ObjectiveRecord | ClientFigures, kind: str, threshold_s: float) -> str:
    """The measured value in words; latency adds its bucket, the share under ``threshold_s`` and,
    for open-model requests, the figure as sent."""
    if entry.measured is None:
        return "n/a"
    if kind == "recovery":
        return f"{seconds_text(entry.measured)} (the longest of {entry.detail.get('graded_faults', '?')})"
    text = format_value(entry.measured, entry.unit)
    detail = entry.detail
    if kind == "latency":
        text = f"≈ {text}"
        bucket = detail.get("quantile_bucket")
        if bucket:
            text += f" in ({format_duration(bucket[0])}, {format_duration(bucket[1])}]"
        if detail.get("fraction_at_or_below") is not None:
            text += f"; {format_ratio(detail['fraction_at_or_below'])} ≤ {format_duration(threshold_s)}"
        if "measured_from_actual_sends" in detail:
            # Open-model requests: graded from the intended sends; the figure from the actual sends beside it.
            sent = detail["measured_from_actual_sends"]
            text += f" (from the intended sends; as sent ≈ {format_duration(sent) if sent is not None else 'n/a'})"
    elif kind == "availability" and detail.get("slices"):
        text += f" ({detail['good_slices']}/{detail['slices']} slices)"
    return text


def _margin_text(entry: ObjectiveRecord) -> str:
    margin = entry.margin
    if margin is None or entry.measured is None:
        return ""
    if entry.kind == "latency" and entry.detail.get("fraction_at_or_below") is not None:
        return f"{format_percent(margin, signed=True)[:-2]} pp under threshold"
    return format_percent(margin, signed=True)


def _client_text(entry: ObjectiveRecord) -> str:
    """The load generator's figure for the same objective: ``≈ 41 ms ✔`` (empty when absent)."""
    client = entry.client
    if client is None:
        return ""
    icon, _ = STATUS_LABELS[client.status]
    return f"{_measured_text(client, entry.kind, entry.target.value)} {icon}"


def baseline_text(entry: ObjectiveRecord) -> str:
    """``412 ms → 530 ms (+29 %) ✘ regressed, p 0.001`` against the baseline runs (empty when not
    compared); a change the data cannot tell from noise says so, and how much longer a run would need."""
    delta = entry.baseline
    if not delta:
        return ""
    before = format_value(delta.get("measured"), entry.unit)
    after = format_value(entry.measured, entry.unit)
    if delta.get("relative") is not None:
        change = f" ({format_percent(delta['relative'], signed=True)})"
    elif delta.get("change") is not None:
        change = " (from 0)" if delta["change"] else " (no change)"
    else:
        change = ""
    verdict = delta.get("verdict")
    if verdict is None:  # a record compared before the regression test existed: tolerance only
        flag = " ✘ regression" if delta.get("regressed") else (" ✔ better" if delta.get("improved") else "")
        return f"{before} → {after}{change}{flag}"
    p = delta.get("p_value")
    p_text = "" if p is None else (", p < 0.001" if p < 0.001 else f", p {p:.2g}")
    if verdict == "regressed":
        flag = f" ✘ regressed{p_text}"
    elif verdict == "improved":
        flag = f" ✔ improved{p_text}"
    elif verdict == "inconclusive":
        more = delta.get("more_time")
        flag = f" ? inconclusive: a {more:.2g}× longer run could tell" if isinstance(more, (int, float)) \
            else " ? inconclusive"
    else:
        flag = f" = unchanged{p_text}" if delta.get("significant") else " = unchanged (noise)"
    return f"{before} → {after}{change}{flag}"


def baseline_summary(baseline: Mapping[str, Any]) -> str:
    """One sentence on what the run was compared with, at which level, and what that found."""
    if not baseline.get("path"):
        return ""
    runs = int(baseline.get("runs") or 1)
    what = f"the baseline `{baseline['path']}`" if runs == 1 else \
        f"{runs} baseline runs pooled (newest `{baseline['path']}`)"
    if "alpha" not in baseline:
        return f"Compared with {what} (its verdict: {baseline.get('verdict')})."
    regressed, unsure = baseline.get("regressions") or [], baseline.get("inconclusive") or []
    found = f"regressed: {', '.join(regressed)}" if regressed else "no significant regression"
    if unsure:
        found += f"; too little data to tell: {', '.join(unsure)}"
    return (f"Compared with {what} at α = {float(baseline['alpha']):g}: a change is a regression only when "
            f"significant and at least its minimum effect; {found}.")


def evidence_text(entry: ObjectiveRecord) -> str:
    """What the window proves: events, the 95 % upper bound on bad events, demonstrated or not."""
    ev = entry.evidence
    events = entry.events
    if not ev:
        return f"{events:,.0f} events" if events else ""
    what = "slices" if entry.kind == "availability" else "events"
    bound = ev.get("bad_ratio_upper_95")
    text = f"{ev['bad']:,.0f} bad of {ev['events']:,.0f} {what}"
    if bound is not None:
        text += f"; bad ≤ {format_ratio(bound, 2)} at 95 %"
    if ev.get("demonstrated"):
        text += "; demonstrated"
    else:
        needed = ev.get("events_needed")
        text += "; not demonstrated" + (f" (needs ≥ {needed:,.0f} {what} with none bad)" if needed else "")
    return text


_BAD_WORDS = {"latency": ("slow requests", "requests"), "error_rate": ("errors", "responses"),
              "cache_hit_rate": ("misses", "lookups"), "availability": ("bad slices", "slices"),
              "promql_ratio": ("bad events", "events")}


def demonstration(entry: ObjectiveRecord) -> str:
    """What the sample size shows, in a sentence: ``0 errors in 12,000 responses demonstrate a
    bad ratio below 0.025 % (95 % confidence), not below 0.01 %: that needs 30,000 with none bad``."""
    ev = entry.evidence
    if not ev or ev.get("bad_ratio_upper_95") is None:
        return ""
    bad_word, all_word = _BAD_WORDS.get(entry.kind, ("bad events", "events"))
    if entry.kind == "latency":
        bad_word = f"requests over {format_duration(entry.target.value)}"
    head = (f"{ev['bad']:,.0f} {bad_word} in {ev['events']:,.0f} {all_word} demonstrate a bad ratio below "
            f"{format_ratio(ev['bad_ratio_upper_95'], 2)} (95 % confidence)")
    allowed = format_ratio(ev["allowed_bad_ratio"], 2)
    if ev.get("demonstrated"):
        return f"{head}, within the {allowed} the target allows"
    needed = ev.get("events_needed")
    tail = f": that needs at least {needed:,.0f} {all_word} with none bad" if needed else ""
    return f"{head}, not below {allowed}{tail}"


def budget_text(entry: ObjectiveRecord) -> str:
    """Error budget consumed and the worst burn rate."""
    budget = entry.budget
    if not budget:
        return ""
    parts = []
    if budget.get("consumed") is not None:
        parts.append(f"{format_percent(budget['consumed'])} of budget used")
    if budget.get("worst_burn_rate") is not None:
        burn = budget["worst_burn_rate"]
        parts.append(f"worst {budget['burn_window_s'] // 60}-min burn rate {burn:,.0f}×" if burn >= 100 else
                     f"worst {budget['burn_window_s'] // 60}-min burn rate {burn:.3g}×")
    if budget.get("note"):
        parts.append(budget["note"])
    return "; ".join(parts)


def _notes(entry: ObjectiveRecord) -> tuple[str, ...]:
    detail = entry.detail
    kind = entry.kind
    notes: list[str] = []
    if kind == "error_rate" and detail.get("rate_limited_429"):
        notes.append(f"429 rate-limited responses (not errors): {detail['rate_limited_429']:,.0f} "
                     f"({format_ratio(detail.get('rate_limited_ratio'))})")
    if kind == "error_rate" and detail.get("no_5xx_series"):
        notes.append("no 5xx series exists for this selector: zero errors")
    if kind == "throughput" and detail.get("lowest_1m_rate") is not None:
        notes.append(f"lowest 1-minute rate: {format_value(detail['lowest_1m_rate'], '1/s')} "
                     f"over {detail.get('minutes', 0)} minutes")
    if kind == "availability" and detail.get("slices"):
        notes.append(f"{detail['slices']} slices of {detail['slice_seconds']}s: the finest step this window can "
                     f"show is {format_ratio(detail['resolution'])}")
        for bad in detail.get("bad_slices", [])[:10]:
            notes.append(f"bad slice ending {rfc3339(bad['end'])}: {bad['reason']}")
        if len(detail.get("bad_slices", [])) > 10:
            notes.append(f"… and {len(detail['bad_slices']) - 10} more bad slices")
    for key in ("warn_note", "chart_error", "burn_error", "lowest_1m_error"):
        if detail.get(key):
            notes.append(str(detail[key]))
    if not entry.required:
        notes.append("optional objective: shown, but it does not decide the gate")
    return tuple(notes)


def _aborted_text(aborted: Any) -> str:
    """``ABORTED at 7s: error_rate cannot pass (…); …`` for a run ``--abort-on-fail`` stopped."""
    if not isinstance(aborted, dict):
        return ""
    return (f"ABORTED at {aborted.get('at_s', 0):g}s into the graded window: {aborted.get('objective', '?')} cannot "
            f"pass ({aborted.get('reason', '')}); the load was stopped and the window up to it is graded below")


def build_context(record: VerdictRecord) -> ReportContext:
    """The view model of a record."""
    rows = []
    for entry in record.objectives:
        icon, label = STATUS_LABELS[entry.status]
        rows.append(Row(
            id=entry.id, title=entry.title, kind=entry.kind, required=entry.required, status=entry.status, icon=icon,
            label=label, target=target_text(entry), measured=_measured_text(entry, entry.kind, entry.target.value),
            margin=_margin_text(entry), evidence=evidence_text(entry), budget=budget_text(entry), reason=entry.reason,
            notes=_notes(entry), queries=entry.queries, client=_client_text(entry), baseline=baseline_text(entry),
            regressed=bool((entry.baseline or {}).get("regressed")),
        ))
    icon, label = STATUS_LABELS[record.verdict]
    window = record.window
    source_detail = tuple(f"{k}: {v}" for k, v in record.source_info.items() if v not in (None, ""))
    baseline = record.baseline or {}
    breakdown = record.breakdown or {}
    rules = record.alert_rules
    return ReportContext(
        verdict=record.verdict, icon=icon, label=label, reason=record.reason,
        spec_name=str(record.spec["name"]), spec_path=str(record.spec.get("path", "")),
        spec_text=str(record.spec.get("text", "")), window_start=str(window["start"]), window_end=str(window["end"]),
        window_text=format_window(float(window["seconds"])), source=record.source, source_detail=source_detail,
        selector=record.selector, generated_at=record.generated_at, tool_version=record.tool_version,
        exit_code=record.exit_code, rows=tuple(rows), options=dict(record.options),
        baseline_path=str(baseline.get("path", "")), baseline_verdict=str(baseline.get("verdict") or ""),
        baseline_text=baseline_summary(baseline),
        warnings=record.warnings, run_facts=run_facts(record.run),
        incomplete=incomplete_text(record.interrupted),
        aborted=_aborted_text(record.run.extra.get("aborted") if record.run else None),
        invalid=invalid_text(record.validity, enforced=True),
        run_id=record.run_id, host=record.run.host if record.run else "",
        endpoint_rows=endpoint_rows(breakdown, baseline.get("endpoints")),
        evidence_rows=tuple((e.title, budget_text(e) or "n/a", demonstration(e)) for e in record.objectives
                            if e.evidence),
        tier_rows=tier_rows(breakdown, record.run.tier_limits_per_min if record.run else {}),
        alerts_text=alerts_text(record), alert_rows=alert_rows(record.alerts or ()),
        alert_cases=alert_cases(rules), drill=bool((rules or {}).get("expected")),
        alerting_ids=tuple((rules or {}).get("windows") or ()),
        timeline_text=timeline_text(record.timeline), timeline_rows=timeline_rows(record.timeline),
        zones_text=zones_text(record.run.extra.get("zones") if record.run else None),
        zone_rows=zone_rows(record.run.extra.get("zones") if record.run else None),
    )
