"""``loadgate history`` over stored records, without servers: which runs it reads, in which order, and what it writes.

The input runs are the golden run record (``golden/run``) re-dated and, for the newest, slowed:
its p99 histogram moved past the threshold. The version 1 golden run is read beside them.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from reports.history import MARKER, HistoryInput, build_history
from slo.record import load_verdict
from tests.support.schemas import problems
from tests.test_golden import GOLDEN, check_golden

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "history.schema.json").read_text())
_GOLDEN_RUN = json.loads((GOLDEN / "run" / "verdict.json").read_text())["verdict.json"]
#: The newest run's p99: 30 of 399 requests moved from 0.5 s to 1 s.
SLOW_BUCKETS = [[0.005, 360], [0.01, 369], [0.025, 369], [0.05, 369], [0.075, 369], [0.1, 369], [0.25, 369],
                [0.4, 369], [0.5, 369], [0.75, 389], [1.0, 399], [2.5, 399], [5.0, 399], [10.0, 399], [None, 399]]


def schema_problems(doc: Any) -> list[str]:
    """Every way ``doc`` breaks ``schemas/history.schema.json`` (integers strict, as for every record)."""
    return problems(doc, "history")


def verdict_doc(generated_at: str, *, slow: bool = False, sha: str | None = None,
                version: str = "0.1.0") -> dict[str, Any]:
    """The golden run's verdict.json, graded at ``generated_at``; ``slow`` fails its p99."""
    doc = copy.deepcopy(_GOLDEN_RUN)
    doc["generated_at"] = generated_at
    doc["tool"]["version"] = version
    doc["spec"]["path"] = "slo/targets/local.yaml"
    doc["run"]["git_sha"] = sha
    if slow:
        p99 = next(o for o in doc["objectives"] if o["id"] == "p99_latency")
        p99.update(measured=0.97, status="fail")
        p99["detail"]["buckets"] = SLOW_BUCKETS
    return doc


def write_run(root: Path, name: str, generated_at: str, **kwargs: Any) -> Path:
    out = root / name
    out.mkdir(parents=True)
    (out / "verdict.json").write_text(json.dumps(verdict_doc(generated_at, **kwargs)))
    return out


def write_capacity(root: Path, name: str, generated_at: str, capacity: float | None = 410.0) -> Path:
    out = root / name
    out.mkdir(parents=True)
    doc = {"schema_version": 1, "capacity_rps": capacity, "limited_by": "p99_latency", "lower_bound": False,
           "reason": "p99 latency breached at 460 req/s", "throughput_target": 180.0, "meets_target": True,
           "generated_at": generated_at, "host": "http://127.0.0.1:8000", "spec": {"name": "local", "path": "x"},
           "search": {"from": 100, "to": 800, "factor": 2, "precision": 0.1, "source": "locust"},
           "steps": [], "table": []}
    (out / "capacity.json").write_text(json.dumps(doc))
    return out


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """Four runs in one folder, named out of time order; the newest (``d-slow``) is slowed."""
    root = tmp_path / "artifacts"
    write_run(root, "c-first", "2026-11-30T10:00:00Z", sha="a" * 40)
    write_run(root, "a-second", "2026-11-30T11:00:00Z", sha="b" * 40)
    write_run(root, "b-third", "2026-11-30T12:00:00Z", sha="c" * 40)
    write_run(root, "d-slow", "2026-11-30T13:00:00Z", slow=True, sha="d" * 40, version="0.2.0")
    return root


def history_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "history.json").read_text())


def test_runs_are_ordered_by_when_they_were_graded_not_by_name(cli, runs, tmp_path):
    result = cli("history", str(runs), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    doc = history_of(tmp_path / "h")
    assert [r["id"] for r in doc["runs"]] == ["c-first", "a-second", "b-third", "d-slow"]
    assert [r["graded_at"] for r in doc["runs"]] == sorted(r["graded_at"] for r in doc["runs"])
    assert doc["newest"] == "d-slow" and doc["baseline_runs"] == ["c-first", "a-second", "b-third"]
    assert {r["kind"] for r in doc["runs"]} == {"run"} and doc["runs"][0]["git_sha"] == "a" * 40


def test_the_history_json_fits_its_schema_and_holds_each_objectives_trend(cli, runs, tmp_path):
    cli("history", str(runs), "--out", str(tmp_path / "h"))
    doc = history_of(tmp_path / "h")
    assert schema_problems(doc) == []
    assert doc["schema_version"] == 1
    p99 = doc["objectives"]["p99_latency"]
    assert [p["status"] for p in p99] == ["warn", "warn", "warn", "fail"]
    assert [p["threshold"] for p in p99] == [0.5] * 4 and p99[-1]["measured"] == 0.97
    assert doc["objective_info"]["p99_latency"] == {"title": "P99 latency", "kind": "latency", "unit": "s", "op": "<"}


def test_the_newest_runs_slower_p99_is_a_significant_regression_against_the_three_before(cli, runs, tmp_path):
    cli("history", str(runs), "--out", str(tmp_path / "h"))
    rows = {r["objective"]: r for r in history_of(tmp_path / "h")["regressions"]}
    assert set(rows) >= {"p99_latency", "error_rate"}
    p99 = rows["p99_latency"]
    assert p99["run"] == "d-slow" and p99["baseline_runs"] == 3
    assert p99["verdict"] == "regressed" and p99["significant"] and p99["effect"] > 0.1
    # The other objectives are copies of the baseline runs: nothing changed.
    assert rows["error_rate"]["verdict"] in ("unchanged", "inconclusive")
    assert not rows["error_rate"]["significant"]


def test_a_regression_exits_1_only_with_fail_on_regression(cli, runs, tmp_path):
    assert cli("history", str(runs), "--out", str(tmp_path / "a")).code == 0
    result = cli("history", str(runs), "--out", str(tmp_path / "b"), "--fail-on-regression")
    assert result.code == 1, result.err
    assert "p99_latency: regressed" in result.out


def test_a_glob_names_the_runs_as_a_parent_folder_does(cli, runs, tmp_path):
    cli("history", str(runs), "--out", str(tmp_path / "a"))
    cli("history", str(runs / "*"), "--out", str(tmp_path / "b"))
    ids = [[r["id"] for r in history_of(tmp_path / x)["runs"]] for x in "ab"]
    assert ids[0] == ids[1] and len(ids[0]) == 4


def test_empty_and_broken_directories_are_named_in_a_warning_and_skipped(cli, runs, tmp_path):
    (tmp_path / "empty").mkdir()
    broken = runs / "e-broken"
    broken.mkdir()
    (broken / "verdict.json").write_text("{not json")
    strange = runs / "f-strange"
    strange.mkdir()
    (strange / "verdict.json").write_text(json.dumps({"schema_version": 2, "verdict": "maybe"}))
    result = cli("history", str(runs), str(tmp_path / "empty"), str(tmp_path / "missing"), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    for name in ("empty", "missing", "e-broken", "f-strange"):
        assert re.search(rf"loadgate: warning: .*{name}", result.err), (name, result.err)
    assert len(history_of(tmp_path / "h")["runs"]) == 4


def test_no_record_at_all_is_a_usage_error_exit_2_without_a_traceback(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("history", str(tmp_path / "empty"), str(tmp_path / "nothing-*"), "--out", str(tmp_path / "h"))
    assert result.code == 2
    assert "no gate, run or capacity record found" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "h").exists()


def test_a_version_1_record_is_read_beside_version_2_ones(cli, runs, tmp_path):
    v1 = tmp_path / "v1"
    shutil.copytree(GOLDEN / "v1" / "run", v1 / "old-v1")  # graded 2026-11-29: the oldest
    result = cli("history", str(runs), str(v1), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    doc = history_of(tmp_path / "h")
    assert doc["runs"][0]["id"] == "old-v1" and doc["runs"][0]["verdict"] == "fail"
    assert doc["objectives"]["p99_latency"][0]["run"] == "old-v1"
    assert schema_problems(doc) == []


def test_last_keeps_the_newest_runs_and_compares_with_the_ones_kept_before(cli, runs, tmp_path):
    cli("history", str(runs), "--last", "2", "--out", str(tmp_path / "h"))
    doc = history_of(tmp_path / "h")
    assert [r["id"] for r in doc["runs"]] == ["b-third", "d-slow"]
    assert doc["baseline_runs"] == ["b-third"]
    assert {r["baseline_runs"] for r in doc["regressions"]} == {1}


def test_labels_come_from_the_git_sha_or_the_version_and_fall_back_to_the_directory_with_a_warning(cli, runs,
                                                                                                   tmp_path):
    write_capacity(runs, "cap", "2026-11-30T12:30:00Z")
    result = cli("history", str(runs), "--label-from", "git_sha", "--out", str(tmp_path / "a"))
    labels = [r["label"] for r in history_of(tmp_path / "a")["runs"]]
    assert labels == ["aaaaaaa", "bbbbbbb", "ccccccc", "cap", "ddddddd"]
    assert re.search(r"warning: .*cap: no git sha recorded.*labelled by its directory, cap", result.err)
    cli("history", str(runs), "--label-from", "version", "--out", str(tmp_path / "b"))
    labels = [r["label"] for r in history_of(tmp_path / "b")["runs"]]
    assert labels == ["0.1.0", "0.1.0-2", "0.1.0-3", "cap", "0.2.0"]  # repeats told apart


def test_a_capacity_search_is_in_the_trend_but_never_a_baseline(cli, runs, tmp_path):
    write_capacity(runs, "cap", "2026-11-30T13:30:00Z")  # the newest directory of all
    result = cli("history", str(runs), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    doc = history_of(tmp_path / "h")
    cap = doc["runs"][-1]
    assert cap["kind"] == "capacity" and cap["capacity_rps"] == 410.0 and cap["verdict"] == "pass"
    assert doc["newest"] == "d-slow" and "cap" not in doc["baseline_runs"]
    assert all(p["run"] != "cap" for points in doc["objectives"].values() for p in points)
    assert 'id="trend-capacity"' in (tmp_path / "h" / "history.html").read_text()


def test_one_run_alone_is_written_with_nothing_to_compare(cli, runs, tmp_path):
    result = cli("history", str(runs / "d-slow"), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    doc = history_of(tmp_path / "h")
    assert doc["regressions"] == [] and doc["baseline_runs"] == [] and schema_problems(doc) == []
    assert "no earlier run to compare with" in (tmp_path / "h" / "history.md").read_text()


def test_without_out_it_writes_a_new_history_directory_under_runs(cli, runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("history", str(runs), clock=lambda: 1796040000.0)
    assert result.code == 0, result.err
    assert (tmp_path / "runs" / "20261130T120000Z-history" / "history.md").is_file()


def test_history_md_starts_with_the_marker_and_matches_its_golden_file(cli, runs, tmp_path):
    cli("history", str(runs), "--out", str(tmp_path / "h"))
    text = (tmp_path / "h" / "history.md").read_text()
    assert text.splitlines()[0] == MARKER
    # The p-values and effects are the statistics' own; only where the runs lay is volatile.
    check_golden("history.md", text.replace(str(tmp_path), "<tmp>"))


def test_history_md_lines_fit_in_80_columns(cli, runs, tmp_path):
    write_capacity(runs, "cap", "2026-11-30T12:30:00Z")
    cli("history", str(runs), "--label-from", "git_sha", "--out", str(tmp_path / "h"))
    long = [line for line in (tmp_path / "h" / "history.md").read_text().splitlines() if len(line) > 80]
    assert long == []


def test_history_html_is_one_self_contained_page_with_a_chart_per_objective_and_the_grid(cli, runs, tmp_path):
    cli("history", str(runs), "--out", str(tmp_path / "h"))
    html = (tmp_path / "h" / "history.html").read_text()
    doc = history_of(tmp_path / "h")
    assert html.count('<div class="trend" id="trend-') == len(doc["objectives"])
    assert html.count("<svg") >= len(doc["objectives"])
    assert '<table id="grid">' in html and html.count('class="cell status') == 4 * len(doc["objectives"])
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from elsewhere


def test_build_history_orders_and_compares_records_passed_in_directly():
    docs = {"x": verdict_doc("2026-11-30T12:00:00Z"), "y": verdict_doc("2026-11-30T11:00:00Z")}
    inputs = [HistoryInput(dir=name, name=name, verdict=load_verdict(doc)) for name, doc in docs.items()]
    history = build_history(inputs)
    assert [r.id for r in history.runs] == ["y", "x"] and history.newest == "x" and history.baseline == ("y",)
    assert schema_problems(history.to_json()) == []


def test_a_glob_passes_over_files_and_earlier_history_outputs_without_a_warning(cli, runs, tmp_path):
    (runs / "notes.txt").write_text("not a run")
    assert cli("history", str(runs), "--out", str(runs / "old-history")).code == 0
    result = cli("history", str(runs / "*"), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    assert "warning" not in result.err
    assert len(history_of(tmp_path / "h")["runs"]) == 4
    result = cli("history", str(runs / "notes.txt"), str(runs / "d-slow"), "--out", str(tmp_path / "h2"))
    assert re.search(r"warning: .*notes.txt: not a directory", result.err)


def test_a_recursive_glob_finds_runs_at_any_depth_but_not_a_capacity_searchs_steps(cli, runs, tmp_path):
    search = write_capacity(runs / "nightly", "cap", "2026-11-30T12:30:00Z")
    write_run(search / "steps", "step-1", "2026-11-30T12:20:00Z")
    (runs / "a-second" / "series").mkdir()
    result = cli("history", str(runs / "**"), "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    assert "warning" not in result.err  # a run's series/ is part of it, not a directory without a record
    assert [r["id"] for r in history_of(tmp_path / "h")["runs"]] == ["c-first", "a-second", "b-third", "cap", "d-slow"]
