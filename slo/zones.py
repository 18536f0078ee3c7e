"""Objectives that must hold in every load zone (``zones: each``): the spec key, and the grading per zone. Pure.

``zones: each`` on a latency, error-rate, throughput, cache-hit-rate or availability objective
says it must hold in every zone of the run, graded per zone from the client side (each zone's
own client series, ``analysis.zones``). ``grade_zones`` combines the zones' verdicts:

* the objective fails if any zone fails (its reason names each failing zone);
* otherwise a zone that stopped reporting (all its workers lost), or one that could not be
  graded, makes it inconclusive (or no data), never a pass: the zone's users were not measured
  to the end;
* otherwise it passes (or warns) with the worst zone's measurement.

Its ``detail.zones`` holds each zone's status, measurement, events and reason, and
``detail.overall`` the source's own measurement over all zones. A run without zones grades the
objective overall, with a note saying so.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from yaml.nodes import Node

from analysis.sli import Series
from analysis.source import SLISource
from analysis.zones import ZONE_SOURCE
from slo import model
from slo.evaluate import Graded, measure
from slo.grade import FAIL, INCONCLUSIVE, NO_DATA, PASS, WARN, Verdict, grade
from slo.located import NodeParser
from slo.model import Objective, Spec
from slo.units import format_value

__all__ = ["EACH", "ZONE_KINDS", "NO_ZONES_NOTE", "ZONE_LOST", "read_zones", "combine", "grade_zones"]

EACH = "each"
#: The kinds the client side can grade per zone.
ZONE_KINDS = (model.LATENCY, model.ERROR_RATE, model.THROUGHPUT, model.CACHE_HIT_RATE, model.AVAILABILITY)
NO_ZONES_NOTE = "zones: each, but the run had no load zones: graded overall"
#: The problem code of an objective left inconclusive by a zone that stopped reporting.
ZONE_LOST = "zone_lost"
#: Which zone status decides the objective, the first found in this order.
_ORDER = (FAIL, INCONCLUSIVE, NO_DATA, WARN, PASS)


def read_zones(parser: NodeParser, fields: Mapping[str, tuple[Node, Node]], path: str,
               kind: str | None) -> dict[str, Any]:
    """An objective's ``zones``: only ``each``, and only on the kinds the client side grades per zone."""
    if "zones" not in fields:
        return {}
    node = fields["zones"][1]
    value = parser.string(node, f"{path}.zones")
    if value is None:
        return {}
    if value != EACH:
        parser.error(node, f"{path}.zones", f"expected 'each' (the objective holds in every load zone), got {value!r}")
        return {}
    if kind is not None and kind not in ZONE_KINDS:
        parser.error(node, f"{path}.zones", f"kind {kind!r} is not graded per zone; zones: each applies to "
                                            f"{', '.join(ZONE_KINDS)}")
        return {}
    return {"zones": EACH}


def _short(verdict: Verdict) -> str:
    measured = "no measurement" if verdict.measured is None else format_value(verdict.measured, verdict.unit)
    return f"{measured} {verdict.status}"


def combine(objective: Objective, zones: Mapping[str, Verdict], lost: Mapping[str, str],
            overall: Verdict | None = None) -> Verdict:
    """One verdict of ``objective`` from its verdict in each zone (``zones``, by name); ``lost``
    names the zones that stopped reporting, each with its sentence; ``overall`` is the source's
    own grading over every zone, kept in the detail."""
    if not zones:
        raise ValueError("combine needs at least one zone")
    statuses = {name: (INCONCLUSIVE if name in lost and v.status != FAIL else v.status) for name, v in zones.items()}
    status = next(s for s in _ORDER if s in statuses.values())
    deciding = [name for name, s in statuses.items() if s == status]
    # The worst of the deciding zones: the least margin (a zone without one last).
    worst = min(deciding, key=lambda n: (zones[n].margin is None, zones[n].margin or 0.0, n))
    each = ", ".join(f"{name} {_short(v)}" for name, v in sorted(zones.items()))
    base = f"{objective.title} per zone ({ZONE_SOURCE}): {each}"
    problem = zones[worst].problem
    if status == FAIL:
        reason = f"{base}; fails in {', '.join(sorted(deciding))}"
    elif status == INCONCLUSIVE and set(deciding) & set(lost):
        problem = ZONE_LOST
        reason = f"{base}; {'; '.join(lost[n] for n in sorted(set(deciding) & set(lost)))}, so it cannot pass"
    elif status in (INCONCLUSIVE, NO_DATA):
        reason = f"{base}; not graded in {', '.join(sorted(deciding))} ({zones[worst].reason})"
    else:
        reason = f"{base}; holds in every zone, the worst {worst}"
    detail = {**zones[worst].detail, "zone_source": ZONE_SOURCE, "deciding_zone": worst,
              "zones": {name: {"status": statuses[name], "measured": v.measured, "events": v.events,
                               "margin": v.margin, "reason": v.reason, "lost": lost.get(name)}
                        for name, v in sorted(zones.items())}}
    if overall is not None:
        detail["overall"] = {"status": overall.status, "measured": overall.measured, "events": overall.events}
        if overall.status == FAIL and status != FAIL:
            # Every zone held but the whole did not (requests of no zone, or a source of its own): it fails.
            return dataclasses.replace(overall, objective=objective, detail=detail, problem=None,
                                       reason=f"{overall.reason}; fails overall although {base}")
    return dataclasses.replace(zones[worst], objective=objective, status=status, reason=reason, detail=detail,
                               problem=problem if status not in (PASS, WARN, FAIL) else None)


def grade_zones(spec: Spec, graded: Graded, sources: Mapping[str, SLISource], lost: Mapping[str, str], *,
                require_evidence: bool = False, charts: bool = True) -> Graded:
    """``graded`` with each ``zones: each`` objective graded per zone from ``sources`` (one
    client-side source per zone, by name); with no zones, those objectives keep their overall
    verdict, with ``NO_ZONES_NOTE``. Each such objective's chart keeps the source's own lines and
    gains each zone's first line, named ``... [zone NAME]`` (unless ``charts`` is false: another
    source's grading, whose chart gets them from the client's)."""
    if not any(o.zones == EACH for o in spec.objectives):
        return graded
    verdicts = []
    data = dict(graded.data)
    for verdict in graded.verdicts:
        o = verdict.objective
        if o.zones != EACH:
            verdicts.append(verdict)
        elif not sources:
            verdicts.append(dataclasses.replace(verdict, reason=f"{verdict.reason} ({NO_ZONES_NOTE})",
                                                detail={**verdict.detail, "zones_note": NO_ZONES_NOTE}))
        else:
            measured = {name: measure(source, o) for name, source in sources.items()}
            zones = {name: grade(o, sli, require_evidence=require_evidence) for name, sli in measured.items()}
            verdicts.append(combine(o, zones, lost, verdict))
            if charts and o.id in data:
                lines = [Series(f"{sli.series[0].name} [zone {name}]", sli.series[0].unit, sli.series[0].points)
                         for name, sli in sorted(measured.items()) if sli.series]
                data[o.id] = dataclasses.replace(data[o.id], series=[*data[o.id].series, *lines])
    return dataclasses.replace(graded, verdicts=tuple(verdicts), data=data)
