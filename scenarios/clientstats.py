"""Client-side counters, as the load generator saw its requests. No Locust import here.

``ClientStats`` counts responses by endpoint, tier, result and status code, keeps a latency
histogram per endpoint and tier (buckets at the SLO thresholds), and counts ``X-Cache`` hits
and misses. In distributed mode each worker ``drain()``s a delta into Locust's report to the
master, which ``merge()``s it, so the master's totals are exact. ``snapshot()`` gives the
cumulative state as plain JSON-able data (one line of the series file).

Results: ``ok``, ``failure`` (a failed check or a transport error, code 0), and
``rate_limited`` (a 429 the user expected, being over its limit).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from typing import Any

__all__ = ["BUCKETS", "ClientStats", "precise_bucket"]

#: Seconds; the SLO thresholds (0.1, 0.4, 0.5) are bucket bounds, so client latency grades exactly.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)


class ClientStats:
    """Cumulative client-side counts; ``record`` is cheap enough for every request."""

    def __init__(self) -> None:
        self.responses: defaultdict[tuple[str, str, str, str], int] = defaultdict(int)
        self.buckets: defaultdict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.duration_sum: defaultdict[tuple[str, str], float] = defaultdict(float)
        # Response times in ms to 3 significant digits: percentiles within 0.5 % (the SLO buckets
        # above grade thresholds exactly but only bound a percentile to its bucket).
        self.times: defaultdict[tuple[str, float], int] = defaultdict(int)
        self.cache = {"hit": 0, "miss": 0}

    def record(self, endpoint: str, tier: str, result: str, code: int, seconds: float, cache: str | None) -> None:
        """Count one response that took ``seconds``; ``cache`` is the X-Cache header, if any."""
        self.responses[(endpoint, tier, result, str(code))] += 1
        # Non-cumulative counts here (cheap); snapshot() makes them cumulative like Prometheus.
        self.buckets[(endpoint, tier)][bisect.bisect_left(BUCKETS, seconds)] += 1
        self.duration_sum[(endpoint, tier)] += seconds
        self.times[(endpoint, precise_bucket(seconds * 1000.0))] += 1
        if cache == "HIT":
            self.cache["hit"] += 1
        elif cache == "MISS":
            self.cache["miss"] += 1

    def drain(self) -> dict[str, Any]:
        """Everything counted since the last drain, as JSON-able data; the counters restart at 0."""
        delta = self.snapshot(cumulative_buckets=False)
        self.__init__()  # type: ignore[misc]
        return delta

    def merge(self, delta: dict[str, Any]) -> None:
        """Add a worker's drained delta."""
        for endpoint, tier, result, code, count in delta.get("responses", []):
            self.responses[(endpoint, tier, result, code)] += count
        for endpoint, tier, counts, total in delta.get("latency", []):
            mine = self.buckets[(endpoint, tier)]
            for i, c in enumerate(counts):
                mine[i] += c
            self.duration_sum[(endpoint, tier)] += total
        for endpoint, ms, count in delta.get("times", []):
            self.times[(endpoint, ms)] += count
        for key in ("hit", "miss"):
            self.cache[key] += delta.get("cache", {}).get(key, 0)

    def snapshot(self, cumulative_buckets: bool = True) -> dict[str, Any]:
        """The counts as lists; latency buckets cumulative (``le`` semantics) unless asked otherwise."""
        latency = []
        for (endpoint, tier), counts in sorted(self.buckets.items()):
            if cumulative_buckets:
                running, out = 0, []
                for c in counts:
                    running += c
                    out.append(running)
                counts = out
            latency.append([endpoint, tier, list(counts), self.duration_sum[(endpoint, tier)]])
        return {
            "responses": [[*key, count] for key, count in sorted(self.responses.items())],
            "latency": latency,
            "times": [[endpoint, ms, count] for (endpoint, ms), count in sorted(self.times.items())],
            "cache": dict(self.cache),
        }


def precise_bucket(response_time: float) -> float:
    """Round a response time (ms) to 3 significant digits: at most 0.5 % relative error."""
    if response_time <= 0:
        return 0
    digits = 2 - int(math.floor(math.log10(response_time)))
    value = round(response_time, digits)
    return int(value) if digits <= 0 else value
