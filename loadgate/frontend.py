"""nginx in front of several demo API processes (``loadgate demo --api-processes N``).

One demo API process holds one core; several, behind Debian's nginx, let the demo scale with the
machine. nginx hashes each request on its ``X-API-Key`` (consistent hashing), so every key's
requests reach one process and its rate limit is held exactly as by a single process; keep-alive
connections to the processes are pooled. Prometheus scrapes each process as its own instance,
so the gate merges several instances' series, as it would for a real service.
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from loadgate import procs

__all__ = ["nginx_config", "nginx_front", "nginx_preamble", "NGINX_HINT"]

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


def nginx_config(root: Path, port: int, upstream_ports: Sequence[int]) -> str:
    """An nginx configuration: listen on 127.0.0.1:``port``, pass every request to the processes
    on ``upstream_ports`` by a consistent hash of ``X-API-Key``; files under ``root``."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstream_ports)
    return nginx_preamble(root, "auto", 8192) + f"""    upstream demo_api {{
        hash $http_x_api_key consistent;
{servers}
        keepalive 256;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://demo_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
        }}
    }}
}}
"""


@contextmanager
def nginx_front(root: Path, port: int, upstream_ports: Sequence[int]) -> Iterator[subprocess.Popen[bytes]]:
    """nginx in front of the processes, ready when it answers ``/healthz``; stopped on the way out."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        raise procs.ProcessError(f"nginx not found; {NGINX_HINT}")
    root.mkdir(parents=True, exist_ok=True)
    config = root / "nginx.conf"
    config.write_text(nginx_config(root, port, upstream_ports))
    proc = procs.start([binary, "-c", str(config), "-p", str(root)], root / "nginx.log")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", proc, root / "nginx.log")
        yield proc
    finally:
        procs.stop(proc)
