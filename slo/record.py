"""The record builder: graded objectives, the run's facts and a baseline to one typed record. Pure.

``build_record`` joins the client-side view, compares with a baseline, makes the gate's **one**
decision (``slo.gate.decide``), decides the warnings (``slo.caveats``) and lays out the record:
a ``VerdictRecord`` (``verdict.json``), the ``SeriesDocument`` behind each chart and, for a run,
its ``RunRecord`` (``run.json``), all defined in ``slo.record_types``. ``reports.publish`` writes
them and renders every report, summary and JUnit file from them, so ``loadgate report DIR``
re-renders the same files from what was stored, without Prometheus.

Floats that are NaN or infinite become ``null`` (JSON has neither), counts are integers, times
are RFC 3339 UTC.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from analysis.sli import Series, Window
from analysis.source import Chart
from analysis.validity import Validity
from slo.caveats import caveats
from slo.compare import Baseline, attach_to
from slo.evaluate import Graded
from slo.gate import ExitCode, GateResult, Interruption, decide
from slo.grade import FAIL, INCONCLUSIVE, INVALID_RUN, Verdict, meets
from slo.model import Spec
from slo.record_types import (
    SCHEMA_VERSION,
    ClientFigures,
    ObjectiveRecord,
    OverviewChart,
    RunRecord,
    SeriesDocument,
    SeriesLine,
    TargetRecord,
    VerdictRecord,
    clean,
)
from slo.units import format_duration, rfc3339

__all__ = ["SCHEMA_VERSION", "Record", "clean", "objective_record", "series_document",
           "merge_overview", "build_record", "load_verdict"]


@dataclass(frozen=True)
class Record:
    """Everything a gate or run writes: ``verdict.json``, ``series/*.json`` and ``run.json``."""

    verdict: VerdictRecord
    #: Relative path (``series/<id>.json``) -> the series document behind one chart.
    series: Mapping[str, SeriesDocument]
    result: GateResult

    @property
    def run(self) -> RunRecord | None:
        """The load test's facts (``run.json``); None for a plain gate."""
        return self.verdict.run

    @property
    def doc(self) -> dict[str, Any]:
        """``verdict.json`` as stored (its JSON form)."""
        return self.verdict.to_json()

    @property
    def exit_code(self) -> ExitCode:
        """The gate's exit code: the one ``decide()`` made."""
        return self.result.exit_code


def objective_record(verdict: Verdict, *, queries: list[str] | None = None,
                     series_file: str | None = None) -> ObjectiveRecord:
    """One objective of ``verdict.json``, from its verdict."""
    o = verdict.objective
    return ObjectiveRecord(
        id=o.id, title=o.title, kind=o.kind, required=o.required, status=verdict.status,
        measured=clean(verdict.measured), unit=verdict.unit, target=TargetRecord(o.target.op, o.target.value),
        warn=o.warn, quantile=o.quantile, events=clean(verdict.events, "events"), margin=clean(verdict.margin),
        evidence=clean(verdict.evidence), budget=clean(verdict.budget), reason=verdict.reason,
        problem=verdict.problem, detail=clean(verdict.detail), queries=tuple(dict.fromkeys(queries or [])),
        series_file=series_file)


def _client_figures(verdict: Verdict) -> ClientFigures:
    o = objective_record(verdict)
    return ClientFigures(status=o.status, measured=o.measured, unit=o.unit, events=o.events, reason=o.reason,
                         problem=o.problem, evidence=o.evidence, detail=o.detail)


def series_document(name: str, series: tuple[Series, ...] | list[Series], start: float, end: float) -> SeriesDocument:
    """What is stored in ``series/<name>.json``: the lines behind one chart, from ``start`` to ``end``."""
    return SeriesDocument(objective=name, start_unix=start, end_unix=end,
                          series=tuple(SeriesLine(s.name, s.unit, tuple((float(t), clean(float(v)) if v is not None
                                                                         else None) for t, v in s.points))
                                       for s in series))


def merge_overview(primary: Graded, client: Graded | None) -> tuple[Chart, ...]:
    """The overview charts: the primary source's, with the client's lines joined to charts of
    the same id (server and client latency on one chart) and the client's other charts after."""
    if client is None or client is primary:
        return primary.overview
    charts = {chart.id: chart for chart in primary.overview}
    for chart in client.overview:
        mine = charts.get(chart.id)
        charts[chart.id] = chart if mine is None else dataclasses.replace(mine, series=mine.series + chart.series)
    return tuple(charts.values())


def _unmeasurable(verdict: Verdict, validity: Validity, co_located: bool = False) -> Verdict:
    """A verdict of an invalid run that says nothing about the service, made inconclusive:

    * throughput (the generator, not the service, set the rate);
    * a latency failure timed from the intended sends (the load generator's source) when the
      latency from the actual sends meets the target: the time was spent waiting for the load
      generator, not for the service;
    * any failure when the load generator saturated a CPU (``generator_cpu``) on the machine the
      service runs on (``co_located``: a service on loopback): the service was starved of the
      CPU the generator took, so its figures are no evidence either way.
    """
    if verdict.status == INCONCLUSIVE:
        return verdict
    # The checks by id only: their reasons, and what to do, are said once, with the verdict (and in
    # JUnit's "run validity" case), not again under every objective.
    why = f"an invalid run (failed checks: {', '.join(validity.invalid_ids)}; the verdict says why)"
    if co_located and verdict.status == FAIL and validity.failed("generator_cpu"):
        return dataclasses.replace(verdict, status=INCONCLUSIVE, problem=INVALID_RUN, reason=(
            f"{verdict.reason}; but the load generator saturated a CPU on the machine the service runs on, "
            f"so the service was starved of CPU and this is no evidence against it, in {why}"))
    if verdict.objective.kind == "throughput":
        return dataclasses.replace(verdict, status=INCONCLUSIVE, problem=INVALID_RUN,
                                   reason=f"not measurable in {why}")
    sent = verdict.detail.get("measured_from_actual_sends")
    if verdict.objective.kind == "latency" and verdict.status == FAIL and isinstance(sent, (int, float)) \
            and meets(float(sent), verdict.objective.target):
        return dataclasses.replace(verdict, status=INCONCLUSIVE, problem=INVALID_RUN, reason=(
            f"{verdict.reason}; but from the actual sends it is {format_duration(float(sent))}, within the target: "
            f"the requests waited for the load generator in {why}"))
    return verdict


def build_record(spec: Spec, primary: Graded, window: Window, *, selector: str, generated_at: float,
                 tool_version: str, options: dict[str, Any], run_id: str, fail_on_warn: bool = False,
                 client: Graded | None = None,
                 run: RunRecord | None = None, baseline: Baseline | None = None,
                 breakdown: dict[str, Any] | None = None, chart_start: float | None = None,
                 interrupted: Interruption | None = None, validity: Validity | None = None,
                 allow_invalid: bool = False, co_located: bool = False,
                 alerts: dict[str, Any] | None = None, timeline: Mapping[str, Any] | None = None) -> Record:
    """The record of ``primary``'s verdicts over ``window``.

    ``client`` is the load generator's grading of the same spec (its figures join each
    objective, its lines each chart); with a ``baseline`` every objective carries its delta,
    and with ``baseline.fail_on_regression`` a regression of a required objective fails the
    gate; ``fail_on_warn`` makes a warning fail it. ``options`` are the flags recorded as given.
    ``run`` is the load test's ``run.json``, complete. A run ``interrupted`` by a signal is
    inconclusive with the signal's exit code. An invalid run (``validity``) has its throughput
    objectives made inconclusive, as it cannot measure them, and is decided by
    ``decide(invalid=...)``, unless ``allow_invalid`` turns its checks into warnings.
    ``co_located``: the service runs on the load generator's machine (``_unmeasurable``).
    ``alerts`` (``--alert-rules``): ``{"spans": [...], "expected": [[slo, severity]] or None,
    "failures": [...], "unread": reason or None, ...}``; ``spans`` become ``verdict.json``'s ``alerts``.
    ``timeline`` is a drill's (``slo.timeline.Timeline.to_json()``), stored as it is.
    """
    other = client if client is not None and client is not primary else None
    enforce = validity is not None and not validity.valid and not allow_invalid
    if enforce:
        assert validity is not None
        primary = dataclasses.replace(primary, verdicts=tuple(_unmeasurable(v, validity, co_located)
                                                              for v in primary.verdicts))
    first_chart = window.start if chart_start is None else min(chart_start, window.start)
    files: dict[str, SeriesDocument] = {}
    client_verdicts = {v.objective.id: v for v in other.verdicts} if other else {}
    objectives = []
    for verdict in primary.verdicts:
        oid = verdict.objective.id
        sli = primary.data.get(oid)
        lines = list(sli.series) if sli else []
        client_sli = other.data.get(oid) if other else None
        if client_sli is not None:
            lines += [Series(f"{s.name} [client]", s.unit, s.points) for s in client_sli.series]
        series_file = None
        if lines:
            series_file = f"series/{oid}.json"
            files[series_file] = series_document(oid, lines, first_chart, window.end)
        entry = objective_record(verdict, queries=sli.queries if sli else None, series_file=series_file)
        if oid in client_verdicts:
            entry = dataclasses.replace(entry, client=_client_figures(client_verdicts[oid]))
        objectives.append(entry)
    compared: dict[str, Any] | None = None
    regressions: dict[str, str] = {}
    if baseline is not None:
        stored = [o.to_json() for o in objectives]
        regressions, compared = attach_to(stored, window.seconds, breakdown, baseline)
        objectives = [dataclasses.replace(o, baseline=clean(s.get("baseline"))) for o, s in zip(objectives, stored)]
    result = decide(primary.verdicts, fail_on_warn=fail_on_warn,
                    source_error=primary.source_error,
                    regressions=regressions if baseline is not None and baseline.fail_on_regression else None,
                    interrupted=interrupted, invalid=validity.reasons if enforce and validity else (),
                    alert_failures=tuple(alerts.get("failures") or ()) if alerts else (),
                    drill=bool(alerts and alerts.get("expected")),
                    alerts_unread=alerts.get("unread") if alerts else None)
    overview = []
    for chart in merge_overview(primary, client):
        if any(line.points for line in chart.series):
            relative = f"series/overview-{chart.id}.json"
            files[relative] = series_document(f"overview-{chart.id}", chart.series, first_chart, window.end)
            overview.append(OverviewChart(chart.id, chart.title, chart.unit, chart.caption, relative))
    record = VerdictRecord(
        generated_at=rfc3339(generated_at), tool_version=tool_version, verdict=result.status,
        exit_code=int(result.exit_code), reason=result.reason,
        spec={"path": spec.path, "name": spec.name, "version": spec.version, "text": spec.source_text},
        window={"start": rfc3339(window.start), "end": rfc3339(window.end), "seconds": window.seconds,
                "start_unix": window.start, "end_unix": window.end},
        source=primary.source, source_info=clean(primary.info), selector=selector, options=clean(options),
        objectives=tuple(objectives), run_id=run_id,
        interrupted={"signal": interrupted.signal, "at": rfc3339(interrupted.at)} if interrupted else None,
        alerts=tuple({**s, "first_firing": rfc3339(s["first_firing"]), "last_firing": rfc3339(s["last_firing"]),
                      "first_firing_unix": s["first_firing"], "last_firing_unix": s["last_firing"]}
                     for s in alerts.get("spans", [])) if alerts is not None else None,
        alert_rules=clean({k: v for k, v in alerts.items() if k != "spans"}) if alerts is not None else None,
        validity={**validity.to_dict(), "enforced": not allow_invalid} if validity is not None else None,
        baseline=clean(compared), run=run, breakdown=clean(breakdown), overview=tuple(overview),
        timeline=clean(dict(timeline)) if timeline is not None else None)
    return Record(dataclasses.replace(record, warnings=caveats(record)), files, result)


def load_verdict(doc: Any) -> VerdictRecord:
    """The typed record of a stored ``verdict.json``, brought to the current version: a version 1
    record gets the warnings the builder would have stored (``slo.caveats``). Raises
    ``RecordError`` for a document that is not one."""
    record = VerdictRecord.from_json(doc)
    if record.schema_version == 1:
        legacy = frozenset(str(o.get("id")) for o in doc["objectives"] if "problem" not in o)
        record = dataclasses.replace(record, warnings=caveats(record, legacy=legacy))
    if record.run is not None:
        record = dataclasses.replace(record, run=dataclasses.replace(record.run, schema_version=SCHEMA_VERSION))
    return dataclasses.replace(record, schema_version=SCHEMA_VERSION)
