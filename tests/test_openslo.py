"""OpenSLO v1 in, and ``loadgate convert`` both ways, through the CLI and the loader."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from slo import model
from slo.openslo import plain_selector, ratio_template
from slo.spec import SpecError, load_spec, read_spec
from slo.units import parse_openslo_duration

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "tests" / "openslo"


def same(a, b) -> bool:
    """Objectives equal but for where they were read from."""
    strip = [dataclasses.replace(o, line=0, origin="") for o in a.objectives]
    return strip == [dataclasses.replace(o, line=0, origin="") for o in b.objectives]


def test_each_slo_objective_becomes_one_objective_named_from_metadata_and_display_name():
    spec = read_spec(DOCS / "quantile.yaml")
    assert [o.id for o in spec.objectives] == ["p99_under_500ms_strict", "p99_under_500ms_loose", "success_by_minute"]
    strict = spec.objectives[0]
    assert (strict.kind, strict.point_op, strict.point_value, strict.budgeting, strict.slice_seconds) == \
        (model.PROMQL_THRESHOLD, "<=", 0.5, model.TIMESLICES, 60.0)
    assert strict.period_s == 7 * 86400 and strict.target == model.Target(">=", 0.99)
    assert spec.format == "openslo/v1"


def test_a_counter_on_a_plain_selector_is_read_exactly_and_takes_the_selector():
    spec = read_spec(DOCS / "user-api.yaml")
    errors = next(o for o in spec.objectives if o.id == "error_rate")
    assert errors.bad == 'sum(increase(http_requests_total{code=~"5..", {{selector}}}[{{window}}]))'
    assert errors.target == model.Target("<=", 0.001) and errors.note == "" and errors.takes_selector
    assert next(o for o in spec.objectives if o.id == "p99_latency").target == model.Target(">=", 0.99)


def test_an_expression_is_read_through_a_subquery_and_says_it_is_approximate():
    template, note, takes = ratio_template('sum(rate(x_total{a="b"}[1m]))', counter=True)
    assert template == 'sum(increase((sum(rate(x_total{a="b"}[1m])))[{{window}}:]))'
    assert "subquery" in note and not takes
    gauge, note, takes = ratio_template("queue_depth", counter=False)
    assert gauge == "sum(sum_over_time(queue_depth{{{selector}}}[{{window}}]))" and "gauge" in note and takes


def test_a_name_regex_of_plain_names_sums_each_name_so_increase_cannot_collide():
    template, note, _ = ratio_template('{__name__=~"hits_total|misses_total", job="x"}', counter=True)
    assert template == ('(sum(increase(hits_total{job="x", {{selector}}}[{{window}}])) or vector(0)) + '
                        '(sum(increase(misses_total{job="x", {{selector}}}[{{window}}])) or vector(0))')
    assert note == ""


@pytest.mark.parametrize("text, plain", [("up", ("up", "")), ('x{a="b"}', ("x", 'a="b"')),
                                         ("sum(x)", None), ("x[5m]", None), ("x{a=b}", None)])
def test_plain_selectors_are_told_from_expressions(text, plain):
    assert plain_selector(text) == plain


def test_openslo_durations_have_no_seconds_and_capital_m_is_a_month():
    assert parse_openslo_duration("28d") == 28 * 86400 and parse_openslo_duration("1M") == 30 * 86400
    assert parse_openslo_duration("1m") == 60
    with pytest.raises(ValueError, match="there is no s"):
        parse_openslo_duration("30s")


def test_a_directory_is_one_set_where_an_slo_finds_its_sli_in_another_file(tmp_path):
    text = (DOCS / "user-api.yaml").read_text()
    docs = text.split("\n---\n")
    (tmp_path / "sli.yaml").write_text("\n---\n".join(docs[:2]))
    (tmp_path / "slo.yaml").write_text("\n---\n".join(docs[2:]))
    assert same(read_spec(tmp_path), read_spec(DOCS / "user-api.yaml"))
    (tmp_path / "sli.yaml").unlink()
    with pytest.raises(SpecError) as caught:
        read_spec(tmp_path)
    assert "no kind: SLI named 'api-5xx'" in str(caught.value)
    assert "no kind: DataSource" not in str(caught.value) or "prometheus" in str(caught.value)


def test_validate_reads_the_test_documents_directory_as_one_set(cli):
    result = cli("validate", str(DOCS))
    assert result.code == 0, result.err
    assert "8 objectives" in result.out


def test_an_slo_without_objectives_of_its_own_kind_is_located():
    with pytest.raises(SpecError) as caught:
        load_spec(b"apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: x}\nspec: {thresholdMetric: "
                  b"{metricSource: {type: Prometheus, spec: {query: up}}}}\n", "only-sli.yaml")
    assert str(caught.value) == "only-sli.yaml:1: (documents): no kind: SLO document; loadgate grades SLOs"


def test_convert_prints_the_loadgate_twin_which_reads_back_to_the_same_objectives(cli, tmp_path):
    result = cli("convert", str(DOCS / "user-api.yaml"))
    assert result.code == 0, result.err
    converted = tmp_path / "twin.yaml"
    converted.write_text(result.out)
    assert result.out.startswith("# Converted by loadgate from ")
    assert same(read_spec(converted), read_spec(DOCS / "user-api.yaml"))
    back = cli("convert", "--to", "openslo", str(converted))
    assert back.code == 0, back.err
    (tmp_path / "again.yaml").write_text(back.out)
    assert same(read_spec(tmp_path / "again.yaml"), read_spec(DOCS / "user-api.yaml"))


def test_convert_to_openslo_names_what_it_leaves_out_and_what_it_approximates(cli, tmp_path):
    result = cli("convert", "--to", "openslo", str(REPO / "slo" / "targets" / "production.yaml"))
    assert result.code == 0
    assert "throughput: left out: a throughput objective has no OpenSLO form" in result.err
    assert "p99_latency: the warn threshold has no OpenSLO equivalent" in result.err
    assert "availability: OpenSLO slices are judged by their 5xx ratio only" in result.err
    (tmp_path / "p.yaml").write_text(result.out)
    ids = [o.id for o in read_spec(tmp_path / "p.yaml").objectives]
    assert ids == ["p50_latency", "p99_latency", "error_rate", "cache_hit_rate", "availability"]
    local = cli("convert", "--to", "openslo", str(REPO / "slo" / "targets" / "local.yaml"))
    assert "availability: left out: its 5s slices cannot be written" in local.err


def test_convert_writes_names_openslo_accepts_and_every_spelling_of_the_latency_bucket(cli, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("version: loadgate/v1\nname: My Service\nobjectives:\n"
                    "  - {id: slow__one_, kind: latency, percentile: 90, threshold: '< 1s'}\n")
    result = cli("convert", "--to", "openslo", str(spec))
    assert result.code == 0, result.err
    assert 'le=~"1|1.0"' in result.out and "name: slow-one" in result.out and "service: my-service" in result.out
    (tmp_path / "o.yaml").write_text(result.out)
    assert cli("validate", str(tmp_path / "o.yaml")).code == 0


def test_broken_promql_is_a_located_spec_error_not_a_rule_file_promtool_rejects(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DOCS / "user-api.yaml").read_text().replace("query: http_requests_total\n",
                                                                 "query: sum(rate(http_requests_total[5m])\n", 1))
    result = cli("validate", str(bad))
    assert result.code == 2 and "not PromQL: unclosed '(' opened at column 4" in result.err
    assert cli("rules", "--spec", str(bad)).code == 2


def test_an_empty_query_in_a_referenced_sli_is_an_error_not_a_traceback(cli, tmp_path):
    broken = tmp_path / "empty.yaml"
    broken.write_text((DOCS / "user-api.yaml").read_text().replace("query: http_requests_total\n", "query: ''\n", 1))
    result = cli("validate", str(broken))
    assert result.code == 2 and "SLI/api-5xx.spec.ratioMetric.total.metricSource.spec.query" in result.err


def test_convert_refuses_a_spec_already_in_the_wanted_format_with_exit_2(cli):
    result = cli("convert", str(REPO / "slo" / "targets" / "production.yaml"))
    assert result.code == 2 and "is already loadgate/v1; did you mean --to openslo?" in result.err


def test_a_selector_is_refused_for_literal_promql_and_named_never_ignored(cli, tmp_path):
    result = cli("gate", "--prometheus", "http://127.0.0.1:9", "--last", "5m", "--spec", str(DOCS / "quantile.yaml"),
                 "--selector", 'job="api"', "--out", str(tmp_path / "g"))
    assert result.code == 2
    assert "cannot be added to the literal PromQL of p99_under_500ms_strict" in result.err
    assert not (tmp_path / "g").exists()


def test_a_loadgate_template_without_the_selector_placeholder_refuses_a_selector_too(cli, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("version: loadgate/v1\nobjectives:\n  - {id: x, kind: promql_value, query: 'sum(up)', "
                    "threshold: '>= 1'}\n")
    result = cli("gate", "--prometheus", "http://127.0.0.1:9", "--last", "5m", "--spec", str(spec),
                 "--selector", 'job="api"')
    assert result.code == 2 and "x (" in result.err and "literal PromQL" in result.err
