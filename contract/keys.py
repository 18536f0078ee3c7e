"""The keys file, shared by the load generator and the demo API: API keys per tier. Stdlib only.

A keys file is a CSV with the header ``tier,key``, one key a line::

    tier,key
    free,k_live_9f2...
    pro,k_live_c41...

Keys are secrets: no message, ``repr`` or count made here ever holds a key's value; errors name
the file, the line and the field only. Without a file, the demo's generated keys
(``pro-000042``) are used.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from contract import TIER_LIMITS, TIERS

__all__ = ["KeysError", "KeyPool", "parse_keys", "read_keys", "demo_pool"]


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
