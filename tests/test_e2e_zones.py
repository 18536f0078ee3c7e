"""Load zones across real hosts: three zone workers whose paths to the service carry 0, 40 and 250 ms each way.

Network namespaces (``tests.support.netns``): the demo API on ``svc``, the master on ``master``,
and one worker on each of ``near``, ``mid`` and ``far`` (``loadgate worker --zone NAME``). This
kernel has no ``netem`` qdisc, so each zone's host runs a delaying TCP relay
(``tests.support.relay``) on its own loopback, 127.0.0.1:8001, forwarding to the service; the
master's ``--host http://127.0.0.1:8001`` therefore reaches the service through the worker's own
zone's path (every namespace has its own loopback). The near zone's relay has no delay, so every
zone pays the same relay overhead and the zones differ only by their delay.

One distributed run (client side, no Prometheus: zones are graded from the client side) is
graded by every test here. Needs root and iproute2 (CI runs as root).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import E2E_RUNS
from tests.support.netns import Lab, available
from tests.support.require import missing
from tests.support.schemas import problems

REPO = Path(__file__).resolve().parent.parent
# Solo: it measures each zone's latency to the millisecond, and beside another load test the near and
# mid zones' p99 passed 400 ms (worker stalls on the shared cores), failing them with the far zone.
pytestmark = [pytest.mark.e2e, pytest.mark.solo]

API_PORT, RELAY_PORT, MASTER_PORT = 8000, 8001, 5557
#: Each zone's delay each way, ms; a round trip gains twice that.
DELAYS_MS = {"near": 0, "mid": 40, "far": 250}
#: ``zones: each`` p99 < 400 ms (a bucket bound, so graded exactly): mid's p99 is its 80 ms round
#: trip plus the service's own p99 (and any stall of the shared cores), far's at least its 500 ms
#: round trip: 100 ms of margin on the far side, 320 ms on the middle one.
SPEC = """\
version: loadgate/v1
name: zones
objectives:
  - id: p99_each_zone
    title: P99 latency in each zone
    kind: latency
    percentile: 99
    threshold: "< 400ms"
    zones: each
  - id: errors_each_zone
    title: Error rate in each zone
    kind: error_rate
    threshold: "< 1%"
    zones: each
  - id: p99_overall
    title: P99 latency overall
    kind: latency
    percentile: 99
    threshold: "< 1s"
"""


def _wait_ready(log: Path, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and "ready" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the relay did not start; see {log}")


@pytest.fixture(scope="module")
def zoned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One 17 s run (12 s graded) at 60 req/s from three zones: the master's exit code, its log,
    ``verdict.json``, ``run.json`` and the run directory. 45 users (15 a worker) carry far's 20
    req/s at 500 ms (10 busy on average) and are few to spawn: spawning users stalls the workers
    on two shared cores (requests sent over 100 ms late). They are spawned in the ramp-up's first
    half; spawned across all of it, the last spawns' stall reached the graded window and once put
    the mid zone's p99 over 400 ms."""
    why = available()
    if why:
        missing(why)
    tmp = tmp_path_factory.mktemp("zones")
    out = tmp / "run"
    spec = tmp / "zones.yaml"
    spec.write_text(SPEC)
    with Lab(["svc", "master", *DELAYS_MS]) as lab:
        svc, master = lab.address("svc"), lab.address("master")
        lab.start("svc", [sys.executable, "-m", "demo_api", "--host", svc, "--port", str(API_PORT)],
                  tmp / "demo_api.log", cwd=REPO)
        for zone, delay in DELAYS_MS.items():
            lab.start(zone, [sys.executable, "-m", "tests.support.relay", "--listen", f"127.0.0.1:{RELAY_PORT}",
                             "--to", f"{svc}:{API_PORT}", "--delay-ms", str(delay)], tmp / f"relay-{zone}.log",
                      cwd=REPO)
        lab.wait_port("svc", API_PORT)
        for zone in DELAYS_MS:
            _wait_ready(tmp / f"relay-{zone}.log")
        proc = lab.start("master", [
            sys.executable, "-m", "loadgate", "run", "--master", "--expect-workers", str(len(DELAYS_MS)),
            "--expect-workers-timeout", "40", "--master-bind-host", master, "--master-bind-port", str(MASTER_PORT),
            "--host", f"http://127.0.0.1:{RELAY_PORT}", "--spec", str(spec), "--rate", "60", "--users", "45",
            "--duration", "17", "--rampup", "5", "--out", str(out)], tmp / "master.log", cwd=REPO)
        for zone in DELAYS_MS:
            lab.start(zone, [sys.executable, "-m", "loadgate", "worker", "--master", f"{master}:{MASTER_PORT}",
                             "--zone", zone], tmp / f"worker-{zone}.log", cwd=REPO)
        code = proc.wait(timeout=120)
    log = (tmp / "master.log").read_text(errors="replace")
    assert (out / "verdict.json").is_file(), log[-3000:]
    E2E_RUNS.append(out)
    yield {"code": code, "log": log, "out": out, "verdict": json.loads((out / "verdict.json").read_text()),
           "run": json.loads((out / "run.json").read_text())}


def _figures(zoned: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["zone"]: f for f in zoned["run"]["zones"]["figures"]}


def _objective(zoned: dict[str, Any], oid: str) -> dict[str, Any]:
    return next(o for o in zoned["verdict"]["objectives"] if o["id"] == oid)


def test_every_zone_reports_through_the_run_with_its_own_counts(zoned):
    figures = _figures(zoned)
    assert sorted(figures) == sorted(DELAYS_MS) and zoned["run"]["zones"]["lost"] == {}
    checks = {c["id"]: c for c in zoned["verdict"]["validity"]["checks"]}
    # Not late_requests: on two cores shared with the rest of the suite, the ramp-up's stalls can
    # reach the window's first report (runs here measured 1.1 to 2.4 % sent over 100 ms late).
    assert all(checks[c]["status"] == "ok" for c in ("generator_exit", "achieved_rate", "lost_workers")), checks
    # The zones' counts add up to the run's (over the same graded window).
    overall = _objective(zoned, "p99_overall")["events"]
    assert sum(f["responses"] for f in figures.values()) == pytest.approx(overall, rel=0.01)
    for zone, f in figures.items():
        # Each worker's share is a third of the 60 req/s; every zone's requests were answered.
        assert f["workers"] == 1 and f["failures"] == 0, (zone, f)
        assert 15 <= f["throughput_per_s"] <= 22, (zone, f)


def test_each_zones_p50_moves_by_its_round_trip(zoned):
    """p50(zone) - p50(near) is the zone's round trip, 2 x its delay: never less than it (the relay
    holds every byte at least its delay; the near zone pays the same relay without one) minus 5 ms
    of the service's own spread between zones, and at most 10 % + 15 ms more (the relays' timers
    and the workers share two cores with everything else)."""
    figures = _figures(zoned)
    near = figures["near"]["p50_s"]
    for zone in ("mid", "far"):
        rtt = 2 * DELAYS_MS[zone] / 1000.0
        moved = figures[zone]["p50_s"] - near
        assert rtt - 0.005 <= moved <= rtt * 1.1 + 0.015, (zone, moved, figures)


def test_a_zones_each_p99_objective_fails_for_the_far_zone_only_and_names_it(zoned):
    assert zoned["code"] == 1, zoned["log"][-3000:]
    o = _objective(zoned, "p99_each_zone")
    assert o["status"] == "fail" and "fails in far" in o["reason"], o["reason"]
    zones = o["detail"]["zones"]
    assert {z: zones[z]["status"] for z in zones} == {"near": "pass", "mid": "pass", "far": "fail"}
    assert o["detail"]["zone_source"] == "client side, per zone" and o["detail"]["deciding_zone"] == "far"
    assert zones["far"]["measured"] >= 0.5 and zones["mid"]["measured"] < 0.4
    # Measured in every zone, and the objectives graded overall are as before.
    assert _objective(zoned, "errors_each_zone")["status"] == "pass"
    assert _objective(zoned, "p99_overall")["status"] == "pass"


def test_the_zones_are_shown_per_zone_in_every_output_and_validate(zoned):
    out = zoned["out"]
    summary, report = (out / "summary.md").read_text(), (out / "report.html").read_text()
    for text in (summary, report, zoned["log"]):
        assert "client side, per zone" in text
        assert all(zone in text for zone in DELAYS_MS)
    assert "**Load zones**" in summary and 'id="zones"' in report
    assert problems(zoned["verdict"], "verdict") == [] and problems(zoned["run"], "run") == []
    # The client series carries each zone's counts, and the loss events would name their zone.
    rows = [json.loads(line) for line in (out / "client_series.jsonl").read_text().splitlines()[1:]]
    assert any(sorted(r.get("zones", {})) == sorted(DELAYS_MS) for r in rows)
