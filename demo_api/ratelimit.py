"""Per-key rate limits by tier, enforced with GCRA (a token bucket without a timer).

Each tier allows ``limit`` requests per minute at a steady pace, with a burst of
``burst_s`` seconds' worth of quota (at least one request). A client pacing itself below its
limit is never refused; one at 150 % of its limit is refused within about ``burst_s / 0.5``
seconds. Refusals say when to retry and how much quota is left.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

from contract import TIER_LIMITS

__all__ = ["TIER_LIMITS", "Decision", "RateLimiter"]


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, the whole requests still allowed now, and when to retry."""

    allowed: bool
    remaining: int
    retry_after_s: float
    limit: int


class RateLimiter:
    """GCRA per key: ``check(key, tier)`` records the request when it is allowed."""

    def __init__(self, limits: dict[str, int] | None = None, burst_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self.limits = dict(limits or TIER_LIMITS)
        self.burst_s = burst_s
        self.clock = clock
        self._tat: dict[str, float] = {}  # theoretical arrival time per key

    def check(self, key: str, tier: str) -> Decision:
        limit = self.limits[tier]
        interval = 60.0 / limit
        burst = max(1, round(limit * self.burst_s / 60.0))
        tolerance = interval * (burst - 1)
        now = self.clock()
        tat = max(self._tat.get(key, now), now)
        if tat - tolerance > now + 1e-9:  # float slack: a full burst at one instant is allowed
            return Decision(False, 0, tat - tolerance - now, limit)
        new_tat = tat + interval
        self._tat[key] = new_tat
        remaining = int(math.floor((tolerance + interval - (new_tat - now)) / interval + 1e-9))
        return Decision(True, max(0, remaining), 0.0, limit)
