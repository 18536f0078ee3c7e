"""Alerts proven under load (``--alert-rules``, ``--expect-alerts``): the rules a run loads, and what fired.

``write_alert_rules`` writes the spec's burn-rate rules into the run directory with the period
scaled to the run, for the local Prometheus to evaluate; ``alert_record`` folds the firing spans
an ``AlertWatcher`` saw into what the record stores, with the expectation's failures.
"""

from __future__ import annotations

from typing import Any, TextIO

from analysis.queries import Selector
from analysis.sli import Window
from loadgate.alertwatch import AlertWatcher
from loadgate.errors import UserError
from loadgate.run_plan import SCRAPE_S, RunPlan
from reports.write import write_text
from slo.alerts import check, spans
from slo.rules import RulesError, build_rules, prom_duration, render_rules

__all__ = ["ALERT_PERIOD_PER_GRADED_S", "MIN_ALERT_WINDOW_S", "write_alert_rules", "alert_record"]

#: The scaled period is this many times the graded seconds: the page's long window (1h of 30d)
#: is then half the graded window, so a breach from the start pages within the run.
ALERT_PERIOD_PER_GRADED_S = 360.0
#: No window below four scrapes, so every rate sees several samples.
MIN_ALERT_WINDOW_S = 4 * SCRAPE_S


def write_alert_rules(plan: RunPlan, selector: Selector, stderr: TextIO) -> dict[str, Any]:
    """Write ``alert-rules.yaml`` into the run directory (the spec's rules, the period scaled so the
    page's long window is half the graded window); returns what ``verdict.json``'s ``alert_rules``
    says of them."""
    graded = max(1.0, plan.duration - plan.rampup)
    period = graded * ALERT_PERIOD_PER_GRADED_S
    try:
        rules = build_rules(plan.spec, selector, period_s=period, min_window_s=MIN_ALERT_WINDOW_S)
    except RulesError as exc:
        raise UserError(f"--alert-rules: {exc}") from None
    path = (plan.out_dir / "alert-rules.yaml").resolve()
    write_text(path, render_rules(rules, plan.spec))
    windows = {oid: [{"severity": w.severity, "factor": w.factor, "long": prom_duration(w.long_s),
                      "short": prom_duration(w.short_s)} for w in ws] for oid, ws in rules.windows.items()}
    page = next(iter(windows.values()))[0]
    stderr.write(f"loadgate: alert rules for {', '.join(rules.windows)} loaded into the local Prometheus, period "
                 f"scaled to {prom_duration(int(period))} ({page['severity']} at {page['factor']:g}x over "
                 f"{page['long']} and {page['short']})\n")
    return {"file": path, "period": prom_duration(int(period)), "windows": windows,
            "skipped": dict(rules.skipped)}


def alert_record(alerting: dict[str, Any], watcher: AlertWatcher,
                 expected: tuple[tuple[str, str], ...] | None, window: Window) -> dict[str, Any]:
    """What ``build_record`` needs of the alerts: their firing spans, the expectation and its failures.

    A span outside the graded window (a cold cache missing during the ramp-up, say, or an alert
    that began after the load stopped) is listed with ``graded: false`` and, like the ramp-up
    itself, decides nothing. Each span says whether it was ``expected``."""
    wanted = set(expected or ())
    seen = [{**s, "graded": s["first_firing"] <= window.end and s["last_firing"] >= window.start,
             "since_rampup": s["first_firing"] < window.start,
             "expected": (s["slo"], s["severity"]) in wanted} for s in spans(watcher.polls)]
    unread = None if watcher.answered else \
        "the local Prometheus never answered /api/v1/alerts, so whether alerts fired is unknown"
    return {"spans": seen, "file": alerting["file"].name, "period": alerting["period"],
            "windows": alerting["windows"], "no_rules": alerting["skipped"], "polls": watcher.answered,
            "expected": [list(p) for p in expected] if expected else ([] if expected is not None else None),
            "failures": check(expected, [s for s in seen if s["graded"]]) if expected is not None and not unread
            else [],
            "unread": unread if expected is not None else None}
