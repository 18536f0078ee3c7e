"""A drill's actions run at their times during the steady state (``--fault``, ``--recover``).

``Drill`` is a context manager: ``begin(steady_start_unix)`` (called once the load generator
reports its start) schedules every action on a thread; ``close()`` (on the way out, whatever
happened) cancels the actions whose time has not come and kills every command still running
with its whole process group, so nothing a drill started outlives the run. ``results()`` says
what became of each action (``slo.timeline.ActionRun``), for the timeline.

* ``kill-api:N`` sends SIGKILL to the Nth process of ``targets`` (the demo API's, in order);
* ``cmd:COMMAND`` runs ``/bin/sh -c COMMAND`` in its own process group, its output in
  ``drill/action-<i>.log``, for at most ``timeout_s``; then SIGKILL to the group. Its process
  group is killed when it exits too, so a command's background children never linger;
* ``kill-host``, ``cut``, ``heal`` and ``delay`` act on a network namespace (``loadgate.hosts``);
  ``close()`` undoes what they changed (a cut link set up, a delay removed; a killed host cannot
  be undone), and ``results()`` says so of each in its ``undone``.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence, TextIO

from loadgate.fault_actions import DEFAULT_TIMEOUT_S, HOST_KINDS, KILL_API, TimedAction
from loadgate.hosts import HostFaults
from slo.timeline import DONE, FAILED, NOT_RUN, TIMED_OUT, ActionRun

__all__ = ["OUTPUT_TAIL_CHARS", "Target", "Drill"]

#: How much of a command's output the timeline keeps.
OUTPUT_TAIL_CHARS = 1000

#: A process a ``kill-api:N`` may kill: its description and the process.
Target = tuple[str, "subprocess.Popen[bytes]"]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


#: Variables a ``cmd:`` action never sees: loadgate's Prometheus credentials (its output reaches
#: verdict.json, the report and summary.md).
SECRET_PREFIX = "LOADGATE_PROM_"


def command_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``cmd:`` action: loadgate's own, less its ``LOADGATE_PROM_*`` credentials."""
    return {k: v for k, v in (os.environ if environ is None else environ).items() if not k.startswith(SECRET_PREFIX)}


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4 * OUTPUT_TAIL_CHARS))
            return handle.read().decode("utf-8", errors="replace")[-OUTPUT_TAIL_CHARS:]
    except OSError:
        return ""


class Drill:
    """Runs ``actions`` at their times; every command it started is stopped by ``close()``."""

    def __init__(self, actions: Sequence[TimedAction], *, out: Path, stderr: TextIO, targets: Sequence[Target] = (),
                 timeout_s: float = DEFAULT_TIMEOUT_S, clock: Callable[[], float] = time.time,
                 hosts: HostFaults | None = None):
        self.actions = tuple(sorted(actions, key=lambda a: a.at_s))
        self.out = out
        self.stderr = stderr
        self.targets = tuple(targets)
        self.timeout_s = timeout_s
        self.clock = clock
        self.steady_start: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._results: dict[int, ActionRun] = {}
        self._running: dict[int, subprocess.Popen[bytes]] = {}
        self._threads: list[threading.Thread] = []
        self.hosts = hosts if hosts is not None else HostFaults()
        #: Held while a host action runs and while ``close`` undoes them: none starts after the undo.
        self._host_lock = threading.Lock()
        self._undone = False

    def __enter__(self) -> Drill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin(self, steady_start_unix: float) -> None:
        """Schedule every action ``at_s`` after ``steady_start_unix``; only the first call counts."""
        if self.steady_start is not None or self._stop.is_set():
            return
        self.steady_start = steady_start_unix
        self._spawn(self._schedule)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        """Start ``target`` on a thread that ``close`` waits for; none once ``close`` began (the
        action it would run stays not run), so no command starts after the run has ended."""
        thread = threading.Thread(target=target, args=args, name="loadgate-drill", daemon=True)
        with self._lock:
            if self._stop.is_set():
                return
            self._threads.append(thread)
            thread.start()

    def _schedule(self) -> None:
        assert self.steady_start is not None
        for index, action in enumerate(self.actions):
            if self._stop.wait(max(0.0, self.steady_start + action.at_s - self.clock())):
                return
            if action.kind == KILL_API:
                self._kill(index, action)
            elif action.kind in HOST_KINDS:
                self._host(index, action)
            else:
                self._spawn(self._command, index, action)

    def _record(self, index: int, run: ActionRun) -> None:
        with self._lock:
            self._results[index] = run
        self.stderr.write(f"\nloadgate: {run.role} at {run.at_s:g}s: {run.action}: {run.status.replace('_', ' ')}"
                          f"{f' ({run.detail})' if run.detail else ''}\n")

    def _run(self, action: TimedAction, started: float | None, status: str, detail: str, *,
             exit_code: int | None = None, output_tail: str = "", duration_s: float | None = None) -> ActionRun:
        assert self.steady_start is not None
        return ActionRun(action.role, action.action, action.kind, action.at_s, self.steady_start + action.at_s,
                         started, status, detail, exit_code, output_tail, duration_s)

    def _kill(self, index: int, action: TimedAction) -> None:
        started = round(self.clock(), 3)
        assert action.process is not None
        what, proc = self.targets[action.process - 1]
        if proc.poll() is not None:
            self._record(index, self._run(action, started, FAILED,
                                          f"{what} (pid {proc.pid}) had already exited with code {proc.returncode}"))
            return
        _kill_group(proc.pid)
        try:
            proc.kill()  # the process itself too, should it not lead its own group
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._record(index, self._run(action, started, FAILED, f"{what} (pid {proc.pid}) still running after "
                                                                   "SIGKILL and 5 s"))
            return
        self._record(index, self._run(action, started, DONE, f"SIGKILL to {what} (pid {proc.pid})", duration_s=0.0))

    def _host(self, index: int, action: TimedAction) -> None:
        with self._host_lock:
            if self._undone:
                return  # the run ended meanwhile: the action stays not run
            started = round(self.clock(), 3)
            status, detail = self.hosts.apply(index, action)
            self._record(index, self._run(action, started, status, detail,
                                          duration_s=round(self.clock() - started, 3)))

    def _command(self, index: int, action: TimedAction) -> None:
        log = self.out / f"action-{index + 1}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        started = round(self.clock(), 3)
        with log.open("wb") as handle:
            proc = subprocess.Popen(["/bin/sh", "-c", action.command or ""], stdout=handle, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, env=command_env())
        with self._lock:
            self._running[index] = proc
        if self._stop.is_set():
            _kill_group(proc.pid)  # close() came between the start and the line above
        code: int | None
        try:
            code = proc.wait(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            code, status = None, TIMED_OUT
            detail = f"still running after {self.timeout_s:g}s (--action-timeout): killed with its process group"
        else:
            status, detail = (DONE if code == 0 else FAILED), f"exited with code {code}"
            if code < 0 and self._stop.is_set():
                code, status = None, TIMED_OUT
                detail = "still running when the run ended: killed with its process group"
        finally:
            _kill_group(proc.pid)  # its background children too
            with self._lock:
                self._running.pop(index, None)
        self._record(index, self._run(action, started, status, detail, exit_code=code, output_tail=_tail(log),
                                      duration_s=round(self.clock() - started, 3)))

    def close(self) -> None:
        """Cancel what has not run and kill every command still running, with its group; wait for them;
        then undo every host fault still in place (once: a second call does nothing more)."""
        with self._lock:  # under the lock: a thread is either in the list below or never started
            self._stop.set()
            running = list(self._running.values())
            threads = list(self._threads)
        for proc in running:
            _kill_group(proc.pid)
        for thread in threads:
            thread.join(timeout=10)
        with self._host_lock:
            self._undone = True
            try:
                lines = self.hosts.undo()
            except BaseException:
                self.hosts.undo()  # a second signal mid-undo: finish undoing (a few ip calls), then stop
                raise
        for line in lines:
            self.stderr.write(f"loadgate: drill: undone: {line}\n")

    def results(self) -> tuple[ActionRun, ...]:
        """What became of every action, in the order planned; one whose time never came is ``not_run``."""
        start = self.steady_start if self.steady_start is not None else 0.0
        with self._lock:
            done = dict(self._results)
        notes = dict(self.hosts.notes)
        return tuple(dataclasses.replace(done.get(i) or ActionRun(a.role, a.action, a.kind, a.at_s, start + a.at_s,
                                                                  None, NOT_RUN, "the run ended before its time came"),
                                         undone=notes.get(i, ""))
                     for i, a in enumerate(self.actions))
