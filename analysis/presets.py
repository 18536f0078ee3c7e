"""Presets: the metric names, units and labels that common instrumentations give a service's SLIs. Pure.

A spec's ``metrics: {preset: NAME}`` (or ``--preset NAME``) starts from one of these, and any other
field of ``metrics:`` overrides a single name. Each entry says which documentation (and version) its
names come from; ``docs/contract.md`` lists them. A preset without cache counters leaves them None,
and the cache objective then says so, naming the preset.
"""

from __future__ import annotations

import dataclasses

from analysis.queries import Metrics

__all__ = ["PRESETS", "SOURCES", "preset", "with_overrides"]

#: Name -> the metric names and unit. ``loadgate`` is the metric contract (``contract``). None of
#: these instrumentations counts cache hits, so their cache counters are None.
PRESETS: dict[str, Metrics] = {
    "loadgate": Metrics(),
    # The HTTP server semantic conventions (http.server.request.duration, s) through a Prometheus
    # exporter: a histogram whose _count is the request count, codes in http_response_status_code.
    "opentelemetry": Metrics(requests="http_server_request_duration_seconds_count",
                             duration="http_server_request_duration_seconds", cache_hits=None, cache_misses=None,
                             code_label="http_response_status_code", preset="opentelemetry"),
    # Spring Boot's http.server.requests timer; _bucket only with percentiles-histogram enabled.
    "micrometer": Metrics(requests="http_server_requests_seconds_count", duration="http_server_requests_seconds",
                          cache_hits=None, cache_misses=None, code_label="status", preset="micrometer"),
    # Every request is reported by both sides of the mesh; the destination's report is the server's.
    "istio": Metrics(requests="istio_requests_total", duration="istio_request_duration_milliseconds",
                     duration_unit="ms", cache_hits=None, cache_misses=None, code_label="response_code",
                     preset="istio", selector='reporter="destination"'),
    # The cluster (upstream) side: per-code counters after Envoy's tag extraction.
    "envoy": Metrics(requests="envoy_cluster_upstream_rq", duration="envoy_cluster_upstream_rq_time",
                     duration_unit="ms", cache_hits=None, cache_misses=None, code_label="envoy_response_code",
                     preset="envoy"),
    # The proxy's inbound side is the server's view; request_total has no status, response_total has.
    "linkerd": Metrics(requests="response_total", duration="response_latency_ms", duration_unit="ms",
                       cache_hits=None, cache_misses=None, code_label="status_code", preset="linkerd",
                       selector='direction="inbound"'),
    # The controller's counter has no _total suffix; status holds codes unless --report-status-classes.
    "ingress-nginx": Metrics(requests="nginx_ingress_controller_requests",
                             duration="nginx_ingress_controller_request_duration_seconds", cache_hits=None,
                             cache_misses=None, code_label="status", preset="ingress-nginx"),
    "traefik": Metrics(requests="traefik_service_requests_total", duration="traefik_service_request_duration_seconds",
                       cache_hits=None, cache_misses=None, code_label="code", preset="traefik"),
    # Its status label holds classes by default (should_group_status_codes): "5xx", read as 5xx.
    "fastapi-instrumentator": Metrics(requests="http_requests_total", duration="http_request_duration_seconds",
                                      cache_hits=None, cache_misses=None, code_label="status",
                                      preset="fastapi-instrumentator"),
}

#: Name -> where its names are documented (project, file or page, version read).
SOURCES: dict[str, str] = {
    "loadgate": "loadgate's metric contract (contract/__init__.py) and prometheus_client's bucket spelling",
    "opentelemetry": "open-telemetry/semantic-conventions docs/http/http-metrics.md (stable, spec v1.41.0) and "
                     "opentelemetry-specification compatibility/prometheus_and_openmetrics.md",
    "micrometer": "spring-framework integration/observability.adoc (6.x), micrometer PercentileHistogramBuckets",
    "istio": "istio.io docs/reference/config/metrics (1.18 to latest)",
    "envoy": "envoy source/common/config/well_known_names.cc, histogram_impl.cc, admin/prometheus_stats.cc",
    "linkerd": "linkerd website 2-edge/reference/proxy-metrics.md, linkerd2-proxy linkerd/metrics/src/latency.rs",
    "ingress-nginx": "kubernetes/ingress-nginx internal/ingress/metric/collectors/socket.go (main, 2024)",
    "traefik": "traefik docs/content/observability/metrics/overview.md (v3), pkg/metrics/prometheus.go (v2)",
    "fastapi-instrumentator": "trallnag/prometheus-fastapi-instrumentator metrics.py default() (6.1 to 8.x)",
}


def preset(name: str) -> Metrics:
    """The preset ``name``; ``KeyError`` when there is none (the caller names the choices)."""
    return PRESETS[name]


def with_overrides(base: Metrics, overrides: dict[str, str]) -> Metrics:
    """``base`` with single fields replaced (``metrics.requests: my_requests_total``...)."""
    return dataclasses.replace(base, **overrides)
