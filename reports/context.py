"""The report's view model, built from a ``verdict.json`` document. Pure: no I/O, no rendering.

Every renderer (HTML, Markdown, terminal) takes this plain data, so the words and numbers a
lead reads are tested here once, and the templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import contract
from analysis.sli import NEEDS_PROMETHEUS
from slo.grade import MISSING_BUCKET
from slo.record import rfc3339
from slo.units import OP_SYMBOLS, format_duration, format_ratio, format_value

__all__ = ["STATUS_LABELS", "Row", "ReportContext", "build_context", "target_text", "evidence_text",
           "budget_text", "baseline_text", "UnsupportedDocument", "json_type"]

#: Status words and icons: status is never shown by colour alone.
STATUS_LABELS = {
    "pass": ("✔", "PASS"),
    "warn": ("⚠", "WARN"),
    "fail": ("✘", "FAIL"),
    "no_data": ("∅", "NO DATA"),
    "inconclusive": ("?", "INCONCLUSIVE"),
}
SUPPORTED_SCHEMA = 1


class UnsupportedDocument(ValueError):
    """A verdict document this version cannot read (unknown schema, missing fields)."""


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
    warnings: tuple[str, ...] = ()
    run_facts: tuple[tuple[str, str], ...] = ()
    #: Why the run is incomplete (a signal stopped it), in words; empty for a run that finished.
    incomplete: str = ""
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

    @property
    def has_baseline(self) -> bool:
        """True when the record was compared with a baseline run."""
        return bool(self.baseline_path)

    @property
    def has_client(self) -> bool:
        """True when the rows carry the load generator's own figures beside the server's."""
        return any(r.client for r in self.rows)


def target_text(entry: dict[str, Any]) -> str:
    """``< 100 ms``, ``≥ 99.99 %``, ``≥ 10,000 req/s`` (latency adds its percentile)."""
    target = entry["target"]
    text = f"{OP_SYMBOLS.get(target['op'], target['op'])} {format_value(target['value'], entry['unit'])}"
    if entry.get("warn") is not None:
        text += f" (warn {format_value(entry['warn'], entry['unit'])})"
    return text


def _measured_text(entry: dict[str, Any]) -> str:
    if entry.get("measured") is None:
        return "n/a"
    text = format_value(entry["measured"], entry["unit"])
    detail = entry.get("detail") or {}
    if entry["kind"] == "latency":
        text = f"≈ {text}"
        bucket = detail.get("quantile_bucket")
        if bucket:
            text += f" in ({format_duration(bucket[0])}, {format_duration(bucket[1])}]"
        if detail.get("fraction_at_or_below") is not None:
            text += f"; {format_ratio(detail['fraction_at_or_below'])} ≤ {format_duration(entry['target']['value'])}"
        if "measured_from_actual_sends" in detail:
            # Open-model requests: graded from the intended sends; the figure from the actual sends beside it.
            sent = detail["measured_from_actual_sends"]
            text += f" (from the intended sends; as sent ≈ {format_duration(sent) if sent is not None else 'n/a'})"
    elif entry["kind"] == "availability" and detail.get("slices"):
        text += f" ({detail['good_slices']}/{detail['slices']} slices)"
    return text


def _margin_text(entry: dict[str, Any]) -> str:
    margin = entry.get("margin")
    if margin is None or entry.get("measured") is None:
        return ""
    if entry["kind"] == "latency" and (entry.get("detail") or {}).get("fraction_at_or_below") is not None:
        return f"{_percent(margin, signed=True)[:-2]} pp under threshold"
    return _percent(margin, signed=True)


def _percent(ratio: float, signed: bool = False) -> str:
    """``+20 %``, ``-1,254 %``, ``+0.8 %``: three significant digits, no exponent."""
    pct = ratio * 100
    sign = "+" if signed and pct > 0 else ""
    if abs(pct) >= 100:
        return f"{sign}{pct:,.0f} %"
    return f"{sign}{pct:.3g} %"


def _client_text(entry: dict[str, Any]) -> str:
    """The load generator's figure for the same objective: ``≈ 41 ms ✔`` (empty when absent)."""
    client = entry.get("client")
    if not client:
        return ""
    icon, _ = STATUS_LABELS[client["status"]]
    merged = {**entry, **client}
    return f"{_measured_text(merged)} {icon}"


def baseline_text(entry: dict[str, Any]) -> str:
    """``412 ms → 530 ms (+29 %) ✘ regression`` against the baseline (empty when not compared)."""
    delta = entry.get("baseline")
    if not delta:
        return ""
    before = format_value(delta.get("measured"), entry["unit"])
    after = format_value(entry.get("measured"), entry["unit"])
    if delta.get("relative") is not None:
        change = f" ({_percent(delta['relative'], signed=True)})"
    elif delta.get("change") is not None:
        change = " (from 0)" if delta["change"] else " (no change)"
    else:
        change = ""
    flag = " ✘ regression" if delta.get("regressed") else (" ✔ better" if delta.get("improved") else "")
    return f"{before} → {after}{change}{flag}"


def evidence_text(entry: dict[str, Any]) -> str:
    """What the window proves: events, the 95 % upper bound on bad events, demonstrated or not."""
    ev = entry.get("evidence")
    events = entry.get("events")
    if not ev:
        return f"{events:,.0f} events" if events else ""
    what = "slices" if entry["kind"] == "availability" else "events"
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


def demonstration(entry: dict[str, Any]) -> str:
    """What the sample size shows, in a sentence: ``0 errors in 12,000 responses demonstrate a
    bad ratio below 0.025 % (95 % confidence), not below 0.01 %: that needs 30,000 with none bad``."""
    ev = entry.get("evidence")
    if not ev or ev.get("bad_ratio_upper_95") is None:
        return ""
    bad_word, all_word = _BAD_WORDS.get(entry["kind"], ("bad events", "events"))
    if entry["kind"] == "latency":
        bad_word = f"requests over {format_duration(entry['target']['value'])}"
    head = (f"{ev['bad']:,.0f} {bad_word} in {ev['events']:,.0f} {all_word} demonstrate a bad ratio below "
            f"{format_ratio(ev['bad_ratio_upper_95'], 2)} (95 % confidence)")
    allowed = format_ratio(ev["allowed_bad_ratio"], 2)
    if ev.get("demonstrated"):
        return f"{head}, within the {allowed} the target allows"
    needed = ev.get("events_needed")
    tail = f": that needs at least {needed:,.0f} {all_word} with none bad" if needed else ""
    return f"{head}, not below {allowed}{tail}"


def budget_text(entry: dict[str, Any]) -> str:
    """Error budget consumed and the worst burn rate."""
    budget = entry.get("budget")
    if not budget:
        return ""
    parts = []
    if budget.get("consumed") is not None:
        parts.append(f"{_percent(budget['consumed'])} of budget used")
    if budget.get("worst_burn_rate") is not None:
        burn = budget["worst_burn_rate"]
        parts.append(f"worst {budget['burn_window_s'] // 60}-min burn rate {burn:,.0f}×" if burn >= 100 else
                     f"worst {budget['burn_window_s'] // 60}-min burn rate {burn:.3g}×")
    if budget.get("note"):
        parts.append(budget["note"])
    return "; ".join(parts)


def _notes(entry: dict[str, Any]) -> tuple[str, ...]:
    detail = entry.get("detail") or {}
    notes: list[str] = []
    if entry["kind"] == "error_rate" and detail.get("rate_limited_429"):
        notes.append(f"429 rate-limited responses (not errors): {detail['rate_limited_429']:,.0f} "
                     f"({format_ratio(detail.get('rate_limited_ratio'))})")
    if entry["kind"] == "error_rate" and detail.get("no_5xx_series"):
        notes.append("no 5xx series exists for this selector: zero errors")
    if entry["kind"] == "throughput" and detail.get("lowest_1m_rate") is not None:
        notes.append(f"lowest 1-minute rate: {format_value(detail['lowest_1m_rate'], '1/s')} "
                     f"over {detail.get('minutes', 0)} minutes")
    if entry["kind"] == "availability" and detail.get("slices"):
        notes.append(f"{detail['slices']} slices of {detail['slice_seconds']}s: the finest step this window can "
                     f"show is {format_ratio(detail['resolution'])}")
        for bad in detail.get("bad_slices", [])[:10]:
            notes.append(f"bad slice ending {rfc3339(bad['end'])}: {bad['reason']}")
        if len(detail.get("bad_slices", [])) > 10:
            notes.append(f"… and {len(detail['bad_slices']) - 10} more bad slices")
    for key in ("warn_note", "chart_error", "burn_error", "lowest_1m_error"):
        if detail.get(key):
            notes.append(str(detail[key]))
    if not entry.get("required", True):
        notes.append("optional objective: shown, but it does not decide the gate")
    return tuple(notes)


def build_context(doc: dict[str, Any]) -> ReportContext:
    """The view model for a ``verdict.json`` document."""
    if not isinstance(doc, dict):
        raise UnsupportedDocument(f"not a loadgate verdict (a JSON {json_type(doc)}, not an object)")
    version = doc.get("schema_version")
    if version != SUPPORTED_SCHEMA:
        raise UnsupportedDocument(f"schema_version {version!r}; this loadgate reads "
                                  f"{SUPPORTED_SCHEMA}")
    try:
        rows = []
        for entry in doc["objectives"]:
            icon, label = STATUS_LABELS[entry["status"]]
            rows.append(Row(
                id=entry["id"], title=entry["title"], kind=entry["kind"], required=entry.get("required", True),
                status=entry["status"], icon=icon, label=label, target=target_text(entry),
                measured=_measured_text(entry), margin=_margin_text(entry), evidence=evidence_text(entry),
                budget=budget_text(entry), reason=entry.get("reason", ""), notes=_notes(entry),
                queries=tuple(entry.get("queries") or ()), client=_client_text(entry),
                baseline=baseline_text(entry), regressed=bool((entry.get("baseline") or {}).get("regressed")),
            ))
        icon, label = STATUS_LABELS[doc["verdict"]]
        window = doc["window"]
        info = doc.get("source_info") or {}
        source_detail = tuple(f"{k}: {v}" for k, v in info.items() if v not in (None, ""))
        return ReportContext(
            verdict=doc["verdict"], icon=icon, label=label, reason=doc.get("reason", ""),
            spec_name=doc["spec"]["name"], spec_path=doc["spec"]["path"], spec_text=doc["spec"].get("text", ""),
            window_start=window["start"], window_end=window["end"],
            window_text=_window_text(window["seconds"]), source=doc["source"], source_detail=source_detail,
            selector=doc.get("selector", ""), generated_at=doc.get("generated_at", ""),
            tool_version=doc.get("tool", {}).get("version", ""), exit_code=doc["exit_code"], rows=tuple(rows),
            options=dict(doc.get("options") or {}),
            baseline_path=(doc.get("baseline") or {}).get("path", ""),
            baseline_verdict=(doc.get("baseline") or {}).get("verdict") or "",
            warnings=warnings(doc), run_facts=run_facts(doc.get("run") or {}),
            incomplete=_incomplete_text(doc.get("interrupted")),
            invalid=_invalid_text(doc.get("validity"), enforced=True),
            run_id=doc.get("run_id", ""), host=(doc.get("run") or {}).get("host", ""),
            endpoint_rows=endpoint_rows(doc.get("breakdown") or {}, (doc.get("baseline") or {}).get("endpoints")),
            evidence_rows=tuple((e["title"], budget_text(e) or "n/a", demonstration(e)) for e in doc["objectives"]
                                if e.get("evidence")),
            tier_rows=tier_rows(doc.get("breakdown") or {}, (doc.get("run") or {}).get("tier_limits_per_min") or {}),
            alerts_text=_alerts_text(doc), alert_rows=_alert_rows(doc.get("alerts") or ()),
            alert_cases=_alert_cases(doc.get("alert_rules")),
            drill=bool((doc.get("alert_rules") or {}).get("expected")),
            alerting_ids=tuple((doc.get("alert_rules") or {}).get("windows") or ()),
        )
    except KeyError as exc:
        raise UnsupportedDocument(f"not a loadgate verdict: the field {exc} is missing") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise UnsupportedDocument(f"not a loadgate verdict: a field of the wrong type ({exc})") from None


def _alerts_text(doc: dict[str, Any]) -> str:
    """How the alerts were watched and what was expected of them, in one sentence."""
    rules = doc.get("alert_rules")
    if not isinstance(rules, dict):
        return ""
    expected = rules.get("expected")
    want = "no expectation" if expected is None else "expected: none" if not expected else \
        "expected: " + ", ".join(f"{slo}:{sev}" for slo, sev in expected)
    fired = len(doc.get("alerts") or ())
    text = (f"ErrorBudgetBurn rules from the spec ({rules.get('file', 'alert-rules.yaml')}) ran in the local "
            f"Prometheus with the period scaled to {rules.get('period', '?')}; /api/v1/alerts polled "
            f"{rules.get('polls', 0)} times; {fired} firing span{'s' if fired != 1 else ''}; {want}.")
    if rules.get("unread"):
        text += f" {rules['unread']}."
    for failure in rules.get("failures") or ():
        text += f" {failure}."
    return text


def _alert_cases(rules: Any) -> tuple[tuple[str, str], ...]:
    """The ``--expect-alerts`` expectations as (name, failure) pairs for JUnit; empty without any."""
    if not isinstance(rules, dict) or rules.get("expected") is None:
        return ()
    failures = [str(f) for f in rules.get("failures") or ()]
    unread = str(rules.get("unread") or "")
    if not rules["expected"]:
        return (("alerts: none fires", unread or "; ".join(failures)),)
    cases = []
    for slo, severity in rules["expected"]:
        mine = [f for f in failures if f"{slo}:{severity}" in f]
        cases.append((f"alert {slo}:{severity} fires", unread or "; ".join(mine)))
    return tuple(cases)


def _alert_rows(spans: Any) -> tuple[tuple[str, str, str, str, str, str], ...]:
    rows = []
    for s in spans:
        seconds = float(s.get("last_firing_unix", 0)) - float(s.get("first_firing_unix", 0))
        graded = "yes" if s.get("graded", True) else "no (outside the graded window)"
        if "expected" in s:
            graded += ", expected" if s["expected"] else ", not expected"
        rows.append((str(s.get("slo", "")), str(s.get("severity", "")), str(s.get("first_firing", "")),
                     str(s.get("last_firing", "")), f"{seconds:.0f} s", graded))
    return tuple(rows)


def _invalid_text(validity: Any, *, enforced: bool) -> str:
    """``INVALID RUN: achieved_rate: …`` when the run's failed checks were (``enforced``) or were
    not (allowed with ``--allow-invalid``) applied; empty for a valid run or another case."""
    if not isinstance(validity, dict) or validity.get("valid", True):
        return ""
    if bool(validity.get("enforced", True)) != enforced:
        return ""
    failed = "; ".join(f"{c.get('id')}: {c.get('reason')}" for c in validity.get("checks") or ()
                       if isinstance(c, dict) and c.get("status") == "invalid")
    return f"INVALID RUN: the load was not delivered as asked ({failed})"


def _incomplete_text(interrupted: Any) -> str:
    """``INCOMPLETE: stopped by SIGTERM at …; graded up to it`` for an interrupted run."""
    if not isinstance(interrupted, dict):
        return ""
    return (f"INCOMPLETE: stopped by {interrupted.get('signal', 'a signal')} at {interrupted.get('at', '?')}; the "
            "window up to it is graded below, and the verdict is inconclusive")


def json_type(value: Any) -> str:
    """JSON's name for a parsed value's type: ``list``, ``null``, ``number``..."""
    if value is None:
        return "null"
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")


def warnings(doc: dict[str, Any]) -> tuple[str, ...]:
    """What should make a reader doubt the numbers: no data, missing buckets, an overloaded or
    short-handed load generator, a rate below target, objectives the source could not grade."""
    out: list[str] = []
    run = doc.get("run") or {}
    for entry in doc["objectives"]:
        reason = entry.get("reason", "")
        problem = entry["problem"] if "problem" in entry else _problem_before_codes(entry)
        if entry["status"] == "no_data":
            out.append(f"No data for {entry['title']}: {reason}")
        elif problem == MISSING_BUCKET:
            out.append(f"Missing bucket for {entry['title']}: {reason}")
        elif problem == NEEDS_PROMETHEUS:
            out.append(f"{entry['title']} skipped: {reason}")
    for entry in doc["objectives"]:
        client = entry.get("client") or {}
        server, seen = entry.get("measured"), client.get("measured")
        if entry["kind"] != "latency":
            continue
        if entry.get("status") in ("pass", "warn") and client.get("status") == "fail":
            corrected = "measured_from" in (client.get("detail") or {})
            out.append(f"{entry['title']} passes at the server but fails for the clients"
                       f"{' (timed from their intended sends)' if corrected else ''}: "
                       f"{format_duration(seen)} against {format_duration(server)}. Requests waited before "
                       "the server saw them: coordinated omission in a closed loop, a queue in front of the "
                       "service, or too few load-generator users (--users).")
        elif server and seen and seen >= 2 * server:
            out.append(f"Client-side {entry['title']} ({format_duration(seen)}) is {seen / server:.1f}× the "
                       f"server's ({format_duration(server)}): time spent queueing, on the network or in an "
                       "overloaded load generator.")
    allowed = _invalid_text(doc.get("validity"), enforced=False)
    if allowed:
        out.append(f"{allowed}; graded anyway (--allow-invalid), so the verdict may blame the service for the "
                   "load generator")
    model = run.get("model")
    if model in ("closed", "mixed"):
        # Series written before the closed classes were recorded name them all when every one was closed.
        closed = run.get("closed_user_classes") or (run.get("user_classes") if model == "closed" else None)
        plain = ", ".join(closed or ()) or "plain Locust users"
        out.append(f"The arrival rate was not controlled: {plain} ran closed-loop"
                   f"{' beside open-model users' if model == 'mixed' else ''}, each sending only after its last "
                   "response, so a slow service gets fewer requests and their latency undercounts what clients "
                   "would see (coordinated omission). Subclass scenarios.OpenModelUser to send at --rate.")
    if run.get("loadgen_cpu_over_90"):
        out.append("The load generator's CPU went above 90 %: it may have limited the rate and inflated "
                   "client-side latency. Add worker processes (--processes) or machines.")
    if run.get("processes", 1) > 1 and run.get("workers", 0) < run["processes"]:
        out.append(f"Workers lost: {run.get('workers', 0)} of {run['processes']} worker processes reported.")
    target = run.get("target_rate")
    achieved = next((e.get("client", e).get("measured") for e in doc["objectives"] if e["kind"] == "throughput"),
                    None)
    if target and achieved is not None and achieved < 0.9 * target:
        out.append(f"The achieved rate {format_value(achieved, '1/s')} is below 90 % of the requested "
                   f"{format_value(target, '1/s')}.")
    return tuple(out)


def _problem_before_codes(entry: dict[str, Any]) -> str | None:
    """The problem code of an objective stored before ``verdict.json`` carried codes (the only
    time a reason's wording is read: those records have nothing else to go by)."""
    if entry.get("status") != "inconclusive":
        return None
    reason = entry.get("reason", "")
    return MISSING_BUCKET if "add a bucket" in reason else NEEDS_PROMETHEUS if "needs Prometheus" in reason else None


def endpoint_rows(breakdown: dict[str, Any],
                  baseline: dict[str, dict[str, Any]] | None = None) -> tuple[tuple[str, ...], ...]:
    """Endpoint | Requests | Rate | p50 | p99 | Failures | 429s (client side) [| p99 vs baseline]."""
    rows = []
    for r in breakdown.get("endpoints", []):
        row: tuple[str, ...] = (r["endpoint"], f"{r['requests']:,.0f}", format_value(r["rate"], "1/s"),
               f"≈ {format_duration(r['p50'])}" if r.get("p50") is not None else "n/a",
               f"≈ {format_duration(r['p99'])}" if r.get("p99") is not None else "n/a",
               f"{r.get('failure', 0):,.0f}", f"{r.get('rate_limited', 0):,.0f}")
        if baseline is not None:
            old = baseline.get(r["endpoint"])
            if old is None or old.get("relative") is None:
                row += ("not in the baseline" if old is None else "n/a",)
            else:
                flag = " ✘ regression" if old["regressed"] else ""
                row += (f"{format_duration(old['p99'])} → {format_duration(r.get('p99'))} "
                        f"({_percent(old['relative'], signed=True)}){flag}",)
        rows.append(row)
    return tuple(rows)


def tier_rows(breakdown: dict[str, Any], limits: dict[str, int]) -> tuple[tuple[str, ...], ...]:
    """Tier | API keys | Requests | Accepted per key | Limit | 429s | Failures | Enforcement (client side).

    A key is a client: a closed-model Locust user holds one, an open-model key sends on its own schedule.

    Enforcement held when in-limit users saw no 429 and over-limit users were refused.
    """
    rows = []
    for r in breakdown.get("tiers", []):
        tier = r["tier"]
        over = tier.endswith(contract.OVER_LIMIT_SUFFIX)
        limit = limits.get(tier.removesuffix(contract.OVER_LIMIT_SUFFIX))
        refused = r.get("http_429", 0)
        if over:
            held = "✔ refused over the limit" if refused else "✘ never refused"
        else:
            held = "✔ no 429s" if not refused else "✘ 429s for in-limit users"
        accepted = r.get("accepted_per_user_per_min")
        rows.append((tier.replace("_", " "), str(r.get("users", 0)), f"{r['requests']:,.0f}",
                     f"{accepted:,.1f}/min" if accepted is not None else "n/a",
                     f"{limit}/min" if limit else "n/a", f"{refused:,.0f}", f"{r.get('failure', 0):,.0f}", held))
    return tuple(rows)


def run_facts(run: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The run's metadata as (label, value) pairs; empty for a plain gate."""
    if not run:
        return ()
    facts = [("Host", run.get("host", "")), ("Shape", f"{run.get('shape', '')} to {run.get('target_rate', 0):g} "
                                                       f"req/s for {run.get('duration_s', 0):g}s, "
                                                       f"ramp-up {run.get('rampup_s', 0):g}s"),
             ("Workers", str(run.get("workers", ""))), ("Load model", _load_model_text(run)),
             ("Client latency", _client_latency_text(run.get("client_latency"))),
             ("Requests (Locust)", f"{run.get('requests', 0):,} with {run.get('failures', 0):,} failures"),
             ("Command", " ".join(run.get("command") or [])), ("Git sha", run.get("git_sha") or "unknown"),
             ("Versions", ", ".join(f"{k} {v}" for k, v in (run.get("versions") or {}).items()))]
    return tuple((k, str(v)) for k, v in facts if v)


def _load_model_text(run: dict[str, Any]) -> str:
    """``open: arrival rate controlled, concurrency 40 users`` (empty for records without it)."""
    model, users = run.get("model"), run.get("concurrency")
    if not model:
        return ""
    what = {"open": "open: arrival rate controlled", "closed": "closed: plain Locust users, rate not controlled",
            "mixed": "mixed: open-model and plain Locust users"}.get(model, model)
    locustfile = f", {run['locustfile']}" if run.get("locustfile") else ""
    return f"{what}, concurrency {users} users{locustfile}" if users else f"{what}{locustfile}"


def _client_latency_text(latency: dict[str, Any] | None) -> str:
    """p50/p90/p99 as sent and from the intended sends, and the late share (empty without open-model requests)."""
    if not latency:
        return ""

    def three(figures: dict[str, Any]) -> str:
        return " / ".join(format_duration(figures[p]) if figures.get(p) is not None else "n/a"
                          for p in ("p50", "p90", "p99"))

    late = latency["late"]
    return (f"p50 / p90 / p99 as sent {three(latency['measured'])}; from the intended sends (corrected for "
            f"coordinated omission) {three(latency['corrected'])}; {format_ratio(late['fraction'])} of requests "
            f"sent over {format_duration(late['threshold_s'])} late ({late['count']:,.0f})" + _dropped_text(latency))


def _dropped_text(latency: dict[str, Any]) -> str:
    dropped = latency.get("dropped") or {}
    if not dropped.get("count"):
        return ""
    return (f"; {dropped['count']:,.0f} dropped unsent ({format_ratio(dropped['fraction'])}): no user was free "
            "before --lg-max-late, counted in the corrected latency at the time they waited")


def _window_text(seconds: float) -> str:
    seconds = float(seconds)
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:g} s"
