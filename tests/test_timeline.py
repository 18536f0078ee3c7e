"""A drill's timeline from synthetic client series: when each fault's impact began and ended, what it
cost, the ``recovery`` objective graded from it, and the spec keys it reads."""

from __future__ import annotations

import json

import pytest

import contract
from analysis.client_series import parse_series
from analysis.sli import Window
from slo.grade import FAIL, INCONCLUSIVE, NO_DATA, PASS
from slo.loadgate_v1 import load_loadgate_v1
from slo.located import SpecError
from slo.recovery import grade_recovery
from slo.timeline import (
    DONE,
    FAILED,
    FAULT,
    NOT_RECOVERED,
    NOT_RUN,
    RECOVER,
    UNCONFIRMED,
    UNCONFIRMED_NEXT,
    ActionRun,
    build_timeline,
)

HEADER = json.dumps(contract.series_header())
START = 1000.0
SPEC = b"""version: loadgate/v1
name: drill
objectives:
  - {id: p99_latency, kind: latency, percentile: 99, threshold: "< 500ms"}
  - {id: error_rate, kind: error_rate, threshold: "< 1%"}
  - {id: recovery, kind: recovery, threshold: "< 10s"}
"""


def series(seconds: int = 60, rate: int = 100, failing: dict[int, int] | None = None,
           slow: dict[int, int] | None = None):
    """A client series of ``rate`` responses a second from START, ``failing[s]`` of them failed and
    ``slow[s]`` over 500 ms in second s (counted by the snapshot at START + s)."""
    failing, slow = failing or {}, slow or {}
    lines = [HEADER, json.dumps({"event": "test_start", "t": START - 0.5})]
    ok = bad = late = 0
    for s in range(seconds + 1):
        if s:
            bad += failing.get(s, 0)
            ok += rate - failing.get(s, 0)
            late += slow.get(s, 0)
        total = ok + bad
        fast = total - late
        buckets = [fast] * 9 + [total] * 6  # the first nine bounds reach 0.5 s; the slow ones take 0.75 s
        lines.append(json.dumps({
            "t": START + s, "target_rate": rate, "users": {}, "workers": 1,
            "responses": [["/api/items", "pro", "ok", "200", ok], ["/api/items", "pro", "failure", "502", bad]],
            "latency": [["/api/items", "pro", buckets, 0.0]], "cache": {"hit": 0, "miss": 0}}))
    return parse_series(lines)


def spec(text: bytes = SPEC):
    return load_loadgate_v1(text, "drill.yaml")


def fault(at_s: float, action: str = "kill-api:1", status: str = DONE, role: str = FAULT) -> ActionRun:
    planned = START + at_s
    return ActionRun(role, action, action.split(":")[0], at_s, planned,
                     planned if status != NOT_RUN else None, status)


def timeline(actions, s, hold_s: float = 30.0, the_spec=None):
    return build_timeline(actions, s, Window(START, START + 60), the_spec or spec(), START, hold_s)


def test_a_fault_without_impact_recovers_at_once_and_costs_nothing():
    (_, recovery), = timeline([fault(10)], series()).faults
    assert recovery.recovered and recovery.recovery_s == 0
    assert recovery.first_failure_unix is None and recovery.failed_requests == 0 and recovery.budget_spent == 0


def test_recovery_is_the_end_of_the_last_second_that_failed_requests():
    (_, recovery), = timeline([fault(10)], series(failing={11: 50, 12: 50, 13: 50})).faults
    assert recovery.recovery_s == 3 and recovery.recovered_unix == START + 13
    assert recovery.first_failure_unix == START + 11
    # The cost runs to the end of the first window within objectives (13 + 5 s): 8 s of 100 req/s.
    assert (recovery.failed_requests, recovery.requests) == (150, 800)
    # 150 failures of the 1 % the window's 6,000 requests allow.
    assert recovery.budget_spent == pytest.approx(150 / 60)
    assert "recovered 3 s after the fault" in recovery.reason


def test_a_failure_ratio_within_the_error_rate_objective_recovers_at_once_but_is_still_the_faults_cost():
    (_, recovery), = timeline([fault(10)], series(failing={11: 0, 12: 1})).faults  # 1 in 500: 0.2 % < 1 %
    assert recovery.recovery_s == 0 and recovery.failed_requests == 1 and recovery.first_failure_unix == START + 12


def test_without_an_error_rate_objective_any_failed_request_is_outside_the_objectives():
    bare = spec(SPEC.replace(b'  - {id: error_rate, kind: error_rate, threshold: "< 1%"}\n', b""))
    result = timeline([fault(10)], series(failing={12: 1}), the_spec=bare)
    (_, recovery), = result.faults
    assert recovery.recovery_s == 2 and recovery.budget_spent is None
    assert result.criteria[0].startswith("no failed request")


def test_a_p99_over_its_threshold_for_a_few_seconds_delays_recovery():
    (_, recovery), = timeline([fault(10)], series(slow={14: 10, 15: 10})).faults  # 2 % of a 5 s window over 500 ms
    assert recovery.recovery_s == 5 and recovery.failed_requests == 0


def test_a_service_that_never_recovers_is_not_recovered_by_the_end_of_the_run():
    (_, recovery), = timeline([fault(10)], series(failing={s: 100 for s in range(11, 61)})).faults
    assert not recovery.recovered and recovery.recovery_s is None
    assert recovery.reason.startswith(NOT_RECOVERED)
    assert recovery.failed_requests == 5000 and recovery.first_failure_unix == START + 11


def test_a_recovery_with_less_than_the_hold_left_is_unconfirmed_and_says_how_long_it_held():
    (_, recovery), = timeline([fault(10)], series(failing={s: 100 for s in range(11, 46)})).faults
    assert not recovery.recovered and recovery.unconfirmed
    assert recovery.reason.startswith(UNCONFIRMED) and "within objectives for its last 15 s" in recovery.reason


def test_a_recovery_objective_is_inconclusive_when_the_run_ends_inside_the_hold_and_fails_when_still_failing():
    from slo.recovery import UNCONFIRMED_PROBLEM

    spec_ = spec(SPEC)
    objective = next(o for o in spec_.objectives if o.kind == "recovery")
    healthy_late = timeline([fault(40)], series())  # 20 s left of a 30 s hold, no failure at all
    verdict = grade_recovery(objective, healthy_late)
    assert verdict.status == INCONCLUSIVE and verdict.problem == UNCONFIRMED_PROBLEM, verdict.reason
    still_failing = timeline([fault(40)], series(failing={s: 100 for s in range(41, 61)}))
    assert grade_recovery(objective, still_failing).status == FAIL


def test_a_shorter_hold_recovers_within_a_short_run():
    (_, recovery), = timeline([fault(10)], series(failing={s: 100 for s in range(11, 46)}), hold_s=10).faults
    assert recovery.recovery_s == 35


def test_each_fault_is_measured_from_its_own_time_and_one_that_never_ran_has_no_recovery():
    actions = [fault(30, "kill-api:2"), fault(10), fault(50, "cmd:true", NOT_RUN), fault(20, "cmd:true", role=RECOVER)]
    result = timeline(actions, series(failing={11: 10, 31: 10, 32: 10}), hold_s=10)
    assert [a.action for a in result.actions] == ["kill-api:1", "cmd:true", "kill-api:2", "cmd:true"]
    recoveries = [r for _, r in result.faults]
    assert [r.recovery_s if r else None for r in recoveries] == [1, 2, None]
    doc = result.to_json()
    assert doc["events"][1]["role"] == RECOVER and doc["events"][1]["recovery"] is None
    assert doc["events"][0]["recovery"]["recovered_at"] == "1970-01-01T00:16:51Z"
    assert doc["hold_s"] == 10 and doc["window_s"] == 5


def recovery_objective(text: bytes = SPEC):
    return next(o for o in spec(text).objectives if o.kind == "recovery")


def test_the_recovery_objective_passes_on_the_longest_recovery_within_its_threshold():
    result = timeline([fault(10), fault(30, "kill-api:2")], series(failing={11: 10, 31: 10, 32: 10}), hold_s=10)
    verdict = grade_recovery(recovery_objective(), result)
    assert verdict.status == PASS and verdict.measured == 2 and verdict.events == 2
    assert "2 s after kill-api:2 at 30s" in verdict.reason


def test_a_recovery_slower_than_the_threshold_fails():
    verdict = grade_recovery(recovery_objective(), timeline([fault(10)], series(failing={s: 5 for s in range(11, 23)})))
    assert verdict.status == FAIL and verdict.measured == 12 and "misses < 10 s" in verdict.reason


def test_a_fault_never_recovered_from_fails_with_not_recovered_by_the_end_of_the_run():
    result = timeline([fault(10)], series(failing={s: 100 for s in range(11, 61)}))
    verdict = grade_recovery(recovery_objective(), result)
    assert verdict.status == FAIL and verdict.measured is None
    assert verdict.reason.startswith(NOT_RECOVERED)


def test_without_a_fault_the_recovery_objective_has_no_data_and_says_no_fault_was_injected():
    for empty in (None, timeline([], series())):
        verdict = grade_recovery(recovery_objective(), empty)
        assert verdict.status == NO_DATA and "no fault was injected" in verdict.reason


def test_a_fault_whose_command_failed_is_left_out_and_named():
    result = timeline([fault(5, "cmd:false", FAILED), fault(10)], series())
    verdict = grade_recovery(recovery_objective(), result)
    assert verdict.status == PASS and verdict.events == 1 and "left out: cmd:false at 5s failed" in verdict.reason
    alone = grade_recovery(recovery_objective(), timeline([fault(5, "cmd:false", FAILED)], series()))
    assert alone.status == INCONCLUSIVE and "no fault was injected successfully" in alone.reason


def test_a_fault_that_spends_more_than_its_budget_share_fails():
    text = SPEC.replace(b'threshold: "< 10s"}', b'threshold: "< 10s", budget: 50%}')
    result = timeline([fault(10)], series(failing={11: 50}))  # 50 of the 60 failures the window allows
    verdict = grade_recovery(recovery_objective(text), result)
    assert verdict.status == FAIL and "over the 50 % a fault may spend" in verdict.reason
    assert grade_recovery(recovery_objective(text), timeline([fault(10)], series(failing={11: 20}))).status == PASS


@pytest.mark.parametrize("objective, message", [
    ('{id: r, kind: recovery, threshold: "> 90s"}', "upper bounds"),
    ('{id: r, kind: recovery, threshold: "0s"}', "a recovery threshold must be above 0"),
    ('{id: r, kind: recovery, threshold: "< 90s", budget: 150%}', "between 0% and 100%"),
    ('{id: r, kind: recovery, threshold: "< 90s", budget: 0%}', "above 0% and at most 100%"),
    ('{id: r, kind: recovery, threshold: "< 90s", percentile: 99}', "not a field of kind 'recovery'"),
])
def test_a_bad_recovery_objective_is_a_located_error(objective, message):
    with pytest.raises(SpecError) as caught:
        load_loadgate_v1(f"version: loadgate/v1\nname: x\nobjectives:\n  - {objective}\n".encode(), "x.yaml")
    assert message in str(caught.value) and "x.yaml:4" in str(caught.value)


def test_a_recovery_objective_reads_its_threshold_in_seconds_and_its_budget_as_a_share():
    o = recovery_objective(SPEC.replace(b'threshold: "< 10s"}', b'threshold: "< 90s", budget: 25%}'))
    assert (o.target.op, o.target.value, o.budget_share) == ("<", 90.0, 0.25)


def test_the_report_puts_each_action_in_a_row_and_marks_faults_and_recoveries_for_the_charts():
    from reports.timeline_texts import timeline_marks, timeline_rows, timeline_text

    actions = [fault(10), fault(20, "cmd:echo back", role=RECOVER), fault(30, "kill-api:2")]
    doc = timeline(actions, series(failing={11: 50, 12: 50} | {s: 100 for s in range(31, 61)}), hold_s=10).to_json()
    first, recover, never = timeline_rows(doc)
    assert first[:3] == ("10 s", "fault: kill-api:1", "✔ done")
    assert first[4:] == ("+1 s", "after 2 s", "100 of 700", "167 %")
    assert recover[1] == "recover: cmd:echo back" and recover[4:] == ("", "", "", "")
    assert never[5] == "not recovered by the end of the run"
    assert "for 10 s" in timeline_text(doc) and timeline_text(None) == ""
    assert [kind for _, kind in timeline_marks(doc)] == ["fault", "recovered", "recover", "fault"]


def test_with_alert_rules_each_fault_lists_when_each_generated_alert_first_fired_after_it():
    import dataclasses

    from reports.timeline_texts import timeline_rows

    spans = [  # as slo.alerts.spans folds the poller's answers
        {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page", "first_firing": START + 5.0,
         "last_firing": START + 8.0},  # before the fault: not its alert
        {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page", "first_firing": START + 14.5,
         "last_firing": START + 40.0},
        {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "ticket", "first_firing": START + 21.0,
         "last_firing": START + 40.0},
        {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page", "first_firing": START + 50.0,
         "last_firing": START + 55.0},  # a second span of the same alert: the first one counts
        {"alertname": "ErrorBudgetBurn", "slo": "availability", "severity": "page", "first_firing": START + 30.0,
         "last_firing": START + 48.0},  # still firing when the second fault struck
    ]
    actions = [fault(10), fault(12, "cmd:echo back", role=RECOVER), fault(45, "kill-api:2")]
    plain = timeline(actions, series(failing={s: 50 for s in range(11, 16)}), hold_s=10)
    assert [e["alerts"] for e in plain.to_json()["events"]] == [None, None, None]  # no --alert-rules
    doc = dataclasses.replace(plain, alert_spans=tuple(spans)).to_json()
    first, recover, later = doc["events"]
    assert [(a["slo"], a["severity"], a["after_s"], a["already_firing"]) for a in first["alerts"]] == [
        ("error_rate", "page", 4.5, False), ("error_rate", "ticket", 11.0, False),
        ("availability", "page", 20.0, False)]
    assert first["alerts"][0]["first_firing"] == "1970-01-01T00:16:54.500Z"
    assert recover["alerts"] is None  # a recovery action is no fault
    assert [(a["slo"], a["after_s"], a["already_firing"]) for a in later["alerts"]] == [
        ("availability", -15.0, True), ("error_rate", 5.0, False)]
    rows = timeline_rows(doc)
    assert rows[0][3] == "alerts: error_rate:page +4.5 s, error_rate:ticket +11 s, availability:page +20 s"
    assert rows[2][3] == "alerts: availability:page already firing, error_rate:page +5 s"


def test_a_later_fault_is_charged_to_itself_not_to_the_one_before_it():
    # The first fault's failures end at 13 and it holds from there; the second, at 45, fails 46-48.
    failing = {11: 50, 12: 50, 13: 50, 46: 50, 47: 50, 48: 50}
    first, second = (r for _, r in timeline([fault(10), fault(45)], series(failing=failing), hold_s=10).faults)
    assert first.recovery_s == 3 and second.recovery_s == 3
    assert first.failed_requests == 150 and second.failed_requests == 150


def test_a_fault_still_failing_when_the_next_one_strikes_is_unconfirmed_and_costs_only_up_to_it():
    failing = {s: 100 for s in range(11, 60)}
    first, second = (r for _, r in timeline([fault(10), fault(20)], series(failing=failing)).faults)
    assert not first.recovered and first.unconfirmed and first.cut_short
    assert first.reason.startswith(UNCONFIRMED_NEXT) and "struck 10 s after it" in first.reason
    assert first.at_least_s == 6
    assert first.failed_requests == 1000  # 11-20 only; 21 on is the second fault's
    assert not second.recovered and not second.unconfirmed and second.failed_requests == 3900  # 21-59


def test_faults_in_the_same_second_are_one_incident_with_one_recovery():
    both = timeline([fault(10, "kill-api:1"), fault(10, "kill-api:2")], series(failing={11: 50, 12: 50}))
    (_, first), (_, second) = both.faults
    assert first == second and first.recovery_s == 2


def test_an_unconfirmed_recovery_already_longer_than_the_threshold_fails_the_objective():
    objective = next(o for o in spec().objectives if o.kind == "recovery")  # < 10 s
    # Outside the objectives from 11 to 34, the next fault at 35: at least 20 s, over 10 s whatever came next.
    long_out = timeline([fault(10), fault(35)], series(failing={s: 100 for s in range(11, 35)}))
    verdict = grade_recovery(objective, long_out)
    assert verdict.status == FAIL, verdict.reason
    # Outside for 3 s when the next fault struck 5 s later: it cannot say, so inconclusive, with advice.
    short_out = timeline([fault(10), fault(15)], series(failing={11: 100, 12: 100, 13: 100}))
    verdict = grade_recovery(objective, short_out)
    assert verdict.status == INCONCLUSIVE and "space the faults further apart" in verdict.reason
