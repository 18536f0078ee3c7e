"""A catalogue of known service situations, one ``job`` label each, for backfilling Prometheus.

The Prometheus tests (``tests/test_gate_prometheus.py``, the golden gate record, the browser
tests) grade them; ``bench/bench_gate.py`` reuses the healthy latency profile.

All data starts at ``T0`` (2026-01-01T00:00:00Z, far in the past so it never meets the head
block), runs 50 minutes at a 15 s scrape, and is graded over ``START``..``END`` (30 minutes,
so 30 availability slices of 60 s).
"""

from __future__ import annotations

from tests.support.synthetic import Job, Profile

T0 = 1767225600  # 2026-01-01T00:00:00Z
DURATION_S = 50 * 60
START = T0 + 15 * 60
END = T0 + 45 * 60
WINDOW = ("2026-01-01T00:15:00Z", "2026-01-01T00:45:00Z")

#: 90 % <= 100 ms, 99.5 % <= 400 ms, 99.8 % <= 500 ms: passes the production table, no warning.
HEALTHY_LATENCY = ((0.025, 0.30), (0.05, 0.35), (0.075, 0.15), (0.1, 0.10), (0.25, 0.085), (0.4, 0.01),
                   (0.5, 0.003), (0.75, 0.002))
#: 6,000 req/s per instance, two instances: 12,000 req/s; 0.01 % 5xx; 90 % cache hits.
HEALTHY = Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.0001, hit_ratio=0.9)


def _const(profile: Profile):
    return lambda instance, offset: profile


def _between(lo_min: float, hi_min: float, inside: Profile, outside: Profile = HEALTHY):
    return lambda instance, offset: inside if lo_min * 60 <= offset < hi_min * 60 else outside


#: Three instances with very different latency, at different rates (the merge must be exact).
MULTI = {
    "a:8000": Profile(rate=100, latency=((0.05, 1.0),), hit_ratio=0.9),
    "b:8000": Profile(rate=50, latency=((0.1, 0.9), (0.4, 0.1)), hit_ratio=0.9),
    "c:8000": Profile(rate=25, latency=((0.5, 0.98), (0.75, 0.02)), hit_ratio=0.9),
}


def _multi(instance: str, offset: float) -> Profile:
    return MULTI[instance]


JOBS: list[Job] = [
    Job("healthy", _const(HEALTHY)),
    Job("p50_breach", _const(Profile(rate=6000, latency=((0.05, 0.2), (0.1, 0.2), (0.25, 0.595), (0.5, 0.005)),
                                     error_ratio=0.0001))),
    Job("p99_breach", _const(Profile(rate=6000, latency=((0.05, 0.6), (0.1, 0.2), (0.25, 0.1), (0.5, 0.07),
                                                         (0.75, 0.03)), error_ratio=0.0001))),
    Job("p99_warn", _const(Profile(rate=6000, latency=((0.1, 0.9), (0.25, 0.08), (0.5, 0.02)),
                                   error_ratio=0.0001))),
    Job("error_breach", _const(Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.005))),
    Job("throughput_breach", _const(Profile(rate=4000, latency=HEALTHY_LATENCY, error_ratio=0.0001))),
    Job("cache_breach", _const(Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.0001, hit_ratio=0.6))),
    Job("counter_reset", _const(HEALTHY), resets={"b:8000": 30 * 60 + 7}),
    Job("multi_instance", _multi, instances=("a:8000", "b:8000", "c:8000")),
    Job("rate_limited", _const(Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.0001, ratio_429=0.05))),
    Job("no_5xx_series", _const(Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.0)),
        emit_5xx_series=False),
    Job("outage", _between(20, 23, Profile(rate=6000, latency=HEALTHY_LATENCY, up=False))),
    Job("brownout", _between(30, 32, Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.2))),
    Job("no_cache_metrics", _const(Profile(rate=6000, latency=HEALTHY_LATENCY, error_ratio=0.0001, hit_ratio=None))),
    Job("no_traffic", _between(0, 10, HEALTHY, Profile(rate=0, latency=HEALTHY_LATENCY))),
]
