"""Render a ``ReportContext`` to text: the HTML report, the Markdown summary, the JUnit XML.

Renderers return strings and write nothing (``reports.write`` does that). HTML is autoescaped,
so names and labels that come from outside the tool render as text, never as markup.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.context import ReportContext

__all__ = ["render_html", "render_markdown", "render_junit"]

_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_html(ctx: ReportContext, charts: dict[str, str],
                overview: list[tuple[str, str, str]] | None = None) -> str:
    """The self-contained HTML report; ``charts`` maps objective id to an inline SVG string and
    ``overview`` lists (title, SVG, caption) for the overview charts."""
    return _ENV.get_template("report.html.j2").render(ctx=ctx, charts=charts, overview=overview or [])


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(ctx: ReportContext) -> str:
    """The pipeline summary: one line of verdict, then Metric | Target | Measured | Status."""
    env = Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      loader=_ENV.loader)
    env.filters["cell"] = _md_cell
    return env.get_template("summary.md.j2").render(ctx=ctx)


def render_junit(ctx: ReportContext) -> str:
    """One testcase per objective: ``fail`` is a failure, ``no_data``/``inconclusive`` an error.

    A warning is a failure only when the gate ran with ``--fail-on-warn``. Optional objectives
    that do not pass are reported as skipped, since they do not decide the gate. Each
    ``--expect-alerts`` expectation is a testcase too; in a drill (alerts expected to fire) the
    objectives' breaches are the injected fault, reported as output, never as failures.
    """
    fail_on_warn = bool(ctx.options.get("fail_on_warn"))
    suite = ET.Element("testsuite", name=f"loadgate {ctx.spec_name}", timestamp=ctx.generated_at)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for row in ctx.rows:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname=f"loadgate.{ctx.spec_name}",
                             name=f"{row.id}: {row.title}", time="0")
        message = f"{row.label}: {row.reason}"
        if ctx.drill:
            ET.SubElement(case, "system-out").text = f"drill (the injected fault decides nothing): {message}\n" \
                + _case_text(row)
        elif not row.required and row.status != "pass":
            ET.SubElement(case, "skipped", message=f"optional objective, {message}")
            counts["skipped"] += 1
        elif row.status == "fail" or (row.status == "warn" and fail_on_warn):
            ET.SubElement(case, "failure", message=message, type=row.status).text = _case_text(row)
            counts["failures"] += 1
        elif row.regressed and ctx.options.get("fail_on_regression") and row.required:
            ET.SubElement(case, "failure", message=f"regressed against the baseline: {row.baseline}",
                          type="regression").text = _case_text(row)
            counts["failures"] += 1
        elif row.status in ("no_data", "inconclusive"):
            ET.SubElement(case, "error", message=message, type=row.status).text = _case_text(row)
            counts["errors"] += 1
        else:
            ET.SubElement(case, "system-out").text = _case_text(row)
    for slo, sev, first, last, took, counted in ctx.alert_rows:
        if ctx.drill and "not expected" in counted:
            # An alert the drill did not ask for: shown, never failed (only 'none' forbids alerts).
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"loadgate.{ctx.spec_name}",
                                 name=f"alert {slo}:{sev} (not expected)", time="0")
            ET.SubElement(case, "system-out").text = f"fired {first} to {last} ({took}); counted: {counted}"
    for name, failure in ctx.alert_cases:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname=f"loadgate.{ctx.spec_name}", name=name, time="0")
        if failure:
            ET.SubElement(case, "failure", message=failure, type="alerts").text = ctx.alerts_text
            counts["failures"] += 1
        else:
            ET.SubElement(case, "system-out").text = ctx.alerts_text
    if ctx.invalid:
        # The run itself is a test a release gate should see fail: its load was not delivered.
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname=f"loadgate.{ctx.spec_name}", name="run validity", time="0")
        ET.SubElement(case, "error", message=ctx.invalid, type="invalid_run").text = ctx.invalid
        counts["errors"] += 1
    for key, count in counts.items():
        suite.set(key, str(count))
    properties = ET.Element("properties")
    for name, value in (("verdict", ctx.verdict), ("window_start", ctx.window_start), ("window_end", ctx.window_end),
                        ("source", ctx.source), ("selector", ctx.selector), ("spec", ctx.spec_path)):
        ET.SubElement(properties, "property", name=name, value=value)
    suite.insert(0, properties)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _case_text(row: Any) -> str:
    lines = [f"target {row.target}", f"measured {row.measured}", row.reason]
    lines += [x for x in (row.evidence, row.budget) if x]
    if row.baseline:
        lines.append(f"vs baseline: {row.baseline}")
    return "\n".join(lines)

