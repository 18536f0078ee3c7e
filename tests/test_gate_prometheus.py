"""``loadgate gate`` against a real Prometheus holding backfilled, known series.

Each situation is its own ``job``; expected values follow from the numbers in
``tests/support/situations.py``, computed independently of the code under test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from analysis.sli import histogram_from_buckets
from tests.support import situations
from tests.support.situations import HEALTHY_LATENCY, MULTI, WINDOW
from tests.support.synthetic import BUCKETS

pytestmark = pytest.mark.prometheus


def gate(cli, prometheus: str, tmp_path: Path, job: str, *extra: str) -> tuple[Any, dict[str, Any]]:
    out = tmp_path / job
    result = cli("gate", "--prometheus", prometheus, "--start", WINDOW[0], "--end", WINDOW[1],
                 "--selector", f'job="{job}"', "--out", str(out), *extra)
    doc = json.loads((out / "verdict.json").read_text())
    return result, doc


def objective(doc: dict[str, Any], oid: str) -> dict[str, Any]:
    return next(o for o in doc["objectives"] if o["id"] == oid)


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {o["id"]: o["status"] for o in doc["objectives"]}


def fraction_at_or_below(latency: tuple[tuple[float, float], ...], bound: float) -> float:
    return sum(share for b, share in latency if b <= bound)


def test_a_healthy_service_passes_all_six_objectives_with_exit_0(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "healthy")
    assert result.code == 0, result.err + result.out
    assert doc["verdict"] == "pass" and doc["exit_code"] == 0
    assert set(statuses(doc).values()) == {"pass"}
    assert len(doc["objectives"]) == 6
    assert objective(doc, "throughput")["measured"] == pytest.approx(12000, rel=1e-9)
    assert objective(doc, "error_rate")["measured"] == pytest.approx(0.0001, rel=1e-9)
    assert objective(doc, "cache_hit_rate")["measured"] == pytest.approx(0.9, rel=1e-9)
    assert objective(doc, "availability")["measured"] == 1.0
    p99 = objective(doc, "p99_latency")
    assert p99["detail"]["fraction_at_or_below"] == pytest.approx(fraction_at_or_below(HEALTHY_LATENCY, 0.5), rel=1e-9)
    assert p99["detail"]["quantile_bucket"] == [0.25, 0.4]
    assert doc["window"] == {"start": WINDOW[0], "end": WINDOW[1], "seconds": 1800.0,
                             "start_unix": situations.START, "end_unix": situations.END}
    assert doc["source"] == "prometheus" and doc["selector"] == 'job="healthy"'
    assert "PASS" in result.out and "P99 latency" in result.out


def test_the_python_quantile_estimate_agrees_with_prometheus_histogram_quantile(cli, prometheus, tmp_path):
    _, doc = gate(cli, prometheus, tmp_path, "multi_instance")
    for oid in ("p50_latency", "p99_latency"):
        entry = objective(doc, oid)
        stored = json.loads((tmp_path / "multi_instance" / entry["series_file"]).read_text())
        from_prometheus = [v for _, v in stored["series"][0]["points"]]
        assert from_prometheus, oid
        # The traffic is steady, so Prometheus's estimate over any rate window equals the window's.
        assert all(v == pytest.approx(entry["measured"], rel=1e-9) for v in from_prometheus), oid


@pytest.mark.parametrize("job, breached", [
    ("p50_breach", "p50_latency"),
    ("p99_breach", "p99_latency"),
    ("error_breach", "error_rate"),
    ("throughput_breach", "throughput"),
    ("cache_breach", "cache_hit_rate"),
])
def test_each_objective_breached_on_its_own_fails_only_that_objective_with_exit_1(cli, prometheus, tmp_path,
                                                                                   job, breached):
    result, doc = gate(cli, prometheus, tmp_path, job)
    assert result.code == 1
    assert doc["verdict"] == "fail"
    failed = {oid for oid, status in statuses(doc).items() if status == "fail"}
    assert failed == {breached}
    assert breached in result.out or objective(doc, breached)["title"] in result.out


def test_a_p99_between_warn_and_threshold_warns_and_passes_unless_fail_on_warn(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "p99_warn")
    assert result.code == 0
    assert objective(doc, "p99_latency")["status"] == "warn"
    assert objective(doc, "p99_latency")["detail"]["fraction_at_or_below_warn"] == pytest.approx(0.98, rel=1e-9)
    strict, strict_doc = gate(cli, prometheus, tmp_path / "strict", "p99_warn", "--fail-on-warn")
    assert strict.code == 1 and strict_doc["verdict"] == "fail"


def test_a_counter_reset_mid_window_measures_the_same_as_no_reset(cli, prometheus, tmp_path):
    _, healthy = gate(cli, prometheus, tmp_path, "healthy")
    result, reset = gate(cli, prometheus, tmp_path, "counter_reset")
    assert result.code == 0
    for oid in ("p50_latency", "p99_latency", "error_rate", "throughput", "cache_hit_rate", "availability"):
        assert objective(reset, oid)["measured"] == pytest.approx(objective(healthy, oid)["measured"], rel=1e-9), oid
        assert objective(reset, oid)["events"] == pytest.approx(objective(healthy, oid)["events"], rel=1e-9), oid


def test_several_instances_with_different_latency_merge_exactly(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "multi_instance")
    rates = {i: p.rate for i, p in MULTI.items()}
    total = sum(rates.values())
    expected_under_500 = sum(rates[i] * fraction_at_or_below(p.latency, 0.5) for i, p in MULTI.items()) / total
    p99 = objective(doc, "p99_latency")
    assert p99["detail"]["fraction_at_or_below"] == pytest.approx(expected_under_500, rel=1e-9)
    # 99.71 % <= 500 ms passes, though instance c alone has only 98 %; only 85.7 % <= 400 ms warns.
    assert p99["status"] == "warn"
    assert p99["detail"]["fraction_at_or_below_warn"] == pytest.approx(150 / 175, rel=1e-9)
    # The quantile estimate is computed on the merged counts, not averaged per instance.
    merged = histogram_from_buckets(
        (b, sum(rates[i] * fraction_at_or_below(p.latency, b) for i, p in MULTI.items()))
        for b in (*BUCKETS, math.inf))
    assert p99["measured"] == pytest.approx(merged.quantile(0.99), rel=1e-9)
    assert objective(doc, "throughput")["measured"] == pytest.approx(total, rel=1e-9)
    assert result.code == 1  # 175 req/s is far below the 10,000 req/s objective
    assert objective(doc, "throughput")["status"] == "fail"


def test_429s_are_not_errors_and_are_reported_separately(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "rate_limited")
    errors = objective(doc, "error_rate")
    assert errors["status"] == "pass"
    assert errors["measured"] == pytest.approx(0.0001, rel=1e-9)
    assert errors["detail"]["rate_limited_ratio"] == pytest.approx(0.05, rel=1e-9)
    assert result.code == 0
    summary = (tmp_path / "rate_limited" / "report.html").read_text()
    assert "429 rate-limited responses (not errors)" in summary


def test_a_service_without_any_5xx_series_has_zero_errors_not_missing_data(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "no_5xx_series")
    errors = objective(doc, "error_rate")
    assert errors["status"] == "pass"
    assert errors["measured"] == 0.0
    assert errors["detail"]["no_5xx_series"] is True
    assert errors["evidence"]["method"] == "rule_of_three"
    assert result.code == 0


def test_an_outage_with_up_at_zero_fails_availability_by_the_bad_slices(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "outage")
    availability = objective(doc, "availability")
    assert availability["status"] == "fail"
    assert availability["measured"] == pytest.approx(27 / 30)
    reasons = {s["reason"] for s in availability["detail"]["bad_slices"]}
    assert reasons == {"target down (up=0)"}
    assert [s["end"] for s in availability["detail"]["bad_slices"]] == [situations.T0 + m * 60 for m in (21, 22, 23)]
    assert result.code == 1


def test_a_brownout_of_503s_while_up_stays_1_fails_availability(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "brownout")
    availability = objective(doc, "availability")
    assert availability["status"] == "fail"
    assert availability["measured"] == pytest.approx(28 / 30)
    assert all(s["reason"].startswith("5xx ratio") for s in availability["detail"]["bad_slices"])
    assert availability["budget"]["worst_burn_rate"] == pytest.approx((2 / 5) / 0.0001, rel=1e-6)
    assert result.code == 1


def test_missing_cache_metrics_are_no_data_and_the_gate_is_inconclusive(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "no_cache_metrics")
    cache = objective(doc, "cache_hit_rate")
    assert cache["status"] == "no_data"
    assert cache["measured"] is None
    assert "cache_hits_total" in cache["reason"]
    assert doc["verdict"] == "inconclusive"
    assert result.code == 3


def test_a_window_with_no_traffic_is_no_data_not_a_pass(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "no_traffic")
    st = statuses(doc)
    for oid in ("p50_latency", "p99_latency", "error_rate", "throughput", "cache_hit_rate"):
        assert st[oid] == "no_data", oid
    assert result.code == 3
    assert doc["verdict"] == "inconclusive"


def test_a_selector_matching_nothing_is_inconclusive(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "no_such_job")
    assert result.code == 3
    assert set(statuses(doc).values()) == {"no_data"}


def test_a_threshold_between_bucket_bounds_is_decided_by_the_quantile_bucket_or_inconclusive(
        cli, prometheus, tmp_path):
    spec = tmp_path / "between.yaml"
    spec.write_text("""version: loadgate/v1
objectives:
  - {id: p99_300ms, kind: latency, percentile: 99, threshold: 300ms}
  - {id: p99_450ms, kind: latency, percentile: 99, threshold: 450ms}
  - {id: p99_200ms, kind: latency, percentile: 99, threshold: 200ms}
""")
    result, doc = gate(cli, prometheus, tmp_path, "healthy", "--spec", str(spec))
    st = statuses(doc)
    assert st == {"p99_300ms": "inconclusive", "p99_450ms": "pass", "p99_200ms": "fail"}
    assert 'le="0.3"' in objective(doc, "p99_300ms")["reason"]
    assert result.code == 1


def test_require_evidence_makes_a_pass_that_30_slices_cannot_demonstrate_inconclusive(cli, prometheus, tmp_path):
    _, plain = gate(cli, prometheus, tmp_path, "healthy")
    availability = objective(plain, "availability")
    assert availability["evidence"]["demonstrated"] is False
    assert availability["evidence"]["events_needed"] == 30000
    result, strict = gate(cli, prometheus, tmp_path / "strict", "healthy", "--require-evidence")
    assert objective(strict, "availability")["status"] == "inconclusive"
    assert objective(strict, "error_rate")["status"] == "pass"  # 21.6M events demonstrate < 0.1 %
    assert result.code == 3


def test_generic_promql_objectives_grade_a_ratio_and_a_value(cli, prometheus, tmp_path):
    spec = tmp_path / "generic.yaml"
    spec.write_text("""version: loadgate/v1
objectives:
  - id: users_ok
    kind: promql_ratio
    good: 'sum(increase(http_requests_total{ {{selector}}, endpoint="/api/users/{id}", code="200"}[{{window}}]))'
    total: 'sum(increase(http_requests_total{ {{selector}}, endpoint="/api/users/{id}"}[{{window}}]))'
    threshold: ">= 99.9%"
  - id: instances
    kind: promql_value
    query: 'count(up{ {{selector}} } == 1)'
    threshold: ">= 2"
    unit: instances
""")
    result, doc = gate(cli, prometheus, tmp_path, "healthy", "--spec", str(spec))
    assert statuses(doc) == {"users_ok": "pass", "instances": "pass"}
    assert objective(doc, "users_ok")["measured"] == pytest.approx(0.9999, rel=1e-9)
    assert objective(doc, "instances")["measured"] == 2
    assert result.code == 0


def test_a_generic_query_prometheus_rejects_is_inconclusive_with_its_error(cli, prometheus, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("""version: loadgate/v1
objectives:
  - {id: broken, kind: promql_value, query: 'sum(rate(x{ {{selector}} }[{{window}}])) +', threshold: "< 1"}
""")
    result, doc = gate(cli, prometheus, tmp_path, "healthy", "--spec", str(spec))
    assert result.code == 3
    assert objective(doc, "broken")["status"] == "inconclusive"
    assert "bad_data" in objective(doc, "broken")["reason"]


def test_every_output_file_is_written_and_report_rerenders_them_without_prometheus(cli, prometheus, tmp_path):
    result, doc = gate(cli, prometheus, tmp_path, "brownout")
    out = tmp_path / "brownout"
    for name in ("verdict.json", "summary.md", "junit.xml", "report.html"):
        assert (out / name).is_file(), name
    series = sorted(p.name for p in (out / "series").iterdir())
    assert series == sorted([f"{o['id']}.json" for o in doc["objectives"]] + ["overview-latency.json"])
    assert doc["overview"][0]["title"] == "Latency p50, p95 and p99"
    for path in (out / "series").iterdir():
        stored = json.loads(path.read_text())
        assert stored["schema_version"] == 1 and stored["series"] and stored["series"][0]["points"]
    before = {name: (out / name).read_text() for name in ("summary.md", "junit.xml", "report.html")}
    for name in before:
        (out / name).unlink()
    again = cli("report", str(out))
    assert again.code == 0
    for name, text in before.items():
        assert (out / name).read_text() == text, name
    html = before["report.html"]
    assert html.count("<svg") == 7  # six objectives and the latency overview
    assert "FAIL" in html and "Availability" in html


def test_junit_marks_a_fail_as_failure_and_no_data_as_error(cli, prometheus, tmp_path):
    import xml.etree.ElementTree as ET

    gate(cli, prometheus, tmp_path, "no_cache_metrics")
    suite = ET.parse(tmp_path / "no_cache_metrics" / "junit.xml").getroot()
    assert suite.get("tests") == "6" and suite.get("errors") == "1" and suite.get("failures") == "0"
    errored = [c.get("name") for c in suite.iter("testcase") if c.find("error") is not None]
    assert errored == ["cache_hit_rate: Cache hit rate"]
    gate(cli, prometheus, tmp_path, "error_breach")
    suite = ET.parse(tmp_path / "error_breach" / "junit.xml").getroot()
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["error_rate: Error rate (5xx)"]


def test_the_last_flag_grades_the_window_ending_now(cli, prometheus, tmp_path):
    out = tmp_path / "last"
    result = cli("gate", "--prometheus", prometheus, "--last", "30m", "--selector", 'job="healthy"',
                 "--out", str(out), clock=lambda: float(situations.END))
    assert result.code == 0, result.err
    doc = json.loads((out / "verdict.json").read_text())
    assert doc["window"]["start"] == WINDOW[0] and doc["window"]["end"] == WINDOW[1]


def test_a_step_small_enough_to_exceed_11000_points_is_chunked(cli, prometheus, tmp_path):
    from analysis.prom import PromConfig, Prometheus
    from analysis.prom_source import PromSource
    from analysis.queries import Metrics, Selector
    from analysis.sli import Window

    prom = Prometheus(PromConfig(prometheus))
    start = situations.T0
    end = situations.T0 + 12_000 + 10  # 12,011 one-second points, over the 11,000 limit
    series = prom.range("vector(1)", start, end, 1)
    assert len(series) == 1
    times = [t for t, _ in series[0][1]]
    assert times == [float(t) for t in range(start, end + 1)]  # whole, no gap or overlap at the seam
    assert prom.queries_run == 2
    source = PromSource(prom, Metrics(), Selector.parse('job="healthy"'), Window(situations.START, situations.END), 1)
    data = source.throughput()
    assert len(data.series[0].points) == 1801
    prom.close()
