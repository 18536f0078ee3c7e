"""A QA team's own scenarios for a service that is not the demo API: ``loadgate run --locustfile``.

The service is a small HTTP server the test starts on 127.0.0.1 (one ``/ping`` path), graded
against a spec written for it, from the load generator's counts (no Prometheus).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import E2E_RUNS

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e

OPEN_MODEL = """
from scenarios import OpenModelUser


class Pinger(OpenModelUser):
    def send(self, due):
        self.client.get("/ping", headers={"X-API-Key": self.api_key(due)})
"""

PLAIN = """
from locust import HttpUser, constant_throughput, task


class Plain(HttpUser):
    wait_time = constant_throughput(5)

    @task
    def ping(self):
        self.client.get("/ping")
"""

SPEC = """version: loadgate/v1
name: ping
objectives:
  - id: p99_latency
    kind: latency
    percentile: 99
    threshold: "< 500ms"
  - id: error_rate
    kind: error_rate
    threshold: "< 1%"
  - id: throughput
    kind: throughput
    threshold: ">= 25/s"
"""


def run_custom(tmp_path: Path, url: str, locustfile: str, *args: str) -> tuple[subprocess.CompletedProcess[str],
                                                                               dict[str, Any], dict[str, Any], Path]:
    scenario, spec, out = tmp_path / "my_scenarios.py", tmp_path / "ping.yaml", tmp_path / "run"
    scenario.write_text(locustfile)
    spec.write_text(SPEC)
    proc = subprocess.run([sys.executable, "-m", "loadgate", "run", "--host", url, "--locustfile", str(scenario),
                           "--spec", str(spec), "--rate", "30", "--duration", "10", "--rampup", "2", "--out", str(out),
                           *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (out / "verdict.json").is_file(), proc.stderr[-3000:]
    E2E_RUNS.append(out)
    return proc, json.loads((out / "verdict.json").read_text()), json.loads((out / "run.json").read_text()), out


def test_an_open_model_locustfile_gets_the_rate_the_keys_and_the_corrected_latency(tmp_path, ping_service):
    proc, doc, run, out = run_custom(tmp_path, ping_service.url, OPEN_MODEL)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert run["model"] == "open" and run["user_classes"] == ["Pinger"]
    assert run["locustfile"].endswith("my_scenarios.py")
    assert run["concurrency"] == 10 and run["client_latency"]["late"]["fraction"] < 0.05  # 10 users keep up
    objectives = {o["id"]: o for o in doc["objectives"]}
    assert {o["status"] for o in objectives.values()} == {"pass"}
    assert objectives["throughput"]["measured"] == pytest.approx(30, rel=0.1)
    assert "intended sends" in objectives["p99_latency"]["detail"]["measured_from"]
    assert [e["endpoint"] for e in doc["breakdown"]["endpoints"]] == ["/ping"]
    # The keys came from loadgate's pools (generated, as no --keys was given), spread over the tiers.
    assert {key.split("-")[0] for key in ping_service.keys} == {"free", "basic", "pro", "enterprise"}
    assert "as sent" in proc.stdout  # the terminal table shows the figure from the actual sends beside it
    assert "arrival rate was not controlled" not in (out / "summary.md").read_text()


def test_plain_locust_users_run_closed_loop_and_the_report_says_the_rate_was_not_controlled(tmp_path, ping_service):
    proc, doc, run, out = run_custom(tmp_path, ping_service.url, PLAIN, "--users", "4")
    assert run["model"] == "closed" and run["concurrency"] == 4 and run["user_classes"] == ["Plain"]
    assert "client_latency" not in run  # no intended sends to correct from
    throughput = next(o for o in doc["objectives"] if o["id"] == "throughput")
    assert throughput["measured"] == pytest.approx(20, rel=0.15)  # 4 users at 5/s each, whatever --rate says
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    for name in ("summary.md", "report.html"):
        assert "arrival rate was not controlled: Plain ran closed-loop" in (out / name).read_text(), name
    assert ping_service.keys == {""}  # plain users send what their code sends


def test_a_mixed_run_names_only_its_plain_users_as_closed_loop(tmp_path, ping_service):
    mixed = OPEN_MODEL + PLAIN
    _, _, run, out = run_custom(tmp_path, ping_service.url, mixed, "--users", "6")
    assert run["model"] == "mixed" and run["user_classes"] == ["Pinger", "Plain"]
    assert run["closed_user_classes"] == ["Plain"]
    summary = (out / "summary.md").read_text()
    assert "arrival rate was not controlled: Plain ran closed-loop beside open-model users" in summary


def test_a_missing_locustfile_is_exit_2_before_any_load(tmp_path, ping_service):
    proc = subprocess.run([sys.executable, "-m", "loadgate", "run", "--host", ping_service.url, "--locustfile",
                           str(tmp_path / "nowhere.py"), "--out", str(tmp_path / "run")], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--locustfile: " in proc.stderr and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()


def test_refused_connections_are_errors_and_never_throughput(tmp_path, unreachable_url):
    """A dead service (nothing listens): every request fails without an answer, so the client side
    measures no throughput at all, not the rate it tried to send."""
    proc, doc, run, _ = run_custom(tmp_path, unreachable_url, OPEN_MODEL)
    objectives = {o["id"]: o for o in doc["objectives"]}
    assert objectives["throughput"]["measured"] == 0 and objectives["throughput"]["status"] == "fail"
    assert objectives["throughput"]["detail"]["transport_errors"] > 100
    assert objectives["error_rate"]["measured"] == 1.0 and proc.returncode == 1
