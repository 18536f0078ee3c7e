"""Alerts under load: polls folded into firing spans, ``--expect-alerts`` parsed and checked, and
the gate's decision for a drill. Pure."""

from __future__ import annotations

import pytest

from slo.alerts import ExpectationError, Poll, check, parse_expectations, spans
from slo.gate import decide
from slo.grade import FAIL, Verdict
from slo.model import Objective, Target

PAGE = {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page"}
TICKET = {**PAGE, "severity": "ticket"}


def test_polls_fold_into_one_span_per_alert_from_first_to_last_firing_poll():
    polls = [Poll(10, ()), Poll(11, (PAGE,)), Poll(12, (PAGE, TICKET)), Poll(13, (PAGE, TICKET)), Poll(14, ())]
    assert spans(polls) == [
        {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page", "first_firing": 11,
         "last_firing": 13},
        {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "ticket", "first_firing": 12,
         "last_firing": 13}]


def test_an_alert_that_stops_and_fires_again_later_is_two_spans():
    polls = [Poll(1, (PAGE,)), Poll(2, (PAGE,)), Poll(20, (PAGE,))]
    assert [(s["first_firing"], s["last_firing"]) for s in spans(polls)] == [(1, 2), (20, 20)]


def test_expectations_parse_slo_severity_pairs_or_none_and_refuse_the_rest():
    alerting = ["error_rate", "p99_latency"]
    assert parse_expectations("error_rate:page, p99_latency:ticket", alerting) == \
        (("error_rate", "page"), ("p99_latency", "ticket"))
    assert parse_expectations("none", alerting) == ()
    with pytest.raises(ExpectationError, match="severity page or ticket"):
        parse_expectations("error_rate:critical", alerting)
    with pytest.raises(ExpectationError, match="no alert rules for objective 'throughput'"):
        parse_expectations("throughput:page", alerting)
    with pytest.raises(ExpectationError, match="empty"):
        parse_expectations(" ", alerting)
    with pytest.raises(ExpectationError, match="can never fire"):
        parse_expectations("error_rate:page", alerting, impossible=[("error_rate", "page")])


def test_a_missing_expected_alert_and_any_alert_when_none_was_expected_are_failures():
    seen = spans([Poll(1, (TICKET,))])
    assert check((("error_rate", "page"),), seen) == ["expected alert error_rate:page did not fire"]
    assert check((("error_rate", "ticket"),), seen) == []
    assert check((), seen) == ["alert error_rate:ticket fired although none was expected (--expect-alerts none)"]
    assert check((), []) == []
    early = [{**seen[0], "since_rampup": True}]
    assert "firing since the ramp-up (a cold start?" in check((), early)[0]


def _failed() -> Verdict:
    objective = Objective(id="error_rate", title="Error rate", kind="error_rate", target=Target("<", 0.001))
    return Verdict(objective, FAIL, 0.02, "Error rate 2 % misses < 0.1 %")


def test_a_drill_passes_on_its_alerts_although_the_injected_fault_fails_objectives():
    result = decide([_failed()], drill=True)
    assert (result.status, int(result.exit_code)) == ("pass", 0)
    missed = decide([_failed()], drill=True, alert_failures=("expected alert error_rate:page did not fire",))
    assert (missed.status, int(missed.exit_code)) == ("fail", 1)
    assert decide([_failed()], drill=True, invalid=("achieved_rate: 50 %",)).status == "inconclusive"
    assert decide([_failed()], drill=True, alerts_unread="never answered").status == "inconclusive"


def test_an_alert_when_none_was_expected_fails_an_otherwise_passing_gate():
    objective = Objective(id="e", title="E", kind="error_rate", target=Target("<", 0.001))
    ok = Verdict(objective, "pass", 0.0, "fine")
    result = decide([ok], alert_failures=("alert e:ticket fired although none was expected",))
    assert (result.status, int(result.exit_code)) == ("fail", 1) and "fired although none" in result.reason


def _drill_doc(failures: list[str]) -> dict:
    from tests.test_outputs import fixed_document

    doc = fixed_document()
    doc["alert_rules"] = {"file": "alert-rules.yaml", "period": "2h", "polls": 30,
                          "expected": [["error_rate", "page"]], "failures": failures, "unread": None}
    doc["alerts"] = [{"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page",
                      "first_firing": "2026-01-01T00:20:00Z", "last_firing": "2026-01-01T00:40:00Z",
                      "first_firing_unix": 1767226800.0, "last_firing_unix": 1767228000.0, "graded": True}]
    return doc


def test_junit_of_a_drill_has_a_testcase_per_expected_alert_and_no_failure_for_the_injected_fault():
    from reports.context import build_context
    from reports.render import render_junit, render_markdown
    from slo.record import load_verdict

    ctx = build_context(load_verdict(_drill_doc([])))
    junit = render_junit(ctx)
    assert 'name="alert error_rate:page fires"' in junit and 'failures="0"' in junit
    assert "drill (the injected fault decides nothing)" in junit
    assert "`error_rate` page: 2026-01-01T00:20:00Z → 2026-01-01T00:40:00Z (1200 s; counted: yes)" in \
        render_markdown(ctx)
    missed = render_junit(build_context(load_verdict(_drill_doc(["expected alert error_rate:page did not fire"]))))
    assert 'failures="1"' in missed and 'message="expected alert error_rate:page did not fire"' in missed
