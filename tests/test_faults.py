"""A drill's actions: ``--fault``/``--recover`` parsed and checked through the CLI (exit 2 naming the
flag and the bad part, before anything starts), and the runner's commands, timed out, failed or
cut short by the end of the run, never left running."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import psutil
import pytest

from loadgate.fault_actions import CMD, KILL_API, check_actions, parse_timed
from loadgate.faults import Drill
from slo.timeline import DONE, FAILED, FAULT, NOT_RUN, RECOVER, TIMED_OUT


def test_an_action_reads_its_time_in_seconds_or_with_a_unit_and_keeps_the_command_whole():
    kill = parse_timed("20:kill-api:2", FAULT)
    assert (kill.at_s, kill.kind, kill.process, kill.action) == (20.0, KILL_API, 2, "kill-api:2")
    command = parse_timed("1.5m:cmd:docker kill db:latest", RECOVER)
    assert (command.at_s, command.kind, command.command) == (90.0, CMD, "docker kill db:latest")


@pytest.mark.parametrize("flag, text, message", [
    ("--fault", "20", "expected AT:ACTION"),
    ("--fault", "soon:kill-api:1", "'soon' in 'soon:kill-api:1' is no time"),
    ("--fault", "-3:kill-api:1", "is no time"),
    ("--fault", "20:kil-api:1", "unknown action 'kil-api' in '20:kil-api:1'; one of kill-api:N, cmd:COMMAND"),
    ("--fault", "20:kill-api:0", "kill-api needs the process number N"),
    ("--fault", "20:cmd:", "cmd: needs a command"),
    ("--recover", "20:kill-api:1", "is a fault, not a recovery"),
])
def test_a_bad_action_is_exit_2_naming_the_flag_and_the_bad_part(cli, tmp_path, flag, text, message):
    result = cli("demo", f"{flag}={text}", "--out", str(tmp_path / "run"))
    assert result.code == 2 and f"argument {flag}: " in result.err and message in result.err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (("demo", "--duration", "30", "--rampup", "10", "--fault", "20:cmd:true"),
     "--fault 20:cmd:true: 20s is not inside the steady state, which lasts 20s"),
    (("demo", "--api-processes", "2", "--fault", "5:kill-api:3"), "there are only 2 demo API processes"),
    (("run", "--host", "http://127.0.0.1:9", "--fault", "5:kill-api:1"), "kill-api applies to loadgate demo only"),
])
def test_an_action_the_plan_cannot_run_is_exit_2_before_anything_starts(cli, tmp_path, args, message):
    result = cli(*args, "--out", str(tmp_path / "run"))
    assert result.code == 2 and message in result.err, result.err
    assert not (tmp_path / "run").exists()


def test_check_actions_counts_the_backup_zone_among_the_processes():
    assert check_actions([parse_timed("5:kill-api:3", FAULT)], 20, 3) is None


def _drill(tmp_path, *texts, timeout_s=5.0, targets=()):
    actions = [parse_timed(t, RECOVER if t.startswith("r") else FAULT) for t in texts]
    return Drill(actions, out=tmp_path / "drill", stderr=io.StringIO(), targets=targets, timeout_s=timeout_s)


def _wait_for(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def _leftover(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if marker in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


def test_commands_that_succeed_fail_or_hang_are_recorded_and_none_is_left_running(tmp_path):
    marker = f"sleep 3{os.getpid() % 1000:03d}"
    drill = _drill(tmp_path, "0:cmd:echo fine", "0:cmd:echo broken >&2; exit 3", f"0:cmd:{marker} & {marker}",
                   timeout_s=1.0)
    with drill:
        drill.begin(time.time())
        _wait_for(lambda: len(drill._results) == 3)
    ok, broken, hung = drill.results()
    assert (ok.status, ok.exit_code, ok.output_tail) == (DONE, 0, "fine\n")
    assert (broken.status, broken.exit_code, broken.output_tail) == (FAILED, 3, "broken\n")
    assert hung.status == TIMED_OUT and hung.exit_code is None and "--action-timeout" in hung.detail
    assert not _leftover(marker)  # the background child went with its process group


def test_a_command_still_running_when_the_run_ends_is_killed_and_later_actions_never_run(tmp_path):
    marker = f"sleep 4{os.getpid() % 1000:03d}"
    drill = _drill(tmp_path, f"0:cmd:{marker}", "60:cmd:true", timeout_s=30.0)
    with drill:
        drill.begin(time.time())
        _wait_for(lambda: bool(_leftover(marker)))
    running, later = drill.results()
    assert running.status == TIMED_OUT and "when the run ended" in running.detail
    assert later.status == NOT_RUN and later.started_unix is None
    assert not _leftover(marker)


def test_kill_api_kills_its_process_and_a_process_already_gone_is_a_failed_fault(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
             for _ in range(2)]
    try:
        procs[1].kill()
        procs[1].wait()
        drill = _drill(tmp_path, "0:kill-api:1", "0:kill-api:2", targets=[("first", procs[0]), ("second", procs[1])])
        with drill:
            drill.begin(time.time())
            _wait_for(lambda: len(drill._results) == 2)
        killed, gone = drill.results()
        assert procs[0].wait(timeout=5) == -9 and killed.status == DONE and "SIGKILL to first" in killed.detail
        assert gone.status == FAILED and "had already exited" in gone.detail
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
