"""The open model in Locust: requests on a schedule of intended send times, carried by a pool of users.

Keys model clients and Locust users model concurrency. Each process that runs users holds one
``Dispatcher`` (``scenarios.dispatch``), which queues each request of the schedule when it falls
due. ``OpenModelUser`` is the documented base for scenarios: a user takes whichever request is due
next and sends it (``send(due)``), so a slow response holds one user, never the other keys'
schedules. The request's event carries ``intended`` in its context, so the client counts record
the latency from the intended send (corrected for coordinated omission) and the lateness.

When every user is busy, due requests wait in the queue and are sent late: the lateness shows
what a real population of clients would have suffered. Give more users (``-u``, ``loadgate run --users``) when
the late count grows with a healthy service. The wait is bounded: a request still queued 10 s
(``--lg-max-late``) after its intended time is dropped unsent, and counted.
"""

from __future__ import annotations

from typing import Any

from locust import FastHttpUser, task
from locust.user.task import LOCUST_STATE_RUNNING, LOCUST_STATE_WAITING
from locust.user.wait_time import constant

from contract import tier_label
from scenarios.dispatch import DISPATCH
from scenarios.schedule import Due

__all__ = ["OpenModelUser"]


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
        return DISPATCH.key(due.tier, due.key_index)

    @task
    def _take_next(self) -> None:
        # A due request is taken straight from the schedule; only when none is due does the user wait.
        due = DISPATCH.take_due()
        if due is None:
            # Idle, a user counts as waiting, as between tasks: when the test stops, Locust kills a waiting
            # user at once, and waits (up to --stop-timeout) only for users sending. A worker then sends its
            # final counts before the master, which waits half a second for them, is gone.
            self._state = LOCUST_STATE_WAITING
            try:
                due = DISPATCH.wait_due()
            finally:
                self._state = LOCUST_STATE_RUNNING
        self.request_context = {"tier": tier_label(due.tier, due.over_limit), "over_limit": due.over_limit,
                                "intended": due.intended}
        self.send(due)
