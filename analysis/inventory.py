"""What a Prometheus holds for a service, and which of loadgate's inputs it can feed. Pure.

``loadgate inspect`` gathers an ``Inventory`` (metric names, their labels, the values of status-like
labels, the ``le`` bounds of each histogram, the ``up`` targets, and the metadata the targets
declared); ``assess`` finds in it the HTTP request counters, the duration histograms (with their
unit, from the name or the metadata), the status label and its value form, the cache counters, and
the preset that fits, or a mapping built from the shapes alone: a counter with a status-like label,
a ``_bucket`` family with ``le``. Nothing here talks to Prometheus.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field

from analysis.presets import PRESETS
from analysis.queries import Metrics

__all__ = ["STATUS_LABELS", "Inventory", "Counter", "Histogram", "Findings", "candidates", "assess", "unit_of"]

#: Label names that hold an HTTP status, as the instrumentations with presets spell them.
STATUS_LABELS = ("code", "status", "status_code", "response_code", "http_response_status_code",
                 "http_status_code", "envoy_response_code", "http_status")
_STATUS_VALUE = re.compile(r"^([1-5][0-9][0-9]|[1-5]xx|[1-5]XX)$")
#: Words that make a metric name a candidate for requests or their durations.
_HTTP_WORDS = re.compile(r"(request|http|_rq|response|latency|duration)", re.I)
_CACHE = re.compile(r"cache.*(hit|miss)|(hit|miss).*cache", re.I)


@dataclass(frozen=True)
class Inventory:
    """What was read: names, and for each candidate its labels, its status values, its ``le`` bounds."""

    names: tuple[str, ...]
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: (metric, label) -> the label's values (a status label's codes or classes).
    values: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    #: histogram family -> its ``le`` values as spelled.
    buckets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    up_targets: int = 0
    #: metric name -> (type, unit) declared by the targets; empty for backfilled series.
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Counter:
    """A request counter: its series name, status label (or None) and that label's value form."""

    name: str
    status_label: str | None
    status_form: str  # "codes", "classes" or "none"
    status_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Histogram:
    """A duration histogram: its family, unit (``s`` or ``ms``) and finite bounds in seconds."""

    family: str
    unit: str
    bounds_s: tuple[float, ...]


@dataclass(frozen=True)
class Findings:
    """What ``assess`` found: the counters, histograms, cache counters, ``up`` targets, and the mapping."""

    counters: tuple[Counter, ...]
    histograms: tuple[Histogram, ...]
    cache: tuple[str, ...]
    up_targets: int
    #: The preset that fits, or ``custom`` (a mapping from the shapes), or None when no request series.
    preset: str | None
    metrics: Metrics | None

    @property
    def found_requests(self) -> bool:
        """Whether any HTTP request series was found."""
        return bool(self.counters)


def candidates(names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The names worth a closer look (bounded): counters that may count requests, and histogram families."""
    families = sorted({n.removesuffix("_bucket") for n in names if n.endswith("_bucket")})
    known = {m.requests for m in PRESETS.values()}
    counters = [n for n in names if n in known or (_HTTP_WORDS.search(n) and (n.endswith(("_total", "_count"))))]
    return counters[:40], [f for f in families if _HTTP_WORDS.search(f)][:20]


def unit_of(family: str, metadata: dict[str, tuple[str, str]], bounds: tuple[float, ...] = ()) -> str:
    """``ms`` or ``s``: as the target declared it, else as the name says (``_milliseconds``,
    ``_ms``, ``_seconds``), else as a preset knows the family (Envoy's ``upstream_rq_time``), else
    ``ms`` when its bounds reach 1000 (no seconds histogram has buckets of a quarter hour)."""
    declared = metadata.get(family, ("", ""))[1]
    if declared in ("ms", "milliseconds") or family.endswith(("_milliseconds", "_ms")):
        return "ms"
    if declared in ("s", "seconds") or "seconds" in family:
        return "s"
    known = next((m.duration_unit for m in PRESETS.values() if m.duration == family), None)
    if known is not None:
        return known
    finite = [b for b in bounds if math.isfinite(b)]
    return "ms" if finite and max(finite) >= 1000 else "s"


def _counter(inv: Inventory, name: str) -> Counter | None:
    labels = inv.labels.get(name, ())
    for label in (*[lb for lb in STATUS_LABELS if lb in labels], *[lb for lb in labels if lb not in STATUS_LABELS]):
        values = inv.values.get((name, label), ())
        if values and all(_STATUS_VALUE.match(v) for v in values):
            form = "classes" if all(v[1:].lower() == "xx" for v in values) else "codes"
            return Counter(name, label, form, values)
    return None


def _histogram(inv: Inventory, family: str) -> Histogram | None:
    spelled = inv.buckets.get(family, ())
    try:
        raw = tuple(sorted(float(v) for v in spelled))
    except ValueError:
        return None
    unit = unit_of(family, inv.metadata, raw)
    scale = 1000.0 if unit == "ms" else 1.0
    bounds = [b / scale for b in raw]
    if not bounds or not math.isinf(bounds[-1]):
        return None  # no +Inf bucket: not a Prometheus histogram
    return Histogram(family, unit, tuple(b for b in bounds if math.isfinite(b)))


def assess(inv: Inventory) -> Findings:
    """The request counters, histograms and cache counters in ``inv``, and the mapping that reads them."""
    counter_names, families = candidates(inv.names)
    counters = tuple(c for c in (_counter(inv, n) for n in counter_names) if c is not None)
    histograms = tuple(h for h in (_histogram(inv, f) for f in families) if h is not None)
    cache = tuple(n for n in inv.names if _CACHE.search(n) and n.endswith("_total"))
    by_name = {c.name: c for c in counters}
    fams = {h.family for h in histograms}
    for name, preset in PRESETS.items():
        counter = by_name.get(preset.requests)
        if counter is not None and preset.duration in fams and counter.status_label == preset.code_label:
            metrics = preset
            if name == "loadgate" and not (preset.cache_hits in cache and preset.cache_misses in cache):
                metrics = dataclasses.replace(preset, cache_hits=None, cache_misses=None)
            return Findings(counters, histograms, cache, inv.up_targets, name, metrics)
    if not counters:
        return Findings(counters, histograms, cache, inv.up_targets, None, None)
    # No preset fits: the shapes alone. The counter and histogram that share the most of their name.
    counter = max(counters, key=lambda c: ("http" in c.name, "request" in c.name, -len(c.name)))
    histogram = max(histograms, key=lambda h: _shared_prefix(h.family, counter.name), default=None)
    hits = next((n for n in cache if "hit" in n.lower()), None)
    misses = next((n for n in cache if "miss" in n.lower()), None)
    metrics = Metrics(requests=counter.name, duration=histogram.family if histogram else counter.name,
                      duration_unit=histogram.unit if histogram else "s", cache_hits=hits if misses else None,
                      cache_misses=misses if hits else None, code_label=counter.status_label or "code",
                      preset="custom")
    return Findings(counters, histograms, cache, inv.up_targets, "custom", metrics)


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
