"""OpenSLO documents graded on the backfilled Prometheus: the same verdicts as their loadgate/v1 twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.situations import WINDOW

pytestmark = pytest.mark.prometheus

HERE = Path(__file__).resolve().parent / "openslo"
FORMS = HERE / "forms"
TWIN = Path(__file__).resolve().parent / "specs" / "user-api.loadgate.yaml"


def verdicts(cli, prometheus: str, out: Path, spec: Path, job: str) -> tuple[int, dict[str, dict]]:
    selector = ("--selector", f'job="{job}"') if job else ()
    result = cli("gate", "--prometheus", prometheus, "--start", WINDOW[0], "--end", WINDOW[1],
                 *selector, "--spec", str(spec), "--out", str(out))
    assert result.code in (0, 1, 3), result.err
    doc = json.loads((out / "verdict.json").read_text())
    return result.code, {o["id"]: o for o in doc["objectives"]}


#: What each backfilled situation breaks, by construction (tests/support/situations.py): every other
#: objective passes. Brownout: 2 of 30 minutes at 20 % 5xx is 1.3 % errors over the window, and two bad minutes.
BREAKS = {"healthy": set(), "p99_breach": {"p99_latency"}, "p50_breach": {"p50_latency"},
          "error_breach": {"error_rate"}, "cache_breach": {"cache_hit_rate"},
          "brownout": {"error_rate", "availability"}, "counter_reset": set(), "multi_instance": set()}


@pytest.mark.parametrize("job", sorted(BREAKS))
def test_an_openslo_document_and_its_loadgate_twin_give_the_known_verdicts(cli, prometheus, tmp_path, job):
    code, openslo = verdicts(cli, prometheus, tmp_path / "openslo", HERE / "user-api.yaml", job)
    twin_code, twin = verdicts(cli, prometheus, tmp_path / "twin", TWIN, job)
    # The known answer, not only agreement: both could agree on inconclusive everywhere.
    expected = {oid: "fail" if oid in BREAKS[job] else "pass"
                for oid in ("error_rate", "p99_latency", "p50_latency", "cache_hit_rate", "availability")}
    assert {k: v["status"] for k, v in openslo.items()} == expected
    assert {k: v["status"] for k, v in twin.items()} == expected
    assert code == twin_code == (1 if BREAKS[job] else 0)
    # The same numbers, each side in its own orientation (a good share, or the bad share).
    assert openslo["error_rate"]["measured"] == pytest.approx(twin["error_rate"]["measured"], rel=1e-9)
    for oid in ("p99_latency", "p50_latency"):
        assert openslo[oid]["measured"] == pytest.approx(twin[oid]["detail"]["fraction_at_or_below"], rel=1e-9)
    assert openslo["cache_hit_rate"]["measured"] == pytest.approx(twin["cache_hit_rate"]["measured"], rel=1e-9)
    assert openslo["availability"]["measured"] == pytest.approx(twin["availability"]["measured"], rel=1e-9)


def test_an_outage_fails_loadgate_availability_but_not_the_openslo_slices_which_know_only_5xx(
        cli, prometheus, tmp_path):
    _, openslo = verdicts(cli, prometheus, tmp_path / "openslo", HERE / "user-api.yaml", "outage")
    _, twin = verdicts(cli, prometheus, tmp_path / "twin", TWIN, "outage")
    assert twin["availability"]["status"] == "fail"
    assert openslo["availability"]["status"] == "pass"
    assert openslo["availability"]["detail"]["slices_with_events"] < openslo["availability"]["detail"]["slices"]


def test_threshold_metrics_and_ratio_timeslices_grade_their_slices_from_literal_queries(cli, prometheus, tmp_path):
    out = tmp_path / "quantile"
    result = cli("gate", "--prometheus", prometheus, "--start", WINDOW[0], "--end", WINDOW[1],
                 "--spec", str(HERE / "quantile.yaml"), "--out", str(out))
    doc = json.loads((out / "verdict.json").read_text())
    by_id = {o["id"]: o for o in doc["objectives"]}
    strict, loose, success = by_id["p99_under_500ms_strict"], by_id["p99_under_1s"], by_id["success_by_minute"]
    # p99_breach: 3 % of requests above 500 ms in every minute, none above 1 s.
    assert strict["status"] == "fail" and strict["measured"] == 0.0
    assert (strict["detail"]["slices"], strict["detail"]["bad_slices"], strict["detail"]["step_seconds"]) == \
        (30, 30, 15)
    assert loose["status"] == "pass" and loose["measured"] == 1.0
    # brownout: 2 of 30 minutes at 20 % 5xx, the rest at 0.01 %: the mean of the minutes' ratios.
    assert success["measured"] == pytest.approx((28 * 0.9999 + 2 * 0.8) / 30, abs=2e-3)
    assert success["status"] == "fail"
    assert "approximate" in success["reason"] and success["detail"]["approximation"]
    assert result.code == 1


@pytest.mark.parametrize("form", ["list.yaml", "documents.json"])
def test_a_threshold_metric_by_timeslices_counts_the_minutes_where_enough_points_held(cli, prometheus, tmp_path,
                                                                                      form):
    """brownout: 8 scrapes at 20 % 5xx (00:29:52 to 00:31:52). Each point (every 15 s) reads the 5xx
    ratio of the minute before it, so 10 points miss "< 1 %": every point of the minutes ending
    00:31 and 00:32, and two of the four of the minute ending 00:33. Half a minute is enough for
    one SLO (28 good minutes of 30), three quarters for the other (27 of 30)."""
    code, by_id = verdicts(cli, prometheus, tmp_path / "gate", FORMS / form, "")  # literal PromQL: no selector
    half, most = by_id["calm_minutes_half"], by_id["calm_minutes_most"]
    assert half["measured"] == pytest.approx(28 / 30) and half["status"] == "pass"
    assert most["measured"] == pytest.approx(27 / 30) and most["status"] == "fail"
    assert (half["detail"]["slices"], half["detail"]["bad_slices"], most["detail"]["bad_slices"]) == (30, 2, 3)
    assert half["detail"]["slice_target"] == 0.5 and most["detail"]["step_seconds"] == 15
    assert code == 1


def test_a_threshold_metric_by_ratio_timeslices_is_the_mean_of_the_minutes_shares_of_good_points(
        cli, prometheus, tmp_path):
    """The same brownout: 27 minutes wholly good, two wholly bad, one half good: (27 + 0.5) / 30, under
    the 92 % target."""
    text = (FORMS / "list.yaml").read_text().replace("budgetingMethod: Timeslices", "budgetingMethod: RatioTimeslices")
    spec = tmp_path / "ratio-timeslices.yaml"
    spec.write_text(text)
    _, by_id = verdicts(cli, prometheus, tmp_path / "gate", spec, "")
    for oid in ("calm_minutes_half", "calm_minutes_most"):  # timeSliceTarget is not used by RatioTimeslices
        assert by_id[oid]["measured"] == pytest.approx(27.5 / 30) and by_id[oid]["status"] == "fail"
        assert by_id[oid]["detail"]["budgeting"] == "RatioTimeslices"
