"""The scenario's Locust users: the open model's ``ClientUser``, and the closed model's tier users.

**Open model** (``--lg-model open``): API keys are the clients, each with its own state (known
ETags, its cursor walk); a pool of ``ClientUser``s (the concurrency) sends whichever key's request
is due (``scenarios.open_model``). Key names are unique across processes:
``<tier>-<worker index × 1,000,000 + key number>``.

**Closed model** (the default, for now): one ``FastHttpUser`` per tier (and an over-limit twin per
tier), each with its own API key. Users pace themselves with ``constant_throughput``: an in-limit
user at ``--lg-pace`` (80 %) of its tier's limit, an over-limit user at 150 %. Each request is one
task, so the pace is a pace of requests and the API's per-key limit applies directly. Keys are
unique across processes: ``<tier>-<worker index><user number>``.

The API authenticates by key and sets no cookies, so users keep no cookie jar (Locust's would be
consulted twice on every request).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from locust import FastHttpUser, task
from locust.user.wait_time import constant_throughput

from contract import TIER_LIMITS, TIERS, tier_label, user_class_name
from scenarios import tasks
from scenarios.open_model import DISPATCH, OpenModelUser
from scenarios.schedule import Due
from scenarios.traffic import DEFAULT_IDS, OVER_LIMIT_PACE, Zipf, read_ids

__all__ = ["ScenarioUser", "TierUser", "USER_CLASSES", "user_class", "KeyState", "ClientUser"]

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


class TierUser(ScenarioUser):
    """A user of one tier; concrete classes set ``tier`` and ``over_limit``."""

    abstract = True
    tier = "free"
    over_limit = False

    def on_start(self) -> None:
        options = self.environment.parsed_options
        number = next(_numbers) + (500_000 if self.over_limit else 0)
        self.seed_traffic(number)
        self.key = f"{self.tier}-{self.worker_index * 1_000_000 + number}"
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


#: Known ETags a key keeps (the most recent reads): enough to revalidate, bounded per client.
_ETAGS_PER_KEY = 32


class KeyState:
    """One client: its API key and what it remembers between its requests. ``client``, ``rng`` and
    ``zipf`` are lent by the user that sends for it (the tasks read them as a user's)."""

    __slots__ = ("tier", "over_limit", "key", "etags", "walk", "client", "rng", "zipf")

    def __init__(self, tier: str, over_limit: bool, key: str):
        self.tier, self.over_limit, self.key = tier, over_limit, key
        self.etags: dict[int, str] = {}
        self.walk: dict[str, Any] | None = None
        self.client: Any = None
        self.rng: random.Random | None = None
        self.zipf: Zipf | None = None


def key_name(tier: str, index: int, worker_index: int, given: dict[str, tuple[str, ...]]) -> str:
    """Key ``index`` of the tier: from the keys file when one was given, else the demo API's format,
    ``pro-1000042``, unique across up to 99 worker processes."""
    if given.get(tier):
        return given[tier][index]
    return f"{tier}-{worker_index * 1_000_000 + index + 1}"


class ClientUser(OpenModelUser, ScenarioUser):
    """Sends the scenario's requests for whichever key is due (7 profile reads : 2 pages : 1 batch)."""

    def on_start(self) -> None:
        self.seed_traffic(next(_numbers))

    def send(self, due: Due) -> None:
        state = DISPATCH.clients.get((due.tier, due.key_index))
        if state is None:
            state = DISPATCH.clients[(due.tier, due.key_index)] = KeyState(
                due.tier, due.over_limit, key_name(due.tier, due.key_index, self.worker_index, DISPATCH.given_keys))
        state.client, state.rng, state.zipf = self.client, self.rng, self.zipf
        pick = self.rng.random() * 10
        if pick < 7:
            tasks.cached_read(state)
            if len(state.etags) > _ETAGS_PER_KEY:
                del state.etags[next(iter(state.etags))]
        elif pick < 9:
            tasks.next_page(state)
        else:
            tasks.batch(state)
