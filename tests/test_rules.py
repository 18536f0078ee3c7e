"""``loadgate rules``: burn-rate windows, the naming contract, and promtool's verdict on the output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from analysis.queries import Selector
from slo.rule_tests import expected_alerts
from slo.rules import build_rules, burn_windows, prom_duration
from slo.spec import read_spec
from tests.support.require import missing

REPO = Path(__file__).resolve().parent.parent
SPECS = sorted((REPO / "slo" / "targets").glob("*.yaml")) + sorted((REPO / "tests" / "openslo").glob("*.yaml")) \
    + sorted((REPO / "tests" / "specs").glob("*.yaml"))


def test_the_workbook_windows_for_30_days_and_scaled_by_the_period_as_pyrra_scales_them():
    thirty = [(w.severity, w.factor, w.long_s, w.short_s) for w in burn_windows()]
    assert thirty == [("page", 14.4, 3600, 300), ("page", 6.0, 21600, 1800),
                      ("ticket", 3.0, 86400, 7200), ("ticket", 1.0, 259200, 21600)]
    one_day = [(w.long_s, w.short_s) for w in burn_windows(86400)]
    assert one_day == [(120, 10), (720, 60), (2880, 240), (8640, 720)]
    assert [w.short_s for w in burn_windows(3600, min_window_s=4)] == [4, 4, 10, 30]


@pytest.mark.parametrize("seconds, text", [(3600, "1h"), (300, "5m"), (8640, "2h24m"), (36, "36s"),
                                           (90061, "1d1h1m1s")])
def test_durations_are_written_as_prometheus_composite_durations(seconds, text):
    assert prom_duration(seconds) == text


def test_every_burn_alert_is_error_budget_burn_with_identity_severities_and_the_selectors_labels():
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    rules = build_rules(spec, Selector.parse('job="api", env=~"prod.*"'))
    alerts = [r for g in rules.doc["groups"] for r in g["rules"] if "alert" in r]
    burns = [r for r in alerts if r["alert"] == "ErrorBudgetBurn"]
    assert {r["alert"] for r in alerts} == {"ErrorBudgetBurn", "SLOMetricAbsent"}
    keys = [(r["alert"], *sorted(r["labels"].items())) for r in alerts]
    assert len(keys) == len(set(keys)) == 15  # 5 objectives x page, ticket and absent, no two alike
    assert len(burns) == 10
    assert all(r["labels"]["job"] == "api" and "env" not in r["labels"] for r in alerts)
    page = next(r for r in burns if r["labels"]["slo"] == "error_rate" and r["labels"]["loadgate_severity"] == "page")
    assert page["labels"] == {"slo": "error_rate", "service": "production", "spec": "production",
                              "objective": "error_rate", "job": "api", "loadgate_severity": "page",
                              "severity": "critical"}
    assert {r["labels"]["severity"] for r in burns if r["labels"]["loadgate_severity"] == "ticket"} == {"warning"}
    # The identity and the selector's labels are in the expression too: rules of two services or
    # two jobs loaded together never cross.
    me = '{slo="error_rate", service="production", spec="production", objective="error_rate", job="api"}'
    # Each condition's short window first, as a burn rate: the alert's $value is the current burn rate.
    def burn(w: str) -> str:
        return f"max without (window) (slo:sli_error:ratio_rate{w}{me}) / 0.001"
    assert page["expr"] == (f'({burn("5m")} > 14.4 and {burn("1h")} > 14.4)\nor\n'
                            f'({burn("30m")} > 6 and {burn("6h")} > 6)')
    assert page["annotations"]["title"] == ("{{ $labels.service }}/{{ $labels.slo }}: Error rate (5xx) is burning "
                                            "its error budget (page)")
    assert page["annotations"]["target"] == "< 0.1 %"
    assert "{{ $value | humanize }}x as fast as it may" in page["annotations"]["summary"]
    assert "runbook" in page["annotations"]
    assert [oid for oid, _ in rules.skipped] == ["throughput"]


def test_latency_burns_on_requests_slower_than_the_threshold_bucket():
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    rules = build_rules(spec, Selector.parse('job="api"'), period_s=86400)
    records = {r["record"]: r for g in rules.doc["groups"] if "p99" in g["name"] for r in g["rules"] if "record" in r}
    expr = records["slo:sli_error:ratio_rate10s"]["expr"]
    assert 'http_request_duration_seconds_bucket{job="api",le="0.5"}[10s]' in expr
    assert expr.startswith('((sum(increase(http_request_duration_seconds_count{job="api"}[10s])))')


def test_availability_burns_by_its_share_of_bad_slices_never_by_the_raw_5xx_ratio():
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    rules = build_rules(spec, Selector.parse('job="api"'))
    group = next(g for g in rules.doc["groups"] if g["name"] == "loadgate-production-availability-recordings")
    first = group["rules"][0]
    assert first["record"] == "slo:slice_bad:1m"
    assert "> bool 0.01" in first["expr"] and 'min_over_time(up{job="api"}[60s])' in first["expr"]
    window = next(r for r in group["rules"] if r["record"] == "slo:sli_error:ratio_rate1h")
    assert window["expr"] == ('avg_over_time(slo:slice_bad:1m{slo="availability", service="production", '
                              'spec="production", objective="availability", job="api"}[3600s])')
    alert = next(r for g in rules.doc["groups"] for r in g["rules"] if r.get("labels", {}).get("slo") == "availability"
                 and "alert" in r)
    assert "of 1m slices" in alert["annotations"]["summary"]


def test_a_threshold_metric_burns_by_its_share_of_slices_that_miss_the_comparison():
    spec = read_spec(REPO / "tests" / "openslo" / "quantile.yaml")
    rules = build_rules(spec, Selector(), period_s=30 * 86400)
    strict = next(g for g in rules.doc["groups"] if g["name"] == "loadgate-user-api-p99-under-500ms-strict-recordings")
    assert strict["rules"][0]["record"] == "slo:slice_bad:1m"
    # Its timeSliceTarget is 1: a slice is bad when any of its points (one a scrape) misses p99 < 0.5 s.
    assert strict["rules"][0]["expr"].startswith("avg_over_time((max((histogram_quantile(0.99, ") and \
        strict["rules"][0]["expr"].endswith(") > bool 0.5))[60s:]) > bool 0")
    assert rules.budgets["p99_under_500ms_strict"] == pytest.approx(0.01)
    assert rules.skipped == ()


def test_a_good_ratio_with_no_good_series_at_all_is_a_bad_ratio_of_one():
    spec = read_spec(REPO / "tests" / "openslo" / "user-api.yaml")
    rules = build_rules(spec, Selector(), period_s=30 * 86400)
    p99 = next(r for g in rules.doc["groups"] for r in g["rules"] if r.get("record") == "slo:sli_error:ratio_rate5m"
               and r["labels"]["objective"] == "p99_latency")
    assert p99["expr"].startswith("1 - ((sum(increase(http_request_duration_seconds_bucket{le=\"0.5\", }[300s]))) "
                                  "or vector(0)) / ((")


def test_a_budget_above_one_fourteenth_can_page_never_and_the_expectation_says_so():
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    rules = build_rules(spec, Selector())
    assert expected_alerts(rules, "p50_latency", 1.0) == ["ticket"]
    assert expected_alerts(rules, "error_rate", 0.02) == ["page", "ticket"]
    assert expected_alerts(rules, "error_rate", 0.0025) == ["ticket"]
    assert expected_alerts(rules, "error_rate", 0.0005) == []


def test_rules_tests_need_out_and_a_spec_without_ratios_has_nothing_to_write(cli, tmp_path):
    assert cli("rules", "--tests").code == 2
    spec = tmp_path / "t.yaml"
    spec.write_text("version: loadgate/v1\nobjectives: [{id: t, kind: throughput, threshold: '>= 5/s'}]\n")
    result = cli("rules", "--spec", str(spec))
    assert result.code == 2 and "no objective has a ratio of bad events" in result.err
    assert cli("rules", "--period", "10m").code == 2


@pytest.mark.prometheus
@pytest.mark.parametrize("spec", SPECS, ids=[p.name for p in SPECS])
@pytest.mark.parametrize("extra", [("--selector", 'job="api",env="prod"', "--period", "1d"),
                                   ("--selector", 'job=~"api|web"')], ids=["labels-1d", "regex-30d"])
def test_promtool_lints_the_rules_clean_and_their_tests_pass(cli, tmp_path, spec, extra):
    if shutil.which("promtool") is None:
        missing("promtool is not installed (Debian's prometheus package)")
    if "quantile" in spec.name:
        extra = extra[2:]  # its literal PromQL refuses a selector (tested in test_openslo.py)
    out = tmp_path / "rules.yaml"
    result = cli("rules", "--spec", str(spec), "--out", str(out), "--tests", *extra)
    assert result.code == 0, result.err
    check = subprocess.run(["promtool", "check", "rules", "--lint-fatal", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = tmp_path / "rules.test.yaml"
    names = [t["name"] for t in yaml.safe_load(tests.read_text())["tests"]]
    assert any("breach" in n and "fires nothing" not in n for n in names)
    assert any("healthy" in n and n.endswith("fires nothing") for n in names)
    run = subprocess.run(["promtool", "test", "rules", str(tests)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
