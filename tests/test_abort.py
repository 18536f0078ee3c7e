"""``slo.abort``: when the counts so far make an objective's failure over the planned window certain."""

from __future__ import annotations

import json

import pytest

import contract
from analysis.client_series import BUCKETS, parse_series
from slo.abort import LiveCounts, Plan, cannot_pass, live_counts
from slo.model import Objective, Target

ERROR_RATE = Objective(id="error_rate", title="Error rate", kind="error_rate", target=Target("<", 0.001))
P99 = Objective(id="p99_latency", title="P99 latency", kind="latency", target=Target("<", 0.5), quantile=0.99)
AVAILABILITY = Objective(id="availability", title="Availability", kind="availability", target=Target(">=", 0.9999),
                         slice_seconds=5, slice_max_error_ratio=0.01)
THROUGHPUT = Objective(id="throughput", title="Throughput", kind="throughput", target=Target(">=", 180.0))
CACHE = Objective(id="cache_hit_rate", title="Cache", kind="cache_hit_rate", target=Target(">", 0.8))

#: 100 req/s for 50 s: 5,000 planned requests, an error budget of 5 at < 0.1 %.
PLAN = Plan(rates_per_s=(100.0,) * 50)


def counts(at_s: float, total: float, failures: float = 0.0, slow: float = 0.0,
           per_second: tuple[tuple[float, float], ...] = (), invalid: tuple[str, ...] = ()) -> LiveCounts:
    """Counts with ``slow`` of ``total`` responses over 0.5 s (the rest in the first bucket)."""
    index = BUCKETS.index(0.5)
    buckets = tuple(total - slow if i <= index else total for i in range(len(BUCKETS)))
    return LiveCounts(at_s=at_s, total=total, failures=failures, buckets=buckets, per_second=per_second,
                      invalid=invalid)


def test_the_plan_counts_its_events_and_those_still_to_come():
    plan = Plan(rates_per_s=(10.0, 20.0, 30.0))
    assert plan.window_s == 3 and plan.events == 60
    assert plan.events_after(1) == 50 and plan.events_after(0) == 60 and plan.events_after(3) == 0


def test_more_failures_than_the_whole_windows_error_budget_cannot_pass():
    abort = cannot_pass([ERROR_RATE], PLAN, counts(at_s=3, total=300, failures=6))
    assert abort is not None and abort.objective == "error_rate" and abort.at_s == 3
    assert abort.bad == 6 and abort.allowed == pytest.approx(5.0)
    assert "6 failed requests" in abort.reason and "5,000 requests planned" in abort.reason


def test_failures_within_the_whole_windows_budget_do_not_abort_though_the_ratio_so_far_breaches():
    # 4 of 300 is 1.3 %, far over 0.1 % now; but 4 of the 5,000 planned is within it.
    assert cannot_pass([ERROR_RATE], PLAN, counts(at_s=3, total=300, failures=4)) is None


def test_a_short_error_burst_the_window_absorbs_does_not_abort():
    loose = Objective(id="error_rate", title="Error rate", kind="error_rate", target=Target("<", 0.10))
    # One second of nothing but errors, 3 s in: 100 of 300 (33 %) now, at most 100 of 5,000 (2 %) at the end.
    assert cannot_pass([loose], PLAN, counts(at_s=3, total=300, failures=100)) is None


def test_a_strict_threshold_aborts_on_exactly_the_budget_and_an_inclusive_one_does_not():
    exact = counts(at_s=3, total=300, failures=5)  # 5 of 5,000: exactly 0.1 %
    assert cannot_pass([ERROR_RATE], PLAN, exact) is not None
    inclusive = Objective(id="error_rate", title="Error rate", kind="error_rate", target=Target("<=", 0.001))
    assert cannot_pass([inclusive], PLAN, exact) is None
    assert cannot_pass([inclusive], PLAN, counts(at_s=3, total=300, failures=6)) is not None


def test_more_events_counted_than_planned_raise_the_budget():
    # A generator that sent 10,000 in 3 s (far over the plan) has 10,000 + 4,700 still planned: 14.7 allowed.
    assert cannot_pass([ERROR_RATE], PLAN, counts(at_s=3, total=10_000, failures=14)) is None
    assert cannot_pass([ERROR_RATE], PLAN, counts(at_s=3, total=10_000, failures=15)) is not None


def test_more_slow_requests_than_the_percentiles_budget_cannot_pass():
    # p99 < 500 ms allows 1 % of 5,000 planned: 50 requests over 500 ms.
    assert cannot_pass([P99], PLAN, counts(at_s=5, total=500, slow=50)) is None
    abort = cannot_pass([P99], PLAN, counts(at_s=5, total=500, slow=51))
    assert abort is not None and abort.objective == "p99_latency" and abort.allowed == pytest.approx(50)
    assert "51 requests slower than 0.5s" in abort.reason


def test_a_latency_threshold_between_bucket_bounds_counts_from_the_next_bound_above():
    between = Objective(id="p99", title="P99", kind="latency", target=Target("<", 0.45), quantile=0.99)
    abort = cannot_pass([between], PLAN, counts(at_s=5, total=500, slow=60))
    assert abort is not None and "next bucket bound, 0.5s" in abort.reason


def test_nothing_aborts_during_the_ramp_up():
    assert cannot_pass([ERROR_RATE, P99], PLAN, counts(at_s=0, total=0)) is None
    assert cannot_pass([ERROR_RATE], PLAN, LiveCounts(at_s=0, total=300, failures=300)) is None


def test_nothing_aborts_while_the_generator_cannot_keep_its_schedule():
    late = ("late_requests: 4.0% of requests were sent over 100 ms after their intended time",)
    assert cannot_pass([ERROR_RATE], PLAN, counts(at_s=3, total=300, failures=300, invalid=late)) is None


def test_an_unscheduled_run_aborts_on_no_event_budget():
    closed = Plan(rates_per_s=(0.0,) * 50, scheduled=False)
    assert cannot_pass([ERROR_RATE, P99], closed, counts(at_s=3, total=300, failures=300, slow=300)) is None


def test_throughput_and_cache_hit_rate_never_abort():
    assert cannot_pass([THROUGHPUT, CACHE], PLAN, counts(at_s=10, total=1, failures=1)) is None


def test_an_objective_that_is_not_required_never_aborts():
    optional = Objective(id="error_rate", title="Error rate", kind="error_rate", target=Target("<", 0.001),
                         required=False)
    assert cannot_pass([optional], PLAN, counts(at_s=3, total=300, failures=300)) is None


def test_the_first_objective_in_spec_order_that_cannot_pass_is_named():
    abort = cannot_pass([P99, ERROR_RATE], PLAN, counts(at_s=5, total=500, failures=100, slow=100))
    assert abort is not None and abort.objective == "p99_latency"


def test_one_bad_slice_of_a_window_that_allows_none_cannot_pass_availability():
    # 50 s of 5 s slices: 10 slices; 99.99 % allows no bad one. The first slice had 5 % failures.
    seconds = ((100.0, 5.0),) * 5 + ((100.0, 0.0),) * 2
    abort = cannot_pass([AVAILABILITY], PLAN, counts(at_s=7, total=700, per_second=seconds))
    assert abort is not None and abort.objective == "availability" and abort.bad == 1 and abort.allowed == 0


def test_bad_slices_within_what_the_window_allows_do_not_abort_availability():
    ninety = Objective(id="availability", title="Availability", kind="availability", target=Target(">=", 0.9),
                       slice_seconds=5, slice_max_error_ratio=0.01)
    one_bad = ((100.0, 5.0),) * 5 + ((100.0, 0.0),) * 5
    assert cannot_pass([ninety], PLAN, counts(at_s=10, total=1000, per_second=one_bad)) is None
    two_bad = ((100.0, 5.0),) * 10
    abort = cannot_pass([ninety], PLAN, counts(at_s=10, total=1000, per_second=two_bad))
    assert abort is not None and abort.allowed == 1


def test_an_unfinished_slice_is_not_judged():
    seconds = ((100.0, 50.0),) * 4  # bad so far, but its 5 s are not over
    assert cannot_pass([AVAILABILITY], PLAN, counts(at_s=4, total=400, per_second=seconds)) is None


USERS = "/api/users/{id}"


def _series(failures_per_s: dict[int, int], seconds: int = 12, rate: int = 100, start: float = 1000.0,
            cpu: float = 20.0, very_late: int = 0) -> list[str]:
    """A live open-model series: a snapshot each second, ``rate`` responses a second, those failed."""
    lines = [json.dumps({"format": contract.SERIES_FORMAT, "schema_version": 2}),
             json.dumps({"event": contract.TEST_START, "t": start, "model": "open"})]
    ok = bad = 0
    for s in range(1, seconds + 1):
        bad += failures_per_s.get(s, 0)
        ok += rate - failures_per_s.get(s, 0)
        n = ok + bad
        buckets = [n] * len(BUCKETS)
        lines.append(json.dumps({
            "t": start + s + 0.25, "target_rate": rate, "workers": 1, "cpu": cpu,
            "responses": [[USERS, "pro", "ok", "200", ok], [USERS, "pro", "failure", "503", bad]],
            "latency": [[USERS, "pro", buckets, 0.0]], "corrected": [[USERS, "pro", buckets, 0.0]],
            "cache": {"hit": 0, "miss": 0},
            "late": {"scheduled": n, "late": 0, "very_late": very_late * s, "dropped": 0}}))
    return lines


def test_live_counts_start_at_the_graded_window_so_the_ramp_up_does_not_count():
    # 400 failures in the ramp-up (seconds 2-5), none after: the window from 1006 counts none. The
    # last snapshot (1012.25) reaches 1012: 6 s, at the snapshots at or before each second, as graded.
    series = parse_series(_series({2: 100, 3: 100, 4: 100, 5: 100}))
    live = live_counts(series, 1006.0)
    assert live.at_s == 6 and live.failures == 0 and live.total == 600 and live.invalid == ()
    assert len(live.per_second) == 6 and live.per_second[0] == (100, 0)
    assert cannot_pass([ERROR_RATE], PLAN, live) is None


def test_live_counts_before_the_graded_window_begins_are_empty():
    live = live_counts(parse_series(_series({}, seconds=4)), 1006.0)
    assert live.at_s == 0 and cannot_pass([ERROR_RATE], PLAN, live) is None


def test_live_counts_of_failures_in_the_window_abort_at_the_seconds_counted():
    series = parse_series(_series({7: 10}))
    abort = cannot_pass([ERROR_RATE], PLAN, live_counts(series, 1006.0))
    assert abort is not None and abort.at_s == 6 and abort.bad == 10


def test_a_generator_sending_late_makes_the_live_counts_invalid_and_nothing_aborts():
    series = parse_series(_series({7: 100}, very_late=10))
    live = live_counts(series, 1006.0)
    assert any(reason.startswith("late_requests") for reason in live.invalid)
    assert cannot_pass([ERROR_RATE], PLAN, live) is None


def test_a_saturated_generator_cpu_makes_the_live_counts_invalid():
    live = live_counts(parse_series(_series({7: 100}, cpu=99.0)), 1006.0)
    assert any(reason.startswith("generator_cpu") for reason in live.invalid)


def test_the_planned_window_holds_the_shapes_rate_of_each_whole_graded_second(tmp_path):
    from loadgate.run_plan import RunPlan, planned_window
    from slo.model import Spec

    plan = RunPlan(host="http://127.0.0.1:8000", spec=Spec("loadgate/v1", "t", "t.yaml", ()), out_dir=tmp_path,
                   shape="ramp", rate=200, duration=20, rampup=7)
    # Started at 1000.3: graded from 1008 (the ramp-up's end, rounded up) to 1020 (its end, rounded down).
    planned = planned_window(plan, 1000.3, 1008.0)
    assert planned.rates_per_s == (200.0,) * 12 and planned.events == 2400 and planned.scheduled
    spike = planned_window(RunPlan(host=plan.host, spec=plan.spec, out_dir=tmp_path, shape="spike", rate=100,
                                   duration=60, rampup=10), 1000.0, 1010.0, scheduled=False)
    assert spike.window_s == 50 and spike.events == 50 * 50 + 10 * 50 and not spike.scheduled
