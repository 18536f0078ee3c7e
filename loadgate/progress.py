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

from analysis.locust_source import BUCKETS, Snapshot
from analysis.sli import histogram_from_buckets
from slo.units import format_duration

__all__ = ["progress_line", "Progress"]


def _totals(s: Snapshot) -> tuple[float, float, float, list[float]]:
    total = sum(s.responses.values())
    failures = sum(n for (_, _, result, _), n in s.responses.items() if result == "failure")
    limited = sum(n for (_, _, result, _), n in s.responses.items() if result == "rate_limited")
    buckets = [0.0] * len(BUCKETS)
    for counts in s.latency.values():
        for i, c in enumerate(counts):
            buckets[i] += c
    return total, failures, limited, buckets


def progress_line(elapsed_s: float, total_s: float, before: Snapshot | None, last: Snapshot | None) -> str:
    """``  23/60 s  rate 198/200 req/s  p99 41 ms  errors 0  429s 0`` (rate and p99 between the snapshots)."""
    head = f"{elapsed_s:4.0f}/{total_s:.0f} s"
    if last is None:
        return f"{head}  starting…"
    total, failures, limited, buckets = _totals(last)
    rate, p99 = 0.0, float("nan")
    if before is not None and last.t > before.t:
        b_total, _, _, b_buckets = _totals(before)
        rate = (total - b_total) / (last.t - before.t)
        window = histogram_from_buckets(zip(BUCKETS, [y - x for x, y in zip(b_buckets, buckets)]))
        if window.count > 0:
            p99 = window.quantile(0.99)
    return (f"{head}  rate {rate:,.0f}/{last.target_rate:,.0f} req/s  p99 {format_duration(p99)}  "
            f"errors {failures:,.0f}  429s {limited:,.0f}  requests {total:,.0f}")


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

    def update(self, before: Snapshot | None, last: Snapshot | None) -> None:
        elapsed = time.monotonic() - self.started
        line = progress_line(elapsed, self.total_s, before, last)
        if self._live is not None:
            self._live.update(Text(line))
        elif elapsed - self._last_plain >= 10:
            self._last_plain = elapsed
            self.stream.write(f"loadgate: {line}\n")
            self.stream.flush()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
