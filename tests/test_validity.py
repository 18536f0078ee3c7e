"""Run validity: each check from a client series, and how an invalid run is decided."""

from __future__ import annotations

import json

from analysis.client_series import parse_series
from analysis.sli import Window
from analysis.validity import assess
from contract import series_header
from slo.gate import ExitCode, decide
from slo.grade import Verdict
from slo.model import Objective, Target

HEADER = json.dumps(series_header())


def series(seconds: int = 20, *, rate: float = 100, sent: float = 100, cpu: float = 30, workers: int = 1,
           very_late_share: float = 0.0, dropped_share: float = 0.0, stopped: bool = True,
           cpu_hot_from: int | None = None, workers_from: tuple[int, int] | None = None) -> list[str]:
    """A run at ``sent`` req/s against a ``rate`` target; every count cumulative, a snapshot a second."""
    lines = [HEADER, json.dumps({"event": "test_start", "t": 0, "model": "open", "concurrency": 20})]
    for t in range(1, seconds + 1):
        n = sent * t
        hot = cpu_hot_from is not None and t >= cpu_hot_from
        lines.append(json.dumps({
            "t": t, "target_rate": rate,
            "workers": workers_from[1] if workers_from and t >= workers_from[0] else workers,
            "responses": [["/a", "pro", "ok", "200", n]], "latency": [["/a", "pro", [n] * 15, n * 0.01]],
            "cache": {"hit": 0, "miss": 0}, "cpu": 99.0 if hot else cpu,
            "late": {"scheduled": n, "late": n * very_late_share, "very_late": n * very_late_share,
                     "dropped": n * dropped_share}}))
    if stopped:
        lines.append(json.dumps({"event": "test_stop", "t": seconds}))
    return lines


def checks(lines: list[str], *, code: int | None = 0, workers: int = 1) -> dict[str, str]:
    validity = assess(parse_series(lines), Window(2, 18), locust_exit_code=code, expected_workers=workers,
                      model="open")
    return {c.id: c.status for c in validity.checks}


def test_a_healthy_run_passes_every_check():
    assert set(checks(series()).values()) == {"ok"}


def test_a_killed_or_silent_load_generator_makes_the_run_invalid():
    assert checks(series(stopped=False), code=-9)["generator_exit"] == "invalid"
    assert checks(series(), code=1)["generator_exit"] == "invalid"
    assert checks(series(stopped=False), code=None)["generator_exit"] == "invalid"
    validity = assess(parse_series(series(stopped=False)), Window(2, 18), locust_exit_code=-9, expected_workers=1,
                      model="open")
    assert "killed by SIGKILL" in validity.reasons[0]


def test_a_rate_short_of_90_percent_of_the_target_is_invalid_and_plain_users_have_none():
    assert checks(series(sent=89))["achieved_rate"] == "invalid"
    assert checks(series(sent=91))["achieved_rate"] == "ok"
    closed = assess(parse_series(series(sent=10)), Window(2, 18), locust_exit_code=0, expected_workers=1,
                    model="closed")
    assert {c.id: c.status for c in closed.checks}["achieved_rate"] == "ok"


def test_a_saturated_cpu_for_more_than_a_tenth_of_the_window_is_invalid():
    assert checks(series(cpu_hot_from=18))["generator_cpu"] == "ok"  # 1 of 17 samples
    assert checks(series(cpu_hot_from=10))["generator_cpu"] == "invalid"


def test_a_saturated_generator_says_how_many_processes_the_target_needs_and_only_when_more_are():
    def reason(lines: list[str], workers: int = 1, model: str = "open") -> str:
        validity = assess(parse_series(lines), Window(2, 18), locust_exit_code=0, expected_workers=workers,
                          model=model)
        return next(c.reason for c in validity.checks if c.id == "generator_cpu")

    # Two processes sent 500 req/s between them, the busiest at 99 % of a core all along: 252.5 req per
    # CPU-second a process, so 1,000 req/s at 80 % each needs ceil(1000 / 202) = 5 processes.
    hot = reason(series(rate=1000, sent=500, cpu_hot_from=0, workers=2), workers=2)
    assert "at 250 req/s a process, the busiest at 99 % of a core on average" in hot
    assert "(about 253 req per CPU-second), 1,000 req/s needs about 5 load-generator processes" in hot
    # Short peaks over a mean of 67 % in one process that kept its rate: one process would do, no sizing.
    peaks = reason(series(rate=100, sent=100, cpu=30, cpu_hot_from=10))
    assert "above 90 % CPU for 53% of the window" in peaks and "needs about" not in peaks
    # Two processes that would do at 80 % each; and plain Locust users, which have no target rate.
    pair = reason(series(rate=100, sent=100, cpu=30, cpu_hot_from=10, workers=2), workers=2)
    closed = reason(series(rate=1000, sent=500, cpu_hot_from=0), model="closed")
    assert "for 53% of the window" in pair and "for 100% of the window" in closed  # both invalid
    assert "needs about" not in pair and "needs about" not in closed


def test_more_than_one_percent_of_requests_over_100_ms_late_is_invalid():
    assert checks(series(very_late_share=0.009))["late_requests"] == "ok"
    assert checks(series(very_late_share=0.02))["late_requests"] == "invalid"


def test_requests_dropped_unsent_count_as_late():
    assert checks(series(very_late_share=0.006, dropped_share=0.006))["late_requests"] == "invalid"
    validity = assess(parse_series(series(dropped_share=0.05)), Window(2, 18), locust_exit_code=0,
                      expected_workers=1, model="open")
    assert "dropped unsent" in validity.reasons[0]


def test_a_worker_lost_in_the_window_is_invalid():
    assert checks(series(workers=2), workers=2)["lost_workers"] == "ok"
    assert checks(series(workers=2, workers_from=(12, 1)), workers=2)["lost_workers"] == "invalid"


def verdict(kind: str, status: str) -> Verdict:
    objective = Objective(id=kind, title=kind, kind=kind, target=Target("<", 1.0))
    return Verdict(objective, status, 1.0, f"{kind} {status}")


def test_an_invalid_run_is_inconclusive_unless_the_service_was_seen_to_breach():
    invalid = ("achieved_rate: sent 50 req/s",)
    result = decide([verdict("latency", "pass"), verdict("throughput", "fail")], invalid=invalid)
    assert result.status == "inconclusive" and result.exit_code == ExitCode.INCONCLUSIVE
    assert result.reason == "invalid run: achieved_rate: sent 50 req/s"
    for kind in ("latency", "error_rate", "availability"):
        result = decide([verdict(kind, "fail"), verdict("throughput", "fail")], invalid=invalid)
        assert result.status == "fail" and result.exit_code == ExitCode.FAIL, kind
        assert "invalid run" in result.reason
    assert decide([verdict("cache_hit_rate", "fail")], invalid=invalid).status == "inconclusive"


def test_an_invalid_run_graded_from_the_client_alone_keeps_one_view_of_each_objective():
    """Without Prometheus the client is the primary source: making its verdicts inconclusive must
    not bring the original ones back as a second, 'client side' figure."""
    from analysis.validity import Check, Validity
    from slo.evaluate import Graded
    from slo.record import build_record
    from slo.spec import load_spec

    spec = load_spec(b"version: loadgate/v1\nname: t\nobjectives:\n"
                     b"  - {id: rate, kind: throughput, threshold: '>= 10/s'}\n", "t.yaml")
    graded = Graded("locust", (Verdict(spec.objectives[0], "fail", 5.0, "Throughput 5 req/s misses"),))
    invalid = Validity((Check("achieved_rate", "invalid", 0.5, 0.9, "sent 5 req/s"),))
    record = build_record(spec, graded, Window(0, 10), selector="", generated_at=0, tool_version="x", options={},
                          run_id="r", client=graded, validity=invalid)
    entry = record.doc["objectives"][0]
    assert entry["status"] == "inconclusive" and "client" not in entry
    assert record.doc["verdict"] == "inconclusive" and record.doc["validity"]["valid"] is False


def test_a_service_on_the_generators_own_saturated_machine_is_not_failed_by_its_latency():
    """On one machine a saturated load generator starves the service of CPU: its latency breach is
    no evidence then (inconclusive); on another machine it still is (fail)."""
    from analysis.validity import Check, Validity
    from slo.evaluate import Graded
    from slo.record import build_record
    from slo.spec import load_spec

    spec = load_spec(b"version: loadgate/v1\nname: t\nobjectives:\n"
                     b"  - {id: p50, kind: latency, percentile: 50, threshold: '< 100ms'}\n", "t.yaml")
    graded = Graded("prometheus", (Verdict(spec.objectives[0], "fail", 0.49, "P50 490 ms misses < 100 ms"),))
    saturated = Validity((Check("generator_cpu", "invalid", 0.17, 0.1, "above 90 % CPU for 17 %"),))
    late_only = Validity((Check("late_requests", "invalid", 0.5, 0.01, "50 % late"),))

    def decided(validity: Validity, co_located: bool) -> tuple[str, str]:
        record = build_record(spec, graded, Window(0, 10), selector="", generated_at=0, tool_version="x",
                              options={}, run_id="r", validity=validity, co_located=co_located)
        return record.doc["verdict"], record.doc["objectives"][0]["status"]

    assert decided(saturated, co_located=True) == ("inconclusive", "inconclusive")
    assert decided(saturated, co_located=False) == ("fail", "fail")
    assert decided(late_only, co_located=True) == ("fail", "fail")  # the CPU was not the generator's


def test_the_rate_sent_is_read_between_worker_reports_not_at_the_windows_edges():
    """With worker processes the master's counts move every 3 s: an 11 s window would otherwise
    read about 0.8 of a rate that was sent in full."""
    lines = [HEADER, json.dumps({"event": "test_start", "t": 0, "model": "open"})]
    for t in range(1, 21):
        n = 100 * 3 * (t // 3)  # 100 req/s, reported every 3 s
        lines.append(json.dumps({"t": t, "target_rate": 100, "workers": 2, "cpu": 20,
                                 "responses": [["/a", "pro", "ok", "200", n]], "latency": [],
                                 "cache": {"hit": 0, "miss": 0}}))
    lines.append(json.dumps({"event": "test_stop", "t": 20}))
    validity = assess(parse_series(lines), Window(2, 13), locust_exit_code=0, expected_workers=2, model="open")
    rate = next(c for c in validity.checks if c.id == "achieved_rate")
    assert rate.status == "ok" and rate.measured == 1.0


def test_a_key_with_no_share_of_the_rate_waits_and_then_sends_when_the_rate_rises():
    from scenarios.schedule import KeySchedule

    schedule = KeySchedule({"pro": 4}, over_limit_fraction=0.5, seed=2)
    paced, over = 0.8 * 200 / 60, 1.5 * 200 / 60
    schedule.set_rates({"pro": (paced + over) / 2}, 0.0)  # two keys: the over-limit one carries it all
    sent: dict[bool, set[int]] = {False: set(), True: set()}
    risen = False
    while (at := schedule.next_time()) is not None and at < 40:
        if at >= 10 and not risen:
            schedule.set_rates({"pro": 2 * over + 2 * paced}, 10.0)  # now every key has a share
            risen = True
            continue
        due = schedule.take(at)
        assert due is not None
        sent[risen].add(due.key_index)
    assert sent[False] == {1}  # before: only the over-limit key, never the in-limit one unpaced
    assert sent[True] == {0, 1, 2, 3}
