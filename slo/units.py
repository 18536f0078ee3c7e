"""Parse the unit-bearing values people write in SLO specs and on the command line.

Every parser takes a string and returns a plain float in base units, or raises
``UnitError`` with a message meant for the user:

* durations (``100ms``, ``0.5s``, ``2m``) become **seconds**;
* percentages (``0.1%``, ``99.99%``) and bare ratios (``0.999``) become **ratios** in [0, 1];
* rates (``10000/s``, ``600/min``) become **events per second**.

A threshold may carry a comparison operator in front (``"< 100ms"``, ``">= 99.99%"``);
``parse_comparison`` splits it off.

Durations have one home here, in each spelling loadgate reads or writes:

* ``parse_duration`` / ``format_spec_duration``: loadgate's own (``100ms``, ``60s``, ``30d``);
* ``parse_openslo_duration`` / ``format_openslo_duration``: OpenSLO's (``28d``, ``1w``, ``1M``;
  no seconds, ``1m`` is a minute); ``parse_any_duration`` takes either;
* ``format_prom_duration``: Prometheus's composite form (``2h24m``) for rule names and windows;
* ``format_duration``: for people (``87.3 ms``).

(PromQL range selectors are written in whole seconds by ``analysis.queries.duration``, which
stays there: ``analysis`` imports nothing from ``slo``.)
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from decimal import Decimal

__all__ = [
    "UnitError",
    "OPERATORS",
    "OP_SYMBOLS",
    "parse_duration",
    "parse_openslo_duration",
    "parse_any_duration",
    "parse_ratio",
    "parse_rate",
    "parse_number",
    "parse_comparison",
    "format_duration",
    "rfc3339",
    "format_spec_duration",
    "format_openslo_duration",
    "format_prom_duration",
    "format_ratio",
    "format_rate",
    "format_value",
    "format_window",
    "format_percent",
]

OPERATORS = ("<=", ">=", "<", ">")
#: How operators are shown to people.
OP_SYMBOLS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


class UnitError(ValueError):
    """A value that does not parse in the unit it needs; the message says what was expected."""


_NUMBER = r"(?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>us|µs|ms|s|m|h|d)\s*$")
_DURATION_FACTORS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*/\s*(?P<unit>s|sec|second|m|min|minute|h|hour)\s*$")
_RATE_DIVISORS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
                  "h": 3600.0, "hour": 3600.0}
_PERCENT_RE = re.compile(rf"^\s*{_NUMBER}\s*%\s*$")
_PLAIN_RE = re.compile(rf"^\s*{_NUMBER}\s*$")
_OPENSLO_DURATION_RE = re.compile(r"^([0-9]+)(m|h|d|w|M|Q|Y)$")
#: OpenSLO's duration units (no seconds: ``1m`` is a minute, ``1M`` a month).
_OPENSLO_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "Q": 90 * 86400,
                   "Y": 365 * 86400}


def _number(match: re.Match[str]) -> float:
    return float(match.group("num"))


def parse_duration(text: str) -> float:
    """Parse ``100ms``, ``0.5s``, ``2m``, ``1h`` (also ``us``, ``d``) into seconds (> 0 not enforced)."""
    match = _DURATION_RE.match(str(text))
    if not match:
        raise UnitError(f"expected a duration such as 100ms, 0.5s or 2m, got {text!r}")
    return _number(match) * _DURATION_FACTORS[match.group("unit")]


def parse_openslo_duration(text: str) -> float:
    """OpenSLO's ``28d``, ``1h``, ``1M`` (a month, 30 days) in seconds; ``UnitError`` otherwise."""
    match = _OPENSLO_DURATION_RE.match(text.strip())
    if not match:
        raise UnitError(f"{text!r} is not an OpenSLO duration: a whole number and one of m, h, d, w, M, Q, Y "
                        "(there is no s; 1m is a minute, 1M a month)")
    return float(int(match.group(1)) * _OPENSLO_UNIT_S[match.group(2)])


def parse_any_duration(text: str) -> float:
    """A duration in loadgate's spelling (``90s``, ``30d``) or OpenSLO's (``1w``, ``1M``, ``1Q``: a
    month is 30 days), in seconds; ``UnitError`` (loadgate's message) when it is neither."""
    try:
        return parse_duration(text)
    except UnitError as first:
        try:
            return parse_openslo_duration(text)
        except UnitError:
            raise first from None


def parse_ratio(text: str | float | int) -> float:
    """Parse ``0.1%`` or a bare ratio such as ``0.999`` into a ratio in [0, 1]."""
    if isinstance(text, bool):
        raise UnitError(f"expected a percentage such as 0.1% or 99.99%, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _PERCENT_RE.match(text)
        if match:
            # Decimal keeps 99.99% at exactly 0.9999 instead of 0.9998999999999999.
            value = float(Decimal(match.group("num")) / 100)
        elif _PLAIN_RE.match(text):
            value = float(text)
        else:
            raise UnitError(f"expected a percentage such as 0.1% or 99.99%, got {text!r}")
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise UnitError(f"a ratio must lie between 0% and 100% (0 and 1), got {text!r}")
    return value


def parse_rate(text: str | float | int) -> float:
    """Parse ``10000/s``, ``600/min`` or ``36000/h`` into events per second."""
    if isinstance(text, str):
        match = _RATE_RE.match(text)
        if match:
            return _number(match) / _RATE_DIVISORS[match.group("unit")]
    raise UnitError(f"expected a rate such as 10000/s or 600/min, got {text!r}")


def parse_number(text: str | float | int) -> float:
    """Parse a plain number (for generic PromQL objectives whose unit loadgate does not know)."""
    if isinstance(text, bool):
        raise UnitError(f"expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        return float(text)
    if _PLAIN_RE.match(text) or re.match(r"^\s*-[0-9.]+(?:[eE][-+]?[0-9]+)?\s*$", text):
        return float(text)
    raise UnitError(f"expected a number, got {text!r}")


def parse_comparison(text: str | float | int) -> tuple[str | None, str | float | int]:
    """Split an optional leading operator (``<``, ``<=``, ``>``, ``>=``) from a threshold.

    Returns ``(operator or None, rest)``; numbers pass through unchanged.
    """
    if not isinstance(text, str):
        return None, text
    stripped = text.strip()
    for op in OPERATORS:
        if stripped.startswith(op):
            return op, stripped[len(op):].strip()
    return None, stripped


def format_duration(seconds: float | None) -> str:
    """Render seconds for people: ``87.3 ms`` below 10 s, else ``12.5 s``."""
    if seconds is None or math.isnan(seconds):
        return "n/a"
    if math.isinf(seconds):
        return "+Inf"
    if abs(seconds) < 10:
        ms = seconds * 1000.0
        return f"{ms:.3g} ms" if abs(ms) < 100 else f"{ms:.0f} ms"
    return f"{seconds:.3g} s"


def format_spec_duration(seconds: float) -> str:
    """Seconds as a ``loadgate/v1`` spec writes them, read back by ``parse_duration``: whole days as
    ``30d``, anything else as seconds (``90s``, ``0.5s``)."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:.12g}d"
    return f"{seconds:.12g}s"


def format_openslo_duration(seconds: float) -> str | None:
    """The OpenSLO spelling of whole minutes (``1m``, ``2h``, ``28d``), or None below a minute
    (or off whole minutes), which OpenSLO cannot write."""
    s = int(round(seconds))
    if s < 60 or s % 60:
        return None
    for unit, size in (("d", 86400), ("h", 3600)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s // 60}m"


def format_prom_duration(seconds: int) -> str:
    """``3600`` -> ``1h``, ``8640`` -> ``2h24m``, ``36`` -> ``36s`` (Prometheus's composite durations)."""
    out = ""
    rest = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


def format_ratio(ratio: float | None, digits: int = 4) -> str:
    """Render a ratio as a percentage with up to ``digits`` significant digits (``0.012 %``)."""
    if ratio is None or math.isnan(ratio):
        return "n/a"
    pct = ratio * 100.0
    if pct == 0:
        return "0 %"
    if pct >= 100.0:
        return f"{pct:.0f} %"
    if pct >= 99.0 and pct < 100.0:
        # Show enough nines to tell 99.99 % from 99.995 %.
        decimals = 2
        while decimals < 6 and round(pct, decimals) >= 100.0:
            decimals += 1
        return f"{pct:.{decimals}f} %"
    return f"{pct:.{digits}g} %"


def format_rate(per_second: float | None) -> str:
    """Render events per second (``10,234 req/s``)."""
    if per_second is None or math.isnan(per_second):
        return "n/a"
    if per_second >= 100:
        return f"{per_second:,.0f} req/s"
    return f"{per_second:.3g} req/s"


def format_value(value: float | None, unit: str) -> str:
    """Render a measured value in its objective's unit (``s``, ``ratio``, ``1/s`` or free text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "s":
        return format_duration(value)
    if unit == "ratio":
        return format_ratio(value)
    if unit == "1/s":
        return format_rate(value)
    return f"{value:.6g}{' ' + unit if unit else ''}"


def format_window(seconds: float) -> str:
    """``30 s``, ``12.5 min``, ``2 h``: a window's length in the largest unit it fills."""
    seconds = float(seconds)
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:g} s"


def format_percent(ratio: float, signed: bool = False) -> str:
    """``+20 %``, ``-1,254 %``, ``+0.8 %``: three significant digits, no exponent."""
    pct = ratio * 100
    sign = "+" if signed and pct > 0 else ""
    if abs(pct) >= 100:
        return f"{sign}{pct:,.0f} %"
    return f"{sign}{pct:.3g} %"


def rfc3339(unix_s: float) -> str:
    """``2026-01-01T00:15:00Z`` for a Unix time, as the records write times (milliseconds only when
    not whole)."""
    text = datetime.fromtimestamp(unix_s, tz=timezone.utc).isoformat(timespec="milliseconds" if unix_s % 1
                                                                     else "seconds")
    return text.replace("+00:00", "Z")
