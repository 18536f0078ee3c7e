"""The per-request listener: every request Locust reports, counted in this process's ``ClientStats``.

The tier comes from the user's request context (``none`` without one), the result from the
exception and the status (429 is ``rate_limited``), the cache from ``X-Cache`` on a 200 of the
cached read, and the lateness from the context's intended send time (open-model requests): the
request's own start time (``start_time``, epoch seconds, which Locust's clients report) minus it.
"""

from __future__ import annotations

import time
from typing import Any

import contract
from scenarios.clientstats import lateness
from scenarios.state import STATE

__all__ = ["on_request"]


def on_request(request_type: str, name: str, response_time: float, response_length: int, response: Any = None,
               context: dict[str, Any] | None = None, exception: Any = None, start_time: float | None = None,
               **_: Any) -> None:
    """Count one request (``events.request``); ``response_time`` is in milliseconds, as Locust
    gives it, and is recorded in seconds; ``start_time`` is when the request began (epoch seconds)."""
    code = int(getattr(response, "status_code", 0) or 0)
    if exception is not None:
        result = contract.FAILURE
    elif code == 429:
        result = contract.RATE_LIMITED
    else:
        result = contract.OK
    tier = context.get("tier", "none") if context else "none"
    cache = response.headers.get("X-Cache") if code == 200 and name == "/api/users/{id}" else None
    late_s = None
    if context and "intended" in context:
        # The send's own start: one clock read fewer than the event's time less the response time, and
        # exact, where that counted the checks run before the event fires (catch_response) as lateness.
        late_s = start_time - context["intended"] if start_time is not None \
            else lateness(time.time(), response_time, context["intended"])
    STATE.stats.record(name, tier, result, code, response_time / 1000.0, cache, late_s)
