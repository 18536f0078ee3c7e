"""Reusing idle keep-alive connections when a load generator holds thousands of them.

Before it reuses a pooled connection, geventhttpclient (2.6) checks that the connection is
still idle with ``select.select([sock], [], [], 0)``. With the thousands of paced users a tier
mix needs, each holding its own connection, that check fails two ways:

* ``select()`` refuses descriptors at or above ``FD_SETSIZE`` (1024). The check catches the
  ``ValueError`` and calls the connection dead, so every user whose socket got a descriptor
  above 1024 opened a new connection for every request: a DNS lookup in gevent's thread pool,
  a TCP handshake and a ``TIME_WAIT`` socket each time. At 1,000 req/s of the default mix
  (1,200 users in one process) that was about 100 new connections a second.
* gevent's ``select`` with a zero timeout yields to the event loop on every call.

:func:`install` replaces the check with a zero-timeout ``poll()`` of the real system call,
which has no descriptor limit, and then yields once to the event loop, as gevent's ``select``
did. The yield is kept on purpose: without it, 50 users sending the scenario's requests flat
out on one core sent 0.79 of the requests per CPU-second they send with it (three alternations),
and the flat-out mix 0.51-0.55 of a bare user against 0.72-0.77 with it
(``bench/bench_loadgen.py``, two alternations). Why a turn of the loop before each request is
cheaper was measured, not proven. The meaning is unchanged: an idle keep-alive socket that is
readable holds the server's FIN or stray bytes, and is not reused.
"""

from __future__ import annotations

import logging
import select
from typing import Any

import gevent
from gevent import monkey
from geventhttpclient.connectionpool import ConnectionPool

__all__ = ["socket_is_reusable", "install"]

_poll = monkey.get_original("select", "poll")


def socket_is_reusable(sock: Any) -> bool:
    """True when an idle pooled socket is open with nothing to read (so a request may reuse it)."""
    if sock is None:
        return False
    try:
        fd = sock.fileno()
    except (OSError, ValueError):
        return False
    if fd < 0:
        return False
    poller = _poll()
    try:
        poller.register(fd, select.POLLIN | select.POLLPRI)
        # POLLHUP, POLLERR and POLLNVAL are always reported: any event means "do not reuse".
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _is_socket_alive(self: ConnectionPool, sock: Any) -> bool:
    reusable = socket_is_reusable(sock)
    gevent.sleep(0)  # one turn of the event loop before the request, as gevent's select gave (see above)
    return reusable


def install() -> None:
    """Make geventhttpclient's connection pools use :func:`socket_is_reusable` (idempotent)."""
    if not hasattr(ConnectionPool, "_is_socket_alive"):
        logging.getLogger(__name__).warning(
            "geventhttpclient's ConnectionPool has no _is_socket_alive any more; its own reuse check stays")
        return
    ConnectionPool._is_socket_alive = _is_socket_alive  # type: ignore[method-assign]
