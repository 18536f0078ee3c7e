"""The backfilled situations as other instrumentations write them: their names, labels, units and buckets.

Meshes and proxies (Istio, Envoy, Linkerd, ingress-nginx, Traefik) cannot run here, so their series
are written as their documentation says they look (``analysis.presets.SOURCES``): the same traffic
as a ``synthetic.Job``, under the preset's metric names, its status label and value form (codes, or
classes such as ``5xx``), its histogram's unit (milliseconds for the meshes) and its documented
default bucket bounds, spelled as its client library spells them. Pure: builds OpenMetrics text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from analysis.presets import PRESETS
from analysis.queries import Metrics
from tests.support.synthetic import Job, expected_counts
from tests.support.synthetic import _labels as labels_text
from tests.support.synthetic import _scrape_times as scrape_times

__all__ = ["Dialect", "DIALECTS", "SHOP", "openmetrics_as", "unrelated_openmetrics"]


def _go(bound: float) -> str:
    """Go's client (and Envoy's ``%.32g``): ``0.005``, ``500``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else f"{bound:.15g}"


def _python(bound: float) -> str:
    """prometheus_client's spelling: ``0.1``, ``1.0``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


@dataclass(frozen=True)
class Dialect:
    """How one instrumentation writes the series: its preset, bucket bounds (in its unit), the
    spelling of ``le``, of a status code (``503`` or ``5xx``), and the labels it adds."""

    metrics: Metrics
    buckets: tuple[float, ...]
    le: Callable[[float], str] = _go
    status: Callable[[str], str] = str
    extra: dict[str, str] = field(default_factory=dict)


_PROMETHEUS_DEFAULT = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_ENVOY_MS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
             3600000)

#: Each preset's writer, with the default buckets its documentation gives (Micrometer publishes no
#: buckets by default: a Spring team sets ``management.metrics.distribution.slo`` to its thresholds).
DIALECTS: dict[str, Dialect] = {
    "opentelemetry": Dialect(PRESETS["opentelemetry"], (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0,
                                                        2.5, 5.0, 7.5, 10.0)),
    "micrometer": Dialect(PRESETS["micrometer"], (0.05, 0.1, 0.25, 0.4, 0.5, 1.0), _python),
    "istio": Dialect(PRESETS["istio"], _ENVOY_MS, extra={"reporter": "destination"}),
    "envoy": Dialect(PRESETS["envoy"], _ENVOY_MS, extra={"envoy_cluster_name": "user_api"}),
    "linkerd": Dialect(PRESETS["linkerd"], (1, 10, 50, 100, 200, 300, 400, 500, 1000, 5000, 10000),
                       extra={"direction": "inbound"}),
    "ingress-nginx": Dialect(PRESETS["ingress-nginx"], _PROMETHEUS_DEFAULT),
    "traefik": Dialect(PRESETS["traefik"], (0.1, 0.3, 1.2, 5.0)),
    "fastapi-instrumentator": Dialect(PRESETS["fastapi-instrumentator"], (0.1, 0.5, 1.0), _python,
                                      status=lambda code: f"{code[0]}xx"),
}


#: An instrumentation no preset knows: its own names, a status label named http_code, milliseconds.
SHOP = Dialect(Metrics(requests="shop_http_hits_total", duration="shop_request_latency_milliseconds",
                       duration_unit="ms", cache_hits=None, cache_misses=None, code_label="http_code",
                       preset="custom"), _ENVOY_MS)

def unrelated_openmetrics(start: float, duration_s: float, interval_s: float = 15.0) -> str:
    """Series with nothing of HTTP in them (a node exporter's, job ``node``), at the situations' times."""
    base = {"job": "node", "instance": "n:9100"}
    times = scrape_times(start, duration_s, interval_s, 7.0)
    cpu = [f"node_cpu_seconds_total{labels_text(**base, cpu='0', mode='idle')} {i * 14.5!r} {t:.3f}"
           for i, t in enumerate(times)]
    memory = [f"node_memory_MemAvailable_bytes{labels_text(**base)} {8e9 - i * 1e6!r} {t:.3f}"
              for i, t in enumerate(times)]
    ups = [f"up{labels_text(**base)} 1 {t:.3f}" for t in times]
    return "\n".join(["# TYPE node_cpu_seconds counter", *cpu, "# TYPE node_memory_MemAvailable_bytes gauge",
                      *memory, "# TYPE up gauge", *ups, "# EOF"]) + "\n"


def _family(name: str, kind: str) -> str:
    """The ``# TYPE`` line: OpenMetrics names a counter family without ``_total``; a counter whose
    samples lack the suffix (ingress-nginx, Envoy) is declared ``unknown`` so it is stored as it is."""
    if kind == "counter" and not name.endswith("_total"):
        return f"# TYPE {name} unknown"
    return f"# TYPE {name.removesuffix('_total')} {kind}"


def openmetrics_as(dialect: Dialect, jobs: list[Job], start: float, duration_s: float, interval_s: float = 15.0,
                   offset_s: float = 7.0, job_prefix: str = "") -> str:
    """``synthetic.openmetrics`` for ``jobs``, written by ``dialect`` (job labels get ``job_prefix``)."""
    m = dialect.metrics
    scale = m.per_second
    bounds = (*dialect.buckets, math.inf)
    counted_by_histogram = m.requests == f"{m.duration}_count"
    times = scrape_times(start, duration_s, interval_s, offset_s)
    requests: list[str] = []
    histogram: list[str] = []
    ups: list[str] = []
    for job in jobs:
        for instance in job.instances:
            base = {"job": f"{job_prefix}{job.name}", "instance": instance}
            plan = list(expected_counts(job, instance, start, times))
            ups += [f"up{labels_text(**base)} {1 if p.up else 0} {t:.3f}" for t, p, _ in plan]
            for method, endpoint, share in job.endpoints:
                own = {**base, **dialect.extra, "method": method, "route": endpoint}
                for code in ("200", "429", "503"):
                    if code == "503" and not job.emit_5xx_series:
                        continue
                    if code == "429" and not any(p.ratio_429 for _, p, _ in plan):
                        continue
                    series = {**own, m.code_label: dialect.status(code)}
                    count, cumulative, total = 0.0, [0.0] * len(bounds), 0.0
                    for t, p, served in plan:
                        if not p.up:
                            continue
                        ratio = {"503": p.error_ratio, "429": p.ratio_429}.get(code, 1 - p.error_ratio - p.ratio_429)
                        n = served * share * ratio
                        count += n
                        # The profile's share at each of its bounds lands in the first bucket at or above it.
                        for bound_s, part in p.latency:
                            first = next(i for i, b in enumerate(bounds) if b / scale >= bound_s - 1e-12)
                            for i in range(first, len(bounds)):
                                cumulative[i] += n * part
                            total += n * part * bound_s * scale
                        if not counted_by_histogram:
                            requests.append(f"{m.requests}{labels_text(**series)} {count!r} {t:.3f}")
                        for bound, value in zip(bounds, cumulative):
                            histogram.append(f"{m.duration}_bucket{labels_text(**series, le=dialect.le(bound))} "
                                             f"{value!r} {t:.3f}")
                        histogram.append(f"{m.duration}_count{labels_text(**series)} {cumulative[-1]!r} {t:.3f}")
                        histogram.append(f"{m.duration}_sum{labels_text(**series)} {total!r} {t:.3f}")
    out = ([_family(m.requests, "counter"), *requests] if requests else []) + \
        [f"# TYPE {m.duration} histogram", *histogram, "# TYPE up gauge", *ups, "# EOF"]
    return "\n".join(out) + "\n"
