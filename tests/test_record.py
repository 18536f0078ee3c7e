"""The grading loop and the record builder: pure, so a stand-in source is enough here.

The real sources are tested against a real Prometheus (``test_gate_prometheus.py``) and a real
load generator (``test_e2e_*.py``); these tests pin what the chain does with what they answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.sli import NO_SERIES, Problem, Series, SLIData, Window
from analysis.source import Chart, QueryFailed, SourceUnreachable
from slo.compare import Baseline
from slo.evaluate import Graded, grade_source
from slo.gate import ExitCode
from slo.grade import QUERY_FAILED, SOURCE_UNREACHABLE
from slo.record import build_record, merge_overview
from slo.spec import read_spec

REPO = Path(__file__).resolve().parent.parent
SPEC = read_spec(REPO / "slo/targets/production.yaml")
WINDOW = Window(1000.0, 2800.0)


class StandIn:
    """An ``SLISource`` answering fixed SLIs; ``fail`` maps a method to the error it raises."""

    name = "prometheus"
    title = "Prometheus"

    def __init__(self, fail: dict[str, Exception] | None = None, refuse_open: bool = False):
        self.fail = fail or {}
        self.refuse_open = refuse_open
        self.calls: list[str] = []

    def open(self) -> None:
        if self.refuse_open:
            raise SourceUnreachable("connection refused")

    def info(self, error: str | None = None) -> dict[str, Any]:
        return {"url": "stand-in", **({"error": error} if error else {})}

    def _answer(self, method: str, value: float, events: float = 1e6, bad: float = 0.0) -> SLIData:
        self.calls.append(method)
        if method in self.fail:
            raise self.fail[method]
        return SLIData(value=value, events=events, bad=bad, queries=[f"q_{method}"],
                       series=[Series(method, "x", ((1500.0, value),))])

    def latency(self, quantile: float, threshold_s: float) -> SLIData:
        from analysis.sli import histogram_from_buckets

        data = self._answer("latency", 0.05)
        data.histogram = histogram_from_buckets([("0.1", 990), ("0.4", 999), ("0.5", 1000), ("+Inf", 1000)])
        data.events, data.bad = 1000, data.histogram.count_above(threshold_s)
        return data

    def errors(self) -> SLIData:
        return self._answer("errors", 0.0)

    def throughput(self) -> SLIData:
        return self._answer("throughput", 12_000.0)

    def cache(self) -> SLIData:
        return self._answer("cache", 0.9, bad=1e5)

    def availability(self, slice_s: float, max_error_ratio: float) -> SLIData:
        return self._answer("availability", 1.0, events=30)

    def promql_ratio(self, good: str | None, bad: str | None, total: str) -> SLIData:
        return SLIData(problem=Problem(NO_SERIES, "none"))

    def promql_value(self, query: str, unit: str) -> SLIData:
        return SLIData(problem=Problem(NO_SERIES, "none"))

    def promql_slices(self, good: str | None, bad: str | None, total: str, slice_s: float,
                      slice_target: float | None) -> SLIData:
        return SLIData(problem=Problem(NO_SERIES, "none"))

    def promql_threshold(self, query: str, op: str, value: float, step_s: float | None) -> SLIData:
        return SLIData(problem=Problem(NO_SERIES, "none"))

    def overview(self, with_latency: bool) -> list[Chart]:
        return [Chart("latency", "Latency", "s", (Series("server p99", "s", ((1500.0, 0.1),)),))]


def record(graded: Graded, **kwargs: Any):
    return build_record(SPEC, graded, WINDOW, selector="", generated_at=3000.0, tool_version="t", run_id="r",
                        options=kwargs.pop("options", {}), **kwargs)


def test_a_healthy_source_passes_and_the_record_holds_the_one_decision():
    rec = record(grade_source(SPEC, StandIn()))
    assert rec.exit_code == ExitCode.PASS
    assert (rec.doc["verdict"], rec.doc["exit_code"]) == ("pass", 0)
    assert set(rec.series) == {f"series/{o.id}.json" for o in SPEC.objectives} | {"series/overview-latency.json"}
    assert rec.doc["objectives"][0]["queries"] == ["q_latency"]


def test_an_unreachable_source_makes_every_objective_inconclusive_and_asks_nothing_more():
    source = StandIn(refuse_open=True)
    graded = grade_source(SPEC, source)
    assert source.calls == []
    assert {v.problem for v in graded.verdicts} == {SOURCE_UNREACHABLE}
    assert graded.info == {"url": "stand-in", "error": "connection refused"} and graded.overview == ()
    rec = record(graded)
    assert rec.exit_code == ExitCode.INCONCLUSIVE
    assert rec.doc["reason"] == "Prometheus could not be queried: connection refused"


def test_a_source_lost_midway_stops_asking_and_a_failed_query_costs_only_its_objective():
    lost = grade_source(SPEC, StandIn(fail={"errors": SourceUnreachable("timed out")}))
    assert [v.status for v in lost.verdicts] == ["pass", "pass", "inconclusive", "inconclusive", "inconclusive",
                                                 "inconclusive"]
    one = grade_source(SPEC, StandIn(fail={"cache": QueryFailed("bad query")}))
    statuses = {v.objective.id: (v.status, v.problem) for v in one.verdicts}
    assert statuses["cache_hit_rate"] == ("inconclusive", QUERY_FAILED)
    assert statuses["throughput"] == ("pass", None)
    assert record(one).exit_code == ExitCode.INCONCLUSIVE


def test_a_regression_fails_the_gate_only_with_fail_on_regression():
    graded = grade_source(SPEC, StandIn())
    before = record(graded).doc
    now = before["objectives"][3]
    # The baseline did 20K req/s where this run does 12K: its request count over the same window too.
    before["objectives"][3] = {**now, "measured": 20_000.0, "events": round(now["events"] * 20_000 / now["measured"])}
    for fail in (False, True):
        rec = record(graded, baseline=Baseline(("base",), (before,), fail_on_regression=fail))
        assert rec.doc["baseline"]["regressions"] == ["throughput"]
        assert rec.exit_code == (ExitCode.FAIL if fail else ExitCode.PASS)
        assert rec.doc["exit_code"] == rec.exit_code


def test_the_client_view_joins_each_objective_and_the_server_chart():
    server = grade_source(SPEC, StandIn())
    client_source = StandIn()
    client_source.name, client_source.title = "locust", "the load generator's series"
    client = grade_source(SPEC, client_source)
    client = Graded(client.source, client.verdicts, client.data, client.info, None,
                    (*client.overview, Chart("users", "Users", "users", ())))
    rec = record(server, client=client)
    assert rec.doc["objectives"][2]["client"]["status"] == "pass"
    names = [line.name for line in rec.series["series/error_rate.json"].series]
    assert names == ["errors", "errors [client]"]
    merged = merge_overview(server, client)
    assert [c.id for c in merged] == ["latency", "users"] and len(merged[0].series) == 2
    assert "overview" in rec.doc and [c["id"] for c in rec.doc["overview"]] == ["latency"]  # users had no points
