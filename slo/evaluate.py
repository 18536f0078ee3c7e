"""The grading loop: every objective of a spec, measured by one ``SLISource`` and graded.

``grade_source`` asks the source for each objective's SLI and grades it; it decides nothing
about the gate (``slo.record`` does that, once). A failing query costs only its objective
(inconclusive); an unreachable source makes every objective inconclusive with one reason,
which the record turns into the gate's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.sli import Problem, SLIData
from analysis.source import Chart, QueryFailed, SLISource, SourceUnreachable
from slo import model
from slo.grade import QUERY_FAILED, SOURCE_UNREACHABLE, Verdict, grade, inconclusive
from slo.model import Objective, Spec
from slo.timeline import NO_FAULT, NO_FAULT_REASON

__all__ = ["Graded", "measure", "grade_source"]


@dataclass(frozen=True)
class Graded:
    """One source's verdicts, what each objective measured, and how the source was read.

    ``source_error`` is set (a sentence) when the source could not be read at all.
    """

    source: str
    verdicts: tuple[Verdict, ...]
    data: dict[str, SLIData] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    source_error: str | None = None
    overview: tuple[Chart, ...] = ()


def measure(source: SLISource, objective: Objective) -> SLIData:
    """Ask the source for what one objective's kind needs."""
    kind = objective.kind
    if kind == model.LATENCY:
        assert objective.quantile is not None
        return source.latency(objective.quantile, objective.target.value)
    if kind == model.ERROR_RATE:
        return source.errors()
    if kind == model.THROUGHPUT:
        return source.throughput()
    if kind == model.CACHE_HIT_RATE:
        return source.cache()
    if kind == model.AVAILABILITY:
        assert objective.slice_seconds is not None and objective.slice_max_error_ratio is not None
        return source.availability(objective.slice_seconds, objective.slice_max_error_ratio)
    if kind == model.PROMQL_RATIO:
        assert objective.total is not None
        if objective.budgeting != model.OCCURRENCES:
            assert objective.slice_seconds is not None
            return source.promql_slices(objective.good, objective.bad, objective.total, objective.slice_seconds,
                                        objective.slice_target if objective.budgeting == model.TIMESLICES else None)
        return source.promql_ratio(objective.good, objective.bad, objective.total)
    if kind == model.PROMQL_THRESHOLD:
        assert objective.query is not None and objective.point_op is not None and objective.point_value is not None
        if objective.budgeting == model.RATIO_TIMESLICES or objective.slice_target is not None:
            # OpenSLO's slices of a thresholdMetric: each slice judged by its share of good points.
            assert objective.slice_seconds is not None
            return source.promql_threshold_slices(objective.query, objective.point_op, objective.point_value,
                                                  objective.slice_seconds, objective.slice_target)
        return source.promql_threshold(objective.query, objective.point_op, objective.point_value,
                                       objective.slice_seconds if objective.budgeting == model.TIMESLICES else None)
    if kind == model.PROMQL_VALUE:
        assert objective.query is not None
        return source.promql_value(objective.query, objective.unit)
    if kind == model.RECOVERY:
        # Graded from a drill's timeline (slo.recovery), never from a source.
        return SLIData(problem=Problem(NO_FAULT, NO_FAULT_REASON))
    raise ValueError(f"unknown objective kind {kind!r}")


def grade_source(spec: Spec, source: SLISource, *, require_evidence: bool = False) -> Graded:
    """Grade every objective of ``spec`` from ``source``, in spec order."""
    verdicts: list[Verdict] = []
    data: dict[str, SLIData] = {}
    error: str | None = None
    try:
        source.open()
    except SourceUnreachable as exc:
        error = str(exc)
    for objective in spec.objectives:
        if error is None:
            try:
                sli = measure(source, objective)
            except SourceUnreachable as exc:
                error = str(exc)
            except QueryFailed as exc:
                verdicts.append(inconclusive(objective, str(exc), QUERY_FAILED))
                continue
            else:
                data[objective.id] = sli
                verdicts.append(grade(objective, sli, require_evidence=require_evidence))
                continue
        verdicts.append(inconclusive(objective, f"{source.title} could not be queried: {error}", SOURCE_UNREACHABLE))
    overview: tuple[Chart, ...] = ()
    if error is None:
        overview = tuple(source.overview(with_latency=any(o.kind == model.LATENCY for o in spec.objectives)))
    return Graded(source.name, tuple(verdicts), data, source.info(error),
                  f"{source.title} could not be queried: {error}" if error else None, overview)
