"""Run a spec against Prometheus for one window, and store the gate's record in a directory.

``evaluate`` pulls each objective's SLI (``analysis.collect``), grades it (``slo.grade``) and
decides the gate (``slo.gate``). A failing query costs only its objective (inconclusive); an
unreachable Prometheus makes every objective, and the gate, inconclusive with one reason.

``store`` writes ``series/``, ``verdict.json`` and, through ``reports.publish``, the report,
the summary and the JUnit file, each atomically; it runs for every verdict, inconclusive too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.collect import Collector, Resolution, Series, SLIData, Window
from analysis.prom import Prometheus, PromQueryError, PromUnreachable
from analysis.queries import Selector
from reports.context import ReportContext
from reports.publish import render_outputs, write_series
from reports.write import write_json
from slo import model
from slo.document import build_document, objective_entry
from slo.gate import GateResult, decide
from slo.grade import INCONCLUSIVE, Verdict, grade, inconclusive
from slo.model import Objective, Spec

__all__ = ["Evaluation", "collect_objective", "evaluate", "store"]


@dataclass
class Evaluation:
    """The outcome of grading a spec: the gate result plus what each objective queried and charted."""

    result: GateResult
    data: dict[str, SLIData] = field(default_factory=dict)
    source_error: str | None = None
    resolution: Resolution | None = None
    queries_run: int = 0


def collect_objective(collector: Collector, objective: Objective) -> SLIData:
    """Run the queries one objective's kind needs."""
    kind = objective.kind
    if kind == model.LATENCY:
        assert objective.quantile is not None
        return collector.latency(objective.quantile, objective.target.value)
    if kind == model.ERROR_RATE:
        return collector.errors()
    if kind == model.THROUGHPUT:
        return collector.throughput()
    if kind == model.CACHE_HIT_RATE:
        return collector.cache()
    if kind == model.AVAILABILITY:
        assert objective.slice_seconds is not None and objective.slice_max_error_ratio is not None
        return collector.availability(objective.slice_seconds, objective.slice_max_error_ratio)
    if kind == model.PROMQL_RATIO:
        assert objective.total is not None
        return collector.promql_ratio(objective.good, objective.bad, objective.total)
    if kind == model.PROMQL_VALUE:
        assert objective.query is not None
        return collector.promql_value(objective.query, objective.unit)
    raise ValueError(f"unknown objective kind {kind!r}")


def evaluate(spec: Spec, prom: Prometheus, window: Window, selector: Selector, *, step_s: int | None = None,
             require_evidence: bool = False, fail_on_warn: bool = False) -> Evaluation:
    """Grade every objective of ``spec`` over ``window``."""
    collector = Collector(prom, spec.metrics, selector, window, step_s=step_s)
    verdicts: list[Verdict] = []
    data: dict[str, SLIData] = {}
    source_error: str | None = None
    resolution: Resolution | None = None
    try:
        resolution = collector.resolution()
    except PromUnreachable as exc:
        source_error = str(exc)
    except PromQueryError:
        resolution = None
    for objective in spec.objectives:
        if source_error:
            verdicts.append(inconclusive(objective, f"Prometheus could not be queried: {source_error}"))
            continue
        try:
            sli = collect_objective(collector, objective)
        except PromUnreachable as exc:
            source_error = str(exc)
            verdicts.append(inconclusive(objective, f"Prometheus could not be queried: {source_error}"))
            continue
        except PromQueryError as exc:
            verdicts.append(inconclusive(objective, str(exc), INCONCLUSIVE))
            continue
        data[objective.id] = sli
        verdicts.append(grade(objective, sli, require_evidence=require_evidence))
    result = decide(verdicts, fail_on_warn=fail_on_warn,
                    source_error=f"Prometheus could not be queried: {source_error}" if source_error else None)
    return Evaluation(result, data, source_error, resolution, prom.queries_run)


def _series_dicts(series: list[Series]) -> list[dict[str, Any]]:
    return [{"name": s.name, "unit": s.unit, "points": [list(p) for p in s.points]} for s in series]


def store(out_dir: Path, evaluation: Evaluation, spec: Spec, window: Window, *, selector: str, generated_at: float,
          tool_version: str, source_info: dict[str, Any], options: dict[str, Any]) -> ReportContext:
    """Write the gate's record and outputs into ``out_dir``; returns the report's view model."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for verdict in evaluation.result.verdicts:
        sli = evaluation.data.get(verdict.objective.id)
        series_file = None
        if sli is not None and sli.series:
            series_file = write_series(out_dir, verdict.objective.id, _series_dicts(sli.series), window.start,
                                       window.end)
        entries.append(objective_entry(verdict, queries=sli.queries if sli else None, series_file=series_file))
    info = dict(source_info)
    if evaluation.resolution is not None:
        info.update(dataclasses.asdict(evaluation.resolution))
    info["queries_run"] = evaluation.queries_run
    if evaluation.source_error:
        info["error"] = evaluation.source_error
    doc = build_document(evaluation.result, spec, start=window.start, end=window.end, source="prometheus",
                         selector=selector, generated_at=generated_at, tool_version=tool_version,
                         source_info=info, options=options, objectives=entries)
    write_json(out_dir / "verdict.json", doc)
    return render_outputs(out_dir)
