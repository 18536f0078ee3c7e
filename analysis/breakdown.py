"""Per-endpoint and per-tier tables, and the percentile spectrum, from the client series. Pure.

These are the load generator's exact view over the graded window: which endpoint was slow,
and whether each tier's rate limit held (in-limit keys never refused, over-limit keys refused).
Each row is the ``ClientSeries.counts`` of that endpoint's or tier's counts.
"""

from __future__ import annotations

from typing import Any

import contract
from analysis.client_series import BUCKETS, ClientSeries, Counts, users_by_tier
from analysis.client_source import client_percentile
from analysis.sli import Window, histogram_from_buckets

__all__ = ["SPECTRUM", "breakdown", "spectrum", "client_latency"]

#: Quantiles of the percentile spectrum (p50 ... p99.99).
SPECTRUM = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999)


def _row(c: Counts) -> dict[str, float]:
    """Requests by result (``ok``, ``rate_limited``, ``failure``) and every 429, however it was taken."""
    return {"requests": c.total, contract.OK: c.total - c.failures - c.rate_limited,
            contract.RATE_LIMITED: c.rate_limited, contract.FAILURE: c.failures, "http_429": c.by_code.get("429", 0.0)}


def breakdown(series: ClientSeries, window: Window) -> dict[str, list[dict[str, Any]]]:
    """Per-endpoint and per-tier client figures over the window.

    Endpoints: requests, rate, failures, expected 429s, and p50/p99 estimated from the SLO buckets.
    Tiers: users, requests, accepted (ok) requests, expected 429s, failures, every 429 (an
    in-limit user's 429 is also a failure), and the accepted rate per user per minute, to hold
    against the tier's limit.
    """
    a, b = series.at(window.start), series.at(window.end)
    seconds = max(b.t - a.t, 1e-9)
    endpoint_rows = []
    for name in sorted({key[0] for key in b.responses}):
        c = series.counts(window.start, window.end, endpoint=name)
        if c.total <= 0:
            continue
        hist = histogram_from_buckets(zip(BUCKETS, c.buckets))
        endpoint_rows.append({"endpoint": name, **_row(c), "rate": c.total / seconds,
                              "p50": hist.quantile(0.5) if hist.count else None,
                              "p99": hist.quantile(0.99) if hist.count else None})
    users = users_by_tier(b)
    tier_rows = []
    for name in sorted({key[1] for key in b.responses}):
        c = series.counts(window.start, window.end, tier=name)
        if c.total <= 0:
            continue
        row = _row(c)
        count = int(users.get(name, 0))
        accepted = row[contract.OK] / count / seconds * 60.0 if count else None
        tier_rows.append({"tier": name, "users": count, **row, "accepted_per_user_per_min": accepted})
    return {"endpoints": endpoint_rows, "tiers": tier_rows}


def spectrum(series: ClientSeries, window: Window,
             quantiles: tuple[float, ...] = SPECTRUM) -> dict[str, list[list[float]]]:
    """Per endpoint, ``[quantile, seconds]`` over the window from the rounded response times."""
    out = {}
    for name in series.endpoints():
        times = series.counts(window.start, window.end, endpoint=name).times_ms
        if times:
            out[name] = [[q_, v] for q_ in quantiles if (v := client_percentile(times, q_)) is not None]
    return out


def client_latency(series: ClientSeries, window: Window,
                   late_threshold_s: float = 0.01) -> dict[str, Any] | None:
    """The load generator's latency over the window, measured from the actual sends and corrected
    (from the intended sends of open-model requests), in seconds, and how many requests were late.

    None when no open-model request was counted (the closed model has no intended sends).
    """
    c = series.counts(window.start, window.end)
    if c.scheduled + c.dropped <= 0:
        return None

    def percentiles(times: dict[float, float]) -> dict[str, float | None]:
        return {f"p{q * 100:g}": client_percentile(times, q) for q in (0.5, 0.9, 0.99)}

    return {"measured": percentiles(c.times_ms), "corrected": percentiles(c.corrected_times_ms),
            "late": {"count": c.late, "fraction": c.late / c.scheduled if c.scheduled else 0.0,
                     "threshold_s": late_threshold_s},
            "dropped": {"count": c.dropped, "fraction": c.dropped / (c.scheduled + c.dropped)}}
