"""Benchmark: load-generator efficiency, and what the demo API absorbs on one core.

1. **Load generator.** An nginx stub (Debian's nginx, on 127.0.0.1, pinned to core 1) answers
   the scenario paths with canned responses: profiles that echo the asked id with X-Cache and
   an ETag (304 on If-None-Match), five pages of a cursor walk, and a fixed batch answer.
   Locust runs pinned to core 0, alternating, three times each:

   * the full scenario mix (loadgate's locustfile: tiered paced users, checks, client stats);
   * a bare ``FastHttpUser`` hitting one canned path with ``constant(0)``.

   For each it prints requests per load-generator CPU-second (user + system time of the Locust
   process, from wait4), the ratio of the two, and the worker cores 10K req/s would take.
   The stub's batch answer has a fixed 100 results, so batch checks fail whenever a user sent
   fewer operations; they still parse and check the answer, so the cost is representative.

2. **Demo API.** ``python -m demo_api`` pinned to core 1, driven by wrk on core 0 (50
   connections, random enterprise keys so the rate limit does not bite), for cached profile
   reads and for pages of 50 items.

    .venv/bin/python bench/bench_loadgen.py [--runs 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from loadgate import procs  # noqa: E402

BARE_LOCUSTFILE = '''
from locust import FastHttpUser, constant, task

class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/ok")
'''

WRK_USERS = '''
math.randomseed(1)
request = function()
  local path = "/api/users/" .. math.random(1, 2000)
  return wrk.format("GET", path, {["X-API-Key"] = "enterprise-" .. math.random(1, 1000000)})
end
'''

WRK_ITEMS = '''
math.randomseed(2)
request = function()
  return wrk.format("GET", "/api/items?limit=50", {["X-API-Key"] = "enterprise-" .. math.random(1, 1000000)})
end
'''


def nginx_config(root: Path, port: int) -> str:
    items = []
    for page in range(5):
        ids = range(page * 50 + 1, page * 50 + 51)
        body = json.dumps({"items": [{"id": i, "sku": f"SKU-{i:06d}"} for i in ids], "limit": 50,
                           "next_cursor": f"c{page + 1}"}, separators=(",", ":"))
        items.append(f"        \"{'' if page == 0 else f'c{page}'}\" '{body}';")
    # Short results: nginx refuses a config token over 4 KB.
    batch = json.dumps({"results": [{"status": 200} for _ in range(100)],
                        "succeeded": 100, "failed": 0}, separators=(",", ":"))
    profile = '{"id":$1,"name":"User $1","email":"user$1@example.test","bio":"' + "cached " * 60 + '"}'
    return f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    default_type application/json;
    gzip on;
    gzip_types application/json;
    gzip_min_length 200;
    keepalive_requests 1000000;
    map $arg_cursor $page {{
{chr(10).join(items)}
        default '{{"items":[],"limit":50,"next_cursor":null}}';
    }}
    server {{
        listen 127.0.0.1:{port};
        location = /ok {{ return 200 'ok'; }}
        location ~ ^/api/users/(\\d+)$ {{
            add_header X-Cache HIT;
            add_header ETag 'W/"stub"';
            if ($http_if_none_match) {{ return 304; }}
            return 200 '{profile}';
        }}
        location = /api/items {{ return 200 $page; }}
        location = /api/batch {{ return 200 '{batch}'; }}
    }}
}}
"""


def run_locust(argv: list[str], workdir: Path, name: str) -> tuple[float, float, int, int]:
    """Run Locust pinned to core 0; returns (requests/s, requests per CPU-second, requests, failures)."""
    json_base = workdir / name
    cmd = ["taskset", "-c", "0", sys.executable, "-m", "locust", *argv, "--headless", "--only-summary",
           "--json-file", str(json_base), "--loglevel", "ERROR", "--exit-code-on-error", "0"]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    entries = json.loads(json_base.with_suffix(".json").read_text())
    requests = sum(e["num_requests"] for e in entries)
    failures = sum(e["num_failures"] for e in entries)
    cpu = usage.ru_utime + usage.ru_stime
    return requests / wall, requests / cpu, requests, failures


def bench_loadgen(runs: int, seconds: int, work: Path) -> None:
    port = procs.free_port()
    (work / "nginx.conf").write_text(nginx_config(work, port))
    nginx = procs.start(["taskset", "-c", "1", "nginx", "-c", str(work / "nginx.conf"), "-p", str(work)],
                        work / "nginx.out")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/ok", nginx, work / "nginx.out")
        (work / "bare.py").write_text(BARE_LOCUSTFILE)
        host = f"http://127.0.0.1:{port}"
        bare_argv = ["-f", str(work / "bare.py"), "--host", host, "-u", "50", "-r", "50", "--run-time", f"{seconds}s"]
        # Targets above what one core can reach, so every run saturates its core.
        configs = {
            "bare": ("bare FastHttpUser, one path", bare_argv),
            "mix": ("scenario mix, default tiers", ["-f", str(REPO / "locustfile.py"), "--host", host,
                                                    "--lg-rate", "3000", "--lg-duration", str(seconds),
                                                    "--lg-rampup", "2"]),
            "enterprise": ("scenario mix, enterprise only", ["-f", str(REPO / "locustfile.py"), "--host", host,
                                                             "--lg-rate", "6000", "--lg-duration", str(seconds),
                                                             "--lg-rampup", "2", "--lg-mix", "enterprise=1"]),
        }
        results: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in configs}
        for i in range(runs):
            for name, (_, argv) in configs.items():
                results[name].append(run_locust(argv, work, f"{name}-{i}"))
    finally:
        procs.stop(nginx)
    print(f"\nLoad generator on one core (Locust pinned to core 0, nginx stub on core 1), {runs} runs each, "
          f"{seconds} s, alternating, medians:")
    print(f"{'run':<32} {'req/s':>9} {'req per CPU-s':>14} {'vs bare':>8} {'failures':>9}")
    medians = {name: statistics.median(r[1] for r in results[name]) for name in configs}
    for name, (label, _) in configs.items():
        rps = statistics.median(r[0] for r in results[name])
        fails = sum(r[3] for r in results[name]) / max(1, sum(r[2] for r in results[name]))
        print(f"{label:<32} {rps:>9,.0f} {medians[name]:>14,.0f} {medians[name] / medians['bare']:>8.2f} "
              f"{fails:>8.1%}")
    print(f"efficiency ratio, scenario mix / bare: {medians['mix'] / medians['bare']:.2f} (goal >= 0.9)")
    for name in ("mix", "enterprise", "bare"):
        print(f"worker cores for 10,000 req/s, {configs[name][0]}: {10_000 / medians[name]:.1f}")


def bench_demo_api(seconds: int, work: Path) -> None:
    if shutil.which("wrk") is None:
        print("\nDemo API: skipped, wrk is not installed (apt-get install wrk)")
        return
    port = procs.free_port()
    api = procs.start(["taskset", "-c", "1", sys.executable, "-m", "demo_api", "--port", str(port)], work / "api.log")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", api, work / "api.log")
        print("\nDemo API on one core (uvicorn + uvloop + httptools pinned to core 1; wrk on core 0, 50 connections):")
        for name, script in (("cached profile reads", WRK_USERS), ("pages of 50 items", WRK_ITEMS)):
            (work / "wrk.lua").write_text(script)
            out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{seconds}s", "-s",
                                  str(work / "wrk.lua"), f"http://127.0.0.1:{port}"],
                                 capture_output=True, text=True).stdout
            rps = next((line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")), "?")
            non2xx = next((line.strip() for line in out.splitlines() if "Non-2xx" in line), "all 2xx")
            print(f"  {name:<22} {rps:>10} req/s   ({non2xx})")
    finally:
        procs.stop(api)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("nginx") is None or shutil.which("taskset") is None:
        print("needs Debian's nginx and taskset (apt-get install nginx)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="loadgate-loadgen-"))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / sub).mkdir()
    try:
        bench_loadgen(args.runs, args.seconds, work)
        bench_demo_api(args.seconds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
