"""The reference API under test: ``create_app(settings)`` builds the Starlette application.

Endpoints (the seed's API):

* ``GET /api/users/{id}``: a profile read through a TTL cache in front of a slow "database"
  (``db_delay_ms`` on a miss); ``X-Cache: HIT|MISS``; a weak ``ETag`` with ``If-None-Match``
  answered by 304; gzip when the client accepts it.
* ``GET /api/items?limit=&cursor=``: cursor pagination over a seeded catalogue; limit 50 by
  default, at most 200 (above: 400); a bad cursor is 400; ``next_cursor`` is null on the last page.
* ``POST /api/batch``: ``{"operations": [...]}``, 1 to 100 operations, each with its own result;
  more than 100 is 413, a malformed body 422. Cache misses in one batch share one database trip.
* ``GET /healthz`` and ``GET /metrics`` (loadgate's default metric contract).

Every ``/api`` request needs ``X-API-Key`` (unknown or missing: 401) and is rate limited per key
by tier (429 with ``Retry-After``; every answer carries ``X-RateLimit-Limit`` and
``X-RateLimit-Remaining``). Requests time out server-side after ``request_timeout_s`` (504).
Fault injection for testing gates: a fraction of ``/api`` requests delayed by ``slow_ms``, a
fraction answered 503, every one answered 503 for ``error_burst_s`` seconds from
``error_burst_start_s`` after the start (a burst), and a whole-server stall of ``stall_ms`` every
``stall_every_s``; and a
known capacity (``capacity_rps``) for testing capacity searches. With
``keys`` (``--keys FILE``) only the keys of a keys file are accepted, with their tiers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo_api.cache import TTLCache
from demo_api.data import Catalogue, CursorError, tier_of_key, user_profile
from demo_api.metrics import ApiMetrics, MetricsMiddleware
from demo_api.ratelimit import TIER_LIMITS, RateLimiter

__all__ = ["Settings", "create_app", "stall_remaining", "MAX_BATCH", "MAX_LIMIT", "DEFAULT_LIMIT"]

MAX_BATCH = 100
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Settings:
    """How the demo API behaves; the fault fields exist to make gates fail on purpose."""

    cache_ttl_s: float = 300.0
    db_delay_ms: float = 3.0
    users: int = 100_000
    items: int = 10_000
    #: The data's seed: processes started with the same seed serve the same bytes, ETags and cursors.
    seed: int = 1
    #: This process's number among several behind a front: it seeds only the faults' random draws,
    #: so processes serving the same data still fail independently.
    instance: int = 0
    request_timeout_s: float = 30.0
    slow_fraction: float = 0.0
    slow_ms: float = 0.0
    error_fraction: float = 0.0
    rate_limit_burst_s: float = 5.0
    #: Only these keys (key -> tier) are accepted; None accepts the generated demo keys (``pro-000042``).
    keys: dict[str, str] | None = None
    #: The whole server stops answering for ``stall_ms`` every ``stall_every_s`` seconds (0: never).
    stall_every_s: float = 0.0
    stall_ms: float = 0.0
    #: Every ``/api`` request is answered 503 from ``error_burst_start_s`` after the start, for
    #: ``error_burst_s`` seconds (0: no burst).
    error_burst_start_s: float = 0.0
    error_burst_s: float = 0.0
    #: A known capacity, for testing capacity searches: ``/api`` requests served at most
    #: ``capacity_rps`` a second, queued beyond it (0: no such limit; see ``CapacityMiddleware``).
    capacity_rps: float = 0.0


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data, separators=(",", ":")).encode(), status_code=status,
                    media_type="application/json", headers=headers)


class _Api:
    """Handlers and their shared state (cache, limiter, metrics) for one application."""

    def __init__(self, settings: Settings, metrics: ApiMetrics, clock: Callable[[], float]):
        self.settings = settings
        self.metrics = metrics
        self.cache: TTLCache[tuple[bytes, str]] = TTLCache(settings.cache_ttl_s, clock=clock)
        self.limiter = RateLimiter(TIER_LIMITS, burst_s=settings.rate_limit_burst_s, clock=clock)
        self.catalogue = Catalogue(settings.items, settings.seed)

    def guard(self, request: Request) -> Response | dict[str, str]:
        """Authenticate and rate-limit; a refusal, or the rate-limit headers to send."""
        key = request.headers.get("x-api-key")
        tier = tier_of_key(key) if self.settings.keys is None else self.settings.keys.get(key or "")
        if tier is None or key is None:
            return _json({"error": "missing or unknown X-API-Key"}, 401)
        decision = self.limiter.check(key, tier)
        headers = {"X-RateLimit-Limit": str(decision.limit), "X-RateLimit-Remaining": str(decision.remaining)}
        if not decision.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after_s)))
            return _json({"error": f"rate limit of {decision.limit} requests per minute exceeded",
                          "retry_after_s": round(decision.retry_after_s, 3)}, 429, headers)
        return headers

    async def _load_users(self, ids: list[int]) -> dict[int, tuple[bytes, str, bool]]:
        """Profiles as (body, etag, cache hit) through the cache; misses share one database trip."""
        found: dict[int, tuple[bytes, str, bool]] = {}
        missing = []
        for user_id in ids:
            cached = self.cache.get(user_id)
            if cached is not None:
                self.metrics.cache_hits.inc()
                found[user_id] = (*cached, True)
            else:
                self.metrics.cache_misses.inc()
                missing.append(user_id)
        if missing:
            await asyncio.sleep(self.settings.db_delay_ms / 1000.0)
            for user_id in missing:
                body = json.dumps(user_profile(user_id, self.settings.seed), separators=(",", ":")).encode()
                entry = (body, f'W/"{hashlib.sha1(body).hexdigest()[:16]}"')
                self.cache.put(user_id, entry)
                found[user_id] = (*entry, False)
        return found

    def _user_exists(self, user_id: int) -> bool:
        return 1 <= user_id <= self.settings.users

    async def get_user(self, request: Request) -> Response:
        guarded = self.guard(request)
        if isinstance(guarded, Response):
            return guarded
        user_id = request.path_params["id"]
        if not self._user_exists(user_id):
            return _json({"error": f"no user {user_id}"}, 404, guarded)
        body, etag, hit = (await self._load_users([user_id]))[user_id]
        headers = {**guarded, "ETag": etag, "X-Cache": "HIT" if hit else "MISS", "Cache-Control": "private, no-cache"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    async def list_items(self, request: Request) -> Response:
        guarded = self.guard(request)
        if isinstance(guarded, Response):
            return guarded
        raw_limit = request.query_params.get("limit", str(DEFAULT_LIMIT))
        try:
            limit = int(raw_limit)
        except ValueError:
            return _json({"error": f"limit must be a whole number, got {raw_limit!r}"}, 400, guarded)
        if not 1 <= limit <= MAX_LIMIT:
            return _json({"error": f"limit must be between 1 and {MAX_LIMIT}, got {limit}"}, 400, guarded)
        after = 0
        cursor = request.query_params.get("cursor")
        if cursor:
            try:
                after = self.catalogue.decode_cursor(cursor)
            except CursorError as exc:
                return _json({"error": str(exc)}, 400, guarded)
        items, next_cursor = self.catalogue.page(after, limit)
        return _json({"items": items, "limit": limit, "next_cursor": next_cursor}, headers=guarded)

    async def batch(self, request: Request) -> Response:
        guarded = self.guard(request)
        if isinstance(guarded, Response):
            return guarded
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _json({"error": "the body is not JSON"}, 422, guarded)
        operations = payload.get("operations") if isinstance(payload, dict) else None
        if not isinstance(operations, list) or not operations:
            return _json({"error": "expected {\"operations\": [...]} with at least one operation"}, 422, guarded)
        if len(operations) > MAX_BATCH:
            return _json({"error": f"at most {MAX_BATCH} operations per batch, got {len(operations)}"}, 413,
                         guarded)
        wanted = [op["id"] for op in operations if _is_op(op, "get_user") and self._user_exists(op["id"])]
        users = await self._load_users(list(dict.fromkeys(wanted)))
        results = [self._run_op(i, op, users) for i, op in enumerate(operations)]
        ok = sum(1 for r in results if r["status"] == 200)
        return _json({"results": results, "succeeded": ok, "failed": len(results) - ok}, headers=guarded)

    def _run_op(self, index: int, op: Any, users: dict[int, tuple[bytes, str, bool]]) -> dict[str, Any]:
        if _is_op(op, "get_user"):
            if op["id"] not in users:
                return {"index": index, "status": 404, "error": f"no user {op['id']}"}
            return {"index": index, "status": 200, "body": json.loads(users[op["id"]][0])}
        if _is_op(op, "get_item"):
            if not 1 <= op["id"] <= self.catalogue.size:
                return {"index": index, "status": 404, "error": f"no item {op['id']}"}
            return {"index": index, "status": 200, "body": self.catalogue.item(op["id"])}
        return {"index": index, "status": 422,
                "error": "each operation is {\"op\": \"get_user\"|\"get_item\", \"id\": <int>}"}

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})


def _is_op(op: Any, name: str) -> bool:
    return isinstance(op, dict) and op.get("op") == name and isinstance(op.get("id"), int) \
        and not isinstance(op.get("id"), bool)


class FaultMiddleware:
    """Injected faults on ``/api`` paths: a fraction answered 503, all of them 503 in a burst, a fraction delayed."""

    def __init__(self, app: Any, settings: Settings, rng: random.Random, clock: Callable[[], float] = time.monotonic,
                 started: float | None = None):
        self.app = app
        self.settings = settings
        self.rng = rng
        self.clock = clock
        #: When the app was created (Starlette builds middleware at the first request).
        self.started = clock() if started is None else started

    def _in_burst(self) -> bool:
        elapsed = self.clock() - self.started
        start = self.settings.error_burst_start_s
        return self.settings.error_burst_s > 0 and start <= elapsed < start + self.settings.error_burst_s

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            if self._in_burst() or (self.settings.error_fraction and self.rng.random() < self.settings.error_fraction):
                await _json({"error": "injected fault"}, 503)(scope, receive, send)
                return
            if self.settings.slow_fraction and self.rng.random() < self.settings.slow_fraction:
                await asyncio.sleep(self.settings.slow_ms / 1000.0)
        await self.app(scope, receive, send)


class CapacityMiddleware:
    """A service of known capacity R (``capacity_rps``): at most k ``/api`` requests in service at
    once, each holding its slot for k/R seconds of simulated work, so it serves R a second, and a
    request beyond that queues for a slot (its wait is in the measured latency, as in a saturated
    server). k = ceil(R / 50): 20 ms of work a request."""

    def __init__(self, app: Any, capacity_rps: float):
        self.app = app
        self.slots = max(1, math.ceil(capacity_rps / 50.0)) if capacity_rps > 0 else 0
        self.hold_s = self.slots / capacity_rps if capacity_rps > 0 else 0.0
        self.semaphore = asyncio.Semaphore(self.slots) if self.slots else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.semaphore is not None and scope["type"] == "http" and scope["path"].startswith("/api/"):
            async with self.semaphore:
                await asyncio.sleep(self.hold_s)
        await self.app(scope, receive, send)


def stall_remaining(elapsed_s: float, every_s: float, stall_s: float) -> float:
    """Seconds left of the stall at ``elapsed_s`` since the start: stalls run ``[k × every, k × every + stall)``."""
    if every_s <= 0 or stall_s <= 0:
        return 0.0
    phase = elapsed_s % every_s
    return stall_s - phase if phase < stall_s else 0.0


class StallMiddleware:
    """Stops the whole server for ``stall_ms`` every ``stall_every_s``: a request arriving in a stall,
    and a response about to start in one, wait for its end (as in a stop-the-world pause).

    ``/metrics`` is exempt, so Prometheus sees the stall in the latency histogram, not as lost scrapes.
    """

    def __init__(self, app: Any, settings: Settings, clock: Callable[[], float]):
        self.app = app
        self.every_s, self.stall_s = settings.stall_every_s, settings.stall_ms / 1000.0
        self.clock = clock
        self.started = clock()

    async def _wait(self) -> None:
        remaining = stall_remaining(self.clock() - self.started, self.every_s, self.stall_s)
        if remaining > 0:
            await asyncio.sleep(remaining)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics" or self.stall_s <= 0:
            await self.app(scope, receive, send)
            return
        await self._wait()

        async def held(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                await self._wait()
            await send(message)

        await self.app(scope, receive, held)


class TimeoutMiddleware:
    """Answers 504 when a request runs past ``timeout_s`` before its response started."""

    def __init__(self, app: Any, timeout_s: float):
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, watch), self.timeout_s)
        except asyncio.TimeoutError:
            if not started:
                await _json({"error": f"request timed out after {self.timeout_s:g}s"}, 504)(scope, receive, send)


def create_app(settings: Settings = Settings(), *, registry: CollectorRegistry | None = None,
               clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None) -> Starlette:
    """Build the demo API. Pass a fresh ``registry`` per app in tests."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = ApiMetrics(registry)
    api = _Api(settings, metrics, clock)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/api/users/{id:int}", api.get_user, methods=["GET"]),
        Route("/api/items", api.list_items, methods=["GET"]),
        Route("/api/batch", api.batch, methods=["POST"]),
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    middleware = [
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(StallMiddleware, settings=settings, clock=clock),
        Middleware(TimeoutMiddleware, timeout_s=settings.request_timeout_s),
        Middleware(FaultMiddleware, settings=settings, clock=clock, started=clock(),
                   rng=rng or random.Random(settings.seed + 7919 * settings.instance)),
        Middleware(CapacityMiddleware, capacity_rps=settings.capacity_rps),
        Middleware(GZipMiddleware, minimum_size=256, compresslevel=5),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.api = api
    return app
