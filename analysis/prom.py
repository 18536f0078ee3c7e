"""The one place loadgate talks to Prometheus: a thin wrapper around prometheus-api-client.

It adds what a release gate needs and the client leaves out:

* auth and TLS from the environment, never from flags that land in shell history
  (``LOADGATE_PROM_TOKEN``, ``LOADGATE_PROM_USER``/``LOADGATE_PROM_PASSWORD``,
  ``LOADGATE_PROM_CA_FILE``, ``LOADGATE_PROM_INSECURE=1``, ``LOADGATE_PROM_TIMEOUT`` seconds);
* an explicit timeout, and a bounded retry with backoff for connection errors (refused, or
  dropped before an answer) and 502/504 only (a 4xx is the query's fault, a 503 is Prometheus's
  own query timeout, and a read timeout means no answer came in time: retrying any of them only
  repeats it);
* the ``warnings`` Prometheus adds to an answer built from partial data (Thanos, remote storage),
  which the client drops: such an answer is a failed query, never graded as if it were whole;
* range queries split into chunks under Prometheus's 11,000-points-per-series limit;
* errors turned into two one-line exceptions, the ``analysis.source`` errors every source
  raises: ``PromUnreachable`` (nothing can be asked, so the gate is inconclusive) and
  ``PromQueryError`` (this query failed, the others may not).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Mapping, Self
from urllib.parse import urlsplit, urlunsplit

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from analysis.source import QueryFailed, SourceError, SourceUnreachable

__all__ = [
    "MAX_POINTS",
    "PromError",
    "PromUnreachable",
    "PromQueryError",
    "PromConfig",
    "Prometheus",
    "Sample",
    "RangeSeries",
    "safe_url",
]

#: Prometheus refuses range queries of more than 11,000 points per series.
MAX_POINTS = 11_000
DEFAULT_TIMEOUT_S = 30.0

Sample = tuple[dict[str, str], float]
RangeSeries = tuple[dict[str, str], list[tuple[float, float]]]


class PromError(SourceError):
    """A failure talking to Prometheus; ``str()`` is one line meant for the user."""


class PromUnreachable(PromError, SourceUnreachable):
    """Prometheus cannot be reached at all (refused, DNS, TLS, retries exhausted)."""


class PromQueryError(PromError, QueryFailed):
    """One query failed: a bad query, an execution error or timeout, or an unreadable answer."""


@dataclass(frozen=True)
class PromConfig:
    """How to reach Prometheus. Secrets live here only in memory and never in outputs."""

    url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    verify_tls: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = 2
    backoff_s: float = 0.5

    @classmethod
    def from_env(cls, url: str, environ: Mapping[str, str]) -> "PromConfig":
        """Read auth, TLS and timeout settings from ``LOADGATE_PROM_*`` variables."""
        timeout = environ.get("LOADGATE_PROM_TIMEOUT")
        try:
            timeout_s = float(timeout) if timeout else DEFAULT_TIMEOUT_S
        except ValueError:
            raise ValueError(f"LOADGATE_PROM_TIMEOUT must be a number of seconds, got {timeout!r}") from None
        return cls(
            url=url.rstrip("/"),
            token=environ.get("LOADGATE_PROM_TOKEN") or None,
            username=environ.get("LOADGATE_PROM_USER") or None,
            password=environ.get("LOADGATE_PROM_PASSWORD") or None,
            ca_file=environ.get("LOADGATE_PROM_CA_FILE") or None,
            verify_tls=environ.get("LOADGATE_PROM_INSECURE", "") not in ("1", "true", "yes"),
            timeout_s=timeout_s,
        )

    @property
    def auth_kind(self) -> str:
        """``bearer``, ``basic`` or ``none``: safe to record, unlike the secret itself."""
        if self.token:
            return "bearer"
        if self.username:
            return "basic"
        return "none"


class _Retry(Retry):
    """Retries a connection dropped before the answer (a read error), but not a read timeout: a
    Prometheus that does not answer in time is not asked again and again."""

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: TracebackType | None = None
                  ) -> Self:
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


class Prometheus:
    """Instant and range queries returning plain Python values.

    ``instant`` returns ``[(labels, value)]``; ``range`` returns ``[(labels, [(t, value)])]``
    with NaN and ±Inf kept as floats. A ``session`` may be passed in (tests, proxies).
    """

    def __init__(self, config: PromConfig, session: requests.Session | None = None):
        self.config = config
        #: The URL as messages show it: never with a user:password part.
        self._where = safe_url(config.url)
        session = session or requests.Session()
        if config.token:
            session.headers["Authorization"] = f"Bearer {config.token}"
        if config.username:
            session.auth = (config.username, config.password or "")
        session.verify = config.ca_file if (config.ca_file and config.verify_tls) else config.verify_tls
        session.hooks["response"].append(self._note_warnings)
        self._warnings: list[str] = []
        retry = _Retry(
            total=config.retries,
            connect=config.retries,
            read=config.retries,
            status=config.retries,
            backoff_factor=config.backoff_s,
            status_forcelist=(502, 504),
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,
        )
        self._client = PrometheusConnect(url=config.url, session=session, retry=retry,
                                         timeout=config.timeout_s)
        self.queries_run = 0

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def instant(self, query: str, at: float) -> list[Sample]:
        """Evaluate ``query`` at Unix time ``at``."""
        result = self._call(self._client.custom_query, query, params={"time": _fmt_time(at)})
        try:
            if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
                return [({}, _value(result[1]))]  # a scalar result
            return [(dict(item.get("metric", {})), _value(item["value"][1])) for item in result]
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise PromQueryError(f"unreadable answer from Prometheus to {query!r}") from None

    def range(self, query: str, start: float, end: float, step: float) -> list[RangeSeries]:
        """Evaluate ``query`` at ``start, start+step, ... <= end``, in chunks below ``MAX_POINTS``.

        Times are whole seconds (the client rounds them), so pass whole-second arguments.
        """
        step = max(1, int(round(step)))
        start_i, end_i = int(round(start)), int(round(end))
        merged: dict[tuple[tuple[str, str], ...], RangeSeries] = {}
        chunk_start = start_i
        while chunk_start <= end_i:
            chunk_end = min(end_i, chunk_start + (MAX_POINTS - 1) * step)
            result = self._call(self._client.custom_query_range, query,
                                start_time=_dt(chunk_start), end_time=_dt(chunk_end), step=str(step))
            try:
                for item in result:
                    labels = dict(item.get("metric", {}))
                    key = tuple(sorted(labels.items()))
                    points = [(float(t), _value(v)) for t, v in item["values"]]
                    merged.setdefault(key, (labels, []))[1].extend(points)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                raise PromQueryError(f"unreadable answer from Prometheus to {query!r}") from None
            chunk_start = chunk_end + step
        return list(merged.values())

    def label_values(self, label: str, matches: list[str], start: float, end: float) -> list[str]:
        """The values ``label`` takes on the series ``matches`` select between ``start`` and ``end``
        (bounded by the matchers and the time range, never the whole database)."""
        params: dict[str, Any] = {"start": _fmt_time(start), "end": _fmt_time(end)}
        if matches:
            params["match[]"] = matches
        found = self._call(self._client.get_label_values, label, params=params)
        if not isinstance(found, list):
            raise PromQueryError(f"unreadable answer from Prometheus for the values of {label!r}")
        return [str(v) for v in found]

    def label_names(self, matches: list[str], start: float, end: float) -> list[str]:
        """The label names on the series ``matches`` select between ``start`` and ``end``."""
        found = self._call(lambda _, params: self._client.get_label_names(params=params), "labels",
                           params={"match[]": matches, "start": _fmt_time(start), "end": _fmt_time(end)})
        if not isinstance(found, list):
            raise PromQueryError("unreadable answer from Prometheus for label names")
        return [str(v) for v in found]

    def metadata(self, limit: int = 5000) -> dict[str, tuple[str, str]]:
        """Metric name -> (type, unit) as the scraped targets declared them (``/api/v1/metadata``,
        at most ``limit`` metrics); empty for series that were backfilled or pushed without any."""
        found = self._call(lambda _, **kw: self._client.get_metric_metadata("", **kw), "metadata", limit=limit)
        if not isinstance(found, list):
            raise PromQueryError("unreadable answer from Prometheus for metadata")
        return {str(m.get("metric_name")): (str(m.get("type", "unknown")), str(m.get("unit", ""))) for m in found
                if isinstance(m, dict)}

    def _note_warnings(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A response hook: keep the ``warnings`` of a successful answer (the client drops them)."""
        if response.status_code != 200 or b'"warnings"' not in response.content:
            return
        try:
            found = response.json().get("warnings")
        except (ValueError, AttributeError):
            return
        if isinstance(found, list) and found:
            self._warnings.extend(str(w) for w in found)

    def _call(self, method: Any, query: str, **kwargs: Any) -> Any:
        self.queries_run += 1
        self._warnings = []
        try:
            answer = method(query, **kwargs)
        except requests.exceptions.ReadTimeout:
            raise PromUnreachable(f"Prometheus at {self._where} did not answer within "
                                  f"{self.config.timeout_s:g}s (LOADGATE_PROM_TIMEOUT)") from None
        except requests.exceptions.SSLError as exc:
            raise PromUnreachable(f"TLS error talking to {self._where}: {_short(exc)}") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.RetryError) as exc:
            raise PromUnreachable(f"cannot reach Prometheus at {self._where}: {_short(exc)}") from None
        except PrometheusApiClientException as exc:
            status, message = _api_error(str(exc))
            if status in (401, 403):
                raise PromUnreachable(f"Prometheus at {self._where} refused access (HTTP {status}); "
                                      "set LOADGATE_PROM_TOKEN or LOADGATE_PROM_USER/PASSWORD") from None
            if status in (404, 502, 504):
                raise PromUnreachable(f"no Prometheus API at {self._where} (HTTP {status})") from None
            raise PromQueryError(f"Prometheus rejected {query!r}: {message}") from None
        except ValueError:
            # requests' JSONDecodeError: something answered, but not with the Prometheus API.
            raise PromQueryError(f"unreadable answer from {self._where} to {query!r} (not JSON)") from None
        except (KeyError, TypeError, AttributeError, IndexError):
            raise PromQueryError(f"unreadable answer from {self._where} to {query!r}") from None
        if self._warnings:
            text = "; ".join(dict.fromkeys(self._warnings))
            raise PromQueryError(f"Prometheus answered {query!r} from partial data, with warnings: {text[:300]} "
                                 "(partial data is not graded)")
        return answer


def safe_url(url: str) -> str:
    """The URL without any user:password part, safe to print and store."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _api_error(text: str) -> tuple[int | None, str]:
    """Pull the status and Prometheus's own error text out of the client's exception message."""
    match = re.match(r"HTTP Status Code (\d+) \((.*)\)$", text, re.S)
    if not match:
        return None, text
    status = int(match.group(1))
    body = match.group(2)
    try:
        raw = ast.literal_eval(body)
        payload = json.loads(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
        message = f"{payload.get('errorType', 'error')}: {payload.get('error', '')}"
    except (ValueError, SyntaxError, AttributeError, TypeError):
        message = f"HTTP {status}"
    return status, message


def _value(raw: Any) -> float:
    """Prometheus sends sample values as strings ("1.5", "NaN", "+Inf")."""
    return float(raw)


def _short(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    if "timed out" in text.lower():
        return "connection timed out"
    if "Max retries exceeded" in text or "too many" in text.lower():
        return "no answer after retries"
    return text.splitlines()[0][:200]


def _fmt_time(t: float) -> str:
    return f"{t:.3f}" if not float(t).is_integer() else str(int(t))


def _dt(t: int) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)

