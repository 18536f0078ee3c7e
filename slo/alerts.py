"""Alerts seen during a run: polls of Prometheus's ``/api/v1/alerts`` folded into firing spans,
and ``--expect-alerts`` checked against them. Pure.

A span is one alert (``alertname``, ``slo``, ``severity``) from the first poll that saw it firing
to the last; a gap of more than ``gap_s`` between two firing polls starts a new span. A span's
``slo`` is the objective's loadgate id (the alert's ``objective`` label, else its ``slo``) and its
``severity`` is ``page`` or ``ticket`` (the alert's ``loadgate_severity``, else its ``severity``):
what ``--expect-alerts slo:severity`` names, however the alert's ``severity`` label is routed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["Poll", "spans", "parse_expectations", "check", "ExpectationError", "NONE", "alert_key"]

NONE = "none"
SEVERITIES = ("page", "ticket")


class ExpectationError(ValueError):
    """A ``--expect-alerts`` value that is not ``none`` or ``slo:severity,...``."""


@dataclass(frozen=True)
class Poll:
    """One answer of ``/api/v1/alerts`` at Unix time ``t``: the label sets of the alerts firing then."""

    t: float
    firing: tuple[dict[str, str], ...]


def alert_key(labels: dict[str, str]) -> tuple[str, str, str]:
    """``(alertname, objective, page|ticket)`` of a firing alert's labels (see the module's docstring)."""
    return (labels.get("alertname", ""), labels.get("objective") or labels.get("slo", ""),
            labels.get("loadgate_severity") or labels.get("severity", ""))


def spans(polls: Iterable[Poll], gap_s: float = 5.0) -> list[dict[str, Any]]:
    """``[{"alertname", "slo", "severity", "first_firing", "last_firing"}]`` (Unix seconds), by first firing."""
    open_: dict[tuple[str, str, str], dict[str, Any]] = {}
    done: list[dict[str, Any]] = []
    for poll in sorted(polls, key=lambda p: p.t):
        for labels in poll.firing:
            key = alert_key(labels)
            span = open_.get(key)
            if span is not None and poll.t - span["last_firing"] > gap_s:
                done.append(open_.pop(key))
                span = None
            if span is None:
                open_[key] = {"alertname": key[0], "slo": key[1], "severity": key[2], "first_firing": poll.t,
                              "last_firing": poll.t}
            else:
                span["last_firing"] = poll.t
    return sorted(done + list(open_.values()), key=lambda s: (s["first_firing"], s["slo"], s["severity"]))


def parse_expectations(text: str, alerting: Iterable[str],
                       impossible: Iterable[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """``none`` -> ``()``; ``error_rate:page,p99_latency:ticket`` -> pairs, each slo one with alert
    rules, and none of the ``impossible`` (slo, severity) pairs, which can never fire."""
    known = set(alerting)
    never = set(impossible)
    if not text.strip():
        raise ExpectationError("empty; give slo:severity pairs such as error_rate:page, or 'none'")
    if text.strip().lower() == NONE:
        return ()
    pairs = []
    for item in (part.strip() for part in text.split(",")):
        slo, _, severity = item.partition(":")
        if not slo or severity not in SEVERITIES:
            raise ExpectationError(f"{item!r}: expected slo:severity with severity page or ticket, or 'none'")
        if slo not in known:
            raise ExpectationError(f"{item!r}: no alert rules for objective {slo!r} (alerting objectives: "
                                   f"{', '.join(sorted(known)) or 'none'})")
        if (slo, severity) in never:
            raise ExpectationError(f"{item!r} can never fire: its budget is so large that no bad ratio reaches "
                                   f"the {severity} burn rates, or its {severity} alert is turned off")
        pairs.append((slo, severity))
    return tuple(dict.fromkeys(pairs))


def check(expected: tuple[tuple[str, str], ...], seen: list[dict[str, Any]]) -> list[str]:
    """Why the alerts did not behave as expected (empty when they did): an expected alert that
    never fired, or, when none was expected (``()``), every alert that fired."""
    fired = {(s["slo"], s["severity"]) for s in seen}
    if not expected:
        early = {(s["slo"], s["severity"]) for s in seen if s.get("since_rampup")}
        return [f"alert {slo}:{sev} fired although none was expected (--expect-alerts none)"
                + ("; it was firing since the ramp-up (a cold start? the run-scaled windows reach back to the "
                   "start of the run: a longer ramp-up lets them recover)" if (slo, sev) in early else "")
                for slo, sev in sorted(fired)]
    return [f"expected alert {slo}:{sev} did not fire" for slo, sev in expected if (slo, sev) not in fired]
