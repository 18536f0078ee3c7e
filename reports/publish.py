"""The only writer of a gate or run directory: the record, then every output rendered from it.

``publish(dir, record)`` writes ``series/*.json``, ``run.json`` (for a run) and
``verdict.json``, each atomically, then ``render_outputs(dir)``. That reads ``verdict.json``
and ``series/*.json`` back and (re)writes ``report.html``, ``summary.md`` and ``junit.xml``.
``loadgate report DIR`` calls ``render_outputs`` alone later, so both produce the same files
and the second needs no Prometheus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.context import ReportContext, UnsupportedDocument, build_context, json_type
from reports.render import render_html, render_junit, render_markdown
from reports.write import read_json, write_json, write_text
from slo.compare import attach
from slo.record import Record

__all__ = ["OutputError", "publish", "compare_stored", "render_outputs"]


class OutputError(Exception):
    """A directory that holds no readable gate record."""


def publish(directory: str | Path, record: Record) -> ReportContext:
    """Write ``record`` into ``directory`` (created if needed) and render every output from it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for relative, doc in record.series.items():
        write_json(directory / relative, doc)
    if record.run is not None:
        write_json(directory / "run.json", record.run)
    write_json(directory / "verdict.json", record.doc)
    return render_outputs(directory)


def _load(directory: Path) -> dict[str, Any]:
    path = directory / "verdict.json"
    if not path.is_file():
        raise OutputError(f"{path}: no such file; is {directory} a loadgate gate or run directory?")
    try:
        doc = read_json(path)
    except (OSError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path}: cannot read: {exc}") from None
    if not isinstance(doc, dict):
        raise OutputError(f"{path}: not a loadgate verdict (a JSON {json_type(doc)}, not an object)")
    return doc


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
    # Imported here: charts bring pandas and matplotlib, which commands that render nothing
    # (``loadgate validate``) should not pay for at start-up.
    from reports.charts import objective_chart, overview_chart, spectrum_chart

    directory = Path(directory)
    doc = _load(directory)
    try:
        ctx = build_context(doc)
        start, end = float(doc["window"]["start_unix"]), float(doc["window"]["end_unix"])
    except UnsupportedDocument as exc:
        raise OutputError(f"{directory / 'verdict.json'}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise OutputError(f"{directory / 'verdict.json'}: the window has no start_unix/end_unix ({exc})") from None
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
        svg = objective_chart(entry, lines, stored.get("start_unix", start), end, graded_start=start,
                              alerts=doc.get("alerts"))
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
