"""Comparing with a baseline run: deltas, regression flags and --fail-on-regression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slo.compare import DEFAULT_TOLERANCES, parse_tolerances
from tests.support.situations import WINDOW


def test_tolerances_are_configurable_per_kind():
    tolerances = parse_tolerances("latency=25%,error_rate=1")
    assert tolerances["latency"] == 0.25 and tolerances["error_rate"] == 1.0
    assert tolerances["throughput"] == DEFAULT_TOLERANCES["throughput"]
    with pytest.raises(ValueError, match="unknown objective kind"):
        parse_tolerances("speed=5%")


def gate(cli, prometheus, out, job, *extra):
    return cli("gate", "--prometheus", prometheus, "--start", WINDOW[0], "--end", WINDOW[1],
               "--selector", f'job="{job}"', "--out", str(out), *extra)


@pytest.mark.prometheus
def test_a_regression_within_targets_passes_but_fails_with_fail_on_regression(cli, prometheus, tmp_path):
    assert gate(cli, prometheus, tmp_path / "base", "healthy").code == 0
    plain = gate(cli, prometheus, tmp_path / "cur", "p99_warn", "--baseline", str(tmp_path / "base"))
    assert plain.code == 0  # the absolute targets still pass (P99 only warns)
    doc = json.loads((tmp_path / "cur" / "verdict.json").read_text())
    p99 = next(o for o in doc["objectives"] if o["id"] == "p99_latency")
    assert p99["baseline"]["regressed"] and p99["baseline"]["relative"] > 0.10
    assert "p99_latency" in doc["baseline"]["regressions"]
    assert "vs baseline" in (tmp_path / "cur" / "summary.md").read_text()
    assert "✘ regressed" in plain.out
    strict = gate(cli, prometheus, tmp_path / "strict", "p99_warn", "--baseline", str(tmp_path / "base"),
                  "--fail-on-regression")
    assert strict.code == 1
    strict_doc = json.loads((tmp_path / "strict" / "verdict.json").read_text())
    assert strict_doc["verdict"] == "fail"
    assert "P99 latency" in strict_doc["reason"] and "regressed" in strict_doc["reason"]


@pytest.mark.prometheus
def test_several_baselines_are_pooled_a_same_service_is_unchanged_and_a_slower_p99_regressed(cli, prometheus,
                                                                                              tmp_path):
    # Two baseline runs: the healthy service's two quarter hours, each its own gate directory.
    for name, (start, end) in {"q1": (WINDOW[0], "2026-01-01T00:30:00Z"),
                               "q2": ("2026-01-01T00:30:00Z", WINDOW[1])}.items():
        assert cli("gate", "--prometheus", prometheus, "--start", start, "--end", end, "--selector",
                   'job="healthy"', "--out", str(tmp_path / "base" / name)).code == 0
    # A/A: the same service over the whole half hour, against a folder of the baseline runs.
    same = gate(cli, prometheus, tmp_path / "aa", "healthy", "--baseline", str(tmp_path / "base"),
                "--fail-on-regression")
    assert same.code == 0, same.err
    doc = json.loads((tmp_path / "aa" / "verdict.json").read_text())
    verdicts = {o["id"]: o["baseline"]["verdict"] for o in doc["objectives"]}
    assert verdicts["p99_latency"] == "unchanged" and "regressed" not in verdicts.values(), verdicts
    assert doc["baseline"]["runs"] == 2 and doc["baseline"]["regressions"] == []
    assert [Path(p).name for p in doc["baseline"]["paths"]] == ["q1", "q2"]  # oldest first
    # The shift: the same traffic with its tail slower, against both runs named one by one.
    slow = gate(cli, prometheus, tmp_path / "slow", "p99_warn", "--baseline", str(tmp_path / "base" / "q1"),
                str(tmp_path / "base" / "q2"), "--fail-on-regression")
    assert slow.code == 1, slow.err
    doc = json.loads((tmp_path / "slow" / "verdict.json").read_text())
    p99 = next(o for o in doc["objectives"] if o["id"] == "p99_latency")["baseline"]
    assert p99["verdict"] == "regressed" and p99["significant"] and p99["p_value"] < 0.05 and p99["runs"] == 2
    assert p99["relative"] > p99["tolerance"] == 0.10
    summary = (tmp_path / "slow" / "summary.md").read_text()
    assert "2 baseline runs pooled" in summary and "regressed: p50_latency, p99_latency" in summary
    junit = (tmp_path / "slow" / "junit.xml").read_text()
    assert 'type="regression"' in junit


@pytest.mark.prometheus
def test_an_improvement_is_flagged_and_never_fails_the_gate(cli, prometheus, tmp_path):
    gate(cli, prometheus, tmp_path / "base", "p99_warn")
    result = gate(cli, prometheus, tmp_path / "cur", "healthy", "--baseline", str(tmp_path / "base"),
                  "--fail-on-regression")
    assert result.code == 0
    doc = json.loads((tmp_path / "cur" / "verdict.json").read_text())
    p99 = next(o for o in doc["objectives"] if o["id"] == "p99_latency")
    assert p99["baseline"]["improved"] and not p99["baseline"]["regressed"]
    assert doc["baseline"]["regressions"] == []


@pytest.mark.prometheus
def test_report_compares_a_stored_run_with_a_baseline_without_prometheus(cli, prometheus, tmp_path):
    gate(cli, prometheus, tmp_path / "base", "healthy")
    gate(cli, prometheus, tmp_path / "cur", "p99_warn")
    result = cli("report", str(tmp_path / "cur"), "--baseline", str(tmp_path / "base"))
    assert result.code == 0
    doc = json.loads((tmp_path / "cur" / "verdict.json").read_text())
    assert doc["baseline"]["path"] == str(tmp_path / "base") and doc["verdict"] == "pass"
    html = (tmp_path / "cur" / "report.html").read_text()
    assert "vs baseline" in html and "regressed" in html
    assert html.count("baseline: p99 (histogram_quantile)") == 1  # the baseline's series overlaid on its chart


def test_an_unreadable_baseline_is_a_usage_error(cli, tmp_path, unreachable_url):
    result = cli("gate", "--prometheus", unreachable_url, "--last", "5m", "--baseline", str(tmp_path / "nope"))
    assert result.code == 2 and "--baseline" in result.err and "no such file" in result.err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "verdict.json").write_text('{"schema_version": 7}')
    result = cli("report", str(tmp_path / "current"), "--baseline", str(bad))
    assert result.code == 2 and "schema_version 7; this loadgate reads 1 and 2" in result.err


def test_endpoints_are_compared_with_the_baseline_by_p99():
    from reports.context import build_context
    from slo.compare import Baseline, attach
    from slo.record import load_verdict
    from tests.test_outputs import fixed_document

    current, base = fixed_document(), fixed_document()
    current["breakdown"] = {"endpoints": [{"endpoint": "/api/items", "requests": 10, "rate": 1.0, "p50": 0.01,
                                           "p99": 0.060}, {"endpoint": "/api/new", "requests": 1, "rate": 0.1}],
                            "tiers": []}
    base["breakdown"] = {"endpoints": [{"endpoint": "/api/items", "requests": 10, "rate": 1.0, "p50": 0.01,
                                        "p99": 0.050}], "tiers": []}
    attach(current, Baseline(("runs/base",), (base,)))
    assert current["baseline"]["endpoints"]["/api/items"]["regressed"]  # +20 % over the 10 % tolerance
    rows = {r[0]: r for r in build_context(load_verdict(current)).endpoint_rows}
    assert rows["/api/items"][-1] == "50 ms → 60 ms (+20 %) ✘ regression"
    assert rows["/api/new"][-1] == "not in the baseline"


@pytest.mark.prometheus
def test_report_against_a_folder_that_holds_the_run_itself_never_compares_it_with_itself(cli, prometheus, tmp_path):
    runs = tmp_path / "runs"
    gate(cli, prometheus, runs / "base", "healthy")
    gate(cli, prometheus, runs / "cur", "p99_warn")
    assert cli("report", str(runs / "cur"), "--baseline", str(runs)).code == 0
    doc = json.loads((runs / "cur" / "verdict.json").read_text())
    assert doc["baseline"]["runs"] == 1 and [Path(p).name for p in doc["baseline"]["paths"]] == ["base"]
    (tmp_path / "only" / "base").parent.mkdir()
    (runs / "base").rename(tmp_path / "only" / "base")
    alone = cli("report", str(tmp_path / "only" / "base"), "--baseline", str(tmp_path / "only"))
    assert alone.code == 2 and "holds no run but" in alone.err
