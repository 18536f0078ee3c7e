"""Several hosts on one machine: Linux network namespaces joined by one switch, for the tests.

``Lab(["svc", "master", "w1", "w2"])`` creates a namespace per host, each with its own loopback
and one interface ``eth0`` holding its own address (10.231.0.1, .2, ... in the order given), and
a switch namespace whose bridge joins them through veth pairs. Nothing is added to the machine's
own namespace, so traffic stays between the hosts the test made, and no host can reach another
through loopback. ``start`` runs a process on a host; ``cut`` sets a host's link down (it is cut
off, as by a failed switch port). ``close`` (or leaving the ``with``) kills every process in the
namespaces and deletes them, whatever happened. Needs root and Debian's iproute2.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Sequence

__all__ = ["Lab", "available"]

SUBNET = "10.231.0"


def available() -> str | None:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's ip is not installed (apt-get install iproute2)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Lab:
    """Hosts in their own network namespaces, on one switch."""

    def __init__(self, hosts: Sequence[str]):
        self.tag = f"lg{os.getpid() % 100000}"
        self.hosts = list(hosts)
        self.switch = f"{self.tag}-sw"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.made: list[str] = []

    def namespace(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def address(self, host: str) -> str:
        return f"{SUBNET}.{self.hosts.index(host) + 1}"

    def __enter__(self) -> Lab:
        try:
            self._make()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make(self) -> None:
        for ns in (self.switch, *map(self.namespace, self.hosts)):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)  # a leftover
            _ip("netns", "add", ns)
            self.made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for i, host in enumerate(self.hosts):
            ns, port = self.namespace(host), f"p{i}"
            _ip("link", "add", "name", "eth0", "netns", ns, "type", "veth", "peer", "name", port,
                "netns", self.switch)
            _ip("-n", self.switch, "link", "set", port, "master", "br0")
            _ip("-n", self.switch, "link", "set", port, "up")
            _ip("-n", ns, "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    def start(self, host: str, argv: Sequence[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Run ``argv`` on ``host``, its output to ``log``."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", self.namespace(host), *argv], stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def pids(self, host: str) -> list[int]:
        """Every process running in ``host``'s namespace."""
        result = subprocess.run(["ip", "netns", "pids", self.namespace(host)], capture_output=True, text=True,
                                timeout=30)
        return [int(p) for p in result.stdout.split()]

    def cut(self, host: str) -> None:
        """Set ``host``'s link down: it stays up but nothing reaches it or leaves it."""
        _ip("-n", self.namespace(host), "link", "set", "eth0", "down")

    def wait_port(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        """Wait until something listens on ``port`` at ``host``'s address."""
        deadline = time.monotonic() + timeout_s
        probe = f"import socket; socket.create_connection(('{self.address(host)}', {port}), timeout=1).close()"
        while time.monotonic() < deadline:
            if subprocess.run(["ip", "netns", "exec", self.namespace(host), "python3", "-c", probe],
                              capture_output=True, timeout=30).returncode == 0:
                return
            time.sleep(0.3)
        raise TimeoutError(f"nothing listened on {self.address(host)}:{port} within {timeout_s:g}s")

    def close(self) -> None:
        """Kill every process of every host, then delete the namespaces."""
        for ns in self.made:
            host = ns.removeprefix(f"{self.tag}-")
            for pid in self.pids(host) if ns != self.switch else []:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        self.made = []
