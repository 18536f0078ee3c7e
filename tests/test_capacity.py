"""The capacity search's pure core (slo/capacity.py): which rate next, and what the steps say."""

from __future__ import annotations

from typing import Callable

import pytest

from slo.capacity import Step, next_rate, outcome

KINDS = {"p99": "latency", "errors": "error_rate", "rate": "throughput"}


def step(rate: float, *, fail: tuple[str, ...] = (), valid: bool = True, checks: tuple[str, ...] = ()) -> Step:
    objectives = {oid: {"status": "fail" if oid in fail else "pass", "kind": kind, "measured": 0.0}
                  for oid, kind in KINDS.items()}
    verdict = "fail" if fail else ("pass" if valid else "inconclusive")
    return Step(rate, rate, verdict, valid, objectives, checks)


def search(capacity: float, *, start: float = 50, factor: float = 1.5, max_rate: float = 10_000,
           precision: float = 0.1, grade: Callable[[float], Step] | None = None) -> list[Step]:
    """Run the search against a service that breaches p99 above ``capacity``."""
    steps: list[Step] = []
    while (rate := next_rate(steps, start=start, factor=factor, max_rate=max_rate, precision=precision)) is not None:
        steps.append(grade(rate) if grade else step(rate, fail=("p99", "rate") if rate > capacity else ()))
        assert len(steps) < 50
    return steps


def test_the_search_climbs_by_the_factor_then_bisects_to_the_precision():
    steps = search(200)
    rates = [s.rate for s in steps]
    assert rates[:5] == [50, 75, 112.5, 168.75, 253.125]  # the first breach at 253
    result = outcome(steps, max_rate=10_000)
    assert result.limited_by == "p99" and not result.lower_bound  # latency named before throughput
    assert 180 <= result.capacity_rps <= 200
    low = result.capacity_rps
    high = min(s.rate for s in steps if s.breached)
    assert high - low <= 0.1 * low  # bisected down to 10 %


def test_every_step_passing_up_to_the_maximum_is_a_lower_bound_at_it():
    steps = search(1e9, max_rate=400)
    assert steps[-1].rate == 400
    result = outcome(steps, max_rate=400)
    assert (result.capacity_rps, result.limited_by, result.lower_bound) == (400, "max_rate", True)


def test_a_generator_that_runs_out_before_any_breach_gives_a_lower_bound():
    def grade(rate: float) -> Step:
        return step(rate, valid=False, checks=("generator_cpu", "achieved_rate")) if rate > 150 else step(rate)

    steps = search(1e9, grade=grade)
    assert steps[-1].generator_limited and len(steps) == 4  # 50, 75, 112.5 pass; 168.75 runs out; stop
    result = outcome(steps, max_rate=10_000)
    assert (result.capacity_rps, result.limited_by, result.lower_bound) == (112.5, "generator", True)


def test_a_service_failing_from_the_first_step_has_no_capacity():
    steps = search(1)
    assert len(steps) == 1
    result = outcome(steps, max_rate=10_000)
    assert result.capacity_rps is None and result.limited_by == "p99" and "first step" in result.reason


def test_a_step_where_the_generator_ran_out_is_never_a_breach_but_a_dry_pool_is_the_services_limit():
    saturated = step(300, fail=("errors",), valid=False, checks=("generator_cpu",))
    assert saturated.breached == [] and saturated.generator_limited and not saturated.passed
    dry = step(300, fail=("rate", "p99"), valid=False, checks=("late_requests", "achieved_rate"))
    assert dry.breached == ["p99", "rate"] and not dry.generator_limited  # latency named first


def test_a_rate_short_with_every_objective_within_target_is_the_services_limit_and_the_search_bisects_on():
    # Just over the knee, the queue holds the users so the rate falls short while P99 still passes:
    # the step is invalid, its throughput inconclusive, and that is the service's limit, not silence.
    short = step(206, valid=False, checks=("achieved_rate",))
    short.objectives["rate"]["status"] = "inconclusive"
    assert short.breached == ["rate"] and not short.passed and not short.generator_limited
    no_throughput = Step(206, 180, "inconclusive", False, {"p99": {"status": "pass", "kind": "latency"}},
                         ("late_requests",))
    assert no_throughput.breached == ["late_requests"]
    steps = [step(150), step(250, fail=("p99",)), step(200), short]  # short at 206, 3 % over 200: done
    assert next_rate(steps, start=150, factor=1.5, max_rate=800, precision=0.1) is None
    assert next_rate(steps[:3] + [Step(225, 190, "inconclusive", False, short.objectives, ("achieved_rate",))],
                     start=150, factor=1.5, max_rate=800, precision=0.1) == 212.5  # 12.5 % apart: on
    result = outcome(steps, max_rate=800)
    assert (result.capacity_rps, result.limited_by, result.lower_bound) == (200, "rate", False)


def test_a_step_is_read_from_its_verdict_and_the_table_is_measured_at_the_highest_pass():
    from slo.capacity import performance_table, step_from_verdict

    def verdict(p99: float, status: str, achieved: float) -> dict:
        return {"verdict": status, "validity": {"valid": True, "checks": []}, "objectives": [
            {"id": "p99", "kind": "latency", "status": status, "measured": p99, "unit": "s",
             "client": {"measured": p99 * 1.2, "detail": {"measured_from_actual_sends": p99}}},
            {"id": "rate", "kind": "throughput", "status": "pass", "measured": achieved, "unit": "1/s"}]}

    steps = [step_from_verdict(100, verdict(0.05, "pass", 99.5)), step_from_verdict(200, verdict(0.9, "fail", 150))]
    assert steps[0].achieved == 99.5 and steps[0].objectives["p99"]["client"] == pytest.approx(0.06)
    assert steps[1].breached == ["p99"]
    result = outcome(steps, max_rate=1000)
    targets = [{"id": "p99", "title": "P99", "kind": "latency", "op": "<", "value": 0.5, "unit": "s",
                "text": "< 500 ms"},
               {"id": "rate", "title": "Throughput", "kind": "throughput", "op": ">=", "value": 10_000,
                "unit": "1/s", "text": ">= 10,000 req/s"}]
    rows = {r["id"]: r for r in performance_table(targets, steps, result)}
    assert (rows["p99"]["current"], rows["p99"]["status"], rows["p99"]["at_rps"]) == (0.05, "pass", 100)
    assert (rows["rate"]["current"], rows["rate"]["status"]) == (100, "fail")


def test_a_step_that_lost_a_worker_is_never_a_pass_or_a_breach_and_stops_the_search_naming_it():
    from slo.capacity import document, step_from_verdict

    lost = "host_ab12"
    doc = {"verdict": "fail", "validity": {"valid": False, "checks": [
        {"id": "lost_workers", "status": "invalid", "reason": f"1 of 2 workers reported: worker {lost} stopped"}]},
        "objectives": [{"id": "p99", "kind": "latency", "status": "fail", "measured": 0.9, "unit": "s"}],
        "run": {"worker_responses": {lost: 180, "host_cd34": 866},
                "worker_events": [{"event": "worker_lost", "worker": lost, "at": "2026-01-01T00:00:00Z"}]}}
    steps = [step(100), step(150), step_from_verdict(225, doc)]
    third = steps[-1]
    assert third.workers == {lost: 180, "host_cd34": 866} and third.lost_workers == (lost,)
    assert third.breached == [] and not third.passed and third.workers_missing  # its p99 breach is on half the load
    assert next_rate(steps, start=100, factor=1.5, max_rate=1000, precision=0.1) is None
    result = outcome(steps, max_rate=1000)
    assert (result.capacity_rps, result.limited_by, result.lower_bound) == (150, "workers", True)
    assert "step 3 (225 req/s) is missing load" in result.reason and lost in result.reason
    stored = document(steps, result, spec_name="s", spec_path="s.yaml", host="h", targets=[], search={},
                      throughput_target=None, step_dirs=["a", "b", "c"], generated_at="now")["steps"][-1]
    assert (stored["workers"], stored["lost_workers"]) == ({lost: 180, "host_cd34": 866}, [lost])
    assert lost in stored["note"]


def test_workers_that_did_not_all_connect_make_a_step_with_no_capacity_called_from_it():
    from slo.capacity import workers_missing_step

    steps = [step(100), step(150, fail=("p99",)), workers_missing_step(125, "2 workers did not all connect")]
    result = outcome(steps, max_rate=1000)
    assert (result.capacity_rps, result.limited_by, result.lower_bound) == (100, "workers", True)
    assert "2 workers did not all connect" in result.reason and "p99 breached at 150 req/s" in result.reason
    assert outcome([workers_missing_step(100, "none came")], max_rate=1000).capacity_rps is None


def test_capacity_master_flags_are_checked_like_runs(cli, tmp_path):
    host = ("--host", "http://127.0.0.1:1", "--out", str(tmp_path / "search"))
    for argv, said in ((("--master",), "--master needs --expect-workers N"),
                       (("--expect-workers", "2"), "--expect-workers applies to --master only"),
                       (("--master", "--expect-workers", "2", "--processes", "2"), "exclude each other")):
        result = cli("capacity", *host, *argv)
        assert result.code == 2 and said in result.err, result.err
    assert not (tmp_path / "search").exists()


def test_the_exit_code_says_whether_the_capacity_meets_the_throughput_target():
    from loadgate.cmd_capacity import exit_code
    from slo.capacity import Outcome

    assert exit_code(Outcome(12_000, "p99", False, ""), 10_000) == 0
    assert exit_code(Outcome(2_000, "p99", False, ""), 10_000) == 1
    assert exit_code(Outcome(None, "p99", False, ""), 10_000) == 3
    assert exit_code(Outcome(2_000, "generator", True, ""), 10_000) == 3  # at least 2,000: unknown against 10,000
    assert exit_code(Outcome(12_000, "generator", True, ""), 10_000) == 0  # at least 12,000: meets it


def test_capacity_usage_errors_exit_2_before_any_load(cli, tmp_path):
    host = ("--host", "http://127.0.0.1:1", "--out", str(tmp_path / "search"))
    for argv, said in ((("--from", "500", "--to", "100"), "--to (100) must be at least --from (500)"),
                       (("--factor", "1"), "--factor must be between"),
                       (("--step-duration", "3600"), "--step-duration is at most 600")):
        result = cli("capacity", *host, *argv)
        assert result.code == 2 and said in result.err, result.err
    assert not (tmp_path / "search").exists()


def test_loadgate_report_re_renders_a_capacity_search_and_refuses_a_broken_one(cli, tmp_path):
    import json

    from slo.capacity import document

    steps = search(200)
    targets = [{"id": "p99", "title": "P99 latency", "kind": "latency", "op": "<", "value": 0.5, "unit": "s",
                "text": "< 500 ms"}]
    doc = document(steps, outcome(steps, max_rate=10_000), spec_name="t", spec_path="t.yaml", host="http://x",
                   targets=targets, search={"from": 50, "to": 10_000, "factor": 1.5, "precision": 0.1,
                                            "step_duration_s": 10, "step_rampup_s": 2, "throughput_share": 0.9,
                                            "source": "locust"},
                   throughput_target=10_000, step_dirs=[f"steps/{i}" for i in range(len(steps))],
                   generated_at="2026-11-29T00:00:00Z")
    (tmp_path / "capacity.json").write_text(json.dumps(doc))
    result = cli("report", str(tmp_path))
    assert result.code == 0, result.err
    assert "Capacity:" in (tmp_path / "report.html").read_text()
    assert "| P99 latency | < 500 ms |" in (tmp_path / "summary.md").read_text()
    (tmp_path / "capacity.json").write_text(json.dumps({**doc, "steps": [1, 2]}))
    result = cli("report", str(tmp_path))
    assert result.code == 2 and "not a loadgate capacity record" in result.err and "Traceback" not in result.err
