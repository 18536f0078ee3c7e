"""nginx in front of several demo API processes (``loadgate demo --api-processes N``).

One demo API process holds one core; several, behind Debian's nginx, let the demo scale with the
machine. nginx hashes each request on its ``X-API-Key`` (consistent hashing), so every key's
requests reach one process and its rate limit is held exactly as by a single process; keep-alive
connections to the processes are pooled. Prometheus scrapes each process as its own instance,
so the gate merges several instances' series, as it would for a real service.

nginx's passive health checks (``HealthChecks``: ``max_fails``, ``fail_timeout``) take a dead
process out of the ring, and a backup zone (a second group of processes) answers when no
primary can: ``loadgate demo --fault AT:kill-api:N`` makes a real failover of it.
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from loadgate import procs

__all__ = ["HealthChecks", "MAX_FAILS", "FAIL_TIMEOUT_S", "nginx_config", "nginx_front", "nginx_preamble",
           "NGINX_HINT"]

NGINX_HINT = "install Debian's nginx (apt-get install -y nginx; make demo and make test do it)"


def nginx_preamble(root: Path, workers: str, connections: int) -> str:
    """The start of an nginx configuration run by an unprivileged test or demo: in the foreground,
    every file under ``root``, no access log; it ends inside the open ``http {`` block."""
    return f"""worker_processes {workers};
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 1000000;
"""


#: nginx's own defaults for its passive health checks: one failed attempt marks a server
#: unavailable for 10 s (``max_fails=1 fail_timeout=10s``).
MAX_FAILS = 1
FAIL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class HealthChecks:
    """nginx's passive health checks: ``max_fails`` failed attempts (a refused or reset connection, a
    timeout) within ``fail_timeout_s`` mark a server unavailable for ``fail_timeout_s``, after which
    one request tries it again; 0 never marks it. ``connect_timeout_s`` bounds a connect to a
    server that does not answer (nginx's own default is 60 s)."""

    max_fails: int = MAX_FAILS
    fail_timeout_s: float = FAIL_TIMEOUT_S
    connect_timeout_s: float = 2.0


def _upstream(name: str, ports: Sequence[int], checks: HealthChecks) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails={checks.max_fails} "
                        f"fail_timeout={checks.fail_timeout_s:g}s;" for p in ports)
    return f"""    upstream {name} {{
        hash $http_x_api_key consistent;
{servers}
        keepalive 256;
    }}
"""


def nginx_config(root: Path, port: int, upstream_ports: Sequence[int], backup_ports: Sequence[int] = (),
                 checks: HealthChecks = HealthChecks()) -> str:
    """An nginx configuration: listen on 127.0.0.1:``port``, pass every request to the processes
    on ``upstream_ports`` by a consistent hash of ``X-API-Key``; files under ``root``.

    A request that fails on one server (an error or a timeout connecting, sending or reading the
    header) goes to the next server on the hash ring (``proxy_next_upstream``: nginx never resends
    a POST it already sent). With ``backup_ports`` (the backup zone) a request that no primary
    could answer (nginx's own 502 or 504) is passed to the backup zone's upstream instead: nginx's
    ``backup`` servers cannot be combined with the hash balancer, so the backup zone is a second
    upstream reached through ``error_page``, the fallback nginx's authors recommend for hashing."""
    proxy = """            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
            proxy_next_upstream error timeout;
            proxy_connect_timeout {connect}s;
""".format(connect=f"{checks.connect_timeout_s:g}")
    backup = ""
    fallback = ""
    if backup_ports:
        backup = _upstream("demo_api_backup", backup_ports, checks)
        fallback = "            error_page 502 504 = @backup;\n"
        fallback_location = f"""        location @backup {{
            proxy_pass http://demo_api_backup;
{proxy}        }}
"""
    else:
        fallback_location = ""
    upstreams = _upstream("demo_api", upstream_ports, checks) + backup
    return nginx_preamble(root, "auto", 8192) + upstreams + f"""    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://demo_api;
{proxy}{fallback}        }}
{fallback_location}    }}
}}
"""


@contextmanager
def nginx_front(root: Path, port: int, upstream_ports: Sequence[int], backup_ports: Sequence[int] = (),
                checks: HealthChecks = HealthChecks()) -> Iterator[subprocess.Popen[bytes]]:
    """nginx in front of the processes (and the backup zone's), ready when it answers ``/healthz``;
    stopped on the way out."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        raise procs.ProcessError(f"nginx not found; {NGINX_HINT}")
    root.mkdir(parents=True, exist_ok=True)
    config = root / "nginx.conf"
    config.write_text(nginx_config(root, port, upstream_ports, backup_ports, checks))
    proc = procs.start([binary, "-c", str(config), "-p", str(root)], root / "nginx.log")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", proc, root / "nginx.log")
        yield proc
    finally:
        procs.stop(proc)
