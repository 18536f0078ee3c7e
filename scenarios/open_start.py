"""Starting the open model in one process: its share of the keys and of the rate, on one schedule.

A process runs ``1/workers`` of the target rate with every ``workers``-th key, so the processes
together send the target rate and no two share a key. In a distributed run the master's share
message (``scenarios.protocol``) says which slot a worker takes, of how many, and when the test
began; without one a process takes its Locust worker index among ``--lg-workers``.
"""

from __future__ import annotations

import sys
from typing import Any

import contract
from contract.keys import KeyPool, read_keys
from scenarios.dispatch import DISPATCH
from scenarios.keys import keys_needed, shortfall
from scenarios.open_model import OpenModelUser
from scenarios.options import seconds, workers
from scenarios.schedule import DEFAULT_MAX_LATE_S, Due, KeySchedule
from scenarios.shapes import ShapeSpec, effective_duration, target_rate
from scenarios.state import STATE
from scenarios.traffic import parse_mix

__all__ = ["start_open_model", "count_dropped", "load_model"]


def start_open_model(options: Any, worker_index: int) -> None:
    """This process's share of the keys and of the rate, on one schedule: the share the master
    gave it, else every ``--lg-workers``-th key from ``worker_index``."""
    slot, of, began = STATE.share or (worker_index, workers(options), None)
    STATE.open_model = True
    share = 1.0 / of
    mix = parse_mix(options.lg_mix)
    pools = keys_needed(options.lg_rate * share, mix, options.lg_pace, options.lg_over_limit)
    mine: dict[str, tuple[str, ...]] = {}
    if getattr(options, "lg_keys_file", ""):
        # This process's keys: every ``of``-th of the file's, so no two processes share a key.
        given = read_keys(options.lg_keys_file)
        mine = {tier: keys[slot % of::of] for tier, keys in given.keys.items()}
        short = shortfall(KeyPool(mine), pools, options.lg_rate * share, options.lg_pace)
        if short:
            sys.stderr.write(f"loadgate: --lg-keys-file: {short}; keys will send faster than their pace\n")
        pools = {tier: len(mine.get(tier, ())) for tier in pools}
    schedule = KeySchedule(pools, pace=options.lg_pace, over_limit_fraction=options.lg_over_limit,
                           seed=options.lg_seed * 131 + slot)
    length = getattr(options, "lg_run_length", 0.0) or effective_duration(seconds(options.lg_duration), None)
    spec = ShapeSpec(options.lg_rate, length, options.lg_rampup)

    def rates(elapsed_s: float) -> dict[str, float] | None:
        rate = target_rate(options.lg_shape, elapsed_s, spec)
        return None if rate is None else {tier: rate * weight * share for tier, weight in mix.items()}

    DISPATCH.start(schedule, rates, mine, max_late_s=float(getattr(options, "lg_max_late", DEFAULT_MAX_LATE_S)),
                   on_drop=count_dropped, began=began, slot=slot)


def count_dropped(dues: list[Due], now: float) -> None:
    """Count sends the dispatcher dropped unsent (later than ``--lg-max-late``), each with how
    late it was at ``now`` (epoch seconds), under its tier label."""
    for due in dues:
        STATE.stats.count_dropped(contract.tier_label(due.tier, due.over_limit), now - due.intended)


def load_model(user_classes: Any) -> str:
    """``open`` when every user class takes its requests from the schedule (``OpenModelUser``),
    ``closed`` when none does (plain Locust users: the rate is not controlled), else ``mixed``."""
    kinds = {issubclass(cls, OpenModelUser) for cls in user_classes}
    return "open" if kinds == {True} else "closed" if kinds == {False} else "mixed"
