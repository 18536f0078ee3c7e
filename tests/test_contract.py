"""The contract that the service, the load generator and the analyzer share."""

import math

import contract
from analysis.queries import Metrics


def test_bucket_bounds_are_spelled_as_client_libraries_do():
    assert contract.format_le(0.1) == "0.1"
    assert contract.format_le(1) == "1.0"
    assert contract.format_le(math.inf) == "+Inf"


def test_every_threshold_of_the_production_table_is_a_bucket_bound():
    for threshold in (0.1, 0.4, 0.5):
        assert threshold in contract.SLO_BUCKETS
    assert list(contract.SLO_BUCKETS) == sorted(contract.SLO_BUCKETS)


def test_a_retired_closed_model_user_class_reads_back_as_its_tier_label():
    assert contract.tier_of_user_class("ProUser") == "pro"
    assert contract.tier_of_user_class("FreeOverLimitUser") == "free_over_limit"


def test_the_default_metric_names_are_the_contracts():
    m = Metrics()
    assert (m.requests, m.duration, m.cache_hits, m.cache_misses, m.up, m.code_label) == (
        "http_requests_total", "http_request_duration_seconds", "cache_hits_total", "cache_misses_total", "up", "code")
    assert contract.REQUESTS == contract.REQUESTS_FAMILY + "_total"
