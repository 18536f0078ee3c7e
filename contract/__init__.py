"""The contract between the service, the load generator and the analyzer. Dependency-free.

Everything that two of ``demo_api``, ``scenarios`` and ``analysis`` must agree on is written
here once, and each of them imports it:

* the service's metric names (``http_requests_total``, ``http_request_duration_seconds``,
  ``cache_hits_total``, ``cache_misses_total``) and the label holding the status code;
* the SLO histogram buckets (seconds): every threshold of the production table (0.1, 0.4 and
  0.5 s) is a bound, so latency grades exactly;
* the tiers and their published limits (requests per minute per API key);
* how a tier is named in client counts (``free``, ``free_over_limit``) and in Locust user
  class names (``FreeUser``, ``FreeOverLimitUser``), in both directions;
* the load generator's own series (``loadgate_*``) and its client-series file: one JSON
  object a line, a header first, then cumulative snapshots and ``test_start``/``test_stop``
  events. Results are ``ok``, ``failure`` and ``rate_limited`` (a 429 an over-limit key expected);
* the keys file (``contract.keys``): API keys per tier, read by the load generator and the demo API.
"""

from __future__ import annotations

import math

__all__ = [
    "REQUESTS_FAMILY", "REQUESTS", "DURATION", "CACHE_HITS_FAMILY", "CACHE_HITS", "CACHE_MISSES_FAMILY",
    "CACHE_MISSES", "UP", "CODE_LABEL", "SLO_BUCKETS", "format_le",
    "TIER_LIMITS", "TIERS", "OVER_LIMIT_SUFFIX", "tier_label", "tier_of_user_class",
    "OK", "FAILURE", "RATE_LIMITED",
    "CLIENT_RESPONSES_FAMILY", "CLIENT_DURATION", "CLIENT_CORRECTED_DURATION",
    "CLIENT_CACHE_HITS_FAMILY", "CLIENT_CACHE_MISSES_FAMILY",
    "CLIENT_USERS", "CLIENT_TARGET_RATE", "CLIENT_JOB",
    "SERIES_FORMAT", "SERIES_SCHEMA_VERSION", "SERIES_SCHEMA_VERSIONS_READ", "TEST_START", "TEST_STOP",
    "WORKER_LOST", "WORKER_JOINED",
    "SERIES_WRITE_FAILED_EXIT", "ZONE_RULE", "zone_problem",
    "series_header",
]

# -- the service's series (prometheus_client appends ``_total`` to a counter's family name) --------
REQUESTS_FAMILY = "http_requests"
REQUESTS = f"{REQUESTS_FAMILY}_total"
DURATION = "http_request_duration_seconds"
CACHE_HITS_FAMILY = "cache_hits"
CACHE_HITS = f"{CACHE_HITS_FAMILY}_total"
CACHE_MISSES_FAMILY = "cache_misses"
CACHE_MISSES = f"{CACHE_MISSES_FAMILY}_total"
UP = "up"
CODE_LABEL = "code"

#: Histogram bounds (seconds) of the service and of the load generator's client counts.
SLO_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)


def format_le(bound: float) -> str:
    """A bucket bound spelled as client libraries spell it: ``0.1``, ``1.0``, ``+Inf``."""
    if math.isinf(bound):
        return "+Inf"
    return repr(float(bound))


# -- tiers ---------------------------------------------------------------------------------------
#: Requests per minute per API key, as the API publishes them (the seed's table).
TIER_LIMITS = {"free": 10, "basic": 50, "pro": 200, "enterprise": 1000}
TIERS = tuple(TIER_LIMITS)
OVER_LIMIT_SUFFIX = "_over_limit"


def tier_label(tier: str, over_limit: bool) -> str:
    """The tier as client counts name it: ``pro``, or ``pro_over_limit`` for over-limit keys."""
    return tier + (OVER_LIMIT_SUFFIX if over_limit else "")


def tier_of_user_class(name: str) -> str:
    """The tier label of a user class of loadgate's retired closed model (``ProOverLimitUser`` ->
    ``pro_over_limit``), to read client series recorded by it."""
    base = name.removesuffix("User")
    over = base.endswith("OverLimit")
    return tier_label(base.removesuffix("OverLimit").lower(), over)


# -- client results ------------------------------------------------------------------------------
OK, FAILURE, RATE_LIMITED = "ok", "failure", "rate_limited"

# -- the load generator's exporter (scraped as job CLIENT_JOB) --------------------------------------
CLIENT_RESPONSES_FAMILY = "loadgate_responses"
CLIENT_DURATION = "loadgate_request_duration_seconds"
#: The same, measured from each open-model request's intended send (corrected for coordinated omission).
CLIENT_CORRECTED_DURATION = "loadgate_request_corrected_duration_seconds"
CLIENT_CACHE_HITS_FAMILY = "loadgate_cache_hits"
CLIENT_CACHE_MISSES_FAMILY = "loadgate_cache_misses"
CLIENT_USERS = "loadgate_users"
CLIENT_TARGET_RATE = "loadgate_target_rate"
CLIENT_JOB = "loadgate"

# -- the client-series file (client_series.jsonl) -------------------------------------------------
SERIES_FORMAT = "loadgate.client_series"
#: Version 2 writes the response-time tables as per-snapshot increments; version 1 (cumulative
#: tables) is still read.
SERIES_SCHEMA_VERSION = 2
SERIES_SCHEMA_VERSIONS_READ = (1, 2)
#: The events of a client-series file, besides its snapshots.
TEST_START, TEST_STOP = "test_start", "test_stop"
#: Master: a worker stopped reporting (missing heartbeats, or gone), or joined a running test.
WORKER_LOST, WORKER_JOINED = "worker_lost", "worker_joined"
#: Locust's exit code when loadgate's hooks could not write the client series (sysexits' EX_IOERR):
#: the run stops at once rather than measure what it cannot record.
SERIES_WRITE_FAILED_EXIT = 74


#: A load zone's name (``--zone``): a short word safe as a Prometheus label value and a file name.
ZONE_RULE = "1 to 32 lower-case letters, digits, '-' or '_', starting with a letter"
_ZONE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def zone_problem(name: str) -> str | None:
    """Why ``name`` is no zone name (None when it is one): ``ZONE_RULE``."""
    if not 1 <= len(name) <= 32 or not name[0].isascii() or not name[0].isalpha() or not name[0].islower() \
            or not set(name) <= _ZONE_CHARS:
        return f"expected {ZONE_RULE}, such as eu-west, got {name!r}"
    return None


def series_header() -> dict[str, object]:
    """The first line of a client-series file: what it is and which version of the format.

    Every later line is either an event ``{"event": "test_start" | "test_stop", "t": unix_s}``
    or a snapshot ``{"t", "target_rate", "users": {class: n}, "workers", "responses": [[endpoint,
    tier, result, code, n]], "latency": [[endpoint, tier, cumulative counts per SLO bucket and
    +Inf, sum_s]], "times": {endpoint: [ms, n, ms, n, ...]}, "cache": {"hit", "miss"}}``. Every
    count is cumulative except ``times``: the responses per response time (ms, 3 significant
    digits) counted since the previous snapshot (in version 1, cumulative rows ``[[endpoint, ms,
    n]]``). Once open-model requests were sent,
    a snapshot also holds ``"corrected"`` (as ``latency``, from the intended sends),
    ``"corrected_times"`` (as ``times``), ``"late": {"scheduled", "late", "very_late"}`` and
    ``"keys": {tier label: n}``, the API keys sending (``users`` are then the concurrency).
    A run with load zones (``--lg-zone``) adds ``"zones": {zone: {"workers": n reporting,
    "worker_responses", "responses", "latency", "times", "cache", ...}}``: each zone's own counts,
    in the same form and with the same cumulative rules as the snapshot's.
    """
    return {"format": SERIES_FORMAT, "schema_version": SERIES_SCHEMA_VERSION}
