"""The demo API's Prometheus series: exactly loadgate's default metric contract (``contract``).

* ``http_requests_total{method, endpoint, code}``: responses by route template and status;
* ``http_request_duration_seconds{method, endpoint}``: a histogram whose buckets include the
  SLO thresholds (0.1, 0.4 and 0.5 s);
* ``cache_hits_total`` and ``cache_misses_total``.

``/metrics`` and ``/healthz`` are operational and are not counted. A registry is passed in, so
tests use a fresh one.
"""

from __future__ import annotations

import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

import contract

__all__ = ["BUCKETS", "ApiMetrics", "MetricsMiddleware", "UNTRACKED"]

BUCKETS = contract.SLO_BUCKETS
UNTRACKED = frozenset({"/metrics", "/healthz"})
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


class ApiMetrics:
    """The series, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter(contract.REQUESTS_FAMILY, "HTTP responses by route template and status code",
                                ("method", "endpoint", contract.CODE_LABEL), registry=registry)
        self.duration = Histogram(contract.DURATION, "Time to the last byte of the response",
                                  ("method", "endpoint"), buckets=BUCKETS, registry=registry)
        self.cache_hits = Counter(contract.CACHE_HITS_FAMILY, "User profile reads served from the cache",
                                  registry=registry)
        self.cache_misses = Counter(contract.CACHE_MISSES_FAMILY, "User profile reads that went to the database",
                                    registry=registry)


def _template(path: str | None) -> str:
    """The route template as the contract spells it: ``/api/users/{id:int}`` becomes ``/api/users/{id}``."""
    if not path:
        return "other"
    return _CONVERTOR.sub(r"{\1}", path)


class MetricsMiddleware:
    """Pure ASGI middleware: counts every response and times it, by route template.

    It wraps everything else, so injected faults, timeouts and 429s are measured as clients
    see them. Paths that match no route are counted as ``endpoint="other"``.
    """

    def __init__(self, app: Any, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACKED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            endpoint = _template(getattr(scope.get("route"), "path", None))
            method = scope["method"]
            self.metrics.requests.labels(method, endpoint, str(status["code"])).inc()
            self.metrics.duration.labels(method, endpoint).observe(time.perf_counter() - started)
