"""Services instrumented by real libraries, graded end to end through their presets.

Each test starts one app of ``tests/support/instrumented_apps.py`` on 127.0.0.1 (the OpenTelemetry
SDK with its Prometheus exporter, or prometheus-fastapi-instrumentator's defaults), runs
``loadgate run --start-prometheus --preset NAME --spec tests/specs/http-service.yaml`` against it
with a small open-model locustfile, and checks that a healthy run passes and that injected slowness
or errors fail the objective they should, graded from the series the library itself exposes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from loadgate import procs
from loadgate.promserver import INSTALL_HINT, binaries
from tests.conftest import E2E_RUNS
from tests.support.require import missing

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "tests" / "specs" / "http-service.yaml"
pytestmark = pytest.mark.e2e

PINGER = """
from scenarios import OpenModelUser


class Pinger(OpenModelUser):
    def send(self, due):
        self.client.get("/ping")
"""


@pytest.fixture
def service(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The app named by the test's parameter (``otel`` or ``instrumentator``, then its fault flags)."""
    if binaries() is None:
        missing(f"Prometheus is not installed; {INSTALL_HINT}")
    app, *flags = request.param
    port = procs.free_port()
    log = tmp_path / f"{app}.log"
    proc = procs.start([sys.executable, "-m", "tests.support.instrumented_apps", app, "--port", str(port), *flags],
                       log, cwd=REPO)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        procs.stop(proc)


def run(tmp_path: Path, url: str, preset: str, *args: str) -> tuple[subprocess.CompletedProcess[str],
                                                                     dict[str, Any], dict[str, dict[str, Any]]]:
    """``loadgate run`` at 50 req/s for 10 s, graded from a local Prometheus through ``preset``:
    the process, verdict.json, and its objectives by id."""
    locustfile, out = tmp_path / "pinger.py", tmp_path / "run"
    locustfile.write_text(PINGER)
    proc = subprocess.run([sys.executable, "-m", "loadgate", "run", "--host", url, "--start-prometheus", "--preset",
                           preset, "--spec", str(SPEC), "--locustfile", str(locustfile), "--rate", "50",
                           "--duration", "10", "--rampup", "2", "--out", str(out), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (out / "verdict.json").is_file(), proc.stderr[-3000:]
    E2E_RUNS.append(out)
    doc = json.loads((out / "verdict.json").read_text())
    return proc, doc, {o["id"]: o for o in doc["objectives"]}


@pytest.mark.parametrize("service", [("otel",)], indirect=True, ids=["otel"])
def test_an_opentelemetry_sdk_app_that_is_healthy_passes_from_its_exporter_series(tmp_path, service):
    proc, doc, objectives = run(tmp_path, service, "opentelemetry")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert doc["source"] == "prometheus" and doc["validity"]["valid"] is True
    assert {o["status"] for o in objectives.values()} == {"pass"}, {i: o["reason"] for i, o in objectives.items()}
    assert any("http_server_request_duration_seconds_bucket" in q for q in objectives["p99_latency"]["queries"])
    assert any('http_response_status_code=~"5.."' in q for q in objectives["error_rate"]["queries"])
    # The semantic conventions' bounds, read back in seconds: 0.5 s grades P99 < 500 ms exactly.
    bounds = [b for b, _ in objectives["p99_latency"]["detail"]["buckets"]]
    assert bounds == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, None]
    assert objectives["throughput"]["measured"] == pytest.approx(50, rel=0.15)


@pytest.mark.parametrize("service", [("otel", "--slow-fraction", "0.1", "--slow-ms", "800")], indirect=True,
                         ids=["otel-slow"])
def test_an_opentelemetry_sdk_app_with_a_tenth_of_requests_slowed_fails_p99_and_nothing_else(tmp_path, service):
    # 20 users carry the 800 ms requests (about 4 in flight), so the schedule is kept.
    proc, doc, objectives = run(tmp_path, service, "opentelemetry", "--users", "20")
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert objectives["p99_latency"]["status"] == "fail", objectives["p99_latency"]["reason"]
    assert 0.8 <= objectives["p99_latency"]["detail"]["fraction_at_or_below"] <= 0.96  # about 90 % ≤ 500 ms
    assert objectives["error_rate"]["status"] == "pass" and objectives["error_rate"]["measured"] == 0
    assert objectives["p50_latency"]["status"] == "pass" and objectives["availability"]["status"] == "pass"


@pytest.mark.parametrize("service", [("instrumentator",)], indirect=True, ids=["instrumentator"])
def test_a_fastapi_instrumentator_app_that_is_healthy_passes_from_its_default_metrics(tmp_path, service):
    proc, doc, objectives = run(tmp_path, service, "fastapi-instrumentator")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert doc["source"] == "prometheus"
    assert {o["status"] for o in objectives.values()} == {"pass"}, {i: o["reason"] for i, o in objectives.items()}
    assert any("http_request_duration_seconds_bucket" in q for q in objectives["p99_latency"]["queries"])
    assert any('http_requests_total{job="service",status=~"5.."}' in q for q in objectives["error_rate"]["queries"])


@pytest.mark.parametrize("service", [("instrumentator", "--error-fraction", "0.05")], indirect=True,
                         ids=["instrumentator-503s"])
def test_a_fastapi_instrumentator_app_answering_5_percent_503s_fails_the_error_rate_from_its_5xx_class(tmp_path,
                                                                                                        service):
    proc, doc, objectives = run(tmp_path, service, "fastapi-instrumentator")
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    error_rate = objectives["error_rate"]
    assert error_rate["status"] == "fail", error_rate["reason"]
    assert 0.02 <= error_rate["measured"] <= 0.09  # the status="5xx" series counted as 5xx
    assert objectives["p50_latency"]["status"] == "pass" and objectives["p99_latency"]["status"] == "pass"
