"""Signals that end a command: SIGINT (Ctrl-C), SIGTERM (how CI cancels a job) and SIGHUP.

``handled()`` installs handlers for the command's lifetime (main thread only). The first signal
raises ``Interrupted`` where the command is, so every ``with`` block and ``ExitStack`` unwinds: each
child process group is stopped (``procs.stop``: SIGTERM, a bounded wait, then SIGKILL), and a run
that has measured part of its steady window grades and writes what it has. A second signal makes
``FORCE.now`` true and raises again: the remaining children are killed without waiting.

While a run writes its results (``deferred()``), a first signal waits: the outputs are finished
(a few seconds), then it is raised. A second signal still stops at once.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["Interrupted", "FORCE", "handled", "deferred", "SIGNALS"]

#: The signals a command stops on, and the exit codes shells give them (128 + the number).
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A command was asked to stop by ``signum`` at Unix time ``at``."""

    def __init__(self, signum: int, at: float):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.at = at

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _Force:
    """Set by a second signal: stop children at once, without waiting for them."""

    now = False


FORCE = _Force()


class _Deferral:
    """Whether a first signal waits (``deferred()``), and the one that waited."""

    active = False
    pending: Interrupted | None = None


_DEFER = _Deferral()


@contextmanager
def deferred() -> Iterator[None]:
    """Hold a first signal until the block ends (results being written), then raise it."""
    _DEFER.active, _DEFER.pending = True, None
    try:
        yield
    finally:
        _DEFER.active = False
    pending, _DEFER.pending = _DEFER.pending, None
    if pending is not None:
        raise pending


@contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into ``Interrupted`` while the block runs (a no-op off the
    main thread, where Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        if seen:
            FORCE.now = True
        seen.append(signum)
        if _DEFER.active and len(seen) == 1:
            _DEFER.pending = Interrupted(signum, time.time())
            return
        raise Interrupted(signum, time.time())

    previous = {sig: signal.signal(sig, on_signal) for sig in SIGNALS}
    FORCE.now = False
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
