"""Trend charts for ``history.html``: an objective's measured value per run, as inline SVG strings.

One chart per objective: the measured value at each run (in the units people read: ms, %,
req/s), its threshold drawn as a dashed line (a step per run, since a spec may change), and each
run's status as a marker whose shape and colour both say it (Okabe-Ito colours; the legend names
them). The axis is logarithmic when the threshold lies far from the values, so both show. A run
that graded the objective without a value is marked at the axis's foot. The capacity searches get
one chart of their capacity. Runs are evenly spaced, labelled by their labels.

Uses ``matplotlib.figure.Figure`` directly (no pyplot), so no global backend state is touched.
"""

from __future__ import annotations

import math
from typing import Any, Sequence, TypeGuard

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from reports.charts import _render_svg
from reports.history import HistoryRun, ObjectiveTrend

__all__ = ["trend_chart", "capacity_trend_chart"]

BLUE, ORANGE, VERMILION, GREEN, GREY = "#0072B2", "#E69F00", "#D55E00", "#009E73", "#555555"
#: Each status's marker: (shape, colour), so a status is told apart without its colour.
MARKERS = {"pass": ("o", GREEN), "warn": ("^", ORANGE), "fail": ("X", VERMILION),
           "no_data": ("s", GREY), "inconclusive": ("D", GREY)}


#: Values and threshold spread wider than this (max / min) are drawn on a log axis.
LOG_SPREAD = 8.0


def _scale(unit: str) -> tuple[float, str]:
    if unit == "s":
        return 1000.0, "ms"
    if unit == "ratio":
        return 100.0, "%"
    if unit == "1/s":
        return 1.0, "req/s"
    return 1.0, unit


def _finite(value: float | None) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _axes(runs: Sequence[HistoryRun]) -> tuple[Figure, Any]:
    fig = Figure(figsize=(7.2, 2.5), dpi=100)
    ax = fig.add_subplot()
    ax.set_xticks(range(len(runs)), [run.label for run in runs], rotation=30 if len(runs) > 4 else 0,
                  ha="right" if len(runs) > 4 else "center", fontsize=7)
    ax.set_xlim(-0.5, len(runs) - 0.5)
    return fig, ax


def _svg(fig: Figure, ax: Any, salt: str) -> str:
    """The report's chart styling and inline SVG (``reports.charts``), salted per history chart."""
    return _render_svg(fig, ax, f"history-{salt}")


def trend_chart(trend: ObjectiveTrend, runs: Sequence[HistoryRun]) -> str | None:
    """The objective's measured value per run with its threshold and each status marked; None
    when no run graded it. ``runs`` are every run of the history, oldest first (the x axis)."""
    position = {run.id: i for i, run in enumerate(runs)}
    points = [p for p in trend.points if p.run in position]
    if not points:
        return None
    factor, label = _scale(trend.unit)
    fig, ax = _axes(runs)
    measured = [(position[p.run], p.measured * factor) for p in points if _finite(p.measured)]
    if measured:
        ax.plot([x for x, _ in measured], [y for _, y in measured], color=BLUE, linewidth=1.2, zorder=2)
    thresholds = [(position[p.run], p.threshold * factor) for p in points if _finite(p.threshold)]
    if thresholds:
        xs = [x for x, _ in thresholds]
        ax.step([xs[0] - 0.5, *xs, xs[-1] + 0.5], [thresholds[0][1], *[y for _, y in thresholds], thresholds[-1][1]],
                where="mid", color=GREY, linewidth=1.0, linestyle="--", label=f"threshold ({trend.op})", zorder=1)
    warns = [(position[p.run], p.warn * factor) for p in points if _finite(p.warn)]
    if warns:
        ax.plot([x for x, _ in warns], [y for _, y in warns], color=ORANGE, linewidth=0.8, linestyle=":",
                label="warn threshold", zorder=1)
    values = [y for _, y in measured] + [y for _, y in thresholds]
    log = bool(values) and min(values) > 0 and max(values) / min(values) > LOG_SPREAD
    floor = min(values) / 2 if log else 0.0
    for status, (shape, colour) in MARKERS.items():
        mine = [p for p in points if p.status == status]
        if not mine:
            continue
        xs = [position[p.run] for p in mine]
        ys = [p.measured * factor if _finite(p.measured) else floor for p in mine]
        ax.scatter(xs, ys, marker=shape, color=colour, s=36, zorder=3, label=status.replace("_", " "),
                   edgecolors="white", linewidths=0.5)
    ax.set_ylabel(label, fontsize=7)
    ax.margins(y=0.15)
    if log:
        # A threshold far above the values (1 ms against 100 ms) would flatten them on a linear axis.
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_ylim(bottom=0)
    _legend(ax)
    return _svg(fig, ax, trend.id)


def _legend(ax: Any) -> None:
    """Above the plot, so it never covers a point or the threshold."""
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False, ncol=7,
              borderaxespad=0.2, handlelength=1.5, columnspacing=1.0)


def capacity_trend_chart(runs: Sequence[HistoryRun]) -> str | None:
    """The capacity searches' answers (req/s) at their places among the runs; None without any."""
    found = [(i, run.capacity_rps) for i, run in enumerate(runs) if run.kind == "capacity"]
    if not found:
        return None
    fig, ax = _axes(runs)
    known = [(x, y) for x, y in found if _finite(y)]
    if known:
        ax.plot([x for x, _ in known], [y for _, y in known], color=BLUE, marker="o", markersize=5,
                linewidth=1.2, label="capacity")
    unknown = [x for x, y in found if not _finite(y)]
    if unknown:
        ax.scatter(unknown, [0.0] * len(unknown), marker="D", color=GREY, s=36, label="no rate passed")
    ax.set_ylabel("req/s", fontsize=7)
    ax.margins(y=0.15)
    ax.set_ylim(bottom=0)
    _legend(ax)
    return _svg(fig, ax, "capacity")
