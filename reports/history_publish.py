"""The writer of ``loadgate history``: ``history.json``, ``history.html`` and ``history.md`` in one directory.

``render_history(history)`` returns each file's text (pure but for matplotlib drawing the
charts); ``publish_history(dir, history)`` writes them, each atomically (``reports.write``).
``history.md``'s first line is ``reports.history.MARKER``, by which a CI step finds the comment
it posted before and updates it instead of adding another.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.history import History, history_view

__all__ = ["HISTORY_FILES", "render_history", "publish_history"]

#: The files ``publish_history`` writes.
HISTORY_FILES = ("history.json", "history.html", "history.md")

_HTML = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html", "j2"]),
                    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_TEXT = Environment(loader=PackageLoader("reports", "templates"), autoescape=False, trim_blocks=True,
                    lstrip_blocks=True, keep_trailing_newline=True)
_TEXT.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")


def render_history(history: History, *, generated_at: str = "", tool_version: str = "",
                   links: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each output's file name -> text. ``links`` maps a run's id to its report, relative to where
    ``history.html`` is written (a run without one is named, not linked)."""
    from reports.history_charts import capacity_trend_chart, trend_chart

    view = history_view(history)
    charts = {t.id: svg for t in history.objectives if (svg := trend_chart(t, history.runs))}
    capacity = capacity_trend_chart(history.runs)
    if capacity:
        charts["__capacity__"] = capacity
    doc = history.to_json(generated_at=generated_at, tool_version=tool_version)
    return {"history.json": json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n",
            "history.html": _HTML.get_template("history.html.j2").render(v=view, charts=charts, links=links or {}),
            "history.md": _TEXT.get_template("history.md.j2").render(v=view)}


def _links(directory: Path, history: History) -> dict[str, str]:
    """Each run's report.html relative to ``directory``, for those that have one."""
    out = {}
    for run in history.runs:
        report = Path(run.dir) / "report.html"
        if report.is_file():
            out[run.id] = os.path.relpath(report.resolve(), directory.resolve())
    return out


def publish_history(directory: str | Path, history: History, *, generated_at: str = "",
                    tool_version: str = "") -> dict[str, Path]:
    """Write the history's three files into ``directory`` (created if needed); their paths by name."""
    from reports.write import write_text

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    texts = render_history(history, generated_at=generated_at, tool_version=tool_version,
                           links=_links(directory, history))
    return {name: write_text(directory / name, text) for name, text in texts.items()}
