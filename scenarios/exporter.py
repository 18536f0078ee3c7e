"""The ``loadgate_*`` series for Prometheus: the master's (or the single process's) client totals.

``serve(port, host)`` starts the exporter on its own registry (``--lg-metrics-port``,
``--lg-metrics-host``); each scrape renders ``STATE`` as it is then, so the totals include every
worker report merged so far. The names come from ``contract``; the histograms' buckets are
``scenarios.clientstats.BUCKETS``.
"""

from __future__ import annotations

from typing import Any, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

import contract
from scenarios.clientstats import BUCKETS
from scenarios.state import STATE

__all__ = ["Exporter", "serve"]


class Exporter:
    """``loadgate_*`` series from the master's totals, for Prometheus to scrape."""

    def collect(self) -> Iterator[Any]:
        """The metric families: responses, both latency histograms, cache hits and misses, users
        per class and the shape's target rate (a custom collector's ``collect``)."""
        snap = STATE.stats.snapshot()
        responses = CounterMetricFamily(contract.CLIENT_RESPONSES_FAMILY, "Responses seen by the load generator",
                                        labels=("endpoint", "tier", "result", "code"))
        for endpoint, tier, result, code, count in snap["responses"]:
            responses.add_metric((endpoint, tier, result, code), count)
        yield responses
        bounds = [contract.format_le(b) for b in BUCKETS] + ["+Inf"]
        for name, what, field in ((contract.CLIENT_DURATION, "Client-side response time", "latency"),
                                  (contract.CLIENT_CORRECTED_DURATION, "Client-side response time from the intended "
                                   "send (open-model requests: corrected for coordinated omission)", "corrected")):
            hist = HistogramMetricFamily(name, what, labels=("endpoint", "tier"))
            for endpoint, tier, counts, total in snap.get(field, []):
                hist.add_metric((endpoint, tier), list(zip(bounds, [float(c) for c in counts])), total)
            yield hist
        for key, name in (("hit", contract.CLIENT_CACHE_HITS_FAMILY), ("miss", contract.CLIENT_CACHE_MISSES_FAMILY)):
            family = CounterMetricFamily(name, f"X-Cache: {key.upper()} answers seen by the load generator")
            family.add_metric((), STATE.stats.cache[key])
            yield family
        users = GaugeMetricFamily(contract.CLIENT_USERS, "Running users per user class", labels=("user_class",))
        runner = STATE.environment.runner if STATE.environment else None
        for name, count in sorted((getattr(runner, "user_classes_count", None) or {}).items()):
            users.add_metric((name,), count)
        yield users
        yield GaugeMetricFamily(contract.CLIENT_TARGET_RATE, "Requests per second the shape asks for",
                                value=STATE.target_rate)


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve the ``loadgate_*`` series over HTTP on ``host:port`` (a daemon thread, for the
    process's life), from a registry of their own: Locust's process metrics are not among them."""
    registry = CollectorRegistry()
    registry.register(Exporter())
    start_http_server(port, addr=host, registry=registry)
