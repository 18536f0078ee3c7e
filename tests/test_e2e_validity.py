"""Run validity through the CLI: a run that could not deliver its load is inconclusive, never a
verdict on the service. Each test breaks the load generator for real (a SIGKILL, a lost worker, a
pool of users too small, a CPU asked for more than it can send) against a healthy demo API."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from loadgate.promserver import INSTALL_HINT, binaries
from tests.conftest import E2E_RUNS
from tests.support.require import missing
from tests.test_e2e_lifecycle import descendants

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def needs_prometheus() -> None:
    if binaries() is None:
        missing(f"Prometheus is not installed; {INSTALL_HINT}")


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def demo_killing(tmp_path: Path, *args: str, victim: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any],
                                                                    dict[str, Any]]:
    """A demo that SIGKILLs one of its load-generator processes after 6 s of steady state:
    ``victim`` is ``locust`` (the Locust process loadgate started) or ``worker`` (one of its workers)."""
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "loadgate", "demo", "--duration", "18", "--rampup", "3",
                             "--rate", "100", "--out", str(out), *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    series = out / "client_series.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (series.exists() and series.read_text().count('"t":') >= 10):
        time.sleep(0.5)
    locusts = [pid for pid in descendants(proc.pid) if " -m locust " in cmdline(pid)]
    leader = min(locusts)  # the one loadgate started; with --processes, its workers are its children
    pid = leader if victim == "locust" else max(p for p in locusts if p != leader)
    os.kill(pid, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=150)
    E2E_RUNS.append(out)
    completed = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return completed, json.loads((out / "verdict.json").read_text()), json.loads((out / "run.json").read_text())


def failed_checks(doc: dict[str, Any]) -> set[str]:
    return {c["id"] for c in doc["validity"]["checks"] if c["status"] == "invalid"}


def test_a_load_generator_killed_mid_run_is_inconclusive_not_a_failure_of_the_service(tmp_path):
    needs_prometheus()
    proc, doc, run = demo_killing(tmp_path, victim="locust")
    assert proc.returncode == 3, proc.stdout + proc.stderr[-3000:]
    assert doc["verdict"] == "inconclusive" and "generator_exit" in failed_checks(doc)
    assert doc["validity"] == {**run["validity"]} and doc["validity"]["valid"] is False
    assert "killed by SIGKILL" in doc["reason"]
    objectives = {o["id"]: o for o in doc["objectives"]}
    # The window ends at the generator's last report: no slices after it was gone count against availability.
    assert objectives["availability"]["status"] == "pass", objectives["availability"]["reason"]
    assert objectives["throughput"]["status"] == "inconclusive" and objectives["throughput"]["problem"] == "invalid_run"
    assert doc["window"]["end_unix"] - run["test_started_unix"] < 15
    report = (tmp_path / "demo" / "report.html").read_text()
    assert "INVALID RUN" in report and "generator_exit" in report
    assert 'name="run validity"' in (tmp_path / "demo" / "junit.xml").read_text()


def test_a_worker_lost_mid_run_makes_the_run_invalid(tmp_path):
    needs_prometheus()
    proc, doc, _ = demo_killing(tmp_path, "--processes", "2", victim="worker")
    assert proc.returncode == 3, proc.stdout + proc.stderr[-3000:]
    assert "lost_workers" in failed_checks(doc)
    check = next(c for c in doc["validity"]["checks"] if c["id"] == "lost_workers")
    assert check["measured"] == 1 and check["limit"] == 2


def test_too_few_users_for_the_schedule_make_late_requests_and_an_invalid_run(tmp_path):
    """Every request takes 50 ms and 2 users can send 40 a second of the 100 asked: the service
    meets its latency objectives (the server's figure), but the load was not delivered. The
    backlog is bounded: a request still queued 1 s (--max-late) past its time is dropped unsent."""
    needs_prometheus()
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--duration", "14", "--rampup", "2", "--rate",
                           "100", "--users", "2", "--slow-fraction", "1", "--slow-ms", "50", "--max-late", "1",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    E2E_RUNS.append(out)
    doc = json.loads((out / "verdict.json").read_text())
    assert proc.returncode == 3, proc.stdout + proc.stderr[-3000:]
    assert {"late_requests", "achieved_rate"} <= failed_checks(doc)
    late = next(c for c in doc["validity"]["checks"] if c["id"] == "late_requests")
    assert "dropped unsent" in late["reason"]
    latency = json.loads((out / "run.json").read_text())["client_latency"]
    assert latency["dropped"]["count"] > 100  # about 60 a second could not be sent
    assert 1.0 <= latency["corrected"]["p99"] < 2.0  # a dropped request waited 1 s and a little
    assert "dropped unsent" in (out / "report.html").read_text()
    objectives = {o["id"]: o for o in doc["objectives"]}
    assert objectives["p99_latency"]["status"] == "pass"  # the server answered in 50 ms
    assert doc["reason"].startswith("invalid run: ")
    # With --allow-invalid the same run is graded, with the checks as warnings.
    allowed = tmp_path / "allowed"
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--duration", "10", "--rampup", "2", "--rate",
                           "100", "--users", "2", "--slow-fraction", "1", "--slow-ms", "50", "--out", str(allowed),
                           "--allow-invalid", "--no-prometheus"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    doc = json.loads((allowed / "verdict.json").read_text())
    assert proc.returncode == 1 and doc["verdict"] == "fail"  # throughput 40 of 180 req/s, graded
    assert doc["validity"]["enforced"] is False and "late_requests" in failed_checks(doc)
    assert "--allow-invalid" in (allowed / "summary.md").read_text()


HEAVY = """
import hashlib

from scenarios import OpenModelUser


class Heavy(OpenModelUser):
    def send(self, due):
        data = b"x"
        for _ in range(10_000):  # a few ms of CPU per request: the generator, not the service, is the limit
            data = hashlib.sha256(data).digest()
        self.client.get("/ping")
"""


@pytest.mark.solo  # the generator's core must be its own: beside other load tests it was busy half as long
def test_a_generator_asked_for_far_more_than_its_core_can_send_is_invalid(tmp_path, ping_service):
    from tests.test_e2e_custom import run_custom

    proc, doc, _, _ = run_custom(tmp_path, ping_service.url, HEAVY, "--rate", "1000", "--users", "50")
    assert proc.returncode == 3, proc.stdout + proc.stderr[-3000:]
    assert {"generator_cpu", "achieved_rate"} <= failed_checks(doc)
    check = next(c for c in doc["validity"]["checks"] if c["id"] == "generator_cpu")
    assert check["measured"] > 0.5
    # It says what the target needs: at a few ms of CPU a request, several processes of one core each.
    needed = re.search(r"1,000 req/s needs about (\d+) load-generator processes", check["reason"])
    assert needed and int(needed.group(1)) >= 2, check["reason"]
    throughput = next(o for o in doc["objectives"] if o["id"] == "throughput")
    assert throughput["status"] == "inconclusive" and throughput["problem"] == "invalid_run"  # not measurable
    # The objective names the checks; their reasons are said once, with the verdict.
    assert "generator_cpu" in throughput["reason"] and "needs about" not in throughput["reason"]
    assert needed.group(0) in doc["reason"]
