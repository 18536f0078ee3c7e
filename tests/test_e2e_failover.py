"""Failover drills through the CLI: ``loadgate demo --api-processes N --fault AT:ACTION``.

Two demos, each graded by several tests (``tests/specs/failover.yaml``: p99 < 500 ms, errors < 1 %,
recovery < 15 s spending at most half the error budget):

* **one process of three killed**: nginx's passive health checks take it out of the ring, so
  the requests fail only around the kill and the service recovers within nginx's fail_timeout
  plus a few seconds; the recovery objective passes;
* **every process killed**, beside a ``cmd:`` fault that fails and one that hangs: the service
  never recovers, the recovery objective fails with "not recovered by the end of the run", both
  commands are named in the timeline, the run is still graded, and nothing is left running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import E2E_RUNS, REPO, DemoRun, _require_prometheus
from tests.support.schemas import check_tree

pytestmark = pytest.mark.e2e

SPEC = "tests/specs/failover.yaml"
#: nginx's fail_timeout in the demo (its default): a dead process is out of the ring this long.
FAIL_TIMEOUT_S = 10
#: A command line no other process on the machine has, to find what a hung command left behind.
HUNG = f"sleep 7{os.getpid() % 1000:03d}"


def _nginx() -> None:
    from loadgate.frontend import NGINX_HINT
    from tests.support.require import missing

    if not Path("/usr/sbin/nginx").exists():
        missing(f"nginx is not installed; {NGINX_HINT}")


def _demo(out: Path, *args: str) -> DemoRun:
    _require_prometheus()
    _nginx()
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--spec", SPEC, "--out", str(out), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=180)
    assert (out / "verdict.json").is_file(), proc.stderr[-3000:]
    E2E_RUNS.append(out)
    return DemoRun(proc, out, json.loads((out / "verdict.json").read_text()),
                   json.loads((out / "run.json").read_text()))


@pytest.fixture(scope="module")
def one_of_three_killed(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return _demo(tmp_path_factory.mktemp("failover") / "demo", "--api-processes", "3", "--duration", "40",
                 "--rampup", "5", "--fault", "8:kill-api:1", "--recover", "15:cmd:echo healed",
                 "--recovery-hold", "15")


@pytest.fixture(scope="module")
def every_process_killed(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    return _demo(tmp_path_factory.mktemp("lost") / "demo", "--api-processes", "2", "--duration", "30",
                 "--rampup", "5", "--fault", "8:kill-api:1", "--fault", "8:kill-api:2",
                 "--fault", "1:cmd:echo broken; exit 3", "--fault", f"1:cmd:{HUNG} & {HUNG}",
                 "--action-timeout", "2", "--recovery-hold", "15")


def _objective(doc: dict, oid: str) -> dict:
    return next(o for o in doc["objectives"] if o["id"] == oid)


def _faults(doc: dict) -> list[dict]:
    return [e for e in doc["timeline"]["events"] if e["role"] == "fault"]


def test_killing_one_of_three_processes_fails_over_within_nginx_fail_timeout_and_passes(one_of_three_killed):
    run = one_of_three_killed
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr[-3000:]
    kill, = _faults(run.doc)
    assert kill["status"] == "done" and "SIGKILL to demo API process 1 of 3" in kill["detail"]
    recovery = kill["recovery"]
    assert recovery["recovered"] and recovery["recovery_s"] <= FAIL_TIMEOUT_S + 5
    graded = _objective(run.doc, "recovery")
    assert graded["status"] == "pass" and graded["measured"] == recovery["recovery_s"]
    assert run.run["demo_api"]["max_fails"] == 1 and run.run["demo_api"]["fail_timeout_s"] == FAIL_TIMEOUT_S


def test_the_requests_fail_only_around_the_kill(one_of_three_killed):
    run = one_of_three_killed
    kill, = _faults(run.doc)
    # The client side counted every failure of the graded window between the kill and the recovery.
    failures = _objective(run.doc, "error_rate")["client"]["detail"]["failures"]
    assert failures == kill["recovery"]["failed_requests"]
    assert _objective(run.doc, "error_rate")["status"] == "pass"


def test_the_recovery_action_ran_and_every_output_shows_the_timeline(one_of_three_killed):
    run = one_of_three_killed
    healed, = [e for e in run.doc["timeline"]["events"] if e["role"] == "recover"]
    assert (healed["status"], healed["exit_code"], healed["output_tail"]) == ("done", 0, "healed\n")
    assert healed["recovery"] is None
    summary = (run.out / "summary.md").read_text()
    assert "**Failover drill**" in summary and "| 8 s | fault: kill-api:1 | ✔ done |" in summary
    report = (run.out / "report.html").read_text()
    assert 'id="timeline"' in report and "recovery action" in report  # the table, and the charts' marks
    assert check_tree(run.out) == []


def test_a_service_that_lost_every_process_is_not_recovered_by_the_end_of_the_run(every_process_killed):
    run = every_process_killed
    assert run.proc.returncode == 1, run.proc.stdout + run.proc.stderr[-3000:]
    graded = _objective(run.doc, "recovery")
    assert graded["status"] == "fail" and graded["reason"].startswith("not recovered by the end of the run")
    kills = [e for e in _faults(run.doc) if e["kind"] == "kill-api"]
    assert [k["status"] for k in kills] == ["done", "done"]
    assert all(not k["recovery"]["recovered"] and k["recovery"]["failed_requests"] > 0 for k in kills)
    assert kills[0]["recovery"]["first_failure_unix"] - kills[0]["started_unix"] <= 2
    assert run.doc["verdict"] == "fail" and check_tree(run.out) == []


def test_a_command_that_fails_and_one_that_hangs_are_named_and_the_run_is_still_graded(every_process_killed):
    run = every_process_killed
    broken, hung = [e for e in _faults(run.doc) if e["kind"] == "cmd"]
    assert (broken["status"], broken["exit_code"], broken["output_tail"]) == ("failed", 3, "broken\n")
    assert hung["status"] == "timed_out" and "still running after 2s" in hung["detail"]
    graded = _objective(run.doc, "recovery")
    assert "left out: cmd:echo broken; exit 3 at 1s failed" in graded["reason"]
    assert "timed out" in graded["reason"]
    assert all(o["status"] in ("pass", "fail", "warn") for o in run.doc["objectives"])


def test_nothing_the_drill_or_the_demo_started_is_left_running(every_process_killed, one_of_three_killed):
    for run in (every_process_killed, one_of_three_killed):
        left = [p.info for p in psutil.process_iter(["pid", "cmdline"])
                if HUNG in " ".join(p.info["cmdline"] or []) or str(run.out) in " ".join(p.info["cmdline"] or [])]
        assert left == []


def test_the_backup_zone_answers_every_request_once_the_primaries_are_gone(tmp_path):
    """No load test: two primaries and a backup behind the demo's nginx, the primaries killed in turn."""
    import requests

    from loadgate import procs
    from loadgate.frontend import HealthChecks, nginx_config, nginx_front

    _nginx()
    ports = [procs.free_port() for _ in range(3)]
    assert "error_page 502 504 = @backup;" in nginx_config(tmp_path, 1, ports[:2], ports[2:])
    apis = [procs.start([sys.executable, "-m", "demo_api", "--port", str(p), "--instance", str(i)],
                        tmp_path / f"api-{i}.log") for i, p in enumerate(ports)]
    try:
        for api, port in zip(apis, ports):
            procs.wait_http(f"http://127.0.0.1:{port}/healthz", api, tmp_path / "api.log")
        front = procs.free_port()
        with nginx_front(tmp_path / "nginx", front, ports[:2], ports[2:], HealthChecks(fail_timeout_s=5)), \
                requests.Session() as session:
            def codes() -> set[tuple[int, int]]:
                found = set()
                for k in range(40):
                    key = {"X-API-Key": f"pro-{k:06d}"}
                    read = session.get(f"http://127.0.0.1:{front}/api/users/{k + 1}", headers=key, timeout=10)
                    batch = session.post(f"http://127.0.0.1:{front}/api/batch", headers=key, timeout=10,
                                         json={"operations": [{"op": "get_user", "id": 3}]})
                    found.add((read.status_code, batch.status_code))
                return found

            etag = session.get(f"http://127.0.0.1:{front}/api/users/7", headers={"X-API-Key": "pro-000001"}).headers
            for api in apis[:2]:
                api.kill()
                api.wait()
                assert codes() == {(200, 200)}
            # The backup serves the same data: the primaries' ETag is still current there.
            again = session.get(f"http://127.0.0.1:{front}/api/users/7",
                                headers={"X-API-Key": "pro-000001", "If-None-Match": etag["etag"]})
            assert again.status_code == 304
    finally:
        for api in apis:
            procs.stop(api)
