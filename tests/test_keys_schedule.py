"""Key pools and the open model's schedule (issue 9's pure core): keys model clients. No Locust here."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract import TIER_LIMITS
from contract.keys import KeyPool, KeysError, demo_pool, parse_keys
from scenarios.keys import is_over_limit, keys_for_rate, keys_needed, over_limit_among, shortfall
from scenarios.schedule import KeySchedule, concurrency
from scenarios.traffic import DEFAULT_MIX, key_rates

SECRET = "k_live_4f9a1c77e2"


def test_a_keys_file_is_read_per_tier_in_file_order():
    pool = parse_keys("tier,key\npro,a1\nfree,b1\npro,a2\n\n", "keys.csv")
    assert pool.keys == {"pro": ("a1", "a2"), "free": ("b1",)}
    assert pool.counts() == {"free": 1, "basic": 0, "pro": 2, "enterprise": 0}


def test_every_problem_of_a_keys_file_is_located_and_no_key_value_is_ever_shown():
    text = f"tier,key\ngold,{SECRET}x\npro,\npro,{SECRET}\nfree,{SECRET}\n{SECRET},pro\npro,a,b\n"
    with pytest.raises(KeysError) as raised:
        parse_keys(text, "staging.csv")
    message = str(raised.value)
    assert message.splitlines() == [
        "staging.csv:2: tier: not a tier; tiers are free, basic, pro, enterprise",
        "staging.csv:3: key: empty",
        "staging.csv:5: key: the same key as line 4",
        "staging.csv:6: tier: not a tier; tiers are free, basic, pro, enterprise",
        "staging.csv:7: row: expected 2 fields (tier,key), got 3",
    ]
    assert SECRET not in message
    assert SECRET not in repr(parse_keys(f"tier,key\npro,{SECRET}\n"))


def test_a_keys_file_needs_its_header_and_at_least_one_key():
    with pytest.raises(KeysError, match=r"^k.csv:1: header: expected 'tier,key'"):
        parse_keys("pro,abc\n", "k.csv")
    with pytest.raises(KeysError, match=r"^k.csv:2: key: the file holds no keys"):
        parse_keys("tier,key\n", "k.csv")


def test_demo_keys_have_the_demo_apis_format():
    assert demo_pool({"pro": 2, "free": 0}).keys == {"pro": ("pro-000001", "pro-000002")}


@given(st.sampled_from(list(TIER_LIMITS)), st.floats(min_value=0.01, max_value=5000),
       st.sampled_from([0.0, 0.1, 0.3]))
def test_the_keys_for_a_rate_are_the_fewest_that_carry_it_at_the_pace(tier, rate, fraction):
    paced, over = key_rates(tier, 0.8)

    def capacity(k: int) -> float:
        n_over = over_limit_among(k, fraction)
        return n_over * over + (k - n_over) * paced

    k = keys_for_rate(tier, rate, 0.8, fraction)
    assert capacity(k) >= rate - 1e-9
    assert k == 1 or capacity(k - 1) < rate - 1e-9


def test_over_limit_roles_are_fixed_per_key_and_spread_through_the_pool():
    roles = [is_over_limit(i, 0.25) for i in range(12)]
    assert roles == [False, False, False, True] * 3
    assert over_limit_among(7, 0.25) == sum(roles[:7]) == 1


def test_too_small_a_pool_says_how_many_keys_each_tier_needs():
    needed = keys_needed(200, DEFAULT_MIX)
    assert needed == {"free": 150, "basic": 60, "pro": 23, "enterprise": 6}  # 20/0.1333, 40/0.6667, 60/2.667, 80/13.3
    pool = KeyPool({"free": tuple(f"f{i}" for i in range(10)), "basic": tuple(f"b{i}" for i in range(60)),
                    "pro": tuple(f"p{i}" for i in range(23)), "enterprise": tuple(f"e{i}" for i in range(6))})
    message = shortfall(pool, needed, 200, 0.8)
    assert message is not None and "free: 10 given, 150 needed" in message and "basic" not in message
    assert shortfall(demo_pool(needed), needed, 200, 0.8) is None


def drive(schedule: KeySchedule, seconds: float, taker_delay: float = 0.0) -> list:
    """Take every due request, each ``taker_delay`` late; returns them in the order taken."""
    taken = []
    while True:
        due_at = schedule.next_time()
        if due_at is None or due_at >= seconds:
            return taken
        due = schedule.take(due_at + taker_delay)
        assert due is not None
        taken.append(due)


def test_each_tier_carries_its_share_and_no_in_limit_key_sends_faster_than_its_pace():
    rates = {tier: 300 * share for tier, share in DEFAULT_MIX.items()}
    pools = keys_needed(300, DEFAULT_MIX, over_limit_fraction=0.1)
    schedule = KeySchedule(pools, over_limit_fraction=0.1, seed=3)
    schedule.set_rates(rates, 0.0)
    taken = drive(schedule, 120.0)
    per_tier = defaultdict(int)
    sends = defaultdict(list)
    for due in taken:
        per_tier[due.tier] += 1
        sends[(due.tier, due.key_index)].append(due.intended)
    for tier, rate in rates.items():
        assert per_tier[tier] == pytest.approx(rate * 120, rel=0.02), tier
    for (tier, index), times in sends.items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        limit_gap = 60.0 / TIER_LIMITS[tier]
        if is_over_limit(index, 0.1):
            assert all(g == pytest.approx(limit_gap / 1.5) for g in gaps)  # 150 % of the limit: refused at times
        else:
            assert min(gaps) >= limit_gap / 0.8 - 1e-9  # never above 80 % of the limit: never refused


def test_a_late_taker_never_moves_the_intended_times():
    """The open model: a stalled pool sends late, but what was meant to be sent stays as scheduled."""
    on_time, late = KeySchedule({"pro": 40}, seed=5), KeySchedule({"pro": 40}, seed=5)
    for schedule in (on_time, late):
        schedule.set_rates({"pro": 50.0}, 0.0)
    assert [d.intended for d in drive(on_time, 30.0)] == [d.intended for d in drive(late, 30.0, taker_delay=1.5)]


def test_a_ramp_activates_keys_as_the_rate_grows_and_retires_them_as_it_falls():
    schedule = KeySchedule({"enterprise": 100})
    schedule.set_rates({"enterprise": 40.0}, 0.0)
    assert schedule.keys_active() == {"enterprise": 3}
    schedule.set_rates({"enterprise": 400.0}, 1.0)
    assert schedule.keys_active() == {"enterprise": 30}
    schedule.set_rates({"enterprise": 0.0}, 2.0)
    assert schedule.keys_active() == {"enterprise": 0}
    drive(schedule, 10.0)
    assert schedule.next_time() is None


def test_a_pool_of_100000_keys_is_one_schedule():
    schedule = KeySchedule({"free": 100_000})
    schedule.set_rates({"free": 100_000 * 10 * 0.8 / 60}, 0.0)
    assert schedule.keys_active() == {"free": 100_000}
    assert len(drive(schedule, 1.0)) == pytest.approx(100_000 * 10 * 0.8 / 60, rel=0.1)


def test_concurrency_follows_littles_law_with_headroom():
    assert concurrency(10_000) == math.ceil(10_000 * 0.05 * 4)
    assert concurrency(100, expected_latency_s=0.2, headroom=2) == 40
    assert concurrency(1) == 10


def test_a_key_scheduled_at_a_trickle_catches_up_when_the_rate_rises():
    """The first moments of a ramp give a key an interval of minutes; it must not sit out the test."""
    schedule = KeySchedule({"enterprise": 3})
    schedule.set_rates({"enterprise": 0.01}, 0.0)  # one key, a send every 100 s
    schedule.set_rates({"enterprise": 40.0}, 0.25)  # three keys at 13.3/s each
    taken = drive(schedule, 10.25)
    per_key = defaultdict(int)
    for due in taken:
        per_key[due.key_index] += 1
    assert sorted(per_key) == [0, 1, 2]
    assert len(taken) == pytest.approx(40 * 10, rel=0.02)


def test_active_keys_are_counted_per_tier_label_over_limit_apart():
    schedule = KeySchedule({"pro": 40, "free": 10}, over_limit_fraction=0.25)
    schedule.set_rates({"pro": 30.0, "free": 0.0}, 0.0)
    active = schedule.keys_active()["pro"]
    assert schedule.keys_by_label() == {"pro": active - active // 4, "pro_over_limit": active // 4}


def test_the_open_models_keys_are_the_clients_of_the_tier_table():
    import json

    import contract
    from analysis.client_series import parse_series, users_by_tier

    line = {"t": 1, "users": {"ClientUser": 20}, "responses": [], "latency": [], "cache": {"hit": 0, "miss": 0},
            "keys": {"pro": 9, "pro_over_limit": 3}}
    closed = {**line, "users": {"ProUser": 2}}
    del closed["keys"]
    snaps = parse_series([json.dumps(contract.series_header()), json.dumps(line), json.dumps(closed)]).snapshots
    assert users_by_tier(snaps[0]) == {"pro": 9.0, "pro_over_limit": 3.0}
    assert users_by_tier(snaps[1]) == {"pro": 2.0}


def test_no_in_limit_key_sends_faster_than_its_pace_through_a_ramp_a_fall_and_a_rise():
    """Rates set every 0.25 s as the shape moves: rescheduled and reactivated keys wait out their interval."""
    schedule = KeySchedule(keys_needed(200, DEFAULT_MIX), seed=11)
    sends: dict[tuple[str, int], list[float]] = defaultdict(list)
    t = 0.0
    while t < 60.0:
        rate = 200 * min(1.0, t / 10) if t < 30 else (40.0 if t < 40 else 200.0)  # ramp, fall, rise
        schedule.set_rates({tier: rate * share for tier, share in DEFAULT_MIX.items()}, t)
        for due in drive(schedule, t + 0.25):
            sends[(due.tier, due.key_index)].append(due.intended)
        t += 0.25
    assert len(sends) > 100
    for (tier, _), times in sends.items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert not gaps or min(gaps) >= 60.0 / TIER_LIMITS[tier] / 0.8 - 1e-9, tier


def test_a_worker_keeps_its_slot_when_another_joins_and_slots_are_reassigned_when_they_no_longer_fit():
    from scenarios.keys import assign_slots

    first = assign_slots(["w-b"], {})
    assert first == {"w-b": 0}
    joined = assign_slots(["w-a", "w-b"], first)  # w-a sorts first, but w-b keeps its keys
    assert joined == {"w-b": 0, "w-a": 1}
    assert assign_slots(["w-a", "w-b", "w-c"], joined) == {"w-b": 0, "w-a": 1, "w-c": 2}
    # w-a and w-b lost, w-d joins: w-c's slot 2 no longer fits two workers; all are assigned afresh.
    assert assign_slots(["w-c", "w-d"], {"w-b": 0, "w-a": 1, "w-c": 2}) == {"w-c": 0, "w-d": 1}


def test_a_schedule_that_takes_over_a_key_keeps_it_a_full_interval_after_its_last_send():
    old = KeySchedule({"free": 10}, seed=3)
    old.set_rates({"free": 1.0}, 0.0)
    sent: dict[int, float] = {}
    now = 0.0
    while now < 30:
        due = old.take(now)
        if due is None:
            now += 0.01
            continue
        sent[due.key_index] = due.intended
    new = KeySchedule({"free": 10}, seed=4)
    new.remember({("free", index): t for index, t in sent.items()})
    new.set_rates({"free": 1.0}, 30.0)
    step = 60 / (TIER_LIMITS["free"] * 0.8)
    first: dict[int, float] = {}
    now = 30.0
    while len(first) < len(sent) and now < 120:
        due = new.take(now)
        if due is None:
            now += 0.01
            continue
        first.setdefault(due.key_index, due.intended)
    assert first and all(first[i] >= sent[i] + step - 1e-9 for i in first if i in sent)
