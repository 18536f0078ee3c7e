"""The processes of one run: the local Prometheus, the Locust child, and reading what Locust writes.

Each process is a context manager that stops it on the way out, whatever happens (``procs``
stops a whole process group: SIGTERM, a bounded wait, then SIGKILL). ``follow`` shows live
progress while Locust runs; the rest reads the client series and the log it leaves, and tells a
full disk from a crash.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence, TextIO, TypeVar
from urllib.parse import urlsplit

import requests

from analysis.client_series import ClientSeries, SeriesError, SeriesReader, parse_series
from loadgate import procs
from loadgate.errors import UserError
from loadgate.progress import Progress
from loadgate.promserver import PrometheusServer
from loadgate.run_plan import SCRAPE_S, SERVICE_JOB, prometheus_config
from slo.gate import ExitCode

__all__ = ["local_prometheus", "scraped_by", "wait_scraped_after", "locust_child", "follow", "gave_up_on_workers",
           "disk_full", "cut_partial_line", "unwritable", "read_series"]


T = TypeVar("T")

#: Prometheus batches service discovery: its first scrape comes about 5 s after it starts (NOTES.md).
FIRST_SCRAPE_S = 5.5


@contextmanager
def local_prometheus(out: Path, host: str, metrics_port: int, targets: Sequence[str] = (),
                     rule_file: Path | None = None, head_start_s: float = 0.0) -> Iterator[str]:
    """A Prometheus on 127.0.0.1 scraping ``host`` (or each of ``targets``) and the load generator
    every second; yields its URL once it has scraped the service once, so the first seconds are not
    lost, or sooner by ``head_start_s`` (the load's ramp-up, never graded): the first scrape then
    lands in the ramp-up, and ``scraped_by`` confirms it did."""
    target = urlsplit(host)
    service = list(targets) or [f"{target.hostname}:{target.port or (443 if target.scheme == 'https' else 80)}"]
    config = prometheus_config(service, f"127.0.0.1:{metrics_port}", rule_file=rule_file)
    started = time.monotonic()
    with PrometheusServer(out / "prometheus", config) as server:
        lead = max(0.0, head_start_s - SCRAPE_S)
        _wait_first_scrape(server.url, give_up_at=started + max(0.0, FIRST_SCRAPE_S - lead) if lead else None)
        yield server.url


def wait_scraped_after(url: str, at: float, timeout_s: float) -> bool:
    """Wait until the Prometheus at ``url`` has scraped every target after Unix time ``at`` (the
    oldest latest ``up`` sample is newer), for at most ``timeout_s``; whether it did."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = requests.get(f"{url}/api/v1/query", params={"query": "min(timestamp(up))"},
                                  timeout=2).json()["data"]["result"]
            if result and float(result[0]["value"][1]) > at:
                return True
        except (requests.RequestException, ValueError, KeyError, TypeError, IndexError):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def scraped_by(url: str, at: float) -> bool:
    """Whether Prometheus at ``url`` holds a sample of the service's ``up`` at or before Unix time ``at``."""
    try:
        answer = requests.get(f"{url}/api/v1/query", params={"query": f'up{{job="{SERVICE_JOB}"}}', "time": str(at)},
                              timeout=5).json()
        return bool(answer.get("data", {}).get("result"))
    except (requests.RequestException, ValueError):
        return False


@contextmanager
def locust_child(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Locust as a child process (its own process group), stopped on the way out whatever happens."""
    proc = procs.start(argv, log)
    try:
        yield proc
    finally:
        procs.stop(proc, timeout_s=15)


def _wait_first_scrape(url: str, timeout_s: float = 20.0, give_up_at: float | None = None) -> None:
    deadline = min(time.monotonic() + timeout_s, give_up_at if give_up_at is not None else math.inf)
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{url}/api/v1/query", params={"query": f'up{{job="{SERVICE_JOB}"}}'},
                                  timeout=2).json()
            if answer.get("data", {}).get("result"):
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.2)


def _read_new(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended to ``path`` since byte ``offset``, and the new offset."""
    if not path.exists():
        return [], offset
    with path.open("r", encoding="utf-8") as handle:
        handle.seek(offset)
        text = handle.read()
    complete = text[: text.rfind("\n") + 1]
    return complete.splitlines(), offset + len(complete.encode("utf-8"))


def follow(proc: subprocess.Popen[bytes], series_file: Path, duration_s: float, stderr: TextIO,
           status: Callable[[], str] | None = None,
           until: Callable[[ClientSeries], T | None] | None = None,
           started: Callable[[float], None] | None = None) -> T | None:
    """Wait for Locust, showing progress from its series file (and ``status()``, the alerts firing,
    after it); give up if it overruns by 90 s. ``until`` is asked after each read (every 0.5 s)
    with the whole series so far: the first answer that is not None ends the wait early and is
    returned (the caller then stops Locust); None when Locust ended on its own. ``started`` is
    told the test's start (Unix seconds) once, as soon as the series says it."""
    progress = Progress(duration_s, stderr)
    reader = SeriesReader(series_file.name, keep=None if until else 2)
    offset = 0
    deadline = time.monotonic() + duration_s + 90
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                stderr.write("loadgate: Locust overran its duration by 90 s; stopping it\n")
                break
            new, offset = _read_new(series_file, offset)
            try:
                reader.feed(new)
            except SeriesError:
                pass  # the graded read after the run names the line
            if started is not None and reader.started is not None:
                started(reader.started)
                started = None
            snaps = reader.snapshots[-2:]
            progress.update(snaps[0] if len(snaps) == 2 else None, snaps[-1] if snaps else None,
                            status() if status else "")
            if until is not None and new:
                decided = until(reader.series())
                if decided is not None:
                    return decided
            time.sleep(0.5)
    finally:
        progress.close()
    return None


def gave_up_on_workers(log: Path) -> bool:
    """Whether the Locust master gave up waiting for its workers (``--expect-workers-max-wait``)."""
    try:
        return "Gave up waiting for workers to connect" in log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def disk_full(directory: Path) -> bool:
    """Whether the file system holding ``directory`` has no block or no inode left."""
    try:
        stats = os.statvfs(directory)
    except OSError:
        return False
    return stats.f_bavail == 0 or (stats.f_files > 0 and stats.f_favail == 0)


def cut_partial_line(series_file: Path) -> None:
    """Cut off a half-written last line, so the file holds only whole snapshots."""
    try:
        with series_file.open("r+b") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)
    except OSError:
        pass


def unwritable(series_file: Path) -> str:
    """Why Locust could not write the client series, in one line naming the path (a full disk, most
    often); the half-written last line is cut off."""
    # Asked before the cut: cutting the half line frees the block that the failed write filled.
    what = "no space left on device" if disk_full(series_file.parent) else "the load generator could not write it"
    cut_partial_line(series_file)
    return f"{series_file}: {what}; the load test was stopped"


def read_series(path: Path) -> ClientSeries:
    """The whole client series; an unreadable one makes the run inconclusive (exit 3)."""
    try:
        return parse_series(path.read_text(encoding="utf-8").splitlines() if path.exists() else [], path.name)
    except SeriesError as exc:
        raise UserError(str(exc), ExitCode.INCONCLUSIVE) from None
