"""PromQL builders: selectors are parsed and re-escaped, and every SLI query has its exact text."""

import pytest

from analysis import queries as q
from analysis.queries import Matcher, Selector, SelectorError, parse_selector


def test_a_selector_is_parsed_into_matchers_with_every_operator():
    assert parse_selector('job="api", instance=~"a.*",code!="429",env!~\'dev|test\'') == (
        Matcher("job", "=", "api"), Matcher("instance", "=~", "a.*"), Matcher("code", "!=", "429"),
        Matcher("env", "!~", "dev|test"))
    assert parse_selector('{job="api"}') == (Matcher("job", "=", "api"),)
    assert parse_selector("") == ()


def test_label_values_are_escaped_so_a_quote_cannot_break_the_query():
    selector = Selector((Matcher("job", "=", 'a"} or vector(1) #'),))
    assert selector.braces() == '{job="a\\"} or vector(1) #"}'
    assert parse_selector(selector.inner()) == selector.matchers


@pytest.mark.parametrize("text, message", [
    ("job=api", "expected a quoted value"), ('job="api', "unterminated string"), ('="x"', "expected a label name"),
    ('job~"x"', "expected one of"), ('job="a" env="b"', "expected ','"), ('job=~"("', "invalid regular expression"),
])
def test_a_malformed_selector_names_the_column(text, message):
    with pytest.raises(SelectorError, match=message):
        parse_selector(text)


def test_the_histogram_is_read_whole_per_bucket_over_the_window():
    sel = Selector.parse('job="api"')
    assert q.latency_buckets("http_request_duration_seconds", sel, 1800) == (
        'sum by (le)(increase(http_request_duration_seconds_bucket{job="api"}[1800s]))')


def test_5xx_and_429_queries_match_the_code_label():
    sel = Selector.parse('job="api"')
    assert q.requests_5xx("http_requests_total", sel, 60) == \
        'sum(increase(http_requests_total{job="api",code=~"5.."}[60s]))'
    assert q.requests_429("http_requests_total", sel, 60, "status", rate=True) == \
        'sum(rate(http_requests_total{job="api",status="429"}[60s]))'
    assert q.requests_by_code("http_requests_total", Selector(), 1800) == \
        "sum by (code)(increase(http_requests_total{}[1800s]))"


def test_availability_reads_the_lowest_up_sample_per_slice():
    assert q.up_min("up", Selector.parse('job="api"'), 60) == 'min(min_over_time(up{job="api"}[60s]))'


def test_the_quantile_estimate_merges_buckets_before_histogram_quantile():
    assert q.latency_quantile("d", Selector(), 60, 0.99) == \
        "histogram_quantile(0.99, sum by (le)(rate(d_bucket{}[60s])))"


def test_templates_expand_window_and_selector_with_and_without_matchers():
    template = "sum(increase(x_total{ {{selector}} }[{{ window }}]))"
    assert q.render_template(template, Selector.parse('job="a"'), 300) == 'sum(increase(x_total{ job="a" }[300s]))'
    assert q.render_template(template, Selector(), 300) == "sum(increase(x_total{  }[300s]))"


def test_durations_are_whole_seconds_of_at_least_one():
    assert q.duration(0.4) == "1s"
