"""The typed record of a gate or run, and its JSON form: ``verdict.json``, ``run.json`` and ``series/*.json``.

Frozen dataclasses, one per stored document, each with ``to_json()`` (a JSON-safe dict, the
stored form) and ``from_json(doc)`` (which checks ``schema_version`` and raises
``RecordError`` naming the field at fault). Writers and renderers take these types, never the
raw dicts; the JSON Schemas under ``schemas/`` describe the same documents for other tools.

Versions:

* ``verdict.json`` and ``run.json`` are version 2: counts are integers, and the warnings a reader
  should see are decided when the record is built and stored in ``warnings``. Version 1 records
  (written before) are still read: their counts are rounded as they are read, and their warnings
  are derived from the record by the same rules (``slo.caveats``).
* ``series/*.json`` is version 1.

Free-form parts stay mappings on purpose: an objective's ``detail``, ``evidence`` and ``budget``,
a run's ``breakdown`` and ``client_latency``, the ``alert_rules`` summary (``docs/outputs.md``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from slo.jsonfields import NUMBER as _NUMBER
from slo.jsonfields import READABLE_VERSIONS, RecordError, clean
from slo.jsonfields import json_type as _json_type
from slo.jsonfields import need as _need
from slo.jsonfields import opt as _opt
from slo.jsonfields import version_of as _version

__all__ = ["SCHEMA_VERSION", "READABLE_VERSIONS", "SERIES_SCHEMA_VERSION", "RecordError", "clean",
           "TargetRecord", "ClientFigures", "ObjectiveRecord", "OverviewChart", "VerdictRecord", "RunRecord",
           "SeriesLine", "SeriesDocument"]

SCHEMA_VERSION = 2
SERIES_SCHEMA_VERSION = 1
#: An objective's statuses, and a gate's verdicts.
STATUSES = ("pass", "warn", "fail", "no_data", "inconclusive")
VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class TargetRecord:
    """An objective's threshold: ``op`` (``<``, ``<=``, ``>``, ``>=``) and the value in the objective's unit."""

    op: str
    value: float


@dataclass(frozen=True)
class ClientFigures:
    """The load generator's own grading of an objective, beside the primary source's."""

    status: str
    measured: float | None
    unit: str
    events: int | None
    reason: str
    problem: str | None
    evidence: Mapping[str, Any] | None
    detail: Mapping[str, Any]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str) -> ClientFigures:
        return cls(status=_need(doc, "status", str, where), measured=_opt(doc, "measured", _NUMBER, where),
                   unit=str(doc.get("unit", "")), events=clean(_opt(doc, "events", _NUMBER, where), "events"),
                   reason=str(doc.get("reason", "")), problem=_opt(doc, "problem", str, where),
                   evidence=clean(_opt(doc, "evidence", dict, where)), detail=_opt(doc, "detail", dict, where, {}))


@dataclass(frozen=True)
class ObjectiveRecord:
    """One graded objective of ``verdict.json``: target, status, measured value and what it rests on."""

    id: str
    title: str
    kind: str
    required: bool
    status: str
    measured: float | None
    unit: str
    target: TargetRecord
    warn: float | None
    quantile: float | None
    events: int | None
    margin: float | None
    #: ``{events, bad, bad_ratio_upper_95, allowed_bad_ratio, demonstrated, events_needed}`` or None.
    evidence: Mapping[str, Any] | None
    #: ``{allowed_bad_ratio, bad_ratio, consumed, worst_burn_rate, burn_window_s, note}`` or None.
    budget: Mapping[str, Any] | None
    reason: str
    #: A code for what stopped the grading (``no_series``, ``missing_bucket``, ...), None when graded.
    problem: str | None
    detail: Mapping[str, Any]
    queries: tuple[str, ...] = ()
    series_file: str | None = None
    client: ClientFigures | None = None
    #: The delta against a baseline run (``slo.compare``), None when not compared.
    baseline: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = clean(self)
        for key in ("client", "baseline"):
            if doc[key] is None:
                del doc[key]
        return doc

    @classmethod
    def from_json(cls, doc: Any, where: str) -> ObjectiveRecord:
        if not isinstance(doc, dict):
            raise RecordError(f"{where}: expected an object, got {_json_type(doc)}")
        target = _need(doc, "target", dict, where)
        client = _opt(doc, "client", dict, where)
        for part, found in (("", doc), (".client", client or {"status": "pass"})):
            if found.get("status") not in STATUSES:
                raise RecordError(f"{where}{part}.status: expected one of {', '.join(STATUSES)}, "
                                  f"got {found.get('status')!r}")
        return cls(
            id=_need(doc, "id", str, where), title=_need(doc, "title", str, where), kind=_need(doc, "kind", str, where),
            required=bool(doc.get("required", True)), status=_need(doc, "status", str, where),
            measured=_opt(doc, "measured", _NUMBER, where), unit=str(doc.get("unit", "")),
            target=TargetRecord(_need(target, "op", str, f"{where}.target"),
                                _need(target, "value", _NUMBER, f"{where}.target")),
            warn=_opt(doc, "warn", _NUMBER, where), quantile=_opt(doc, "quantile", _NUMBER, where),
            events=clean(_opt(doc, "events", _NUMBER, where), "events"), margin=_opt(doc, "margin", _NUMBER, where),
            evidence=clean(_opt(doc, "evidence", dict, where)), budget=_opt(doc, "budget", dict, where),
            reason=str(doc.get("reason", "")), problem=_opt(doc, "problem", str, where),
            detail=_opt(doc, "detail", dict, where, {}), queries=tuple(_opt(doc, "queries", list, where, [])),
            series_file=_opt(doc, "series_file", str, where),
            client=ClientFigures.from_json(client, f"{where}.client") if client is not None else None,
            baseline=_opt(doc, "baseline", dict, where))


@dataclass(frozen=True)
class OverviewChart:
    """An overview chart of the report: its id, title, unit, caption and the series file behind it."""

    id: str
    title: str
    unit: str
    caption: str
    series_file: str


@dataclass(frozen=True)
class RunRecord:
    """``run.json``: what a load test was asked to do, its graded window, what was observed and what ran it.

    Built once, from the run's plan and facts (``loadgate.run_facts``). ``extra`` holds what a
    command adds of its own (the demo API's settings, a capacity step's rate) and is stored at
    the top level beside the rest.
    """

    host: str
    shape: str
    target_rate: float
    duration_s: float
    rampup_s: float
    seed: int
    processes: int
    workers: int
    #: ``{start_unix, end_unix, seconds}``: the graded window.
    window: Mapping[str, float]
    test_started_unix: float | None
    test_stopped_unix: float | None
    source: str
    prometheus: str | None
    locust_exit_code: int | None
    requests: int
    failures: int
    endpoints: Mapping[str, Mapping[str, int]]
    client_responses: int
    loadgen_cpu_over_90: bool
    server_counter_at_end: int | None
    loadgate_exporter_responses: int | None
    tier_limits_per_min: Mapping[str, int]
    git_sha: str | None
    versions: Mapping[str, str]
    command: tuple[str, ...]
    #: ``open``, ``closed``, ``mixed``, or None for a series that did not say.
    model: str | None = None
    concurrency: int | None = None
    user_classes: tuple[str, ...] | None = None
    closed_user_classes: tuple[str, ...] | None = None
    locustfile: str | None = None
    ids: str | None = None
    master: Mapping[str, Any] | None = None
    worker_responses: Mapping[str, int] | None = None
    worker_events: tuple[Mapping[str, Any], ...] | None = None
    #: p50/p90/p99 as sent and from the intended sends, the late and dropped counts.
    client_latency: Mapping[str, Any] | None = None
    interrupted: Mapping[str, Any] | None = None
    validity: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    _OPTIONAL = ("model", "concurrency", "user_classes", "closed_user_classes", "locustfile", "ids", "master",
                 "worker_responses", "worker_events", "client_latency", "interrupted", "validity")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = clean({f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                                     if f.name != "extra"})
        for key in self._OPTIONAL:
            # A series that did not record its model says so with "model": null; the rest are left out.
            if doc[key] is None and key != "model":
                del doc[key]
        return {"schema_version": doc.pop("schema_version"), **doc, **clean(dict(self.extra))}

    @classmethod
    def from_json(cls, doc: Any, where: str = "run") -> RunRecord:
        """The record of a stored ``run.json`` (version 1 or 2). What every ``run.json`` has held
        since version 1 is required and type-checked (as ``schemas/run.schema.json`` says); the
        rest is optional, and keys this version does not know are kept in ``extra``."""
        version = _version(doc, "run record")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}

        def strings(key: str) -> tuple[str, ...] | None:
            found = _opt(doc, key, list, where)
            return tuple(str(v) for v in found) if found is not None else None

        counts = clean({k: doc.get(k) for k in ("requests", "failures", "client_responses", "server_counter_at_end",
                                                "loadgate_exporter_responses")})
        responses = _opt(doc, "worker_responses", dict, where)
        events = _opt(doc, "worker_events", list, where)
        return cls(
            host=_need(doc, "host", str, where), shape=_need(doc, "shape", str, where),
            target_rate=_need(doc, "target_rate", _NUMBER, where), duration_s=_need(doc, "duration_s", _NUMBER, where),
            rampup_s=_need(doc, "rampup_s", _NUMBER, where), seed=int(_opt(doc, "seed", int, where, 1)),
            processes=_need(doc, "processes", int, where), workers=_need(doc, "workers", int, where),
            window=_need(doc, "window", dict, where),
            test_started_unix=_opt(doc, "test_started_unix", _NUMBER, where),
            test_stopped_unix=_opt(doc, "test_stopped_unix", _NUMBER, where), source=_need(doc, "source", str, where),
            prometheus=_opt(doc, "prometheus", str, where), locust_exit_code=_opt(doc, "locust_exit_code", int, where),
            requests=_need(counts, "requests", int, where), failures=_need(counts, "failures", int, where),
            endpoints=clean(_opt(doc, "endpoints", dict, where, {})),
            client_responses=int(_opt(counts, "client_responses", int, where, 0)),
            loadgen_cpu_over_90=bool(_opt(doc, "loadgen_cpu_over_90", bool, where, False)),
            server_counter_at_end=_opt(counts, "server_counter_at_end", int, where),
            loadgate_exporter_responses=_opt(counts, "loadgate_exporter_responses", int, where),
            tier_limits_per_min=_opt(doc, "tier_limits_per_min", dict, where, {}),
            git_sha=_opt(doc, "git_sha", str, where), versions=_opt(doc, "versions", dict, where, {}),
            command=strings("command") or (), model=_opt(doc, "model", str, where),
            concurrency=_opt(doc, "concurrency", int, where), user_classes=strings("user_classes"),
            closed_user_classes=strings("closed_user_classes"), locustfile=_opt(doc, "locustfile", str, where),
            ids=_opt(doc, "ids", str, where), master=_opt(doc, "master", dict, where),
            worker_responses={str(w): int(round(n)) for w, n in responses.items()} if responses else None,
            worker_events=tuple(events) if events else None,
            client_latency=clean(_opt(doc, "client_latency", dict, where)),
            interrupted=_opt(doc, "interrupted", dict, where), validity=_opt(doc, "validity", dict, where),
            extra={k: v for k, v in doc.items() if k not in names}, schema_version=version)


@dataclass(frozen=True)
class VerdictRecord:
    """``verdict.json``: the gate's one decision, what was graded, over which window, from which source."""

    generated_at: str
    tool_version: str
    verdict: str
    exit_code: int
    reason: str
    #: ``{path, name, version, text}`` of the spec graded.
    spec: Mapping[str, Any]
    #: ``{start, end, seconds, start_unix, end_unix}``: the graded window.
    window: Mapping[str, Any]
    source: str
    source_info: Mapping[str, Any]
    selector: str
    options: Mapping[str, Any]
    objectives: tuple[ObjectiveRecord, ...]
    run_id: str
    #: What should make a reader doubt the numbers, decided when the record was built.
    warnings: tuple[str, ...] = ()
    interrupted: Mapping[str, Any] | None = None
    alerts: tuple[Mapping[str, Any], ...] | None = None
    alert_rules: Mapping[str, Any] | None = None
    validity: Mapping[str, Any] | None = None
    baseline: Mapping[str, Any] | None = None
    run: RunRecord | None = None
    breakdown: Mapping[str, Any] | None = None
    overview: tuple[OverviewChart, ...] = ()
    #: A drill's timeline (``slo.timeline``): each action, each fault's cost and recovery.
    timeline: Mapping[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def start_unix(self) -> float:
        """The graded window's start, Unix seconds."""
        return float(self.window["start_unix"])

    @property
    def end_unix(self) -> float:
        """The graded window's end, Unix seconds."""
        return float(self.window["end_unix"])

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema_version": self.schema_version, "tool": {"name": "loadgate", "version": self.tool_version},
            "generated_at": self.generated_at, "verdict": self.verdict, "exit_code": self.exit_code,
            "reason": self.reason, "spec": clean(dict(self.spec)), "window": clean(dict(self.window)),
            "source": self.source, "source_info": clean(dict(self.source_info)), "selector": self.selector,
            "options": clean(dict(self.options)), "objectives": [o.to_json() for o in self.objectives],
            "run_id": self.run_id, "warnings": list(self.warnings),
        }
        for key in ("interrupted", "alerts", "alert_rules", "validity", "baseline", "breakdown", "timeline"):
            value = getattr(self, key)
            if value is not None:
                doc[key] = clean(value)
        if self.run is not None:
            doc["run"] = self.run.to_json()
        if self.overview:
            doc["overview"] = [clean(chart) for chart in self.overview]
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> VerdictRecord:
        """The record of a stored ``verdict.json`` (version 1 or 2), with the version it was stored in.
        A version 1 record stored no warnings: ``slo.record.load_verdict`` derives them."""
        version = _version(doc, "verdict")
        where = "verdict"
        objectives = _need(doc, "objectives", list, where)
        spec = _need(doc, "spec", dict, where)
        _need(spec, "name", str, "spec")
        window = _need(doc, "window", dict, where)
        for key in ("start", "end"):
            _need(window, key, str, "window")
        for key in ("start_unix", "end_unix"):
            _need(window, key, _NUMBER, "window")
        run = _opt(doc, "run", dict, where)
        _need(window, "seconds", _NUMBER, "window")
        if doc.get("verdict") not in VERDICTS:
            raise RecordError(f"{where}.verdict: expected one of {', '.join(VERDICTS)}, got {doc.get('verdict')!r}")
        for key in ("overview", "alerts"):
            for i, item in enumerate(_opt(doc, key, list, where, [])):
                if not isinstance(item, dict):
                    raise RecordError(f"{where}.{key}[{i}]: expected an object, got {_json_type(item)}")
        record = cls(
            generated_at=str(doc.get("generated_at", "")), tool_version=str((doc.get("tool") or {}).get("version", "")),
            verdict=_need(doc, "verdict", str, where), exit_code=_need(doc, "exit_code", int, where),
            reason=str(doc.get("reason", "")), spec=spec, window=window, source=_need(doc, "source", str, where),
            source_info=_opt(doc, "source_info", dict, where, {}), selector=str(doc.get("selector", "")),
            options=_opt(doc, "options", dict, where, {}),
            objectives=tuple(ObjectiveRecord.from_json(o, f"objectives[{i}]") for i, o in enumerate(objectives)),
            run_id=str(doc.get("run_id", "")), warnings=tuple(_opt(doc, "warnings", list, where, [])),
            interrupted=_opt(doc, "interrupted", dict, where),
            alerts=tuple(alerts) if (alerts := _opt(doc, "alerts", list, where)) is not None else None,
            alert_rules=_opt(doc, "alert_rules", dict, where), validity=_opt(doc, "validity", dict, where),
            baseline=_opt(doc, "baseline", dict, where),
            run=RunRecord.from_json({"schema_version": version, **run}) if run is not None else None,
            breakdown=clean(_opt(doc, "breakdown", dict, where)), timeline=_opt(doc, "timeline", dict, where),
            overview=tuple(OverviewChart(id=_need(c, "id", str, "overview"), title=_need(c, "title", str, "overview"),
                                         unit=str(c.get("unit", "")), caption=str(c.get("caption", "")),
                                         series_file=_need(c, "series_file", str, "overview"))
                           for c in _opt(doc, "overview", list, where, [])))
        return dataclasses.replace(record, schema_version=version)


@dataclass(frozen=True)
class SeriesLine:
    """One line of a chart: its name, unit and ``(unix_s, value)`` points (value None for a gap)."""

    name: str
    unit: str
    points: tuple[tuple[float, float | None], ...]
    #: A baseline run's line drawn behind the current one (never stored; added when rendering).
    baseline: bool = False


@dataclass(frozen=True)
class SeriesDocument:
    """``series/<name>.json``: the lines behind one chart, from ``start_unix`` to ``end_unix``."""

    objective: str
    start_unix: float
    end_unix: float
    series: tuple[SeriesLine, ...]
    schema_version: int = SERIES_SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = clean({"schema_version": self.schema_version, "objective": self.objective,
                                     "start_unix": self.start_unix, "end_unix": self.end_unix,
                                     "series": [{"name": s.name, "unit": s.unit, "points": [list(p) for p in s.points]}
                                                for s in self.series]})
        return doc

    @classmethod
    def from_json(cls, doc: Any, where: str = "series") -> SeriesDocument:
        if not isinstance(doc, dict) or doc.get("schema_version", SERIES_SCHEMA_VERSION) != SERIES_SCHEMA_VERSION:
            raise RecordError(f"{where}: not a loadgate series document of schema_version {SERIES_SCHEMA_VERSION}")
        lines = []
        for i, line in enumerate(_need(doc, "series", list, where)):
            points = _need(line, "points", list, f"{where}.series[{i}]")
            lines.append(SeriesLine(str(line.get("name", "")), str(line.get("unit", "")),
                                    tuple((float(t), None if v is None else float(v)) for t, v in points)))
        return cls(objective=str(doc.get("objective", "")), start_unix=float(_need(doc, "start_unix", _NUMBER, where)),
                   end_unix=float(doc.get("end_unix", 0.0)), series=tuple(lines))
