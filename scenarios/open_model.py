"""The open model in Locust: requests on a schedule of intended send times, carried by a pool of users.

Keys model clients and Locust users model concurrency. Each process that runs users holds one
``Dispatcher``: a ``KeySchedule`` of every active key's next intended send, a greenlet that
queues each request when it falls due, and a greenlet that follows the load shape's target rate.
``OpenModelUser`` is the documented base for scenarios: a user takes whichever request is due
next and sends it (``send(due)``), so a slow response holds one user, never the other keys'
schedules. The request's event carries ``intended`` in its context, so the client counts record
the latency from the intended send (corrected for coordinated omission) and the lateness.

When every user is busy, due requests wait in the queue and are sent late: the lateness shows
what a real population of clients would have suffered. Give more users (``-u``, ``loadgate run --users``) when
the late count grows with a healthy service.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import gevent
from gevent.queue import Empty, Queue
from locust import FastHttpUser, task
from locust.user.task import LOCUST_STATE_RUNNING, LOCUST_STATE_WAITING
from locust.user.wait_time import constant

from contract import tier_label
from scenarios.schedule import Due, KeySchedule

__all__ = ["Dispatcher", "OpenModelUser", "DISPATCH"]

#: The dispatcher's longest sleep: how fast it notices a new rate or an earlier key.
_TICK_S = 0.02
#: Its shortest: requests due within it are released together.
_BATCH_S = 0.002


class Dispatcher:
    """Queues the schedule's requests as they fall due; ``rates(elapsed_s)`` gives the per-tier
    rates for this process (None once the test is over)."""

    def __init__(self) -> None:
        self.queue: Queue[Due] = Queue()
        self.schedule: KeySchedule | None = None
        #: This process's keys per tier when a keys file was given (else the scenario names them).
        self.given_keys: dict[str, tuple[str, ...]] = {}
        #: Per-key client state the scenario keeps between a key's requests, by (tier, key index).
        self.clients: dict[tuple[str, int], Any] = {}
        self._greenlets: list[Any] = []

    def start(self, schedule: KeySchedule, rates: Callable[[float], dict[str, float] | None],
              given_keys: dict[str, tuple[str, ...]] | None = None, clock: Callable[[], float] = time.time) -> None:
        """Begin a test: a new schedule, its keys, and no client state left from an earlier test."""
        self.stop()
        self.schedule = schedule
        self.given_keys = dict(given_keys or {})
        self.clients = {}
        began = clock()
        self._greenlets = [gevent.spawn(self._follow_rates, schedule, rates, began, clock),
                           gevent.spawn(self._release, schedule, clock)]

    def key(self, tier: str, index: int, worker_index: int) -> str:
        """Key ``index`` of the tier: from the keys file when one was given, else the demo API's
        format, ``pro-1000042``, unique across up to 99 worker processes."""
        if self.given_keys.get(tier):
            return self.given_keys[tier][index]
        return f"{tier}-{worker_index * 1_000_000 + index + 1}"

    def keys_by_label(self) -> dict[str, int]:
        """This process's keys sending now, per tier label (empty before the test)."""
        return self.schedule.keys_by_label() if self.schedule is not None else {}

    def stop(self) -> None:
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        self._greenlets = []
        while True:
            try:
                self.queue.get_nowait()
            except Empty:
                break

    def _follow_rates(self, schedule: KeySchedule, rates: Callable[[float], dict[str, float] | None],
                      began: float, clock: Callable[[], float]) -> None:
        while True:
            now = clock()
            wanted = rates(now - began)
            schedule.set_rates(wanted or {}, now)
            if wanted is None:
                return
            gevent.sleep(0.25)

    def _release(self, schedule: KeySchedule, clock: Callable[[], float]) -> None:
        while True:
            now = clock()
            due = schedule.take(now)
            while due is not None:
                self.queue.put(due)
                due = schedule.take(now)
            upcoming = schedule.next_time()
            # Released in batches at most every _BATCH_S: a wake-up per request would cost the event
            # loop more than the request; a request is then up to _BATCH_S late, and timed so.
            gevent.sleep(_TICK_S if upcoming is None else min(_TICK_S, max(_BATCH_S, upcoming - clock())))


#: The process's dispatcher (one schedule per process).
DISPATCH = Dispatcher()


class OpenModelUser(FastHttpUser):
    """Base for open-model scenarios (exported as ``scenarios.OpenModelUser``): subclass it and
    implement ``send(due)`` with one request, sent with ``self.client`` as in any ``FastHttpUser``::

        from scenarios import OpenModelUser

        class Shopper(OpenModelUser):
            def send(self, due):
                self.client.get("/cart", headers={"X-API-Key": self.api_key(due)})

    loadgate sets the arrival rate (``--rate``, ``--shape``); the users are the concurrency.
    ``due.tier``, ``due.key_index`` and ``due.over_limit`` say which client sends, ``api_key(due)``
    is its key, and ``due.intended`` is when it meant to send. Before ``send`` the request context
    holds the tier and the intended time, so the client counts time the request from its intended
    send (corrected for coordinated omission) as well as from the actual one.
    """

    abstract = True
    wait_time = constant(0)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.request_context: dict[str, Any] = {}

    def context(self) -> dict[str, Any]:
        return self.request_context

    def send(self, due: Due) -> None:
        raise NotImplementedError("an OpenModelUser implements send(due)")

    def api_key(self, due: Due) -> str:
        """The API key of the client that sends ``due``: from ``--keys`` when given, else generated."""
        worker_index = max(0, getattr(self.environment.runner, "worker_index", 0) or 0)
        return DISPATCH.key(due.tier, due.key_index, worker_index)

    @task
    def _take_next(self) -> None:
        # Idle, a user counts as waiting, as between tasks: when the test stops, Locust kills a waiting
        # user at once, and waits (up to --stop-timeout) only for users sending. A worker then sends its
        # final counts before the master, which waits half a second for them, is gone.
        self._state = LOCUST_STATE_WAITING
        try:
            due = DISPATCH.queue.get()
        finally:
            self._state = LOCUST_STATE_RUNNING
        self.request_context = {"tier": tier_label(due.tier, due.over_limit), "over_limit": due.over_limit,
                                "intended": due.intended}
        self.send(due)
