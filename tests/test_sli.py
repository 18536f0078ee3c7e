"""Pure SLI math: histograms as Prometheus reads them, evidence bounds, slices and burn rates."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.sli import (
    BURN_WINDOW_S,
    NO_EVENTS,
    Histogram,
    SLIData,
    availability_sli,
    close,
    evidence,
    grade_slices,
    histogram_from_buckets,
    latency_sli,
    nearest_rank_percentile,
    record_burn,
    rolling_bad_fraction,
    upper_bound_bad_ratio,
    worst_bad_ratio,
)

INF = math.inf
H = histogram_from_buckets([("0.1", 50), ("0.5", 90), ("+Inf", 100)])


@pytest.mark.parametrize("q, expected", [(0.5, 0.1), (0.7, 0.3), (0.9, 0.5), (0.95, 0.5), (0.0, 0.0)])
def test_the_quantile_estimate_interpolates_inside_its_bucket_as_prometheus_does(q, expected):
    assert H.quantile(q) == pytest.approx(expected)


def test_a_quantile_in_the_inf_bucket_returns_the_highest_finite_bound():
    assert H.quantile(0.99) == 0.5


def test_zero_observations_give_nan_and_out_of_range_quantiles_give_infinities():
    empty = histogram_from_buckets([("0.1", 0), ("+Inf", 0)])
    assert math.isnan(empty.quantile(0.5))
    assert H.quantile(-0.1) == -INF and H.quantile(1.1) == INF


def test_the_quantile_bucket_is_the_one_prometheus_interpolates_in():
    assert H.quantile_bucket(0.5) == (0.0, 0.1)
    assert H.quantile_bucket(0.7) == (0.1, 0.5)
    assert H.quantile_bucket(0.99) == (0.5, INF)


def test_the_fraction_at_a_bucket_bound_is_exact_and_none_between_bounds():
    assert H.fraction_at_or_below(0.5) == 0.9
    assert H.fraction_at_or_below(0.1) == 0.5
    assert H.fraction_at_or_below(0.3) is None


def test_bounds_spelled_differently_merge_and_counts_are_made_monotonic():
    h = histogram_from_buckets([("1", 10), ("1.0", 5), ("0.5", 20), ("+Inf", 30)])
    assert h.bounds == (0.5, 1.0, INF)
    assert h.cumulative == (20, 20, 30)  # 15 at le=1 is below 20 at le=0.5: extrapolation noise
    assert not histogram_from_buckets([("0.1", 1), ("0.5", 2)]).valid


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=2, max_size=8),
       st.floats(min_value=0.01, max_value=0.999))
def test_at_a_bucket_bound_the_fraction_rule_and_the_quantile_agree(counts, q):
    bounds = [0.05 * (i + 1) for i in range(len(counts) - 1)] + [INF]
    cumulative, running = [], 0
    for c in counts:
        running += c
        cumulative.append(running)
    h = Histogram(tuple(bounds), tuple(float(c) for c in cumulative))
    if h.count == 0:
        return
    for bound in bounds[:-1]:
        fraction = h.fraction_at_or_below(bound)
        estimate = h.quantile(q)
        # "pQ <= T" holds exactly when the fraction of requests <= T is at least Q.
        if fraction >= q and not close(fraction, q):
            assert estimate <= bound + 1e-9
        if fraction < q and not close(fraction, q):
            assert estimate >= bound - 1e-9


def test_zero_bad_events_use_the_rule_of_three():
    assert upper_bound_bad_ratio(0, 30000) == (0.0001, "rule_of_three")
    assert upper_bound_bad_ratio(0, 0) == (None, "none")


def test_some_bad_events_use_the_wilson_bound_above_the_observed_ratio():
    bound, method = upper_bound_bad_ratio(10, 10000)
    assert method == "wilson"
    assert 0.001 < bound < 0.002
    assert upper_bound_bad_ratio(10, 10000)[0] > upper_bound_bad_ratio(100, 1_000_000)[0]


def test_30000_clean_events_demonstrate_99_99_percent_and_29999_do_not():
    assert evidence(0, 30000, 0.0001).demonstrated
    assert not evidence(0, 29999, 0.0001).demonstrated
    ev = evidence(0, 30, 0.0001)
    assert not ev.demonstrated and ev.events_needed == 30000 and ev.bad_ratio_upper_95 == 0.1


def test_slices_are_bad_when_down_unobserved_or_erroring_and_good_when_idle():
    ends = [60.0, 120.0, 180.0, 240.0, 300.0]
    up = {60.0: 1.0, 120.0: 0.0, 240.0: 1.0, 300.0: 1.0}
    errors = {240.0: 5.0, 300.0: 1.0}
    requests = {60.0: 100.0, 120.0: 100.0, 240.0: 100.0, 300.0: 100.0}
    slices = grade_slices(ends, up, errors, requests, max_error_ratio=0.01)
    assert [s.good for s in slices] == [True, False, False, False, True]
    assert [s.reason for s in slices] == ["", "target down (up=0)", "no up samples", "5xx ratio 5.00%", ""]
    idle = grade_slices([60.0], {60.0: 1.0}, {}, {}, 0.01)
    assert idle[0].good


def test_rolling_bad_fraction_covers_every_run_of_slices():
    assert rolling_bad_fraction([True, False, False, True, True], 2) == [0.5, 1.0, 0.5, 0.0]
    assert rolling_bad_fraction([False], 5) == [1.0]
    assert rolling_bad_fraction([], 5) == []


def test_the_worst_bad_ratio_skips_windows_without_events_or_with_an_unknown_bad_count():
    assert worst_bad_ratio([(1, 1000), (10, 1000), (0, 0), (math.nan, 5)]) == pytest.approx(0.01)
    assert worst_bad_ratio([(0, 0)]) is None


def test_a_window_shorter_than_the_burn_window_is_its_own_burn_window_and_asks_nothing():
    data = SLIData(events=200, bad=3)
    record_burn(data, BURN_WINDOW_S - 1, lambda: pytest.fail("must not fetch windows"))
    assert data.worst_bad_ratio == pytest.approx(0.015)
    assert "shorter than 5 min" in data.detail["burn_note"]
    longer = SLIData(events=200, bad=3)
    record_burn(longer, 3600, lambda: [(1, 100), (4, 100)])
    assert longer.worst_bad_ratio == pytest.approx(0.04) and "burn_note" not in longer.detail


def test_availability_counts_good_slices_and_burns_over_five_minutes_of_them():
    ends = [60.0 * (i + 1) for i in range(10)]
    up = {e: 1.0 for e in ends if e != 180.0}
    slices = grade_slices(ends, up, {240.0: 50.0}, {e: 100.0 for e in ends}, 0.01, no_up="no responses",
                          errors_name="failure ratio")
    data = availability_sli(slices, 60, 0.01, 630.0)
    assert (data.value, data.events, data.bad) == (0.8, 10.0, 2.0)
    assert [s["reason"] for s in data.detail["bad_slices"]] == ["no responses", "failure ratio 50.00%"]
    assert data.detail["unsliced_seconds"] == 30.0
    assert data.worst_bad_ratio == pytest.approx(2 / 5)  # slices 3 and 4 inside one 5-minute run


def test_the_latency_sli_counts_requests_over_a_threshold_only_at_a_bucket_bound():
    hist = histogram_from_buckets([("0.1", 90), ("0.5", 99), ("+Inf", 100)])
    assert latency_sli(hist, 0.99, 0.5).bad == 1
    assert latency_sli(hist, 0.99, 0.3).bad is None
    empty = latency_sli(histogram_from_buckets([("0.1", 0), ("+Inf", 0)]), 0.99, 0.1)
    assert empty.problem is not None and empty.problem.code == NO_EVENTS


def test_nearest_rank_percentiles_are_values_that_were_seen():
    counts = {10.0: 98, 200.0: 1, 900.0: 1}
    assert nearest_rank_percentile(counts, 0.5) == 10.0
    assert nearest_rank_percentile(counts, 0.99) == 200.0
    assert nearest_rank_percentile(counts, 0.999) == 900.0
    assert nearest_rank_percentile({}, 0.5) is None
