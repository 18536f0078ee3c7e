"""A service that is not the demo API, for custom-scenario tests: ``GET /ping`` on 127.0.0.1."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from tests.support.canned_http import CannedServer

__all__ = ["PingService"]


class PingService(CannedServer):
    """``GET /ping`` answers ``pong`` over keep-alive connections; ``keys`` are the API keys it was sent."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        super().__init__(self._answer, content_type="text/plain", keep_alive=True)

    def _answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        self.keys.add(handler.headers.get("X-API-Key", ""))
        return (200, b"pong") if handler.path == "/ping" else (404, b"no such path")
