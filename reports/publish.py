"""Render a gate directory's human and CI outputs from its stored record.

``render_outputs(dir)`` reads ``verdict.json`` and ``series/*.json`` and (re)writes
``report.html``, ``summary.md`` and ``junit.xml``. The gate calls it right after storing the
record, and ``loadgate report DIR`` calls it later, so both produce the same files and the
second needs no Prometheus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.charts import objective_chart, overview_chart, spectrum_chart
from reports.context import ReportContext, UnsupportedDocument, build_context
from reports.render import render_html, render_junit, render_markdown
from reports.write import read_json, write_json, write_text
from slo.compare import attach

__all__ = ["SERIES_SCHEMA_VERSION", "OutputError", "series_document", "write_series", "compare_stored",
           "render_outputs"]

SERIES_SCHEMA_VERSION = 1


class OutputError(Exception):
    """A directory that holds no readable gate record."""


def series_document(objective_id: str, series: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """The JSON stored in ``series/<objective id>.json``: the range series behind one chart."""
    return {"schema_version": SERIES_SCHEMA_VERSION, "objective": objective_id, "start_unix": start,
            "end_unix": end, "series": series}


def write_series(directory: Path, objective_id: str, series: list[dict[str, Any]], start: float,
                 end: float) -> str:
    """Store one objective's series; returns the path relative to ``directory``."""
    relative = f"series/{objective_id}.json"
    write_json(directory / relative, series_document(objective_id, series, start, end))
    return relative


def _load(directory: Path) -> dict[str, Any]:
    path = directory / "verdict.json"
    if not path.is_file():
        raise OutputError(f"{path}: no such file; is {directory} a loadgate gate or run directory?")
    try:
        return read_json(path)
    except (OSError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path}: cannot read: {exc}") from None


def compare_stored(directory: str | Path, baseline_doc: dict[str, Any], baseline_path: str,
                   tolerances: dict[str, float]) -> None:
    """Store the comparison with a baseline in ``directory``'s verdict.json."""
    directory = Path(directory)
    doc = _load(directory)
    try:
        attach(doc, baseline_doc, baseline_path, tolerances)
    except (KeyError, TypeError) as exc:
        raise OutputError(f"{directory / 'verdict.json'}: cannot compare: missing {exc}") from None
    write_json(directory / "verdict.json", doc)


def _baseline_lines(doc: dict[str, Any], relative: str) -> list[dict[str, Any]]:
    """The baseline's first line for the same chart, shifted so both graded windows start together."""
    baseline = doc.get("baseline") or {}
    window = baseline.get("window") or {}
    path = Path(baseline.get("path", "")) / relative
    if not baseline.get("path") or "start_unix" not in window or not path.is_file():
        return []
    try:
        lines = read_json(path).get("series", [])
    except (OSError, json.JSONDecodeError, AttributeError):
        return []
    if not lines:
        return []
    shift = doc["window"]["start_unix"] - window["start_unix"]
    return [{"name": f"baseline: {lines[0]['name']}", "unit": lines[0].get("unit", ""), "baseline": True,
             "points": [[t + shift, v] for t, v in lines[0].get("points", [])]}]


def render_outputs(directory: str | Path) -> ReportContext:
    """(Re)write report.html, summary.md and junit.xml in ``directory`` from its record."""
    directory = Path(directory)
    doc = _load(directory)
    try:
        ctx = build_context(doc)
    except UnsupportedDocument as exc:
        raise OutputError(f"{directory / 'verdict.json'}: {exc}") from None
    start, end = doc["window"]["start_unix"], doc["window"]["end_unix"]
    charts: dict[str, str] = {}
    for entry in doc["objectives"]:
        relative = entry.get("series_file")
        if not relative or not (directory / relative).is_file():
            continue
        try:
            stored = read_json(directory / relative)
        except (OSError, json.JSONDecodeError):
            continue
        lines = stored.get("series", []) + _baseline_lines(doc, relative)
        svg = objective_chart(entry, lines, stored.get("start_unix", start), end, graded_start=start)
        if svg:
            charts[entry["id"]] = svg
    overview: list[tuple[str, str, str]] = []
    for item in doc.get("overview") or []:
        path = directory / item.get("series_file", "")
        try:
            stored = read_json(path)
        except (OSError, json.JSONDecodeError):
            continue
        svg = overview_chart(item["title"], item["unit"], stored.get("series", []), stored.get("start_unix", start),
                             end, graded_start=start)
        if svg:
            overview.append((item["title"], svg, item.get("caption", "")))
    spectrum = spectrum_chart((doc.get("breakdown") or {}).get("spectrum") or {})
    if spectrum:
        overview.append(("Latency distribution per endpoint (client side)", spectrum,
                         "The percentile spectrum over the graded window, from response times kept to 3 "
                         "significant digits: how the tail grows from p50 to p99.99."))
    write_text(directory / "report.html", render_html(ctx, charts, overview))
    write_text(directory / "summary.md", render_markdown(ctx))
    write_text(directory / "junit.xml", render_junit(ctx))
    return ctx
