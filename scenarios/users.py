"""One Locust ``FastHttpUser`` per tier (and an over-limit twin per tier), each with its own API key.

Users pace themselves with ``constant_throughput``: an in-limit user at ``--lg-pace`` (80 %) of
its tier's limit, an over-limit user at 150 %. Each request is one task, so the pace is a pace of
requests and the API's per-key limit applies directly. Keys are unique across processes:
``<tier>-<worker index><user number>``. The API authenticates by key and sets no cookies, so
users keep no cookie jar (Locust's would be consulted twice on every request).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from locust import FastHttpUser, task
from locust.user.wait_time import constant_throughput

from contract import TIER_LIMITS, TIERS, tier_label, user_class_name
from scenarios import tasks
from scenarios.traffic import DEFAULT_IDS, OVER_LIMIT_PACE, Zipf, parse_ids

__all__ = ["TierUser", "USER_CLASSES", "user_class"]

_numbers = itertools.count(1)


class TierUser(FastHttpUser):
    """A user of one tier; concrete classes set ``tier`` and ``over_limit``."""

    abstract = True
    tier = "free"
    over_limit = False
    # Connection errors are counted as failures, not raised into the task.
    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        # Typed as always present, but None is how geventhttpclient and Locust switch the jar off.
        self.client.cookiejar = self.client.client.cookiejar = None  # type: ignore[assignment]

    def on_start(self) -> None:
        options = self.environment.parsed_options
        index = max(0, getattr(self.environment.runner, "worker_index", 0) or 0)
        number = next(_numbers) + (500_000 if self.over_limit else 0)
        self.key = f"{self.tier}-{index * 1_000_000 + number}"
        seed = getattr(options, "lg_seed", 1) * 1_000_003 + index * 7919 + number
        self.rng = random.Random(seed)
        self.zipf = Zipf(s=getattr(options, "lg_zipf_s", 1.2), seed=seed,
                         ids=parse_ids(getattr(options, "lg_ids", DEFAULT_IDS)))
        pace = OVER_LIMIT_PACE if self.over_limit else getattr(options, "lg_pace", 0.8)
        self._pacer = constant_throughput(pace * TIER_LIMITS[self.tier] / 60.0)
        self.etags: dict[int, str] = {}
        self.walk: dict[str, Any] | None = None
        # Built once: Locust asks for it on every request.
        self._context = {"tier": tier_label(self.tier, self.over_limit),
                         "over_limit": self.over_limit}

    def wait_time(self) -> float:
        return self._pacer(self)

    def context(self) -> dict[str, Any]:
        """Sent with every request event, so client metrics know the tier (``free_over_limit``...)."""
        return self._context

    @task(7)
    def cached_read(self) -> None:
        tasks.cached_read(self)

    @task(2)
    def paginated_walk(self) -> None:
        tasks.next_page(self)

    @task(1)
    def batch(self) -> None:
        tasks.batch(self)


def _make(tier: str, over_limit: bool) -> type[TierUser]:
    attributes = {"tier": tier, "over_limit": over_limit, "abstract": False, "__module__": __name__}
    return type(user_class_name(tier, over_limit), (TierUser,), attributes)


#: (tier, over_limit) -> user class.
USER_CLASSES: dict[tuple[str, bool], type[TierUser]] = {
    (tier, over): _make(tier, over) for tier in TIERS for over in (False, True)}


def user_class(tier: str, over_limit: bool) -> type[TierUser]:
    return USER_CLASSES[(tier, over_limit)]
