"""The only writer of a gate, run or capacity directory: the record, then every output rendered from it.

``publish(dir, record)`` writes ``series/*.json``, ``run.json`` (for a run) and ``verdict.json``,
each atomically, then renders ``report.html``, ``summary.md`` and ``junit.xml`` from the record in
memory. ``render_outputs(dir)`` (``loadgate report DIR``) reads the stored record back and renders
the same files, without Prometheus. ``publish_capacity`` and ``render_capacity_outputs`` do the
same for a capacity search's ``capacity.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from reports.context import ReportContext, build_context
from reports.render import render_html, render_junit, render_markdown
from reports.timeline_texts import timeline_marks
from reports.write import read_json, write_json, write_text
from slo.capacity import CAPACITY_SCHEMA_VERSION
from slo.compare import Baseline, attach
from slo.record import Record, load_verdict
from slo.record_types import RecordError, SeriesDocument, SeriesLine, VerdictRecord

__all__ = ["OutputError", "publish", "compare_stored", "render_outputs", "publish_capacity",
           "render_capacity_outputs", "read_capacity"]


class OutputError(Exception):
    """A directory that holds no readable record."""


def publish(directory: str | Path, record: Record) -> ReportContext:
    """Write ``record`` into ``directory`` (created if needed) and render every output from it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for relative, doc in record.series.items():
        write_json(directory / relative, doc.to_json())
    if record.run is not None:
        write_json(directory / "run.json", record.run.to_json())
    write_json(directory / "verdict.json", record.verdict.to_json())
    return _render(directory, record.verdict, record.series)


def _load(directory: Path) -> VerdictRecord:
    path = directory / "verdict.json"
    if not path.is_file():
        raise OutputError(f"{path}: no such file; is {directory} a loadgate gate or run directory?")
    try:
        return load_verdict(read_json(path))
    except (OSError, json.JSONDecodeError) as exc:
        raise OutputError(f"{path}: cannot read: {exc}") from None
    except RecordError as exc:
        raise OutputError(f"{path}: {exc}") from None


def compare_stored(directory: str | Path, baseline: Baseline) -> None:
    """Store the comparison with baseline runs in ``directory``'s verdict.json (brought to the current version)."""
    directory = Path(directory)
    doc = _load(directory).to_json()
    try:
        attach(doc, baseline)
    except (KeyError, TypeError) as exc:
        raise OutputError(f"{directory / 'verdict.json'}: cannot compare: missing {exc}") from None
    write_json(directory / "verdict.json", doc)


def _stored_series(directory: Path, relative: str) -> SeriesDocument | None:
    """A stored series document, or None when it is missing or unreadable (its chart is left out)."""
    try:
        return SeriesDocument.from_json(read_json(directory / relative), relative)
    except (OSError, json.JSONDecodeError, RecordError, TypeError, ValueError):
        return None


def _baseline_lines(record: VerdictRecord, relative: str) -> tuple[SeriesLine, ...]:
    """The baseline's first line for the same chart, shifted so both graded windows start together."""
    baseline = record.baseline or {}
    window = baseline.get("window") or {}
    if not baseline.get("path") or "start_unix" not in window:
        return ()
    stored = _stored_series(Path(baseline["path"]), relative)
    if stored is None or not stored.series:
        return ()
    first, shift = stored.series[0], record.start_unix - float(window["start_unix"])
    return (SeriesLine(f"baseline: {first.name}", first.unit, tuple((t + shift, v) for t, v in first.points),
                       baseline=True),)


def render_outputs(directory: str | Path) -> ReportContext:
    """(Re)write report.html, summary.md and junit.xml in ``directory`` from its stored record."""
    directory = Path(directory)
    record = _load(directory)
    files = [o.series_file for o in record.objectives if o.series_file] + [c.series_file for c in record.overview]
    series = {relative: doc for relative in files if (doc := _stored_series(directory, relative)) is not None}
    return _render(directory, record, series)


def _render(directory: Path, record: VerdictRecord, series: Mapping[str, SeriesDocument]) -> ReportContext:
    # Imported here: charts bring pandas and matplotlib, which commands that render nothing
    # (``loadgate validate``) should not pay for at start-up.
    from reports.charts import objective_chart, overview_chart, spectrum_chart

    try:
        ctx = build_context(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A stored record that passed its checks but whose parts cannot be put in words.
        raise OutputError(f"{directory / 'verdict.json'}: not a loadgate verdict: a field of the wrong type "
                          f"({exc!r})") from None
    start, end = record.start_unix, record.end_unix
    marks = timeline_marks(record.timeline)
    charts: dict[str, str] = {}
    for entry in record.objectives:
        stored = series.get(entry.series_file or "")
        if stored is None:
            continue
        lines = stored.series + _baseline_lines(record, entry.series_file or "")
        svg = objective_chart(entry, lines, stored.start_unix, end, graded_start=start, alerts=record.alerts,
                              marks=marks)
        if svg:
            charts[entry.id] = svg
    overview: list[tuple[str, str, str]] = []
    for item in record.overview:
        stored = series.get(item.series_file)
        if stored is None:
            continue
        svg = overview_chart(item.title, item.unit, stored.series, stored.start_unix, end, graded_start=start,
                             marks=marks)
        if svg:
            overview.append((item.title, svg, item.caption))
    spectrum = spectrum_chart((record.breakdown or {}).get("spectrum") or {})
    if spectrum:
        overview.append(("Latency distribution per endpoint (client side)", spectrum,
                         "The percentile spectrum over the graded window, from response times kept to 3 "
                         "significant digits: how the tail grows from p50 to p99.99."))
    write_text(directory / "report.html", render_html(ctx, charts, overview))
    write_text(directory / "summary.md", render_markdown(ctx))
    write_text(directory / "junit.xml", render_junit(ctx))
    return ctx


def publish_capacity(directory: str | Path, doc: dict[str, Any]) -> None:
    """Write a capacity search's ``capacity.json`` into ``directory`` and render its report and summary."""
    from reports.capacity import render_capacity

    directory = Path(directory)
    write_json(directory / "capacity.json", doc)
    for name, text in render_capacity(doc).items():
        write_text(directory / name, text)


def read_capacity(directory: str | Path) -> dict[str, Any]:
    """A stored ``capacity.json``; ``OutputError`` when it is unreadable or not a capacity record."""
    path = Path(directory) / "capacity.json"
    try:
        doc = read_json(path)
    except (OSError, ValueError) as exc:
        raise OutputError(f"{path}: not readable: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema_version") != CAPACITY_SCHEMA_VERSION \
            or not isinstance(doc.get("steps"), list):
        raise OutputError(f"{path}: not a loadgate capacity record (schema_version {CAPACITY_SCHEMA_VERSION})")
    return doc


def render_capacity_outputs(directory: str | Path) -> None:
    """(Re)write a capacity search's report.html and summary.md from its ``capacity.json``."""
    from reports.capacity import render_capacity

    directory = Path(directory)
    doc = read_capacity(directory)
    try:
        rendered = render_capacity(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise OutputError(f"{directory / 'capacity.json'}: not a loadgate capacity record ({exc!r})") from None
    for name, text in rendered.items():
        write_text(directory / name, text)
