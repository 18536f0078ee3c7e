"""Where SLIs come from: the ``SLISource`` protocol and the errors a source may raise.

Two sources implement it: ``prom_source.PromSource`` (the service's series in Prometheus) and
``client_source.ClientSource`` (the load generator's own series). Each method fetches the
counts one kind of objective needs over the graded window and hands them to ``sli`` for the
maths; it returns an ``SLIData`` (a ``problem`` when it has nothing to grade) and raises:

* ``SourceUnreachable`` when the source cannot be read at all: every objective is then
  inconclusive, and so is the gate;
* ``QueryFailed`` when one query failed: only that objective is inconclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from analysis.sli import Series, SLIData

__all__ = ["SourceError", "SourceUnreachable", "QueryFailed", "Chart", "OVERVIEW_QUANTILES", "LATENCY_TITLE",
           "LATENCY_CAPTION", "SLISource"]

#: The latency overview, where both sources draw their percentiles on one chart (id ``latency``).
OVERVIEW_QUANTILES = (0.5, 0.95, 0.99)
LATENCY_TITLE = "Latency p50, p95 and p99"
LATENCY_CAPTION = ("Solid lines: the server's histogram_quantile estimates (Prometheus); dashed lines: the "
                   "load generator's percentiles over 5 s windows, where present.")


class SourceError(Exception):
    """A source that could not answer; the message says why, in a line."""


class SourceUnreachable(SourceError):
    """The source cannot be reached or read at all (connection refused, timed out, bad TLS)."""


class QueryFailed(SourceError):
    """One query was refused or failed (a PromQL error, a timeout on the server's side)."""


@dataclass(frozen=True)
class Chart:
    """An overview chart beside the objectives: an id, its title, unit, lines and caption."""

    id: str
    title: str
    unit: str
    series: tuple[Series, ...]
    caption: str = ""


class SLISource(Protocol):
    """What the grading loop asks of a source, one method per kind of objective."""

    #: ``prometheus`` or ``locust``: stored as ``source`` in ``verdict.json``.
    name: str
    #: How the source is named in sentences: "Prometheus", "the load generator's series".
    title: str

    def open(self) -> None:
        """First contact; raises ``SourceUnreachable`` when nothing can be read."""
        ...

    def info(self, error: str | None = None) -> dict[str, Any]:
        """How the source was read (URL, resolution, file, queries run), and the ``error`` that
        stopped it, if any; asked last, so it covers everything read."""
        ...

    def latency(self, quantile: float, threshold_s: float) -> SLIData: ...

    def errors(self) -> SLIData: ...

    def throughput(self) -> SLIData: ...

    def cache(self) -> SLIData: ...

    def availability(self, slice_s: float, max_error_ratio: float) -> SLIData: ...

    def promql_ratio(self, good: str | None, bad: str | None, total: str) -> SLIData: ...

    def promql_value(self, query: str, unit: str) -> SLIData: ...

    def promql_slices(self, good: str | None, bad: str | None, total: str, slice_s: float,
                      slice_target: float | None) -> SLIData:
        """A ratio over time slices: with ``slice_target``, the share of slices whose good ratio
        reaches it (OpenSLO ``Timeslices``); without, the mean of the slices' good ratios
        (``RatioTimeslices``). Slices without events are not counted."""
        ...

    def promql_threshold(self, query: str, op: str, value: float, step_s: float | None) -> SLIData:
        """The share of the query's points, one every ``step_s`` (None: the scrape interval), that
        meet ``point <op> value`` (OpenSLO ``thresholdMetric``)."""
        ...

    def promql_threshold_slices(self, query: str, op: str, value: float, slice_s: float,
                                slice_target: float | None) -> SLIData:
        """A thresholdMetric over time slices of ``slice_s``: each slice's share of points (one a
        scrape interval) that meet ``point <op> value``; with ``slice_target``, the share of slices
        whose share reaches it (OpenSLO ``Timeslices``), without, the mean of the slices' shares
        (``RatioTimeslices``). Slices without a point are not counted."""
        ...

    def overview(self, with_latency: bool) -> list[Chart]:
        """Charts beside the objectives (latency percentiles, users per tier); never raises."""
        ...
