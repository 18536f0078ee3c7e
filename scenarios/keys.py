"""How many API keys a rate needs, and which of them send over their limit. Pure.

Keys model clients (the pool itself, and the keys file, are ``contract.keys``): every key sends on
its own schedule, an in-limit key at most at ``pace`` of its tier's limit, an over-limit key at
150 %. ``keys_needed`` says how many keys each tier needs to carry a target rate, so a pool that
is too small is refused before any load is sent, with ``shortfall``'s message.
"""

from __future__ import annotations

import math
from typing import Sequence

from contract.keys import KeyPool
from scenarios.traffic import OVER_LIMIT_PACE, key_rates

__all__ = ["is_over_limit", "over_limit_among", "keys_for_rate", "keys_needed", "shortfall", "assign_slots"]


def is_over_limit(index: int, fraction: float) -> bool:
    """Whether key ``index`` of a tier's pool sends over its limit: a fixed role, spread evenly, so
    that the first ``k`` keys always hold ``floor(k × fraction)`` over-limit ones."""
    return math.floor((index + 1) * fraction + 1e-9) > math.floor(index * fraction + 1e-9)


def over_limit_among(active: int, fraction: float) -> int:
    """Over-limit keys among the first ``active`` of a pool."""
    return math.floor(active * fraction + 1e-9)


def keys_for_rate(tier: str, rate: float, pace: float = 0.8, over_limit_fraction: float = 0.0) -> int:
    """The fewest keys of ``tier`` that carry ``rate`` requests per second with no in-limit key
    faster than ``pace`` of the limit; 0 for no traffic."""
    if rate <= 0:
        return 0
    paced, over = key_rates(tier, pace)
    k = max(1, math.floor(rate / max(paced, over)))
    while True:
        n_over = over_limit_among(k, over_limit_fraction)
        if n_over * over + (k - n_over) * paced >= rate - 1e-9:
            return k
        k += 1


def keys_needed(rate: float, mix: dict[str, float], pace: float = 0.8,
                over_limit_fraction: float = 0.0) -> dict[str, int]:
    """Keys each tier needs at ``rate`` (the peak): ``keys_for_rate`` of its share of the traffic."""
    return {tier: keys_for_rate(tier, rate * share, pace, over_limit_fraction)
            for tier, share in mix.items() if share > 0}


def shortfall(pool: KeyPool, needed: dict[str, int], rate: float, pace: float) -> str | None:
    """None when the pool is large enough; otherwise a message giving the count needed per tier."""
    short = [f"{tier}: {pool.count(tier)} given, {n} needed" for tier, n in needed.items() if pool.count(tier) < n]
    if not short:
        return None
    return (f"too few keys for {rate:g} req/s with each in-limit key at {pace:.0%} of its tier's limit "
            f"(over-limit keys at {OVER_LIMIT_PACE:.0%}): " + "; ".join(short))


def assign_slots(workers: Sequence[str], slots: dict[str, int]) -> dict[str, int]:
    """Each worker's slot (0 .. n-1) among ``workers``: a worker keeps the slot it had in
    ``slots``, so its keys stay its own when another joins, and a newcomer takes the lowest free
    one. When the kept slots no longer fit (workers were lost), all are assigned afresh in order."""
    kept = {w: s for w, s in slots.items() if w in workers}
    if any(s >= len(workers) for s in kept.values()):
        kept = {}
    free = iter(sorted(set(range(len(workers))) - set(kept.values())))
    return {**kept, **{w: next(free) for w in workers if w not in kept}}

