"""``loadgate rules --format operator`` (issue 25, item 10): the same groups as a prometheus-operator
``PrometheusRule``, checked against the operator's own CRD schema (``schemas/vendor/``, with its
provenance), rendered by ``kubectl kustomize`` beside the deploy base, and tested by promtool
through its plain sibling."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.require import missing
from tests.test_rules_identity import POLICY

REPO = Path(__file__).resolve().parent.parent
CRD = REPO / "schemas" / "vendor" / "monitoring.coreos.com_prometheusrules.yaml"

SHOP = """version: loadgate/v1
name: shop
service: checkout
labels: {team: payments}
objectives:
  - {id: error_rate, title: Errors, kind: error_rate, threshold: "< 0.5%"EXTRA}
  - {id: p99, title: p99, kind: latency, percentile: 99, threshold: "< 500ms"}
"""

#: name -> (spec text, flags).
FORMS = {
    "plain": (SHOP.replace("EXTRA", ""), ()),
    "no-alerts": (SHOP.replace("EXTRA", ""), ("--no-alerts",)),
    "openslo-alert-policies": (POLICY, ()),
    "group-by": (SHOP.replace("EXTRA", ", group_by: [route]"), ("--selector", 'job="api"')),
}


def _strict(schema: Any) -> Any:
    """The CRD's schema with every object closed (``additionalProperties: false`` where it lists its
    properties and says nothing of others): the API server prunes a field its CRD does not know,
    so such a field would silently drop out of the rules."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if isinstance(out.get("pattern"), str) and out["pattern"].startswith("^(?i)"):
            # Go's regexp takes a flag group anywhere; Python's only at the start: the same pattern.
            out["pattern"] = "(?i)^" + out["pattern"][len("^(?i)"):]
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _crd_validator() -> jsonschema.Draft7Validator:
    crd = next(d for d in yaml.safe_load_all(CRD.read_text()) if d)
    assert crd["spec"]["names"]["kind"] == "PrometheusRule"
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    # metadata is "type: object" in the CRD: the API server checks it; here, its two fields used.
    schema["properties"]["metadata"] = {"type": "object", "required": ["name"], "properties": {
        # RFC 1123 subdomain: dot-separated parts, each starting and ending with a letter or digit.
        "name": {"type": "string", "maxLength": 253,
                 "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"},
        "labels": {"type": "object", "additionalProperties": {
            "type": "string", "maxLength": 63, "pattern": r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"}}}}
    schema = _strict(schema)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _write_form(tmp_path: Path, form: str) -> tuple[Path, tuple[str, ...]]:
    text, flags = FORMS[form]
    spec = tmp_path / ("slo.yaml" if text.startswith("apiVersion") else "shop.yaml")
    spec.write_text(text)
    return spec, flags


def test_the_vendored_crd_names_its_source_commit_and_licence():
    head = CRD.read_text().split("\n---\n", 1)[0]
    for needed in ("prometheus-operator/prometheus-operator",
                   "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
                   "01fad0d64bee2ea20ff20200b86fc0f4ae2744d3", "0.82.2", "Apache License 2.0"):
        assert needed in head


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_as_a_prometheusrule_fits_the_operators_crd_and_holds_the_plain_files_groups(cli, tmp_path, form):
    spec, flags = _write_form(tmp_path, form)
    plain = cli("rules", "--spec", str(spec), *flags)
    operator = cli("rules", "--spec", str(spec), "--format", "operator", *flags)
    assert plain.code == 0 and operator.code == 0, plain.err + operator.err
    doc = yaml.safe_load(operator.out)
    errors = sorted(_crd_validator().iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    assert (doc["apiVersion"], doc["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert "namespace" not in doc["metadata"]  # kubectl -n or kustomize's namespace: sets it
    assert doc["spec"]["groups"] == yaml.safe_load(plain.out)["groups"]
    # The same text, indented: block scalars and all.
    body = operator.out.split("\nspec:\n", 1)[1]
    assert re.sub(r"(?m)^  ", "", body) == plain.out[plain.out.index("groups:"):]
    # The plain file's header comments come first.
    assert operator.out.startswith(plain.out[:plain.out.index("groups:")])


def test_the_prometheusrule_is_named_and_labelled_after_the_specs_identity(cli, tmp_path):
    spec, _ = _write_form(tmp_path, "plain")
    meta = yaml.safe_load(cli("rules", "--spec", str(spec), "--format", "operator").out)["metadata"]
    assert meta["name"] == "loadgate-checkout-shop"
    assert meta["labels"] == {"app.kubernetes.io/name": "loadgate", "app.kubernetes.io/component": "slo-rules",
                              "app.kubernetes.io/managed-by": "loadgate", "loadgate/service": "checkout",
                              "loadgate/spec": "shop", "prometheus": "k8s", "role": "alert-rules"}
    odd = tmp_path / "odd.yaml"
    odd.write_text(FORMS["plain"][0].replace("name: shop\nservice: checkout", "name: Shop_API v2\nservice: Check Out!"))
    meta = yaml.safe_load(cli("rules", "--spec", str(odd), "--format", "operator").out)["metadata"]
    assert meta["name"] == "loadgate-check-out-shop-api-v2"
    dotted = tmp_path / "dotted.yaml"
    dotted.write_text(FORMS["plain"][0].replace("name: shop\nservice: checkout", "name: shop. eu\nservice: checkout"))
    assert yaml.safe_load(cli("rules", "--spec", str(dotted), "--format", "operator").out)["metadata"]["name"] == \
        "loadgate-checkout-shop.eu"
    assert (meta["labels"]["loadgate/service"], meta["labels"]["loadgate/spec"]) == ("Check-Out", "Shop_API-v2")
    openslo, _ = _write_form(tmp_path, "openslo-alert-policies")
    meta = yaml.safe_load(cli("rules", "--spec", str(openslo), "--format", "operator").out)["metadata"]
    assert meta["name"] == "loadgate-checkout-checkout-availability"


def test_the_prometheusrule_renders_with_kubectl_kustomize_beside_the_deploy_base(cli, tmp_path):
    if shutil.which("kubectl") is None:
        missing("kubectl is not installed (it renders the kustomize base)")
    spec, _ = _write_form(tmp_path, "plain")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    assert cli("rules", "--spec", str(spec), "--format", "operator", "--out", str(overlay / "slo-rules.yaml")).code == 0
    shutil.copytree(REPO / "deploy" / "k8s", overlay / "base")
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: loadtest\n"
        "resources:\n  - base\n  - slo-rules.yaml\n")
    run = subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    docs = [d for d in yaml.safe_load_all(run.stdout) if d]
    assert {"Job", "Deployment", "PrometheusRule"} <= {d["kind"] for d in docs}
    [rule] = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rule["metadata"]["namespace"] == "loadtest"
    mine = yaml.safe_load((overlay / "slo-rules.yaml").read_text())
    assert rule["spec"] == mine["spec"]


@pytest.mark.prometheus
def test_with_tests_the_operator_form_writes_a_plain_sibling_that_promtool_checks_and_tests(cli, tmp_path):
    if shutil.which("promtool") is None:
        missing("promtool is not installed (Debian's prometheus package)")
    spec, _ = _write_form(tmp_path, "group-by")
    out = tmp_path / "slo-rules.yaml"
    result = cli("rules", "--spec", str(spec), "--format", "operator", "--out", str(out), "--tests")
    assert result.code == 0, result.err
    sibling = tmp_path / "slo-rules.prometheus.yaml"
    assert f"wrote {sibling}" in result.err
    assert yaml.safe_load(sibling.read_text())["groups"] == yaml.safe_load(out.read_text())["spec"]["groups"]
    tests = yaml.safe_load((tmp_path / "slo-rules.test.yaml").read_text())
    assert tests["rule_files"] == ["slo-rules.prometheus.yaml"]
    check = subprocess.run(["promtool", "check", "rules", "--lint-fatal", str(sibling)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    run = subprocess.run(["promtool", "test", "rules", str(tmp_path / "slo-rules.test.yaml")], capture_output=True,
                         text=True)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]


def test_the_plain_format_is_the_default_and_unchanged(cli, tmp_path):
    spec, _ = _write_form(tmp_path, "plain")
    default = cli("rules", "--spec", str(spec))
    named = cli("rules", "--spec", str(spec), "--format", "prometheus")
    assert default.out == named.out and "apiVersion" not in default.out
    assert cli("rules", "--spec", str(spec), "--format", "helm").code == 2


def test_the_crd_check_refuses_what_the_api_server_would_refuse_or_prune(cli, tmp_path):
    spec, _ = _write_form(tmp_path, "plain")
    doc = yaml.safe_load(cli("rules", "--spec", str(spec), "--format", "operator").out)
    validator = _crd_validator()
    assert not list(validator.iter_errors(doc))
    for broken in (lambda d: d["spec"]["groups"][0].update(interval="one minute"),
                   lambda d: d["spec"]["groups"][0]["rules"][0].update(unknown_field=1),
                   lambda d: d["spec"]["groups"][0]["rules"][0].pop("expr"),
                   lambda d: d["metadata"].update(name="Loadgate_Checkout")):
        bad = copy.deepcopy(doc)
        broken(bad)
        assert list(validator.iter_errors(bad)), broken
