"""A real HTTP server on 127.0.0.1 whose answers a test writes: for what cannot be real (a
Prometheus that answers garbage or drops connections) and for small services under test.

``CannedServer(respond)`` calls ``respond(handler) -> (status, body)`` for every GET or POST, or
drops the connection without an answer when it returns None; it records every request's path and
headers. Use it as a context manager: it serves on a free port and stops on the way out.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

__all__ = ["CannedServer", "Respond"]

#: What a test answers a request with: (status, body), or None to drop the connection.
Respond = Callable[[BaseHTTPRequestHandler], "tuple[int, bytes] | None"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout under test) is expected; anything else is printed as usual.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class CannedServer:
    """Answers each request with ``respond``; ``keep_alive`` speaks HTTP/1.1 with persistent connections."""

    def __init__(self, respond: Respond, *, content_type: str = "application/json", keep_alive: bool = False):
        self.requests: list[dict[str, str]] = []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                canned.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                answer = respond(self)
                if answer is None:
                    self.close_connection = True
                    return
                status, body = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CannedServer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
