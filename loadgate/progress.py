"""The live progress line of a load test: elapsed/total, rate against target, p99, errors, 429s.

``progress_line`` is pure (two client snapshots in, one line out); ``Progress`` shows it on
stderr with rich when that is a terminal, and as a plain line every 10 s otherwise (CI logs).
"""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from analysis.client_series import BUCKETS, Snapshot, delta
from analysis.sli import histogram_from_buckets
from slo.units import format_duration

__all__ = ["progress_line", "Progress"]


def progress_line(elapsed_s: float, total_s: float, before: Snapshot | None, last: Snapshot | None) -> str:
    """``  23/60 s  rate 198/200 req/s  p99 41 ms  errors 0  429s 0`` (rate and p99 between the snapshots)."""
    head = f"{elapsed_s:4.0f}/{total_s:.0f} s"
    if last is None:
        return f"{head}  starting…"
    so_far = delta(Snapshot(t=last.t), last)
    rate, p99 = 0.0, float("nan")
    if before is not None and last.t > before.t:
        recent = delta(before, last)
        rate = recent.total / recent.seconds
        window = histogram_from_buckets(zip(BUCKETS, recent.buckets))
        if window.count > 0:
            p99 = window.quantile(0.99)
    return (f"{head}  rate {rate:,.0f}/{last.target_rate:,.0f} req/s  p99 {format_duration(p99)}  "
            f"errors {so_far.failures:,.0f}  429s {so_far.rate_limited:,.0f}  requests {so_far.total:,.0f}")


class Progress:
    """Shows ``progress_line`` live; call ``update`` about once a second."""

    def __init__(self, total_s: float, stream: TextIO):
        self.total_s = total_s
        self.stream = stream
        self.started = time.monotonic()
        self._last_plain = 0.0
        self._live: Live | None = None
        if stream.isatty():
            self._live = Live(Text(""), console=Console(file=stream), refresh_per_second=4, transient=False)
            self._live.start()

    def update(self, before: Snapshot | None, last: Snapshot | None, suffix: str = "") -> None:
        elapsed = time.monotonic() - self.started
        line = progress_line(elapsed, self.total_s, before, last) + suffix
        if self._live is not None:
            self._live.update(Text(line))
        elif elapsed - self._last_plain >= 10:
            self._last_plain = elapsed
            self.stream.write(f"loadgate: {line}\n")
            self.stream.flush()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
