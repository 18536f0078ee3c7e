"""The open model's schedule: every key's next *intended* send time, in one heap. Pure, no gevent.

Keys model clients; Locust users model concurrency. Each tier carries its share of the rate
over its active keys: the fewest keys (``keys.keys_for_rate``) that keep every in-limit key at or
below its pace, never more than the pool holds. Over-limit keys (a fixed share of the pool,
``keys.is_over_limit``) send at 150 % of the limit; the in-limit keys share the rest evenly. When
the shape changes the rate, keys are activated or retired and the intervals change from each
key's next send on; a newly active key starts at a random phase within its interval, so keys
never send in lockstep, and no key ever sends sooner than one interval after its last intended
send, which keeps an in-limit key within its limit through every change of rate.

A free user ``take``s whichever request is due first. Its intended time stays as scheduled,
however late it is taken: the lateness (actual send minus intended) and the latency measured
from the intended send are what correct for coordinated omission (as wrk2 and HdrHistogram do).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from typing import NamedTuple

from contract import tier_label
from scenarios.keys import is_over_limit, keys_for_rate, over_limit_among
from scenarios.traffic import key_rates

__all__ = ["Due", "KeySchedule", "concurrency", "DEFAULT_MAX_LATE_S"]

#: A request still waiting for a free user this long after its intended time is dropped unsent
#: (``--lg-max-late``; the dispatcher drops it).
DEFAULT_MAX_LATE_S = 10.0


class Due(NamedTuple):
    """One request to send: for which key (its index in the tier's pool), and when it was meant to go.
    A named tuple: one is made for every request, in half the time of a frozen dataclass."""

    intended: float
    tier: str
    key_index: int
    over_limit: bool


@dataclass
class _Tier:
    pool: int               # keys in the pool
    fraction: float         # share of the keys that send over the limit (fixed roles: ``is_over_limit``)
    paced: float            # requests per second of one in-limit key
    over: float             # requests per second of one over-limit key
    rate: float = 0.0       # requests per second the tier carries now
    active: int = 0         # keys sending now (indices 0 .. active-1)
    in_step: float = math.inf  # seconds between two sends of an in-limit key now (``refresh``)

    def refresh(self) -> None:
        """Work out the in-limit keys' interval once per change of rate, not once per request."""
        n_over = over_limit_among(self.active, self.fraction)
        rest = self.rate - n_over * self.over
        in_limit = self.active - n_over
        # Never faster than the pace: when the over-limit keys alone carry the rate, the rest wait.
        self.in_step = in_limit / rest if rest > 0 and in_limit > 0 else math.inf

    def step(self, index: int, over: bool | None = None) -> float:
        """Seconds between two sends of key ``index`` at the current rate (inf when it should stop);
        ``over`` is whether it sends over the limit, when the caller knows."""
        if index >= self.active or self.rate <= 0:
            return math.inf
        if over if over is not None else is_over_limit(index, self.fraction):
            return 1.0 / self.over
        return self.in_step


class KeySchedule:
    """The next intended send of every active key, earliest first.

    ``pools`` gives the keys per tier; ``over_limit_fraction`` of them send at 150 % of the
    limit, the others share the rest at most at ``pace`` of it. A pool smaller than
    ``keys.keys_needed`` at the peak would make its keys send faster than their pace: refuse it
    first (``keys.shortfall``). Times are seconds on any clock the caller uses consistently.
    """

    def __init__(self, pools: dict[str, int], *, pace: float = 0.8, over_limit_fraction: float = 0.0,
                 seed: int = 1):
        self._tiers = {tier: _Tier(n, over_limit_fraction, *key_rates(tier, pace))
                       for tier, n in pools.items() if n > 0}
        self._pace = pace
        self._heap: list[tuple[float, int, str, int]] = []
        # A key's live heap entry (its sequence number and next intended send); older entries are stale.
        self._live: dict[tuple[str, int], tuple[int, float]] = {}
        # Each key's last intended send: a rescheduled or reactivated key waits a full interval after it.
        self._last: dict[tuple[str, int], float] = {}
        self._seq = 0
        self._rng = random.Random(seed)

    def pools(self) -> dict[str, int]:
        """Keys in each tier's pool."""
        return {tier: t.pool for tier, t in self._tiers.items()}

    def last_sends(self) -> dict[tuple[str, int], float]:
        """Each key's last intended send, by (tier, index)."""
        return dict(self._last)

    def remember(self, last: dict[tuple[str, int], float]) -> None:
        """Keys' last intended sends from an earlier schedule (before the first ``set_rates``): each
        then waits a full interval after it, as if this schedule had sent it."""
        for (tier, index), t in last.items():
            if tier in self._tiers and index < self._tiers[tier].pool:
                self._last[(tier, index)] = max(t, self._last.get((tier, index), t))

    def keys_active(self) -> dict[str, int]:
        """Keys sending now, per tier."""
        return {tier: t.active for tier, t in self._tiers.items()}

    def keys_by_label(self) -> dict[str, int]:
        """Keys sending now, per tier label: ``pro`` and ``pro_over_limit`` apart, as client counts name them."""
        out: dict[str, int] = {}
        for tier, t in self._tiers.items():
            over = over_limit_among(t.active, t.fraction)
            for label, n in ((tier, t.active - over), (tier_label(tier, True), over)):
                if n > 0:
                    out[label] = n
        return out

    def _push(self, tier: str, index: int, at: float) -> None:
        self._seq += 1
        self._live[(tier, index)] = (self._seq, at)
        heapq.heappush(self._heap, (at, self._seq, tier, index))

    def _retire(self, tier: str, index: int) -> None:
        self._live.pop((tier, index), None)

    def set_rates(self, rates: dict[str, float], now: float) -> None:
        """The requests per second each tier carries from ``now`` on (0 stops a tier).

        Active keys keep their next intended time and the new interval applies from the send after
        it, except that when the rate rises no key waits longer than one new interval: one scheduled
        at a trickle (the first moments of a ramp) would otherwise sit out the test.
        """
        for tier, t in self._tiers.items():
            rate = max(0.0, rates.get(tier, 0.0))
            before, rose = t.active, rate > t.rate
            t.rate = rate
            t.active = min(t.pool, keys_for_rate(tier, rate, self._pace, t.fraction))
            t.refresh()
            for index in range(before, t.active):
                step = t.step(index)
                if math.isfinite(step):  # an in-limit key with no share of the rate waits for one
                    self._push(tier, index, self._not_before(tier, index, step, now + self._rng.random() * step))
            for index in range(t.active, before):
                self._retire(tier, index)
            if rose:
                for index in range(min(before, t.active)):
                    step = t.step(index)
                    live = self._live.get((tier, index))
                    # An active key not scheduled (it had no share) or scheduled too far out starts anew.
                    if math.isfinite(step) and (live is None or live[1] > now + step):
                        self._push(tier, index, self._not_before(tier, index, step, now + self._rng.random() * step))

    def _not_before(self, tier: str, index: int, step: float, at: float) -> float:
        """``at``, or one ``step`` after the key's last intended send when that is later."""
        last = self._last.get((tier, index))
        return at if last is None or not math.isfinite(step) else max(at, last + step)

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap and self._live.get((heap[0][2], heap[0][3]), (None,))[0] != heap[0][1]:
            heapq.heappop(heap)

    def next_time(self) -> float | None:
        """When the earliest request is due (None when nothing is scheduled)."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def take(self, now: float) -> Due | None:
        """The earliest request due at or before ``now`` (None if none is due yet). Its key is
        rescheduled one interval after its *intended* time, so a late send never shifts the schedule."""
        heap = self._heap
        if heap and self._live.get((heap[0][2], heap[0][3]), (None,))[0] != heap[0][1]:
            self._drop_stale()
        if not heap or heap[0][0] > now:
            return None
        intended, _, tier, index = heap[0]
        key = (tier, index)
        self._last[key] = intended
        t = self._tiers[tier]
        over = t.fraction > 0 and is_over_limit(index, t.fraction)
        step = t.step(index, over)
        if step < math.inf:
            # One sift, not two: the head is replaced by the key's next send.
            self._seq += 1
            at = intended + step
            self._live[key] = (self._seq, at)
            heapq.heapreplace(heap, (at, self._seq, tier, index))
        else:
            heapq.heappop(heap)
            self._retire(tier, index)
        return Due(intended, tier, index, over)


def concurrency(rate: float, expected_latency_s: float = 0.05, headroom: float = 4.0, minimum: int = 10) -> int:
    """Locust users to carry ``rate`` requests per second (Little's law with headroom).

    In flight on average: rate × latency. ``headroom`` covers the tail and stalls: with 4×, a
    service at 50 ms keeps up until its latency quadruples before requests start to wait for a
    free user (and show as late).
    """
    return max(minimum, math.ceil(rate * expected_latency_s * headroom))
