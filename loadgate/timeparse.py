"""Times and windows on the command line: RFC 3339 or Unix seconds, and ``--last 30m``."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from slo.units import UnitError, parse_duration

__all__ = ["parse_time", "resolve_window"]


def parse_time(text: str) -> float:
    """Parse ``2026-01-01T00:00:00Z`` (any RFC 3339 offset) or ``1767225600`` into Unix seconds."""
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(number) and number >= 0:
            return number
        raise ValueError(f"{text!r} is not a valid Unix time")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text!r} is neither RFC 3339 (2026-01-01T00:00:00Z) nor Unix seconds") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z for UTC or an offset such as +02:00")
    return parsed.astimezone(timezone.utc).timestamp()


def resolve_window(start: str | None, end: str | None, last: str | None, now: float) -> tuple[float, float]:
    """The graded window as whole Unix seconds ``(start, end)``.

    Either ``start`` and ``end`` or ``last`` (ending now). Raises ``ValueError`` with the reason.
    """
    if last is not None:
        if start is not None or end is not None:
            raise ValueError("give either --last or --start/--end, not both")
        try:
            seconds = parse_duration(last)
        except UnitError as exc:
            raise ValueError(f"--last: {exc}") from None
        end_s = math.floor(now)
        start_s = end_s - round(seconds)
    else:
        if start is None or end is None:
            raise ValueError("give --start and --end, or --last")
        start_s, end_s = round(parse_time(start)), round(parse_time(end))
    if end_s - start_s < 1:
        raise ValueError("the window must end after it starts (at least 1 second)")
    return float(start_s), float(end_s)
