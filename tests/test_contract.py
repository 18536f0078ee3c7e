"""The contract that the service, the load generator and the analyzer share."""

import math

import pytest

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


@pytest.mark.parametrize("tier", contract.TIERS)
@pytest.mark.parametrize("over_limit", [False, True])
def test_a_user_class_name_reads_back_as_its_tier_label(tier, over_limit):
    name = contract.user_class_name(tier, over_limit)
    assert contract.tier_of_user_class(name) == contract.tier_label(tier, over_limit)
    assert name.endswith("User") and name[0].isupper()


def test_the_default_metric_names_are_the_contracts():
    m = Metrics()
    assert (m.requests, m.duration, m.cache_hits, m.cache_misses, m.up, m.code_label) == (
        "http_requests_total", "http_request_duration_seconds", "cache_hits_total", "cache_misses_total", "up", "code")
    assert contract.REQUESTS == contract.REQUESTS_FAMILY + "_total"
