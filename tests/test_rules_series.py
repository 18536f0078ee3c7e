"""``loadgate rules`` (issue 25, items 5-9): the metadata series, custom windows tables (sloth's
``AlertWindows`` among them), the traffic floor, ``group_by`` and the annotations, each proven in
promtool against known series."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from slo.rule_tests import rendered
from tests.support.require import missing

REPO = Path(__file__).resolve().parent.parent
SLOTH_7D = REPO / "tests" / "sloth" / "7d.yaml"

SHOP = """version: loadgate/v1
name: shop
service: checkout
description: The checkout API's release gate.
alerting:
  runbook_url: https://runbooks.example/checkout
{alerting}objectives:
  - {{id: error_rate, title: "SLO 01.", kind: error_rate, threshold: "< {threshold}"{extra}}}
"""


def _spec(tmp_path: Path, name: str = "shop.yaml", alerting: str = "", threshold: str = "2%", extra: str = "") -> Path:
    path = tmp_path / name
    path.write_text(SHOP.format(alerting=alerting, threshold=threshold, extra=extra))
    return path


def _rules(cli, spec: Path, out: Path, *flags: str) -> dict:
    result = cli("rules", "--spec", str(spec), "--out", str(out), *flags)
    assert result.code == 0, result.err
    if shutil.which("promtool") is not None:
        check = subprocess.run(["promtool", "check", "rules", "--lint-fatal", str(out)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    doc: dict = yaml.safe_load(out.read_text())
    return doc


def _alerts(doc: dict) -> list[dict]:
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def _promtool(tmp_path: Path, test: dict) -> None:
    if shutil.which("promtool") is None:
        missing("promtool is not installed (Debian's prometheus package)")
    path = tmp_path / "known.test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=200))
    run = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]


def _order(*docs: dict) -> list[str]:
    """Recording groups first, then metadata, then alerts: promtool's order is random otherwise."""
    names = [g["name"] for d in docs for g in d["groups"]]
    return sorted(names, key=lambda n: (n.endswith("-alerts") or "alerts" in n, n.endswith("-meta")))


# -- item 7b: the traffic floor ----------------------------------------------------------------

@pytest.mark.prometheus
def test_a_counter_scraped_but_flat_for_30_minutes_fires_the_traffic_floor_and_nothing_else(cli, tmp_path):
    spec = _spec(tmp_path, alerting="  min_traffic: {rate: 1/s, for: 10m}\n")
    out = tmp_path / "rules.yaml"
    doc = _rules(cli, spec, out, "--tests")
    [floor] = [a for a in _alerts(doc) if a["alert"] == "SLOTrafficLow"]
    assert floor["for"] == "10m" and floor["expr"] == 'sum(rate(http_requests_total{}[300s])) < 1'
    assert (floor["labels"]["slo"], floor["labels"]["service"], floor["labels"]["loadgate_severity"]) == (
        "error_rate", "checkout", "ticket")
    # The generated tests hold a flat-counter case for it, and pass.
    tests = yaml.safe_load((tmp_path / "rules.test.yaml").read_text())["tests"]
    assert any(t["name"] == "flat counters fire SLOTrafficLow" for t in tests)
    _promtool(tmp_path, {**yaml.safe_load((tmp_path / "rules.test.yaml").read_text()),
                         "rule_files": [str(out)]})
    # 2 requests/s for 30 minutes, then the counter stays scraped and flat for 30 minutes: the 5m
    # rate is under 1/s from minute 33, so the alert is pending then and fires from minute 43.
    expected = [{"exp_labels": floor["labels"], "exp_annotations": rendered(floor["annotations"], {}, 0)}]
    _promtool(tmp_path, {"rule_files": [str(out)], "evaluation_interval": "1m", "group_eval_order": _order(doc),
                         "tests": [{"interval": "1m",
                                    "input_series": [{"series": 'http_requests_total{code="200"}',
                                                      "values": "0+120x30 3600x30"}],
                                    "alert_rule_test": [
                                        {"eval_time": "29m", "alertname": "SLOTrafficLow", "exp_alerts": []},
                                        {"eval_time": "42m", "alertname": "SLOTrafficLow", "exp_alerts": []},
                                        {"eval_time": "43m", "alertname": "SLOTrafficLow", "exp_alerts": expected},
                                        {"eval_time": "60m", "alertname": "SLOTrafficLow", "exp_alerts": expected},
                                        {"eval_time": "60m", "alertname": "SLOMetricAbsent", "exp_alerts": []},
                                        {"eval_time": "60m", "alertname": "ErrorBudgetBurn", "exp_alerts": []}]}]})


def test_a_traffic_floor_without_a_rate_or_with_a_bad_name_exits_2_located(cli, tmp_path):
    spec = _spec(tmp_path, alerting="  min_traffic: {for: 10m, name: Traffic-Low}\n")
    result = cli("rules", "--spec", str(spec))
    assert result.code == 2
    assert f"{spec}:7: alerting.min_traffic.rate: required" in result.err, result.err
    named = _spec(tmp_path, alerting="  min_traffic: {rate: 1/s, name: Traffic-Low}\n")
    result = cli("rules", "--spec", str(named))
    assert result.code == 2
    assert f"{named}:7: alerting.min_traffic.name: 'Traffic-Low' is not a valid alert name" in result.err


# -- item 5: the metadata series ---------------------------------------------------------------

@pytest.mark.prometheus
def test_the_remaining_budget_is_one_minus_the_periods_bad_share_over_the_budget(cli, tmp_path):
    out = tmp_path / "rules.yaml"
    doc = _rules(cli, _spec(tmp_path), out, "--period", "1h")
    meta = next(g for g in doc["groups"] if g["name"] == "loadgate-checkout-error_rate-meta")
    assert meta["interval"] == "1m"
    assert [r["record"] for r in meta["rules"]] == [
        "slo:sli_error:ratio_rate1h", "slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days",
        "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio",
        "loadgate_slo_info"]
    info = meta["rules"][-1]["labels"]
    assert {k: info[k] for k in ("slo", "service", "spec", "objective", "period")} == {
        "slo": "error_rate", "service": "checkout", "spec": "shop", "objective": "error_rate", "period": "1h"}
    assert info["loadgate_version"]
    records = [r for g in doc["groups"] if g["name"].endswith("-recordings") for r in g["rules"]]
    assert all(r["labels"]["window"] == r["record"].removeprefix("slo:sli_error:ratio_rate") for r in records)
    # 100 requests a minute; 2 of them fail for the first 30 minutes, none after: over the hour
    # the bad share is 1 %, half the 2 % budget. The counters start at 0, so at 60m they hold the
    # hour's requests exactly.
    me = '{slo="error_rate", service="checkout"}'
    period_bad = 'sum(http_requests_total{code="500"}) / sum(http_requests_total)'

    def holds(expr: str, at: str) -> dict:
        return {"expr": f"sum(abs({expr}) < bool 1e-9)", "eval_time": at, "exp_samples": [{"labels": "{}", "value": 1}]}

    _promtool(tmp_path, {"rule_files": [str(out)], "evaluation_interval": "1m", "group_eval_order": _order(doc),
                         "tests": [{"interval": "1m",
                                    "input_series": [{"series": 'http_requests_total{code="500"}',
                                                      "values": "0+2x30 60x30"},
                                                     {"series": 'http_requests_total{code="200"}',
                                                      "values": "0+98x30 3040+100x30"}],
                                    "promql_expr_test": [
                                        holds(f"sum(slo:period_error_budget_remaining:ratio{me}) - "
                                              f"(1 - ({period_bad}) / 0.02)", "60m"),
                                        holds(f"slo:period_error_budget_remaining:ratio{me} - 0.5", "60m"),
                                        holds(f"slo:period_burn_rate:ratio{me} - 0.5", "60m"),
                                        holds(f"slo:current_burn_rate:ratio{me} - 1", "20m"),
                                        holds(f"slo:current_burn_rate:ratio{me}", "60m"),
                                        holds(f"slo:objective:ratio{me} - 0.98", "60m"),
                                        holds(f"slo:error_budget:ratio{me} - 0.02", "60m"),
                                        holds(f"slo:time_period:days{me} * 24 - 1", "60m"),
                                        holds('slo:sli_error:ratio_rate1h{window="1h", slo="error_rate"} - 0.01',
                                              "60m"),
                                        {"expr": 'loadgate_slo_info{period="1h", slo="error_rate"} * 0',
                                         "eval_time": "60m",
                                         "exp_samples": [{"labels": "{" + ", ".join(
                                             f'{k}="{v}"' for k, v in info.items()) + "}", "value": 0}]}]}]})


# -- item 6: windows tables --------------------------------------------------------------------

def test_sloths_7d_windows_file_gives_sloths_burn_rates_and_names_the_table(cli, tmp_path):
    out = tmp_path / "rules.yaml"
    doc = _rules(cli, _spec(tmp_path, threshold="0.1%"), out, "--windows", str(SLOTH_7D))
    text = out.read_text()
    assert "period 7d" in text and "windows from --windows 7d.yaml (sloth AlertWindows)" in text
    assert "page 13.44x over 1h and 5m; page 3.5x over 6h and 30m; ticket 1.4x over 1d and 2h; ticket 0.98x " \
           "over 3d and 6h" in text
    page = next(a for a in _alerts(doc) if a["labels"].get("loadgate_severity") == "page")
    assert ") / 0.001 > 13.44 and " in page["expr"]
    # A sloth file is for its own period only.
    result = cli("rules", "--spec", str(_spec(tmp_path, threshold="0.1%")), "--windows", str(SLOTH_7D),
                 "--period", "30d")
    assert result.code == 2 and "sloth's table for a 7d period, not 30d" in result.err


def test_alerting_windows_in_the_spec_replace_the_built_in_table(cli, tmp_path):
    table = ("  windows:\n    - {severity: page, budget: 2, long: 1h, short: 5m, for: 2m}\n"
             "    - {severity: ticket, factor: 2, long: 12h, short: 1h}\n")
    out = tmp_path / "rules.yaml"
    doc = _rules(cli, _spec(tmp_path, alerting=table, threshold="0.1%"), out, "--tests")
    assert "windows from alerting.windows: page 14.4x over 1h and 5m; ticket 2x over 12h and 1h" in out.read_text()
    page = next(a for a in _alerts(doc) if a["labels"].get("loadgate_severity") == "page")
    assert page["for"] == "2m"
    if shutil.which("promtool") is not None:
        _promtool(tmp_path, {**yaml.safe_load((tmp_path / "rules.test.yaml").read_text()), "rule_files": [str(out)]})


@pytest.mark.parametrize("row, where, why", [
    ("{severity: page, factor: 10, long: 5m, short: 1h}", "alerting.windows[0].short",
     "the short window must be shorter than the long one"),
    ("{severity: page, factor: 0, long: 1h, short: 5m}", "alerting.windows[0].factor", "factor must be above 0"),
    ("{severity: page, budget: 120, long: 1h, short: 5m}", "alerting.windows[0].budget",
     "the budget share (%) must be above 0 and at most 100"),
    ("{severity: page, budget: 0, long: 1h, short: 5m}", "alerting.windows[0].budget",
     "the budget share (%) must be above 0"),
    ("{severity: urgent, factor: 2, long: 1h, short: 5m}", "alerting.windows[0].severity", "expected page or ticket"),
    ("{severity: page, factor: 2, budget: 2, long: 1h, short: 5m}", "alerting.windows[0]", "give exactly one of"),
])
def test_an_invalid_window_exits_2_located(cli, tmp_path, row, where, why):
    spec = _spec(tmp_path, alerting=f"  windows:\n    - {row}\n")
    result = cli("rules", "--spec", str(spec))
    assert result.code == 2 and f"{spec}:8: {where}: {why}" in result.err, result.err


def test_an_invalid_sloth_windows_file_exits_2_located(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SLOTH_7D.read_text().replace("errorBudgetPercent: 8", "errorBudgetPercent: 800")
                   .replace("longWindow: 6h", "longWindow: 10m"))
    result = cli("rules", "--spec", str(_spec(tmp_path)), "--windows", str(bad))
    assert result.code == 2
    assert f"{bad}:10: spec.page.quick.errorBudgetPercent: the budget share (%) must be above 0 and at most 100" \
           in result.err, result.err
    assert f"{bad}:15: spec.page.slow.shortWindow: the short window must be shorter than the long one" in result.err


#: sloth's burn rates per severity, (short, long, factor): its 7d file's, and its built-in 30d table's
#: (internal/alert/windows/google-30d.yaml: the workbook's).
SLOTH_TABLES = {
    "7d": {"page": (("5m", "1h", 13.44), ("30m", "6h", 3.5)), "ticket": (("2h", "1d", 1.4), ("6h", "3d", 0.98))},
    "30d": {"page": (("5m", "1h", 14.4), ("30m", "6h", 6.0)), "ticket": (("2h", "1d", 3.0), ("6h", "3d", 1.0))}}


def _sloth_rules(budget: float, period: str = "7d") -> dict:
    """The rules sloth generates for this SLO with its 7d windows (the form of its examples/_gen
    files: one SLI record per window, and per severity two conditions, short window first,
    ``max(...) without (sloth_window)``), written here for the test."""
    me = 'sloth_id="checkout-error-rate", sloth_service="checkout", sloth_slo="error-rate"'
    ids = {"sloth_id": "checkout-error-rate", "sloth_service": "checkout", "sloth_slo": "error-rate"}
    windows = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    records = [{"record": f"slo:sli_error:ratio_rate{w}",
                "expr": f'(sum(rate(http_requests_total{{code=~"(5..)"}}[{w}])))\n/\n'
                        f'(sum(rate(http_requests_total[{w}])))',
                "labels": {**ids, "sloth_window": w}} for w in windows]

    def cond(short: str, long: str, factor: float) -> str:
        return (f"(max(slo:sli_error:ratio_rate{short}{{{me}}} > ({factor:g} * {budget:g})) without (sloth_window)\n"
                f"and\nmax(slo:sli_error:ratio_rate{long}{{{me}}} > ({factor:g} * {budget:g})) without (sloth_window))")

    alerts = [{"alert": "CheckoutErrorRateSLO", "expr": "\nor\n".join(cond(*c) for c in conds),
               "labels": {"sloth_severity": sev}} for sev, conds in SLOTH_TABLES[period].items()]
    return {"groups": [{"name": "sloth-slo-sli-recordings-checkout-error-rate", "rules": records},
                       {"name": "sloth-slo-alerts-checkout-error-rate", "rules": alerts}]}


@pytest.mark.prometheus
@pytest.mark.parametrize("period", ["7d", "30d"])
def test_with_sloths_7d_windows_loadgate_pages_and_tickets_at_the_same_minutes_as_sloths_own_rules(
        cli, tmp_path, period):
    """7d: loadgate with sloth's 7d file; 30d: loadgate's built-in table, unchanged, against sloth's default."""
    budget = 0.001
    out = tmp_path / "rules.yaml"
    flags = ("--windows", str(SLOTH_7D), "--period", "7d") if period == "7d" else ()
    doc = _rules(cli, _spec(tmp_path, threshold="0.1%"), out, *flags)
    sloth = tmp_path / "sloth.yaml"
    sloth.write_text(yaml.safe_dump(_sloth_rules(budget, period), sort_keys=False, width=200))
    # 1000 requests a minute for 10 hours: none failing for 1h, 3 % for 1h, 0.5 % for 2h, 0.2 % for 6h.
    per_minute = [0] * 60 + [30] * 60 + [5] * 120 + [2] * 360
    bad = [0]
    for b in per_minute:
        bad.append(bad[-1] + b)
    minutes = {"5m": 5, "30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320}

    def share(t: int, w: str) -> float:
        start = max(0, t - minutes[w])
        return (bad[t] - bad[start]) / (1000 * (t - start))

    # sloth's conditions, evaluated as its expressions are; loadgate's as its are (ratio / budget).
    table = SLOTH_TABLES[period]

    def fired(t: int, sev: str, sloths: bool) -> tuple[bool, float]:
        for short, long, f in table[sev]:
            if sloths:
                hit = share(t, short) > f * budget and share(t, long) > f * budget
            else:
                hit = share(t, short) / budget > f and share(t, long) / budget > f
            if hit:
                return True, share(t, short) / budget
        return False, 0.0

    def near(t: int) -> bool:
        return any(abs(share(t, w) - f * budget) < 1e-9 for conds in table.values() for s, lg, f in conds
                   for w in (s, lg))

    ours = {a["labels"]["loadgate_severity"]: a for a in _alerts(doc) if a["alert"] == "ErrorBudgetBurn"}
    checks, firing_minutes = [], {"page": [], "ticket": []}
    for t in range(5, 601, 5):
        if near(t):
            continue
        mine = {sev: fired(t, sev, False) for sev in table}
        theirs = {sev: fired(t, sev, True)[0] for sev in table}
        assert {s: v[0] for s, v in mine.items()} == theirs, t  # the same minutes, by both tools' arithmetic
        for sev in table:
            if theirs[sev]:
                firing_minutes[sev].append(t)
        checks.append({"eval_time": f"{t}m", "alertname": "ErrorBudgetBurn", "exp_alerts": [
            {"exp_labels": ours[s]["labels"], "exp_annotations": rendered(ours[s]["annotations"], ours[s]["labels"], v)}
            for s, (hit, v) in mine.items() if hit]})
        checks.append({"eval_time": f"{t}m", "alertname": "CheckoutErrorRateSLO", "exp_alerts": [
            {"exp_labels": {"sloth_id": "checkout-error-rate", "sloth_service": "checkout", "sloth_slo": "error-rate",
                            "sloth_severity": s}} for s, hit in theirs.items() if hit]})
    assert firing_minutes["page"] and firing_minutes["ticket"] and len(firing_minutes["page"]) < len(checks) // 2
    _promtool(tmp_path, {"rule_files": [str(out), str(sloth)], "evaluation_interval": "1m",
                         "group_eval_order": _order(doc, _sloth_rules(budget, period)),
                         "tests": [{"interval": "1m",
                                    "input_series": [
                                        {"series": 'http_requests_total{code="500"}',
                                         "values": " ".join(str(v) for v in bad)},
                                        {"series": 'http_requests_total{code="200"}',
                                         "values": " ".join(str(1000 * k - v) for k, v in enumerate(bad))}],
                                    "alert_rule_test": checks}]})


# -- item 8: group_by --------------------------------------------------------------------------

@pytest.mark.prometheus
def test_group_by_route_pages_for_the_burning_route_only(cli, tmp_path):
    out = tmp_path / "rules.yaml"
    doc = _rules(cli, _spec(tmp_path, threshold="0.1%", extra=", group_by: [route]"), out, "--period", "1d")
    records = [r for g in doc["groups"] if g["name"].endswith("-recordings") for r in g["rules"]]
    assert all("sum by (route)" in r["expr"] for r in records)
    burns = [a for a in _alerts(doc) if a["alert"] == "ErrorBudgetBurn"]
    page = burns[0]
    assert "route={{ $labels.route }}" in page["annotations"]["title"]
    series_labels = {**{k: v for k, v in page["labels"].items() if k in ("slo", "service", "spec", "objective")},
                     "route": "/checkout"}
    # Half of /checkout's requests fail (500x its budget): it pages and tickets; /search fires nothing.
    expected = [{"exp_labels": {**a["labels"], "route": "/checkout"},
                 "exp_annotations": rendered(a["annotations"], series_labels, 500)} for a in burns]
    _promtool(tmp_path, {"rule_files": [str(out)], "evaluation_interval": "1m", "group_eval_order": _order(doc),
                         "tests": [{"interval": "1m",
                                    "input_series": [
                                        {"series": 'http_requests_total{route="/checkout", code="500"}',
                                         "values": "0+50x60"},
                                        {"series": 'http_requests_total{route="/checkout", code="200"}',
                                         "values": "0+50x60"},
                                        {"series": 'http_requests_total{route="/search", code="200"}',
                                         "values": "0+1000x60"},
                                        {"series": 'http_requests_total{route="/search", code="500"}',
                                         "values": "0x60"}],
                                    "alert_rule_test": [{"eval_time": "30m", "alertname": "ErrorBudgetBurn",
                                                         "exp_alerts": expected}],
                                    "promql_expr_test": [{"expr": 'slo:current_burn_rate:ratio{route="/search"}',
                                                          "eval_time": "30m", "exp_samples": [
                                                              {"labels": "slo:current_burn_rate:ratio{" + ", ".join(
                                                                  f'{k}="{v}"' for k, v in
                                                                  {**{k: v for k, v in page["labels"].items()
                                                                      if k in ("slo", "service", "spec", "objective")},
                                                                   "route": "/search"}.items()) + "}",
                                                               "value": 0}]}]}]})


def test_group_by_on_a_kind_whose_series_cannot_be_split_exits_2_located(cli, tmp_path):
    spec = tmp_path / "a.yaml"
    spec.write_text("version: loadgate/v1\nname: a\nobjectives:\n"
                    "  - {id: availability, kind: availability, threshold: '>= 99.9%', group_by: [route]}\n")
    result = cli("rules", "--spec", str(spec))
    assert result.code == 2 and f"{spec}:4: objectives[0].group_by: a availability objective cannot be grouped" \
        in result.err, result.err


# -- item 9: annotations -----------------------------------------------------------------------

def test_annotations_are_templated_from_labels_with_the_burn_rate_and_carry_the_description_and_runbook_url(
        cli, tmp_path):
    doc = _rules(cli, _spec(tmp_path), tmp_path / "rules.yaml")
    page = next(a for a in _alerts(doc) if a["labels"].get("loadgate_severity") == "page")
    notes = page["annotations"]
    assert notes["title"] == "{{ $labels.service }}/{{ $labels.slo }}: SLO 01 is burning its error budget (page)"
    assert notes["summary"].startswith("SLO 01 (< 2 %) is burning its error budget {{ $value | humanize }}x")
    assert "SLO 01." not in notes["summary"] and ". is" not in notes["summary"]
    assert notes["description"] == "The checkout API's release gate."
    assert notes["runbook_url"] == "https://runbooks.example/checkout"
    shown = rendered(notes, page["labels"], 14.4)
    assert shown["title"] == "checkout/error_rate: SLO 01 is burning its error budget (page)"
    assert "burning its error budget 14.4x as fast" in shown["summary"]


def test_spec_text_is_never_read_as_a_template(cli, tmp_path):
    spec = tmp_path / "t.yaml"
    spec.write_text(SHOP.format(alerting="", threshold="2%", extra="").replace('"SLO 01."', '"Checkout {{x}}"'))
    out = tmp_path / "rules.yaml"
    doc = _rules(cli, spec, out)
    page = next(a for a in _alerts(doc) if a["labels"].get("loadgate_severity") == "page")
    assert rendered(page["annotations"], page["labels"], 1)["title"].endswith(": Checkout {{x}} is burning its error "
                                                                              "budget (page)")


def test_an_openslo_runbook_annotation_becomes_the_runbook_url(cli, tmp_path):
    from tests.test_rules_identity import POLICY
    spec = tmp_path / "slo.yaml"
    spec.write_text(POLICY.replace("  labels: {tier: gold}\n", "  labels: {tier: gold}\n  annotations: "
                                                               "{runbook_url: 'https://runbooks.example/co'}\n"))
    doc = _rules(cli, spec, tmp_path / "rules.yaml")
    assert {a["annotations"]["runbook_url"] for a in _alerts(doc)} == {"https://runbooks.example/co"}


# -- item 11: every form lints clean -----------------------------------------------------------

FORMS = {
    "plain": ("", "", ()),
    "no-alerts": ("", "", ("--no-alerts",)),
    "sloth-7d": ("", "", ("--windows", str(SLOTH_7D))),
    "spec-windows": ("  windows: [{severity: page, budget: 5, long: 6h, short: 30m, for: 5m}]\n", "", ()),
    "min-traffic": ("  min_traffic: {rate: 5/s, for: 2m, name: CheckoutQuiet}\n", "", ("--period", "1d")),
    "group-by": ("", ", group_by: [route, method]", ("--selector", 'job="api"')),
    "openslo-sloth-7d": ("openslo", "", ("--windows", str(SLOTH_7D))),
}


@pytest.mark.prometheus
@pytest.mark.parametrize("form", list(FORMS))
def test_promtool_lints_every_form_of_the_rules_clean_and_their_generated_tests_pass(cli, tmp_path, form):
    if shutil.which("promtool") is None:
        missing("promtool is not installed (Debian's prometheus package)")
    alerting, extra, flags = FORMS[form]
    spec = REPO / "tests" / "openslo" / "forms" / "every-kind.yaml" if alerting == "openslo" else \
        _spec(tmp_path, alerting=alerting, threshold="0.5%", extra=extra)
    out = tmp_path / "rules.yaml"
    _rules(cli, spec, out, *flags, "--tests")  # promtool check rules --lint-fatal inside
    run = subprocess.run(["promtool", "test", "rules", str(tmp_path / "rules.test.yaml")], capture_output=True,
                         text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
