"""API keys model clients: pools per tier, read from a keys file or generated for the demo. Pure.

A keys file is a CSV with the header ``tier,key``, one key a line::

    tier,key
    free,k_live_9f2...
    pro,k_live_c41...

Keys are secrets: no message, ``repr`` or record made here ever holds a key's value; errors name
the file, the line and the field only. ``keys_needed`` says how many keys each tier needs to
carry a target rate at the pace, so a pool that is too small is refused before any load is sent.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from contract import TIER_LIMITS, TIERS
from scenarios.traffic import OVER_LIMIT_PACE

__all__ = ["KeysError", "KeyPool", "parse_keys", "read_keys", "demo_pool", "is_over_limit", "over_limit_among",
           "key_rates", "keys_for_rate", "keys_needed", "shortfall"]


class KeysError(ValueError):
    """A keys file that cannot be used; the message names the file, line and field, never a key."""


@dataclass(frozen=True)
class KeyPool:
    """The keys of every tier, in file order. ``repr`` shows counts only."""

    keys: dict[str, tuple[str, ...]]

    def count(self, tier: str) -> int:
        return len(self.keys.get(tier, ()))

    def counts(self) -> dict[str, int]:
        """Keys per tier (every tier, zero when it has none): safe to record and show."""
        return {tier: self.count(tier) for tier in TIERS}

    def __repr__(self) -> str:
        return f"KeyPool({self.counts()})"


def parse_keys(text: str, name: str = "keys.csv") -> KeyPool:
    """Parse a keys file's text; raises ``KeysError`` listing every problem, one a line."""
    problems: list[str] = []
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [cell.strip().lower() for cell in rows[0]] != ["tier", "key"]:
        raise KeysError(f"{name}:1: header: expected 'tier,key' as the first line")
    keys: dict[str, list[str]] = {}
    first_line: dict[str, int] = {}
    for number, row in enumerate(rows[1:], 2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            problems.append(f"{name}:{number}: row: expected 2 fields (tier,key), got {len(row)}")
            continue
        tier, key = row[0].strip(), row[1].strip()
        if tier not in TIER_LIMITS:
            # The value is not shown: with the columns swapped it would be a key.
            problems.append(f"{name}:{number}: tier: not a tier; tiers are {', '.join(TIERS)}")
        if not key:
            problems.append(f"{name}:{number}: key: empty")
        elif key in first_line:
            problems.append(f"{name}:{number}: key: the same key as line {first_line[key]}")
        elif tier in TIER_LIMITS:
            first_line[key] = number
            keys.setdefault(tier, []).append(key)
    if problems:
        raise KeysError("\n".join(problems))
    if not keys:
        raise KeysError(f"{name}:2: key: the file holds no keys")
    return KeyPool({tier: tuple(found) for tier, found in keys.items()})


def read_keys(path: str) -> KeyPool:
    """Read a keys file; an unreadable one is a ``KeysError`` naming it."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise KeysError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeysError(f"{path}: cannot read ({type(exc).__name__})") from None
    return parse_keys(text, path)


def demo_pool(counts: dict[str, int]) -> KeyPool:
    """Generated keys in the demo API's format (``pro-000042``): the default when no file is given."""
    return KeyPool({tier: tuple(f"{tier}-{n:06d}" for n in range(1, count + 1))
                    for tier, count in counts.items() if count > 0})


def is_over_limit(index: int, fraction: float) -> bool:
    """Whether key ``index`` of a tier's pool sends over its limit: a fixed role, spread evenly, so
    that the first ``k`` keys always hold ``floor(k × fraction)`` over-limit ones."""
    return math.floor((index + 1) * fraction + 1e-9) > math.floor(index * fraction + 1e-9)


def over_limit_among(active: int, fraction: float) -> int:
    """Over-limit keys among the first ``active`` of a pool."""
    return math.floor(active * fraction + 1e-9)


def key_rates(tier: str, pace: float) -> tuple[float, float]:
    """Requests per second of one in-limit key (at ``pace`` of the limit) and of one over-limit key."""
    limit_per_s = TIER_LIMITS[tier] / 60.0
    return pace * limit_per_s, OVER_LIMIT_PACE * limit_per_s


def keys_for_rate(tier: str, rate: float, pace: float = 0.8, over_limit_fraction: float = 0.0) -> int:
    """The fewest keys of ``tier`` that carry ``rate`` requests per second with no in-limit key
    faster than ``pace`` of the limit; 0 for no traffic."""
    if rate <= 0:
        return 0
    paced, over = key_rates(tier, pace)
    k = max(1, math.floor(rate / max(paced, over)))
    while True:
        n_over = over_limit_among(k, over_limit_fraction)
        if n_over * over + (k - n_over) * paced >= rate - 1e-9:
            return k
        k += 1


def keys_needed(rate: float, mix: dict[str, float], pace: float = 0.8,
                over_limit_fraction: float = 0.0) -> dict[str, int]:
    """Keys each tier needs at ``rate`` (the peak): ``keys_for_rate`` of its share of the traffic."""
    return {tier: keys_for_rate(tier, rate * share, pace, over_limit_fraction)
            for tier, share in mix.items() if share > 0}


def shortfall(pool: KeyPool, needed: dict[str, int], rate: float, pace: float) -> str | None:
    """None when the pool is large enough; otherwise a message giving the count needed per tier."""
    short = [f"{tier}: {pool.count(tier)} given, {n} needed" for tier, n in needed.items() if pool.count(tier) < n]
    if not short:
        return None
    return (f"too few keys for {rate:g} req/s with each in-limit key at {pace:.0%} of its tier's limit "
            f"(over-limit keys at {OVER_LIMIT_PACE:.0%}): " + "; ".join(short))
