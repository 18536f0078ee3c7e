"""Services instrumented by real libraries, graded end to end through their presets.

The apps of ``tests/support/instrumented_apps.py`` run on 127.0.0.1 for the module (the OpenTelemetry
SDK with its Prometheus exporter, and prometheus-fastapi-instrumentator's defaults, healthy and with
a fault each), scraped by one real Prometheus as a team's own would be. Each test runs
``loadgate run --prometheus URL --selector job=APP --preset NAME --spec tests/specs/http-service.yaml`` against one
with a small open-model locustfile, and checks that a healthy run passes and that injected slowness
or errors fail the objective they should, graded from the series the library itself exposes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from loadgate import procs
from loadgate.promserver import INSTALL_HINT, PrometheusServer, binaries
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


#: The apps, by name: which one, and its fault flags. All four run for the module, each its own job.
APPS = {"otel": ("otel",), "otel-slow": ("otel", "--slow-fraction", "0.1", "--slow-ms", "800"),
        "instrumentator": ("instrumentator",), "instrumentator-503s": ("instrumentator", "--error-fraction", "0.05")}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """Every app on 127.0.0.1 and one real Prometheus scraping each every second as its own job:
    ``(prometheus URL, {name: base URL})``. One Prometheus for the module, as a team's own would be."""
    if binaries() is None:
        missing(f"Prometheus is not installed; {INSTALL_HINT}")
    root = tmp_path_factory.mktemp("instrumented")
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        for name, (app, *flags) in APPS.items():
            port, log = procs.free_port(), root / f"{name}.log"
            proc = procs.start([sys.executable, "-m", "tests.support.instrumented_apps", app, "--port", str(port),
                                *flags], log, cwd=REPO)
            stack.callback(procs.stop, proc)
            procs.wait_http(f"http://127.0.0.1:{port}/healthz", proc, log)
            urls[name] = f"http://127.0.0.1:{port}"
        jobs = "".join(f"  - job_name: {name}\n    static_configs:\n      - targets: ['{url.removeprefix('http://')}']\n"
                       for name, url in urls.items())
        config = f"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{jobs}"
        prom = stack.enter_context(PrometheusServer(root / "prometheus", config))
        wait_for_scrapes(prom.url, len(urls))
        yield prom.url, urls


def wait_for_scrapes(url: str, targets: int, timeout_s: float = 20.0) -> None:
    """Until every target has been scraped once (Prometheus batches its first discovery for about 5 s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = requests.get(f"{url}/api/v1/query", params={"query": "count(up == 1)"}, timeout=2).json()
        found = answer.get("data", {}).get("result") or []
        if found and float(found[0]["value"][1]) >= targets:
            return
        time.sleep(0.3)
    raise TimeoutError(f"Prometheus at {url} did not scrape all {targets} apps in {timeout_s:g}s")


def wait_for_samples(url: str, job: str, samples: int = 3, timeout_s: float = 20.0) -> None:
    """Until ``job`` has been scraped ``samples`` times in the last minute (a rate needs two)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = requests.get(f"{url}/api/v1/query", params={"query": f'count_over_time(up{{job="{job}"}}[1m])'},
                              timeout=2).json()
        found = answer.get("data", {}).get("result") or []
        if found and float(found[0]["value"][1]) >= samples:
            return
        time.sleep(0.3)
    raise TimeoutError(f"{job} was not scraped {samples} times in {timeout_s:g}s")


def run(tmp_path: Path, services: tuple[str, dict[str, str]], app: str, preset: str,
        *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], dict[str, dict[str, Any]]]:
    """``loadgate run --prometheus URL --selector job=APP`` at 50 req/s for 8 s, graded through
    ``preset``: the process, verdict.json, and its objectives by id."""
    prometheus, urls = services
    locustfile, out = tmp_path / "pinger.py", tmp_path / "run"
    locustfile.write_text(PINGER)
    proc = subprocess.run([sys.executable, "-m", "loadgate", "run", "--host", urls[app], "--prometheus", prometheus,
                           "--selector", f'job="{app}"', "--preset", preset, "--spec", str(SPEC), "--locustfile",
                           str(locustfile), "--rate", "50", "--duration", "8", "--rampup", "1", "--out", str(out),
                           *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert (out / "verdict.json").is_file(), proc.stderr[-3000:]
    E2E_RUNS.append(out)
    doc = json.loads((out / "verdict.json").read_text())
    return proc, doc, {o["id"]: o for o in doc["objectives"]}


def test_an_opentelemetry_sdk_app_that_is_healthy_passes_from_its_exporter_series(tmp_path, services):
    proc, doc, objectives = run(tmp_path, services, "otel", "opentelemetry")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert doc["source"] == "prometheus" and doc["validity"]["valid"] is True
    assert {o["status"] for o in objectives.values()} == {"pass"}, {i: o["reason"] for i, o in objectives.items()}
    assert any("http_server_request_duration_seconds_bucket" in q for q in objectives["p99_latency"]["queries"])
    assert any('http_response_status_code=~"5.."' in q for q in objectives["error_rate"]["queries"])
    # The semantic conventions' bounds, read back in seconds: 0.5 s grades P99 < 500 ms exactly.
    bounds = [b for b, _ in objectives["p99_latency"]["detail"]["buckets"]]
    assert bounds == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, None]
    assert objectives["throughput"]["measured"] == pytest.approx(50, rel=0.15)


def test_an_opentelemetry_sdk_app_with_a_tenth_of_requests_slowed_fails_p99_and_nothing_else(tmp_path, services):
    # 20 users carry the 800 ms requests (about 4 in flight), so the schedule is kept.
    proc, doc, objectives = run(tmp_path, services, "otel-slow", "opentelemetry", "--users", "20")
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert objectives["p99_latency"]["status"] == "fail", objectives["p99_latency"]["reason"]
    assert 0.8 <= objectives["p99_latency"]["detail"]["fraction_at_or_below"] <= 0.96  # about 90 % ≤ 500 ms
    assert objectives["error_rate"]["status"] == "pass" and objectives["error_rate"]["measured"] == 0
    assert objectives["p50_latency"]["status"] == "pass" and objectives["availability"]["status"] == "pass"


def test_a_fastapi_instrumentator_app_that_is_healthy_passes_from_its_default_metrics(tmp_path, services):
    proc, doc, objectives = run(tmp_path, services, "instrumentator", "fastapi-instrumentator")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert doc["source"] == "prometheus"
    assert {o["status"] for o in objectives.values()} == {"pass"}, {i: o["reason"] for i, o in objectives.items()}
    assert any("http_request_duration_seconds_bucket" in q for q in objectives["p99_latency"]["queries"])
    assert any('http_requests_total{job="instrumentator",status=~"5.."}' in q
               for q in objectives["error_rate"]["queries"])


def test_a_fastapi_instrumentator_app_answering_5_percent_503s_fails_the_error_rate_from_its_5xx_class(tmp_path,
                                                                                                        services):
    proc, doc, objectives = run(tmp_path, services, "instrumentator-503s", "fastapi-instrumentator")
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    error_rate = objectives["error_rate"]
    assert error_rate["status"] == "fail", error_rate["reason"]
    assert 0.02 <= error_rate["measured"] <= 0.09  # the status="5xx" series counted as 5xx
    assert objectives["p50_latency"]["status"] == "pass" and objectives["p99_latency"]["status"] == "pass"


@pytest.mark.parametrize(("app", "preset"), [("otel", "opentelemetry"), ("instrumentator", "fastapi-instrumentator")])
def test_inspect_finds_each_librarys_preset_and_its_starter_spec_is_graded_as_written(cli, tmp_path, services, app,
                                                                                      preset):
    prometheus, _ = services
    wait_for_samples(prometheus, app)
    starter = tmp_path / "starter.yaml"
    found = cli("inspect", "--prometheus", prometheus, "--selector", f'job="{app}"', "--out", str(starter))
    assert found.code == 0, found.err
    assert f"Fits: preset {preset} " in found.out and "up targets: 1" in found.out
    assert "p99_latency: exact: a bucket at 500 ms" in found.out  # both libraries' buckets hold 0.5 s
    assert cli("validate", str(starter)).code == 0
    graded = cli("gate", "--prometheus", prometheus, "--last", "1m", "--spec", str(starter), "--out",
                 str(tmp_path / "gate"))
    doc = json.loads((tmp_path / "gate" / "verdict.json").read_text())
    statuses = {o["id"]: o["status"] for o in doc["objectives"]}
    # Only Prometheus's own scrapes reached the app in that minute: far from the table's 10,000 req/s.
    assert graded.code == 1 and statuses.pop("throughput") == "fail", (graded.err, statuses)
    assert "cache_hit_rate" not in statuses and set(statuses.values()) <= {"pass", "warn"}, statuses
