"""Deterministic service series in OpenMetrics text, for backfilling a real Prometheus.

The tests and ``bench/bench_gate.py`` use it to put known traffic into Prometheus with
``promtool tsdb create-blocks-from openmetrics`` and then grade it. Pure: builds text.

A ``Job`` is one situation (healthy, an outage, a brownout...), its own ``job`` label. Each
instance is scraped every ``interval_s`` seconds; at each scrape the counters grow by what the
instance served in the interval before it, following a ``Profile`` that may change with time.
The series follow loadgate's default metric contract (``contract``: its names, buckets and
prometheus_client's spelling of bucket bounds, ``le="1.0"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import contract
from contract import format_le

__all__ = ["BUCKETS", "Profile", "Job", "openmetrics", "expected_counts"]

#: Histogram bounds of the demo API (seconds); include the SLO thresholds 0.1, 0.4 and 0.5.
BUCKETS = contract.SLO_BUCKETS


@dataclass(frozen=True)
class Profile:
    """What one instance serves per second while this profile holds.

    ``latency`` maps a bucket bound to the share of requests that fall in that bucket (just
    above the previous bound, up to and including this one); shares add up to 1.
    ``hit_ratio`` None means the instance exposes no cache metrics.
    """

    rate: float = 100.0
    latency: tuple[tuple[float, float], ...] = ((0.05, 0.9), (0.1, 0.1))
    error_ratio: float = 0.0
    ratio_429: float = 0.0
    hit_ratio: float | None = 0.9
    cache_lookups_per_request: float = 0.7
    up: bool = True


@dataclass(frozen=True)
class Job:
    """One situation: instances, endpoints and a profile per instance and time offset.

    ``profile(instance, offset_s)`` gives the behaviour during the interval ending at the
    scrape ``offset_s`` seconds after the start. ``resets`` restarts an instance's counters
    from zero at that offset. With ``emit_5xx_series`` False no 5xx series exists at all.
    """

    name: str
    profile: Callable[[str, float], Profile]
    instances: tuple[str, ...] = ("a:8000", "b:8000")
    endpoints: tuple[tuple[str, str, float], ...] = (("GET", "/api/users/{id}", 0.7), ("GET", "/api/items", 0.3))
    resets: dict[str, float] = field(default_factory=dict)
    emit_5xx_series: bool = True


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _scrape_times(start: float, duration_s: float, interval_s: float, offset_s: float) -> list[float]:
    n = int((duration_s - offset_s) // interval_s) + 1
    return [start + offset_s + i * interval_s for i in range(n)]


def _cumulative_shares(latency: tuple[tuple[float, float], ...]) -> list[float]:
    shares = dict(latency)
    unknown = set(shares) - set(BUCKETS)
    if unknown:
        raise ValueError(f"latency shares at {sorted(unknown)} are not bucket bounds")
    out, running = [], 0.0
    for bound in BUCKETS:
        running += shares.get(bound, 0.0)
        out.append(running)
    out.append(running)  # +Inf
    return out


def expected_counts(job: Job, instance: str, start: float,
                    times: list[float]) -> Iterator[tuple[float, Profile, float]]:
    """For each scrape time: (time, profile, requests served in the interval before it)."""
    previous = None
    for t in times:
        offset = t - start
        profile = job.profile(instance, offset)
        served = 0.0 if previous is None or not profile.up else profile.rate * (t - previous)
        yield t, profile, served
        previous = t


def openmetrics(jobs: list[Job], start: float, duration_s: float, interval_s: float = 15.0,
                offset_s: float = 7.0) -> str:
    """The OpenMetrics text (ending in ``# EOF``) for ``jobs`` from ``start`` for ``duration_s``.

    Scrapes happen at ``start + offset_s + k * interval_s``; the offset keeps them off minute
    boundaries, as real scrapes usually are.
    """
    times = _scrape_times(start, duration_s, interval_s, offset_s)
    requests: list[str] = []
    buckets: list[str] = []
    hits: list[str] = []
    misses: list[str] = []
    ups: list[str] = []
    for job in jobs:
        for instance in job.instances:
            base = {"job": job.name, "instance": instance}
            reset_at = job.resets.get(instance)

            def is_reset(t: float, reset_at: float | None = reset_at) -> bool:
                return reset_at is not None and math.isclose(t - start, reset_at, abs_tol=interval_s / 2)

            plan = list(expected_counts(job, instance, start, times))
            up_series = [f"{contract.UP}{_labels(**base)} {1 if p.up else 0} {t:.3f}" for t, p, _ in plan]
            ups.extend(up_series)
            if all(not p.up for _, p, _ in plan):
                continue
            any_cache = any(p.hit_ratio is not None for _, p, _ in plan)
            for method, endpoint, share in job.endpoints:
                series_labels = {**base, "method": method, "endpoint": endpoint}
                codes = {"200": 0.0, "429": 0.0, "503": 0.0}
                cumulative = [0.0] * (len(BUCKETS) + 1)
                total_sum = 0.0
                code_lines: dict[str, list[str]] = {c: [] for c in codes}
                hist_lines: list[str] = []
                for t, p, served in plan:
                    if is_reset(t):
                        codes = {c: 0.0 for c in codes}
                        cumulative = [0.0] * len(cumulative)
                        total_sum = 0.0
                    if not p.up:
                        continue
                    n = served * share
                    codes["503"] += n * p.error_ratio
                    codes["429"] += n * p.ratio_429
                    codes["200"] += n * (1 - p.error_ratio - p.ratio_429)
                    for i, c in enumerate(_cumulative_shares(p.latency)):
                        cumulative[i] += n * c
                    total_sum += n * sum(b * s for b, s in p.latency)
                    for code, value in codes.items():
                        labels = _labels(**series_labels, **{contract.CODE_LABEL: code})
                        code_lines[code].append(f"{contract.REQUESTS}{labels} "
                                                f"{value!r} {t:.3f}")
                    for i, bound in enumerate((*BUCKETS, math.inf)):
                        hist_lines.append(f"{contract.DURATION}_bucket"
                                          f"{_labels(**series_labels, le=format_le(bound))} {cumulative[i]!r} {t:.3f}")
                    hist_lines.append(f"{contract.DURATION}_count{_labels(**series_labels)} "
                                      f"{cumulative[-1]!r} {t:.3f}")
                    hist_lines.append(f"{contract.DURATION}_sum{_labels(**series_labels)} "
                                      f"{total_sum!r} {t:.3f}")
                for code, lines in code_lines.items():
                    if code == "503" and not job.emit_5xx_series:
                        continue
                    if code == "429" and not any(p.ratio_429 for _, p, _ in plan):
                        continue
                    requests.extend(lines)
                buckets.extend(hist_lines)
            if any_cache:
                h = m = 0.0
                for t, p, served in plan:
                    if is_reset(t):
                        h = m = 0.0
                    if not p.up or p.hit_ratio is None:
                        continue
                    lookups = served * p.cache_lookups_per_request
                    h += lookups * p.hit_ratio
                    m += lookups * (1 - p.hit_ratio)
                    hits.append(f"{contract.CACHE_HITS}{_labels(**base)} {h!r} {t:.3f}")
                    misses.append(f"{contract.CACHE_MISSES}{_labels(**base)} {m!r} {t:.3f}")
    out = [f"# TYPE {contract.REQUESTS_FAMILY} counter", *requests,
           f"# TYPE {contract.DURATION} histogram", *buckets,
           f"# TYPE {contract.CACHE_HITS_FAMILY} counter", *hits,
           f"# TYPE {contract.CACHE_MISSES_FAMILY} counter", *misses,
           f"# TYPE {contract.UP} gauge", *ups,
           "# EOF"]
    return "\n".join(out) + "\n"
