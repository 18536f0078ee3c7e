"""The JSON Schemas under ``schemas/`` describe what loadgate writes, and the typed record reads back what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slo.capacity import Outcome, Step, document
from slo.record import load_verdict
from slo.record_types import RecordError, RunRecord, VerdictRecord
from tests.support.schemas import problems
from tests.test_outputs import fixed_document

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("name", ["run/verdict.json", "gate-verdict.json", "v1/run/verdict.json"])
def test_every_golden_verdict_fits_the_verdict_schema_and_its_run_the_run_schema(name):
    doc = json.loads((GOLDEN / name).read_text())
    doc = doc.get("verdict.json", doc)
    assert problems(doc, "verdict") == []
    if "run" in doc:
        assert problems(doc["run"], "run") == []


def test_a_record_built_here_fits_the_schema_and_round_trips_through_its_json():
    doc = fixed_document()
    assert problems(doc, "verdict") == []
    assert VerdictRecord.from_json(doc).to_json() == doc


def test_version_2_counts_are_integers_and_the_schema_refuses_a_float_count():
    doc = fixed_document()
    assert all(isinstance(o["events"], int) for o in doc["objectives"] if o["events"] is not None)
    doc["objectives"][0]["events"] = 10000.0  # a whole float is still no integer in a stored count
    doc["objectives"][1]["evidence"]["bad"] = 50.0
    found = problems(doc, "verdict")
    assert any("objectives/0/events" in p for p in found) and any(p.startswith("objectives/1/evidence") for p in found)
    run = json.loads((GOLDEN / "run/verdict.json").read_text())["verdict.json"]["run"]
    assert problems(run, "run") == []
    assert any(p.startswith("requests") for p in problems({**run, "requests": 503.0}, "run"))


def test_a_version_1_record_reads_with_its_warnings_derived_and_is_written_back_as_version_2():
    doc = json.loads((GOLDEN / "v1/run/verdict.json").read_text())
    assert doc["schema_version"] == 1 and "warnings" not in doc
    assert isinstance(doc["objectives"][0]["events"], float)  # version 1 wrote counts as floats
    record = load_verdict(doc)
    again = record.to_json()
    assert again["schema_version"] == 2 and again["run"]["schema_version"] == 2
    assert again["objectives"][0]["events"] == 399 and isinstance(again["objectives"][0]["events"], int)
    assert problems(again, "verdict") == []
    # Its warnings are derived by the builder's own rules, reason wording included where codes were missing.
    doc["run"]["loadgen_cpu_over_90"] = True
    doc["objectives"][1].update(status="inconclusive", reason="p99 lies in (0.4, 0.5]; add a bucket at 0.45")
    del doc["objectives"][1]["problem"]
    doc["objectives"][2].update(status="inconclusive", reason="add a bucket, said freely", problem=None)
    found = load_verdict(doc).warnings
    assert found[0] == "Missing bucket for P99 latency: p99 lies in (0.4, 0.5]; add a bucket at 0.45"
    assert any("CPU went above 90 %" in w for w in found)
    assert not any("Error rate" in w for w in found)  # a stored null code is read as none, never guessed


@pytest.mark.parametrize(("change", "said"), [
    ({"schema_version": 3}, "schema_version 3; this loadgate reads 1 and 2"),
    ({"objectives": {}}, "verdict.objectives: a field of the wrong type: expected a list, got value"),
    ({"window": {"start": "x"}}, "window: the field 'end' is missing"),
])
def test_a_record_that_is_not_one_is_refused_naming_the_field(change, said):
    with pytest.raises(RecordError, match=said.replace("(", r"\(")):
        VerdictRecord.from_json({**fixed_document(), **change})


def test_run_json_keeps_what_a_command_adds_at_the_top_level():
    run = json.loads((GOLDEN / "run/verdict.json").read_text())["verdict.json"]["run"]
    record = RunRecord.from_json(run)
    assert record.extra == {"demo_api": {"error_fraction": 0.01}}
    assert record.to_json() == run


def test_a_capacity_document_fits_the_capacity_schema():
    steps = [Step(100.0, 98.0, "pass", True, {"p99": {"status": "pass", "measured": 0.2, "kind": "latency"}}),
             Step(200.0, 150.0, "fail", True, {"p99": {"status": "fail", "measured": 0.9, "kind": "latency"}})]
    doc = document(steps, Outcome(100.0, "p99", False, "P99 latency breached at 200 req/s"), spec_name="s",
                   spec_path="s.yaml", host="http://127.0.0.1:1", search={"from": 100, "to": 400, "factor": 2,
                                                                          "precision": 0.1, "source": "locust"},
                   targets=[{"id": "p99", "title": "P99", "kind": "latency", "text": "< 500 ms", "op": "<",
                             "value": 0.5, "unit": "s"}], throughput_target=None,
                   step_dirs=["steps/01-100rps", "steps/02-200rps"], generated_at="2026-01-01T00:00:00Z")
    assert problems(doc, "capacity") == []
    assert problems({**doc, "capacity_rps": "lots"}, "capacity") != []


def test_loadgate_report_re_renders_a_run_directory_written_by_version_1(cli, tmp_path):
    import shutil

    run = tmp_path / "old-run"
    shutil.copytree(GOLDEN / "v1" / "run", run)
    before = (run / "verdict.json").read_text()
    result = cli("report", str(run), environ={"COLUMNS": "100"})
    assert result.code == 0, result.err
    for name in ("report.html", "summary.md", "junit.xml"):
        assert (run / name).is_file(), name
    assert "Error rate (5xx)" in result.out and "✘ FAIL" in result.out
    assert (run / "verdict.json").read_text() == before  # re-rendering reads the record, never rewrites it
    assert "<svg" in (run / "report.html").read_text()  # its stored series still chart
    # A version 1 run is a baseline too.
    again = cli("report", str(run), "--baseline", str(GOLDEN / "v1" / "run"))
    assert again.code == 0, again.err
    stored = json.loads((run / "verdict.json").read_text())
    assert stored["schema_version"] == 2 and problems(stored, "verdict") == []  # compared, so stored anew
    assert stored["baseline"]["verdict"] == "fail" and stored["baseline"]["regressions"] == []
    assert all(o["baseline"]["relative"] in (0.0, None) for o in stored["objectives"])  # the same run: no change
