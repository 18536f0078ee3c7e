"""The demo API's data: user profiles, a seeded item catalogue, opaque cursors and API keys.

Everything is derived from a seed, so two runs with the same seed serve the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
from dataclasses import dataclass

from contract import TIERS

__all__ = ["API_KEY_RE", "tier_of_key", "user_profile", "Catalogue", "CursorError"]

#: Demo API keys look like ``pro-000042``: the tier, then a number. Anything else is refused (401).
API_KEY_RE = re.compile(rf"^({'|'.join(TIERS)})-[0-9]{{1,8}}$")

_WORDS = ("fast", "cached", "paged", "batched", "steady", "tiered", "gzip", "etag", "cursor", "quota",
          "latency", "budget", "replica", "shard", "region", "window")


def tier_of_key(key: str | None) -> str | None:
    """The tier an API key belongs to, or None for a missing or unknown key."""
    if not key:
        return None
    match = API_KEY_RE.match(key)
    return match.group(1) if match else None


def user_profile(user_id: int, seed: int) -> dict[str, object]:
    """A deterministic profile for ``user_id`` (a few hundred bytes of JSON, so gzip applies)."""
    rng = random.Random(seed * 1_000_003 + user_id)
    words = " ".join(rng.choice(_WORDS) for _ in range(40))
    return {
        "id": user_id,
        "name": f"User {user_id}",
        "email": f"user{user_id}@example.test",
        "tier": rng.choice(("free", "basic", "pro", "enterprise")),
        "created_at": f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "bio": words,
        "stats": {"posts": rng.randint(0, 5000), "followers": rng.randint(0, 100_000)},
    }


class CursorError(ValueError):
    """A cursor that was not issued by this catalogue (malformed or tampered with)."""


@dataclass(frozen=True)
class Catalogue:
    """``size`` items with ids 1..size, paged in id order with signed, opaque cursors."""

    size: int = 10_000
    seed: int = 1

    @property
    def _key(self) -> bytes:
        return hashlib.sha256(f"loadgate-cursor-{self.seed}".encode()).digest()

    def item(self, item_id: int) -> dict[str, object]:
        rng = random.Random(self.seed * 7_000_003 + item_id)
        return {"id": item_id, "sku": f"SKU-{item_id:06d}", "price_cents": rng.randint(100, 100_000),
                "stock": rng.randint(0, 500)}

    def encode_cursor(self, after_id: int) -> str:
        payload = base64.urlsafe_b64encode(json.dumps({"after": after_id}).encode()).rstrip(b"=")
        mac = hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:16]
        return f"{payload.decode()}.{mac}"

    def decode_cursor(self, cursor: str) -> int:
        try:
            payload, mac = cursor.split(".", 1)
            expected = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()[:16]
            if not hmac.compare_digest(mac, expected):
                raise CursorError("cursor signature mismatch")
            after = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["after"]
        except (ValueError, KeyError, TypeError, UnicodeError) as exc:
            raise CursorError(f"invalid cursor: {exc}") from None
        if not isinstance(after, int) or not 0 <= after <= self.size:
            raise CursorError("invalid cursor position")
        return after

    def page(self, after_id: int, limit: int) -> tuple[list[dict[str, object]], str | None]:
        """Items after ``after_id``, at most ``limit``; the next cursor, or None on the last page."""
        first = after_id + 1
        last = min(self.size, after_id + limit)
        items = [self.item(i) for i in range(first, last + 1)]
        return items, (self.encode_cursor(last) if last < self.size else None)
