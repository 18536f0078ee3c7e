"""Process hygiene and plain Locust: the scenarios run under ``locust`` itself, and nothing is orphaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadgate.promserver import binaries

REPO = Path(__file__).resolve().parent.parent


def plain_locust(tmp_path: Path, *extra: str, length: tuple[str, ...] = ("--lg-duration", "6")
                 ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``locust -f locustfile.py --headless`` for 6 s (``length``) at 40 req/s against a demo API;
    (process, series file)."""
    from loadgate import procs

    port = procs.free_port()
    api = procs.start([sys.executable, "-m", "demo_api", "--port", str(port)], tmp_path / "api.log")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", api, tmp_path / "api.log")
        series = tmp_path / "series.jsonl"
        proc = subprocess.run([sys.executable, "-m", "locust", "-f", "locustfile.py", "--headless",
                               "--host", f"http://127.0.0.1:{port}", "--lg-rate", "40", *length,
                               "--lg-rampup", "1", "--lg-series-file", str(series), "--json-file",
                               str(tmp_path / "locust"), *extra], cwd=REPO, capture_output=True, text=True, timeout=90)
    finally:
        procs.stop(api)
    return proc, series


@pytest.mark.e2e
def test_plain_locust_runs_the_scenarios_with_loadgate_options(tmp_path):
    proc, series = plain_locust(tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from analysis.client_series import parse_series

    parsed = parse_series(series.read_text().splitlines())
    assert parsed.started is not None and parsed.stopped is not None
    final = parsed.snapshots[-1]
    assert sum(final.responses.values()) > 100
    assert not any(result == "failure" for (_, _, result, _) in final.responses)


@pytest.mark.e2e
def test_plain_locust_takes_u_as_the_concurrency_and_t_always_ends_the_run(tmp_path):
    from analysis.client_series import parse_series

    for name, length in (("t_alone", ("-t", "4s")), ("t_before_the_shape", ("--lg-duration", "60", "-t", "4s"))):
        began = time.monotonic()
        proc, series = plain_locust(tmp_path / name, "-u", "7", length=length)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert time.monotonic() - began < 30, name  # not the shape's 60 s
        assert "will be ignored" not in proc.stderr  # Locust's warning that a shape silences -u and -t
        parsed = parse_series(series.read_text().splitlines())
        assert parsed.started is not None and parsed.stopped is not None
        assert parsed.stopped - parsed.started == pytest.approx(4, abs=1.0), name
        assert parsed.concurrency == 7 and parsed.model == "open" and parsed.user_classes == ("ClientUser",)
        assert max(s.users.get("ClientUser", 0) for s in parsed.snapshots) == 7
        assert sum(parsed.snapshots[-1].responses.values()) > 60  # the ramp to 40 req/s, then 3 s of it


@pytest.mark.e2e
def test_the_web_uis_start_form_sets_the_rate_the_concurrency_and_the_run_time(tmp_path):
    import requests

    from analysis.client_series import parse_series
    from loadgate import procs

    port, web = procs.free_port(), procs.free_port()
    api = procs.start([sys.executable, "-m", "demo_api", "--port", str(port)], tmp_path / "api.log")
    series = tmp_path / "series.jsonl"
    locust = None
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", api, tmp_path / "api.log")
        locust = procs.start([sys.executable, "-m", "locust", "-f", str(REPO / "locustfile.py"), "--web-host",
                              "127.0.0.1", "--web-port", str(web), "--host", f"http://127.0.0.1:{port}",
                              "--lg-rampup", "1", "--lg-series-file", str(series)], tmp_path / "locust.log")
        procs.wait_http(f"http://127.0.0.1:{web}/", locust, tmp_path / "locust.log")
        answer = requests.post(f"http://127.0.0.1:{web}/swarm", timeout=10, data={
            "user_count": "6", "spawn_rate": "6", "host": f"http://127.0.0.1:{port}", "run_time": "4s",
            "lg_rate": "30"}).json()
        assert answer["success"], answer
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and '"test_stop"' not in series.read_text():
            time.sleep(0.5)
        time.sleep(1.5)  # the snapshot after the stop
    finally:
        if locust is not None:
            procs.stop(locust)
        procs.stop(api)
    parsed = parse_series(series.read_text().splitlines())
    assert parsed.started is not None and parsed.stopped is not None, "the form's run never stopped"
    assert parsed.stopped - parsed.started == pytest.approx(4, abs=1.0)
    assert max(s.target_rate for s in parsed.snapshots) == 30 and parsed.concurrency == 6
    responses = sum(parsed.snapshots[-1].responses.values())
    assert 30 * 2.5 <= responses <= 30 * 4.5  # a 1 s ramp to 30 req/s, then 3 s of it


@pytest.mark.e2e
def test_cached_reads_draw_from_the_ids_given_and_a_bad_id_space_stops_locust_at_once(tmp_path):
    from analysis.client_series import parse_series

    # The demo API holds users 1..100,000: ids beyond it fail every profile read (404) and the batches
    # that read profiles, and never a page of items.
    proc, series = plain_locust(tmp_path / "beyond", "--lg-ids", "200001-200050", "--exit-code-on-error", "0")
    assert proc.returncode == 0, proc.stderr[-2000:]
    final = parse_series(series.read_text().splitlines()).snapshots[-1]
    outcomes = {(endpoint, result, code) for (endpoint, _, result, code) in final.responses}
    assert {o for o in outcomes if o[0] == "/api/users/{id}"} == {("/api/users/{id}", "failure", "404")}
    assert ("/api/batch", "failure", "200") in outcomes
    assert {o[1] for o in outcomes if o[0] == "/api/items"} == {"ok"}
    proc, _ = plain_locust(tmp_path / "bad", "--lg-ids", "9-5")
    assert proc.returncode == 2
    assert "loadgate: --lg-ids: the id range '9-5'" in proc.stderr and "Traceback" not in proc.stderr


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for its parent)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _steady_s(series: Path, rampup_s: float) -> float:
    """Seconds of steady state the client series holds so far (its last snapshot after the test's
    start and ramp-up; -1 before the test started)."""
    rows = []
    for line in series.read_text().splitlines() if series.exists() else ():
        try:
            rows.append(json.loads(line))
        except ValueError:
            break  # a line being written
    start = next((r["t"] for r in rows if r.get("event") == "test_start"), None)
    last = max((r["t"] for r in rows if "target_rate" in r), default=None)  # the snapshots
    return -1.0 if start is None or last is None else float(last) - float(start) - rampup_s


@pytest.mark.e2e
@pytest.mark.skipif(binaries() is None and not os.environ.get("CI"), reason="Prometheus is not installed")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_mid_run_stops_every_descendant_and_keeps_what_was_measured(tmp_path, sig):
    out = tmp_path / "demo"
    proc = subprocess.Popen([sys.executable, "-m", "loadgate", "demo", "--duration", "60", "--rampup", "3",
                             "--processes", "2", "--rate", "100", "--out", str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    series = out / "client_series.jsonl"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _steady_s(series, rampup_s=3) < 6:
            time.sleep(0.5)  # the test started, then 3 s of ramp-up and 6 s of steady state
        children = descendants(proc.pid)
        # The demo API, Prometheus, Locust and its 2 workers.
        assert _steady_s(series, rampup_s=3) >= 6 and len(children) >= 5, children
    except BaseException:
        # SIGTERM first: loadgate stops its children (each in a session of its own); SIGKILL would orphan them.
        proc.terminate()
        try:
            print(proc.communicate(timeout=60)[1][-3000:])
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        raise
    began = time.monotonic()
    os.kill(proc.pid, sig)  # loadgate alone: it must stop the rest itself
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 128 + sig, stderr[-3000:]
    assert time.monotonic() - began < 45, "it should stop within the bounded waits"
    time.sleep(0.5)
    assert [pid for pid in children if alive(pid)] == []
    assert "Traceback" not in stderr
    for path in out.rglob("*.json"):
        json.loads(path.read_text())  # every JSON file of the run parses (written atomically)
    doc, run = (json.loads((out / name).read_text()) for name in ("verdict.json", "run.json"))
    assert doc["verdict"] == "inconclusive" and doc["exit_code"] == 128 + sig
    assert doc["reason"].startswith(f"interrupted by {sig.name}")
    assert doc["interrupted"]["signal"] == sig.name == run["interrupted"]["signal"]
    assert 3 <= doc["window"]["seconds"] <= 20  # the steady part measured before the signal, graded
    assert all(o["measured"] is not None for o in doc["objectives"] if o["id"] != "availability")
    assert "INCOMPLETE: stopped by " + sig.name in (out / "report.html").read_text()
    assert "INCOMPLETE" in (out / "summary.md").read_text() and "INCONCLUSIVE" in stdout


@pytest.mark.e2e
def test_the_demo_api_keeps_idle_connections_as_long_as_asked(tmp_path):
    """uvicorn's own 5 s would close a paced free-tier user's connection between its requests (7.5 s apart)."""
    import socket

    from loadgate import procs

    servers = {}
    try:
        for name, extra in (("default", []), ("one_second", ["--keep-alive", "1"])):
            port = procs.free_port()
            log = tmp_path / f"{name}.log"
            servers[name] = (port, procs.start([sys.executable, "-m", "demo_api", "--port", str(port), *extra], log))
            procs.wait_http(f"http://127.0.0.1:{port}/healthz", servers[name][1], log)
        conns = {}
        for name, (port, _) in servers.items():
            conns[name] = socket.create_connection(("127.0.0.1", port), timeout=5)
            conns[name].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conns[name].recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(6)  # past uvicorn's own 5 s
        for name, conn in conns.items():
            # Drain what is left of the answer (its body may come in a later segment), then
            # either the server's FIN arrives (b"") or nothing does until the timeout.
            conn.settimeout(0.5)
            closed = False
            try:
                while not closed:
                    closed = conn.recv(4096) == b""
            except TimeoutError:
                pass
            conn.close()
            assert closed == (name == "one_second"), name
    finally:
        for _, proc in servers.values():
            procs.stop(proc)


@pytest.mark.e2e
def test_the_demo_runs_from_any_directory_with_its_bundled_spec(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--duration", "5", "--rampup", "1",
                           "--no-prometheus", "--rate", "40", "--out", "run"], cwd=elsewhere, capture_output=True,
                          text=True, timeout=120)
    doc = json.loads((elsewhere / "run" / "verdict.json").read_text())
    # Graded against the bundled local spec, found from another directory: 40 req/s misses its 180.
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert doc["spec"]["name"] == "local" and doc["spec"]["path"].endswith("slo/targets/local.yaml")
    assert "throughput" in [o["id"] for o in doc["objectives"] if o["status"] == "fail"]


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 KiB tmpfs (root only; CI runs as root), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.e2e
def test_a_disk_that_fills_mid_run_stops_it_at_once_with_exit_2_naming_the_path(small_disk):
    out = small_disk / "run"
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--duration", "60", "--rampup", "2",
                           "--rate", "200", "--no-prometheus", "--out", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert time.monotonic() - began < 30  # at once, not after the 60 s run and a timeout
    assert "no space left on device" in proc.stderr.lower() and str(out) in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 4
    series = out / "client_series.jsonl"
    if series.exists():  # whole lines only: the half-written one is cut off
        for line in series.read_text().splitlines():
            json.loads(line)


@pytest.mark.e2e
def test_a_disk_full_before_the_run_is_exit_2_before_any_load(small_disk):
    try:
        with (small_disk / "filler").open("wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass  # full
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--duration", "10", "--rampup", "2",
                           "--no-prometheus", "--out", str(small_disk / "run")], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "no space left on device" in proc.stderr.lower() and str(small_disk) in proc.stderr
    assert "Traceback" not in proc.stderr
    series = small_disk / "run" / "client_series.jsonl"
    assert not series.exists() or "test_start" not in series.read_text()  # no load test began
