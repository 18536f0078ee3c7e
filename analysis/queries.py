"""PromQL for every SLI, built by pure functions from metric names, a selector and a window.

Nothing here talks to Prometheus. Label values are always escaped, and a user's selector
(``job="api",instance=~"a.*"``) is parsed into matchers and rendered again, so a stray quote
cannot break, or inject into, a query.

Windows are whole seconds rendered as ``[1800s]``. Counters are always read through
``increase``/``rate``, so counter resets and several instances are handled by Prometheus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import contract

__all__ = [
    "DURATION_UNITS",
    "Metrics",
    "Matcher",
    "Selector",
    "SelectorError",
    "parse_selector",
    "escape_label_value",
    "duration",
    "requests_by_code",
    "requests_total",
    "requests_5xx",
    "requests_429",
    "latency_buckets",
    "latency_count",
    "latency_quantile",
    "counter_increase",
    "counter_rate",
    "up_min",
    "up_samples",
    "render_template",
    "unbalanced",
]


#: The units a latency histogram's ``le`` bounds can be in, and how many of them make a second.
DURATION_UNITS = {"s": 1.0, "ms": 1000.0}


@dataclass(frozen=True)
class Metrics:
    """Metric names of the service's SLIs; the defaults are loadgate's metric contract.

    ``duration`` is a histogram family (``<duration>_bucket``, ``_count``) whose bounds are in
    ``duration_unit`` (``s`` or ``ms``: Istio, Envoy and Linkerd record milliseconds). The status
    label ``code_label`` may hold codes (``503``) or classes (``5xx``): 5xx is matched as ``5..``,
    which reads both. A preset without cache counters has ``cache_hits``/``cache_misses`` None;
    ``preset`` names where the names came from, for the reasons a grade gives.
    """

    requests: str = contract.REQUESTS
    duration: str = contract.DURATION
    cache_hits: str | None = contract.CACHE_HITS
    cache_misses: str | None = contract.CACHE_MISSES
    up: str = contract.UP
    code_label: str = contract.CODE_LABEL
    duration_unit: str = "s"
    preset: str = "loadgate"
    #: Matchers the preset itself needs on every default query (Istio counts each request twice,
    #: once per reporter: ``reporter="destination"``), before the spec's and the command line's.
    selector: str = ""

    @property
    def per_second(self) -> float:
        """How many of ``duration_unit`` make one second (1000 for milliseconds)."""
        return DURATION_UNITS[self.duration_unit]

    def le_bound(self, seconds: float) -> float:
        """A threshold in seconds as the histogram's bound: 0.5 s is ``le="500"`` in milliseconds."""
        return seconds * self.per_second

    def request_selector(self, selector: "Selector") -> "Selector":
        """``selector`` with the preset's own matchers, for the request and latency series only
        (``up`` and the cache counters never carry Istio's ``reporter``)."""
        return Selector((*parse_selector(self.selector), *selector.matchers)) if self.selector else selector


class SelectorError(ValueError):
    """A selector string that is not a list of PromQL label matchers."""


@dataclass(frozen=True)
class Matcher:
    """One label matcher: ``name op "value"`` with op one of ``=``, ``!=``, ``=~``, ``!~``."""

    name: str
    op: str
    value: str

    def render(self) -> str:
        return f'{self.name}{self.op}"{escape_label_value(self.value)}"'


_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OP_RE = re.compile(r"=~|!~|!=|=")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def escape_label_value(value: str) -> str:
    """Escape a label value for a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def parse_selector(text: str) -> tuple[Matcher, ...]:
    """Parse ``job="api", instance=~"a.*"`` (braces optional) into matchers.

    Raises ``SelectorError`` naming the column of the first problem.
    """
    s = text.strip()
    if s.startswith("{") and s.endswith("}"):
        s = s[1:-1]
    pos = 0
    matchers: list[Matcher] = []

    def fail(message: str) -> SelectorError:
        return SelectorError(f"bad selector {text!r} at column {pos + 1}: {message}")

    def skip_ws() -> None:
        nonlocal pos
        while pos < len(s) and s[pos].isspace():
            pos += 1

    skip_ws()
    while pos < len(s):
        name = _NAME_RE.match(s, pos)
        if not name:
            raise fail("expected a label name")
        pos = name.end()
        skip_ws()
        op = _OP_RE.match(s, pos)
        if not op:
            raise fail("expected one of = != =~ !~")
        pos = op.end()
        skip_ws()
        if pos >= len(s) or s[pos] not in "\"'`":
            raise fail("expected a quoted value")
        quote = s[pos]
        pos += 1
        value: list[str] = []
        while True:
            if pos >= len(s):
                raise fail("unterminated string")
            ch = s[pos]
            if ch == quote:
                pos += 1
                break
            if ch == "\\" and quote != "`":
                pos += 1
                if pos >= len(s) or s[pos] not in _ESCAPES:
                    raise fail("unknown escape")
                value.append(_ESCAPES[s[pos]])
            else:
                value.append(ch)
            pos += 1
        if op.group(0) in ("=~", "!~"):
            try:
                re.compile("".join(value))
            except re.error as exc:
                raise fail(f"invalid regular expression: {exc}") from None
        matchers.append(Matcher(name.group(0), op.group(0), "".join(value)))
        skip_ws()
        if pos < len(s):
            if s[pos] != ",":
                raise fail("expected ',' between matchers")
            pos += 1
            skip_ws()
    return tuple(matchers)


@dataclass(frozen=True)
class Selector:
    """Label matchers added to every default query (from the spec and ``--selector``)."""

    matchers: tuple[Matcher, ...] = ()

    @classmethod
    def parse(cls, *texts: str) -> "Selector":
        """Combine several selector strings (empty ones are ignored)."""
        matchers: list[Matcher] = []
        for text in texts:
            if text and text.strip():
                matchers.extend(parse_selector(text))
        return cls(tuple(matchers))

    def inner(self, *extra: Matcher) -> str:
        """The matchers joined by commas, without braces (what ``{{selector}}`` expands to)."""
        return ",".join(m.render() for m in (*self.matchers, *extra))

    def braces(self, *extra: Matcher) -> str:
        """The matchers in braces, ``{}`` when there are none."""
        return "{" + self.inner(*extra) + "}"

    def __str__(self) -> str:
        return self.inner()


def duration(seconds: float) -> str:
    """Render a PromQL duration in whole seconds (at least 1s): ``1800s``."""
    return f"{max(1, int(round(seconds)))}s"


def counter_increase(metric: str, selector: Selector, window_s: float, *extra: Matcher,
                     by: tuple[str, ...] = ()) -> str:
    """``sum [by (...)] (increase(metric{sel}[W]))``: events in the window, resets handled."""
    group = f" by ({', '.join(by)})" if by else ""
    return f"sum{group}(increase({metric}{selector.braces(*extra)}[{duration(window_s)}]))"


def counter_rate(metric: str, selector: Selector, window_s: float, *extra: Matcher,
                 by: tuple[str, ...] = ()) -> str:
    """``sum [by (...)] (rate(metric{sel}[W]))``: events per second over the trailing window."""
    group = f" by ({', '.join(by)})" if by else ""
    return f"sum{group}(rate({metric}{selector.braces(*extra)}[{duration(window_s)}]))"


def requests_by_code(requests: str, selector: Selector, window_s: float, code_label: str = "code") -> str:
    """Responses in the window, one result per status code."""
    return counter_increase(requests, selector, window_s, by=(code_label,))


def requests_total(requests: str, selector: Selector, window_s: float, *, rate: bool = False) -> str:
    """All responses in the window (or per second with ``rate``)."""
    return (counter_rate if rate else counter_increase)(requests, selector, window_s)


def requests_5xx(requests: str, selector: Selector, window_s: float, code_label: str = "code", *,
                 rate: bool = False) -> str:
    """5xx responses in the window; empty (not 0) when the service never exposed a 5xx series."""
    return (counter_rate if rate else counter_increase)(requests, selector, window_s,
                                                        Matcher(code_label, "=~", "5.."))


def requests_429(requests: str, selector: Selector, window_s: float, code_label: str = "code", *,
                 rate: bool = False) -> str:
    """429 (rate limited) responses in the window."""
    return (counter_rate if rate else counter_increase)(requests, selector, window_s,
                                                        Matcher(code_label, "=", "429"))


def latency_buckets(duration_metric: str, selector: Selector, window_s: float) -> str:
    """The whole cumulative histogram over the window, merged across series: one result per ``le``."""
    return counter_increase(f"{duration_metric}_bucket", selector, window_s, by=("le",))


def latency_count(duration_metric: str, selector: Selector, window_s: float, *, rate: bool = False) -> str:
    """Observations in the window (or per second)."""
    return (counter_rate if rate else counter_increase)(f"{duration_metric}_count", selector, window_s)


def latency_quantile(duration_metric: str, selector: Selector, window_s: float, quantile: float,
                     per_second: float = 1.0) -> str:
    """``histogram_quantile`` over merged buckets, in seconds (a histogram in milliseconds is divided
    by ``per_second``): an estimate for charts, never for grading."""
    estimate = (f"histogram_quantile({quantile!r}, "
                f"{counter_rate(f'{duration_metric}_bucket', selector, window_s, by=('le',))})")
    return estimate if per_second == 1.0 else f"{estimate} / {per_second:g}"


def up_min(up: str, selector: Selector, window_s: float) -> str:
    """The lowest ``up`` sample of any selected target in the trailing window (1 = all were up)."""
    return f"min(min_over_time({up}{selector.braces()}[{duration(window_s)}]))"


def up_samples(up: str, selector: Selector, window_s: float) -> str:
    """The most ``up`` samples any one target has in the window (used to infer the scrape interval)."""
    return f"max(count_over_time({up}{selector.braces()}[{duration(window_s)}]))"


def render_template(template: str, selector: Selector, window_s: float) -> str:
    """Expand ``{{window}}`` and ``{{selector}}`` in a user's PromQL.

    ``{{selector}}`` becomes the matchers without braces, so ``foo_total{ {{selector}} }``
    works with and without a selector.
    """
    out = re.sub(r"\{\{\s*window\s*\}\}", duration(window_s), template)
    return re.sub(r"\{\{\s*selector\s*\}\}", lambda _: selector.inner(), out)


_CLOSE = {")": "(", "]": "[", "}": "{"}


def unbalanced(query: str) -> str | None:
    """Why ``query`` cannot be PromQL because its brackets or quotes do not pair up, or None.

    Not a parser: a cheap check that catches an unclosed ``(`` or quote before Prometheus (or
    ``promtool``) sees the query, so the spec's line can be named."""
    stack: list[tuple[str, int]] = []
    quote: str | None = None
    i = 0
    while i < len(query):
        ch = query[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
            start = i
        elif ch in "([{":
            stack.append((ch, i))
        elif ch in ")]}":
            if not stack or stack[-1][0] != _CLOSE[ch]:
                return f"unexpected {ch!r} at column {i + 1}"
            stack.pop()
        i += 1
    if quote:
        return f"unclosed quote {quote} opened at column {start + 1}"
    if stack:
        ch, at = stack[-1]
        return f"unclosed {ch!r} opened at column {at + 1}"
    return None
