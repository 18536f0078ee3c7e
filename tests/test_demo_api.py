"""The demo API through an in-process client: endpoints, limits, ETags, gzip, pagination, metrics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from demo_api.app import Settings, create_app
from demo_api.cache import TTLCache
from demo_api.data import Catalogue
from demo_api.ratelimit import RateLimiter

KEY = {"X-API-Key": "enterprise-1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(**overrides) -> TestClient:
    clock = overrides.pop("clock", Clock())
    return TestClient(create_app(Settings(db_delay_ms=0, **overrides), registry=CollectorRegistry(), clock=clock))


def samples(c: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = c.get("/metrics").text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_a_user_read_misses_then_hits_the_cache_and_says_so():
    c = client()
    first = c.get("/api/users/7", headers=KEY)
    second = c.get("/api/users/7", headers=KEY)
    assert (first.status_code, first.headers["x-cache"]) == (200, "MISS")
    assert (second.status_code, second.headers["x-cache"]) == (200, "HIT")
    assert first.json() == second.json() and first.json()["id"] == 7
    m = samples(c)
    assert m[("cache_hits_total", ())] == 1 and m[("cache_misses_total", ())] == 1


def test_entries_expire_after_the_ttl_and_ttl_0_disables_the_cache():
    clock = Clock()
    c = client(clock=clock, cache_ttl_s=300)
    c.get("/api/users/1", headers=KEY)
    clock.now += 299
    assert c.get("/api/users/1", headers=KEY).headers["x-cache"] == "HIT"
    clock.now += 2
    assert c.get("/api/users/1", headers=KEY).headers["x-cache"] == "MISS"
    off = client(cache_ttl_s=0)
    assert [off.get("/api/users/1", headers=KEY).headers["x-cache"] for _ in range(2)] == ["MISS", "MISS"]


def test_if_none_match_with_the_etag_returns_304_without_a_body():
    c = client()
    etag = c.get("/api/users/3", headers=KEY).headers["etag"]
    assert etag.startswith('W/"')
    again = c.get("/api/users/3", headers={**KEY, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert c.get("/api/users/3", headers={**KEY, "If-None-Match": 'W/"other"'}).status_code == 200


def test_profiles_are_gzipped_when_the_client_accepts_it():
    c = client()
    zipped = c.get("/api/users/5", headers={**KEY, "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json()["id"] == 5  # httpx decodes it
    plain = c.get("/api/users/5", headers={**KEY, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(zipped.headers["content-length"]) < len(plain.content)  # the bytes on the wire are smaller
    assert zipped.content == plain.content


def test_a_missing_or_unknown_key_is_401():
    c = client()
    assert c.get("/api/users/1").status_code == 401
    assert c.get("/api/users/1", headers={"X-API-Key": "gold-1"}).status_code == 401
    assert c.get("/api/items", headers={"X-API-Key": "free"}).status_code == 401


def test_an_unknown_user_is_404():
    assert client().get("/api/users/0", headers=KEY).status_code == 404


@pytest.mark.parametrize("tier, limit", [("free", 10), ("basic", 50), ("pro", 200), ("enterprise", 1000)])
def test_each_tier_is_limited_per_minute_with_retry_after_and_remaining(tier, limit):
    clock = Clock()
    c = client(clock=clock)
    headers = {"X-API-Key": f"{tier}-9"}
    answers = [c.get("/api/items?limit=1", headers=headers) for _ in range(limit + 5)]
    allowed = sum(1 for a in answers if a.status_code == 200)
    refused = [a for a in answers if a.status_code == 429]
    assert allowed == max(1, round(limit * 5 / 60))  # a burst of 5 s of quota, at one instant
    assert refused and int(refused[0].headers["retry-after"]) >= 1
    assert refused[0].headers["x-ratelimit-remaining"] == "0"
    assert answers[0].headers["x-ratelimit-limit"] == str(limit)

@pytest.mark.parametrize("tier, limit", [("free", 10), ("basic", 50), ("pro", 200), ("enterprise", 1000)])
def test_a_client_paced_at_80_percent_of_its_limit_is_never_refused(tier, limit):
    clock = Clock()
    limiter = RateLimiter(burst_s=5, clock=clock)
    interval = 60 / (0.8 * limit)
    decisions = []
    for _ in range(int(600 / interval)):  # ten minutes
        clock.now += interval
        decisions.append(limiter.check(f"{tier}-1", tier).allowed)
    assert decisions and all(decisions)


def test_keys_are_limited_separately():
    c = client()
    for _ in range(5):
        c.get("/api/items", headers={"X-API-Key": "free-1"})
    assert c.get("/api/items", headers={"X-API-Key": "free-1"}).status_code == 429
    assert c.get("/api/items", headers={"X-API-Key": "free-2"}).status_code == 200


def test_the_limiter_refuses_a_client_at_150_percent_within_seconds():
    clock = Clock()
    limiter = RateLimiter({"pro": 200}, burst_s=5, clock=clock)
    interval = 60 / (1.5 * 200)
    first_refusal = None
    for i in range(200):
        clock.now += interval
        if not limiter.check("pro-1", "pro").allowed:
            first_refusal = i * interval
            break
    assert first_refusal is not None and first_refusal < 15


def test_pagination_defaults_to_50_and_rejects_limits_above_200_and_bad_cursors():
    c = client()
    page = c.get("/api/items", headers=KEY).json()
    assert len(page["items"]) == 50 and page["limit"] == 50 and page["next_cursor"]
    assert c.get("/api/items?limit=201", headers=KEY).status_code == 400
    assert c.get("/api/items?limit=0", headers=KEY).status_code == 400
    assert c.get("/api/items?limit=ten", headers=KEY).status_code == 400
    bad = c.get("/api/items?cursor=not-a-cursor", headers=KEY)
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]
    tampered = page["next_cursor"][:-1] + ("0" if page["next_cursor"][-1] != "0" else "1")
    assert c.get(f"/api/items?cursor={tampered}", headers=KEY).status_code == 400


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=1, max_value=400), limit=st.integers(min_value=1, max_value=200))
def test_a_full_cursor_walk_visits_every_item_exactly_once(size, limit):
    catalogue = Catalogue(size=size, seed=3)
    seen: list[int] = []
    after = 0
    while True:
        items, cursor = catalogue.page(after, limit)
        seen.extend(int(i["id"]) for i in items)  # type: ignore[call-overload]
        assert len(items) <= limit
        if cursor is None:
            break
        after = catalogue.decode_cursor(cursor)
    assert seen == list(range(1, size + 1))


def test_the_last_page_has_a_null_next_cursor_over_http():
    c = TestClient(create_app(Settings(db_delay_ms=0, items=120), registry=CollectorRegistry()))
    first = c.get("/api/items?limit=100", headers=KEY).json()
    last = c.get(f"/api/items?limit=100&cursor={first['next_cursor']}", headers=KEY).json()
    assert [i["id"] for i in last["items"]] == list(range(101, 121)) and last["next_cursor"] is None


def test_a_batch_runs_each_operation_and_reports_each_result():
    c = client()
    ops = [{"op": "get_user", "id": 1}, {"op": "get_item", "id": 2}, {"op": "get_user", "id": 0}, {"op": "fly"}]
    body = c.post("/api/batch", json={"operations": ops}, headers=KEY).json()
    assert [r["status"] for r in body["results"]] == [200, 200, 404, 422]
    assert (body["succeeded"], body["failed"]) == (2, 2)
    assert body["results"][0]["body"]["id"] == 1


def test_a_batch_of_100_is_accepted_and_101_is_413():
    c = client()
    ops = [{"op": "get_item", "id": i} for i in range(1, 102)]
    assert c.post("/api/batch", json={"operations": ops[:100]}, headers=KEY).status_code == 200
    too_many = c.post("/api/batch", json={"operations": ops}, headers=KEY)
    assert too_many.status_code == 413 and "at most 100" in too_many.json()["error"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"operations": "x"}', b'{"operations": []}'])
def test_a_malformed_batch_is_422_with_a_json_error(body):
    answer = client().post("/api/batch", content=body, headers={**KEY, "Content-Type": "application/json"})
    assert answer.status_code == 422 and "error" in answer.json()


def test_metrics_follow_the_default_contract_with_route_templates():
    c = client()
    c.get("/api/users/1", headers=KEY)
    c.get("/api/users/2", headers=KEY)
    c.get("/api/users/1")
    c.get("/healthz")
    m = samples(c)
    assert m[("http_requests_total", (("code", "200"), ("endpoint", "/api/users/{id}"), ("method", "GET")))] == 2
    assert m[("http_requests_total", (("code", "401"), ("endpoint", "/api/users/{id}"), ("method", "GET")))] == 1
    buckets = {dict(k[1])["le"] for k in m if k[0] == "http_request_duration_seconds_bucket"}
    assert {"0.1", "0.4", "0.5", "+Inf"} <= buckets
    assert not any(dict(k[1]).get("endpoint") in ("/healthz", "/metrics") for k in m)


def test_processes_of_one_seed_serve_the_same_data_so_etags_and_cursors_survive_a_failover():
    first, survivor = client(instance=0), client(instance=1)
    read = first.get("/api/users/42", headers=KEY)
    again = survivor.get("/api/users/42", headers={**KEY, "If-None-Match": read.headers["etag"]})
    assert again.status_code == 304
    page = first.get("/api/items", headers=KEY).json()
    following = survivor.get(f"/api/items?cursor={page['next_cursor']}", headers=KEY)
    assert following.status_code == 200 and following.json()["items"][0]["id"] == 51


def test_the_instance_seeds_only_the_faults_so_processes_fail_independently():
    outcomes = []
    for instance in (0, 1):
        c = client(error_fraction=0.5, instance=instance)
        outcomes.append([c.get(f"/api/users/{n}", headers=KEY).status_code for n in range(1, 41)])
    assert outcomes[0] != outcomes[1] and {503, 200} <= set(outcomes[0])


def test_injected_errors_are_503_and_counted():
    c = client(error_fraction=1.0)
    assert c.get("/api/users/1", headers=KEY).status_code == 503
    assert c.get("/healthz").status_code == 200
    m = samples(c)
    assert m[("http_requests_total", (("code", "503"), ("endpoint", "other"), ("method", "GET")))] == 1


def test_a_request_past_the_server_timeout_is_504():
    c = client(slow_fraction=1.0, slow_ms=300, request_timeout_s=0.05)
    assert c.get("/api/users/1", headers=KEY).status_code == 504


def test_the_ttl_cache_evicts_the_oldest_entry_when_full():
    cache: TTLCache[int] = TTLCache(ttl_s=10, max_entries=2, clock=Clock())
    for k in (1, 2, 3):
        cache.put(k, k)
    assert (cache.get(1), cache.get(2), cache.get(3), len(cache)) == (None, 2, 3, 2)


def test_with_a_keys_file_only_its_keys_are_accepted_with_their_tiers():
    c = client(keys={"k_live_a": "free", "k_live_b": "enterprise"})
    assert c.get("/api/users/1", headers={"X-API-Key": "enterprise-1"}).status_code == 401  # demo keys refused
    answer = c.get("/api/users/1", headers={"X-API-Key": "k_live_a"})
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Limit"] == "10"
    assert c.get("/api/users/1", headers={"X-API-Key": "k_live_b"}).headers["X-RateLimit-Limit"] == "1000"


@pytest.mark.parametrize("elapsed, remaining", [(0.0, 1.5), (0.5, 1.0), (1.5, 0.0), (5.9, 0.0), (6.25, 1.25)])
def test_a_stall_of_1_5_s_every_6_s_holds_requests_until_it_ends(elapsed, remaining):
    from demo_api.app import stall_remaining

    assert stall_remaining(elapsed, 6.0, 1.5) == pytest.approx(remaining)
    assert stall_remaining(elapsed, 0.0, 1.5) == 0.0


def test_a_request_arriving_in_a_stall_waits_for_its_end_and_metrics_are_never_held():
    import time

    clock = Clock()
    c = client(clock=clock, stall_every_s=60.0, stall_ms=1100.0)  # the app starts at the stall's start
    clock.now += 0.1  # 1 s of the stall left on the app's clock, which stands still here
    began = time.perf_counter()
    assert c.get("/healthz").status_code == 200
    assert time.perf_counter() - began >= 0.99
    began = time.perf_counter()
    c.get("/metrics")
    assert time.perf_counter() - began < 0.5  # held, it would wait the whole second


def test_the_demo_api_refuses_a_bad_keys_file_with_its_line_and_no_key_shown(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "keys.csv"
    bad.write_text("tier,key\npro,k_live_secret_1\ngold,k_live_secret_2\n")
    proc = subprocess.run([sys.executable, "-m", "demo_api", "--keys", str(bad), "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{bad}:3: tier: not a tier" in proc.stderr
    assert "k_live_secret" not in proc.stderr and "Traceback" not in proc.stderr
