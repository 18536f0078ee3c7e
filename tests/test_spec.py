"""The SLO spec loader: good specs map to the model; every bad one is located by file, line and field."""

from pathlib import Path

import pytest

from slo.model import Metrics
from slo.spec import SpecError, load_spec, read_spec

REPO = Path(__file__).resolve().parent.parent


def issues(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(text.encode(), "spec.yaml")
    return [str(i) for i in caught.value.issues]


def test_the_production_spec_holds_the_seeds_six_objectives():
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    table = {o.id: (o.kind, o.target.op, o.target.value) for o in spec.objectives}
    assert table == {
        "p50_latency": ("latency", "<", 0.1),
        "p99_latency": ("latency", "<", 0.5),
        "error_rate": ("error_rate", "<", 0.001),
        "throughput": ("throughput", ">=", 10000.0),
        "cache_hit_rate": ("cache_hit_rate", ">", 0.8),
        "availability": ("availability", ">=", 0.9999),
    }
    by_id = {o.id: o for o in spec.objectives}
    assert by_id["p99_latency"].quantile == 0.99 and by_id["p99_latency"].warn == 0.4
    assert by_id["availability"].slice_seconds == 60 and by_id["availability"].slice_max_error_ratio == 0.01
    assert all(o.required for o in spec.objectives)
    assert spec.metrics == Metrics()


def test_thresholds_without_an_operator_take_the_kinds_natural_one():
    spec = load_spec(b"""version: loadgate/v1
objectives:
  - {id: lat, kind: latency, percentile: p95, threshold: 250ms}
  - {id: tput, kind: throughput, threshold: 600/min}
  - {id: hits, kind: cache_hit_rate, threshold: 80%, required: false}
""")
    lat, tput, hits = spec.objectives
    assert (lat.target.op, lat.target.value, lat.quantile) == ("<", 0.25, 0.95)
    assert (tput.target.op, tput.target.value) == (">=", 10.0)
    assert (hits.target.op, hits.required) == (">", False)
    assert lat.title == "Lat"


def test_metric_names_and_a_selector_can_be_mapped_for_another_service():
    spec = load_spec(b"""version: loadgate/v1
selector: 'service="checkout"'
metrics: {requests: checkout_requests_total, duration: checkout_latency_seconds, code_label: status}
objectives: [{id: e, kind: error_rate, threshold: 1%}]
""")
    assert spec.metrics.requests == "checkout_requests_total"
    assert spec.metrics.duration == "checkout_latency_seconds"
    assert spec.metrics.code_label == "status"
    assert spec.metrics.cache_hits == "cache_hits_total"
    assert spec.selector == 'service="checkout"'


def test_a_yaml_syntax_error_is_located():
    assert issues("version: loadgate/v1\nobjectives:\n  - id: [unclosed\n") == [
        "spec.yaml:4: (yaml): YAML syntax error: expected ',' or ']', but got '<stream end>'"]


def test_an_unknown_field_names_its_path_and_line():
    found = issues("""version: loadgate/v1
objectives:
  - id: p99
    kind: latency
    percentile: 99
    threshhold: 500ms
""")
    assert found[0] == "spec.yaml:3: objectives[0].threshold: missing"
    assert found[1].startswith("spec.yaml:6: objectives[0].threshhold: unknown field; allowed here: id, title, kind, "
                               "threshold")


def test_a_wrong_type_and_a_bad_unit_are_both_reported_in_one_pass():
    found = issues("""version: loadgate/v1
objectives:
  - {id: p99, kind: latency, percentile: 99, threshold: 500}
  - {id: err, kind: error_rate, threshold: "< 0.1%", required: "yes"}
  - {id: tput, kind: throughput, threshold: 10000}
""")
    assert found == [
        "spec.yaml:3: objectives[0].threshold: expected a duration such as 100ms, 0.5s or 2m, got 500",
        "spec.yaml:4: objectives[1].required: expected true or false, got str 'yes'",
        "spec.yaml:5: objectives[2].threshold: expected a rate such as 10000/s or 600/min, got 10000",
    ]


def test_duplicate_ids_name_the_first_definition():
    found = issues("""version: loadgate/v1
objectives:
  - {id: err, kind: error_rate, threshold: 1%}
  - {id: err, kind: error_rate, threshold: 2%}
""")
    assert found == ["spec.yaml:4: objectives[1].id: duplicate id 'err' (first defined on line 3)"]


def test_an_empty_objectives_list_is_refused():
    assert issues("version: loadgate/v1\nobjectives: []\n") == [
        "spec.yaml:2: objectives: the list is empty; a spec needs at least one objective"]


def test_a_missing_or_unknown_version_is_refused():
    assert issues("objectives: [{id: e, kind: error_rate, threshold: 1%}]\n") == [
        "spec.yaml:1: version: missing; the first line should be 'version: loadgate/v1'"]
    assert issues("version: loadgate/v2\nobjectives: [{id: e, kind: error_rate, threshold: 1%}]\n") == [
        "spec.yaml:1: version: unsupported version 'loadgate/v2'; this loadgate reads 'loadgate/v1'"]


def test_a_missing_file_is_a_located_error_not_a_traceback(tmp_path):
    with pytest.raises(SpecError) as caught:
        read_spec(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: (file): no such file"


def test_an_empty_file_and_a_non_mapping_are_refused():
    assert issues("") == ["spec.yaml:1: (document): the file is empty"]
    assert issues("- a\n- b\n") == ["spec.yaml:1: (document): expected a mapping, got a list"]


@pytest.mark.parametrize("line, message", [
    ("{id: x, kind: latency, percentile: 99, threshold: '> 500ms'}", "latency objectives are upper bounds"),
    ("{id: x, kind: availability, threshold: '< 99%'}", "availability objectives are lower bounds"),
    ("{id: x, kind: latency, percentile: 100, threshold: 1s}", "between 0 and 100"),
    ("{id: x, kind: latency, threshold: 1s}", "percentile: missing"),
    ("{id: x, kind: latency, percentile: 99, threshold: 500ms, warn: 600ms}", "warn threshold must be below"),
    ("{id: x, kind: cache_hit_rate, threshold: 80%, warn: 70%}", "warn threshold must be above"),
    ("{id: x, kind: error_rate, threshold: 1%, slice: 60s}", "not a field of kind 'error_rate'"),
    ("{id: x, kind: speed, threshold: 1%}", "unknown kind 'speed'"),
    ("{id: X-1, kind: error_rate, threshold: 1%}", "not a valid id"),
    ("{id: x, kind: availability, threshold: 99%, slice: 0.5s}", "at least 1s"),
    ("{id: x, kind: promql_value, query: 'up', threshold: 3}", "needs an operator"),
    ("{id: x, kind: promql_ratio, total: 'a', threshold: 99%}", "exactly one of 'good' or 'bad'"),
    ("{id: x, kind: promql_ratio, good: 'a{ {{job}} }', total: 'b', threshold: 99%}", "unknown placeholder {{job}}"),
])
def test_each_kind_of_mistake_gets_a_message_that_says_what_is_wrong(line, message):
    found = issues(f"version: loadgate/v1\nobjectives:\n  - {line}\n")
    assert any(message in f and f.startswith("spec.yaml:3: objectives[0].") for f in found), found


def test_a_bad_selector_and_a_bad_metric_name_are_located():
    found = issues("""version: loadgate/v1
selector: 'job=api'
metrics:
  requests: 'http requests'
objectives: [{id: e, kind: error_rate, threshold: 1%}]
""")
    assert found[0].startswith("spec.yaml:2: selector: bad selector 'job=api' at column 5: expected a quoted value")
    assert found[1] == "spec.yaml:4: metrics.requests: 'http requests' is not a valid metric name"


def test_a_duplicate_key_is_reported_not_silently_overwritten():
    found = issues("version: loadgate/v1\nversion: loadgate/v1\n"
                   "objectives: [{id: e, kind: error_rate, threshold: 1%}]\n")
    assert found == ["spec.yaml:2: version: duplicate key (first on line 1)"]


def test_non_utf8_bytes_are_refused():
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(b"\xff\xfe", "spec.yaml")


def test_loadgate_v1_holds_openslos_slices_and_per_point_thresholds():
    spec = load_spec(b"""version: loadgate/v1
objectives:
  - id: minutes_ok
    kind: promql_ratio
    good: 'sum(increase(ok_total{ {{selector}} }[{{window}}]))'
    total: 'sum(increase(all_total{ {{selector}} }[{{window}}]))'
    threshold: ">= 99%"
    budgeting: Timeslices
    slice: 60s
    slice_target: 95%
    period: 28d
  - id: p99_points
    kind: promql_threshold
    query: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[1m])))'
    point: "<= 0.5"
    threshold: 90%
    note: the quantile is an estimate
""")
    sliced, points = spec.objectives
    assert (sliced.budgeting, sliced.slice_seconds, sliced.slice_target, sliced.period_s) == \
        ("Timeslices", 60.0, 0.95, 28 * 86400.0)
    assert sliced.takes_selector and not points.takes_selector
    assert (points.point_op, points.point_value, points.target.op, points.note) == \
        ("<=", 0.5, ">=", "the quantile is an estimate")


@pytest.mark.parametrize("objective, message", [
    ("{id: x, kind: promql_ratio, good: a, total: b, threshold: 99%, budgeting: Timeslices}", "needs the slice length"),
    ("{id: x, kind: promql_ratio, good: a, total: b, threshold: 99%, budgeting: Timeslices, slice: 60s}",
     "slice_target: missing"),
    ("{id: x, kind: promql_ratio, good: a, total: b, threshold: 99%, slice: 60s}", "applies with budgeting"),
    ("{id: x, kind: promql_ratio, good: a, total: b, threshold: 99%, budgeting: Daily}", "unknown 'Daily'"),
    ("{id: x, kind: promql_threshold, query: up, threshold: 99%}", "point: missing"),
    ("{id: x, kind: promql_value, query: 'sum(rate(x{ {{selector}} }[{{window}}])', threshold: '< 1'}",
     "not PromQL: unclosed '(' opened at column 4"),
    ("{id: x, kind: promql_threshold, query: up, point: '0.5', threshold: 99%}", "needs an operator"),
    ("{id: x, kind: promql_threshold, query: up, point: '< 1', threshold: 99%, budgeting: RatioTimeslices, "
     "slice: 60s, slice_target: 90%}", "applies with budgeting Timeslices only"),
    ("{id: x, kind: promql_threshold, query: up, point: '< 1', threshold: 99%, budgeting: Weekly, slice: 60s}",
     "one of Occurrences, Timeslices, RatioTimeslices"),
    ("{id: x, kind: promql_ratio, bad: a, total: b, threshold: '<= 1%', budgeting: RatioTimeslices, slice: 60s}",
     "a sliced promql_ratio measures the good share"),
])
def test_the_new_promql_fields_are_checked_and_located(objective, message):
    found = issues(f"version: loadgate/v1\nobjectives:\n  - {objective}\n")
    assert any(message in line and line.startswith("spec.yaml:3:") for line in found), found
