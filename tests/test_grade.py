"""Grading one objective, and deciding the gate from all of them. Pure: no Prometheus."""

import math

import pytest

from analysis.sli import NO_EVENTS, NO_SERIES, Problem, SLIData, histogram_from_buckets
from slo.gate import ExitCode, Interruption, decide
from slo.grade import MISSING_BUCKET, grade, meets
from slo.model import Objective, Target


def latency(threshold=0.5, quantile=0.99, warn=None):
    return Objective("p99", "P99 latency", "latency", Target("<", threshold), warn=warn, quantile=quantile)


def hist(*pairs):
    h = histogram_from_buckets([(str(b), c) for b, c in pairs] + [("+Inf", pairs[-1][1])])
    return SLIData(value=h.quantile(0.99), events=h.count, histogram=h,
                   bad=None)


def ratio(kind, op, value, *, warn=None, required=True):
    return Objective(kind, kind.replace("_", " "), kind, Target(op, value), warn=warn, required=required)


def test_latency_passes_exactly_when_the_fraction_under_the_threshold_reaches_the_quantile():
    passing = grade(latency(), hist((0.25, 980), (0.5, 990), (1.0, 1000)))
    assert passing.status == "pass"
    assert passing.detail["fraction_at_or_below"] == 0.99
    failing = grade(latency(), hist((0.25, 980), (0.5, 989), (1.0, 1000)))
    assert failing.status == "fail"
    assert "98.9 % of 1,000 requests took ≤ 500 ms" in failing.reason


def test_latency_less_than_is_graded_as_at_or_below_because_buckets_are_inclusive():
    # Every request sits exactly in the le=0.5 bucket; "< 500ms" still passes.
    assert grade(latency(), hist((0.25, 0), (0.5, 1000))).status == "pass"


def test_a_threshold_between_bounds_passes_fails_or_names_the_bucket_to_add():
    h = ((0.25, 985), (0.4, 995), (0.5, 1000))
    assert grade(latency(threshold=0.45), hist(*h)).status == "pass"   # p99 in (0.25, 0.4]
    assert grade(latency(threshold=0.2), hist(*h)).status == "fail"    # lower bound 0.25 >= 0.2
    undecided = grade(latency(threshold=0.3), hist(*h))
    assert undecided.status == "inconclusive"
    assert 'add a bucket at le="0.3"' in undecided.reason


def test_latency_warns_between_the_warn_and_the_threshold():
    h = hist((0.1, 900), (0.4, 980), (0.5, 1000))
    verdict = grade(latency(warn=0.4), h)
    assert verdict.status == "warn"
    assert verdict.detail["fraction_at_or_below_warn"] == 0.98
    assert grade(latency(warn=0.4), hist((0.1, 900), (0.4, 995), (0.5, 1000))).status == "pass"


def test_a_warn_threshold_that_is_no_bucket_bound_is_noted_when_it_cannot_be_told():
    verdict = grade(latency(warn=0.3), hist((0.25, 980), (0.4, 995), (0.5, 1000)))
    assert verdict.status == "pass"
    assert "cannot be told" in verdict.detail["warn_note"]


def test_float_noise_does_not_fail_a_value_that_meets_its_threshold():
    assert meets(99.99999999999999, Target(">=", 100))
    assert not meets(99.99999999999999, Target(">", 100))
    assert meets(0.0009999999999999, Target("<=", 0.001))
    assert not meets(0.00100001, Target("<=", 0.001))


def test_the_error_rate_gets_evidence_and_an_error_budget():
    objective = ratio("error_rate", "<", 0.001)
    verdict = grade(objective, SLIData(value=0.0002, events=100_000, bad=20, worst_bad_ratio=0.0008))
    assert verdict.status == "pass"
    assert verdict.budget.consumed == pytest.approx(0.2)
    assert verdict.budget.worst_burn_rate == pytest.approx(0.8)
    assert verdict.evidence.demonstrated
    assert verdict.margin == pytest.approx(0.8)


def test_require_evidence_turns_an_undemonstrated_pass_into_inconclusive():
    objective = ratio("availability", ">=", 0.9999)
    data = SLIData(value=1.0, events=30, bad=0)
    assert grade(objective, data).status == "pass"
    strict = grade(objective, data, require_evidence=True)
    assert strict.status == "inconclusive"
    assert "30 events cannot demonstrate it (needs at least 30,000" in strict.reason


def test_lower_bound_objectives_warn_below_their_warn_value():
    objective = ratio("cache_hit_rate", ">", 0.8, warn=0.85)
    assert grade(objective, SLIData(value=0.82, events=100, bad=18)).status == "warn"
    assert grade(objective, SLIData(value=0.9, events=100, bad=10)).status == "pass"
    assert grade(objective, SLIData(value=0.8, events=100, bad=20)).status == "fail"  # strictly above 80 %


def test_missing_data_keeps_its_status_reason_and_problem_code():
    verdict = grade(ratio("throughput", ">=", 10), SLIData(problem=Problem(NO_EVENTS, "no requests in the window"),
                                                          events=0))
    assert (verdict.status, verdict.reason, verdict.measured) == ("no_data", "no requests in the window", None)
    assert verdict.problem == NO_EVENTS


def test_a_threshold_inside_the_quantiles_bucket_is_inconclusive_with_the_missing_bucket_code():
    verdict = grade(latency(threshold=0.3), hist((0.25, 900), (0.5, 1000)))
    assert (verdict.status, verdict.problem) == ("inconclusive", MISSING_BUCKET)
    assert grade(latency(), hist((0.25, 980), (0.5, 990), (1.0, 1000))).problem is None


def v(status, required=True):
    objective = ratio("error_rate", "<", 0.001, required=required)
    if status in ("no_data", "inconclusive"):
        return grade(objective, SLIData(problem=Problem(NO_SERIES, status, status)))
    return grade(objective, SLIData(value={"pass": 0.0, "fail": 0.5}[status], events=10, bad=0))


def test_any_required_failure_fails_the_gate_with_exit_1():
    result = decide([v("pass"), v("fail"), v("no_data")])
    assert (result.status, result.exit_code) == ("fail", ExitCode.FAIL) and result.exit_code == 1


def test_missing_data_on_a_required_objective_is_inconclusive_with_exit_3():
    assert decide([v("pass"), v("no_data")]).exit_code == 3
    assert decide([v("pass"), v("inconclusive")]).exit_code == 3


def test_an_unreachable_source_is_inconclusive_even_if_nothing_failed():
    result = decide([v("pass")], source_error="cannot reach Prometheus")
    assert (result.status, result.exit_code, result.reason) == ("inconclusive", 3, "cannot reach Prometheus")


def test_optional_objectives_never_decide_the_gate():
    assert decide([v("pass"), v("fail", required=False), v("no_data", required=False)]).exit_code == 0
    assert decide([v("fail", required=False)]).exit_code == 3  # nothing required was graded


def test_all_passing_objectives_pass_with_exit_0():
    result = decide([v("pass"), v("pass")])
    assert (result.status, result.exit_code) == ("pass", 0)
    assert result.reason == "all 2 required objectives pass"


def test_a_nan_measurement_is_never_graded_as_a_pass():
    assert not meets(math.nan, Target("<", 1.0))


def test_an_interrupted_run_is_inconclusive_with_the_signals_exit_code_whatever_it_measured():
    stopped = Interruption("SIGTERM", 1_800_000_000.0, ExitCode.TERMINATED)
    for verdicts in ([v("pass")], [v("fail")], [v("pass"), v("no_data")]):
        result = decide(verdicts, interrupted=stopped)
        assert result.status == "inconclusive" and result.exit_code == 143
        assert result.reason.startswith("interrupted by SIGTERM")
