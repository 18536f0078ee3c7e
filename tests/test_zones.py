"""Load zones without processes: synthetic series with per-zone counts, graded per zone; the spec key; the flags."""

from __future__ import annotations

import bisect
import io
import json

import pytest

import contract
from analysis.client_series import parse_series
from analysis.client_source import ClientSource
from analysis.sli import Window
from analysis.zones import ZONE_SOURCE, lost_zones, zone_figures, zone_names
from loadgate.cmd_worker import worker_command
from loadgate.run_zones import grade_each_zone, zones_record
from reports.zone_texts import zone_rows, zones_text
from slo.evaluate import grade_source
from slo.grade import FAIL, INCONCLUSIVE, PASS
from slo.loadgate_v1 import load_loadgate_v1
from slo.located import SpecError
from slo.zones import NO_ZONES_NOTE, ZONE_LOST
from tests.support.schemas import problems

START = 1000.0
WINDOW = Window(START + 2, START + 20)
SPEC = b"""version: loadgate/v1
name: zones
objectives:
  - {id: p99_each, kind: latency, percentile: 99, threshold: "< 250ms", zones: each}
  - {id: errors_each, kind: error_rate, threshold: "< 1%", zones: each}
  - {id: p99_all, kind: latency, percentile: 99, threshold: "< 1s"}
"""


def _zone_part(n: int, failed: int, ms: float, new: int, workers: int, responses: dict[str, float]) -> dict:
    index = bisect.bisect_left(contract.SLO_BUCKETS, ms / 1000.0)
    buckets = [0 if i < index else n for i in range(len(contract.SLO_BUCKETS) + 1)]
    return {"workers": workers, "worker_responses": responses,
            "responses": [["/api/items", "pro", "ok", "200", n - failed],
                          ["/api/items", "pro", "failure", "502", failed]],
            "latency": [["/api/items", "pro", buckets, n * ms / 1000.0]],
            "times": {"/api/items": [ms, new]} if new else {}, "cache": {"hit": 0, "miss": 0}}


def series(zones: dict[str, float], *, rate: int = 10, seconds: int = 22, failing: dict[str, int] | None = None,
           lost: dict[str, int] | None = None):
    """A master's client series: each zone's one worker (``w-<zone>``) sends ``rate`` responses a
    second taking ``zones[zone]`` ms, ``failing[zone]`` of them failed each second; a zone in
    ``lost`` stops at that second (its worker lost)."""
    failing, lost = failing or {}, lost or {}
    lines = [json.dumps(contract.series_header()), json.dumps({"event": "test_start", "t": START - 0.5})]
    events = {START + at + 0.5: zone for zone, at in lost.items()}
    for s in range(seconds + 1):
        for t, zone in sorted(events.items()):
            if START + s - 1 < t <= START + s:
                lines.append(json.dumps({"event": "worker_lost", "t": t, "worker": f"w-{zone}", "zone": zone}))
        parts = {}
        for zone, ms in zones.items():
            sent = min(s, lost.get(zone, seconds + 1))
            n = sent * rate
            new = rate if 0 < s <= lost.get(zone, seconds + 1) else 0
            parts[zone] = _zone_part(n, sent * failing.get(zone, 0), ms, new,
                                     0 if s > lost.get(zone, seconds + 1) else 1, {f"w-{zone}": float(n)})
        lines.append(json.dumps({"t": START + s, "target_rate": rate * len(zones), "users": {}, "workers": len(zones),
                                 "responses": _sum_rows(parts), "latency": _sum_latency(parts),
                                 "times": _sum_times(parts), "cache": {"hit": 0, "miss": 0}, "zones": parts}))
    return parse_series(lines)


def _sum_rows(parts: dict) -> list:
    out: dict[tuple, float] = {}
    for part in parts.values():
        for e, tier, r, c, n in part["responses"]:
            out[(e, tier, r, c)] = out.get((e, tier, r, c), 0) + n
    return [[*k, n] for k, n in out.items()]


def _sum_latency(parts: dict) -> list:
    buckets = [0] * (len(contract.SLO_BUCKETS) + 1)
    for part in parts.values():
        for i, c in enumerate(part["latency"][0][2]):
            buckets[i] += c
    return [["/api/items", "pro", buckets, 0.0]]


def _sum_times(parts: dict) -> dict:
    flat: list[float] = []
    for part in parts.values():
        flat += part["times"].get("/api/items", [])
    return {"/api/items": flat} if flat else {}


def spec(text: bytes = SPEC):
    return load_loadgate_v1(text, "zones.yaml")


def graded(s, text: bytes = SPEC):
    sp = spec(text)
    overall = grade_source(sp, ClientSource(s, WINDOW))
    return {v.objective.id: v for v in grade_each_zone(sp, overall, s, WINDOW, None, "client_series.jsonl",
                                                       False).verdicts}


def test_each_zones_figures_come_from_its_own_counts():
    s = series({"near": 5.0, "mid": 85.0, "far": 300.0}, failing={"mid": 1})
    figures = {f.zone: f for f in zone_figures(s, WINDOW)}
    assert zone_names(s) == ("far", "mid", "near")
    assert figures["far"].p50_s == pytest.approx(0.3) and figures["near"].p99_s == pytest.approx(0.005)
    assert figures["mid"].error_rate == pytest.approx(0.1) and figures["near"].error_rate == 0
    assert figures["far"].throughput_per_s == pytest.approx(10.0) and figures["far"].responses == 180
    assert all(f.lost is None and f.workers == 1 for f in figures.values())


def test_a_zones_each_p99_objective_fails_in_the_far_zone_only_and_names_it():
    v = graded(series({"near": 5.0, "mid": 85.0, "far": 300.0}))
    p99 = v["p99_each"]
    assert p99.status == FAIL and "fails in far" in p99.reason and "mid" not in p99.reason.split("fails in")[1]
    assert {z: d["status"] for z, d in p99.detail["zones"].items()} == {"far": FAIL, "mid": PASS, "near": PASS}
    assert p99.measured == pytest.approx(0.3) and p99.detail["deciding_zone"] == "far"
    # The source's own grading over every zone is kept beside: it fails too, but cannot say where.
    assert p99.detail["zone_source"] == ZONE_SOURCE and p99.detail["overall"]["status"] == FAIL
    assert v["errors_each"].status == PASS and v["p99_all"].status == PASS


def test_each_zones_line_joins_the_objectives_chart():
    sp = spec()
    s = series({"near": 5.0, "far": 300.0})
    zoned = grade_each_zone(sp, grade_source(sp, ClientSource(s, WINDOW)), s, WINDOW, None, "c.jsonl", False)
    names = [line.name for line in zoned.data["p99_each"].series]
    assert "client p99 (5 s windows) [zone far]" in names and "client p99 (5 s windows) [zone near]" in names
    assert not any("[zone" in line.name for line in zoned.data["p99_all"].series)


def test_an_objective_that_holds_in_every_zone_passes_with_the_worst_zones_measurement():
    v = graded(series({"near": 5.0, "mid": 85.0}))
    assert v["p99_each"].status == PASS and v["p99_each"].measured == pytest.approx(0.085)
    assert "holds in every zone, the worst mid" in v["p99_each"].reason


def test_a_zone_whose_workers_were_all_lost_is_named_and_makes_the_objective_inconclusive():
    s = series({"near": 5.0, "mid": 85.0}, lost={"mid": 10})
    assert list(lost_zones(s, WINDOW)) == ["mid"] and "worker w-mid" in lost_zones(s, WINDOW)["mid"]
    v = graded(s)
    for oid in ("p99_each", "errors_each"):
        assert v[oid].status == INCONCLUSIVE and v[oid].problem == ZONE_LOST, v[oid].reason
        assert "zone mid stopped reporting" in v[oid].reason and "cannot pass" in v[oid].reason
    assert v["p99_all"].status == PASS  # graded overall, as before
    figures = {f.zone: f for f in zone_figures(s, WINDOW)}
    assert figures["mid"].lost and figures["near"].lost is None


def test_a_failing_zone_fails_the_objective_even_when_another_zone_was_lost():
    v = graded(series({"near": 5.0, "far": 300.0, "mid": 85.0}, lost={"mid": 10}))
    assert v["p99_each"].status == FAIL and "fails in far" in v["p99_each"].reason


def test_an_objective_whose_whole_fails_fails_even_when_every_zone_holds():
    """Requests of no zone (a worker without --zone) are graded in the whole only: its failure stands."""
    import dataclasses

    from slo.zones import combine

    held = graded(series({"near": 5.0, "mid": 85.0}))["p99_each"]
    overall = dataclasses.replace(held, status=FAIL, reason="p99 misses < 250 ms over every request")
    v = combine(held.objective, {"near": held, "mid": held}, {}, overall)
    assert v.status == FAIL and "fails overall although" in v.reason and v.detail["overall"]["status"] == FAIL


def test_a_zone_lost_after_the_window_counts_as_reporting():
    s = series({"near": 5.0, "mid": 85.0}, lost={"mid": 21})
    assert lost_zones(s, WINDOW) == {}


def test_without_zones_a_zones_each_objective_is_graded_overall_with_a_note():
    lines = [json.dumps(contract.series_header())]
    for s in range(22):
        lines.append(json.dumps({"t": START + s, "responses": [["/api/items", "pro", "ok", "200", s * 10]],
                                 "latency": [["/api/items", "pro", [s * 10] * 15, 0.0]],
                                 "times": {"/api/items": [4.0, 10]} if s else {}, "cache": {"hit": 0, "miss": 0}}))
    v = graded(parse_series(lines))
    assert v["p99_each"].status == PASS and NO_ZONES_NOTE in v["p99_each"].reason
    assert v["p99_each"].detail["zones_note"] == NO_ZONES_NOTE
    assert zones_record(parse_series(lines), WINDOW) is None


def test_the_zones_record_validates_and_reads_in_words():
    s = series({"near": 5.0, "mid": 85.0}, lost={"mid": 10})
    record = zones_record(s, WINDOW)
    assert record is not None and record["source"] == ZONE_SOURCE and list(record["lost"]) == ["mid"]
    rows = zone_rows(record)
    assert [r[0] for r in rows] == ["mid", "near"] and rows[0][-1] == "stopped" and rows[1][-1] == "yes"
    assert rows[1][1:3] == ("5 ms", "5 ms") and rows[0][3] == "0 %"
    text = zones_text(record)
    assert text.startswith("Load zones (client side, per zone)") and "zone mid stopped reporting" in text


@pytest.mark.parametrize("text, message", [
    (b"zones: all", "expected 'each'"),
    (b"zones: [each]", "zones"),
])
def test_a_zones_key_other_than_each_is_a_located_error(text, message):
    with pytest.raises(SpecError) as caught:
        spec(b"version: loadgate/v1\nname: z\nobjectives:\n  - id: p99\n    kind: latency\n    percentile: 99\n"
             b"    threshold: '< 1s'\n    " + text + b"\n")
    assert "zones.yaml:8" in str(caught.value) and message in str(caught.value)


def test_zones_each_on_a_kind_the_client_cannot_grade_per_zone_is_refused():
    with pytest.raises(SpecError) as caught:
        spec(b"version: loadgate/v1\nname: z\nobjectives:\n  - id: q\n    kind: promql_value\n    query: up\n"
             b"    threshold: '< 1'\n    zones: each\n")
    assert "objectives[0].zones" in str(caught.value) and "not graded per zone" in str(caught.value)


@pytest.mark.parametrize("name, ok", [("eu-west", True), ("z1", True), ("us_east_1", True), ("EU", False),
                                      ("1zone", False), ("a b", False), ("", False), ("x" * 33, False),
                                      ("zone.x", False), ("é", False)])
def test_a_zone_name_is_a_short_label_safe_word(name, ok):
    assert (contract.zone_problem(name) is None) == ok


def test_a_worker_passes_its_zone_to_locust():
    assert worker_command("10.0.0.5", 5557, None, "eu-west")[-2:] == ["--lg-zone", "eu-west"]
    assert "--lg-zone" not in worker_command("10.0.0.5", 5557, None)


@pytest.mark.parametrize("argv", [
    ["worker", "--master", "10.0.0.5:5557", "--zone", "EU West"],
    ["run", "--host", "http://127.0.0.1:1", "--zone", "9lives"],
])
def test_a_bad_zone_name_exits_2_naming_the_flag(argv):
    from loadgate.cli import main
    from loadgate.env import Env

    err = io.StringIO()
    code = main(argv, Env(stdout=io.StringIO(), stderr=err))
    assert code == 2 and "--zone" in err.getvalue() and "Traceback" not in err.getvalue()


def test_zone_on_a_master_run_exits_2():
    from loadgate.cli import main
    from loadgate.env import Env

    err = io.StringIO()
    code = main(["run", "--master", "--expect-workers", "1", "--host", "http://127.0.0.1:1", "--zone", "eu",
                 "--out", "/nonexistent/never"], Env(stdout=io.StringIO(), stderr=err))
    assert code == 2 and "--zone applies to a local run" in err.getvalue()


def test_a_run_document_with_zones_fits_the_schema():
    s = series({"near": 5.0, "mid": 85.0}, lost={"mid": 10})
    zones = zones_record(s, WINDOW)
    bad = [p for p in problems({"zones": zones}, "run") if p.startswith("zones")]
    assert bad == []
    broken = {**zones, "figures": [{**zones["figures"][0], "zone": "Bad Zone"}]}
    assert any(p.startswith("zones/figures/0/zone") for p in problems({"zones": broken}, "run"))
