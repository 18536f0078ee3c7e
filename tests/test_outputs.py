"""Outputs rendered from a fixed gate record: golden summary and JUnit, and an escaped HTML report."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from analysis.sli import NO_SERIES, Problem, Series, SLIData, Window, histogram_from_buckets
from reports.context import build_context
from reports.publish import publish
from reports.render import render_junit, render_markdown
from slo.caveats import caveats
from slo.evaluate import Graded
from slo.grade import grade
from slo.record import build_record, load_verdict
from slo.record_types import VerdictRecord
from slo.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
START, END = 1767226500.0, 1767228300.0


def fixed_document(spec_text: bytes | None = None, selector: str = 'job="api"') -> dict:
    """A gate record with one objective in each status, built through the real grading code."""
    spec = load_spec(spec_text or (REPO / "slo/targets/production.yaml").read_bytes(), "slo/targets/production.yaml")
    h = histogram_from_buckets([("0.1", 9000), ("0.4", 9880), ("0.5", 9950), ("+Inf", 10000)])
    data = {
        "p50_latency": SLIData(value=h.quantile(0.5), events=h.count, bad=1000, histogram=h),
        "p99_latency": SLIData(value=h.quantile(0.99), events=h.count, bad=50, histogram=h),
        "error_rate": SLIData(value=0.0004, events=10000, bad=4, worst_bad_ratio=0.002,
                              detail={"rate_limited_429": 120, "rate_limited_ratio": 0.012}),
        "throughput": SLIData(value=5.5, events=9900, detail={"lowest_1m_rate": 4.2, "minutes": 30}),
        "cache_hit_rate": SLIData(problem=Problem(NO_SERIES, "no cache_hits_total series match {job=\"api\"}")),
        "availability": SLIData(value=29 / 30, events=30, bad=1, worst_bad_ratio=0.2,
                                detail={"slice_seconds": 60, "slices": 30, "good_slices": 29, "resolution": 1 / 30,
                                        "bad_slices": [{"end": START + 600, "reason": "target down (up=0)"}]}),
    }
    for oid, sli in data.items():
        sli.queries.append(f"query_for_{oid}")
    graded = Graded("prometheus", tuple(grade(o, data[o.id]) for o in spec.objectives), data,
                    {"prometheus": "http://127.0.0.1:9090"})
    return build_record(spec, graded, Window(START, END), selector=selector, generated_at=END + 5,
                        tool_version="0.1.0", options={}, run_id="").doc


def run_doc(**changes: object) -> dict:
    """A complete ``run.json`` (the golden run's) with ``changes``."""
    return {**json.loads((GOLDEN / "run" / "verdict.json").read_text())["verdict.json"]["run"], **changes}


def warnings_of(doc: dict) -> tuple[str, ...]:
    """The warnings the record builder decides for a (hand-edited) record document."""
    return caveats(VerdictRecord.from_json(doc))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LOADGATE_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs; rerun with LOADGATE_UPDATE_GOLDEN=1 if the change is meant"


def test_the_summary_table_matches_its_golden_file():
    check_golden("summary.md", render_markdown(build_context(load_verdict(fixed_document()))))


def test_the_junit_file_matches_its_golden_file_and_counts_failures_and_errors():
    text = render_junit(build_context(load_verdict(fixed_document())))
    check_golden("junit.xml", text)
    suite = ET.fromstring(text)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "2", "1")


def test_the_document_is_strict_json_with_a_schema_version():
    doc = fixed_document()
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["schema_version"] == 2
    assert [o["status"] for o in doc["objectives"]] == ["pass", "warn", "pass", "fail", "no_data", "fail"]
    p99 = doc["objectives"][1]
    assert set(p99) >= {"id", "title", "status", "measured", "unit", "target", "warn", "events", "evidence",
                        "budget", "detail"}
    assert p99["target"] == {"op": "<", "value": 0.5}


def hostile_report(tmp_path: Path) -> Path:
    """A stored gate whose spec, selector and series names carry markup; returns its report."""
    hostile = b"""version: loadgate/v1
name: '<img src=x onerror=alert(1)>'
objectives:
  - {id: error_rate, title: '<script>alert(1)</script>', kind: error_rate, threshold: 1%}
"""
    spec = load_spec(hostile, "evil.yaml")
    sli = SLIData(value=0.5, events=10, bad=5,
                  series=[Series("<script>alert(3)</script>", "ratio", ((START, 0.5), (END, 0.5)))])
    graded = Graded("prometheus", (grade(spec.objectives[0], sli),), {"error_rate": sli})
    publish(tmp_path, build_record(spec, graded, Window(START, END), selector='job="<script>alert(2)</script>"',
                                   generated_at=END, tool_version="0", options={}, run_id=tmp_path.name))
    return tmp_path / "report.html"


def test_hostile_titles_and_selectors_render_as_text_in_the_html_report(tmp_path):
    html = hostile_report(tmp_path).read_text()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    summary = (tmp_path / "summary.md").read_text()
    assert "<script>alert(1)</script>" in summary  # Markdown is plain text for pipelines; HTML escapes it
    ET.parse(tmp_path / "junit.xml")  # still well-formed XML


@pytest.mark.parametrize("status, icon, word", [("pass", "✔", "PASS"), ("fail", "✘", "FAIL")])
def test_status_is_never_shown_by_colour_alone(status, icon, word):
    ctx = build_context(load_verdict(fixed_document()))
    row = next(r for r in ctx.rows if r.status == status)
    assert (row.icon, row.label) == (icon, word)


def test_warnings_name_missing_data_lost_workers_low_rate_cpu_and_a_client_server_gap():
    doc = fixed_document()
    doc["objectives"][1]["client"] = {"status": "pass", "measured": doc["objectives"][1]["measured"] * 3,
                                      "unit": "s", "events": 1, "reason": "", "evidence": None, "detail": {}}
    doc["run"] = run_doc(processes=2, workers=1, target_rate=200, loadgen_cpu_over_90=True)
    found = warnings_of(doc)
    assert any(w.startswith("No data for Cache hit rate") for w in found)
    assert any("Workers lost: 1 of 2" in w for w in found)
    assert any("below 90 % of the requested 200 req/s" in w for w in found)  # 5.5 req/s measured
    assert any("CPU went above 90 %" in w for w in found)
    assert any("Client-side P99 latency" in w and "3.0× the server's" in w for w in found)


def test_tier_rows_say_whether_rate_limiting_held():
    doc = fixed_document()
    doc["run"] = run_doc(tier_limits_per_min={"free": 10, "pro": 200})
    doc["breakdown"] = {"endpoints": [], "tiers": [
        {"tier": "free", "users": 3, "requests": 30, "ok": 30, "rate_limited": 0, "failure": 0, "http_429": 0,
         "accepted_per_user_per_min": 8.0},
        {"tier": "pro", "users": 1, "requests": 10, "ok": 8, "rate_limited": 0, "failure": 2, "http_429": 2,
         "accepted_per_user_per_min": 160.0},
        {"tier": "free_over_limit", "users": 1, "requests": 20, "ok": 10, "rate_limited": 10, "failure": 0,
         "http_429": 10, "accepted_per_user_per_min": 10.0}]}
    rows = {r[0]: r for r in build_context(load_verdict(doc)).tier_rows}
    assert rows["free"][3:5] == ("8.0/min", "10/min") and rows["free"][-1] == "✔ no 429s"
    assert rows["pro"][-1] == "✘ 429s for in-limit users"
    assert rows["free over limit"][-1] == "✔ refused over the limit"


def test_the_report_view_model_matches_its_golden_file():
    import dataclasses

    ctx = dataclasses.asdict(build_context(load_verdict(fixed_document())))
    ctx["generated_at"] = "<masked>"
    ctx["tool_version"] = "<masked>"
    ctx["spec_text"] = "<masked: the spec file>"
    check_golden("context.json", json.dumps(ctx, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def test_long_series_are_downsampled_for_display_without_losing_spikes():
    import pandas as pd

    from reports.charts import MAX_POINTS_PER_LINE, _downsample

    values = [1.0] * 5760
    values[4321], values[17] = 50.0, -3.0
    series = pd.Series(values, index=pd.date_range("2026-01-01", periods=5760, freq="15s"))
    shown = _downsample(series)
    assert len(shown) <= MAX_POINTS_PER_LINE
    assert shown.max() == 50.0 and shown.min() == -3.0
    assert shown.index.is_monotonic_increasing


def test_warnings_are_decided_by_problem_codes_not_by_the_wording_of_reasons():
    doc = fixed_document()
    doc["objectives"][0].update(status="inconclusive", problem="missing_bucket", reason="reworded freely")
    doc["objectives"][1].update(status="inconclusive", problem="needs_prometheus", reason="also reworded")
    doc["objectives"][2].update(status="inconclusive", problem=None, reason="add a bucket at le=0.3")
    found = warnings_of(doc)
    assert "Missing bucket for P50 latency: reworded freely" in found
    assert "P99 latency skipped: also reworded" in found
    assert not any("Error rate" in w for w in found)


def test_a_record_stored_before_problem_codes_still_gets_its_warnings():
    doc = fixed_document()
    doc["schema_version"] = 1  # version 1 stored no warnings, and its objectives could lack problem codes
    del doc["warnings"]
    doc["objectives"][0].update(status="inconclusive", reason="p50 lies in bucket (0.1, 0.4]; add a bucket at 0.3")
    for entry in doc["objectives"]:
        del entry["problem"]
    assert "Missing bucket for P50 latency: p50 lies in bucket (0.1, 0.4]; add a bucket at 0.3" in \
        build_context(load_verdict(doc)).warnings


def test_a_latency_the_server_passes_and_the_clients_fail_is_a_warning_naming_coordinated_omission():
    doc = fixed_document()
    p99 = doc["objectives"][1]
    p99.update(status="pass")
    p99["client"] = {"status": "fail", "measured": 1.44, "unit": "s", "events": 2000, "reason": "", "evidence": None,
                     "detail": {"measured_from": "the intended sends (open model: corrected for coordinated omission)"}}
    found = [w for w in warnings_of(doc) if w.startswith("P99 latency passes at the server")]
    assert len(found) == 1
    assert "(timed from their intended sends)" in found[0] and "coordinated omission" in found[0]
    assert not any(w.startswith("Client-side P99 latency") for w in warnings_of(doc))  # said once
