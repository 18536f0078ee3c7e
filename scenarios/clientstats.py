"""Client-side counters, as the load generator saw its requests. No Locust import here.

``ClientStats`` counts responses by endpoint, tier, result and status code, keeps a latency
histogram per endpoint and tier (buckets at the SLO thresholds), and counts ``X-Cache`` hits
and misses. In distributed mode each worker ``drain()``s a delta into Locust's report to the
master, which ``merge()``s it, so the master's totals are exact. ``snapshot()`` gives the
cumulative state as plain JSON-able data; ``series_row()`` gives one line of the series file:
cumulative counts, but the response-time tables only as they changed since the previous line
(they hold thousands of rows, and repeating them every second grew a soak's file by 10 MiB a
minute).

Results: ``ok``, ``failure`` (a failed check or a transport error, code 0), and
``rate_limited`` (a 429 the user expected, being over its limit).

A request sent on an open-model schedule also says how late it was sent (``late_s``: the actual
send minus the intended one). It is then counted a second time, from its intended send (the
*corrected* latency, as wrk2 and HdrHistogram define it), and counted as late beyond
``LATE_THRESHOLD_S``. Closed-model requests have no intended time and are counted once.
"""

from __future__ import annotations

import bisect
import math
from typing import Any, Callable

from contract import SLO_BUCKETS

__all__ = ["BUCKETS", "DROPPED", "LATE_THRESHOLD_S", "VERY_LATE_THRESHOLD_S", "ClientStats", "lateness",
           "precise_bucket"]

#: Seconds; the SLO thresholds (0.1, 0.4, 0.5) are bucket bounds, so client latency grades exactly.
BUCKETS = SLO_BUCKETS
#: The endpoint label of open-model requests dropped unsent, in the corrected latency.
DROPPED = "(dropped unsent)"
#: A request sent more than this after its intended time is *late*: the pool of users was busy.
LATE_THRESHOLD_S = 0.01
#: Later than this, a request shows the load generator could not keep its schedule (run validity).
VERY_LATE_THRESHOLD_S = 0.1


class _Slot:
    """Counts of one (endpoint, tier): one dict lookup per request finds all of them."""

    __slots__ = ("codes", "buckets", "duration_sum", "corrected", "corrected_sum")

    def __init__(self) -> None:
        self.codes: dict[tuple[str, int], int] = {}
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.duration_sum = 0.0
        self.corrected = [0] * (len(BUCKETS) + 1)  # from the intended send (open-model requests only)
        self.corrected_sum = 0.0


class ClientStats:
    """Cumulative client-side counts; ``record`` is cheap enough for every request."""

    def __init__(self) -> None:
        self._slots: dict[tuple[str, str], _Slot] = {}
        # Response times in ms to 3 significant digits, per endpoint: percentiles within 0.5 %
        # (the SLO buckets grade thresholds exactly but only bound a percentile to its bucket).
        self._times: dict[str, dict[float, int]] = {}
        self._corrected_times: dict[str, dict[float, int]] = {}
        self.cache = {"hit": 0, "miss": 0}
        #: Open-model requests sent, those of them sent later than ``LATE_THRESHOLD_S``, and later
        #: than ``VERY_LATE_THRESHOLD_S``; and those dropped, never sent (queued too long).
        self.late = {"scheduled": 0, "late": 0, "very_late": 0, "dropped": 0}
        # The response-time tables as the last series_row() wrote them.
        self._times_written: dict[str, dict[float, int]] = {}
        self._corrected_written: dict[str, dict[float, int]] = {}

    def record(self, endpoint: str, tier: str, result: str, code: int, seconds: float, cache: str | None,
               late_s: float | None = None) -> None:
        """Count one response that took ``seconds``; ``cache`` is the X-Cache header, if any;
        ``late_s`` is how long after its intended time an open-model request was sent."""
        slot = self._slots.get((endpoint, tier))
        if slot is None:
            slot = self._slots[(endpoint, tier)] = _Slot()
        key = (result, code)
        slot.codes[key] = slot.codes.get(key, 0) + 1
        # Non-cumulative counts here (cheap); snapshot() makes them cumulative like Prometheus.
        slot.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        slot.duration_sum += seconds
        _count_time(self._times, endpoint, seconds)
        if cache is not None:
            if cache == "HIT":
                self.cache["hit"] += 1
            elif cache == "MISS":
                self.cache["miss"] += 1
        if late_s is not None:
            self._record_corrected(slot, endpoint, seconds + max(0.0, late_s), late_s)

    def _record_corrected(self, slot: _Slot, endpoint: str, corrected_s: float, late_s: float) -> None:
        slot.corrected[bisect.bisect_left(BUCKETS, corrected_s)] += 1
        slot.corrected_sum += corrected_s
        _count_time(self._corrected_times, endpoint, corrected_s)
        self.late["scheduled"] += 1
        if late_s > LATE_THRESHOLD_S:
            self.late["late"] += 1
            if late_s > VERY_LATE_THRESHOLD_S:
                self.late["very_late"] += 1

    def count_dropped(self, tier: str, waited_s: float) -> None:
        """Count an open-model request of ``tier`` dropped unsent after ``waited_s``: no user was
        free before it was too late. Its client waited at least that long, so the corrected
        latency counts it so, under the endpoint ``DROPPED`` (the scenario picks a request's
        endpoint only when it sends it); the latency as sent does not."""
        slot = self._slot(DROPPED, tier)
        slot.corrected[bisect.bisect_left(BUCKETS, waited_s)] += 1
        slot.corrected_sum += waited_s
        _count_time(self._corrected_times, DROPPED, waited_s)
        self.late["dropped"] += 1

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
        for endpoint, tier, counts, total in delta.get("corrected", []):
            slot = self._slot(endpoint, tier)
            for i, c in enumerate(counts):
                slot.corrected[i] += c
            slot.corrected_sum += total
        for field, mine in (("times", self._times), ("corrected_times", self._corrected_times)):
            for endpoint, ms, count in delta.get(field, []):
                times = mine.setdefault(endpoint, {})
                times[ms] = times.get(ms, 0) + count
        for answer in ("hit", "miss"):
            self.cache[answer] += delta.get("cache", {}).get(answer, 0)
        for kind in ("scheduled", "late", "very_late", "dropped"):
            self.late[kind] += delta.get("late", {}).get(kind, 0)

    def _slot(self, endpoint: str, tier: str) -> _Slot:
        slot = self._slots.get((endpoint, tier))
        if slot is None:
            slot = self._slots[(endpoint, tier)] = _Slot()
        return slot

    def snapshot(self, cumulative_buckets: bool = True) -> dict[str, Any]:
        """The counts as lists; latency buckets cumulative (``le`` semantics) unless asked otherwise.

        The corrected figures (``corrected``, ``corrected_times``, ``late``) are present only once
        an open-model request was counted.
        """
        return self._rows(cumulative_buckets, _times_rows(self._times), lambda: _times_rows(self._corrected_times))

    def series_row(self) -> dict[str, Any]:
        """``snapshot()``, but ``times`` and ``corrected_times`` count only the responses since the
        previous call, as ``{endpoint: [ms, n, ms, n, ...]}`` (n > 0); the reader adds them up."""
        return self._rows(True, _times_added(self._times, self._times_written),
                          lambda: _times_added(self._corrected_times, self._corrected_written))

    def _rows(self, cumulative_buckets: bool, times: Any, corrected_times: Callable[[], Any]) -> dict[str, Any]:
        def counts_of(buckets: list[int]) -> list[int]:
            if not cumulative_buckets:
                return list(buckets)
            running, out = 0, []
            for c in buckets:
                running += c
                out.append(running)
            return out

        responses, latency, corrected = [], [], []
        for (endpoint, tier), slot in sorted(self._slots.items()):
            for (result, code), count in slot.codes.items():
                responses.append([endpoint, tier, result, str(code), count])
            if any(slot.buckets):
                latency.append([endpoint, tier, counts_of(slot.buckets), slot.duration_sum])
            if any(slot.corrected):
                corrected.append([endpoint, tier, counts_of(slot.corrected), slot.corrected_sum])
        out: dict[str, Any] = {"responses": sorted(responses), "latency": latency, "times": times,
                               "cache": dict(self.cache)}
        if self.late["scheduled"] or self.late["dropped"]:
            out.update(corrected=corrected, corrected_times=corrected_times(), late=dict(self.late))
        return out


def _times_added(times: dict[str, dict[float, int]], written: dict[str, dict[float, int]]) -> dict[str, list[float]]:
    """Per endpoint, ``[ms, n, ms, n, ...]``: the rows of ``times`` that grew since ``written``, by
    how much (flat pairs: a second at 10K req/s adds thousands of rows); ``written`` catches up."""
    out = {}
    for endpoint, per in sorted(times.items()):
        seen = written.setdefault(endpoint, {})
        flat: list[float] = []
        for ms, count in sorted(per.items()):
            before = seen.get(ms, 0)
            if count != before:
                flat += (ms, count - before)
                seen[ms] = count
        if flat:
            out[endpoint] = flat
    return out


def _count_time(times: dict[str, dict[float, int]], endpoint: str, seconds: float) -> None:
    """Count one response time, in ms to 3 significant digits, for its endpoint."""
    per = times.get(endpoint)
    if per is None:
        per = times[endpoint] = {}
    ms = precise_bucket(seconds * 1000.0)
    per[ms] = per.get(ms, 0) + 1


def lateness(now: float, response_time_ms: float, intended: float) -> float:
    """Seconds between a request's intended send and its actual one, from its response event at
    ``now`` (Locust fires it as the response ends, ``response_time_ms`` after the send)."""
    return now - response_time_ms / 1000.0 - intended


def _times_rows(times: dict[str, dict[float, int]]) -> list[list[Any]]:
    return [[endpoint, ms, count] for endpoint, per in sorted(times.items()) for ms, count in sorted(per.items())]


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
