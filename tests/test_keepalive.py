"""Pooled keep-alive connections stay in use when a load generator holds over 1,024 descriptors.

The Locust side runs in a child process: importing Locust monkey-patches the interpreter, which
must not happen to the test process itself.
"""

from __future__ import annotations

import fcntl
import json
import resource
import socket
import subprocess
import sys
import textwrap

import gevent
import pytest

from scenarios import keepalive
from scenarios.keepalive import socket_is_reusable
from tests.conftest import REPO

HIGH_FD = 1500


@pytest.fixture
def connected_pair():
    """A client socket moved to a descriptor above 1024 and the server's end, over 127.0.0.1."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = HIGH_FD + 100
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard limit on open files is {hard}; this test needs {wanted}")
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    high = socket.socket(fileno=fcntl.fcntl(client.fileno(), fcntl.F_DUPFD, HIGH_FD))
    client.close()
    yield high, server
    for sock in (high, server, listener):
        sock.close()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_idle_connection_above_descriptor_1024_is_reusable(connected_pair):
    client, _ = connected_pair
    assert client.fileno() >= 1024
    assert socket_is_reusable(client)


def test_a_connection_with_stray_bytes_or_closed_by_the_server_is_not_reused(connected_pair):
    client, server = connected_pair
    server.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert not socket_is_reusable(client)
    client.recv(100)
    assert socket_is_reusable(client)
    server.close()
    assert not socket_is_reusable(client)


def test_a_closed_or_missing_socket_is_not_reusable(connected_pair):
    client, _ = connected_pair
    client.close()
    assert not socket_is_reusable(client)
    assert not socket_is_reusable(None)


def test_the_pools_check_gives_the_event_loop_one_turn_as_geventhttpclients_own_did(connected_pair):
    client, _ = connected_pair
    ran: list[bool] = []
    gevent.spawn(ran.append, True)  # runs only when the caller yields to the event loop
    assert keepalive._is_socket_alive(None, client)  # type: ignore[arg-type]
    assert ran == [True]


CHILD = textwrap.dedent('''
    import json, os, resource, sys
    sys.path.insert(0, sys.argv[1])
    import locustfile  # installs loadgate's hooks, as plain Locust would
    import gevent
    from gevent.pywsgi import WSGIServer
    from locust.contrib.fasthttp import FastHttpSession
    from locust.env import Environment

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096) if hard == resource.RLIM_INFINITY
                                                else min(max(soft, 4096), hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # the next sockets land above 1024
    lowest_free = os.open(os.devnull, os.O_RDONLY)
    os.close(lowest_free)
    connections = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    class Counting(WSGIServer):
        def handle(self, sock, address):
            connections.append(sock.fileno())
            return super().handle(sock, address)

    server = Counting(("127.0.0.1", 0), app, log=None)
    server.start()
    session = FastHttpSession(f"http://127.0.0.1:{server.server_port}", Environment().events.request, None)
    statuses = []
    for _ in range(5):
        statuses.append(session.get("/ok").status_code)
        gevent.sleep(0.05)
    print(json.dumps({"statuses": statuses, "connections": len(connections), "lowest_free_fd": lowest_free}))
''')


def test_a_locust_user_above_descriptor_1024_keeps_one_connection_for_its_requests():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the hard limit on open files is {hard}; this test needs 1200")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(REPO)], capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200] * 5
    assert result["lowest_free_fd"] >= 1024
    assert result["connections"] == 1
