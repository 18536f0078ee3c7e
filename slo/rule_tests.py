"""``promtool test rules`` unit tests for the rules ``slo.rules`` builds. Pure.

For each alerting objective, two tests: a breach (every window's bad ratio 20x its budget,
capped at 1) fires the severities that can fire, and a healthy series (half its budget) fires
nothing; and with its absent alert, a third: no series at all fires it after its ``for``.
Objectives of the native kinds are fed their raw counters, so the recording rules are tested
along with the alerts; a user's PromQL is fed the recorded ratios, since its series cannot be
invented. ``expected_alerts`` says which severities a bad ratio fires.
"""

from __future__ import annotations

import math
import re

import contract
from analysis import queries as q
from slo import model
from slo.model import Objective, Spec
from slo.rules import RECORD_PREFIX, AlertRule, Rules, dump_yaml, number, prom_duration, sliced

__all__ = ["expected_alerts", "render_tests", "humanize", "rendered"]


def humanize(value: float) -> str:
    """Prometheus's ``humanize`` template function: 4 significant digits and an SI prefix
    (``1.5k``, ``20``, ``500m``)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return f"{value:.4g}"
    prefix = ""
    if abs(value) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
    else:
        for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
            if abs(value) >= 1:
                break
            prefix, value = p, value * 1000
    return f"{value:.4g}{prefix}"


_ACTION = re.compile(r'\{\{ (?:\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|(\$value \| humanize)|"(\{\{)") \}\}')


def rendered(annotations: dict[str, str], labels: dict[str, str], value: float) -> dict[str, str]:
    """The annotations as Prometheus expands them for an alert with ``labels`` and ``value``: only
    the actions loadgate writes (``$labels.x``, ``$value | humanize`` and an escaped ``{{``)."""
    def one(m: re.Match[str]) -> str:
        return labels.get(m.group(1), "") if m.group(1) else humanize(value) if m.group(2) else "{{"
    return {k: _ACTION.sub(one, v) for k, v in annotations.items()}


def _fires(rules: Rules, oid: str, alert: AlertRule, bad_ratio: float) -> bool:
    return any(bad_ratio > c.factor * rules.budgets[oid] for c in alert.conditions)


def expected_alerts(rules: Rules, oid: str, bad_ratio: float) -> list[str]:
    """The severities (``page``, ``ticket``) whose burn-rate alerts fire at a bad ratio of ``bad_ratio``."""
    fired = {a.severity for a in rules.alerts.get(oid, ()) if _fires(rules, oid, a, bad_ratio)}
    return [s for s in ("page", "ticket") if s in fired]


def _series(spec: Spec, o: Objective, labels: dict[str, str], bad: int, total: int, n: int,
            rules: Rules, ratio: float) -> list[dict[str, str]]:
    m = spec.metrics

    def name(metric: str, **extra: str) -> str:
        both = {**labels, **extra}
        inner = ", ".join(f'{k}="{q.escape_label_value(v)}"' for k, v in both.items())
        return f"{metric}{{{inner}}}"

    def grow(step: int) -> str:
        return f"0+{step}x{n}"

    if not rules.labels_select:
        pass  # a regex selector: no invented label value is sure to match it, so feed the ratios
    elif o.kind in (model.ERROR_RATE, model.AVAILABILITY):
        return [{"series": name(m.requests, **{m.code_label: "500"}), "values": grow(bad)},
                {"series": name(m.requests, **{m.code_label: "200"}), "values": grow(total - bad)},
                {"series": name(m.up), "values": f"1x{n}"}]
    elif o.kind == model.LATENCY:
        return [{"series": name(f"{m.duration}_bucket", le=contract.format_le(m.le_bound(o.target.value))),
                 "values": grow(total - bad)},
                {"series": name(f"{m.duration}_bucket", le="+Inf"), "values": grow(total)},
                {"series": name(f"{m.duration}_count"), "values": grow(total)}]
    elif o.kind == model.CACHE_HIT_RATE and m.cache_hits is not None and m.cache_misses is not None:
        return [{"series": name(m.cache_hits), "values": grow(total - bad)},
                {"series": name(m.cache_misses), "values": grow(bad)}]
    # A user's PromQL: the recorded ratios are fed in directly (its series cannot be invented).
    windows = sorted({w for c in rules.windows[o.id] for w in (c.long_s, c.short_s)})
    value = number(_effective(o, ratio))
    return [{"series": name(f"{RECORD_PREFIX}{prom_duration(w)}", **rules.identities[o.id], window=prom_duration(w)),
             "values": f"{value}x{n}"} for w in windows]


def _reads(o: Objective) -> str:
    """Which raw counters a native objective's test feeds ('' for a user's PromQL)."""
    if o.kind in (model.ERROR_RATE, model.AVAILABILITY):
        return "requests"
    if o.kind == model.LATENCY:
        return f"latency<={o.target.value:g}"
    return "cache" if o.kind == model.CACHE_HIT_RATE else ""


def _shortest(rules: Rules, o: Objective) -> int:
    shortest = min(min(c.short_s for c in rules.windows[o.id]), min(c.long_s for c in rules.windows[o.id]))
    if sliced(o) and o.slice_seconds:
        shortest = min(shortest, int(o.slice_seconds))
    return shortest


def _cases(o: Objective, budget: float) -> tuple[tuple[str, float], ...]:
    """The bad ratio of a breach and of a healthy series: 20x and half the budget, or for
    availability fed raw counters, twice and half the error ratio that makes a slice bad."""
    if o.kind == model.AVAILABILITY and o.slice_max_error_ratio is not None:
        return (("breach", min(1.0, 2 * o.slice_max_error_ratio)), ("healthy", o.slice_max_error_ratio / 2))
    return (("breach", min(1.0, 20 * budget)), ("healthy", budget / 2))


def _effective(o: Objective, ratio: float) -> float:
    """The burn ratio an objective sees when its counters' bad ratio is ``ratio`` everywhere: every
    slice bad or none for availability, the ratio itself otherwise."""
    if o.kind == model.AVAILABILITY and o.slice_max_error_ratio is not None:
        return 1.0 if ratio > o.slice_max_error_ratio else 0.0
    return ratio


def _slice_note(o: Objective, ratio: float) -> str:
    return f", so {'every' if _effective(o, ratio) else 'no'} slice is bad" if o.kind == model.AVAILABILITY else ""


def _absent_test(rules: Rules, every: int) -> dict[str, object] | None:
    """No series at all: every absent alert fires once the longest ``for`` has passed."""
    absent = [a for rs in rules.alerts.values() for a in rs if a.kind == "absent"]
    if not absent:
        return None
    steps = max(a.for_s for a in absent) // every + 2
    names = list(dict.fromkeys(a.name for a in absent))
    return {"name": f"no series at all fires {', '.join(names)} for every objective",
            "interval": prom_duration(every),
            "input_series": [{"series": 'loadgate_unrelated{job="none"}', "values": f"1x{steps + 2}"}],
            "alert_rule_test": [{"eval_time": prom_duration(steps * every), "alertname": name,
                                 "exp_alerts": [{"exp_labels": a.labels,
                                                 "exp_annotations": rendered(a.rule["annotations"], a.labels, 1)}
                                                for a in absent if a.name == name]} for name in names]}


def _traffic_test(rules: Rules, spec: Spec, every: int) -> dict[str, object] | None:
    """Counters scraped but flat from the start: every traffic floor alert fires once its ``for``
    has passed. Only for alerts whose objectives are all native kinds under an equality selector
    (a user's PromQL reads series that cannot be invented)."""
    by_id = {o.id: o for o in spec.objectives}
    floors = [(oid, a) for oid, rs in rules.alerts.items() for a in rs if a.kind == "traffic"]
    if not floors or not rules.labels_select:
        return None
    names = list(dict.fromkeys(a.name for _, a in floors))
    names = [n for n in names if all(_reads(by_id[oid]) for oid, a in floors if a.name == n)]
    if not names:
        return None
    longest = max(a.for_s for _, a in floors if a.name in names) + \
        max(_shortest(rules, by_id[oid]) for oid, _ in floors)
    steps = longest // every + 3
    series: dict[str, dict[str, str]] = {}
    for oid, a in floors:
        if a.name in names:
            for one in _series(spec, by_id[oid], rules.labels, 0, 0, steps + 2, rules, 0.0):
                series.setdefault(one["series"], {"series": one["series"], "values": one["values"] if "+" not in
                                                  one["values"] else f"100x{steps + 2}"})
    return {"name": f"flat counters fire {', '.join(names)}", "interval": prom_duration(every),
            "input_series": list(series.values()),
            "alert_rule_test": [{"eval_time": prom_duration(steps * every), "alertname": name,
                                 "exp_alerts": [{"exp_labels": a.labels,
                                                 "exp_annotations": rendered(a.rule["annotations"], a.labels, 0)}
                                                for _, a in floors if a.name == name]} for name in names]}



def render_tests(rules: Rules, spec: Spec, rule_file: str) -> str:
    """``promtool test rules`` tests: for each alerting objective, a breach (every window's bad
    ratio 20x its budget, capped at 1) fires the severities that can fire, and a healthy series
    (half its budget) fires nothing; no series at all fires the absent alert. Native kinds are fed
    their raw counters, so the recording rules are tested too; a user's PromQL is fed its recorded
    ratios."""
    tests: list[dict[str, object]] = []
    by_id = {o.id: o for o in spec.objectives}
    total = 100_000
    # One interval for every test (promtool evaluates all rules at one interval): five samples
    # in the shortest window or slice of any objective.
    every = max(1, min((_shortest(rules, by_id[oid]) for oid in rules.windows), default=300) // 5)
    for oid in rules.windows:
        o = by_id[oid]
        burns = [a for a in rules.alerts.get(oid, ()) if a.conditions]
        if not burns:
            continue
        # Objectives reading the same counters (error rate and availability both read the 5xx
        # share of requests) see the same bad ratio, and fire by their own budgets.
        readers = [other for other in rules.windows if _reads(by_id[other]) == _reads(o)] \
            if _reads(o) and rules.labels_select else [oid]
        # The alerts are judged after ten samples, when every window holds data (a partial
        # window is still a ratio), once every short window has left the first sample behind (a
        # slice fed raw counters is not yet bad there, and the short window's burn rate is the
        # alert's $value),
        # and after the longest ``for`` of the alerts judged.
        judged = [a for other in readers for a in rules.alerts.get(other, ()) if a.conditions]
        longest_for = max(a.for_s for a in judged)
        raw = _reads(o) and rules.labels_select
        short = max((c.short_s for other in readers if raw and sliced(by_id[other])
                     for a in rules.alerts.get(other, ()) for c in a.conditions), default=0)
        eval_steps = max(10, short // every + 2) + -(-longest_for // every)
        n = eval_steps + 5
        budget = rules.budgets[oid]
        names = list(dict.fromkeys(a.name for other in readers for a in rules.alerts.get(other, ()) if a.conditions))
        for case, ratio in _cases(o, budget):
            bad = int(round(total * ratio))
            actual = bad / total
            firing = [(other, a) for other in readers for a in rules.alerts.get(other, ())
                      if a.conditions and _fires(rules, other, a, _effective(by_id[other], actual))]
            fired = [sev for sev in ("page", "ticket") if any(a.severity == sev for other, a in firing if other == oid)]
            tests.append({
                "name": f"{oid}: {case} (bad ratio {number(actual)}{_slice_note(o, actual)}, budget {number(budget)}) "
                        "fires "
                        f"{', '.join(fired) or 'nothing'}" + "".join(
                            f"; {other} (same counters) fires "
                            f"{', '.join(dict.fromkeys(a.severity for o2, a in firing if o2 == other))}"
                            for other in dict.fromkeys(o2 for o2, _ in firing if o2 != oid)),
                "interval": prom_duration(every),
                "input_series": _series(spec, o, rules.labels, bad, total, n, rules, actual),
                "alert_rule_test": [{
                    "eval_time": prom_duration(eval_steps * every), "alertname": name,
                    "exp_alerts": [{"exp_labels": a.labels, "exp_annotations": rendered(
                        a.rule["annotations"], a.labels, _effective(by_id[other], actual) / rules.budgets[other])}
                                   for other, a in firing if a.name == name],
                } for name in names],
            })
    for extra in (_absent_test(rules, every), _traffic_test(rules, spec, every)):
        if extra is not None:
            tests.append(extra)
    # promtool evaluates the groups it is not told the order of in a random order at each step, so an
    # alert could read the previous step's records and fire a step late: records, then the metadata
    # read from them, then the alerts, as a running Prometheus settles to.
    stages = ("-recordings", "-meta", "-alerts")
    names = [g["name"] for g in rules.doc["groups"]]
    order = sorted(names, key=lambda n: next((i for i, s in enumerate(stages) if n.endswith(s)), len(stages)))
    doc = {"rule_files": [rule_file], "evaluation_interval": prom_duration(every), "group_eval_order": order,
           "tests": tests}
    head = (f"# promtool test rules for {rule_file}, generated by loadgate: a breach fires, "
            "a healthy series stays silent, no series at all fires the absent alert, flat counters the traffic "
            "floor.\n")
    return head + dump_yaml(doc)
