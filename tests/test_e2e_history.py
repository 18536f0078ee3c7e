"""``loadgate history`` over real recorded runs: two healthy demos, then one with 5 % of requests slowed by 800 ms.

Three short demos (14 s, 7 s of it ramp-up, 200 req/s; ``recorded_demos`` in tests/conftest.py,
whose slowed run the demo's slowness test grades too) run once, in time order,
the slowed one last; ``loadgate history`` over them must single out the slowed run: its p99 fails
in the grid and its change is marked, a shift the statistics can see with two 7 s baselines.
About a minute in all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reports.history import MARKER
from tests.conftest import REPO, DemoRun
from tests.test_history import schema_problems

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def recorded(recorded_demos: dict[str, DemoRun]) -> Path:
    """The folder of the three real run directories: healthy-1, healthy-2, then slow (the newest)."""
    return recorded_demos["slow"].out.parent


@pytest.fixture(scope="module")
def history(recorded: Path) -> dict[str, Any]:
    """``loadgate history`` over the folder, as a CI step would run it; what it returned and wrote."""
    out = recorded.parent / "history"
    proc = subprocess.run([sys.executable, "-m", "loadgate", "history", str(recorded / "*"), "--out", str(out),
                           "--label-from", "git_sha"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    doc = json.loads((out / "history.json").read_text())
    return {"proc": proc, "doc": doc, "out": out, "md": (out / "history.md").read_text()}


def test_the_history_of_real_runs_orders_them_and_fits_its_schema(history):
    doc = history["doc"]
    assert [r["id"] for r in doc["runs"]] == ["healthy-1", "healthy-2", "slow"]
    assert doc["newest"] == "slow" and doc["baseline_runs"] == ["healthy-1", "healthy-2"]
    assert schema_problems(doc) == []
    # The healthy runs' verdicts are not asserted: a 7 s window's cache hit rate can land just under 80 %.
    assert doc["runs"][-1]["verdict"] == "fail"
    assert history["md"].splitlines()[0] == MARKER


def test_the_slowed_runs_p99_fails_in_the_grid_and_its_change_is_marked(history):
    doc = history["doc"]
    statuses = [p["status"] for p in doc["objectives"]["p99_latency"]]
    assert statuses[:2] == ["pass", "pass"] and statuses[2] == "fail"
    p99 = next(r for r in doc["regressions"] if r["objective"] == "p99_latency")
    assert p99["run"] == "slow" and p99["baseline_runs"] == 2
    assert p99["effect"] is not None and p99["effect"] > 1.0  # 5 % of requests at 800 ms: p99 many times over
    row = next(line for line in history["md"].splitlines() if line.startswith("| p99_latency |"))
    assert "+" in row.split("|")[4]
    html = (history["out"] / "history.html").read_text()
    assert 'id="trend-p99_latency"' in html and '<table id="grid">' in html


def test_the_slowed_runs_p99_is_a_significant_regression(history):
    """5 % of ~1,400 requests at 800 ms against none of ~2,800 over 750 ms in two 7 s baselines:
    significant even with the baselines' own spread (the bound around the slowed run's p99, where
    neither baseline has a request, varies not at all between them)."""
    p99 = next(r for r in history["doc"]["regressions"] if r["objective"] == "p99_latency")
    assert p99["verdict"] == "regressed" and p99["significant"] and p99["p_value"] < 0.001, p99
    assert "p99_latency: regressed" in history["proc"].stdout
    assert "1 regressed" in history["md"].splitlines()[1]
