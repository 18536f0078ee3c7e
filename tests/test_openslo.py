"""OpenSLO v1 in, and ``loadgate convert`` both ways, through the CLI and the loader."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slo import model
from slo.evaluate import measure
from slo.openslo import plain_selector, ratio_template
from slo.openslo.documents import KINDS
from slo.openslo.objective import OBJECTIVE_FIELDS
from slo.openslo.slo_spec import SLO_FIELDS
from slo.spec import SpecError, load_spec, read_spec
from slo.units import parse_openslo_duration
from tests.test_golden import check_golden

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "tests" / "openslo"


def same(a, b) -> bool:
    """Objectives equal but for where they were read from, and what only the alert rules read (the
    SLO's name as written, its service, labels and policies, which ``convert`` does not carry yet)."""
    def strip(spec):
        return [dataclasses.replace(o, line=0, origin="", slo_name="", service="", labels=(), policies=None)
                for o in spec.objectives]
    return strip(a) == strip(b)


def test_each_slo_objective_becomes_one_objective_named_from_metadata_and_display_name():
    spec = read_spec(DOCS / "quantile.yaml")
    assert [o.id for o in spec.objectives] == ["p99_under_500ms_strict", "p99_under_1s", "success_by_minute"]
    strict = spec.objectives[0]
    assert (strict.kind, strict.point_op, strict.point_value, strict.budgeting, strict.slice_seconds,
            strict.slice_target) == (model.PROMQL_THRESHOLD, "<=", 0.5, model.TIMESLICES, 60.0, 1.0)
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
    assert str(caught.value) == ("only-sli.yaml:1: (documents): no kind: SLO document: loadgate grades SLOs "
                                 "(the files hold: SLI)")


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


def test_a_threshold_metric_by_timeslices_converts_to_a_loadgate_twin_that_reads_back_the_same(cli, tmp_path):
    result = cli("convert", str(DOCS / "quantile.yaml"))
    assert result.code == 0, result.err
    converted = tmp_path / "twin.yaml"
    converted.write_text(result.out)
    assert cli("validate", str(converted)).code == 0
    twin, original = read_spec(converted), read_spec(DOCS / "quantile.yaml")
    assert same(twin, original)
    assert {(o.kind, o.budgeting, o.slice_target) for o in twin.objectives if o.kind == "promql_threshold"} == \
        {(o.kind, o.budgeting, o.slice_target) for o in original.objectives if o.kind == "promql_threshold"}


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


# -- every form the OpenSLO tools write -------------------------------------------------------------

FORMS = DOCS / "forms"
#: Field names of every kind, for the fuzzer to build specs from.
_FIELD_NAMES = sorted({*SLO_FIELDS, *OBJECTIVE_FIELDS, "ratioMetric", "thresholdMetric", "counter", "good", "bad",
                       "total", "raw", "rawType", "metricSource", "metricSourceRef", "type", "query", "metadata",
                       "name", "duration", "isRolling", "calendar", "startTime", "timeZone", "connectionDetails",
                       "severity", "condition", "kind", "op", "threshold", "lookbackWindow", "conditions",
                       "notificationTargets", "conditionRef", "targetRef", "alertPolicyRef", "target"})


def _documents(path: Path) -> list[dict]:
    """The documents of a ``---`` separated YAML file, as plain data."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_a_yaml_list_and_json_read_to_the_same_objectives_as_documents_separated_by_dashes(tmp_path):
    docs = _documents(DOCS / "user-api.yaml")
    (tmp_path / "list.yaml").write_text(yaml.safe_dump(docs, sort_keys=False))
    (tmp_path / "list.json").write_text(json.dumps(docs, indent=2))
    (tmp_path / "one.json").write_text(json.dumps(docs[0]))
    for form in ("list.yaml", "list.json"):
        assert same(read_spec(tmp_path / form), read_spec(DOCS / "user-api.yaml")), form
    assert same(read_spec(FORMS / "documents.json"), read_spec(FORMS / "list.yaml"))
    with pytest.raises(SpecError, match="no kind: SLO document: loadgate grades SLOs \\(the files hold: DataSource\\)"):
        read_spec(tmp_path / "one.json")  # a single JSON object is read: it is a DataSource


def test_json_indented_with_tabs_and_numbers_with_exponents_is_read_as_json_is():
    spec = read_spec(FORMS / "single.json")
    assert [(o.id, o.target) for o in spec.objectives] == [("search_latency", model.Target(">=", 0.995))]
    assert spec.objectives[0].period_s == 7 * 86400


def test_a_directory_reads_its_json_files_with_its_yaml_files_as_one_set(tmp_path):
    docs = _documents(DOCS / "user-api.yaml")
    (tmp_path / "sources.json").write_text(json.dumps(docs[:2]))
    (tmp_path / "slos.yaml").write_text(yaml.safe_dump_all(docs[2:], sort_keys=False))
    assert same(read_spec(tmp_path), read_spec(DOCS / "user-api.yaml"))


def test_a_file_of_every_kind_is_read_and_says_what_it_does_not_grade():
    spec = read_spec(FORMS / "every-kind.yaml")
    assert [(o.id, o.target) for o in spec.objectives] == [("checkout_availability", model.Target("<=", 0.001))]
    notes = "\n".join(spec.notes)
    for where in ("Service/checkout: read, not graded", "AlertPolicy/page-on-fast-burn: read, not graded",
                  "AlertCondition/fast-burn: read, not graded", "AlertNotificationTarget/payments-pager: read, not "
                  "graded", "SLO/checkout-availability: alertPolicies: read, not graded",
                  "objectives[0].timeSliceWindow: ignored: budgetingMethod Occurrences does not use it",
                  "targetRef: no kind: AlertNotificationTarget named 'payments-chat' in the files given"):
        assert where in notes, where
    # The type of each source comes from the DataSource its metricSourceRef names.
    assert spec.objectives[0].bad == 'sum(increase(http_requests_total{code=~"5..", {{selector}}}[{{window}}]))'


def test_a_metric_source_ref_with_its_type_needs_no_data_source_and_without_it_names_the_rule():
    spec = read_spec(FORMS / "list.yaml")
    assert len(spec.objectives) == 2
    text = (FORMS / "list.yaml").read_text().replace("        type: Prometheus\n", "", 1)
    with pytest.raises(SpecError) as caught:
        load_spec(text.encode(), "no-type.yaml")
    assert str(caught.value) == (
        "no-type.yaml:14: SLI/brownout-5xx-ratio.spec.thresholdMetric.metricSource.type: type is required: "
        "metricSourceRef 'cluster-prometheus' names no DataSource in the files given, and OpenSLO infers the type "
        "only from a DataSource")


def test_an_slo_without_a_time_window_is_valid_and_states_the_period_it_is_graded_and_alerted_over(cli):
    spec = read_spec(FORMS / "list.yaml")
    half, most = spec.objectives
    assert half.period_s is None and most.period_s == 30 * 86400  # 1M, calendar-aligned
    note = (f"{FORMS / 'list.yaml'}:24: SLO/calm-minutes-half: no timeWindow: graded over the gate's window; alert "
            "rules assume 30d")
    assert spec.notes == (note,)
    assert f"  note: {note}\n" in cli("validate", str(FORMS / "list.yaml")).out
    assert "# calm_minutes_half: period 30d," in cli("rules", "--spec", str(FORMS / "list.yaml")).out


def test_a_threshold_metric_by_timeslices_with_a_slice_target_is_graded_by_slices_of_points():
    half = read_spec(FORMS / "list.yaml").objectives[0]
    assert (half.kind, half.budgeting, half.slice_seconds, half.slice_target, half.point_op, half.point_value,
            half.target) == (model.PROMQL_THRESHOLD, model.TIMESLICES, 60.0, 0.5, "<", 0.01, model.Target(">=", 0.92))
    # A bare number of minutes is a timeSliceWindow too, as the spec says.
    assert read_spec(FORMS / "list.yaml").objectives[1].slice_seconds == 60.0


def test_the_source_asks_for_slices_of_points_only_when_a_threshold_metric_has_slices_to_judge():
    calls: list[tuple] = []

    class Source:
        def promql_threshold(self, *args):
            calls.append(("points", *args))

        def promql_threshold_slices(self, *args):
            calls.append(("slices", *args))

    half = read_spec(FORMS / "list.yaml").objectives[0]
    measure(Source(), half)
    measure(Source(), dataclasses.replace(half, budgeting=model.RATIO_TIMESLICES, slice_target=None))
    measure(Source(), dataclasses.replace(half, slice_target=None))  # loadgate/v1's kind
    query = half.query
    assert calls == [("slices", query, "<", 0.01, 60.0, 0.5), ("slices", query, "<", 0.01, 60.0, None),
                     ("points", query, "<", 0.01, 60.0)]


def test_validate_prints_every_form_as_its_golden_file_says(cli):
    out = []
    for path in sorted(FORMS.iterdir()):
        result = cli("validate", str(path))
        assert result.code == 0, result.err
        out.append(result.out.replace(str(REPO) + "/", ""))
    check_golden("specs/openslo-forms.txt", "".join(out))


def test_a_valid_sli_no_slo_uses_is_read_even_when_loadgate_could_not_grade_it():
    text = (REPO / "tests" / "golden" / "specs" / "bad" / "openslo-graded.yaml").read_text()
    kept = "---".join(d for d in text.split("---") if "name: raw}" not in d and "cloudwatch-latency" not in d
                      and "no-counter" not in d)
    spec = load_spec((kept + "---\n" + (DOCS / "user-api.yaml").read_text()).encode(), "kept.yaml")
    notes = "\n".join(spec.notes)
    assert "SLI/raw-ratio: read, not graded: no SLO in the files given uses it" in notes
    assert "SLI/unused-cloudwatch: read, not graded: no SLO in the files given uses it" in notes


@pytest.mark.parametrize("text, message", [
    ("apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nspec: {slos: []}\n",
     "x.yaml:1: apiVersion: unsupported apiVersion 'sloth.slok.dev/v1': loadgate reads 'version: loadgate/v1' specs "
     "and 'apiVersion: openslo/v1' documents"),
    ('{"kind": "ServiceLevelObjective", "apiVersion": "pyrra.dev/v1alpha1", "spec": {}}',
     "x.yaml:1: apiVersion: unsupported apiVersion 'pyrra.dev/v1alpha1': loadgate reads"),
    ("apiVersion: loadgate/v1\nobjectives: []\n",
     "unsupported apiVersion 'loadgate/v1' (a loadgate/v1 spec says 'version: loadgate/v1', not apiVersion)"),
    ("- {apiVersion: openslo/v2alpha, kind: SLO}\n- {apiVersion: openslo/v2alpha, kind: SLI}\n",
     "x.yaml:1: (document 1).apiVersion: unsupported apiVersion 'openslo/v2alpha' (documents 1, 2): loadgate reads "
     "'openslo/v1' documents"),
])
def test_an_api_version_loadgate_does_not_read_is_one_message_naming_the_versions_it_reads(text, message):
    with pytest.raises(SpecError) as caught:
        load_spec(text.encode(), "x.yaml")
    assert len(caught.value.issues) == 1 and message in str(caught.value)


def _slo(objective: str, indicator: str = "ratio", method: str = "Occurrences", extra: str = "") -> str:
    metric = "{metricSource: {type: Prometheus, spec: {query: x_total}}}"
    spec = (f"{{ratioMetric: {{counter: true, good: {metric}, total: {metric}}}}}" if indicator == "ratio"
            else f"{{thresholdMetric: {metric}}}")
    return (f"apiVersion: openslo/v1\nkind: SLO\nmetadata: {{name: s}}\nspec:\n  service: a\n"
            f"  indicator: {{metadata: {{name: i}}, spec: {spec}}}\n  budgetingMethod: {method}\n"
            f"  objectives: [{objective}]\n{extra}")


#: One broken rule each, and the words of the message that name it.
RULES = [
    (_slo("{op: lt, value: 1, target: 0.9}"), "op is not allowed on a ratioMetric objective"),
    (_slo("{target: 0.9, targetPercent: 90}"), "exactly one of target (in [0, 1)) and targetPercent"),
    (_slo("{target: 1}"), "target is in [0, 1) (found 1)"),
    (_slo("{target: 0.9}", "threshold"), "op is required on a thresholdMetric objective"),
    (_slo("{op: lte, value: 1, target: 0.9}, {op: lte, value: 2, target: 0.8}", "threshold"),
     "a thresholdMetric SLO has only one objective (found 2)"),
    (_slo("{target: 0.9, timeSliceWindow: 1m}", method="Timeslices"),
     "timeSliceTarget is required with budgetingMethod Timeslices"),
    (_slo("{target: 0.9, timeSliceTarget: 0.9}", method="RatioTimeslices"),
     "timeSliceWindow is required with budgetingMethod RatioTimeslices"),
    (_slo("{target: 0.9}", method="Occurrence"), "budgetingMethod must be one of Occurrences"),
    (_slo("{target: 0.9}").replace("  service: a\n", ""), "service is required"),
    (_slo("{target: 0.9}", extra="  timeWindow: [{duration: 30s, isRolling: true}]\n"),
     "'30s' is not an OpenSLO duration"),
    (_slo("{target: 0.9}").replace("good: ", "bad: {metricSource: {type: Prometheus, spec: {query: b}}}, good: "),
     "exactly one of good and bad (with total) (found both)"),
    (_slo("{target: 0.9}").replace("total: ", "raw: "), "raw cannot be used with good or bad"),
    (_slo("{target: 0.9}").replace("{ratioMetric", "{thresholdMetric: {metricSource: {type: P, spec: {q: 1}}}, "
                                                   "ratioMetric"), "exactly one of ratioMetric and thresholdMetric"),
    (_slo("{target: 0.9}").replace("type: Prometheus, ", "", 1), "type is required without a metricSourceRef"),
    (_slo("{target: 0.9}").replace("indicator: {metadata: {name: i}, ", "indicator: {"),
     "metadata is required on an inline indicator"),
    ("apiVersion: openslo/v1\nkind: AlertCondition\nmetadata: {name: c}\nspec: {severity: page, condition: "
     "{kind: ratio, op: lt, threshold: 1, lookbackWindow: 1h}}\n",
     "AlertCondition.spec.condition.kind must be burnrate"),
    ("apiVersion: openslo/v1\nkind: AlertCondition\nmetadata: {name: c}\nspec: {condition: {op: lt, threshold: 1, "
     "lookbackWindow: 1h}}\n", "severity is required"),
    ("apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: p}\nspec: {conditions: [{conditionRef: c, kind: "
     "AlertCondition}], notificationTargets: [{targetRef: t}]}\n",
     "exactly one of conditionRef and an inline AlertCondition (kind, metadata, spec) (found both)"),
    ("apiVersion: openslo/v1\nkind: AlertNotificationTarget\nmetadata: {name: t}\nspec: {description: x}\n",
     "target is required"),
    ("apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: d}\nspec: {type: Prometheus}\n",
     "connectionDetails is required"),
    ("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: UPPER}\n", "metadata.name 'UPPER' must be a DNS label"),
    ("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: s}\nspec: {owner: me}\n",
     "unknown field; allowed here: description"),
    ("apiVersion: openslo/v1\nkind: Objective\nmetadata: {name: s}\n", "kind 'Objective' is not an OpenSLO v1 kind"),
]


@pytest.mark.parametrize("text, rule", RULES, ids=[r for _, r in RULES])
def test_each_broken_rule_is_refused_with_a_message_that_names_it(cli, tmp_path, text, rule):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    result = cli("validate", str(path))
    assert result.code == 2 and result.out == ""
    assert rule in result.err, result.err
    assert result.err.startswith(f"loadgate: {path}:")  # located: file and line first


def test_convert_to_openslo_leaves_out_a_threshold_judged_one_point_per_slice(cli, tmp_path):
    spec = tmp_path / "points.yaml"
    spec.write_text("version: loadgate/v1\nobjectives:\n  - {id: p, kind: promql_threshold, query: 'max(up)', "
                    "point: '>= 1', threshold: 99%, budgeting: Timeslices, slice: 60s}\n"
                    "  - {id: e, kind: error_rate, threshold: '< 1%'}\n")
    result = cli("convert", "--to", "openslo", str(spec))
    assert result.code == 0, result.err
    assert "p: left out: its slices are judged by one point each" in result.err
    (tmp_path / "o.yaml").write_text(result.out)
    assert [o.id for o in read_spec(tmp_path / "o.yaml").objectives] == ["e"]


documents = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(["openslo/v1", "openslo/v1", "openslo/v2alpha", 1]),
     "kind": st.sampled_from([*KINDS, "Alert"]),
     "metadata": st.one_of(st.fixed_dictionaries({"name": st.sampled_from(["a", "b-1", "X", ""])}), st.none())},
    optional={"spec": st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=6),
                  st.sampled_from(["1m", "28d", "Prometheus", "lte", "Timeslices", "burnrate", "success"])),
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.sampled_from(_FIELD_NAMES), inner, max_size=4)),
        max_leaves=15)})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents, min_size=1, max_size=3), st.sampled_from(["dashes", "list", "json"]))
def test_any_openslo_shaped_file_is_a_spec_or_a_located_error_in_every_form(docs, form):
    data = (yaml.safe_dump_all(docs) if form == "dashes" else yaml.safe_dump(docs) if form == "list"
            else json.dumps(docs)).encode()
    try:
        load_spec(data, "fuzz.yaml")
    except SpecError as exc:
        assert all(i.file == "fuzz.yaml" and i.message for i in exc.issues), str(exc)
