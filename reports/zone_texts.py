"""A run's load zones in words, for the report, ``summary.md`` and the terminal: one row per zone.

Pure: from ``run.json``'s ``zones`` (``loadgate.run_zones``) only. Every figure is from the
client side, per zone (the zone's own requests, as its workers saw them).
"""

from __future__ import annotations

from typing import Any, Mapping

from slo.units import format_duration, format_rate, format_ratio

__all__ = ["ZONE_HEADERS", "zone_rows", "zones_text"]

ZONE_HEADERS = ("Zone", "p50", "p99", "Errors", "Throughput", "Responses", "Workers", "Reporting")


def zone_rows(zones: Mapping[str, Any] | None) -> tuple[tuple[str, ...], ...]:
    """One row per zone (``ZONE_HEADERS``): its latency, error rate and throughput over the graded window."""
    rows = []
    for f in (zones or {}).get("figures") or ():
        rows.append((str(f.get("zone", "")), format_duration(f.get("p50_s")), format_duration(f.get("p99_s")),
                     format_ratio(f.get("error_rate")), format_rate(f.get("throughput_per_s")),
                     f"{int(f.get('responses') or 0):,}", str(f.get("workers", "")),
                     "stopped" if f.get("lost") else "yes"))
    return tuple(rows)


def zones_text(zones: Mapping[str, Any] | None) -> str:
    """The sentence over the zone table: where the figures come from, and the zones that stopped reporting."""
    if not zones or not zones.get("figures"):
        return ""
    froms = sorted({str(f.get("latency_from", "")) for f in zones["figures"]} - {""})
    text = f"Load zones ({zones.get('source', 'client side, per zone')}): latency from {' and '.join(froms)}"
    lost = zones.get("lost") or {}
    if lost:
        text += "; " + "; ".join(str(reason) for _, reason in sorted(lost.items()))
    return text + "."
