"""The outputs of a capacity search, rendered from ``capacity.json``: ``report.html`` and ``summary.md``.

The report leads with the answer (the capacity, what limited it, whether it is a lower bound),
then the seed's table in its own form (Metric | Target | Current | Status, Current measured at
the highest passing rate), the chart of the search against the offered rate, and a table of the
steps, each linking to its own run's report (with workers on other hosts, each worker's responses
in the step, and the workers lost or missing). ``summary.md`` has the answer and the same tables.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from slo.units import format_rate, format_value

__all__ = ["render_capacity", "capacity_context"]

_HTML = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html", "j2"]),
                    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_TEXT = Environment(loader=PackageLoader("reports", "templates"), autoescape=False, trim_blocks=True,
                    lstrip_blocks=True, keep_trailing_newline=True)


def capacity_context(doc: dict[str, Any]) -> dict[str, Any]:
    """What the templates show, formatted. Pure."""
    capacity = doc.get("capacity_rps")
    answer = "no rate passed" if capacity is None else format_rate(capacity)
    if capacity is not None and doc.get("lower_bound"):
        answer = f"at least {answer}"
    target = doc.get("throughput_target")
    verdict = "inconclusive" if capacity is None or (doc.get("lower_bound") and doc.get("meets_target") is False) \
        else "pass" if doc.get("meets_target") in (True, None) else "fail"
    rows = [{**row, "current_text": format_value(row["current"], row["unit"]),
             "at": f" at {format_rate(row['at_rps'])}" if row.get("at_rps") else ""} for row in doc.get("table", [])]
    steps = []
    for number, step in enumerate(doc.get("steps", []), 1):
        objectives = step.get("objectives", {})
        p99 = next((o for oid, o in objectives.items() if o.get("kind") == "latency" and "99" in oid), None)
        steps.append({"number": number, "rate": format_rate(step["rate"]),
                      "achieved": format_rate(step.get("achieved")), "verdict": step["verdict"], "valid": step["valid"],
                      "why": "; ".join(filter(None, [
                          ("breached " + ", ".join(step["breached"])) if step.get("breached") else "",
                          ("invalid: " + ", ".join(step["invalid_checks"])) if step.get("invalid_checks") else "",
                          step.get("note", "")])),
                      "workers": _workers(step),
                      "p99": format_value(p99.get("measured"), "s") if p99 else "n/a",
                      "p99_client": format_value(p99.get("client"), "s") if p99 else "n/a",
                      "dir": step.get("dir")})
    prometheus = (doc.get("search") or {}).get("source") == "prometheus"
    return {"doc": doc, "answer": answer, "source_label": "server" if prometheus else "load generator, corrected",
            "client_column": any(s["p99_client"] != "n/a" for s in steps), "verdict": verdict, "rows": rows,
            "master": (doc.get("search") or {}).get("master"),
            "steps": steps,
            "target": format_rate(target) if target is not None else None,
            "limited_by": doc.get("limited_by") or "nothing found", "reason": doc.get("reason", "")}


def _workers(step: dict[str, Any]) -> str:
    """Each worker's responses in a step, largest first ("1,012 + 998"), the lost ones marked; "" when
    the step ran on one machine, "none" when its workers never all connected."""
    workers = step.get("workers")
    if workers is None:
        return "none" if "workers_connected" in step.get("invalid_checks", ()) else ""
    lost = set(step.get("lost_workers") or ())
    return " + ".join(f"{n:,}{' (lost)' if w in lost else ''}"
                      for w, n in sorted(workers.items(), key=lambda kv: -kv[1])) or "none"


def render_capacity(doc: dict[str, Any]) -> dict[str, str]:
    """``report.html`` and ``summary.md`` of the search (file name -> text); ``reports.publish`` writes them."""
    from reports.charts import capacity_chart

    ctx = capacity_context(doc)
    thresholds = {}
    for row in doc.get("table", []):
        value = _target_value(row)
        if row.get("kind") == "latency" and value is not None:
            thresholds[f"latency {row['id']}"] = value
        elif row.get("kind") == "error_rate" and value is not None:
            thresholds["error_rate"] = value
    knee = doc.get("capacity_rps")
    chart = capacity_chart(doc.get("steps", []), thresholds, knee, source=ctx["source_label"])
    return {"report.html": _HTML.get_template("capacity.html.j2").render(ctx=ctx, chart=chart),
            "summary.md": _TEXT.get_template("capacity.md.j2").render(ctx=ctx)}


def _target_value(row: dict[str, Any]) -> float | None:
    value = row.get("target_value")
    return float(value) if isinstance(value, (int, float)) else None
