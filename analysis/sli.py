"""Pure SLI math on numbers: histograms, evidence bounds, time slices and burn rates.

No I/O and no Prometheus here; inputs are plain floats, so every function is unit-tested
directly. Both sources (``prom_source`` and ``client_source``) only fetch counts and call
these functions, so the two sides of a run are computed by the same maths. Conventions:

* latency bounds are seconds; a ``Histogram`` is cumulative and ends with the ``+Inf`` bucket;
* ratios are in [0, 1]; a *bad ratio* is bad events over all events;
* timestamps are Unix seconds (floats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

__all__ = [
    "BURN_WINDOW_S",
    "NO_SERIES",
    "NO_EVENTS",
    "NO_INF_BUCKET",
    "SHORT_WINDOW",
    "NEEDS_PROMETHEUS",
    "NOT_ONE_SERIES",
    "NOT_A_NUMBER",
    "Problem",
    "Window",
    "Series",
    "SLIData",
    "REL_TOL",
    "close",
    "Histogram",
    "histogram_from_buckets",
    "upper_bound_bad_ratio",
    "Evidence",
    "evidence",
    "Slice",
    "grade_slices",
    "availability_sli",
    "latency_sli",
    "nearest_rank_percentile",
    "record_burn",
    "worst_bad_ratio",
    "rolling_bad_fraction",
]

#: The error-budget burn rate is reported over the worst window of this many seconds.
BURN_WINDOW_S = 300
#: Relative tolerance for comparing measured values with thresholds (float noise from PromQL).
REL_TOL = 1e-9
#: One-sided normal quantile for 95 % confidence.
_Z95 = 1.6448536269514722

# Why an SLI has nothing to grade: codes that reports and tools decide from (the message is prose).
NO_SERIES = "no_series"              # no series match the selector
NO_EVENTS = "no_events"              # series exist, but counted nothing in the window
NO_INF_BUCKET = "no_inf_bucket"      # a histogram without its +Inf bucket
SHORT_WINDOW = "short_window"        # the window is shorter than one availability slice
NEEDS_PROMETHEUS = "needs_prometheus"  # a PromQL objective graded from the client side
NOT_ONE_SERIES = "not_one_series"    # a single-value query returned several series
NOT_A_NUMBER = "not_a_number"        # a query returned NaN


def close(a: float, b: float) -> bool:
    """True when two measured values are equal up to float noise (99.99999999999999 == 100)."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


@dataclass(frozen=True)
class Histogram:
    """A cumulative histogram: ``cumulative[i]`` observations were ``<= bounds[i]``.

    ``bounds`` ascend and end with ``+inf``; ``cumulative`` never decreases.
    """

    bounds: tuple[float, ...]
    cumulative: tuple[float, ...]

    @property
    def count(self) -> float:
        """All observations (the ``+Inf`` bucket)."""
        return self.cumulative[-1] if self.cumulative else 0.0

    @property
    def valid(self) -> bool:
        """A usable histogram has at least two buckets and ends with ``+Inf``."""
        return len(self.bounds) >= 2 and math.isinf(self.bounds[-1])

    def bound_index(self, threshold: float) -> int | None:
        """The index of the bucket whose upper bound equals ``threshold``, if there is one."""
        for i, bound in enumerate(self.bounds):
            if close(bound, threshold):
                return i
        return None

    def count_above(self, threshold: float) -> float | None:
        """Observations ``> threshold``, or None when ``threshold`` is no bucket bound."""
        index = self.bound_index(threshold)
        return None if index is None else self.count - self.cumulative[index]

    def fraction_at_or_below(self, threshold: float) -> float | None:
        """The exact fraction of observations ``<= threshold``, or None when it is no bucket bound."""
        index = self.bound_index(threshold)
        if index is None or self.count <= 0:
            return None
        return self.cumulative[index] / self.count

    def quantile_bucket(self, q: float) -> tuple[float, float]:
        """``(lower, upper]``: the bucket the q-quantile lies in (Prometheus's choice of bucket)."""
        rank = q * self.count
        for i, cum in enumerate(self.cumulative):
            if cum >= rank:
                lower = self.bounds[i - 1] if i > 0 else 0.0
                return lower, self.bounds[i]
        return self.bounds[-2], self.bounds[-1]

    def quantile(self, q: float) -> float:
        """The q-quantile as ``histogram_quantile`` in Prometheus 2.42 estimates it.

        Linear interpolation inside the bucket; a quantile in the ``+Inf`` bucket returns the
        highest finite bound; no observations give NaN.
        """
        if not self.valid or self.count <= 0 or math.isnan(q):
            return math.nan
        if q < 0:
            return -math.inf
        if q > 1:
            return math.inf
        rank = q * self.count
        b = next(i for i, cum in enumerate(self.cumulative) if cum >= rank)
        if b == len(self.bounds) - 1:
            return self.bounds[-2]
        if b == 0 and self.bounds[0] <= 0:
            return self.bounds[0]
        start, end, count = 0.0, self.bounds[b], self.cumulative[b]
        if b > 0:
            start = self.bounds[b - 1]
            count -= self.cumulative[b - 1]
            rank -= self.cumulative[b - 1]
        return start + (end - start) * (rank / count)


def histogram_from_buckets(buckets: Iterable[tuple[str | float, float]]) -> Histogram:
    """Build a ``Histogram`` from ``(le, cumulative count)`` pairs, as a ``sum by (le)`` returns them.

    Bounds spelled differently (``1`` and ``1.0``) are merged, and the counts are made
    monotonic the way Prometheus does, since ``increase`` extrapolates each series on its own.
    """
    merged: dict[float, float] = {}
    for le, value in buckets:
        bound = float(le)
        if math.isnan(value):
            continue
        merged[bound] = merged.get(bound, 0.0) + value
    bounds = tuple(sorted(merged))
    cumulative: list[float] = []
    running = 0.0
    for bound in bounds:
        running = max(running, merged[bound])
        cumulative.append(running)
    return Histogram(bounds, tuple(cumulative))


def upper_bound_bad_ratio(bad: float, events: float) -> tuple[float | None, str]:
    """The one-sided 95 % upper confidence bound on the bad ratio, and the method used.

    With no bad events it is the rule of three, 3/N. Otherwise the Wilson score bound, a
    closed form that stays sound for millions of events. None when there are no events.
    """
    if events <= 0:
        return None, "none"
    if bad <= 0:
        return min(1.0, 3.0 / events), "rule_of_three"
    p = min(1.0, bad / events)
    z2 = _Z95 * _Z95
    centre = p + z2 / (2 * events)
    spread = _Z95 * math.sqrt(p * (1 - p) / events + z2 / (4 * events * events))
    return min(1.0, (centre + spread) / (1 + z2 / events)), "wilson"


@dataclass(frozen=True)
class Evidence:
    """How much a window proves about a ratio objective.

    ``demonstrated`` is True when the 95 % upper bound on the bad ratio is within the allowed
    bad ratio; ``events_needed`` is the smallest event count that could demonstrate the target
    with zero bad events (3 / allowed).
    """

    events: float
    bad: float
    bad_ratio_upper_95: float | None
    method: str
    allowed_bad_ratio: float
    demonstrated: bool
    events_needed: float | None


def evidence(bad: float, events: float, allowed_bad_ratio: float) -> Evidence:
    """Evidence for ``bad`` of ``events`` against an allowed bad ratio (the error budget)."""
    upper, method = upper_bound_bad_ratio(bad, events)
    demonstrated = upper is not None and (upper < allowed_bad_ratio or close(upper, allowed_bad_ratio))
    needed = math.ceil(3.0 / allowed_bad_ratio) if allowed_bad_ratio > 0 else None
    return Evidence(events=events, bad=bad, bad_ratio_upper_95=upper, method=method,
                    allowed_bad_ratio=allowed_bad_ratio, demonstrated=demonstrated, events_needed=needed)


@dataclass(frozen=True)
class Slice:
    """One availability time slice ``(end - seconds, end]``.

    ``good`` is True when every ``up`` sample in it was 1 and its 5xx ratio was within the
    limit. ``reason`` says why a bad slice is bad.
    """

    end: float
    good: bool
    up_min: float | None
    errors: float
    requests: float
    reason: str = ""


def grade_slices(ends: Sequence[float], up_min: Mapping[float, float], errors: Mapping[float, float],
                 requests: Mapping[float, float], max_error_ratio: float, *, no_up: str = "no up samples",
                 errors_name: str = "5xx ratio") -> list[Slice]:
    """Grade each slice ending at ``ends``.

    A slice with no ``up`` sample at all is bad: nothing shows the service was up. A slice
    with no requests but ``up`` at 1 is good. A missing 5xx value counts as zero errors.
    ``no_up`` and ``errors_name`` word the reasons for the source's view (the client side has
    "no responses" and a "failure ratio").
    """
    out: list[Slice] = []
    for end in ends:
        up = up_min.get(end)
        req = max(0.0, requests.get(end, 0.0))
        err = max(0.0, errors.get(end, 0.0))
        ratio = err / req if req > 0 else 0.0
        if up is None or math.isnan(up):
            out.append(Slice(end, False, None, err, req, no_up))
        elif up < 1:
            out.append(Slice(end, False, up, err, req, "target down (up=0)"))
        elif ratio > max_error_ratio and not close(ratio, max_error_ratio):
            out.append(Slice(end, False, up, err, req, f"{errors_name} {ratio:.2%}"))
        else:
            out.append(Slice(end, True, up, err, req))
    return out


def availability_sli(slices: Sequence[Slice], slice_s: int, max_error_ratio: float, window_s: float) -> SLIData:
    """Availability as good slices over all slices of ``slice_s`` seconds, with its burn and chart.

    The worst burn is the bad-slice fraction over any run of slices spanning ``BURN_WINDOW_S``.
    """
    n = len(slices)
    good = sum(1 for s in slices if s.good)
    data = SLIData(value=good / n, events=float(n), bad=float(n - good))
    data.detail.update({
        "slice_seconds": slice_s,
        "slices": n,
        "good_slices": good,
        "max_error_ratio": max_error_ratio,
        "resolution": 1.0 / n,
        "bad_slices": [{"end": s.end, "reason": s.reason} for s in slices if not s.good],
    })
    if window_s > n * slice_s:
        data.detail["unsliced_seconds"] = window_s - n * slice_s
    per_burn = max(1, int(round(BURN_WINDOW_S / slice_s)))
    data.worst_bad_ratio = max(rolling_bad_fraction([s.good for s in slices], per_burn))
    data.series.append(Series("good slice", "bool", tuple((s.end, 1.0 if s.good else 0.0) for s in slices)))
    return data


def latency_sli(hist: Histogram, quantile: float, threshold_s: float) -> SLIData:
    """The latency SLI of a merged histogram: its events, the quantile estimate (as
    ``histogram_quantile`` computes it) and the requests slower than the threshold, when the
    threshold is a bucket bound (otherwise ``bad`` stays None and the grader decides by bucket)."""
    data = SLIData(histogram=hist, events=hist.count)
    data.detail["buckets"] = [[b, c] for b, c in zip(hist.bounds, hist.cumulative)]
    if hist.count <= 0:
        data.problem = Problem(NO_EVENTS, "no requests in the window")
        return data
    data.value = hist.quantile(quantile)
    data.bad = hist.count_above(threshold_s)
    return data


def nearest_rank_percentile(counts: Mapping[float, float], q: float) -> float | None:
    """The q-quantile by nearest rank over ``{value: count}`` (as Locust computes percentiles).

    Values are returned as given (the load generator keeps milliseconds); None without counts.
    """
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1.0, math.ceil(q * total - 1e-9))
    running = 0.0
    for value in sorted(counts):
        running += counts[value]
        if running >= rank:
            return value
    return max(counts)


def worst_bad_ratio(windows: Iterable[tuple[float, float]]) -> float | None:
    """The highest bad/total over ``(bad, total)`` windows; windows without events or with an
    unknown (NaN) bad count are skipped. None when no window counts."""
    ratios = [bad / total for bad, total in windows if total > 0 and not math.isnan(bad)]
    return max(ratios) if ratios else None


def record_burn(data: SLIData, window_s: float, windows: Callable[[], Iterable[tuple[float, float]]]) -> None:
    """Set ``data.worst_bad_ratio``: over every ``BURN_WINDOW_S`` window inside the graded one.

    A graded window shorter than that has one burn window, itself: its own bad ratio, with a
    note saying so, and ``windows`` (which may query a source) is not called.
    """
    if window_s < BURN_WINDOW_S:
        data.detail["burn_note"] = (f"the window is shorter than {BURN_WINDOW_S // 60} min, "
                                    "so the burn rate is the whole window's")
        if data.events and data.bad is not None:
            data.worst_bad_ratio = data.bad / data.events
        return
    data.worst_bad_ratio = worst_bad_ratio(windows())


def rolling_bad_fraction(flags: Sequence[bool], width: int) -> list[float]:
    """For good/bad flags in time order, the bad fraction over every run of ``width`` slices."""
    if not flags:
        return []
    width = max(1, min(width, len(flags)))
    bad = [0 if good else 1 for good in flags]
    window = sum(bad[:width])
    out = [window / width]
    for i in range(width, len(bad)):
        window += bad[i] - bad[i - width]
        out.append(window / width)
    return out


@dataclass(frozen=True)
class Window:
    """The graded window ``(start, end]`` in Unix seconds (whole seconds)."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Series:
    """One chart line: ``points`` are ``(unix seconds, value)`` in the series' ``unit``."""

    name: str
    unit: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Problem:
    """Why an SLI cannot be graded: a code (``NO_SERIES``...), a sentence, and the status it
    gives the objective (``no_data``, or ``inconclusive`` when data exists but cannot decide)."""

    code: str
    message: str
    status: str = "no_data"


@dataclass
class SLIData:
    """What one objective's SLI measured over the window.

    ``value`` is in the objective's unit; ``events``/``bad`` count events for ratio SLIs;
    ``worst_bad_ratio`` is the highest bad ratio over any ``BURN_WINDOW_S`` window (the grader
    turns it into a burn rate). ``problem`` says why there is nothing to grade.
    """

    value: float | None = None
    events: float | None = None
    bad: float | None = None
    histogram: Histogram | None = None
    worst_bad_ratio: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    series: list[Series] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    problem: Problem | None = None
