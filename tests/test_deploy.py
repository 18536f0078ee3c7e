"""deploy/: the image, the compose file and the Kubernetes manifests, checked offline.

The kustomize bases are rendered with ``kubectl kustomize`` (Debian's kubernetes-client, which
``make test`` installs) and every object is validated against the Kubernetes schemas
(``kubernetes-validate``, strict). The commands in them are parsed by loadgate's own CLI, and the
compose file must name the same image, ports and commands as the manifests. No Docker daemon or
cluster is used: nothing here is built, started or applied.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from loadgate.cli import build_parser
from slo.spec import load_spec
from tests.support.require import missing

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
#: The oldest Kubernetes the manifests are checked against, and the newest the validator knows.
K8S_VERSIONS = ("1.27.0", kubernetes_validate.utils.latest_version())


def render(directory: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        missing("kubectl is not installed; apt-get install -y kubernetes-client (make test does it)")
    result = subprocess.run([kubectl, "kustomize", str(DEPLOY / directory)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in objects}


def container(obj: dict[str, Any]) -> dict[str, Any]:
    (only,) = obj["spec"]["template"]["spec"]["containers"]
    return only


def interpolate(value: Any) -> Any:
    """Compose's ``${VAR:-default}`` with the default (no variable is set in the test)."""
    if isinstance(value, str):
        return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("directory", ["k8s", "k8s-custom-locustfile"])
def test_every_rendered_object_is_valid_against_the_kubernetes_schemas(directory):
    objects = render(directory)
    assert sorted(o["kind"] for o in objects) == sorted(
        ["ConfigMap", "Job", "Service", "Deployment"] + (["ConfigMap"] if "custom" in directory else []))
    for obj in objects:
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)  # raises on any violation


def test_the_manifests_run_loadgate_with_arguments_its_cli_accepts_and_the_bundled_spec():
    kinds = by_kind(render("k8s"))
    job, worker, service = kinds["Job"], kinds["Deployment"], kinds["Service"]
    parser = build_parser()
    master_args = parser.parse_args(container(job)["args"])
    worker_args = parser.parse_args(container(worker)["args"])
    assert master_args.command == "run" and master_args.master
    assert master_args.expect_workers == worker["spec"]["replicas"]  # the master waits for every replica
    assert worker_args.command == "worker" and worker_args.master == "loadgate-master:5557"
    assert master_args.master_bind_port == 5557 and master_args.metrics_port == 9646
    # The Service reaches the master pod on both ports, by the pod's labels.
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {p["name"]: p["containerPort"] for p in container(job)["ports"]}
    assert {p["targetPort"]: p["port"] for p in service["spec"]["ports"]} == {"workers": 5557, "metrics": 9646}
    assert ports == {"workers": 5557, "metrics": 9646}
    assert job["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9646"
    # The spec ConfigMap is the bundled production table, mounted where --spec looks.
    spec_text = kinds["ConfigMap"]["data"]["spec.yaml"]
    assert spec_text == (REPO / "slo" / "targets" / "production.yaml").read_text()
    assert len(load_spec(spec_text.encode()).objectives) == 6
    assert master_args.spec == "/config/spec/spec.yaml"
    mounts = {m["name"]: m["mountPath"] for m in container(job)["volumeMounts"]}
    assert mounts["spec"] == "/config/spec"
    # Workers reserve a core (the benchmark's 1,500 req/s a core) and have no CPU limit to throttle them.
    resources = container(worker)["resources"]
    assert resources["requests"]["cpu"] == "1" and "cpu" not in resources["limits"]


def test_the_custom_locustfile_overlay_mounts_it_for_the_master_and_every_worker():
    kinds = render("k8s-custom-locustfile")
    configmaps = {o["metadata"]["name"]: o for o in kinds if o["kind"] == "ConfigMap"}
    compile(configmaps["loadgate-locustfile"]["data"]["locustfile.py"], "locustfile.py", "exec")
    parser = build_parser()
    for obj in (o for o in kinds if o["kind"] in ("Job", "Deployment")):
        args = parser.parse_args(container(obj)["args"])
        assert args.locustfile == "/config/locustfile/locustfile.py"
        assert any(m["mountPath"] == "/config/locustfile" for m in container(obj)["volumeMounts"])


def test_the_compose_file_names_the_same_image_ports_and_commands_as_the_manifests():
    compose = interpolate(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))
    kinds = by_kind(render("k8s"))
    services = compose["services"]
    job, worker = container(kinds["Job"]), container(kinds["Deployment"])
    assert services["master"]["image"] == services["worker"]["image"] == job["image"] == worker["image"]
    # The same commands, with each file's name for the master's host.
    assert services["master"]["command"] == job["args"]
    assert services["worker"]["command"] == [a.replace("loadgate-master", "master") for a in worker["args"]]
    assert int(services["worker"]["deploy"]["replicas"]) == int(job["args"][job["args"].index("--expect-workers") + 1])
    assert {p.split(":")[1] for p in services["master"]["ports"]} == {"5557", "9646"}
    # Its Prometheus scrapes the service the master grades and the master's loadgate_* series.
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prometheus["scrape_configs"]}
    assert jobs == {"service": ["service:8000"], "loadgate": ["master:9646"]}
    assert 'job="service"' in services["master"]["command"]


def test_the_image_holds_every_package_and_exposes_the_ports():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (\w+)/ ", dockerfile, re.M))
    assert copied == {p.rstrip("*") for p in packages}
    assert "locustfile.py" in dockerfile and re.search(r"^EXPOSE .*\b5557\b.*\b9646\b", dockerfile, re.M)
    assert 'ENTRYPOINT ["loadgate"]' in dockerfile
