"""The run's part of the report's view model: its facts, endpoints, tiers and alerts, in words. Pure.

``reports.context`` builds the whole view model and calls these for what a load test adds to a
gate: the run's metadata, the per-endpoint and per-tier tables (client side), the alerts that
fired, and whether the run was interrupted.
"""

from __future__ import annotations

from typing import Any, Mapping

import contract
from slo.record_types import RunRecord, VerdictRecord
from slo.units import format_duration, format_percent, format_ratio, format_value

__all__ = ["alerts_text", "alert_cases", "alert_rows", "incomplete_text", "endpoint_rows", "tier_rows", "run_facts"]


def alerts_text(record: VerdictRecord) -> str:
    """How the alerts were watched and what was expected of them, in one sentence."""
    rules = record.alert_rules
    if rules is None:
        return ""
    expected = rules.get("expected")
    want = "no expectation" if expected is None else "expected: none" if not expected else \
        "expected: " + ", ".join(f"{slo}:{sev}" for slo, sev in expected)
    fired = len(record.alerts or ())
    text = (f"ErrorBudgetBurn rules from the spec ({rules.get('file', 'alert-rules.yaml')}) ran in the local "
            f"Prometheus with the period scaled to {rules.get('period', '?')}; /api/v1/alerts polled "
            f"{rules.get('polls', 0)} times; {fired} firing span{'s' if fired != 1 else ''}; {want}.")
    if rules.get("unread"):
        text += f" {rules['unread']}."
    for failure in rules.get("failures") or ():
        text += f" {failure}."
    return text


def alert_cases(rules: Any) -> tuple[tuple[str, str], ...]:
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


def alert_rows(spans: Any) -> tuple[tuple[str, str, str, str, str, str], ...]:
    rows = []
    for s in spans:
        seconds = float(s.get("last_firing_unix", 0)) - float(s.get("first_firing_unix", 0))
        graded = "yes" if s.get("graded", True) else "no (outside the graded window)"
        if "expected" in s:
            graded += ", expected" if s["expected"] else ", not expected"
        rows.append((str(s.get("slo", "")), str(s.get("severity", "")), str(s.get("first_firing", "")),
                     str(s.get("last_firing", "")), f"{seconds:.0f} s", graded))
    return tuple(rows)


def incomplete_text(interrupted: Any) -> str:
    """``INCOMPLETE: stopped by SIGTERM at …; graded up to it`` for an interrupted run."""
    if not isinstance(interrupted, dict):
        return ""
    return (f"INCOMPLETE: stopped by {interrupted.get('signal', 'a signal')} at {interrupted.get('at', '?')}; the "
            "window up to it is graded below, and the verdict is inconclusive")


def endpoint_rows(breakdown: Mapping[str, Any],
                  baseline: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[tuple[str, ...], ...]:
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
                        f"({format_percent(old['relative'], signed=True)}){flag}",)
        rows.append(row)
    return tuple(rows)


def tier_rows(breakdown: Mapping[str, Any], limits: Mapping[str, int]) -> tuple[tuple[str, ...], ...]:
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


def run_facts(run: RunRecord | None) -> tuple[tuple[str, str], ...]:
    """The run's metadata as (label, value) pairs; empty for a plain gate."""
    if run is None:
        return ()
    facts = [("Host", run.host), ("Shape", f"{run.shape} to {run.target_rate:g} req/s for {run.duration_s:g}s, "
                                           f"ramp-up {run.rampup_s:g}s"),
             ("Workers", str(run.workers)), ("Load model", _load_model_text(run)),
             ("Client latency", _client_latency_text(run.client_latency)),
             ("Requests (Locust)", f"{run.requests:,} with {run.failures:,} failures"),
             ("Command", " ".join(run.command)), ("Git sha", run.git_sha or "unknown"),
             ("Versions", ", ".join(f"{k} {v}" for k, v in run.versions.items()))]
    return tuple((k, str(v)) for k, v in facts if v)


def _load_model_text(run: RunRecord) -> str:
    """``open: arrival rate controlled, concurrency 40 users`` (empty for records without it)."""
    model, users = run.model, run.concurrency
    if not model:
        return ""
    what = {"open": "open: arrival rate controlled", "closed": "closed: plain Locust users, rate not controlled",
            "mixed": "mixed: open-model and plain Locust users"}.get(model, model)
    locustfile = f", {run.locustfile}" if run.locustfile else ""
    return f"{what}, concurrency {users} users{locustfile}" if users else f"{what}{locustfile}"


def _client_latency_text(latency: Mapping[str, Any] | None) -> str:
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


def _dropped_text(latency: Mapping[str, Any]) -> str:
    dropped = latency.get("dropped") or {}
    if not dropped.get("count"):
        return ""
    return (f"; {dropped['count']:,.0f} dropped unsent ({format_ratio(dropped['fraction'])}): no user was free "
            "before --lg-max-late, counted in the corrected latency at the time they waited")
