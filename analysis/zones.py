"""Load zones in a client series: each zone's own series, its figures and the zones that stopped reporting. Pure.

A run's workers may each name a load zone (``loadgate worker --zone NAME``; ``--zone`` on a local
run names the one zone of all its processes). The master counts each zone's requests apart, from
its workers' reports, and every snapshot of the client series holds each zone's counts in the
snapshot's own form (``Snapshot.zones``), so a zone reads as a client series of its own
(``zone_series``) and the client-side source grades it with the same maths (``ClientSource``).

A zone has *stopped reporting* when every worker it had was lost (``worker_lost`` with no later
``worker_joined``) by the end of the graded window, or when none of its workers reported in the
window's last snapshot although some had before: its counts then end early, and nothing it
measured can show that the service held there to the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from analysis.client_series import ClientSeries, Snapshot
from analysis.client_source import client_percentile
from analysis.sli import Window

__all__ = ["ZONE_SOURCE", "ZoneFigures", "zone_names", "zone_series", "lost_zones", "zone_figures"]

#: Where per-zone figures come from, as every output says it.
ZONE_SOURCE = "client side, per zone"


def zone_names(series: ClientSeries) -> tuple[str, ...]:
    """Every zone a snapshot counted, sorted; empty for a run without zones."""
    return tuple(sorted({zone for s in series.snapshots for zone in s.zones}))


def zone_series(series: ClientSeries, zone: str) -> ClientSeries:
    """The client series of one zone: its counts at every snapshot (empty ones before it first
    reported), with the run's start, stop, load model and worker events."""
    snapshots = tuple(s.zones.get(zone) or Snapshot(t=s.t) for s in series.snapshots)
    return ClientSeries(snapshots, series.started, series.stopped, series.model, series.concurrency,
                        series.user_classes, series.closed_user_classes, series.worker_events)


def _workers_of(series: ClientSeries, zone: str, end: float) -> set[str]:
    return {w for s in series.snapshots if s.t <= end + 1e-6 and zone in s.zones
            for w in s.zones[zone].worker_responses}


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(t))


def lost_zones(series: ClientSeries, window: Window) -> dict[str, str]:
    """The zones that stopped reporting by the window's end, each with a sentence naming its
    lost workers and when (``worker_lost`` events), in zone order."""
    lost_at: dict[str, float] = {}
    for t, kind, worker in series.worker_events:
        if t > window.end + 1e-6:
            break
        if kind == "worker_lost":
            lost_at[worker] = t
        else:
            lost_at.pop(worker, None)
    in_window = [s for s in series.snapshots if s.t <= window.end + 1e-6]
    out = {}
    for zone in zone_names(series):
        workers = _workers_of(series, zone, window.end)
        reported = [s.zones[zone].workers for s in in_window if zone in s.zones]
        silent = bool(reported) and reported[-1] == 0 and max(reported) > 0
        if not (workers and workers <= set(lost_at)) and not silent:
            continue
        named = "; ".join(f"worker {w} at {_clock(lost_at[w])} ({lost_at[w] - window.start:+.0f}s into the window)"
                          for w in sorted(workers & set(lost_at), key=lambda w: lost_at[w]))
        out[zone] = f"zone {zone} stopped reporting: every worker in it was lost" + (f" ({named})" if named else "")
    return out


@dataclass(frozen=True)
class ZoneFigures:
    """One zone's figures over the graded window, from the client side.

    Latency in seconds (nearest rank over response times kept to 3 significant digits; from the
    intended sends for open-model requests, as the latency objectives grade), the error rate as
    a ratio of failed requests to all, the throughput in responses per second.
    """

    zone: str
    responses: int
    failures: int
    error_rate: float | None
    throughput_per_s: float | None
    p50_s: float | None
    p99_s: float | None
    latency_from: str
    workers: int
    lost: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form (``run.json``'s ``zones.figures``)."""
        return {"zone": self.zone, "responses": self.responses, "failures": self.failures,
                "error_rate": self.error_rate, "throughput_per_s": self.throughput_per_s, "p50_s": self.p50_s,
                "p99_s": self.p99_s, "latency_from": self.latency_from, "workers": self.workers, "lost": self.lost}


def zone_figures(series: ClientSeries, window: Window) -> tuple[ZoneFigures, ...]:
    """Each zone's figures over ``window`` (none for a run without zones), in zone order."""
    lost = lost_zones(series, window)
    out = []
    for zone in zone_names(series):
        mine = zone_series(series, zone)
        c = mine.counts(window.start, window.end)
        corrected = c.scheduled > 0
        times = c.corrected_times_ms if corrected else c.times_ms
        workers = max((s.workers for s in mine.snapshots if window.start - 1e-6 <= s.t <= window.end + 1e-6),
                      default=0)
        out.append(ZoneFigures(
            zone=zone, responses=int(round(c.total)), failures=int(round(c.failures)),
            error_rate=c.failures / c.total if c.total > 0 else None,
            throughput_per_s=c.answered / c.seconds if c.seconds > 0 and c.total > 0 else None,
            p50_s=client_percentile(times, 0.5), p99_s=client_percentile(times, 0.99),
            latency_from="the intended sends" if corrected else "the actual sends", workers=workers,
            lost=lost.get(zone)))
    return tuple(out)
