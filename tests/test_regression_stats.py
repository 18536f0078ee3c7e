"""The regression test's calibration (slo/regression.py): false alarms at alpha, power where it says so.

Synthetic runs are drawn with a seeded numpy generator: latencies lognormal, counted in the SLO
buckets of ``contract.SLO_BUCKETS`` (a multinomial draw over the buckets' probabilities, exactly
what bucketing that many independent latencies gives); errors Bernoulli. ``bench/bench_regression.py``
uses the same generators over more pairs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from contract import SLO_BUCKETS
from slo.record import load_verdict
from slo.regression import DEFAULT_ALPHA, POWER, VERDICTS, Comparison, Evidence, compare, compare_docs, evidence_of

GOLDEN = Path(__file__).parent / "golden"
PAIRS = 200


def bound(pairs: int = PAIRS, alpha: float = DEFAULT_ALPHA) -> float:
    """The most false alarms' share compatible with alpha: alpha plus three binomial standard errors."""
    return alpha + 3 * math.sqrt(alpha * (1 - alpha) / pairs)


def latency_run(rng: np.random.Generator, n: int, *, median: float = 0.05, sigma: float = 0.8,
                factor: float = 1.0, noise: float = 0.0, quantile: float = 0.99) -> Evidence:
    """One run of ``n`` lognormal latencies (every one times ``factor``; the run's median times
    exp(N(0, noise)) for run-to-run variation), as cumulative SLO bucket counts."""
    m = median * factor * math.exp(rng.normal(0.0, noise) if noise else 0.0)
    cdf = stats.norm.cdf((np.log(np.array(SLO_BUCKETS)) - math.log(m)) / sigma)
    cum = np.cumsum(rng.multinomial(n, np.diff(np.concatenate([[0.0], cdf, [1.0]]))))
    buckets = tuple((b, int(c)) for b, c in zip(SLO_BUCKETS, cum[:-1])) + ((None, int(cum[-1])),)
    return Evidence("latency", "<", None, 60.0, None, n, buckets, quantile, 0.5)


def error_run(rng: np.random.Generator, n: int, *, rate: float = 0.002, factor: float = 1.0,
              noise: float = 0.0, target: float = 0.01) -> Evidence:
    """One run of ``n`` requests, each a 5xx with probability ``rate * factor`` (times exp(N(0, noise)))."""
    p = min(rate * factor * math.exp(rng.normal(0.0, noise) if noise else 0.0), 1.0)
    bad = int(rng.binomial(n, p))
    return Evidence("error_rate", "<", bad / n, 60.0, bad, n, None, None, target)


def verdicts(make, pairs: int, k: int, n: int, *, seed: int, min_effect: float, factor: float = 1.0,
             noise: float = 0.0) -> list[Comparison]:
    """``pairs`` comparisons of a run (times ``factor``) against ``k`` baseline runs, all drawn alike."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(pairs):
        baselines = [make(rng, n, noise=noise) for _ in range(k)]
        out.append(compare("x", make(rng, n, factor=factor, noise=noise), baselines, min_effect=min_effect))
    return out


def share(found: list[Comparison], verdict: str) -> float:
    return sum(c.verdict == verdict for c in found) / len(found)


def test_a_a_latency_runs_from_one_distribution_are_flagged_regressed_no_more_often_than_alpha_allows():
    found = verdicts(latency_run, PAIRS, 1, 20_000, seed=1, min_effect=0.10)
    assert share(found, "regressed") <= bound()
    assert all(c.verdict in VERDICTS and c.dispersion == 1.0 for c in found)
    assert "run-to-run variation was not estimated" in found[0].note


def test_a_a_error_runs_from_one_bernoulli_rate_are_flagged_regressed_no_more_often_than_alpha_allows():
    found = verdicts(error_run, PAIRS, 1, 50_000, seed=2, min_effect=0.50)
    assert share(found, "regressed") <= bound()
    assert share(found, "improved") <= bound()


def test_a_a_with_a_significance_test_alone_stays_within_alpha_when_the_minimum_effect_is_tiny():
    # With the minimum effect near 0 the verdict rests on the p-value alone: this is its calibration.
    found = verdicts(error_run, PAIRS, 1, 50_000, seed=3, min_effect=1e-9)
    assert share(found, "regressed") <= bound()


def test_a_true_20_percent_p99_shift_is_flagged_regressed_in_at_least_80_percent_of_long_enough_runs():
    found = verdicts(latency_run, PAIRS, 1, 20_000, seed=4, min_effect=0.10, factor=1.2)
    # The module itself says these runs see a 20 % slower p99 with power POWER.
    assert all(c.detectable is not None and c.detectable <= 0.20 for c in found)
    assert share(found, "regressed") >= POWER
    assert 0.15 < float(np.median([c.effect for c in found])) < 0.25  # the quantile effect is near +20 %


def test_an_error_rate_that_triples_is_regressed_with_enough_requests_and_inconclusive_with_too_few():
    rng = np.random.default_rng(5)
    base, worse = error_run(rng, 200_000), error_run(rng, 200_000, factor=3.0)
    long = compare("error_rate", worse, [base], min_effect=0.5)
    assert long.verdict == "regressed" and long.significant and long.effect is not None and long.effect > 1.0
    few = compare("error_rate", Evidence("error_rate", "<", 0.006, 10.0, 3, 500, None, None, 0.01),
                  [Evidence("error_rate", "<", 0.002, 10.0, 1, 500, None, None, 0.01)], min_effect=0.5)
    assert few.verdict == "inconclusive" and not few.significant
    assert few.more_time is not None and few.more_time > 1 or "too short" in few.note
    assert "inconclusive" in few.note


def test_an_inconclusive_short_run_says_how_many_times_longer_would_reach_the_power():
    rng = np.random.default_rng(6)
    baselines = [error_run(rng, 200_000) for _ in range(3)]
    short = compare("error_rate", error_run(rng, 2_000), baselines, min_effect=0.5)
    assert short.verdict == "inconclusive" and short.more_time is not None and 2 < short.more_time <= 100
    longer = error_run(rng, int(2_000 * short.more_time * 1.05))
    assert compare("error_rate", longer, baselines, min_effect=0.5).verdict != "inconclusive"


@pytest.mark.parametrize("make, n, noise, min_effect", [(latency_run, 20_000, 0.1, 0.10),
                                                        (error_run, 50_000, 0.3, 0.50)])
def test_several_noisy_baseline_runs_do_not_raise_the_false_alarm_share_as_the_dispersion_is_applied(
        make, n, noise, min_effect):
    found = verdicts(make, PAIRS, 4, n, seed=7, min_effect=min_effect, noise=noise)
    assert share(found, "regressed") <= bound()
    assert float(np.median([c.dispersion for c in found])) > 1.5
    dispersed = next(c for c in found if c.dispersion > 1)
    assert "over-dispersion" in dispersed.method and "Student's t on 3 df" in dispersed.method


def test_without_the_dispersion_noisy_runs_would_raise_false_alarms():
    # The same noisy baselines pooled as if independent (one concatenated baseline run) alarm far too often.
    rng = np.random.default_rng(8)
    alarms = 0
    for _ in range(PAIRS):
        runs = [latency_run(rng, 20_000, noise=0.1) for _ in range(4)]
        pooled = Evidence("latency", "<", None, 240.0, None, 80_000, tuple(
            (le, sum(dict(r.buckets or ())[le] for r in runs)) for le, _ in runs[0].buckets or ()), 0.99, 0.5)
        alarms += compare("x", latency_run(rng, 20_000, noise=0.1), [pooled], min_effect=0.0).verdict == "regressed"
    assert alarms / PAIRS > bound()


def test_a_faster_p99_and_a_lower_error_rate_are_improvements():
    rng = np.random.default_rng(9)
    faster = compare("p99", latency_run(rng, 50_000, factor=0.75), [latency_run(rng, 50_000)], min_effect=0.1)
    assert faster.verdict == "improved" and faster.effect is not None and faster.effect < -0.1
    fewer = compare("err", error_run(rng, 500_000, rate=0.004), [error_run(rng, 500_000, rate=0.01)], min_effect=0.5)
    assert fewer.verdict == "improved"


def test_a_throughput_drop_of_20_percent_is_regressed_and_a_steady_rate_unchanged():
    base = Evidence("throughput", ">=", 100.0, 600.0, None, 60_000, None, None, 80.0)
    drop = compare("tp", Evidence("throughput", ">=", 80.0, 600.0, None, 48_000, None, None, 80.0), [base],
                   min_effect=0.1)
    assert drop.verdict == "regressed" and drop.effect == pytest.approx(-0.2)
    same = compare("tp", Evidence("throughput", ">=", 100.2, 600.0, None, 60_120, None, None, 80.0), [base],
                   min_effect=0.1)
    assert same.verdict == "unchanged" and "conditional binomial" in same.method


def test_availability_with_tolerance_zero_takes_the_targets_allowed_bad_share_as_its_minimum_effect():
    def run(bad: int) -> Evidence:
        return Evidence("availability", ">=", 1 - bad / 1000, 60_000.0, bad, 1000, None, None, 0.99)

    worse = compare("avail", run(40), [run(5)], min_effect=0.0)
    assert worse.verdict == "regressed" and "allowed bad share, 1 %" in worse.note
    assert compare("avail", run(6), [run(5)], min_effect=0.0).verdict in ("unchanged", "inconclusive")


@pytest.mark.parametrize("kind", ["promql_ratio", "promql_value"])
def test_promql_objectives_are_inconclusive_and_never_regressed(kind):
    result = compare("q", Evidence(kind, "<", 9.0, 60.0, None, None, None, None, 1.0),
                     [Evidence(kind, "<", 1.0, 60.0, None, None, None, None, 1.0)], min_effect=0.1)
    assert result.verdict == "inconclusive" and result.method == "no per-event counts"
    assert result.effect == pytest.approx(8.0) and "no per-event counts" in result.note


def test_missing_counts_are_inconclusive_with_the_reason():
    result = compare("e", Evidence("error_rate", "<", 0.5, 60.0, None, None, None, None, 0.01),
                     [Evidence("error_rate", "<", 0.001, 60.0, 1, 1000, None, None, 0.01)], min_effect=0.5)
    assert result.verdict == "inconclusive" and "counts behind it are missing" in result.note


def test_evidence_of_reads_every_kind_of_a_real_v2_verdict_entry():
    doc = json.loads((GOLDEN / "gate-verdict.json").read_text())["verdict.json"]
    seconds = doc["window"]["seconds"]
    found = {o["id"]: evidence_of(o, seconds) for o in doc["objectives"]}
    p99 = found["p99_latency"]
    assert p99.quantile == 0.99 and p99.buckets is not None and p99.buckets[-1] == (None, 21_600_000)
    assert found["error_rate"].bad == 292_378 and found["error_rate"].events == 21_599_943  # 5xx rounded
    assert (found["cache_hit_rate"].bad, found["cache_hit_rate"].events) == (1_512_000, 15_120_000)
    assert (found["availability"].bad, found["availability"].events, found["availability"].target) == (2, 30, 0.9999)
    assert found["throughput"].events == 21_599_943 and found["throughput"].seconds == 1800.0
    assert found["throughput"].op == ">="


def test_evidence_of_reads_a_v1_record_brought_to_v2_by_load_verdict():
    doc = load_verdict(json.loads((GOLDEN / "v1" / "run" / "verdict.json").read_text())).to_json()
    entries = {o["id"]: evidence_of(o, doc["window"]["seconds"]) for o in doc["objectives"]}
    assert entries["p99_latency"].buckets and entries["error_rate"].events
    same = compare_docs(doc, [doc])
    assert list(same) == [o["id"] for o in doc["objectives"] if o.get("measured") is not None]
    assert all(c.verdict in ("unchanged", "inconclusive") for c in same.values())


def test_compare_docs_matches_objectives_by_id_in_the_current_order_and_serialises_to_json():
    doc = json.loads((GOLDEN / "gate-verdict.json").read_text())["verdict.json"]
    slower = json.loads(json.dumps(doc))
    p99 = next(o for o in slower["objectives"] if o["id"] == "p99_latency")
    counts = [c for _, c in p99["detail"]["buckets"]]
    # Move 1 % of the requests from the lowest buckets to over 750 ms.
    p99["detail"]["buckets"] = [[le, c - (216_000 if i < 14 and c >= 216_000 else 0)] if le is not None else [le, c]
                                for i, (le, c) in enumerate(p99["detail"]["buckets"])]
    assert counts[-1] == p99["detail"]["buckets"][-1][1]
    baseline = {**doc, "objectives": list(reversed(doc["objectives"]))[:-1]}  # p50 missing in the baseline
    result = compare_docs(slower, [baseline])
    assert list(result) == [o["id"] for o in doc["objectives"]][1:]
    assert result["p99_latency"].verdict == "regressed" and result["p99_latency"].baseline_runs == 1
    json.dumps({k: c.to_json() for k, c in result.items()}, allow_nan=False)
