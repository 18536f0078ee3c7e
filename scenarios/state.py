"""The per-process state that loadgate's Locust hooks share: one ``STATE``, imported by each hook module.

Locust runs one test at a time in a process, and every hook runs in a greenlet of the one thread
(gevent), so the fields are read and written without locks. A test's fields are reset when it
stops (``scenarios.hooks``); the counts (``stats``) last for the whole process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scenarios.clientstats import ClientStats
from scenarios.dispatch import DISPATCH

__all__ = ["State", "STATE"]


class State:
    """Per-process state: the counts, and the last target the shape asked for."""

    def __init__(self) -> None:
        self.stats = ClientStats()
        self.target_rate = 0.0
        self.series_path: Path | None = None
        self.environment: Any = None
        #: Open model: each worker's active keys per tier label, from its last report.
        self.worker_keys: dict[str, dict[str, int]] = {}
        #: Locust's own options as given on the command line (Locust fills in defaults later).
        self.given_users: int | None = None
        self.given_spawn_rate: float | None = None
        self.given_duration: float | None = None
        self.given_workers = 0
        #: The users the shape last asked for: the concurrency.
        self.concurrency = 0
        #: CPU percent of this process over the last second, and of each worker over its last report.
        self.cpu_self: float | None = None
        self.worker_cpu: dict[str, float] = {}
        self.cpu_reported: set[str] = set()
        #: When the test started (the master's clock; workers get it with their share).
        self.test_started: float | None = None
        #: A worker's share of a distributed run, from the master: (slot, of how many, test start).
        self.share: tuple[int, int, float] | None = None
        #: Whether this process's open model is running (a new share restarts it), and whether
        #: this process runs open-model users in the current test.
        self.open_model = False
        self.wants_open_model = False
        #: Master: the workers sharing the rate, those reporting at the last snapshot, and the
        #: responses each worker reported.
        self.sharing: tuple[str, ...] = ()
        self.slots: dict[str, int] = {}
        self.reporting: set[str] = set()
        self.worker_responses: dict[str, float] = {}
        #: This process's load zone (``--lg-zone``, "" for none); on a master, each zone's counts
        #: (merged from its workers' reports) and each worker's zone.
        self.zone = ""
        self.zone_stats: dict[str, ClientStats] = {}
        self.worker_zones: dict[str, str] = {}

    def keys_by_label(self) -> dict[str, int]:
        """Active keys per tier label across this process and its workers (open model)."""
        total = dict(DISPATCH.keys_by_label())
        for keys in self.worker_keys.values():
            for label, n in keys.items():
                total[label] = total.get(label, 0) + n
        return total


#: The one instance: every hook module reads and writes this one.
STATE = State()
