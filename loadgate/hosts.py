"""A drill's host actions on Linux network namespaces: ``kill-host``, ``cut``, ``heal``, ``delay``.

A host is a network namespace, as ``ip netns list`` shows it (the hosts a QA engineer or a test
made with ``ip netns add``). Every action runs iproute2's ``ip`` or ``tc`` (``Runner``, passed in
so that the tests can watch the commands):

* ``kill-host:NAME``: SIGKILL to every process in the namespace (``ip netns pids``), loadgate's
  own excepted; a host with nothing running is a failed fault (there was nothing to kill);
* ``cut:NAME``: every link of the namespace but loopback that is up set down (``ip -n NAME link
  set DEV down``); the host keeps running, but nothing reaches it or leaves it;
* ``heal:NAME``: those links set up again, and any netem delay loadgate added there removed;
* ``delay:NAME:MS``: a netem delay on the egress of each of those links (``tc -n NAME qdisc add
  dev DEV root netem delay MSms``): every packet the host sends waits MS, so a round trip through
  it gains MS. Where the kernel has no netem qdisc, tc refuses and the action fails with tc's
  message (loadgate never fakes a delay); a link that already has a root qdisc of its own is left
  as it is, and the action fails with tc's message too.

``HostFaults`` remembers what it changed; ``undo()`` (the drill's ``close``, at the end of the
run whatever happened) sets every link it cut up again and removes every delay it added, and
says of a killed host that it cannot be undone. ``check_host_actions`` asks the machine what
``fault_actions.check_hosts`` needs before the run: root, the namespaces, loadgate's own one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from loadgate.fault_actions import CUT, DELAY, HEAL, KILL_HOST, TimedAction, check_hosts
from slo.timeline import DONE, FAILED

__all__ = ["TOOL_TIMEOUT_S", "NETNS_DIR", "Result", "Runner", "run_tool", "namespaces", "own_namespace",
           "check_host_actions", "HostFaults"]

#: How long one ``ip`` or ``tc`` may take, seconds.
TOOL_TIMEOUT_S = 10.0
#: Where ``ip netns add`` keeps its namespaces.
NETNS_DIR = Path("/run/netns")


@dataclass(frozen=True)
class Result:
    """What one command did: its exit code, its output and its error output (stripped)."""

    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """What it said when it failed: its error output, else its output, else its exit code."""
        return self.err or self.out or f"exit code {self.code}"


Runner = Callable[[Sequence[str]], Result]


def run_tool(argv: Sequence[str]) -> Result:
    """Run ``argv`` (no shell) for at most ``TOOL_TIMEOUT_S``; a missing tool is code 127, a hung one 124."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return Result(127, "", f"{argv[0]}: not found (apt-get install -y iproute2)")
    except subprocess.TimeoutExpired:
        return Result(124, "", f"{' '.join(argv)}: no answer within {TOOL_TIMEOUT_S:g}s")
    return Result(proc.returncode, proc.stdout.strip(), proc.stderr.strip())


def namespaces(run: Runner = run_tool) -> list[str] | None:
    """The network namespaces ``ip netns list`` shows (``name`` or ``name (id: 3)`` a line); None
    when ``ip`` is missing or fails."""
    result = run(["ip", "netns", "list"])
    if result.code != 0:
        return None
    return [line.split()[0] for line in result.out.splitlines() if line.strip()]


def own_namespace(names: Sequence[str], netns_dir: Path = NETNS_DIR) -> str | None:
    """Which of ``names`` this process runs in (None: another, such as the machine's own)."""
    try:
        mine = os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None
    for name in names:
        try:
            if os.stat(netns_dir / name).st_ino == mine:
                return name
        except OSError:
            continue
    return None


def check_host_actions(actions: Sequence[TimedAction], run: Runner = run_tool) -> str | None:
    """``check_hosts`` with what this machine says (asked only when there are host actions)."""
    if not any(a.host for a in actions):
        return None
    root = os.geteuid() == 0
    names = namespaces(run) if root else []
    return check_hosts(actions, root=root, namespaces=names, own=own_namespace(names or []))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('s') else 's'}"


class HostFaults:
    """Runs host actions and remembers what they changed, for ``undo``; ``notes`` says, per action
    index, how its fault was undone (or that it cannot be)."""

    def __init__(self, run: Runner = run_tool, kill: Callable[[int, int], None] = os.kill,
                 own_pid: int | None = None):
        self.run = run
        self.kill = kill
        self.own_pid = os.getpid() if own_pid is None else own_pid
        #: host -> (the action that cut it, the links it set down)
        self._cut: dict[str, tuple[int, list[str]]] = {}
        #: host -> (the action that delayed it, the links it added a netem qdisc to)
        self._delayed: dict[str, tuple[int, list[str]]] = {}
        self._killed: list[int] = []
        self.notes: dict[int, str] = {}

    def apply(self, index: int, action: TimedAction) -> tuple[str, str]:
        """Run one host action; ``(DONE or FAILED, a sentence of what happened)``."""
        host = action.host or ""
        if action.kind == KILL_HOST:
            return self._kill_host(index, host)
        found, problem = self._links(host)
        if problem is not None:
            return FAILED, problem
        if not found:
            return FAILED, f"network namespace {host} has no link but its loopback"
        links = [name for name, _ in found]
        if action.kind == CUT:
            up = [name for name, is_up in found if is_up]
            if not up:
                return FAILED, f"the links of network namespace {host} were down already: {', '.join(links)}"
            return self._cut_host(index, host, up)
        if action.kind == HEAL:
            # The links loadgate cut; without a cut of its own, those down now (a link down before
            # the drill, and never cut by it, stays as it was only when loadgate made the cut).
            cut = self._cut.get(host)
            return self._heal(host, list(cut[1]) if cut else [name for name, is_up in found if not is_up])
        if action.kind == DELAY:
            return self._delay(index, host, links, action.delay_ms or 0.0)
        return FAILED, f"{action.kind} is no host action"

    def _links(self, host: str) -> tuple[list[tuple[str, bool]], str | None]:
        """The host's links but loopback, each with whether it is set up; or why they are unknown."""
        result = self.run(["ip", "-n", host, "-j", "link", "show"])
        if result.code != 0:
            return [], f"ip -n {host} link show failed: {result.message}"
        try:
            links = json.loads(result.out or "[]")
            return [(str(link["ifname"]), "UP" in link.get("flags", ())) for link in links
                    if link.get("link_type") != "loopback"], None
        except (ValueError, KeyError, TypeError) as exc:
            return [], f"ip -n {host} -j link show: unreadable answer ({exc})"

    def _kill_host(self, index: int, host: str) -> tuple[str, str]:
        result = self.run(["ip", "netns", "pids", host])
        if result.code != 0:
            return FAILED, f"ip netns pids {host} failed: {result.message}"
        pids = [int(p) for p in result.out.split() if p.isdigit() and int(p) != self.own_pid]
        if not pids:
            return FAILED, f"no process was running in network namespace {host}: nothing to kill"
        killed = []
        for pid in pids:
            try:
                self.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass  # it exited meanwhile
        self._killed.append(index)
        shown = ", ".join(map(str, killed[:10])) + (", ..." if len(killed) > 10 else "")
        return DONE, f"SIGKILL to {_plural(len(killed), 'process')} in network namespace {host} (pids {shown})"

    def _set(self, host: str, links: Sequence[str], state: str) -> tuple[list[str], str | None]:
        """Set every link of ``links`` to ``state``, going on past a failure: the links set, and
        what failed (None when nothing did)."""
        done: list[str] = []
        failed: list[str] = []
        for dev in links:
            result = self.run(["ip", "-n", host, "link", "set", dev, state])
            if result.code != 0:
                failed.append(f"ip -n {host} link set {dev} {state} failed: {result.message}")
            else:
                done.append(dev)
        return done, "; ".join(failed) or None

    def _cut_host(self, index: int, host: str, links: list[str]) -> tuple[str, str]:
        done, problem = self._set(host, links, "down")
        if done:
            first, before = self._cut.get(host, (index, []))
            self._cut[host] = (first, sorted({*before, *done}))
        if problem is not None:
            return FAILED, problem + (f" (set down before it: {', '.join(done)})" if done else "")
        return DONE, f"links of network namespace {host} set down: {', '.join(done)}"

    def _heal(self, host: str, links: list[str]) -> tuple[str, str]:
        done, problem = self._set(host, links, "up")
        if problem is not None:
            return FAILED, problem
        detail = (f"links of network namespace {host} set up: {', '.join(done)}" if done else
                  f"every link of network namespace {host} was up already")
        cut = self._cut.pop(host, None)
        if cut is not None:
            self.notes[cut[0]] = f"healed by heal:{host}"
        delayed = self._delayed.pop(host, None)
        if delayed is not None:
            removed, failed = self._undelay(host, delayed[1])
            if removed:
                detail += f"; netem delay removed from {', '.join(removed)}"
            self.notes[delayed[0]] = f"removed by heal:{host}" if not failed else failed
            if failed:
                return FAILED, f"{detail}; {failed}"
        return DONE, detail

    def _delay(self, index: int, host: str, links: list[str], delay_ms: float) -> tuple[str, str]:
        added: list[str] = []
        for dev in links:
            argv = ["tc", "-n", host, "qdisc", "add", "dev", dev, "root", "netem", "delay", f"{delay_ms:g}ms"]
            result = self.run(argv)
            if result.code != 0:
                self._undelay(host, added)
                hint = " (this kernel has no netem qdisc: no delay was added)" if "unknown" in result.message.lower() \
                    else ""
                return FAILED, f"{' '.join(argv)} failed: {result.message}{hint}"
            added.append(dev)
        first, before = self._delayed.get(host, (index, []))
        self._delayed[host] = (first, sorted({*before, *added}))
        return DONE, (f"netem delay {delay_ms:g} ms on the egress of network namespace {host}'s links: "
                      f"{', '.join(added)} (a round trip through it gains {delay_ms:g} ms)")

    def _undelay(self, host: str, links: Sequence[str]) -> tuple[list[str], str]:
        removed: list[str] = []
        failed: list[str] = []
        for dev in links:
            result = self.run(["tc", "-n", host, "qdisc", "del", "dev", dev, "root"])
            if result.code == 0:
                removed.append(dev)
            else:
                failed.append(f"tc -n {host} qdisc del dev {dev} root failed: {result.message}")
        return removed, "; ".join(failed)

    def undo(self) -> list[str]:
        """Undo every change still in place: cut links set up, added delays removed (each noted
        against the action that made it); a killed host is noted as not undoable. Returns a line
        per action undone, for the log. Each change is forgotten as it is undone, so a call cut
        short (by a signal) is finished by the next, and a call with nothing left does nothing."""
        lines = []
        while self._cut:
            host = min(self._cut)
            index, links = self._cut[host]
            done, problem = self._set(host, links, "up")
            del self._cut[host]  # tried once each; a link that refused is named (a retry would refuse again)
            self.notes[index] = (f"links set up again at the end of the run: {', '.join(done) or 'none'}; could not "
                                 f"be undone: {problem}" if problem else
                                 f"links set up again at the end of the run: {', '.join(done)}")
            lines.append(f"cut:{host}: {self.notes[index]}")
        while self._delayed:
            host = min(self._delayed)
            index, links = self._delayed[host]
            removed, failed = self._undelay(host, links)
            del self._delayed[host]
            self.notes[index] = (f"could not be undone at the end of the run: {failed}" if failed else
                                 f"netem delay removed at the end of the run from {', '.join(removed)}")
            lines.append(f"delay:{host}: {self.notes[index]}")
        while self._killed:
            self.notes[self._killed.pop()] = ("cannot be undone: the processes killed stay killed (restart them "
                                              "yourself)")
        return lines
