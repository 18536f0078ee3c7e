"""Alerts proven under load: ``loadgate demo --alert-rules`` loads the spec's burn-rate rules into
the local Prometheus; a fault drill pages for the error rate, a healthy demo fires nothing (the
shared healthy fleet of conftest.py), and a drill that expects a page of a healthy service fails.

Each test runs ``python -m loadgate demo`` as a user would, for 15 to 25 seconds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgate.promserver import INSTALL_HINT, binaries
from tests.conftest import E2E_RUNS
from tests.support.require import missing

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def demo(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    if binaries() is None:
        missing(f"Prometheus is not installed; {INSTALL_HINT}")
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--out", str(out), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    E2E_RUNS.append(out)
    assert (out / "verdict.json").exists(), proc.stderr[-3000:]
    return proc, json.loads((out / "verdict.json").read_text())


def test_a_fault_drill_pages_for_the_error_rate_and_passes_as_a_gate(tmp_path):
    proc, doc = demo(tmp_path, "--error-fraction", "0.02", "--alert-rules", "--expect-alerts", "error_rate:page",
                     "--rate", "100", "--duration", "25", "--rampup", "5")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert doc["verdict"] == "pass" and doc["reason"].startswith("drill: every expected alert fired")
    statuses = {o["id"]: o["status"] for o in doc["objectives"]}
    assert statuses["error_rate"] == "fail"  # the injected fault, graded as it is
    fired = {(a["slo"], a["severity"]) for a in doc["alerts"]}
    assert ("error_rate", "page") in fired
    page = next(a for a in doc["alerts"] if (a["slo"], a["severity"]) == ("error_rate", "page"))
    assert set(page) >= {"alertname", "slo", "severity", "first_firing", "last_firing"}
    assert page["alertname"] == "ErrorBudgetBurn" and page["graded"] and page["expected"]
    assert "alerts: " in proc.stderr and "error_rate:page" in proc.stderr  # shown live with the progress
    assert doc["window"]["start_unix"] - 10 <= page["first_firing_unix"] <= doc["window"]["end_unix"]
    out = tmp_path / "demo"
    rules = yaml.safe_load((out / "alert-rules.yaml").read_text())
    assert any(r.get("alert") == "ErrorBudgetBurn" for g in rules["groups"] for r in g["rules"])
    assert doc["alert_rules"]["period"] == "2h" and doc["alert_rules"]["polls"] >= 20
    report = (out / "report.html").read_text()
    assert "Alerts during the run" in report and "page alert firing" in report
    assert "`error_rate` page:" in (out / "summary.md").read_text()
    junit = (out / "junit.xml").read_text()
    assert 'failures="0"' in junit and 'name="alert error_rate:page fires"' in junit
    if shutil.which("promtool"):
        check = subprocess.run(["promtool", "check", "rules", "--lint-fatal", str(out / "alert-rules.yaml")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_healthy_demo_fires_nothing(healthy_fleet):
    proc, doc = healthy_fleet.proc, healthy_fleet.doc
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert doc["alert_rules"]["expected"] == [] and doc["alert_rules"]["polls"] >= 20
    assert [a for a in doc["alerts"] if a["graded"]] == []
    assert doc["verdict"] == "pass"
    assert 'name="alerts: none fires"' in (healthy_fleet.out / "junit.xml").read_text()


def test_a_drill_expecting_a_page_on_a_healthy_service_fails_naming_the_alert(tmp_path):
    # A healthy run cannot pass a drill that expects a page: the rules must not fire on it.
    proc, doc = demo(tmp_path, "--alert-rules", "--expect-alerts", "error_rate:page", "--ids", "1-200",
                     "--duration", "15", "--rampup", "5")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert doc["reason"] == "drill: expected alert error_rate:page did not fire"
    junit = (tmp_path / "demo" / "junit.xml").read_text()
    assert 'failures="1"' in junit and 'message="expected alert error_rate:page did not fire"' in junit
