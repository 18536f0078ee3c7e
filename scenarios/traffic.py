"""Who sends traffic and what they ask for: tiers, the tier mix, pacing and key popularity.

Pure, apart from ``read_ids``, the thin reader of an ids file.

* Each tier has a published limit (requests per minute per API key). A well-behaved key sends
  at ``pace`` (80 % by default) of its tier's limit; an over-limit key at 150 % (``key_rates``).
* The tier mix is a share of *traffic* per tier, so the number of keys per tier follows from
  the target rate (``scenarios.keys.keys_needed``): ``keys = rate * share / per-key rate``.
* Cached reads draw user ids from a Zipf popularity (exponent ``s``), so a few hot profiles
  dominate, as in real traffic, and the cache-hit objective means something. The ids are a range
  (``1-10000`` by default, the most popular first) or a file of ids in order of popularity
  (``read_ids``, the module's one reader of a file), for a service whose ids are not the demo's.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from contract import TIER_LIMITS, TIERS

__all__ = ["TIER_LIMITS", "TIERS", "DEFAULT_MIX", "OVER_LIMIT_PACE", "DEFAULT_IDS", "parse_mix",
           "key_rates", "IdSpace", "id_range", "parse_id_list", "read_ids", "Zipf"]

#: Share of traffic per tier.
DEFAULT_MIX = {"free": 0.1, "basic": 0.2, "pro": 0.3, "enterprise": 0.4}
OVER_LIMIT_PACE = 1.5
#: The user ids cached reads draw from, when none are given.
DEFAULT_IDS = "1-10000"


def parse_mix(text: str) -> dict[str, float]:
    """Parse ``free=10,basic=20,pro=30,enterprise=40`` (any positive weights) into shares summing to 1."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in TIER_LIMITS:
            raise ValueError(f"unknown tier {name!r} in the mix; tiers are {', '.join(TIERS)}")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"tier {name!r} needs a number, as in {name}=25") from None
        if weight < 0:
            raise ValueError(f"tier {name!r} has a negative share")
        weights[name] = weight
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("the tier mix needs at least one tier with a positive share")
    return {tier: weights.get(tier, 0.0) / total for tier in TIERS}


def key_rates(tier: str, pace: float) -> tuple[float, float]:
    """Requests per second of one in-limit key (at ``pace`` of the limit) and of one over-limit key."""
    limit_per_s = TIER_LIMITS[tier] / 60.0
    return pace * limit_per_s, OVER_LIMIT_PACE * limit_per_s


@dataclass(frozen=True)
class IdSpace:
    """User ids by popularity rank: ``first .. first + count - 1``, or the ``listed`` ids in order."""

    first: int = 1
    count: int = 10_000
    listed: tuple[int, ...] = ()

    def id_of(self, rank: int) -> int:
        """The id of popularity ``rank`` (1 is the most popular)."""
        return self.listed[rank - 1] if self.listed else self.first + rank - 1


def id_range(text: str) -> IdSpace | None:
    """``A-B`` (whole numbers, 1 <= A <= B) as an id space; None when the text is no range."""
    head, sep, tail = text.partition("-")
    if not (sep and head.strip().isdigit() and tail.strip().isdigit()):
        return None
    first, last = int(head), int(tail)
    if not 1 <= first <= last:
        raise ValueError(f"the id range {text!r} must run from a whole number of at least 1 up to one as large")
    return IdSpace(first, last - first + 1)


def parse_id_list(text: str, name: str) -> IdSpace:
    """An ids file's text: one whole-number id a line, the most popular first (blank lines and ``#``
    comments skipped). Raises ``ValueError`` naming the file and line."""
    ids: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        token = line.split("#", 1)[0].strip()
        if not token:
            continue
        if not token.isdigit():
            raise ValueError(f"{name}:{number}: not a whole-number id")
        ids.append(int(token))
    if not ids:
        raise ValueError(f"{name}: holds no ids")
    return IdSpace(ids[0], len(ids), tuple(ids))


@lru_cache(maxsize=8)
def read_ids(spec: str) -> IdSpace:
    """The id space ``--ids`` names: a range ``A-B``, or the path of an ids file (the one read here).

    Cached: every Locust user of a process shares one reading. Raises ``ValueError`` with the reason.
    """
    found = id_range(spec)
    if found is not None:
        return found
    try:
        with open(spec, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ValueError(f"{spec!r} is neither a range such as 1-250000 nor a readable file of ids "
                         f"({exc.strerror or exc})") from None
    return parse_id_list(text, spec)


@lru_cache(maxsize=8)
def _zipf_cdf(keys: int, s: float) -> tuple[float, ...]:
    """The cumulative weights, shared by every user (thousands of users, one table)."""
    return tuple(accumulate(1.0 / (rank ** s) for rank in range(1, keys + 1)))


class Zipf:
    """Draw ids with probability proportional to ``1 / rank ** s``, from a seeded RNG.

    ``keys`` ranks over ids 1..keys, or over the ids of ``ids`` when given (its count wins).
    """

    def __init__(self, keys: int = 10_000, s: float = 1.2, seed: int = 1, ids: IdSpace | None = None):
        self.ids = ids or IdSpace(1, keys)
        if self.ids.count < 1 or s <= 0:
            raise ValueError("a Zipf popularity needs at least one id and an exponent above 0")
        self.keys = self.ids.count
        self._cdf = _zipf_cdf(self.keys, s)
        self._rng = random.Random(seed)

    def draw(self) -> int:
        """One id; the first of the space (id 1 by default) is the most popular."""
        return self.ids.id_of(bisect.bisect_left(self._cdf, self._rng.random() * self._cdf[-1]) + 1)
