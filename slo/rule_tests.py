"""``promtool test rules`` unit tests for the rules ``slo.rules`` builds. Pure.

For each alerting objective, two tests: a breach (every window's bad ratio 20x its budget,
capped at 1) fires the severities that can fire, and a healthy series (half its budget) fires
nothing; and with its absent alert, a third: no series at all fires it after its ``for``.
Objectives of the native kinds are fed their raw counters, so the recording rules are tested
along with the alerts; a user's PromQL is fed the recorded ratios, since its series cannot be
invented. ``expected_alerts`` says which severities a bad ratio fires.
"""

from __future__ import annotations

import contract
from analysis import queries as q
from slo import model
from slo.model import Objective, Spec
from slo.rules import RECORD_PREFIX, AlertRule, Rules, dump_yaml, number, prom_duration, sliced

__all__ = ["expected_alerts", "render_tests"]


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
    return [{"series": name(f"{RECORD_PREFIX}{prom_duration(w)}", **rules.identities[o.id]), "values": f"{value}x{n}"}
            for w in windows]


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
    absent = [a for rs in rules.alerts.values() for a in rs if not a.conditions]
    if not absent:
        return None
    steps = max(a.for_s for a in absent) // every + 2
    names = list(dict.fromkeys(a.name for a in absent))
    return {"name": f"no series at all fires {', '.join(names)} for every objective",
            "interval": prom_duration(every),
            "input_series": [{"series": 'loadgate_unrelated{job="none"}', "values": f"1x{steps + 2}"}],
            "alert_rule_test": [{"eval_time": prom_duration(steps * every), "alertname": name,
                                 "exp_alerts": [{"exp_labels": a.labels, "exp_annotations": a.rule["annotations"]}
                                                for a in absent if a.name == name]} for name in names]}


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
        # window is still a ratio), and after the longest ``for`` of the alerts judged.
        longest_for = max(a.for_s for other in readers for a in rules.alerts.get(other, ()) if a.conditions)
        eval_steps = 10 + -(-longest_for // every)
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
                    "exp_alerts": [{"exp_labels": a.labels, "exp_annotations": a.rule["annotations"]}
                                   for _, a in firing if a.name == name],
                } for name in names],
            })
    absent = _absent_test(rules, every)
    if absent is not None:
        tests.append(absent)
    doc = {"rule_files": [rule_file], "evaluation_interval": prom_duration(every), "tests": tests}
    head = (f"# promtool test rules for {rule_file}, generated by loadgate: a breach fires, "
            "a healthy series stays silent, no series at all fires the absent alert.\n")
    return head + dump_yaml(doc)
