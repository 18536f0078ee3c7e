"""Per-endpoint and per-tier tables, and the percentile spectrum, from the client series. Pure.

These are the load generator's exact view over the graded window: which endpoint was slow,
and whether each tier's rate limit held (in-limit keys never refused, over-limit keys refused).
"""

from __future__ import annotations

from typing import Any

import contract
from analysis.client_series import BUCKETS, ClientSeries
from analysis.client_source import client_percentile
from analysis.sli import Window, histogram_from_buckets

__all__ = ["SPECTRUM", "breakdown", "spectrum"]

#: Quantiles of the percentile spectrum (p50 ... p99.99).
SPECTRUM = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999)


def breakdown(series: ClientSeries, window: Window) -> dict[str, list[dict[str, Any]]]:
    """Per-endpoint and per-tier client figures over the window.

    Endpoints: requests, rate, failures, expected 429s, and p50/p99 estimated from the SLO buckets.
    Tiers: users, requests, accepted (ok) requests, expected 429s, failures, every 429 (an
    in-limit user's 429 is also a failure), and the accepted rate per user per minute, to hold
    against the tier's limit.
    """
    a, b = series.at(window.start), series.at(window.end)
    seconds = max(b.t - a.t, 1e-9)
    endpoints: dict[str, dict[str, float]] = {}
    tiers: dict[str, dict[str, float]] = {}
    for key, count in b.responses.items():
        n = count - a.responses.get(key, 0.0)
        if n <= 0:
            continue
        endpoint, tier, result, code = key
        for table, name in ((endpoints, endpoint), (tiers, tier)):
            row = table.setdefault(name, {"requests": 0.0, contract.OK: 0.0, contract.RATE_LIMITED: 0.0,
                                          contract.FAILURE: 0.0, "http_429": 0.0})
            row["requests"] += n
            row[result] = row.get(result, 0.0) + n
            row["http_429"] += n if code == "429" else 0.0
    buckets: dict[str, list[float]] = {}
    for (endpoint, tier), counts in b.latency.items():
        before = a.latency.get((endpoint, tier), [0.0] * len(counts))
        mine = buckets.setdefault(endpoint, [0.0] * len(counts))
        for i, (x, y) in enumerate(zip(before, counts)):
            mine[i] += y - x
    users: dict[str, int] = {}
    for name, count in b.users.items():
        tier_name = contract.tier_of_user_class(name)
        users[tier_name] = users.get(tier_name, 0) + int(count)
    endpoint_rows = []
    for name, row in sorted(endpoints.items()):
        hist = histogram_from_buckets(zip(BUCKETS, buckets.get(name, [])))
        endpoint_rows.append({"endpoint": name, **row, "rate": row["requests"] / seconds,
                              "p50": hist.quantile(0.5) if hist.count else None,
                              "p99": hist.quantile(0.99) if hist.count else None})
    tier_rows = []
    for name, row in sorted(tiers.items()):
        count = users.get(name, 0)
        accepted = row[contract.OK] / count / seconds * 60.0 if count else None
        tier_rows.append({"tier": name, "users": count, **row, "accepted_per_user_per_min": accepted})
    return {"endpoints": endpoint_rows, "tiers": tier_rows}


def spectrum(series: ClientSeries, window: Window,
             quantiles: tuple[float, ...] = SPECTRUM) -> dict[str, list[list[float]]]:
    """Per endpoint, ``[quantile, seconds]`` over the window from the rounded response times."""
    a, b = series.at(window.start), series.at(window.end)
    per: dict[str, dict[float, float]] = {}
    for (endpoint, ms), n in b.times_ms.items():
        d = n - a.times_ms.get((endpoint, ms), 0.0)
        if d > 0:
            per.setdefault(endpoint, {})[ms] = d
    out = {}
    for endpoint, times in sorted(per.items()):
        out[endpoint] = [[q_, v] for q_ in quantiles if (v := client_percentile(times, q_)) is not None]
    return out
