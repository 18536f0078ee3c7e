"""A run's load zones: the per-zone grading of ``zones: each`` objectives and the zones' figures for ``run.json``.

Both come from the client side (``analysis.zones``): each zone's own client series, graded by
the same client-side source as the whole run. Pure apart from its inputs: no I/O.
"""

from __future__ import annotations

from typing import Any

from analysis.client_series import ClientSeries
from analysis.client_source import ClientSource
from analysis.sli import Window
from analysis.zones import ZONE_SOURCE, lost_zones, zone_figures, zone_names, zone_series
from slo.evaluate import Graded
from slo.model import Spec
from slo.zones import grade_zones

__all__ = ["zone_sources", "grade_each_zone", "zones_record"]


def zone_sources(series: ClientSeries, window: Window, chart_start: float | None,
                 file_name: str) -> dict[str, ClientSource]:
    """One client-side source per zone of the run (none without zones)."""
    return {zone: ClientSource(zone_series(series, zone), window, chart_start=chart_start,
                               file_name=f"{file_name} (zone {zone})") for zone in zone_names(series)}


def grade_each_zone(spec: Spec, graded: Graded, series: ClientSeries, window: Window, chart_start: float | None,
                    file_name: str, require_evidence: bool, charts: bool = True) -> Graded:
    """``graded`` with its ``zones: each`` objectives graded per zone (``slo.zones``); ``charts``:
    add each zone's line to their charts (the client's grading; not another source's)."""
    return grade_zones(spec, graded, zone_sources(series, window, chart_start, file_name),
                       lost_zones(series, window), require_evidence=require_evidence, charts=charts)


def zones_record(series: ClientSeries, window: Window) -> dict[str, Any] | None:
    """``run.json``'s ``zones``: where the figures come from, each zone's figures over the graded
    window and the zones that stopped reporting; None for a run without zones."""
    figures = zone_figures(series, window)
    if not figures:
        return None
    return {"source": ZONE_SOURCE, "figures": [f.to_json() for f in figures],
            "lost": {f.zone: f.lost for f in figures if f.lost}}
