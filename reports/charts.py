"""Over-time charts for the report: matplotlib figures rendered to inline SVG strings.

One chart per objective, its threshold drawn as a line (and the warn threshold dashed). Values
are shown in the units people read: milliseconds for latency, percent for ratios, req/s for
throughput; availability is a strip of good and bad slices. Colours come from the Okabe-Ito
palette (safe for colour-blind readers), and every line is also labelled in a legend.

Uses ``matplotlib.figure.Figure`` directly (no pyplot), so no global backend state is touched.
"""

from __future__ import annotations

import io
import math
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import pandas as pd
from matplotlib import rc_context
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from slo.record_types import ObjectiveRecord, SeriesLine

__all__ = ["objective_chart", "overview_chart", "spectrum_chart", "capacity_chart", "MAX_POINTS_PER_LINE"]

BLUE, ORANGE, VERMILION, GREEN, GREY = "#0072B2", "#E69F00", "#D55E00", "#009E73", "#555555"
LINE_COLOURS = (BLUE, VERMILION, GREEN, ORANGE)
#: Long series are cut to min and max per bucket for display, so spikes stay visible.
MAX_POINTS_PER_LINE = 1200


def _scale(unit: str) -> tuple[float, str]:
    if unit == "s":
        return 1000.0, "ms"
    if unit == "ratio":
        return 100.0, "%"
    if unit == "1/s":
        return 1.0, "req/s"
    return 1.0, unit


def _frame(points: Sequence[Sequence[float | None]]) -> pd.Series:
    series = pd.Series([p[1] for p in points], index=pd.to_datetime([p[0] for p in points], unit="s", utc=True),
                       dtype="float64")
    return series.dropna()


def _frames(series: Sequence[SeriesLine]) -> list[tuple[SeriesLine, pd.Series]]:
    """Stored series with at least one finite point, each as a time-indexed frame."""
    frames = [(s, _frame(s.points)) for s in series if s.points]
    return [(s, f) for s, f in frames if len(f)]


def _downsample(series: pd.Series, limit: int = MAX_POINTS_PER_LINE) -> pd.Series:
    """Keep the min and the max of each of ``limit / 2`` time buckets, in time order."""
    if len(series) <= limit:
        return series
    buckets = limit // 2
    codes = pd.Series(range(len(series)), index=series.index) * buckets // len(series)
    grouped = series.groupby(codes.values)
    keep = set(grouped.idxmin().tolist()) | set(grouped.idxmax().tolist())
    return series[series.index.isin(sorted(keep))]


def objective_chart(entry: ObjectiveRecord, series: Sequence[SeriesLine], start: float, end: float,
                    graded_start: float | None = None,
                    alerts: Sequence[Mapping[str, Any]] | None = None,
                    marks: Sequence[tuple[float, str]] = ()) -> str | None:
    """An SVG chart for one ``verdict.json`` objective entry and its stored series, or None if empty.

    When the series begin before ``graded_start`` (a run's ramp-up), that stretch is shaded and
    labelled as not graded; a drill's ``marks`` (``reports.timeline_texts.timeline_marks``) are
    drawn as vertical lines.
    """
    lines = _frames(series)
    if not lines:
        return None
    fig = Figure(figsize=(7.2, 2.4), dpi=100)
    ax = fig.add_subplot()
    if entry.kind == "availability":
        _slice_strip(ax, lines[0][1], entry)
    else:
        detail = entry.detail
        per_point = entry.kind == "promql_threshold" and detail.get("point_value") is not None
        # A thresholdMetric charts the query's own values against the per-point condition.
        factor, label = (1.0, "") if per_point else _scale(entry.unit)
        for i, (meta, frame) in enumerate(lines):
            shown = _downsample(frame) * factor
            if meta.baseline:  # an earlier run, overlaid: grey and dotted
                ax.plot(shown.index, shown.values, color=GREY, linewidth=1.2, linestyle=":", label=meta.name)
                continue
            ax.plot(shown.index, shown.values, color=LINE_COLOURS[i % len(LINE_COLOURS)], linewidth=1.4,
                    label=meta.name)
        if per_point:
            target = float(detail["point_value"])
            ax.axhline(target, color="black", linewidth=1.0, label=f"good when {detail.get('point_op', '')} {target:g}")
        elif detail.get("slice_target") is not None:
            # Timeslices: each slice's good ratio against the share a slice needs to be good.
            target = float(detail["slice_target"]) * factor
            ax.axhline(target, color="black", linewidth=1.0, label=f"slice target {target:g} {label}")
        else:
            target = entry.target.value * factor
            ax.axhline(target, color="black", linewidth=1.0, label=f"threshold {target:g} {label}")
        if entry.warn is not None:
            warn = entry.warn * factor
            ax.axhline(warn, color=ORANGE, linewidth=1.0, linestyle="--", label=f"warn {warn:g} {label}")
        ax.set_ylabel(label)
        low, high = ax.get_ylim()
        ax.set_ylim(min(0.0, low), max(high, target * 1.1 if target > 0 else high))
    for i, span in enumerate(a for a in alerts or () if a.get("slo") == entry.id):
        # Each firing span of this objective's burn-rate alert; a page darker than a ticket.
        page = span.get("severity") == "page"
        shade: Any = ax  # matplotlib's stubs want floats; dates are what the time axis takes
        shade.axvspan(datetime.fromtimestamp(float(span["first_firing_unix"]), tz=timezone.utc),
                   datetime.fromtimestamp(max(float(span["last_firing_unix"]), float(span["first_firing_unix"]) + 1),
                                          tz=timezone.utc),
                   color="#c62828", alpha=0.25 if page else 0.12, linewidth=0,
                   label=f"{span.get('severity')} alert firing" if i < 2 else None)
    _draw_marks(ax, marks)
    return _finish(fig, ax, entry.id, start, end, graded_start)


#: How a drill's marks are drawn: a fault solid vermilion, its recovery dashed green, a recovery action dotted.
_MARKS = {"fault": (VERMILION, "-", "fault"), "recovered": (GREEN, "--", "recovered"),
          "recover": (GREY, ":", "recovery action")}


def _draw_marks(ax: Any, marks: Sequence[tuple[float, str]]) -> None:
    seen: set[str] = set()
    for unix, kind in marks:
        colour, style, label = _MARKS.get(kind, _MARKS["recover"])
        ax.axvline(datetime.fromtimestamp(unix, tz=timezone.utc), color=colour, linestyle=style, linewidth=1.2,
                   label=label if label not in seen else None)
        seen.add(label)


def _finish(fig: Figure, ax: Any, salt: str, start: float, end: float, graded_start: float | None) -> str:
    """Shade the ramp-up, set the time axis, and render the figure to an inline SVG string."""
    x0 = datetime.fromtimestamp(start, tz=timezone.utc)
    x1 = datetime.fromtimestamp(end, tz=timezone.utc)
    if graded_start is not None and graded_start > start:
        ax.axvspan(x0, datetime.fromtimestamp(graded_start, tz=timezone.utc), color=GREY, alpha=0.15, linewidth=0,
                   label="ramp-up (not graded)")
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=4)
    ax.set_xlim(x0, x1)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    return _render_svg(fig, ax, salt)


def _render_svg(fig: Figure, ax: Any, salt: str) -> str:
    """Common styling, then the figure as an inline SVG string (from ``<svg`` on)."""
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, color="#cccccc")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout(pad=0.4)
    buffer = io.StringIO()
    # A fixed salt per chart makes element ids deterministic (re-rendering gives the same bytes)
    # and distinct between the charts of one page; text stays text, not glyph paths.
    with rc_context({"svg.hashsalt": f"loadgate-{salt}", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _slice_strip(ax: Any, frame: pd.Series, entry: ObjectiveRecord) -> None:
    width_s = float(entry.detail.get("slice_seconds") or 60)
    width = pd.Timedelta(seconds=width_s)
    good = frame[frame >= 0.5]
    bad = frame[frame < 0.5]
    if len(good):
        ax.bar(good.index - width, [1] * len(good), width=width, align="edge", color=BLUE, label="good slice")
    if len(bad):
        ax.bar(bad.index - width, [1] * len(bad), width=width, align="edge", color=VERMILION, hatch="///",
               label="bad slice")
    ax.set_yticks([])
    ax.set_ylim(0, 1.4)
    if math.isfinite(width_s):
        ax.set_ylabel(f"{width_s:g}s slices", fontsize=7)


def overview_chart(title: str, unit: str, series: Sequence[SeriesLine], start: float, end: float,
                   graded_start: float | None = None, marks: Sequence[tuple[float, str]] = ()) -> str | None:
    """An SVG chart of several lines without a threshold (latency percentiles, users per tier).

    Client-side lines are dashed, so server and client stay apart without relying on colour; a
    drill's ``marks`` are vertical lines.
    """
    lines = _frames(series)
    if not lines:
        return None
    fig = Figure(figsize=(7.2, 2.4), dpi=100)
    ax = fig.add_subplot()
    factor, label = _scale(unit)
    colours: dict[str, str] = {}
    for meta, frame in lines:
        # The same quantity seen by server and client shares a colour; only the dash differs.
        base = meta.name.removeprefix("server ").removeprefix("client ")
        colour = colours.setdefault(base, LINE_COLOURS[len(colours) % len(LINE_COLOURS)])
        shown = _downsample(frame) * factor
        ax.plot(shown.index, shown.values, color=colour, linewidth=1.3,
                linestyle="--" if meta.name.startswith("client") else "-", label=meta.name)
    ax.set_ylabel(label)
    ax.set_ylim(bottom=0)
    _draw_marks(ax, marks)
    return _finish(fig, ax, title, start, end, graded_start)


def spectrum_chart(spectrum: dict[str, list[list[float]]]) -> str | None:
    """The percentile spectrum per endpoint: p50 … p99.99 on a log scale of 1 / (1 - q), in ms."""
    lines = {endpoint: points for endpoint, points in spectrum.items() if points}
    if not lines:
        return None
    fig = Figure(figsize=(7.2, 2.6), dpi=100)
    ax = fig.add_subplot()
    markers = ("o", "s", "^", "D", "v", "P")
    ticks: dict[float, str] = {}
    for i, (endpoint, points) in enumerate(sorted(lines.items())):
        xs = [1.0 / (1.0 - q) for q, _ in points]
        ax.plot(xs, [v * 1000.0 for _, v in points], color=LINE_COLOURS[i % len(LINE_COLOURS)],
                marker=markers[i % len(markers)], markersize=3, linewidth=1.3, label=endpoint)
        ticks.update({1.0 / (1.0 - q): f"p{q * 100:g}" for q, _ in points})
    ax.set_xscale("log")
    ax.set_xticks(sorted(ticks), [ticks[x] for x in sorted(ticks)])
    ax.minorticks_off()
    ax.set_ylabel("ms")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    return _render_svg(fig, ax, "spectrum")


def capacity_chart(steps: list[dict[str, Any]], thresholds: dict[str, float], knee: float | None,
                   source: str = "server") -> str | None:
    """The capacity search against the offered rate: achieved rate (with the ideal line), p50 and
    p99 (server, and the client's corrected p99), and the error rate, each threshold drawn and the
    knee (the capacity) marked. None without steps."""
    graded = sorted((s for s in steps if s.get("objectives")), key=lambda s: s["rate"])
    if not graded:
        return None
    rates = [s["rate"] for s in graded]
    fig = Figure(figsize=(7.6, 6.6))
    top, middle, bottom = fig.subplots(3, 1, sharex=True)

    def line(ax: Any, values: list[float | None], label: str, colour: str, scale: float = 1.0,
             style: str = "-") -> None:
        points = [(r, v * scale) for r, v in zip(rates, values) if isinstance(v, (int, float)) and math.isfinite(v)]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", markersize=3,
                    color=colour, linewidth=1.2, label=label)

    def of(kind: str, field: str = "measured", quantile: str | None = None) -> list[float | None]:
        out: list[float | None] = []
        for s in graded:
            found = [o for oid, o in s["objectives"].items() if o.get("kind") == kind
                     and (quantile is None or quantile in oid)]
            out.append(found[0].get(field) if found else None)
        return out

    top.plot([min(rates), max(rates)], [min(rates), max(rates)], ":", color=GREY, linewidth=0.8, label="offered")
    line(top, [s.get("achieved") for s in graded], "achieved", BLUE)
    top.set_ylabel("req/s", fontsize=7)
    line(middle, of("latency", quantile="p50"), f"p50 ({source})", GREEN, 1000)
    line(middle, of("latency", quantile="p99"), f"p99 ({source})", BLUE, 1000)
    line(middle, of("latency", "client", quantile="p99"), "p99 client (corrected)", VERMILION, 1000, "--")
    line(middle, of("latency", "as_sent", quantile="p99"), "p99 client as sent", ORANGE, 1000, ":")
    for name, value in thresholds.items():
        if name.startswith("latency"):
            middle.axhline(value * 1000, color=GREY, linewidth=0.8, linestyle="--")
    middle.set_ylabel("ms", fontsize=7)
    middle.set_yscale("log")
    # Plain numbers on the log axis: the default 10^n labels need mathtext fonts Debian may lack.
    middle.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    middle.yaxis.set_minor_formatter(NullFormatter())
    line(bottom, of("error_rate"), "error rate", VERMILION, 100)
    if "error_rate" in thresholds:
        bottom.axhline(thresholds["error_rate"] * 100, color=GREY, linewidth=0.8, linestyle="--", label="target")
    bottom.set_ylabel("%", fontsize=7)
    bottom.set_xlabel("offered rate (req/s)", fontsize=7)
    for ax in (top, middle, bottom):
        if knee is not None:
            ax.axvline(knee, color=ORANGE, linewidth=1.2, label=f"capacity {knee:,.0f} req/s")
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=3)
        ax.tick_params(labelsize=7)
        ax.grid(True, linewidth=0.3, color="#cccccc")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return _render_svg(fig, bottom, "capacity")
