"""This process's CPU use, read every second by the series writer and with every worker report.

Locust's own monitor samples every 5 s and reads 0 at first, which hides a saturated generator in
a short run; ``CPU.read()`` gives the percentage since its last reading instead.
"""

from __future__ import annotations

import resource
import time

__all__ = ["CpuMeter", "CPU"]


class CpuMeter:
    """This process's CPU use (user + system, all threads) since the last reading, in percent of
    one core. Locust's own monitor samples every 5 s and reads 0 at first; this is read every second."""

    def __init__(self) -> None:
        self._last = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.monotonic(), usage.ru_utime + usage.ru_stime

    def read(self) -> float:
        """Percent of one core used since the last reading (or since start), rounded to 0.1;
        above 100 when several threads ran at once, 0.0 when no time has passed."""
        now = self._now()
        (t0, c0), (t1, c1) = self._last, now
        self._last = now
        return round(100.0 * (c1 - c0) / (t1 - t0), 1) if t1 > t0 else 0.0


#: The process's meter, started at import (so the first reading covers the start-up).
CPU = CpuMeter()
