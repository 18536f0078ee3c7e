"""The open model's dispatcher: hands each request of the schedule to a user when it falls due. gevent, no Locust.

Each process that runs users holds one ``Dispatcher`` (``DISPATCH``): a ``KeySchedule`` of every
active key's next intended send, a greenlet that hands due requests to idle users, and a greenlet
that follows the load shape's target rate. A user (``scenarios.open_model.OpenModelUser``) that
finishes a request takes the next one due straight from the schedule (``take_due``): no hand-off
and no wake-up while users are busy. Only when none is due does it wait, idle, on the queue
(``wait_due``), and the dispatcher queues a due request for each idle user, never more.

A request still waiting (for a free user) ``max_late_s`` after its intended time (``--lg-max-late``, 10 s by
default) is dropped, never sent, and counted (as k6 counts ``dropped_iterations``), so a hung
service or an overloaded generator cannot grow the queue without end, nor keep sending a backlog
after the test.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import gevent
from gevent.queue import Empty, Queue

from scenarios.schedule import DEFAULT_MAX_LATE_S, Due, KeySchedule

__all__ = ["Dispatcher", "DISPATCH", "DEFAULT_MAX_LATE_S"]

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
        self.max_late_s = DEFAULT_MAX_LATE_S
        #: This process's share of a distributed run: which of the workers' key ranges it sends.
        self.slot = 0
        #: Called with the requests dropped and the time they were dropped at, each time some are.
        self.on_drop: Callable[[list[Due], float], None] = lambda dues, now: None
        #: Users waiting on the queue for a request (the dispatcher queues one for each, no more).
        self.idle = 0
        self._clock: Callable[[], float] = time.time

    def start(self, schedule: KeySchedule, rates: Callable[[float], dict[str, float] | None],
              given_keys: dict[str, tuple[str, ...]] | None = None, clock: Callable[[], float] = time.time,
              max_late_s: float = DEFAULT_MAX_LATE_S,
              on_drop: Callable[[list[Due], float], None] | None = None, began: float | None = None,
              slot: int = 0) -> None:
        """Begin a test (or this process's new share of it): a new schedule, its keys, and no
        client state left from before. ``rates`` is called with the seconds since ``began`` (the
        test's start, now unless given). Requests queued longer than ``max_late_s`` past their
        intended time are dropped and passed to ``on_drop``. ``slot`` numbers the generated keys.

        A schedule started while another runs (a new share of a distributed test) takes over each
        key's last intended send, by key, so no key sends sooner than one interval after its last
        send; requests of the old one still waiting for a user are dropped (and counted).
        """
        if self.schedule is not None and self._greenlets:
            # Requests already queued for idle users are dropped (and counted). Those due and not yet
            # taken stay untaken: each key's last send is the one before, so the new schedule sends the
            # keys this process keeps at once, and the keys that moved go from their new process (dropping
            # them, as a first version did, dropped 21 good requests at a worker's join, 2 a second).
            now = clock()
            queued = self._drain()
            if queued:
                self.on_drop(queued, now)
        previous = self._last_sends_by_key()
        self.stop()
        self.schedule = schedule
        self.given_keys = dict(given_keys or {})
        self.clients = {}
        self.slot = slot
        if previous:
            schedule.remember({(tier, index): previous[(tier, self.key(tier, index))]
                               for tier, n in schedule.pools().items() for index in range(n)
                               if (tier, self.key(tier, index)) in previous})
        self.max_late_s = max_late_s
        self._clock = clock
        if on_drop is not None:
            self.on_drop = on_drop
        began = clock() if began is None else began
        self._greenlets = [gevent.spawn(self._follow_rates, schedule, rates, began, clock),
                           gevent.spawn(self._release, schedule, clock)]

    def _last_sends_by_key(self) -> dict[tuple[str, str], float]:
        """Each key's last intended send in the running schedule, by (tier, key); empty when none runs."""
        if self.schedule is None or not self._greenlets:
            return {}
        return {(tier, self.key(tier, index)): t for (tier, index), t in self.schedule.last_sends().items()}

    def key(self, tier: str, index: int) -> str:
        """Key ``index`` of the tier: from the keys file when one was given, else the demo API's
        format, ``pro-1000042``, unique across up to 99 workers (by ``slot``)."""
        if self.given_keys.get(tier):
            return self.given_keys[tier][index]
        return f"{tier}-{self.slot * 1_000_000 + index + 1}"

    def keys_by_label(self) -> dict[str, int]:
        """This process's keys sending now, per tier label (empty before the test)."""
        return self.schedule.keys_by_label() if self.schedule is not None else {}

    def stop(self) -> None:
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        self._greenlets = []
        self._drain()

    def _drain(self) -> list[Due]:
        out = []
        while True:
            try:
                out.append(self.queue.get_nowait())
            except Empty:
                return out

    def _follow_rates(self, schedule: KeySchedule, rates: Callable[[float], dict[str, float] | None],
                      began: float, clock: Callable[[], float]) -> None:
        while True:
            now = clock()
            wanted = rates(now - began)
            schedule.set_rates(wanted or {}, now)
            if wanted is None:
                return
            gevent.sleep(0.25)

    def take_due(self) -> Due | None:
        """For a user that is free: the earliest request due now, taken from the schedule (or one
        queued for an idle user, which is older); None when none is due. Requests more than
        ``max_late_s`` past their intended time are dropped on the way (``on_drop``)."""
        if self.queue.qsize():
            return self.queue.get_nowait()
        schedule = self.schedule
        if schedule is None:
            return None
        now = self._clock()
        due = schedule.take(now)
        if due is None or now - due.intended <= self.max_late_s:
            return due
        dropped = [due, *self._take_overdue(now, self.max_late_s)]
        self.on_drop(dropped, now)
        return schedule.take(now)

    def wait_due(self) -> Due:
        """For a user with nothing due: wait, idle, until the dispatcher queues a request for it."""
        self.idle += 1
        try:
            return self.queue.get()
        finally:
            self.idle -= 1

    def _take_overdue(self, now: float, max_late_s: float) -> list[Due]:
        """Take the schedule's requests more than ``max_late_s`` past their intended time."""
        schedule, out = self.schedule, list[Due]()
        if schedule is None:
            return out
        while True:
            upcoming = schedule.next_time()
            if upcoming is None or now - upcoming <= max_late_s:
                return out
            due = schedule.take(now)
            if due is None:
                return out
            out.append(due)

    def drop_stale(self, now: float) -> int:
        """Drop the requests waiting more than ``max_late_s`` past their intended time, queued (the
        queue holds them in order of intended time) or due in the schedule and not yet taken; how many."""
        dropped = []
        while True:
            try:
                head = self.queue.peek_nowait()
            except Empty:
                break
            if now - head.intended <= self.max_late_s:
                break
            dropped.append(self.queue.get_nowait())
        dropped += self._take_overdue(now, self.max_late_s)
        if dropped:
            self.on_drop(dropped, now)
        return len(dropped)

    def _release(self, schedule: KeySchedule, clock: Callable[[], float]) -> None:
        queue = self.queue
        while True:
            now = clock()
            self.drop_stale(now)
            # One request for each idle user: busy users take theirs from the schedule themselves.
            for _ in range(self.idle - queue.qsize()):
                due = schedule.take(now)
                if due is None:
                    break
                queue.put(due)
            upcoming = schedule.next_time()
            # Released in batches at most every _BATCH_S: a wake-up per request would cost the event
            # loop more than the request; a request is then up to _BATCH_S late, and timed so.
            gevent.sleep(_TICK_S if upcoming is None else min(_TICK_S, max(_BATCH_S, upcoming - clock())))


#: The process's dispatcher (one schedule per process).
DISPATCH = Dispatcher()
