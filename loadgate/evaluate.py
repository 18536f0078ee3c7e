"""Grade a spec from a source, and store the record (``verdict.json`` and everything beside it).

``evaluate`` asks a collector for each objective's SLI and grades it. A collector is either
``analysis.collect.Collector`` (Prometheus) or ``analysis.locust_source.ClientCollector`` (the
load generator's own counts); both answer the same methods. With Prometheus, a failing query
costs only its objective (inconclusive), and an unreachable Prometheus makes every objective,
and the gate, inconclusive with one reason.

``store`` writes ``series/``, ``verdict.json`` and, through ``reports.publish``, the report, the
summary and the JUnit file, each atomically; it runs for every verdict, inconclusive too. When a
second (client-side) evaluation is given, each objective carries its figure under ``client``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.collect import Collector
from analysis.prom import Prometheus, PromQueryError, PromUnreachable, safe_url
from analysis.queries import Selector
from analysis.sli import SLIData, Series, Window
from reports.context import ReportContext
from reports.publish import render_outputs, write_series
from reports.write import write_json
from slo import model
from slo.document import build_document, clean, objective_entry
from slo.compare import DEFAULT_TOLERANCES, attach
from slo.gate import GateResult, decide
from slo.grade import INCONCLUSIVE, Verdict, grade, inconclusive
from slo.model import Objective, Spec

__all__ = ["Baseline", "Evaluation", "collect_objective", "evaluate", "grade_prometheus", "store"]

LATENCY_CAPTION = ("Solid lines: the server's histogram_quantile estimates (Prometheus); dashed lines: the "
                   "load generator's percentiles over 5 s windows, where present.")
_SOURCE_NAMES = {"prometheus": "Prometheus", "locust": "the load generator's series"}


@dataclass
class Evaluation:
    """The outcome of grading a spec: the gate result plus what each objective measured."""

    result: GateResult
    data: dict[str, SLIData] = field(default_factory=dict)
    source: str = "prometheus"
    source_error: str | None = None
    source_info: dict[str, Any] = field(default_factory=dict)
    #: Charts beside the objectives: (id, title, unit, series, caption).
    overview: list[tuple[str, str, str, list[Series], str]] = field(default_factory=list)


def collect_objective(collector: Any, objective: Objective) -> SLIData:
    """Ask the collector for what one objective's kind needs."""
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


def evaluate(spec: Spec, collector: Any, *, source: str = "prometheus", require_evidence: bool = False,
             fail_on_warn: bool = False, source_error: str | None = None,
             source_info: dict[str, Any] | None = None) -> Evaluation:
    """Grade every objective of ``spec`` with ``collector``.

    ``source_error`` marks the source as unusable from the start (every objective inconclusive).
    """
    verdicts: list[Verdict] = []
    data: dict[str, SLIData] = {}
    name = _SOURCE_NAMES.get(source, source)
    for objective in spec.objectives:
        if source_error:
            verdicts.append(inconclusive(objective, f"{name} could not be queried: {source_error}"))
            continue
        try:
            sli = collect_objective(collector, objective)
        except PromUnreachable as exc:
            source_error = str(exc)
            verdicts.append(inconclusive(objective, f"{name} could not be queried: {source_error}"))
            continue
        except PromQueryError as exc:
            verdicts.append(inconclusive(objective, str(exc), INCONCLUSIVE))
            continue
        data[objective.id] = sli
        verdicts.append(grade(objective, sli, require_evidence=require_evidence))
    result = decide(verdicts, fail_on_warn=fail_on_warn,
                    source_error=f"{name} could not be queried: {source_error}" if source_error else None)
    info = dict(source_info or {})
    if source_error:
        info["error"] = source_error
    return Evaluation(result, data, source, source_error, info)


def grade_prometheus(spec: Spec, prom: Prometheus, window: Window, selector: Selector, *, step_s: int | None = None,
                     require_evidence: bool = False, fail_on_warn: bool = False,
                     chart_start: float | None = None) -> Evaluation:
    """Grade ``spec`` from Prometheus over ``window``; the result records how Prometheus was read."""
    collector = Collector(prom, spec.metrics, selector, window, step_s=step_s, chart_start=chart_start)
    info: dict[str, Any] = {"prometheus": safe_url(prom.config.url), "auth": prom.config.auth_kind}
    source_error = None
    try:
        info.update(dataclasses.asdict(collector.resolution()))
    except PromUnreachable as exc:
        source_error = str(exc)
    except PromQueryError:
        pass
    evaluation = evaluate(spec, collector, source="prometheus", require_evidence=require_evidence,
                          fail_on_warn=fail_on_warn, source_error=source_error, source_info=info)
    if not evaluation.source_error and any(o.kind == model.LATENCY for o in spec.objectives):
        try:
            evaluation.overview.append(("latency", "Latency p50, p95 and p99", "s",
                                        collector.latency_overview().series, LATENCY_CAPTION))
        except (PromQueryError, PromUnreachable):
            pass
    evaluation.source_info["queries_run"] = prom.queries_run
    return evaluation


def _series_dicts(series: list[Series]) -> list[dict[str, Any]]:
    return [{"name": s.name, "unit": s.unit, "points": [list(p) for p in s.points]} for s in series]


def _client_entry(verdict: Verdict) -> dict[str, Any]:
    entry = objective_entry(verdict)
    return {k: entry[k] for k in ("status", "measured", "unit", "events", "reason", "evidence", "detail")}


@dataclass(frozen=True)
class Baseline:
    """An earlier run or gate to compare with (``--baseline DIR``)."""

    path: str
    doc: dict[str, Any]
    tolerances: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    fail_on_regression: bool = False


def store(out_dir: Path, evaluation: Evaluation, spec: Spec, window: Window, *, selector: str, generated_at: float,
          tool_version: str, options: dict[str, Any], client: Evaluation | None = None,
          run: dict[str, Any] | None = None, baseline: Baseline | None = None,
          breakdown: dict[str, Any] | None = None, chart_start: float | None = None) -> ReportContext:
    """Write the record and outputs into ``out_dir``; returns the report's view model.

    With a ``baseline`` every objective carries its delta; with ``fail_on_regression`` a
    regression of a required objective fails the gate (the context's ``exit_code`` says so).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    client_verdicts = {v.objective.id: v for v in client.result.verdicts} if client else {}
    first_chart = window.start if chart_start is None else min(chart_start, window.start)
    entries = []
    for verdict in evaluation.result.verdicts:
        oid = verdict.objective.id
        sli = evaluation.data.get(oid)
        series = list(sli.series) if sli else []
        client_sli = client.data.get(oid) if client else None
        if client_sli is not None and client is not evaluation:
            series += [Series(f"{s.name} [client]", s.unit, s.points) for s in client_sli.series]
        series_file = write_series(out_dir, oid, _series_dicts(series), first_chart, window.end) if series else None
        entry = objective_entry(verdict, queries=sli.queries if sli else None, series_file=series_file)
        if oid in client_verdicts and client is not evaluation:
            entry["client"] = _client_entry(client_verdicts[oid])
        entries.append(entry)
    result, compared = evaluation.result, None
    if baseline is not None:
        compared = {"objectives": entries}
        regressions = attach(compared, baseline.doc, baseline.path, baseline.tolerances)
        if baseline.fail_on_regression and regressions:
            result = decide(result.verdicts, fail_on_warn=bool(options.get("fail_on_warn")),
                            source_error=result.reason if evaluation.source_error else None,
                            regressions=regressions)
    doc = build_document(result, spec, start=window.start, end=window.end, source=evaluation.source,
                         selector=selector, generated_at=generated_at, tool_version=tool_version,
                         source_info=evaluation.source_info, options=options, objectives=entries)
    doc["run_id"] = out_dir.resolve().name
    if compared is not None:
        doc["baseline"] = clean(compared["baseline"])
    if run is not None:
        doc["run"] = clean(run)
    if breakdown is not None:
        doc["breakdown"] = clean(breakdown)
    overview = []
    for oid, title, unit, lines, caption in evaluation.overview:
        if any(line.points for line in lines):
            relative = write_series(out_dir, f"overview-{oid}", _series_dicts(lines), first_chart, window.end)
            overview.append({"id": oid, "title": title, "unit": unit, "caption": caption, "series_file": relative})
    if overview:
        doc["overview"] = overview
    write_json(out_dir / "verdict.json", doc)
    return render_outputs(out_dir)
