"""The one record of a gate or run: ``verdict.json``, the chart series beside it, and ``run.json``.

``build_record`` is the single pure function that turns graded objectives into the record: it
joins the client-side view, compares with a baseline, makes the gate's **one** decision
(``slo.gate.decide``) and lays out the document. ``reports.publish`` writes it; every report,
summary and JUnit file is rendered from it (plus its series), so ``loadgate report DIR``
re-renders them without Prometheus.

``verdict.json`` holds, top to bottom:

* ``schema_version``, ``tool``, ``generated_at``; the gate's ``verdict``, ``exit_code``, ``reason``;
* ``spec`` (path, name, version and its text), the graded ``window``, the ``source``
  (``prometheus`` or ``locust``) and how it was read (``source_info``), the ``selector``, the
  ``options`` the gate ran with;
* ``objectives``: per objective, its target, status, measured value and unit, events, margin,
  evidence, error budget, reason, ``problem`` code, detail, the queries run, its
  ``series_file``, the load generator's own figure (``client``) and its ``baseline`` delta;
* ``run_id``; and when present: ``interrupted`` (the signal and when: the run did not finish),
  ``validity`` (the run's checks, ``analysis.validity``, and whether they were enforced),
  ``baseline`` (what was compared), ``run`` (the load test, as in ``run.json``), ``breakdown``
  (per endpoint and tier, client side) and ``overview`` charts.

Every stored document carries ``schema_version``; readers refuse versions they do not know.
Floats that are NaN or infinite become ``null`` (JSON has neither); times are RFC 3339 UTC.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from analysis.sli import Series, Window
from analysis.source import Chart
from analysis.validity import Validity
from slo.compare import Baseline, attach_to
from slo.evaluate import Graded
from slo.gate import ExitCode, GateResult, Interruption, decide
from slo.grade import FAIL, INCONCLUSIVE, INVALID_RUN, Verdict, meets
from slo.model import Spec
from slo.units import format_duration

__all__ = ["SCHEMA_VERSION", "SERIES_SCHEMA_VERSION", "Record", "rfc3339", "clean", "objective_entry",
           "series_document", "merge_overview", "build_record"]

SCHEMA_VERSION = 1
SERIES_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Record:
    """Everything a gate or run writes: ``verdict.json``, ``series/*.json`` and ``run.json``."""

    doc: dict[str, Any]
    #: Relative path (``series/<id>.json``) -> the series document behind one chart.
    series: dict[str, dict[str, Any]]
    result: GateResult
    run: dict[str, Any] | None = None

    @property
    def exit_code(self) -> ExitCode:
        """The gate's exit code: the one ``decide()`` made."""
        return self.result.exit_code


def rfc3339(unix_s: float) -> str:
    """``2026-01-01T00:15:00Z`` for a Unix time (whole seconds shown when whole)."""
    dt = datetime.fromtimestamp(unix_s, tz=timezone.utc)
    text = dt.isoformat(timespec="milliseconds" if unix_s % 1 else "seconds")
    return text.replace("+00:00", "Z")


def clean(value: Any) -> Any:
    """Make a value JSON-safe: dataclasses to dicts, tuples to lists, NaN and ±Inf to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def objective_entry(verdict: Verdict, *, queries: list[str] | None = None,
                    series_file: str | None = None) -> dict[str, Any]:
    """One objective of ``verdict.json``."""
    o = verdict.objective
    entry: dict[str, Any] = clean({
        "id": o.id,
        "title": o.title,
        "kind": o.kind,
        "required": o.required,
        "status": verdict.status,
        "measured": verdict.measured,
        "unit": verdict.unit,
        "target": {"op": o.target.op, "value": o.target.value},
        "warn": o.warn,
        "quantile": o.quantile,
        "events": verdict.events,
        "margin": verdict.margin,
        "evidence": verdict.evidence,
        "budget": verdict.budget,
        "reason": verdict.reason,
        "problem": verdict.problem,
        "detail": verdict.detail,
        "queries": list(dict.fromkeys(queries or [])),
        "series_file": series_file,
    })
    return entry


def _client_entry(verdict: Verdict) -> dict[str, Any]:
    entry = objective_entry(verdict)
    return {k: entry[k] for k in ("status", "measured", "unit", "events", "reason", "problem", "evidence", "detail")}


def series_document(name: str, series: tuple[Series, ...] | list[Series], start: float, end: float) -> dict[str, Any]:
    """The JSON stored in ``series/<name>.json``: the lines behind one chart, from ``start`` to ``end``."""
    lines = [{"name": s.name, "unit": s.unit, "points": [list(p) for p in s.points]} for s in series]
    doc: dict[str, Any] = clean({"schema_version": SERIES_SCHEMA_VERSION, "objective": name, "start_unix": start,
                                 "end_unix": end, "series": lines})
    return doc


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
    why = f"an invalid run ({'; '.join(validity.reasons)})"
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
                 run: dict[str, Any] | None = None, baseline: Baseline | None = None,
                 breakdown: dict[str, Any] | None = None, chart_start: float | None = None,
                 interrupted: Interruption | None = None, validity: Validity | None = None,
                 allow_invalid: bool = False, co_located: bool = False,
                 alerts: dict[str, Any] | None = None) -> Record:
    """The record of ``primary``'s verdicts over ``window``.

    ``client`` is the load generator's grading of the same spec (its figures join each
    objective, its lines each chart); with a ``baseline`` every objective carries its delta,
    and with ``baseline.fail_on_regression`` a regression of a required objective fails the
    gate; ``fail_on_warn`` makes a warning fail it. ``options`` are the flags recorded as given.
    A run ``interrupted`` by a signal is inconclusive with the signal's exit code. An invalid run
    (``validity``) has its throughput objectives made inconclusive, as it cannot measure them, and
    is decided by ``decide(invalid=...)``, unless ``allow_invalid`` turns its checks into warnings.
    ``co_located``: the service runs on the load generator's machine (``_unmeasurable``).
    ``alerts`` (``--alert-rules``): ``{"spans": [...], "expected": [[slo, severity]] or None,
    "failures": [...], "unread": reason or None, ...}``; ``spans`` become ``verdict.json``'s ``alerts``.
    """
    other = client if client is not None and client is not primary else None
    enforce = validity is not None and not validity.valid and not allow_invalid
    if enforce:
        assert validity is not None
        primary = dataclasses.replace(primary, verdicts=tuple(_unmeasurable(v, validity, co_located)
                                                              for v in primary.verdicts))
    first_chart = window.start if chart_start is None else min(chart_start, window.start)
    files: dict[str, dict[str, Any]] = {}
    client_verdicts = {v.objective.id: v for v in other.verdicts} if other else {}
    entries = []
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
        entry = objective_entry(verdict, queries=sli.queries if sli else None, series_file=series_file)
        if oid in client_verdicts:
            entry["client"] = _client_entry(client_verdicts[oid])
        entries.append(entry)
    compared: dict[str, Any] | None = None
    regressions: dict[str, str] = {}
    if baseline is not None:
        regressions, compared = attach_to(entries, breakdown, baseline.doc, baseline.path, baseline.tolerances)
    result = decide(primary.verdicts, fail_on_warn=fail_on_warn,
                    source_error=primary.source_error,
                    regressions=regressions if baseline is not None and baseline.fail_on_regression else None,
                    interrupted=interrupted, invalid=validity.reasons if enforce and validity else (),
                    alert_failures=tuple(alerts.get("failures") or ()) if alerts else (),
                    drill=bool(alerts and alerts.get("expected")),
                    alerts_unread=alerts.get("unread") if alerts else None)
    doc: dict[str, Any] = clean({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "loadgate", "version": tool_version},
        "generated_at": rfc3339(generated_at),
        "verdict": result.status,
        "exit_code": int(result.exit_code),
        "reason": result.reason,
        "spec": {"path": spec.path, "name": spec.name, "version": spec.version, "text": spec.source_text},
        "window": {"start": rfc3339(window.start), "end": rfc3339(window.end), "seconds": window.seconds,
                   "start_unix": window.start, "end_unix": window.end},
        "source": primary.source,
        "source_info": primary.info,
        "selector": selector,
        "options": options,
        "objectives": entries,
        "run_id": run_id,
    })
    if interrupted is not None:
        doc["interrupted"] = {"signal": interrupted.signal, "at": rfc3339(interrupted.at)}
    if alerts is not None:
        doc["alerts"] = [{**s, "first_firing": rfc3339(s["first_firing"]), "last_firing": rfc3339(s["last_firing"]),
                          "first_firing_unix": s["first_firing"], "last_firing_unix": s["last_firing"]}
                         for s in alerts.get("spans", [])]
        doc["alert_rules"] = clean({k: v for k, v in alerts.items() if k != "spans"})
    if validity is not None:
        doc["validity"] = {**validity.to_dict(), "enforced": not allow_invalid}
    if compared is not None:
        doc["baseline"] = clean(compared)
    if run is not None:
        doc["run"] = clean(run)
    if breakdown is not None:
        doc["breakdown"] = clean(breakdown)
    overview = []
    for chart in merge_overview(primary, client):
        if any(line.points for line in chart.series):
            relative = f"series/overview-{chart.id}.json"
            files[relative] = series_document(f"overview-{chart.id}", chart.series, first_chart, window.end)
            overview.append({"id": chart.id, "title": chart.title, "unit": chart.unit, "caption": chart.caption,
                             "series_file": relative})
    if overview:
        doc["overview"] = overview
    return Record(doc, files, result, clean(run) if run is not None else None)
