"""``loadgate rules --dashboard FILE`` (issue 25, item 10): a Grafana dashboard built only on the
series the rules write, each panel's query proven valid PromQL that returns data in a real
Prometheus evaluating the generated rules over known series."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from loadgate.promserver import PrometheusServer, backfill
from slo.rules_dashboard import VARIABLES, panel_queries, variable_queries
from tests.support.synthetic import Job, Profile, openmetrics

SHOP = """version: loadgate/v1
name: shop
service: checkout
labels: {team: payments}
objectives:
  - {id: error_rate, title: Errors, kind: error_rate, threshold: "< 0.5%", group_by: [endpoint]}
  - {id: p99, title: Fast enough, kind: latency, percentile: 99, threshold: "< 500ms"}
"""

#: The series the rules write (besides the window records, ``slo:sli_error:ratio_rate<W>``), and ALERTS.
WRITTEN = {"slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days", "slo:current_burn_rate:ratio",
           "slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio", "loadgate_slo_info", "ALERTS"}


def _generate(cli, tmp_path: Path, *flags: str, spec: Path | None = None) -> tuple[dict[str, Any], Path]:
    if spec is None:
        spec = tmp_path / "shop.yaml"
        spec.write_text(SHOP)
    out, board = tmp_path / "rules.yaml", tmp_path / "dashboard.json"
    result = cli("rules", "--spec", str(spec), "--out", str(out), "--dashboard", str(board), *flags)
    assert result.code == 0, result.err
    assert f"wrote {board}" in result.err
    return json.loads(board.read_text()), out


def _substitute(text: str, values: dict[str, str]) -> str:
    """Grafana's interpolation of ``$name`` and ``${name}``; every variable used must be known."""
    out = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m.group(1) or m.group(2)], text)
    assert "$" not in out, out
    return out


def test_the_dashboard_is_a_grafana_json_model_with_service_and_slo_variables(cli, tmp_path):
    board, _ = _generate(cli, tmp_path)
    assert board["schemaVersion"] == 39 and board["id"] is None and len(board["uid"]) <= 40
    assert board["uid"] == "loadgate-checkout" and board["title"] == "SLOs of checkout (loadgate)"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert tuple(variables) == VARIABLES
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert (variables["service"]["current"]["value"], variables["slo"]["current"]["value"]) == ("checkout",
                                                                                                "error_rate")
    assert variables["period"]["current"]["value"] == "30d" and variables["period"]["hide"] == 2
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) == 9
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]) and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["targets"] and all(t["refId"] and t["expr"] for t in panel["targets"])
    titles = [p["title"] for p in board["panels"]]
    for wanted in ("Error budget remaining", "Burn rate: now and over the period", "SLI against its objective",
                   "Alerts firing"):
        assert wanted in titles
    # The legends name the group_by label, so each endpoint is its own line.
    assert any("{{endpoint}}" in t["legendFormat"] for p in board["panels"] for t in p["targets"])


@pytest.mark.parametrize("openslo", [False, True], ids=["loadgate", "openslo"])
def test_every_query_reads_only_series_the_rules_write(cli, tmp_path, openslo):
    spec = Path(__file__).parent / "openslo" / "forms" / "every-kind.yaml" if openslo else None
    board, out = _generate(cli, tmp_path, spec=spec)
    period = next(v for v in board["templating"]["list"] if v["name"] == "period")["current"]["value"]
    records = {r["record"] for g in yaml.safe_load(out.read_text())["groups"] for r in g["rules"] if "record" in r}
    assert f"slo:sli_error:ratio_rate{period}" in records
    for title, expr in panel_queries(board) + variable_queries(board):
        bare = re.sub(r"^label_values\((.+), \w+\)$", r"\1{}", expr.replace("${period}", period))
        bare = re.sub(r'"[^"]*"', '""', bare)  # label values out of the way, then label lists
        bare = re.sub(r"\b(by|on|without|group_left|group_right)\s*\([^)]*\)", "", bare)
        names = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", bare))
        for name in names:
            assert name in WRITTEN or name in records, (title, name)
        for pattern in re.findall(r'__name__=~"([^"]*)"', expr):
            assert pattern == "slo:sli_error:ratio_rate.+", (title, pattern)
        assert names or "__name__" in expr, title


def test_the_dashboard_is_the_same_wherever_it_is_written(cli, tmp_path):
    boards = []
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        boards.append(_generate(cli, tmp_path / where)[0])
    assert boards[0] == boards[1]


def _get(url: str, path: str, **params: Any) -> Any:
    response = requests.get(f"{url}{path}", params=params, timeout=10)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", (path, params, body)
    return body["data"]


def _wait_for(url: str, query: str, count: int, timeout_s: float = 45.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        found = _get(url, "/api/v1/query", query=query)["result"]
        if len(found) >= count:
            return
        assert time.monotonic() < deadline, f"{query}: {len(found)} series, waited for {count}"
        time.sleep(0.5)


@pytest.mark.prometheus
def test_every_panel_and_variable_query_returns_data_from_a_prometheus_evaluating_the_rules(cli, tmp_path):
    """Two hours of known traffic, half of it failing and half slower than 500 ms (both SLOs page),
    end a few seconds ago; a real Prometheus loads the generated rules, every group evaluated each
    second (the metadata group's 1m interval would put its first evaluation up to a minute away),
    and each panel's query, with the variables of each SLO substituted, is asked as Grafana asks it:
    instant and range, and each variable's label_values through the label values API."""
    board, out = _generate(cli, tmp_path)
    doc = yaml.safe_load(out.read_text())
    for group in doc["groups"]:
        group["interval"] = "1s"
    fast = tmp_path / "rules-1s.yaml"
    fast.write_text(yaml.safe_dump(doc, sort_keys=False, width=200))
    now = time.time()
    burning = Job("api", lambda instance, offset: Profile(rate=20.0, error_ratio=0.5, latency=((0.05, 0.5), (1.0, 0.5)),
                                                          hit_ratio=None))
    data = tmp_path / "series.om"
    data.write_text(openmetrics([burning], now - 7200, 7195, interval_s=15.0, offset_s=0.0))
    storage = tmp_path / "data"
    backfill(data, storage)
    config = f"global:\n  scrape_interval: 15s\n  evaluation_interval: 1s\nrule_files:\n  - {fast}\n"
    with PrometheusServer(storage, config) as prom:
        url = prom.url
        # Every SLO's page alert firing, with the metadata written after it.
        _wait_for(url, 'ALERTS{alertstate="firing", loadgate_severity="page", objective="p99"}', 1)
        _wait_for(url, 'ALERTS{alertstate="firing", loadgate_severity="page", objective="error_rate"}', 2)
        _wait_for(url, "loadgate_slo_info", 2)
        _wait_for(url, "slo:period_error_budget_remaining:ratio", 3)
        asked = 0
        for slo in ("error_rate", "p99"):
            values = {"service": "checkout", "slo": slo, "period": "30d", "datasource": "prometheus"}
            for name, query in variable_queries(board):
                selector, label = re.fullmatch(r"label_values\((.+), (\w+)\)", query).groups()  # type: ignore[union-attr]
                found = _get(url, f"/api/v1/label/{label}/values", **{"match[]": _substitute(selector, values)})
                assert values[name] in found, (name, query, found)
            for title, expr in panel_queries(board):
                query = _substitute(expr, values)
                instant = _get(url, "/api/v1/query", query=query)["result"]
                assert instant, f"{slo}: panel {title!r}: {query} returned no data"
                ranged = _get(url, "/api/v1/query_range", query=query, start=time.time() - 30, end=time.time(),
                              step=5)["result"]
                assert ranged, f"{slo}: panel {title!r}: {query} returned no range data"
                asked += 1
        assert asked == 2 * len(panel_queries(board))
