"""The internal SLO model: what a spec means once parsed, independent of its YAML spelling.

Invariants:
* thresholds are stored in base units: seconds for latency, ratios in [0, 1] (never percentages)
  for error rate, cache hit rate, availability and generic ratios, events per second for
  throughput;
* ``Target.op`` is one of ``<``, ``<=``, ``>``, ``>=``; a warn value lies on the passing side of
  the target and is compared with the same operator;
* every objective remembers the spec line it came from, so later errors can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from analysis.queries import Metrics, Selector

__all__ = [
    "KINDS",
    "RATIO_KINDS",
    "UPPER_BOUND_KINDS",
    "LOWER_BOUND_KINDS",
    "Target",
    "Metrics",
    "Objective",
    "Spec",
    "unit_of",
    "BUDGETING_METHODS",
    "Labels",
    "Routing",
    "Alerting",
    "PolicyCondition",
    "AlertPolicy",
    "WindowSpec",
    "MinTraffic",
]

LATENCY = "latency"
ERROR_RATE = "error_rate"
THROUGHPUT = "throughput"
CACHE_HIT_RATE = "cache_hit_rate"
AVAILABILITY = "availability"
PROMQL_RATIO = "promql_ratio"
PROMQL_VALUE = "promql_value"
#: The share of a query's points (or time slices) that meet a per-point comparison: OpenSLO's
#: ``thresholdMetric``. Only an OpenSLO spec makes one.
PROMQL_THRESHOLD = "promql_threshold"
#: Time to recover from a drill's faults (``--fault``), graded from its timeline (``slo.recovery``).
RECOVERY = "recovery"

KINDS = (LATENCY, ERROR_RATE, THROUGHPUT, CACHE_HIT_RATE, AVAILABILITY, PROMQL_RATIO, PROMQL_VALUE, PROMQL_THRESHOLD,
         RECOVERY)
#: Kinds whose SLI is a ratio of events, so they get evidence and an error budget.
RATIO_KINDS = (LATENCY, ERROR_RATE, CACHE_HIT_RATE, AVAILABILITY, PROMQL_RATIO, PROMQL_THRESHOLD)

#: How an objective counts its budget (OpenSLO's ``budgetingMethod``): good events over all
#: events; good time slices over all slices (a slice is good when its own ratio meets
#: ``slice_target``); or the mean of the slices' ratios.
OCCURRENCES = "Occurrences"
TIMESLICES = "Timeslices"
RATIO_TIMESLICES = "RatioTimeslices"
BUDGETING_METHODS = (OCCURRENCES, TIMESLICES, RATIO_TIMESLICES)
#: Kinds where smaller is better: the target is an upper bound.
UPPER_BOUND_KINDS = (LATENCY, ERROR_RATE, RECOVERY)
#: Kinds where bigger is better: the target is a lower bound.
LOWER_BOUND_KINDS = (THROUGHPUT, CACHE_HIT_RATE, AVAILABILITY, PROMQL_THRESHOLD)
#: The operator an objective gets when its threshold names none.
DEFAULT_OPS = {LATENCY: "<", ERROR_RATE: "<", THROUGHPUT: ">=", CACHE_HIT_RATE: ">", AVAILABILITY: ">=",
               PROMQL_THRESHOLD: ">=", RECOVERY: "<"}


def unit_of(kind: str, declared: str | None = None) -> str:
    """The unit of an objective's measured value: ``s``, ``ratio``, ``1/s`` or a declared one."""
    if kind in (LATENCY, RECOVERY):
        return "s"
    if kind == THROUGHPUT:
        return "1/s"
    if kind == PROMQL_VALUE:
        return declared or ""
    return "ratio"



#: Label pairs in the order written: ``(("team", "payments"), ...)``.
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Routing:
    """What one severity's burn-rate alerts carry (``alerting.page`` or ``alerting.ticket``): extra
    labels (which may override ``severity``) and annotations; ``disable`` writes none of them."""

    labels: Labels = ()
    annotations: Labels = ()
    disable: bool = False


@dataclass(frozen=True)
class WindowSpec:
    """One row of a custom windows table (``alerting.windows``, ``--windows FILE``): the bad ratio
    above ``factor`` x budget, or burning ``budget`` (a share of the period's budget, in (0, 1]),
    over both windows (seconds) for ``for_s``; ``severity`` is ``page`` or ``ticket``."""

    severity: str
    long_s: float
    short_s: float
    factor: float | None = None
    budget: float | None = None
    for_s: float = 0.0


@dataclass(frozen=True)
class MinTraffic:
    """``alerting.min_traffic``: alert when the total's rate stays below ``rate`` (events per
    second) for ``for_s``; named ``name`` (default ``SLOTrafficLow``)."""

    rate: float
    for_s: float = 600.0
    name: str | None = None


@dataclass(frozen=True)
class Alerting:
    """An ``alerting:`` map as written; every None is "not given here", so an objective's map is laid
    over the spec's (``over``), and the rule builder applies the defaults."""

    #: False: records only, no alert at all (``alerting: false``).
    enabled: bool | None = None
    #: The burn-rate alert's name (default ``ErrorBudgetBurn``).
    name: str | None = None
    page: Routing | None = None
    ticket: Routing | None = None
    #: The absent alert (default on), its ``for`` in seconds (default 600) and name (default ``SLOMetricAbsent``).
    absent: bool | None = None
    absent_for_s: float | None = None
    absent_name: str | None = None
    #: A custom windows table replacing the built-in one, and what it is called in the header.
    windows: tuple[WindowSpec, ...] | None = None
    windows_name: str | None = None
    #: The traffic floor alert (off unless given; ``min_traffic: false`` turns a spec's off).
    min_traffic: MinTraffic | bool | None = None
    runbook_url: str | None = None

    def over(self, base: "Alerting") -> "Alerting":
        """This map laid over ``base``: each field given here wins."""
        return replace(base, **{f.name: getattr(self, f.name) for f in fields(self)
                                if getattr(self, f.name) is not None})


@dataclass(frozen=True)
class PolicyCondition:
    """One OpenSLO ``AlertCondition`` of kind burnrate: the burn rate (``threshold``) over the long
    window (``lookbackWindow``) and a short one, seconds; ``for_s`` is ``alertAfter``; ``severity``
    as written (the alert's ``severity`` label)."""

    severity: str
    factor: float
    long_s: float
    short_s: float
    for_s: float = 0.0


@dataclass(frozen=True)
class AlertPolicy:
    """An OpenSLO ``AlertPolicy`` as alerts: its name already CamelCased (``CheckoutAvailabilityBurn``),
    its labels and annotations, its conditions, and whether it asks for the absent alert
    (``alertWhenNoData``)."""

    name: str
    labels: Labels = ()
    annotations: Labels = ()
    conditions: tuple[PolicyCondition, ...] = ()
    no_data: bool = False


@dataclass(frozen=True)
class Target:
    """A comparison the measured value must satisfy: ``measured <op> value``."""

    op: str
    value: float

    @property
    def is_upper_bound(self) -> bool:
        """True for ``<``/``<=``: the measured value must stay below ``value``."""
        return self.op in ("<", "<=")


@dataclass(frozen=True)
class Objective:
    """One row of the performance table.

    ``quantile`` is set for latency (0.99 for p99). ``slice_seconds`` and
    ``slice_max_error_ratio`` are set for availability. ``good``/``bad``/``total`` hold
    PromQL templates for ``promql_ratio`` (exactly one of good/bad), ``query`` for
    ``promql_value``; templates may use ``{{window}}`` and ``{{selector}}``.
    """

    id: str
    title: str
    kind: str
    target: Target
    warn: float | None = None
    required: bool = True
    description: str = ""
    quantile: float | None = None
    slice_seconds: float | None = None
    slice_max_error_ratio: float | None = None
    good: str | None = None
    bad: str | None = None
    total: str | None = None
    query: str | None = None
    unit: str = ""
    line: int = 0
    #: ``OCCURRENCES`` for every loadgate/v1 kind; OpenSLO's method for ``promql_ratio`` and
    #: ``promql_threshold`` (``slice_seconds`` then holds ``timeSliceWindow``).
    budgeting: str = OCCURRENCES
    #: A slice is good when its good ratio is at least this (``Timeslices`` of a ratio).
    slice_target: float | None = None
    #: ``promql_threshold``: a point (or slice) is good when ``query <point_op> point_value``.
    point_op: str | None = None
    point_value: float | None = None
    #: How the objective is read when that is not exact (a subquery, a gauge summed), in one sentence.
    note: str = ""
    #: The SLO's own period in seconds (OpenSLO ``timeWindow``); the default of ``loadgate rules``.
    period_s: float | None = None
    #: False when the queries are a user's literal expressions a selector cannot be added to.
    takes_selector: bool = True
    #: The objective's origin for messages: ``spec.yaml:12`` or an OpenSLO document's name.
    origin: str = ""
    #: The ``slo`` label, exactly as written: the id, or an OpenSLO ``metadata.name`` ("" means the id).
    slo_name: str = ""
    #: The ``service`` label: OpenSLO's ``spec.service`` ("" means the spec's).
    service: str = ""
    #: Labels on every record and alert of the objective (OpenSLO: its Service's, then its SLO's).
    labels: Labels = ()
    #: The objective's ``alerting:`` map, laid over the spec's.
    alerting: Alerting = field(default_factory=Alerting)
    #: OpenSLO ``alertPolicies``: these alerts instead of the built-in table (None: the built-in table).
    policies: tuple[AlertPolicy, ...] | None = None
    #: ``group_by``: labels the records and alerts are split by (one burn rate per route).
    group_by: tuple[str, ...] = ()
    #: ``recovery``: the most of the error_rate objective's budget (a share in (0, 1]) one fault may spend.
    budget_share: float | None = None
    #: ``zones: each`` (``EACH``): the objective must hold in every load zone, graded per zone.
    zones: str | None = None

    @property
    def allowed_bad_ratio(self) -> float | None:
        """The error budget as a ratio of events (1 - target), for ratio objectives only.

        For latency pQ < T the budget is the fraction of requests allowed above T (1 - Q).
        For upper-bound ratios such as the error rate it is the threshold itself.
        """
        # Rounded so that 1 - 0.9999 is 0.0001, not 9.999999999998899e-05.
        if self.kind == LATENCY:
            assert self.quantile is not None
            return round(1.0 - self.quantile, 12)
        if self.kind == ERROR_RATE:
            return self.target.value
        if self.kind in (CACHE_HIT_RATE, AVAILABILITY):
            return round(1.0 - self.target.value, 12)
        if self.kind in (PROMQL_RATIO, PROMQL_THRESHOLD):
            return self.target.value if self.target.is_upper_bound else round(1.0 - self.target.value, 12)
        return None


@dataclass(frozen=True)
class Spec:
    """A validated SLO spec: where it came from, its metric names and its objectives in order."""

    version: str
    name: str
    path: str
    objectives: tuple[Objective, ...]
    metrics: Metrics = field(default_factory=Metrics)
    #: The ``metrics:`` fields written in the spec (beside its preset), kept so ``--preset`` can
    #: change the preset under them.
    metrics_overrides: tuple[tuple[str, str], ...] = ()
    selector: str = ""
    description: str = ""
    source_text: str = ""
    #: ``loadgate/v1``, or ``openslo/v1`` for a set of OpenSLO documents.
    format: str = "loadgate/v1"
    #: What was read but is not used (an OpenSLO alert policy, a data source's URL), one line each.
    notes: tuple[str, ...] = ()
    #: The ``service`` label of its rules (loadgate/v1 ``service:``; "" means ``name``).
    service: str = ""
    #: Labels on every record and alert of every objective (loadgate/v1 top-level ``labels:``).
    labels: Labels = ()
    #: The top-level ``alerting:`` map (each objective's is laid over it).
    alerting: Alerting = field(default_factory=Alerting)

    def service_selector(self, *given: str) -> Selector:
        """The matchers every default query carries: the spec's ``selector``, then ``given``
        (``--selector``); the preset's own are added to its request series (``Metrics.request_selector``).
        Raises ``SelectorError``."""
        return Selector.parse(self.selector, *given)
