"""``loadgate rules``: the identity, labels, severities, routing and names of the rules (issue 25),
and promtool's verdict on two services' files loaded together and on a target that goes away."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from analysis.queries import Selector
from slo.alerts import Poll, alert_key, spans
from slo.rule_tests import rendered
from slo.rules import build_rules
from slo.spec import read_spec
from tests.support.require import missing

REPO = Path(__file__).resolve().parent.parent

SERVICE = """version: loadgate/v1
name: {name}
service: {service}
metrics: {{requests: {service}_requests_total}}
objectives:
  - {{id: availability, kind: availability, threshold: ">= 99.9%"}}
"""

ROUTED = """version: loadgate/v1
name: shop
service: checkout
labels: {team: payments, tier: "1"}
alerting:
  name: CheckoutBurn
  page: {labels: {severity: pager, route: oncall}, annotations: {dashboard: "https://grafana/d/checkout"}}
objectives:
  - id: error_rate
    kind: error_rate
    threshold: "< 1%"
    labels: {component: api}
  - id: p99_latency
    kind: latency
    percentile: 99
    threshold: "< 500ms"
    alerting:
      ticket: {disable: true}
      absent: {for: 2m}
      absent_name: LatencyMetricsAbsent
  - id: cache_hit_rate
    kind: cache_hit_rate
    threshold: "> 80%"
    alerting: false
"""


def _alerts(doc: dict) -> list[dict]:
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def _records(doc: dict) -> list[dict]:
    return [r for g in doc["groups"] for r in g["rules"] if "record" in r]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _promtool() -> None:
    if shutil.which("promtool") is None:
        missing("promtool is not installed (Debian's prometheus package)")


def test_every_record_and_alert_carries_slo_service_spec_and_objective_and_the_users_labels(cli, tmp_path):
    spec = _write(tmp_path, "shop.yaml", ROUTED)
    result = cli("rules", "--spec", str(spec), "--label", "env=prod", "--label", "region=eu-1")
    assert result.code == 0, result.err
    doc = yaml.safe_load(result.out)
    for rule in _records(doc) + _alerts(doc):
        labels = rule["labels"]
        assert labels["service"] == "checkout" and labels["spec"] == "shop" and labels["slo"] == labels["objective"]
        assert (labels["team"], labels["tier"], labels["env"], labels["region"]) == ("payments", "1", "prod", "eu-1")
    errors = [r for r in _records(doc) + _alerts(doc) if r["labels"]["slo"] == "error_rate"]
    assert errors and all(r["labels"]["component"] == "api" for r in errors)
    assert not any("component" in r["labels"] for r in _records(doc) if r["labels"]["slo"] != "error_rate")
    # Group names carry the service and the SLO, as sloth's do.
    assert [g["name"] for g in doc["groups"]][:3] == ["loadgate-checkout-error_rate-recordings",
                                                     "loadgate-checkout-error_rate-meta",
                                                     "loadgate-checkout-error_rate-alerts"]


def test_burn_alerts_carry_loadgate_severity_and_a_routable_severity_that_per_severity_labels_override():
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    plain = _alerts(build_rules(spec, Selector()).doc)
    burns = [a for a in plain if a["alert"] == "ErrorBudgetBurn"]
    assert {(a["labels"]["loadgate_severity"], a["labels"]["severity"]) for a in burns} == {
        ("page", "critical"), ("ticket", "warning")}


def test_alerting_names_routes_disables_and_turns_off_alerts_per_objective(cli, tmp_path):
    spec = _write(tmp_path, "shop.yaml", ROUTED)
    doc = yaml.safe_load(cli("rules", "--spec", str(spec)).out)
    alerts = {(a["alert"], a["labels"]["objective"], a["labels"]["loadgate_severity"]): a for a in _alerts(doc)}
    assert set(alerts) == {("CheckoutBurn", "error_rate", "page"), ("CheckoutBurn", "error_rate", "ticket"),
                           ("SLOMetricAbsent", "error_rate", "ticket"), ("CheckoutBurn", "p99_latency", "page"),
                           ("LatencyMetricsAbsent", "p99_latency", "ticket")}
    page = alerts[("CheckoutBurn", "error_rate", "page")]
    assert page["labels"]["severity"] == "pager" and page["labels"]["route"] == "oncall"
    assert page["annotations"]["dashboard"] == "https://grafana/d/checkout"
    ticket = alerts[("CheckoutBurn", "error_rate", "ticket")]
    assert ticket["labels"]["severity"] == "warning" and "route" not in ticket["labels"]
    assert alerts[("LatencyMetricsAbsent", "p99_latency", "ticket")]["for"] == "2m"
    # alerting: false keeps the records and writes no alert.
    assert any(r["labels"]["objective"] == "cache_hit_rate" for r in _records(doc))
    assert not any(a["labels"]["objective"] == "cache_hit_rate" for a in _alerts(doc))
    records_only = yaml.safe_load(cli("rules", "--spec", str(spec), "--no-alerts").out)
    assert _alerts(records_only) == [] and len(_records(records_only)) == len(_records(doc))


def test_the_runbook_names_no_path_or_command_and_the_same_spec_gives_the_same_file_anywhere(cli, tmp_path):
    one, two = tmp_path / "a", tmp_path / "b" / "deeper"
    two.mkdir(parents=True)
    one.mkdir()
    texts = [cli("rules", "--spec", str(_write(d, "shop.yaml", ROUTED))).out for d in (one, two)]
    assert texts[0] == texts[1]
    for alert in _alerts(yaml.safe_load(texts[0])):
        assert str(tmp_path) not in alert["annotations"]["runbook"] and "loadgate run" not in alert["annotations"][
            "runbook"]


@pytest.mark.parametrize("flag, why", [("team", "expected KEY=VALUE"), ("slo=x", "'slo' is reserved"),
                                       ("loadgate_severity=x", "reserved"), ("severity=x", "reserved"),
                                       ("bad-name=x", "not a Prometheus label name"), ("__name__=x", "not a")])
def test_a_bad_or_reserved_label_flag_exits_2_saying_why(cli, tmp_path, flag, why):
    spec = _write(tmp_path, "shop.yaml", ROUTED)
    result = cli("rules", "--spec", str(spec), "--label", flag)
    assert result.code == 2 and why in result.err, result.err


def test_a_reserved_label_or_a_bad_alert_name_in_the_spec_exits_2_located(cli, tmp_path):
    spec = _write(tmp_path, "bad.yaml", ROUTED.replace("tier: \"1\"", "service: x").replace("CheckoutBurn",
                                                                                            "Checkout-Burn"))
    result = cli("rules", "--spec", str(spec))
    assert result.code == 2
    assert f"{spec}:4: labels.service: 'service' is reserved" in result.err
    assert f"{spec}:6: alerting.name: 'Checkout-Burn' is not a valid alert name" in result.err


def test_a_label_that_clashes_with_the_selectors_exits_2(cli, tmp_path):
    spec = _write(tmp_path, "shop.yaml", ROUTED)
    result = cli("rules", "--spec", str(spec), "--selector", 'team="core"')
    assert result.code == 2 and "clashes with the selector's team='core'" in result.err, result.err


def test_the_drill_reads_the_objective_and_loadgate_severity_whatever_severity_is_routed_to():
    routed = {"alertname": "CheckoutBurn", "slo": "checkout-availability", "objective": "checkout_availability",
              "loadgate_severity": "page", "severity": "critical"}
    assert alert_key(routed) == ("CheckoutBurn", "checkout_availability", "page")
    older = {"alertname": "ErrorBudgetBurn", "slo": "error_rate", "severity": "page"}
    assert alert_key(older) == ("ErrorBudgetBurn", "error_rate", "page")
    seen = spans([Poll(1.0, (routed,)), Poll(2.0, (routed,))])
    assert [(s["slo"], s["severity"]) for s in seen] == [("checkout_availability", "page")]


def test_openslo_labels_service_and_alert_policies_decide_the_alerts(cli):
    result = cli("rules", "--spec", str(REPO / "tests" / "openslo" / "forms" / "every-kind.yaml"))
    assert result.code == 0, result.err
    assert "short window lookbackWindow/12" in result.out
    doc = yaml.safe_load(result.out)
    for rule in _records(doc) + _alerts(doc):
        # The SLO's name exactly as written, its spec.service, and its Service's labels (a list joined with ,).
        assert (rule["labels"]["slo"], rule["labels"]["service"], rule["labels"]["objective"]) == (
            "checkout-availability", "checkout", "checkout_availability")
        assert rule["labels"]["team"] == "payments" and rule["labels"]["tags"] == "tier-1,customer-facing"
    alerts = {a["alert"]: a for a in _alerts(doc)}
    assert set(alerts) == {"PageOnFastBurn", "TicketOnSlowBurn", "SLOMetricAbsent"}  # alertWhenNoData: true
    page = alerts["PageOnFastBurn"]
    assert page["for"] == "5m" and ") / 0.001 > 14.4" in page["expr"]
    assert "slo:sli_error:ratio_rate1h{" in page["expr"] and "slo:sli_error:ratio_rate5m{" in page["expr"]
    assert (page["labels"]["loadgate_severity"], page["labels"]["severity"]) == ("page", "page")
    assert page["annotations"]["notification_targets"] == "payments-pager: pagerduty (The payments on-call rota)"
    slow = alerts["TicketOnSlowBurn"]
    assert "slo:sli_error:ratio_rate3d{" in slow["expr"] and "slo:sli_error:ratio_rate6h{" in slow["expr"]
    assert (slow["labels"]["loadgate_severity"], slow["labels"]["severity"], "for" in slow) == (
        "ticket", "ticket", False)


POLICY = """apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: checkout-availability-burn
  labels: {owner: sre}
spec:
  description: Pages the payments team
  alertWhenNoData: false
  conditions:
    - kind: AlertCondition
      metadata: {name: fast}
      spec:
        severity: critical
        condition: {kind: burnrate, op: gte, threshold: 10, lookbackWindow: 2h, alertAfter: 2m}
  notificationTargets:
    - kind: AlertNotificationTarget
      metadata: {name: pager}
      spec: {target: pagerduty}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  labels: {tier: gold}
spec:
  service: checkout
  indicator:
    metadata: {name: errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code=~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: http_requests_total}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
  alertPolicies: [{alertPolicyRef: checkout-availability-burn}]
"""


def test_an_alert_policy_by_reference_names_labels_and_annotates_its_alert_and_scales_with_period(cli, tmp_path):
    spec = _write(tmp_path, "slo.yaml", POLICY)
    doc = yaml.safe_load(cli("rules", "--spec", str(spec)).out)
    [alert] = _alerts(doc)  # alertWhenNoData: false, so no absent alert
    assert alert["alert"] == "CheckoutAvailabilityBurn" and alert["for"] == "2m"
    assert (alert["labels"]["owner"], alert["labels"]["tier"]) == ("sre", "gold")
    assert (alert["labels"]["loadgate_severity"], alert["labels"]["severity"]) == ("page", "critical")
    assert alert["annotations"]["description"] == "Pages the payments team"
    assert alert["annotations"]["notification_targets"] == "pager: pagerduty"
    assert "ratio_rate2h{" in alert["expr"] and "ratio_rate10m{" in alert["expr"] and ") / 0.001 > 10 " in alert["expr"]
    # --period scales a policy's windows by the period over the SLO's own (28d -> 7d: a quarter).
    week = yaml.safe_load(cli("rules", "--spec", str(spec), "--period", "7d").out)
    [alert] = _alerts(week)
    assert "ratio_rate30m{" in alert["expr"] and "ratio_rate2m30s{" in alert["expr"] and alert["for"] == "30s"


def test_an_openslo_label_that_is_no_prometheus_label_exits_2_located(cli, tmp_path):
    spec = _write(tmp_path, "slo.yaml", POLICY.replace("labels: {tier: gold}", "labels: {team-name: gold}"))
    result = cli("rules", "--spec", str(spec))
    assert result.code == 2
    assert f"{spec}:24: SLO/checkout-availability.metadata.labels.team-name: 'team-name' is not a Prometheus " \
           "label name" in result.err, result.err


def _run_promtool(tests: Path) -> None:
    run = subprocess.run(["promtool", "test", "rules", str(tests)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.prometheus
def test_two_services_with_an_slo_of_the_same_name_never_read_or_page_for_each_other(cli, tmp_path):
    _promtool()
    files = []
    for service in ("checkout", "payments"):
        spec = _write(tmp_path, f"{service}.yaml", SERVICE.format(name=f"{service}-slos", service=service))
        out = tmp_path / f"{service}.rules.yaml"
        result = cli("rules", "--spec", str(spec), "--period", "1d", "--out", str(out))
        assert result.code == 0, result.err
        check = subprocess.run(["promtool", "check", "rules", "--lint-fatal", str(out)], capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        files.append(out)
    checkout = yaml.safe_load(files[0].read_text())
    groups = [g["name"] for f in files for g in yaml.safe_load(f.read_text())["groups"]]
    assert len(groups) == len(set(groups))
    # Checkout fails half its requests; payments is healthy. Both files are loaded together.
    # Every 2m slice is bad: the burn rate ($value) is 1 / the 0.1 % budget.
    burning = [{"exp_labels": a["labels"], "exp_annotations": rendered(a["annotations"], a["labels"], 1000)}
               for a in _alerts(checkout) if a["alert"] == "ErrorBudgetBurn"]
    assert {b["exp_labels"]["loadgate_severity"] for b in burning} == {"page", "ticket"}
    test = {"rule_files": [f.name for f in files], "evaluation_interval": "1m",
            "group_eval_order": groups,
            "tests": [{"interval": "1m",
                       "input_series": [
                           {"series": 'checkout_requests_total{code="500"}', "values": "0+50x60"},
                           {"series": 'checkout_requests_total{code="200"}', "values": "0+50x60"},
                           {"series": 'payments_requests_total{code="200"}', "values": "0+100x60"},
                           {"series": 'payments_requests_total{code="500"}', "values": "0x60"},
                           {"series": "up", "values": "1x60"}],
                       "alert_rule_test": [{"eval_time": "55m", "alertname": "ErrorBudgetBurn",
                                            "exp_alerts": burning}],
                       "promql_expr_test": [{"expr": 'count(slo:sli_error:ratio_rate2m{slo="availability"})',
                                             "eval_time": "55m", "exp_samples": [{"labels": "{}", "value": 2}]},
                                            {"expr": 'slo:sli_error:ratio_rate2m{service="payments"}',
                                             "eval_time": "55m",
                                             "exp_samples": [{"labels": 'slo:sli_error:ratio_rate2m{slo="availability",'
                                                                        'service="payments",spec="payments-slos",'
                                                                        'objective="availability",window="2m"}',
                                                              "value": 0}]}]}]}
    tests = tmp_path / "both.test.yaml"
    tests.write_text(yaml.safe_dump(test, sort_keys=False))
    _run_promtool(tests)


@pytest.mark.prometheus
def test_a_target_down_for_30_minutes_fires_the_absent_alert_after_its_for_and_not_before(cli, tmp_path):
    _promtool()
    spec = _write(tmp_path, "shop.yaml", ROUTED)
    out = tmp_path / "rules.yaml"
    assert cli("rules", "--spec", str(spec), "--period", "1d", "--out", str(out), "--tests").code == 0
    _run_promtool(tmp_path / "rules.test.yaml")  # the generated tests include no series at all
    absent = {a["labels"]["objective"]: a for a in _alerts(yaml.safe_load(out.read_text()))
              if a["alert"] in ("SLOMetricAbsent", "LatencyMetricsAbsent")}
    expected = [{"exp_labels": absent["error_rate"]["labels"],
                 "exp_annotations": rendered(absent["error_rate"]["annotations"], {}, 1)}]
    # Requests for 30 minutes, then the target goes away (a staleness marker) for 30 minutes.
    test = {"rule_files": [out.name], "evaluation_interval": "1m",
            "tests": [{"interval": "1m",
                       "input_series": [{"series": 'http_requests_total{code="200"}', "values": "0+60x30 stale"},
                                        {"series": 'http_request_duration_seconds_count{job="x"}',
                                         "values": "0+60x60"}],
                       "alert_rule_test": [{"eval_time": "29m", "alertname": "SLOMetricAbsent", "exp_alerts": []},
                                           {"eval_time": "39m", "alertname": "SLOMetricAbsent", "exp_alerts": []},
                                           {"eval_time": "42m", "alertname": "SLOMetricAbsent",
                                            "exp_alerts": expected},
                                           {"eval_time": "59m", "alertname": "SLOMetricAbsent",
                                            "exp_alerts": expected},
                                           {"eval_time": "59m", "alertname": "LatencyMetricsAbsent",
                                            "exp_alerts": []}]}]}
    tests = tmp_path / "down.test.yaml"
    tests.write_text(yaml.safe_dump(test, sort_keys=False))
    _run_promtool(tests)


def test_absent_false_turns_the_absent_alert_off_and_keeps_the_burn_rate_alerts(cli, tmp_path):
    text = ROUTED.replace("  name: CheckoutBurn\n", "  name: CheckoutBurn\n  absent: false\n")
    doc = yaml.safe_load(cli("rules", "--spec", str(_write(tmp_path, "shop.yaml", text))).out)
    names = {(a["alert"], a["labels"]["objective"]) for a in _alerts(doc)}
    # The spec's absent: false is laid under the latency objective's own absent: {for: 2m}, which wins.
    assert names == {("CheckoutBurn", "error_rate"), ("CheckoutBurn", "p99_latency"),
                     ("LatencyMetricsAbsent", "p99_latency")}


@pytest.mark.prometheus
@pytest.mark.parametrize("name", ["every-kind", "policy"])
def test_the_generated_promtool_tests_pass_for_alert_policies_with_their_for(cli, tmp_path, name):
    _promtool()
    spec = REPO / "tests" / "openslo" / "forms" / "every-kind.yaml" if name == "every-kind" else \
        _write(tmp_path, "slo.yaml", POLICY)
    out = tmp_path / "rules.yaml"
    result = cli("rules", "--spec", str(spec), "--period", "1d", "--out", str(out), "--tests")
    assert result.code == 0, result.err
    check = subprocess.run(["promtool", "check", "rules", "--lint-fatal", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = yaml.safe_load((tmp_path / "rules.test.yaml").read_text())["tests"]
    breach = next(t for t in tests if "breach" in t["name"])
    wanted = {"CheckoutAvailabilityBurn"} if name == "policy" else {"PageOnFastBurn", "TicketOnSlowBurn"}
    assert {a["alertname"] for a in breach["alert_rule_test"]} == wanted
    _run_promtool(tmp_path / "rules.test.yaml")
