"""Start, wait for and stop child processes, so none outlives the command that started it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Sequence

import requests

from loadgate.signals import FORCE

__all__ = ["ProcessError", "free_port", "start", "wait_http", "stop"]


class ProcessError(RuntimeError):
    """A child process that would not start or become ready; the message names its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start(argv: Sequence[str], log_path: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdout and stderr going to ``log_path``, in its own process group."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True)
    finally:
        log.close()


def wait_http(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 20.0) -> None:
    """Poll ``url`` until it answers 200; fail early if ``proc`` exits, naming the log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            program = proc.args[0] if isinstance(proc.args, (list, tuple)) else proc.args
            raise ProcessError(f"{Path(str(program)).name} exited with code {proc.returncode}; see {log_path}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise ProcessError(f"{url} was not ready after {timeout_s:g}s; see {log_path}")


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start() made the child a group leader: this reaches its children too
    except ProcessLookupError:
        pass


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited in ``timeout_s``.

    The whole group is signalled even when the leader already exited, so no child is orphaned,
    and the SIGKILL comes even when the wait is interrupted (a second Ctrl-C). After a second
    signal (``signals.FORCE``) there is no wait at all.
    """
    try:
        if proc.poll() is None and not FORCE.now:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=timeout_s)
    finally:
        _signal_group(proc, signal.SIGKILL)
