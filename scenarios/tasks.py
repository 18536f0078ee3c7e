"""The three things API clients do, each one request with its response checked.

Each task takes the client (``KeyState``: its key, tier, known ETags and cursor walk, and the
HTTP client, random source and id popularity lent by the Locust user that sends for it).
A failed check is a Locust failure with a short reason. A 429 is expected (a success) for an
over-limit key and a failure for an in-limit one.

* ``cached_read``: ``GET /api/users/{id}`` with a Zipf-popular id; revalidates a known ETag now
  and then (304 expected), checks the id, ``X-Cache`` and gzip.
* ``next_page``: one page of a cursor walk over ``/api/items`` (limit 50); the walk checks page
  sizes, and that ids continue without gaps or duplicates; it restarts after a few pages.
* ``batch``: ``POST /api/batch`` with 1 to 100 operations; every result must succeed.
"""

from __future__ import annotations

import itertools
import random
import sys
from typing import Any

import orjson

from scenarios.traffic import Zipf

__all__ = ["PAGE_LIMIT", "WALK_PAGES", "REVALIDATE", "ETAGS_PER_KEY", "KeyState", "remember_etag",
           "cached_read", "next_page", "batch_body", "batch"]

PAGE_LIMIT = 50
WALK_PAGES = 5
REVALIDATE = 0.3
USERS_PATH = "/api/users/{id}"
JSON_TYPE = "application/json"
_USER_OP = '{"op":"get_user","id":%d}'
_ITEM_OP = '{"op":"get_item","id":%d}'
#: Known ETags a key keeps (the most recent reads): enough to revalidate, bounded per client.
ETAGS_PER_KEY = 32
#: One int object per profile id read, shared by every key's known ETags (at most the id space).
_UIDS: dict[int, int] = {}


class KeyState:
    """One client: its API key and what it remembers between its requests. ``client``, ``rng`` and
    ``zipf`` are lent by the Locust user that sends for it."""

    __slots__ = ("tier", "over_limit", "key", "etags", "walk", "client", "rng", "zipf")

    def __init__(self, tier: str, over_limit: bool, key: str):
        self.tier, self.over_limit, self.key = tier, over_limit, key
        self.etags: dict[int, str] = {}
        self.walk: dict[str, Any] | None = None
        self.client: Any = None
        self.rng: random.Random | None = None
        self.zipf: Zipf | None = None


def _rate_limited(user: Any, response: Any) -> bool:
    """Handle a 429; True when the response was one."""
    if response.status_code != 429:
        return False
    if user.over_limit:
        response.success()
    else:
        response.failure(f"429 for an in-limit {user.tier} key")
    return True


def _json_body(response: Any) -> Any:
    """The parsed body of a 200 answer; otherwise marks the failure and returns None."""
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}")
        return None
    try:
        # orjson: a page of 50 items parses in 4.7 us against 13 us with json (a batch answer 5 against 16).
        return orjson.loads(response.content)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        response.failure("the body is not JSON")
        return None


def remember_etag(user: Any, uid: int, etag: str) -> None:
    """Keep the profile's ETag for revalidation: the ``ETAGS_PER_KEY`` most recently read per key
    (a re-read moves a profile to the back; the least recently read goes first). The text and the
    id are interned, so the many keys that read a popular profile share one copy of each."""
    etags = user.etags
    etags.pop(uid, None)
    # The id too is shared: an int above 256 is an object of its own (28 B) in every key that reads it.
    etags[_UIDS.setdefault(uid, uid)] = sys.intern(etag)
    if len(etags) > ETAGS_PER_KEY:
        # A fresh dict without the oldest, not a delete: deleting and inserting in turn grows a dict's
        # table to 128 slots (2.3 KB) for its 32 entries; rebuilt, it keeps 64 (1.2 KB), for 1 us.
        user.etags = dict(itertools.islice(etags.items(), 1, None))


def cached_read(user: Any) -> None:
    uid = user.zipf.draw()
    headers = {"X-API-Key": user.key, "Accept-Encoding": "gzip"}
    etag = user.etags.get(uid)
    conditional = etag is not None and user.rng.random() < REVALIDATE
    if conditional:
        headers["If-None-Match"] = etag
    with user.client.get(f"/api/users/{uid}", headers=headers, name=USERS_PATH, catch_response=True) as r:
        if _rate_limited(user, r):
            return
        if conditional:
            if r.status_code != 304:
                r.failure(f"expected 304 for a matching ETag, got {r.status_code}")
            return
        body = _json_body(r)
        if not isinstance(body, dict):
            return
        if body.get("id") != uid:
            r.failure(f"asked for user {uid}, got {body.get('id')!r}")
        elif r.headers.get("X-Cache") not in ("HIT", "MISS"):
            r.failure("no X-Cache header")
        elif r.headers.get("Content-Encoding") != "gzip":
            r.failure("the profile was not gzipped")
        elif not r.headers.get("ETag"):
            r.failure("no ETag header")
        else:
            remember_etag(user, uid, r.headers["ETag"])


def next_page(user: Any) -> None:
    walk = user.walk or {"cursor": None, "next_id": 1, "pages": 0}
    user.walk = None  # a failed page restarts the walk
    url = f"/api/items?limit={PAGE_LIMIT}" + (f"&cursor={walk['cursor']}" if walk["cursor"] else "")
    with user.client.get(url, headers={"X-API-Key": user.key}, name="/api/items", catch_response=True) as r:
        if _rate_limited(user, r):
            user.walk = walk if walk["cursor"] else None
            return
        body = _json_body(r)
        if body is None:
            return
        try:
            ids = [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
        except (KeyError, TypeError):
            r.failure("malformed page")
            return
        expected = list(range(walk["next_id"], walk["next_id"] + len(ids)))
        if ids != expected:
            r.failure(f"page does not continue the walk at id {walk['next_id']} (gap or duplicate)")
        elif cursor is not None and len(ids) != PAGE_LIMIT:
            r.failure(f"a page before the last has {len(ids)} items, not {PAGE_LIMIT}")
        elif cursor is not None and walk["pages"] + 1 < WALK_PAGES:
            user.walk = {"cursor": cursor, "next_id": walk["next_id"] + len(ids), "pages": walk["pages"] + 1}


def batch_body(user: Any) -> tuple[int, str]:
    """A batch of 1 to 100 operations (half profile reads, half item reads): how many, and the body."""
    rng = user.rng
    n = rng.randint(1, 100)
    # The body is written as text: one draw and one format per operation. Dicts through
    # json.dumps took twice as long (27 against 58 us for 50 operations), on 10 % of all requests.
    ops = [_USER_OP % user.zipf.draw() if rng.random() < 0.5 else _ITEM_OP % (int(rng.random() * 10_000) + 1)
           for _ in range(n)]
    return n, '{"operations":[' + ",".join(ops) + "]}"


def batch(user: Any) -> None:
    n, payload = batch_body(user)
    with user.client.post("/api/batch", data=payload, headers={"X-API-Key": user.key, "Content-Type": JSON_TYPE},
                          name="/api/batch", catch_response=True) as r:
        if _rate_limited(user, r):
            return
        body = _json_body(r)
        if body is None:
            return
        try:
            results = body["results"]
        except (KeyError, TypeError):
            r.failure("malformed batch answer")
            return
        if len(results) != n:
            r.failure(f"sent {n} operations, got {len(results)} results")
        elif body.get("succeeded") != n:
            r.failure(f"{n - int(body.get('succeeded') or 0)} of {n} operations failed")
