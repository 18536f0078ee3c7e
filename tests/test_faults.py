"""A drill's actions: ``--fault``/``--recover`` parsed and checked through the CLI (exit 2 naming the
flag and the bad part, before anything starts), and the runner's commands, timed out, failed or
cut short by the end of the run, never left running; host actions on network namespaces run
against a fake ``ip``/``tc`` (the commands they send, what they undo), and checked before the run."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from loadgate.fault_actions import CMD, CUT, DELAY, HEAL, KILL_API, KILL_HOST, check_actions, check_hosts, parse_timed
from loadgate.faults import Drill
from loadgate.hosts import HostFaults, Result
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
    ("--fault", "20:kil-api:1", "unknown action 'kil-api' in '20:kil-api:1'; one of kill-api:N, kill-host:NAME, "
     "cut:NAME, heal:NAME, delay:NAME:MS, cmd:COMMAND"),
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


def test_a_command_never_sees_loadgates_prometheus_credentials(tmp_path, monkeypatch):
    """Its output reaches verdict.json, the report and summary.md, so the token must not be in reach."""
    monkeypatch.setenv("LOADGATE_PROM_TOKEN", "s3cret-token-for-the-test")
    monkeypatch.setenv("LOADGATE_DRILL_PROBE", "seen")
    drill = _drill(tmp_path, "0:cmd:echo token=$LOADGATE_PROM_TOKEN probe=$LOADGATE_DRILL_PROBE")
    with drill:
        drill.begin(time.time())
        _wait_for(lambda: len(drill._results) == 1)
    run, = drill.results()
    assert run.status == DONE and run.output_tail == "token= probe=seen\n"
    assert "s3cret" not in "".join(p.read_text() for p in tmp_path.rglob("*.log"))


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


def test_a_command_whose_time_comes_as_the_run_ends_never_starts(tmp_path):
    """The race a review found: the schedule's wait ends, then close() begins before the command's
    thread is started. That command must not run after the run (nor be missing from the results)."""
    mark = tmp_path / "ran"
    drill = _drill(tmp_path, f"0:cmd:touch {mark}")
    closers = []

    def wait_that_loses_the_race(timeout=None):
        # The wait ended just before close() set the flag: close now, then go on as if not stopped.
        closer = threading.Thread(target=drill.close)
        closer.start()
        closers.append(closer)
        _wait_for(drill._stop.is_set)
        return False

    drill._stop.wait = wait_that_loses_the_race  # type: ignore[method-assign]
    drill.begin(time.time())
    _wait_for(lambda: bool(closers) and not closers[0].is_alive())
    assert closers and not closers[0].is_alive()
    run, = drill.results()
    assert run.status == NOT_RUN and not mark.exists()
    time.sleep(0.3)  # a command started anyway would have touched it by now
    assert not mark.exists()


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


# Host actions on network namespaces (kill-host, cut, heal, delay): parsed, checked, run and undone.

def test_host_actions_read_their_namespace_and_the_delay_in_milliseconds():
    kill = parse_timed("8:kill-host:lab-primary", FAULT)
    assert (kill.kind, kill.host, kill.action) == (KILL_HOST, "lab-primary", "kill-host:lab-primary")
    cut = parse_timed("3:cut:edge_1", FAULT)
    assert (cut.kind, cut.host, cut.action) == (CUT, "edge_1", "cut:edge_1")
    heal = parse_timed("9:heal:edge_1", RECOVER)
    assert (heal.kind, heal.role, heal.action) == (HEAL, RECOVER, "heal:edge_1")
    for text in ("1:delay:edge.1:40", "1:delay:edge.1:40ms"):
        delay = parse_timed(text, FAULT)
        assert (delay.kind, delay.host, delay.delay_ms, delay.action) == (DELAY, "edge.1", 40.0, "delay:edge.1:40")


@pytest.mark.parametrize("flag, text, message", [
    ("--fault", "20:cut:", "cut:NAME needs a network namespace's name"),
    ("--fault", "20:kill-host:a/b", "kill-host:NAME needs a network namespace's name"),
    ("--fault", "20:cut:-x", "got '-x'"),
    ("--fault", "20:delay:edge", "delay:NAME:MS needs the delay in milliseconds"),
    ("--fault", "20:delay:edge:0", "above 0 and at most 60000"),
    ("--fault", "20:delay:edge:soon", "got 'soon' in '20:delay:edge:soon'"),
    ("--fault", "20:heal:edge", "heal in '20:heal:edge' undoes a fault, it is not one: give it to --recover"),
    ("--recover", "20:cut:edge", "cut in '20:cut:edge' is a fault, not a recovery"),
    ("--recover", "20:kill-host:edge", "is a fault, not a recovery"),
])
def test_a_bad_host_action_is_exit_2_naming_the_flag_and_the_bad_part(cli, tmp_path, flag, text, message):
    result = cli("run", "--host", "http://127.0.0.1:9", f"{flag}={text}", "--out", str(tmp_path / "run"))
    assert result.code == 2 and f"argument {flag}: " in result.err and message in result.err, result.err
    assert not (tmp_path / "run").exists()


def test_host_actions_need_root_a_listing_and_namespaces_that_exist_and_never_kill_loadgates_own():
    cut, kill = parse_timed("3:cut:edge", FAULT), parse_timed("8:kill-host:lab", FAULT)
    heal = parse_timed("9:heal:gone", RECOVER)
    assert check_hosts([parse_timed("1:cmd:true", FAULT)], root=False, namespaces=None) is None  # no host action
    assert "--fault 3:cut:edge: host actions need root" in check_hosts([cut], root=False, namespaces=["edge"])
    assert "iproute2's ip could not list" in check_hosts([cut], root=True, namespaces=None)
    assert check_hosts([cut, kill], root=True, namespaces=["edge", "lab"]) is None
    assert check_hosts([cut, heal], root=True, namespaces=["edge"]) == \
        "--recover 9:heal:gone: no network namespace 'gone' (ip netns list: edge)"
    assert "loadgate itself runs in network namespace 'lab'" in check_hosts([kill], root=True, namespaces=["lab"],
                                                                             own="lab")
    assert check_hosts([cut], root=True, namespaces=["edge"], own="edge") is None  # cutting its own host is a fault


def test_an_unknown_namespace_is_exit_2_before_the_run_starts(cli, tmp_path):
    result = cli("run", "--host", "http://127.0.0.1:9", "--fault", "5:cut:lg-no-such-host", "--out",
                 str(tmp_path / "run"))
    assert result.code == 2 and "--fault 5:cut:lg-no-such-host: " in result.err, result.err
    assert ("no network namespace 'lg-no-such-host'" in result.err or "need root" in result.err
            or "could not list" in result.err)
    assert "Traceback" not in result.err and not (tmp_path / "run").exists()


LINKS = json.dumps([{"ifname": "lo", "link_type": "loopback", "flags": ["LOOPBACK", "UP"]},
                    {"ifname": "eth0", "link_type": "ether", "flags": ["BROADCAST", "UP", "LOWER_UP"]},
                    {"ifname": "eth1", "link_type": "ether", "flags": ["BROADCAST", "UP"]},
                    {"ifname": "eth2", "link_type": "ether", "flags": ["BROADCAST"]}])  # down: left down


class FakeIp:
    """Answers ``ip`` and ``tc`` as a host with eth0 and eth1 up and eth2 down would; ``netem`` False:
    tc refuses netem."""

    def __init__(self, netem: bool = True, pids: str = "101 102"):
        self.netem, self.pids, self.calls = netem, pids, []

    def __call__(self, argv):
        argv = list(argv)
        self.calls.append(" ".join(argv))
        if argv[-3:] == ["-j", "link", "show"]:
            return Result(0, LINKS, "")
        if argv[:3] == ["ip", "netns", "pids"]:
            return Result(0, self.pids, "")
        if argv[0] == "tc" and "netem" in argv and not self.netem:
            return Result(2, "", "Error: Specified qdisc kind is unknown.")
        return Result(0, "", "")


def test_a_cut_host_is_set_up_again_at_the_end_of_the_run_and_only_once():
    ip = FakeIp()
    hosts = HostFaults(run=ip)
    assert hosts.apply(0, parse_timed("3:cut:edge", FAULT)) == (DONE, "links of network namespace edge set down: "
                                                                      "eth0, eth1")
    assert ip.calls[-2:] == ["ip -n edge link set eth0 down", "ip -n edge link set eth1 down"]
    assert hosts.undo() == ["cut:edge: links set up again at the end of the run: eth0, eth1"]
    assert ip.calls[-2:] == ["ip -n edge link set eth0 up", "ip -n edge link set eth1 up"]
    assert hosts.notes == {0: "links set up again at the end of the run: eth0, eth1"}
    calls = len(ip.calls)
    assert hosts.undo() == [] and len(ip.calls) == calls


def test_an_undo_goes_on_past_a_link_that_refuses_and_names_it():
    ip = FakeIp()
    hosts = HostFaults(run=ip)
    hosts.apply(0, parse_timed("3:cut:edge", FAULT))
    refuse = ip.__call__

    def eth0_refuses_up(argv):
        if list(argv) == ["ip", "-n", "edge", "link", "set", "eth0", "up"]:
            ip.calls.append(" ".join(argv))
            return Result(2, "", "RTNETLINK answers: Operation not permitted")
        return refuse(argv)

    hosts.run = eth0_refuses_up
    line, = hosts.undo()
    assert ip.calls[-2:] == ["ip -n edge link set eth0 up", "ip -n edge link set eth1 up"]  # eth1 still set up
    assert "set up again at the end of the run: eth1" in line and "eth0 up failed: RTNETLINK" in line


def test_heal_sets_the_links_up_removes_loadgates_delay_and_leaves_nothing_to_undo():
    ip = FakeIp()
    hosts = HostFaults(run=ip)
    hosts.apply(0, parse_timed("1:delay:edge:40", FAULT))
    assert "tc -n edge qdisc add dev eth0 root netem delay 40ms" in ip.calls
    hosts.apply(1, parse_timed("3:cut:edge", FAULT))
    status, detail = hosts.apply(2, parse_timed("9:heal:edge", RECOVER))
    # The links it cut (eth0, eth1), not eth2, which was down before the drill.
    assert status == DONE and detail == ("links of network namespace edge set up: eth0, eth1; netem delay "
                                         "removed from eth0, eth1, eth2")
    assert hosts.notes == {0: "removed by heal:edge", 1: "healed by heal:edge"}
    assert hosts.undo() == []


def test_a_delay_where_the_kernel_has_no_netem_fails_with_tcs_message_and_adds_nothing():
    ip = FakeIp(netem=False)
    hosts = HostFaults(run=ip)
    status, detail = hosts.apply(0, parse_timed("1:delay:edge:40", FAULT))
    assert status == FAILED
    assert detail == ("tc -n edge qdisc add dev eth0 root netem delay 40ms failed: Error: Specified qdisc kind is "
                      "unknown. (this kernel has no netem qdisc: no delay was added)")
    assert hosts.undo() == [] and 0 not in hosts.notes


def test_kill_host_kills_every_process_in_the_namespace_but_loadgate_and_says_it_cannot_be_undone():
    killed = []
    hosts = HostFaults(run=FakeIp(pids="101 102 7"), kill=lambda pid, sig: killed.append((pid, sig)), own_pid=7)
    status, detail = hosts.apply(0, parse_timed("8:kill-host:lab", FAULT))
    assert killed == [(101, signal.SIGKILL), (102, signal.SIGKILL)]
    assert (status, detail) == (DONE, "SIGKILL to 2 processes in network namespace lab (pids 101, 102)")
    hosts.undo()
    assert hosts.notes[0].startswith("cannot be undone")
    empty = HostFaults(run=FakeIp(pids=""), kill=lambda pid, sig: None)
    assert empty.apply(0, parse_timed("8:kill-host:idle", FAULT)) == (
        FAILED, "no process was running in network namespace idle: nothing to kill")


def test_the_drill_undoes_a_cut_when_it_closes_and_the_timeline_says_so(tmp_path):
    ip = FakeIp()
    drill = Drill([parse_timed("0:cut:edge", FAULT), parse_timed("60:heal:edge", RECOVER)], out=tmp_path / "drill",
                  stderr=io.StringIO(), hosts=HostFaults(run=ip))
    with drill:
        drill.begin(time.time())
        _wait_for(lambda: len(drill._results) == 1)
    cut, heal = drill.results()
    assert cut.status == DONE and cut.undone == "links set up again at the end of the run: eth0, eth1"
    assert heal.status == NOT_RUN and heal.undone == ""
    assert ip.calls[-1] == "ip -n edge link set eth1 up"
    assert "loadgate: drill: undone: cut:edge: links set up again" in drill.stderr.getvalue()


def test_a_cut_is_undone_when_the_run_fails_and_an_undo_cut_short_by_a_signal_still_finishes(tmp_path):
    ip = FakeIp()
    drill = Drill([parse_timed("0:cut:edge", FAULT)], out=tmp_path / "drill", stderr=io.StringIO(),
                  hosts=HostFaults(run=ip))
    with pytest.raises(RuntimeError), drill:
        drill.begin(time.time())
        _wait_for(lambda: len(drill._results) == 1)
        raise RuntimeError("the load generator failed")
    assert ip.calls[-2:] == ["ip -n edge link set eth0 up", "ip -n edge link set eth1 up"]

    class Interrupting(FakeIp):
        """A second Ctrl-C arrives during the first ``link set ... up``."""

        interrupted = False

        def __call__(self, argv):
            if list(argv)[-1] == "up" and not self.interrupted:
                self.interrupted = True
                raise KeyboardInterrupt
            return super().__call__(argv)

    ip = Interrupting()
    hosts = HostFaults(run=ip)
    hosts.apply(0, parse_timed("0:cut:edge", FAULT))
    drill = Drill([], out=tmp_path / "drill", stderr=io.StringIO(), hosts=hosts)
    with pytest.raises(KeyboardInterrupt):
        drill.close()
    assert ip.calls[-2:] == ["ip -n edge link set eth0 up", "ip -n edge link set eth1 up"]
    assert hosts.notes[0] == "links set up again at the end of the run: eth0, eth1"
