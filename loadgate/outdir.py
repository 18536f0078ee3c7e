"""Where a command writes when ``--out`` is not given: ``runs/<UTC time>-<command>/``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

__all__ = ["out_dir_for"]


def out_dir_for(command: str, now: float, base: Path = Path("runs")) -> Path:
    """``runs/20260101T001500Z-run``, made unique with ``-2``, ``-3``... when it exists already."""
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base / f"{stamp}-{command}", 2
    while candidate.exists():
        candidate, n = base / f"{stamp}-{command}-{n}", n + 1
    return candidate
