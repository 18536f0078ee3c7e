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
from typing import Any

from contract import SLO_BUCKETS

__all__ = ["BUCKETS", "ClientStats", "precise_bucket"]

#: Seconds; the SLO thresholds (0.1, 0.4, 0.5) are bucket bounds, so client latency grades exactly.
BUCKETS = SLO_BUCKETS


class _Slot:
    """Counts of one (endpoint, tier): one dict lookup per request finds all of them."""

    __slots__ = ("codes", "buckets", "duration_sum")

    def __init__(self) -> None:
        self.codes: dict[tuple[str, int], int] = {}
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.duration_sum = 0.0


class ClientStats:
    """Cumulative client-side counts; ``record`` is cheap enough for every request."""

    def __init__(self) -> None:
        self._slots: dict[tuple[str, str], _Slot] = {}
        # Response times in ms to 3 significant digits, per endpoint: percentiles within 0.5 %
        # (the SLO buckets grade thresholds exactly but only bound a percentile to its bucket).
        self._times: dict[str, dict[float, int]] = {}
        self.cache = {"hit": 0, "miss": 0}

    def record(self, endpoint: str, tier: str, result: str, code: int, seconds: float, cache: str | None) -> None:
        """Count one response that took ``seconds``; ``cache`` is the X-Cache header, if any."""
        slot = self._slots.get((endpoint, tier))
        if slot is None:
            slot = self._slots[(endpoint, tier)] = _Slot()
        key = (result, code)
        slot.codes[key] = slot.codes.get(key, 0) + 1
        # Non-cumulative counts here (cheap); snapshot() makes them cumulative like Prometheus.
        slot.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        slot.duration_sum += seconds
        times = self._times.get(endpoint)
        if times is None:
            times = self._times[endpoint] = {}
        ms = precise_bucket(seconds * 1000.0)
        times[ms] = times.get(ms, 0) + 1
        if cache is not None:
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
            slot = self._slot(endpoint, tier)
            key = (result, int(code))
            slot.codes[key] = slot.codes.get(key, 0) + count
        for endpoint, tier, counts, total in delta.get("latency", []):
            slot = self._slot(endpoint, tier)
            for i, c in enumerate(counts):
                slot.buckets[i] += c
            slot.duration_sum += total
        for endpoint, ms, count in delta.get("times", []):
            times = self._times.setdefault(endpoint, {})
            times[ms] = times.get(ms, 0) + count
        for answer in ("hit", "miss"):
            self.cache[answer] += delta.get("cache", {}).get(answer, 0)

    def _slot(self, endpoint: str, tier: str) -> _Slot:
        slot = self._slots.get((endpoint, tier))
        if slot is None:
            slot = self._slots[(endpoint, tier)] = _Slot()
        return slot

    def snapshot(self, cumulative_buckets: bool = True) -> dict[str, Any]:
        """The counts as lists; latency buckets cumulative (``le`` semantics) unless asked otherwise."""
        responses, latency = [], []
        for (endpoint, tier), slot in sorted(self._slots.items()):
            for (result, code), count in slot.codes.items():
                responses.append([endpoint, tier, result, str(code), count])
            if any(slot.buckets):
                counts = slot.buckets
                if cumulative_buckets:
                    running, counts = 0, []
                    for c in slot.buckets:
                        running += c
                        counts.append(running)
                latency.append([endpoint, tier, list(counts), slot.duration_sum])
        return {
            "responses": sorted(responses),
            "latency": latency,
            "times": [[endpoint, ms, count] for endpoint, times in sorted(self._times.items())
                      for ms, count in sorted(times.items())],
            "cache": dict(self.cache),
        }


def precise_bucket(response_time: float) -> float:
    """Round a response time (ms) to 3 significant digits: at most 0.5 % relative error.

    Branches for the usual range instead of a logarithm: this runs twice for every request.
    """
    if response_time <= 0:
        return 0
    if response_time < 100:
        if response_time >= 10:
            return round(response_time, 1)
        if response_time >= 1:
            return round(response_time, 2)
    elif response_time < 1000:
        return int(round(response_time))
    digits = 2 - int(math.floor(math.log10(response_time)))
    value = round(response_time, digits)
    return int(value) if digits <= 0 else value
