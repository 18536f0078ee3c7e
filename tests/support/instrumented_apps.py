"""Two small services instrumented by real libraries, for the end-to-end preset tests.

``python -m tests.support.instrumented_apps {otel|instrumentator} --port P [--slow-fraction F]
[--slow-ms MS] [--error-fraction F] [--seed N]`` serves one of them with uvicorn on 127.0.0.1:

* ``otel``: a Starlette app whose ASGI middleware records the stable HTTP server metric
  ``http.server.request.duration`` (unit ``s``; attributes ``http.request.method``, ``http.route``,
  ``http.response.status_code``) through the OpenTelemetry SDK, read by
  opentelemetry-exporter-prometheus's ``PrometheusMetricReader`` (registered in prometheus_client's
  ``REGISTRY``) and served at ``/metrics`` by prometheus_client's ``generate_latest()``. Buckets are
  the semantic conventions' recommendation, through an SDK View: the SDK's own default (0, 5, 10,
  25, ... 10000) is made for milliseconds.
* ``instrumentator``: a FastAPI app with prometheus-fastapi-instrumentator's defaults
  (``Instrumentator().instrument(app).expose(app)``: status grouped as ``2xx``/``5xx``).

Both answer ``GET /ping`` with 200 JSON and ``GET /healthz``. The fault flags act on ``/ping`` only:
a seeded random fraction of requests waits ``--slow-ms`` (without blocking the others) and another
answers 503. Never part of the product: only tests start these.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Faults", "SEMCONV_BUCKETS_S", "create_otel_app", "create_instrumentator_app", "main"]

#: The HTTP semantic conventions' recommended bounds for http.server.request.duration, in seconds.
SEMCONV_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass
class Faults:
    """What ``/ping`` does wrong: ``slow_fraction`` of requests wait ``slow_ms`` milliseconds and
    ``error_fraction`` answer 503, drawn from one generator seeded with ``seed``."""

    slow_fraction: float = 0.0
    slow_ms: float = 0.0
    error_fraction: float = 0.0
    seed: int = 1

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def apply(self) -> int:
        """Wait if this request is a slow one; the status to answer (200 or 503)."""
        if self.slow_fraction and self._rng.random() < self.slow_fraction:
            await asyncio.sleep(self.slow_ms / 1000)
        if self.error_fraction and self._rng.random() < self.error_fraction:
            return 503
        return 200


def _ping_body(status: int) -> dict[str, str]:
    return {"status": "pong"} if status == 200 else {"status": "unavailable"}


def create_otel_app(faults: Faults) -> ASGIApp:
    """The Starlette app recording ``http.server.request.duration`` through the OpenTelemetry SDK."""
    import prometheus_client
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    # The reader registers itself in prometheus_client's REGISTRY, which generate_latest() renders.
    provider = MeterProvider(
        metric_readers=[PrometheusMetricReader()],
        views=[View(instrument_name="http.server.request.duration",
                    aggregation=ExplicitBucketHistogramAggregation(boundaries=SEMCONV_BUCKETS_S))])
    duration = provider.get_meter("tests.support.instrumented_apps").create_histogram(
        "http.server.request.duration", unit="s", description="Duration of HTTP server requests.")

    async def ping(request: Request) -> JSONResponse:
        status = await faults.apply()
        return JSONResponse(_ping_body(status), status_code=status)

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def metrics(request: Request) -> Response:
        # A route, not a Mount of make_asgi_app(): a Mount answers /metrics with a redirect to /metrics/.
        return Response(prometheus_client.generate_latest(), media_type=prometheus_client.CONTENT_TYPE_LATEST)

    def measured(app: ASGIApp) -> ASGIApp:
        """ASGI middleware: one observation per HTTP request, in seconds from its arrival until the
        app has sent the whole response (or raised)."""

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500  # an exception before the response started is a server error

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                route = scope.get("route")  # the router writes the matched route into this scope
                attributes: dict[str, str | int] = {"http.request.method": scope["method"],
                                                    "http.response.status_code": status}
                if route is not None and getattr(route, "path", None) is not None:
                    attributes["http.route"] = route.path
                duration.record(time.perf_counter() - started, attributes)

        return middleware

    app = Starlette(routes=[Route("/ping", ping), Route("/healthz", healthz), Route("/metrics", metrics)])
    return measured(app)


def create_instrumentator_app(faults: Faults) -> Any:
    """The FastAPI app with prometheus-fastapi-instrumentator's defaults."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, PlainTextResponse
    from prometheus_fastapi_instrumentator import Instrumentator

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> JSONResponse:
        status = await faults.apply()
        return JSONResponse(_ping_body(status), status_code=status)

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    Instrumentator().instrument(app).expose(app)
    return app


APPS: dict[str, Callable[[Faults], Any]] = {"otel": create_otel_app, "instrumentator": create_instrumentator_app}


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction in [0, 1]")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve the chosen app until SIGTERM or SIGINT; 0 on a clean stop."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.support.instrumented_apps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow-fraction", type=_fraction, default=0.0, help="share of /ping requests delayed")
    parser.add_argument("--slow-ms", type=float, default=0.0, help="the delay, in milliseconds")
    parser.add_argument("--error-fraction", type=_fraction, default=0.0, help="share of /ping requests that get 503")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    faults = Faults(args.slow_fraction, args.slow_ms, args.error_fraction, args.seed)
    uvicorn.run(APPS[args.app](faults), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
