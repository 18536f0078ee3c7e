"""The scenario's Locust user: ``ClientUser``, which sends for whichever API key is due.

API keys are the clients, each with its own state (known ETags, its cursor walk) and its own
schedule of intended sends (``scenarios.schedule``); a pool of ``ClientUser``s, the concurrency,
sends whichever key's request is due next (``scenarios.open_model``). Generated key names are
unique across processes: ``<tier>-<worker index × 1,000,000 + key number>``.

The API authenticates by key and sets no cookies, so users keep no cookie jar (Locust's would be
consulted twice on every request).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from locust import FastHttpUser

from scenarios import tasks
from scenarios.dispatch import DISPATCH
from scenarios.open_model import OpenModelUser
from scenarios.schedule import Due
from scenarios.tasks import KeyState
from scenarios.traffic import DEFAULT_IDS, Zipf, read_ids

__all__ = ["ScenarioUser", "ClientUser"]

_numbers = itertools.count(1)


class ScenarioUser(FastHttpUser):
    """What every scenario user shares: its timeouts, and no cookie jar (the API sets no cookies,
    and Locust would consult the jar twice on every request)."""

    abstract = True
    # Connection errors are counted as failures, not raised into the task.
    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        # Typed as always present, but None is how geventhttpclient and Locust switch the jar off.
        self.client.cookiejar = self.client.client.cookiejar = None  # type: ignore[assignment]

    def seed_traffic(self, number: int) -> None:
        """This user's seeded choices (``rng``) and id popularity (``zipf``), reproducible with
        ``--lg-seed`` and distinct per worker process and per user ``number``."""
        options = self.environment.parsed_options
        self.worker_index = max(0, getattr(self.environment.runner, "worker_index", 0) or 0)
        seed = getattr(options, "lg_seed", 1) * 1_000_003 + self.worker_index * 7919 + number
        self.rng = random.Random(seed)
        self.zipf = Zipf(s=getattr(options, "lg_zipf_s", 1.2), seed=seed,
                         ids=read_ids(getattr(options, "lg_ids", DEFAULT_IDS)))


class ClientUser(OpenModelUser, ScenarioUser):
    """Sends the scenario's requests for whichever key is due (7 profile reads : 2 pages : 1 batch)."""

    def on_start(self) -> None:
        self.seed_traffic(next(_numbers))

    def send(self, due: Due) -> None:
        state = DISPATCH.clients.get((due.tier, due.key_index))
        if state is None:
            state = DISPATCH.clients[(due.tier, due.key_index)] = KeyState(
                due.tier, due.over_limit, self.api_key(due))
        state.client, state.rng, state.zipf = self.client, self.rng, self.zipf
        pick = self.rng.random() * 10
        if pick < 7:
            tasks.cached_read(state)
        elif pick < 9:
            tasks.next_page(state)
        else:
            tasks.batch(state)
