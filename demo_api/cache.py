"""A TTL cache in front of the demo API's slow "database". Single-threaded (one event loop).

Entries expire ``ttl_s`` seconds after they were stored; a TTL of 0 disables the cache (every
lookup is a miss). ``max_entries`` bounds memory by evicting the oldest entries first. The
clock is passed in so tests control time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

__all__ = ["TTLCache"]

V = TypeVar("V")


class TTLCache(Generic[V]):
    """``get`` returns the value or None; ``put`` stores it until ``now + ttl_s``."""

    def __init__(self, ttl_s: float = 300.0, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The live value for ``key``, or None (missing, expired, or caching disabled)."""
        if self.ttl_s <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self.clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``; evicts the oldest entry when full."""
        if self.ttl_s <= 0:
            return
        self._entries[key] = (self.clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
