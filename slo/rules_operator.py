"""``loadgate rules --format operator``: the rule file as a prometheus-operator ``PrometheusRule``. Pure.

The manifest is ``apiVersion: monitoring.coreos.com/v1``, ``kind: PrometheusRule``, and its
``spec.groups`` are the plain rule file's groups, the very same text indented under ``spec:``,
so that both forms evaluate the same rules. It carries no namespace: ``kubectl apply -n`` or a
kustomization's ``namespace:`` sets it.

* ``metadata.name``: ``loadgate-<service>``, plus ``-<spec name>`` when the spec's name is not
  its service's, made a valid Kubernetes name (RFC 1123: lower case letters, digits, ``-`` and
  ``.``, at most 253 characters, starting and ending with a letter or digit);
* ``metadata.labels``: ``app.kubernetes.io/name: loadgate``, ``app.kubernetes.io/component:
  slo-rules``, ``app.kubernetes.io/managed-by: loadgate``, the spec's identity
  (``loadgate/service``, ``loadgate/spec``, as label values: at most 63 characters of letters,
  digits, ``-``, ``_`` and ``.``), and ``prometheus: k8s`` with ``role: alert-rules``, the labels
  kube-prometheus's own rules carry (its Prometheus selects every PrometheusRule by default; the
  kube-prometheus-stack chart's selects ``release: <release>``, which a kustomization adds).

The checks against the operator's CRD schema (``schemas/vendor/``) are in the tests.
"""

from __future__ import annotations

import re

import yaml

from slo.model import Spec

__all__ = ["API_VERSION", "KIND", "k8s_name", "label_value", "manifest_metadata", "operator_text"]

API_VERSION = "monitoring.coreos.com/v1"
KIND = "PrometheusRule"
_NAME_MAX = 253
_VALUE_MAX = 63


def k8s_name(text: str) -> str:
    """``text`` as a Kubernetes object name (RFC 1123 subdomain): lower case, every run of other
    characters one ``-``, trimmed to 253 characters; ``loadgate`` when nothing is left."""
    name = re.sub(r"[^a-z0-9.]+", "-", text.lower())
    # Each dot-separated part starts and ends with a letter or digit: no "..", ".-" or "-.".
    name = ".".join(part.strip("-") for part in name.split(".") if part.strip("-"))
    name = name[:_NAME_MAX].strip("-.")
    return name or "loadgate"


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value: letters, digits, ``-``, ``_`` and ``.`` (others become
    ``-``), at most 63 characters, starting and ending with a letter or digit."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:_VALUE_MAX]
    return value.strip("-_.")


def _service(spec: Spec) -> str:
    """The spec's service: loadgate/v1 ``service:``; else its objectives' one OpenSLO service; else its name."""
    if spec.service:
        return spec.service
    services = {o.service for o in spec.objectives if o.service}
    return services.pop() if len(services) == 1 else spec.name


def manifest_metadata(spec: Spec) -> dict[str, object]:
    """The PrometheusRule's ``metadata``: its name and labels (module docstring)."""
    service = _service(spec)
    base = service if service == spec.name else f"{service}-{spec.name}"
    labels = {"app.kubernetes.io/name": "loadgate", "app.kubernetes.io/component": "slo-rules",
              "app.kubernetes.io/managed-by": "loadgate", "loadgate/service": label_value(service),
              "loadgate/spec": label_value(spec.name), "prometheus": "k8s", "role": "alert-rules"}
    return {"name": k8s_name(f"loadgate-{base}"), "labels": {k: v for k, v in labels.items() if v}}


def operator_text(rules_text: str, spec: Spec) -> str:
    """The PrometheusRule manifest of a rendered rule file (``slo.rules.render_rules``): its header
    comments kept on top, then the manifest, whose ``spec.groups`` is the file's ``groups:`` text
    indented two spaces (indenting a whole block keeps every scalar, block scalars included)."""
    lines = rules_text.splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    header = "".join(lines[:cut])
    head = yaml.safe_dump({"apiVersion": API_VERSION, "kind": KIND, "metadata": manifest_metadata(spec)},
                          sort_keys=False, width=200, allow_unicode=True)
    body = "".join(line if line in ("\n", "\r\n") else f"  {line}" for line in lines[cut:])
    note = ("# A prometheus-operator PrometheusRule: spec.groups are the groups of 'loadgate rules --format "
            "prometheus', unchanged.\n")
    return f"{header}{note}{head}spec:\n{body}"
