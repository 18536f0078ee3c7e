"""Pure parts of the traffic model: shapes, pacing, tier plans, popularity, client counts. No sleeps."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import contract
from analysis.breakdown import breakdown, spectrum
from analysis.client_series import BUCKETS, SeriesError, parse_series
from analysis.client_source import ClientSource, client_percentile
from analysis.sli import Window, histogram_from_buckets
from loadgate.progress import progress_line
from loadgate.run import steady_window
from loadgate.run_plan import RunPlan, locust_command, prometheus_config
from scenarios.clientstats import ClientStats, precise_bucket
from scenarios.shapes import ShapeSpec, target_rate
from scenarios.traffic import Zipf, parse_mix
from slo.spec import load_spec

SPEC = ShapeSpec(rate=200, duration=60, rampup=10)


def test_ramp_rises_linearly_then_holds_then_stops():
    assert [target_rate("ramp", t, SPEC) for t in (0, 5, 10, 30, 59.9)] == [0, 100, 200, 200, 200]
    assert target_rate("ramp", 60, SPEC) is None


def test_step_climbs_in_equal_stairs_after_the_rampup():
    rates = [target_rate("step", t, SPEC) for t in (10, 22.4, 22.6, 34.9, 35.1, 47.6, 59)]
    assert rates == [50, 50, 100, 100, 150, 200, 200]


def test_spike_doubles_the_rate_in_the_middle_fifth():
    assert target_rate("spike", 20, SPEC) == 100
    assert target_rate("spike", 32, SPEC) == 200  # 10 + 0.4 * 50 = 30 .. 40
    assert target_rate("spike", 41, SPEC) == 100


def test_soak_holds_steady_like_a_long_ramp():
    long = ShapeSpec(rate=50, duration=24 * 3600, rampup=60)
    assert target_rate("soak", 12 * 3600, long) == 50


def test_a_tier_mix_is_parsed_into_shares_or_refused_with_a_reason():
    assert parse_mix("free=1,pro=3") == {"free": 0.25, "basic": 0.0, "pro": 0.75, "enterprise": 0.0}
    for bad, message in (("gold=1", "unknown tier"), ("free=x", "needs a number"), ("free=0", "positive")):
        with pytest.raises(ValueError, match=message):
            parse_mix(bad)


def test_zipf_popularity_is_reproducible_and_favours_low_ids():
    a, b = Zipf(1000, 1.2, seed=7), Zipf(1000, 1.2, seed=7)
    draws = [a.draw() for _ in range(5000)]
    assert draws == [b.draw() for _ in range(5000)]
    assert min(draws) >= 1 and max(draws) <= 1000
    assert draws.count(1) > draws.count(2) > draws.count(10)


@given(st.floats(min_value=0.01, max_value=600_000))
def test_client_response_times_are_kept_within_half_a_percent(ms):
    assert abs(precise_bucket(ms) - ms) / ms <= 0.005


def test_worker_deltas_merged_at_the_master_equal_counting_in_one_place():
    direct, worker_a, worker_b, master = ClientStats(), ClientStats(), ClientStats(), ClientStats()
    events = [("/api/items", "pro", "ok", 200, 0.04, None), ("/api/users/{id}", "free", "ok", 200, 0.3, "HIT"),
              ("/api/batch", "basic", "failure", 503, 0.6, None), ("/api/users/{id}", "pro", "ok", 200, 0.1, "MISS"),
              ("/api/items", "pro", "ok", 200, 0.02, None, 0.5), ("/api/items", "free", "ok", 200, 0.02, None, 0.001)]
    for i, event in enumerate(events * 5):
        direct.record(*event)
        (worker_a if i % 2 else worker_b).record(*event)
        if i % 3 == 0:
            master.merge(worker_a.drain())
    master.merge(worker_a.drain())
    master.merge(worker_b.drain())
    assert master.snapshot() == direct.snapshot()
    assert direct.cache == {"hit": 5, "miss": 5}


HEADER = json.dumps(contract.series_header())


def snapshot_line(t: float, ok: int, failures: int = 0, hits: int = 0, misses: int = 0) -> str:
    buckets = [0, 0, 0, 0, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok + failures]
    return json.dumps({"t": t, "target_rate": 100, "users": {}, "workers": 1,
                       "responses": [["/api/items", "pro", "ok", "200", ok],
                                     ["/api/items", "pro", "failure", "503", failures]],
                       "latency": [["/api/items", "pro", buckets, 0.0]], "cache": {"hit": hits, "miss": misses}})


def test_client_counts_over_a_window_give_every_sli():
    lines = [json.dumps({"event": "test_start", "t": 999.5})]
    lines += [snapshot_line(1000 + i, ok=100 * i, failures=(i // 5) * 1, hits=9 * i, misses=i) for i in range(21)]
    series = parse_series([HEADER, *lines])
    assert series.started == 999.5
    collector = ClientSource(series, Window(1000, 1020))
    errors = collector.errors()
    assert (errors.events, errors.bad) == (2004, 4)
    assert collector.throughput().value == pytest.approx(2004 / 20)
    assert collector.cache().value == pytest.approx(0.9)
    latency = collector.latency(0.99, 0.5)
    assert latency.histogram.fraction_at_or_below(0.5) == pytest.approx(2000 / 2004)
    availability = collector.availability(5, 0.01)
    assert availability.detail["slices"] == 4 and availability.value == 1.0  # 1 failure per 500 per slice


def test_a_client_slice_without_responses_is_bad():
    lines = [snapshot_line(1000 + i, ok=100 * min(i, 10)) for i in range(21)]
    availability = ClientSource(parse_series([HEADER, *lines]), Window(1000, 1020)).availability(5, 0.01)
    assert availability.value == 0.5
    assert {s["reason"] for s in availability.detail["bad_slices"]} == {"no responses"}


def test_a_malformed_series_line_is_named():
    with pytest.raises(SeriesError, match=r"client_series.jsonl:3: not a loadgate client snapshot"):
        parse_series([HEADER, snapshot_line(1, 1), '{"t": 2}'])
    odd = json.dumps({**json.loads(snapshot_line(2, 1)), "times": {"/api/items": [12.5, 3, 40]}})
    with pytest.raises(SeriesError, match=r"client_series.jsonl:3: .*response times of /api/items are not"):
        parse_series([HEADER, snapshot_line(1, 1), odd])


def test_a_series_without_its_header_or_of_another_version_is_refused_by_line():
    with pytest.raises(SeriesError, match=r"client_series.jsonl:1: not a loadgate client series"):
        parse_series([snapshot_line(1, 1)])
    newer = json.dumps({**contract.series_header(), "schema_version": 99})
    with pytest.raises(SeriesError, match=r"client_series.jsonl:1: client series schema_version 99; this loadgate "
                                          r"reads 1 and 2"):
        parse_series([newer, snapshot_line(1, 1)])


def test_response_times_are_written_as_increments_and_read_back_as_version_1_cumulative_tables_were():
    import random

    rng = random.Random(7)
    stats = ClientStats()
    v1, v2 = [json.dumps({**contract.series_header(), "schema_version": 1})], [HEADER]
    for second in range(12):
        for _ in range(rng.randrange(0, 40) if second != 5 else 0):  # second 5 counts nothing
            endpoint = rng.choice(["/api/items", "/api/users/{id}"])
            stats.record(endpoint, "pro", "ok", 200, rng.lognormvariate(-3, 1), None, late_s=rng.random() / 20)
        v1.append(json.dumps({"t": second, **stats.snapshot()}))
        row = stats.series_row()
        v2.append(json.dumps({"t": second, **row}))
        if second == 5:
            assert row["times"] == {} and row["corrected_times"] == {}  # nothing new: nothing repeated
        assert all(n > 0 for flat in row["times"].values() for n in flat[1::2])
    assert sum(map(len, v2)) < sum(map(len, v1)) * 0.5
    old, new = parse_series(v1), parse_series(v2)
    assert new.endpoints() == old.endpoints() == ["/api/items", "/api/users/{id}"]
    for t0, t1, endpoint in ((-1, 11, None), (0, 11, None), (3, 8, None), (4, 6, "/api/items"),
                             (2, 11, "/api/users/{id}"), (7, 7, None)):
        a, b = old.counts(t0, t1, endpoint=endpoint), new.counts(t0, t1, endpoint=endpoint)
        assert (a.times_ms, a.corrected_times_ms, a.total) == (b.times_ms, b.corrected_times_ms, b.total)
        assert sum(b.times_ms.values()) == b.total == sum(b.corrected_times_ms.values())
    assert new.counts(-1, 11).times_ms == {ms: float(n) for ms, n in
                                            _sum_rows(stats.snapshot()["times"]).items()}


def _sum_rows(rows: list[list]) -> dict[float, int]:
    out: dict[float, int] = {}
    for _, ms, n in rows:
        out[ms] = out.get(ms, 0) + n
    return out


def test_the_graded_window_starts_after_the_rampup_and_ends_with_the_test():
    series = parse_series([HEADER, json.dumps({"event": "test_start", "t": 100.4}),
                           json.dumps({"event": "test_stop", "t": 158.0})])
    assert steady_window(series, rampup=10, duration=60) == Window(111, 158)


def test_the_progress_line_shows_rate_against_target_p99_errors_and_429s():
    series = parse_series([HEADER, snapshot_line(1000, ok=0), snapshot_line(1001, ok=98, failures=2)])
    line = progress_line(12.2, 60, series.snapshots[0], series.snapshots[1])
    assert line.startswith("  12/60 s  rate 100/100 req/s  p99 ")
    assert "errors 2" in line and "429s 0" in line


def test_prometheus_scrapes_the_service_and_the_load_generator_every_second():
    text = prometheus_config("127.0.0.1:8000", "127.0.0.1:9100")
    assert "scrape_interval: 1s" in text and "job_name: service" in text and "'127.0.0.1:9100'" in text


def test_the_locust_command_passes_loadgate_options_through_locust(tmp_path):
    spec = load_spec(b"version: loadgate/v1\nobjectives: [{id: e, kind: error_rate, threshold: 1%}]\n")
    plan = RunPlan(host="http://127.0.0.1:8000", spec=spec, out_dir=tmp_path, rate=50, processes=2, over_limit=0.1)
    argv = locust_command(plan, tmp_path / "s.jsonl", tmp_path / "locust.json", 9100)
    joined = " ".join(argv)
    assert "--headless" in argv and "--processes 2" in joined and "--lg-rate 50" in joined
    assert "--lg-over-limit 0.1" in joined and f"--json-file {tmp_path / 'locust'}" in joined


@given(st.lists(st.floats(min_value=0.05, max_value=5000), min_size=1, max_size=400),
       st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_client_percentiles_shown_to_users_are_within_one_percent_of_the_true_ones(samples_ms, q):
    stats = ClientStats()
    for ms in samples_ms:
        stats.record("/api/items", "pro", "ok", 200, ms / 1000.0, None)
    times = {ms: float(n) for _, ms, n in stats.snapshot()["times"]}
    ordered = sorted(samples_ms)
    true = ordered[max(1, math.ceil(q * len(ordered) - 1e-9)) - 1] / 1000.0
    assert abs(client_percentile(times, q) - true) <= 0.01 * true


def test_the_client_breakdown_counts_per_endpoint_and_per_tier_with_users():
    def line(t: float, n: int) -> str:
        return json.dumps({"t": t, "users": {"ProUser": 2, "FreeOverLimitUser": 1}, "workers": 1, "target_rate": 1,
                           "responses": [["/api/items", "pro", "ok", "200", 10 * n],
                                         ["/api/items", "free_over_limit", "rate_limited", "429", n]],
                           "latency": [["/api/items", "pro", [0, 0, 0, 10 * n] + [10 * n] * 11, 0.0]],
                           "cache": {"hit": 0, "miss": 0}})

    table = breakdown(parse_series([HEADER, line(1000, 0), line(1010, 6)]), Window(1000, 1010))
    assert table["endpoints"][0]["requests"] == 66 and table["endpoints"][0]["rate"] == pytest.approx(6.6)
    tiers = {t["tier"]: t for t in table["tiers"]}
    assert tiers["pro"]["users"] == 2 and tiers["pro"]["accepted_per_user_per_min"] == pytest.approx(60 / 2 / 10 * 60)
    assert tiers["free_over_limit"]["http_429"] == 6


def test_the_percentile_spectrum_is_per_endpoint_over_the_window():
    def line(t: float, fast: int, slow: int) -> str:
        return json.dumps({"t": t, "users": {}, "workers": 1, "target_rate": 1, "responses": [],
                           "latency": [], "cache": {"hit": 0, "miss": 0},
                           "times": [["/a", 10.0, fast], ["/b", 200.0, slow], ["/b", 900.0, slow // 100]]})

    table = spectrum(parse_series([HEADER, line(0, 0, 0), line(10, 100, 1000)]), Window(0, 10))
    assert dict(table["/a"])[0.99] == 0.01
    assert dict(table["/b"])[0.5] == 0.2 and dict(table["/b"])[0.9999] == 0.9


class _Answer:
    """What a task sees of a Locust response with ``catch_response``: status, headers, body, a verdict."""

    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.content  # decoded from gzip, as geventhttpclient hands it over
        self.failed: str | None = None

    def failure(self, reason: str) -> None:
        self.failed = reason

    def success(self) -> None:
        self.failed = None

    def __enter__(self) -> "_Answer":
        return self

    def __exit__(self, *_) -> None:
        return None


class _Client:
    """The slice of Locust's ``FastHttpSession`` the tasks use, over the demo API in-process."""

    def __init__(self, test_client) -> None:
        self.test_client, self.answers, self.sent = test_client, [], []

    def get(self, url, headers=None, name=None, catch_response=False):
        self.sent.append(("GET", url, dict(headers or {}), None))
        self.answers.append(_Answer(self.test_client.get(url, headers=headers)))
        return self.answers[-1]

    def post(self, url, data=None, headers=None, name=None, catch_response=False):
        self.sent.append(("POST", url, dict(headers or {}), data))
        self.answers.append(_Answer(self.test_client.post(url, content=data, headers=headers)))
        return self.answers[-1]


def test_every_task_passes_its_checks_against_the_demo_api():
    import random
    from types import SimpleNamespace

    from prometheus_client import CollectorRegistry
    from starlette.testclient import TestClient

    from demo_api.app import Settings, create_app
    from scenarios import tasks

    class Clock:  # a minute per 1,000 calls: the enterprise key stays within its limit
        now = 1000.0

        def __call__(self) -> float:
            self.now += 0.07
            return self.now

    app = create_app(Settings(db_delay_ms=0), registry=CollectorRegistry(), clock=Clock())
    client = _Client(TestClient(app))
    user = SimpleNamespace(client=client, key="enterprise-1", tier="enterprise", over_limit=False,
                           rng=random.Random(3), zipf=Zipf(50, 1.2, 3), etags={}, walk=None)
    for _ in range(60):
        tasks.cached_read(user)
        tasks.next_page(user)
        tasks.batch(user)
    assert [a.failed for a in client.answers if a.failed] == []
    codes = [a.status_code for a in client.answers]
    assert 304 in codes and 429 not in codes
    batches = [json.loads(data) for method, _, headers, data in client.sent if method == "POST"]
    assert all(headers["Content-Type"] == "application/json" for method, _, headers, _ in client.sent
               if method == "POST")
    assert len({len(b["operations"]) for b in batches}) > 20
    assert {op["op"] for b in batches for op in b["operations"]} == {"get_user", "get_item"}
    assert any("cursor=" in url for method, url, _, _ in client.sent if method == "GET")


def test_a_task_marks_a_wrong_answer_as_a_failure_with_a_reason():
    import random
    from types import SimpleNamespace

    from scenarios import tasks

    class Wrong:  # a 200 that is not what was asked for
        status_code, content = 200, b'{"id": -1}'
        headers = {"X-Cache": "HIT", "Content-Encoding": "gzip", "ETag": 'W/"x"'}

    class Canned(_Client):
        def get(self, url, **_):
            self.answers.append(_Answer(Wrong))
            return self.answers[-1]

        post = get

    client = Canned(None)
    user = SimpleNamespace(client=client, key="pro-1", tier="pro", over_limit=False, rng=random.Random(1),
                           zipf=Zipf(50, 1.2, 1), etags={}, walk=None)
    tasks.cached_read(user)
    tasks.next_page(user)
    tasks.batch(user)
    assert client.answers[0].failed.startswith("asked for user")
    assert client.answers[1].failed == "malformed page"
    assert client.answers[2].failed == "malformed batch answer"


def test_ids_are_a_range_or_a_file_most_popular_first(tmp_path):
    from scenarios.traffic import IdSpace, read_ids

    assert read_ids("5-9") == IdSpace(5, 5)
    listed = tmp_path / "ids.txt"
    listed.write_text("# hottest first\n42\n\n7   # a comment\n1000\n")
    space = read_ids(str(listed))
    assert space.listed == (42, 7, 1000) and space.id_of(1) == 42 and space.id_of(3) == 1000
    assert {Zipf(seed=s, ids=space).draw() for s in range(50)} <= {42, 7, 1000}
    draws = [Zipf(seed=s, ids=read_ids("5-9")).draw() for s in range(200)]
    assert set(draws) <= {5, 6, 7, 8, 9} and draws.count(5) > draws.count(9)


@pytest.mark.parametrize("text, message", [
    ("9-5", "must run from a whole number of at least 1"),
    ("0-5", "must run from a whole number of at least 1"),
    ("/nonexistent/ids.txt", "neither a range such as 1-250000 nor a readable file"),
])
def test_a_bad_id_space_is_refused_with_a_reason(text, message):
    from scenarios.traffic import read_ids

    with pytest.raises(ValueError, match=message):
        read_ids(text)


def test_a_non_numeric_id_in_a_file_names_its_line(tmp_path):
    from scenarios.traffic import read_ids

    listed = tmp_path / "ids.txt"
    listed.write_text("1\n2\nabc\n")
    with pytest.raises(ValueError, match=rf"{listed}:3: not a whole-number id"):
        read_ids(str(listed))


def test_run_passes_the_id_space_to_locust_and_refuses_a_bad_one(cli, tmp_path):
    spec = load_spec(b"version: loadgate/v1\nobjectives: [{id: e, kind: error_rate, threshold: 1%}]\n")
    plan = RunPlan(host="http://127.0.0.1:8000", spec=spec, out_dir=tmp_path, ids="1-250000")
    assert "--lg-ids 1-250000" in " ".join(locust_command(plan, tmp_path / "s", tmp_path / "j", 9100))
    result = cli("run", "--host", "http://127.0.0.1:1", "--ids", "9-5", "--duration", "5", "--rampup", "1",
                 "--out", str(tmp_path / "run"))
    assert result.code == 2 and "--ids: the id range '9-5'" in result.err
    assert not (tmp_path / "run").exists()


def test_an_open_model_request_is_also_counted_from_its_intended_send():
    from scenarios.clientstats import LATE_THRESHOLD_S, lateness

    assert lateness(now=1001.0, response_time_ms=200.0, intended=1000.5) == pytest.approx(0.3)
    stats = ClientStats()
    stats.record("/api/items", "pro", "ok", 200, 0.05, None)  # closed model: counted once
    assert "corrected" not in stats.snapshot()
    stats.record("/api/items", "pro", "ok", 200, 0.05, None, late_s=0.45)  # sent 450 ms late: 0.5 s corrected
    stats.record("/api/items", "pro", "ok", 200, 0.05, None, late_s=LATE_THRESHOLD_S / 2)  # on time
    stats.record("/api/items", "pro", "ok", 200, 0.05, None, late_s=0.05)  # late, not over 100 ms
    snap = stats.snapshot()
    assert snap["late"] == {"scheduled": 3, "late": 2, "very_late": 1, "dropped": 0}
    assert [ms for _, ms, _ in snap["corrected_times"]] == [55.0, 100, 500]
    first = json.dumps({"t": 0, "responses": [], "latency": [], "cache": {"hit": 0, "miss": 0}})
    series = parse_series([HEADER, first, json.dumps({"t": 1, **snap})])
    counts = series.counts(0, 1)
    assert (counts.scheduled, counts.late, counts.very_late) == (3, 2, 1)
    corrected = histogram_from_buckets(zip(BUCKETS, counts.corrected_buckets))
    assert corrected.count == 3 and corrected.fraction_at_or_below(0.1) == pytest.approx(2 / 3)
    assert counts.corrected_times_ms == {55.0: 1.0, 100: 1.0, 500: 1.0}
    assert histogram_from_buckets(zip(BUCKETS, counts.buckets)).count == 4  # the measured view counts all four


def test_a_request_dropped_unsent_counts_in_the_corrected_latency_only():
    from analysis.breakdown import client_latency
    from scenarios.clientstats import DROPPED

    stats = ClientStats()
    for _ in range(98):
        stats.record("/api/items", "pro", "ok", 200, 0.02, None, late_s=0.001)
    stats.count_dropped("pro", 10.2)
    stats.count_dropped("free", 10.4)
    empty = json.dumps({"t": 0, "responses": [], "latency": [], "cache": {"hit": 0, "miss": 0}})
    series = parse_series([HEADER, empty, json.dumps({"t": 1, **stats.series_row()})])
    counts = series.counts(0, 1)
    assert (counts.total, counts.scheduled, counts.dropped) == (98, 98, 2)
    assert histogram_from_buckets(zip(BUCKETS, counts.buckets)).count == 98  # as sent: never sent
    corrected = histogram_from_buckets(zip(BUCKETS, counts.corrected_buckets))
    assert corrected.count == 100 and corrected.fraction_at_or_below(0.5) == pytest.approx(0.98)
    latency = client_latency(series, Window(0, 1))
    assert latency is not None and latency["corrected"]["p99"] >= 10.2
    assert latency["dropped"] == {"count": 2, "fraction": pytest.approx(0.02)}
    assert series.counts(0, 1, endpoint=DROPPED).corrected_times_ms == {10200: 1, 10400: 1}


def test_the_dispatcher_drops_requests_queued_past_the_limit_and_says_which():
    from scenarios.dispatch import Dispatcher
    from scenarios.schedule import Due

    dispatcher = Dispatcher()
    dropped: list[tuple[list[Due], float]] = []
    dispatcher.on_drop = lambda dues, now: dropped.append((dues, now))
    dispatcher.max_late_s = 5.0
    for intended in (100.0, 101.0, 103.0, 106.0):
        dispatcher.queue.put(Due(intended, "pro", 0, False))
    assert dispatcher.drop_stale(105.5) == 1  # 100 is 5.5 s late
    assert dispatcher.drop_stale(108.5) == 2  # then 101 and 103; 106 waits on
    assert [d.intended for dues, _ in dropped for d in dues] == [100.0, 101.0, 103.0]
    assert dispatcher.queue.qsize() == 1 and dispatcher.drop_stale(108.6) == 0


def test_t_always_ends_the_shape_and_sets_its_length_when_no_duration_is_given():
    from scenarios.shapes import DEFAULT_DURATION_S, effective_duration

    assert effective_duration(None, None) == DEFAULT_DURATION_S == 60
    assert effective_duration(30, None) == 30
    assert effective_duration(None, 10) == 10  # -t alone
    assert effective_duration(60, 10) == 10  # -t cuts a longer shape short
    assert effective_duration(5, 10) == 5  # the shape ends first


def test_plain_locust_users_are_charted_by_class_and_retired_tier_classes_by_tier():
    from analysis.client_series import Snapshot, users_by_tier

    assert users_by_tier(Snapshot(t=0, users={"Plain": 4})) == {"Plain": 4.0}
    assert users_by_tier(Snapshot(t=0, users={"ProUser": 2, "ProOverLimitUser": 1})) == {"pro": 2.0,
                                                                                         "pro_over_limit": 1.0}
    assert users_by_tier(Snapshot(t=0, users={"ClientUser": 20}, keys={"pro": 7})) == {"pro": 7.0}
