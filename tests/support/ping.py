"""A service that is not the demo API, for custom-scenario tests: ``GET /ping`` on 127.0.0.1."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["PingService"]


class PingService:
    """``GET /ping`` answers ``pong``; remembers the API keys it was sent."""

    def __init__(self) -> None:
        keys: set[str] = set()
        self.keys = keys

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                keys.add(self.headers.get("X-API-Key", ""))
                status, body = (200, b"pong") if self.path == "/ping" else (404, b"no such path")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
