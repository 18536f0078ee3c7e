"""Did the newest run regress against the baseline runs? A calibrated test per objective. Pure.

Each objective is tested on its counts against the baseline runs' pooled counts, one-sided: latency
as the share of requests over the bucket bound at its quantile (Fisher's exact test; the effect is
the change of the interpolated quantile), error rate, cache hit rate and availability as bad shares
(Fisher's exact test), throughput as two Poisson rates (the conditional binomial test); PromQL
objectives have no per-event counts and are always ``inconclusive``. Two or more baseline runs give
an over-dispersion estimate (Pearson chi-square over k - 1, floored at 1) that divides every count
(quasi-binomial), with the p-value read from Student's t on k - 1 df. ``regressed`` needs a
significant worse change of at least the minimum effect (the tolerance of the kind); data that could
not see the minimum effect with power ``POWER`` is ``inconclusive``. See docs/regressions.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from slo.regression_input import Evidence, evidence_of


def _stats() -> Any:
    """scipy.stats, imported on first use: it takes most of a second, and every command line
    (``loadgate --help`` included) would pay for it otherwise."""
    from scipy import stats

    return stats

__all__ = ["VERDICTS", "DEFAULT_ALPHA", "POWER", "DEFAULT_TOLERANCES", "Evidence", "Comparison", "evidence_of",
           "compare", "compare_docs"]

VERDICTS = ("regressed", "improved", "unchanged", "inconclusive")
DEFAULT_ALPHA = 0.05
POWER = 0.8
#: The minimum effect per kind, relative (availability 0: the target's allowed bad share).
DEFAULT_TOLERANCES = {"latency": 0.10, "error_rate": 0.50, "throughput": 0.10, "cache_hit_rate": 0.10,
                      "availability": 0.0, "promql_ratio": 0.10, "promql_value": 0.10}
SHARE_KINDS = ("error_rate", "cache_hit_rate", "availability")
MAX_MORE_TIME = 100.0
_INF = math.inf


@dataclass(frozen=True)
class Comparison:
    """One objective's verdict against the baseline runs. Relative figures are fractions
    (0.1 = 10 %); ``detectable`` and ``min_effect`` are magnitudes in the worse direction."""

    objective: str
    verdict: str
    effect: float | None
    p_value: float | None
    significant: bool
    min_effect: float
    detectable: float | None
    more_time: float | None
    method: str
    baseline_runs: int
    baseline: float | None
    current: float | None
    dispersion: float
    note: str

    def to_json(self) -> dict[str, Any]:
        """A plain dict; NaN and infinities become None."""
        return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in vars(self).items()}


def _tested(pairs: Sequence[tuple[float, float]], share: bool, alpha: float) -> tuple[float, int | None, float]:
    """The runs' over-dispersion: Pearson chi-square over k - 1 of their (bad, events) shares, or
    (count, seconds) rates, floored at 1; the degrees of freedom of that estimate where it is applied
    (> 1); and the one-sided critical value: Student's t on them, else the normal's."""
    events, phi = sum(n for _, n in pairs), 1.0
    p = sum(b for b, _ in pairs) / events if events > 0 else 0.0
    if len(pairs) >= 2 and p > 0 and not (share and p >= 1):
        chi2 = sum((b - n * p) ** 2 / (n * p * ((1 - p) if share else 1.0)) for b, n in pairs if n > 0)
        phi = max(1.0, chi2 / (len(pairs) - 1))
    df = len(pairs) - 1 if phi > 1 else None
    return phi, df, float(_stats().t.isf(alpha, df)) if df is not None else float(_stats().norm.isf(alpha))


def _corrected(p: float, df: int | None) -> float:
    """A one-sided p-value read from Student's t on ``df`` where the dispersion was estimated."""
    return p if df is None else float(_stats().t.sf(_stats().norm.isf(min(max(p, 1e-300), 1.0)), df))


def _fisher(bad_c: float, n_c: float, bad_b: float, n_b: float, phi: float, df: int | None) -> tuple[float, float]:
    """One-sided p-values (current share higher, lower) of Fisher's exact test on the counts divided by ``phi``."""
    a, n, c, m = (int(round(x / phi)) for x in (bad_c, n_c, bad_b, n_b))
    n, m = max(n, a, 1), max(m, c, 1)
    return (_corrected(float(_stats().hypergeom.sf(a - 1, n + m, a + c, n)), df),
            _corrected(float(_stats().hypergeom.cdf(a, n + m, a + c, n)), df))


def _power_shares(p_b: float, p_a: float, n_c: float, n_b: float, crit: float) -> float:
    """Power of a one-sided two-proportion test (normal approximation) to see ``p_b`` -> ``p_a``."""
    if n_c <= 0 or n_b <= 0 or p_a == p_b:
        return 0.0
    pooled = (n_c * p_a + n_b * p_b) / (n_c + n_b)
    null_se = math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n_c + 1 / n_b))
    alt_se = math.sqrt(p_a * (1 - p_a) / n_c + p_b * (1 - p_b) / n_b)
    if alt_se == 0:
        return 1.0
    return float(_stats().norm.cdf((abs(p_a - p_b) - crit * null_se) / alt_se))


@dataclass(frozen=True)
class _Test:
    """A kind's test: p-values of the measured value up and down, the values, ``power(scale of the
    current run, absolute worse change)``, the largest worse change, and what was tested."""

    p_up: float
    p_down: float
    base: float
    cur: float
    power: Callable[[float, float], float]
    max_change: float
    method: str


def _bounds(runs: Sequence[Evidence]) -> list[float]:
    common: set[float] | None = None
    for run in runs:
        mine = {_INF if le is None else le for le, _ in run.buckets or ()}
        common = mine if common is None else common & mine
    return sorted((common or set()) | {_INF})


def _cumulative(run: Evidence, bounds: list[float]) -> list[float]:
    table = {(_INF if le is None else le): c for le, c in run.buckets or ()}
    if _INF not in table:
        table[_INF] = run.events or max(table.values(), default=0)
    return [float(table[b]) for b in bounds]


def _quantile(bounds: list[float], cum: list[float], q: float) -> float:
    """The q-quantile, interpolated in its bucket as a power-law tail (log latency linear in the log of
    the share over it), which follows a latency tail far closer than a straight line; linear in the
    first bucket (from 0) and where no request lies beyond the bucket. In the +Inf bucket: its lower bound."""
    total, lo, lo_c = cum[-1], 0.0, 0.0
    rank = q * total
    for le, c in zip(bounds, cum):
        if c >= rank and c > 0:
            if le == _INF:
                return lo
            if lo > 0 and total > c and q < 1:
                tail = math.log((total - lo_c) / (total - rank)) / math.log((total - lo_c) / (total - c))
                return float(lo * (le / lo) ** tail)
            return lo + (le - lo) * (rank - lo_c) / (c - lo_c) if c > lo_c else le
        lo, lo_c = le, c
    return lo


def _share_over(bounds: list[float], cum: list[float], x: float) -> float:
    """The share of requests over ``x`` seconds, interpolated as ``_quantile`` does."""
    total, lo, lo_c = cum[-1], 0.0, 0.0
    for le, c in zip(bounds, cum):
        if x <= le:
            if le == _INF:
                return (total - lo_c) / total
            if lo > 0 and total > c:
                tail = math.log(x / lo) / math.log(le / lo)
                return float((total - lo_c) / total * ((total - c) / (total - lo_c)) ** tail)
            return 1.0 - (lo_c + (c - lo_c) * (x - lo) / (le - lo)) / total
        lo, lo_c = le, c
    return 0.0


def _latency(current: Evidence, baselines: Sequence[Evidence], alpha: float, up_is_worse: bool) -> tuple[_Test, float]:
    bounds = _bounds([current, *baselines])
    runs = [_cumulative(b, bounds) for b in baselines]
    base_cum = [sum(col) for col in zip(*runs)]
    cur_cum = _cumulative(current, bounds)
    q = float(current.quantile or 0.99)
    finite = [b for b in bounds if b != _INF] or [0.0]
    n_b, n_c, base_q = base_cum[-1], cur_cum[-1], _quantile(bounds, base_cum, q)
    # Tested over the bound above the pooled quantile (which favours neither side) and, as tails can
    # cross (a slower middle, a shorter extreme) or a shift can jump buckets, over the two bounds
    # around each side's own quantile too; the smallest p counts once per bound tested (Bonferroni).
    pooled = _quantile(bounds, [a + b for a, b in zip(base_cum, cur_cum)], q)
    picks = sorted({next((x for x in finite if x >= pooled), finite[-1])}
                   | {x for at in (base_q, _quantile(bounds, cur_cum, q))
                      for x in (next((x for x in finite if x >= at), finite[-1]),
                                max((x for x in finite if x < at), default=finite[0]))})
    tests = []
    for b in picks:
        i = bounds.index(b) if b in bounds else 0
        phi, df, crit = _tested([(r[-1] - r[i], r[-1]) for r in runs], True, alpha / len(picks))
        tests.append((*_fisher(n_c - cur_cum[i], n_c, n_b - base_cum[i], n_b, phi, df), b, i, phi, crit))
    p_up, p_down = (min(1.0, len(tests) * min(t[k] for t in tests)) for k in (0, 1))
    # The power is the pooled bound's, at the corrected level.
    _, _, b, i, phi, crit = next(t for t in tests if t[2] == next((x for x in finite if x >= pooled), finite[-1]))
    share_b = (n_b - base_cum[i]) / n_b

    def power(scale: float, change: float) -> float:
        factor = 1 + (change if up_is_worse else -change) / base_q if base_q > 0 else 1.0
        alt = _share_over(bounds, base_cum, b / factor) if factor > 0 else 1.0
        return _power_shares(share_b, alt, n_c * scale / phi, n_b / phi, crit)

    return _Test(p_up, p_down, base_q, _quantile(bounds, cur_cum, q), power,
                 10 * base_q, f"requests over {' and '.join(f'{t[2] * 1000:g}' for t in tests)} ms, Fisher's "
                 f"exact test, one-sided{', Bonferroni' if len(tests) > 1 else ''}"), phi


def _shares(current: Evidence, baselines: Sequence[Evidence], alpha: float, up_is_worse: bool) -> tuple[_Test, float]:
    assert current.bad is not None and current.events is not None
    pairs = [(float(b.bad or 0), float(b.events or 0)) for b in baselines]
    phi, df, crit = _tested(pairs, True, alpha)
    bad_b, n_b, n_c = sum(b for b, _ in pairs), sum(n for _, n in pairs), float(current.events)
    p_up, p_down = _fisher(current.bad, n_c, bad_b, n_b, phi, df)
    share_b, share_c = bad_b / n_b, current.bad / n_c
    flip = current.kind != "error_rate"  # the measured value is the good share: 1 - the bad share

    def value(share: float) -> float:  # its own inverse
        return 1 - share if flip else share

    def power(scale: float, change: float) -> float:
        alt = value(value(share_b) + (change if up_is_worse else -change))
        return _power_shares(share_b, min(max(alt, 0.0), 1.0), n_c * scale / phi, n_b / phi, crit)

    what = {"error_rate": "5xx share of requests", "cache_hit_rate": "miss share of cache lookups",
            "availability": "bad share of slices"}[current.kind]
    # p-values follow the measured value: for a good share, "up" means fewer bad events.
    p_hi, p_lo = (p_down, p_up) if flip else (p_up, p_down)
    return _Test(p_hi, p_lo, value(share_b), value(share_c), power,
                 1 - value(share_b) if up_is_worse else value(share_b),
                 f"{what}, Fisher's exact test, one-sided"), phi


def _throughput(current: Evidence, baselines: Sequence[Evidence], alpha: float,
                up_is_worse: bool) -> tuple[_Test, float]:
    assert current.events is not None and current.seconds
    pairs = [(float(b.events or 0), float(b.seconds or 0)) for b in baselines]
    phi, df, crit = _tested(pairs, False, alpha)
    x_b, t_b, t_c = sum(x for x, _ in pairs), sum(t for _, t in pairs), current.seconds
    x_c, n, share0 = round(current.events / phi), round(current.events / phi) + round(x_b / phi), t_c / (t_c + t_b)
    p_up, p_down = (_corrected(float(_stats().binom.sf(x_c - 1, n, share0)), df),
                    _corrected(float(_stats().binom.cdf(x_c, n, share0)), df))
    rate_b = x_b / t_b

    def power(scale: float, change: float) -> float:
        ratio = max(1 + (change if up_is_worse else -change) / rate_b, 0.0)
        mu_c, mu_b, null = rate_b * ratio * t_c * scale / phi, x_b / phi, t_c * scale / (t_c * scale + t_b)
        alt = mu_c / (mu_c + mu_b)
        spread = math.sqrt(alt * (1 - alt)) or 1e-300
        z = (abs(alt - null) * math.sqrt(mu_c + mu_b) - crit * math.sqrt(null * (1 - null))) / spread
        return float(_stats().norm.cdf(z))

    return _Test(p_up, p_down, rate_b, current.events / t_c, power,
                 10 * rate_b if up_is_worse else rate_b,
                 "requests per second, conditional binomial test of two Poisson rates, one-sided"), phi


def _usable(e: Evidence) -> bool:
    if e.kind == "latency":
        return max((c for _, c in e.buckets or ()), default=0) > 0
    if e.kind in SHARE_KINDS:
        return e.bad is not None and e.events is not None and 0 <= e.bad <= e.events and e.events > 0
    return e.kind == "throughput" and e.events is not None and bool(e.seconds) and (e.seconds or 0) > 0


def _label(e: Evidence, objective: str) -> str:
    return f"p{(e.quantile or 0.99) * 100:g}" if e.kind == "latency" else \
        {"error_rate": "error rate", "cache_hit_rate": "cache hit rate"}.get(e.kind, e.kind)


def _search(ok: Callable[[float], bool], lo: float, hi: float, geometric: bool = False) -> float | None:
    """The smallest x in (lo, hi] with ``ok(x)`` (``ok`` monotone), or None when ``ok(hi)`` fails."""
    if not ok(hi):
        return None
    for _ in range(40):
        mid = math.sqrt(lo * hi) if geometric else (lo + hi) / 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def _needed(e: Evidence, base: float, min_effect: float) -> tuple[float, str]:
    """The minimum worse change of the measured value (absolute), and why when it is not the tolerance."""
    needed = min_effect * abs(base)
    if e.kind == "error_rate" and e.target and e.target / 10 > needed:
        return e.target / 10, f"the minimum effect is {e.target / 10:.3g}, a tenth of the allowed error rate"
    if e.kind == "availability" and min_effect <= 0 and e.target is not None and e.target < 1:
        return 1 - e.target, f"the minimum effect is the target's allowed bad share, {(1 - e.target) * 100:.3g} %"
    return needed, ""


def _untestable(objective: str, current: Evidence, baselines: Sequence[Evidence], min_effect: float,
                why: str) -> Comparison:
    values = [b.measured for b in baselines if b.measured is not None]
    base, cur = sum(values) / len(values) if values else None, current.measured
    return Comparison(objective, "inconclusive", (cur - base) / abs(base) if cur is not None and base else None,
                      None, False, min_effect, None, None, "no per-event counts", len(baselines), base, cur, 1.0,
                      f"{_label(current, objective)}: not tested for a regression, {why}: inconclusive")


def compare(objective: str, current: Evidence, baselines: Sequence[Evidence], *,
            alpha: float = DEFAULT_ALPHA, min_effect: float) -> Comparison:
    """The newest run's ``current`` evidence against the ``baselines`` (other runs of the same
    objective, pooled); ``min_effect`` is the tolerance of the kind, relative (0.1 = 10 %)."""
    usable = [b for b in baselines if b.kind == current.kind and _usable(b)]
    if current.kind.startswith("promql"):
        return _untestable(objective, current, baselines, min_effect, "as a PromQL objective has no per-event counts")
    if not _usable(current) or not usable:
        return _untestable(objective, current, baselines, min_effect,
                           "as the counts behind it are missing from this run or the baseline runs")
    up_is_worse = current.op in ("<", "<=")
    run = _latency if current.kind == "latency" else _throughput if current.kind == "throughput" else _shares
    test, phi = run(current, usable, alpha, up_is_worse)
    change = test.cur - test.base
    worse = change if up_is_worse else -change
    effect = change / abs(test.base) if test.base else None
    p_worse, p_better = (test.p_up, test.p_down) if up_is_worse else (test.p_down, test.p_up)
    went_worse = worse > 0 or (worse == 0 and p_worse < p_better)
    p = min(p_worse if went_worse else p_better, 1.0)
    significant = p < alpha
    needed, why = _needed(current, test.base, min_effect)
    rel_min = needed / abs(test.base) if test.base else min_effect
    found = _search(lambda c: test.power(1.0, c) >= POWER, 0.0, test.max_change) if test.max_change > 0 else None
    detectable = found / abs(test.base) if found is not None and test.base else None
    powered = needed <= 0 or test.power(1.0, needed) >= POWER
    more_time = None if powered else _search(lambda s: test.power(s, needed) >= POWER, 1.0, MAX_MORE_TIME, True)
    enough = worse >= needed * (1 - 1e-9) if went_worse else -worse >= needed * (1 - 1e-9)
    if significant and enough and (needed > 0 or worse != 0):
        verdict = "regressed" if went_worse else "improved"
    else:
        verdict = "unchanged" if powered else "inconclusive"
    k = len(usable)
    shown = f"{effect * 100:+.3g} %" if effect is not None else f"{test.base:.3g} → {test.cur:.3g}"
    p_text = "p < 0.001" if p < 0.001 else f"p = {p:.2g}"
    note = f"{_label(current, objective)} {shown} ({p_text}, {k} baseline run{'s' if k > 1 else ''}): {verdict}"
    if verdict == "unchanged":
        note += (f" (significant, but below the minimum effect of {abs(rel_min) * 100:.3g} %)" if significant else
                 " (no minimum effect was set, so its power was not assessed)" if needed <= 0 else "")
    if verdict == "inconclusive":
        sees = f"sees {detectable * 100:.3g} % at best" if detectable is not None else "cannot see it"
        note += f", as this data {sees}, not the minimum effect of {abs(rel_min) * 100:.3g} %"
        note += (f"; a run about {more_time:.2g}x as long would see it" if more_time is not None else
                 "; the baseline runs are too short to see it even with a run 100x as long (add or lengthen them)")
    if why:
        note += f"; {why}"
    note += "; run-to-run variation was not estimated (add baseline runs)" if k == 1 else (
        f"; the baseline runs vary {phi:.3g}x more than chance, which is allowed for" if phi > 1 else "")
    method = test.method + (f", counts divided by the between-run over-dispersion {phi:.3g}, "
                            f"Student's t on {k - 1} df" if phi > 1 else "")
    return Comparison(objective, verdict, effect, p, significant, rel_min, detectable, more_time, method, k,
                      test.base, test.cur, phi, note)


def compare_docs(current_doc: dict[str, Any], baseline_docs: Sequence[dict[str, Any]], *,
                 alpha: float = DEFAULT_ALPHA, tolerances: dict[str, float] | None = None) -> dict[str, Comparison]:
    """Per objective id the current doc and at least one baseline doc both graded (matched by id and
    kind, with a measured value), in the current doc's order. Window length from doc["window"]["seconds"];
    ``tolerances`` (kind -> relative minimum effect) over ``DEFAULT_TOLERANCES``."""
    minimum = {**DEFAULT_TOLERANCES, **(tolerances or {})}

    def seconds(doc: dict[str, Any]) -> float | None:
        return float(v) if isinstance(v := (doc.get("window") or {}).get("seconds"), (int, float)) else None

    tables = [({e.get("id"): e for e in doc.get("objectives") or []}, seconds(doc)) for doc in baseline_docs]
    out: dict[str, Comparison] = {}
    for entry in current_doc.get("objectives") or []:
        if (oid := entry.get("id")) is None or entry.get("measured") is None:
            continue
        olds = [evidence_of(table[oid], secs) for table, secs in tables if oid in table
                and table[oid].get("measured") is not None and table[oid].get("kind") == entry.get("kind")]
        if olds:
            out[str(oid)] = compare(str(oid), evidence_of(entry, seconds(current_doc)), olds, alpha=alpha,
                                    min_effect=minimum.get(str(entry.get("kind")), 0.10))
    return out
