"""Benchmark: load-generator efficiency, memory per API key, and what the demo API absorbs on one core.

1. **Load generator.** An nginx stub (Debian's nginx, on 127.0.0.1, pinned to core 1) answers
   the scenario paths with canned responses: profiles that echo the asked id with X-Cache and
   an ETag (304 on If-None-Match), five pages of a cursor walk, and a fixed batch answer.
   Locust runs pinned to core 0, one configuration at a time, alternating, ``--runs`` times each:

   * ``bare``: a bare ``FastHttpUser`` (50 users) hitting one canned path, flat out (``constant(0)``);
   * ``requests``: the scenario's requests (same paths, headers, gzip and batch bodies) sent flat
     out by 50 bare users, with none of loadgate's checks, schedule or client counts: what the
     heavier requests cost by themselves;
   * ``mix``: the full scenario mix (loadgate's locustfile: API keys on the open model's schedule,
     checks, client counts) with 50 users, offered far more than one core can send;
   * ``bare-paced`` and ``mix-paced``: the bare user (``constant_throughput``) and the mix at the
     same offered ``--rate``, with the same concurrency (the mix's default for that rate);
   * ``bare-smooth``: the bare user at that rate and concurrency with each wait drawn from 0.5 to
     1.5 times the mean (``between``). ``constant_throughput`` keeps each user's phase, so its users
     send in step, in bursts the process handles in one turn of its event loop; with drawn waits
     they drift apart and send one at a time, as the mix's schedule does (each key on its own times).

   Each Locust process writes its request count, its own CPU time (user + system, all threads)
   and its event loop's turns (libev's iteration count) once a second; the figures are over the
   steady part of the run, after start-up and spawning (after the last ``spawning_complete``). For
   each it prints the medians of req/s, of cores used and of requests per CPU-second (each its own
   median), the share of failures over the whole run, the ratio to the bare user in the same mode
   (paired by round: each run against the bare run beside it; the median and the range over the
   rounds), and the requests per turn of the event loop. It also prints the bare user's own spread
   from run to run: on the shared virtual machine it was developed on, from 8 % in a quiet half
   hour to a factor of two, and a difference within it is noise. The stub's batch answer has a
   fixed 100 results, so batch checks fail whenever a client sent fewer operations; they still
   parse and check the answer, so the cost is representative.

2. **Memory per key.** The schedule and the client state (key, known ETags, cursor walk) of
   100,000 keys, each having read 32 Zipf-popular profiles (32 ETags is the most a key keeps),
   measured with ``tracemalloc`` in this process.

3. **Demo API.** ``python -m demo_api`` pinned to core 1, driven by wrk on core 0 (50
   connections, random enterprise keys so the rate limit does not bite), for cached profile
   reads and for pages of 50 items.

    .venv/bin/python bench/bench_loadgen.py [--runs 3] [--seconds 15] [--rate 1500] [--only mix,mix-paced]

``--only`` runs the named configurations beside the bare ones (an A/B of one change: run it in
each tree, alternating) and skips the other benchmarks. It also runs the *ladder*, which no
default run does: the flat-out mix with parts of loadgate's per-request work taken out by a
benchmark-only locustfile, to say what each part costs (``--only mix,mix-no-counts,mix-no-checks,
mix-no-schedule,mix-none``): without loadgate's client counts, without the checks (the same
requests, sent without ``catch_response`` and their bodies unread), without the schedule (users
send back to back, each for a key of the same population drawn by the mix), and without all three.
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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from loadgate import procs  # noqa: E402
from loadgate.frontend import nginx_preamble  # noqa: E402
from scenarios.schedule import KeySchedule, concurrency  # noqa: E402
from scenarios.tasks import KeyState, remember_etag  # noqa: E402
from scenarios.traffic import Zipf  # noqa: E402

#: Imported by every benchmarked locustfile: (seconds, requests, CPU seconds) once a second, and
#: the times spawning completed.
PROBE = '''
import os, resource, time
import gevent
from locust import events

_count = [0]


@events.request.add_listener
def _probe_count(**_):
    _count[0] += 1


_began = time.monotonic()


@events.spawning_complete.add_listener
def _probe_spawned(**_):
    with open(os.environ["PROBE_OUT"] + ".spawned", "a") as out:
        out.write(f"{time.monotonic() - _began:.3f}\\n")


@events.init.add_listener
def _probe_start(**_):
    def sample():
        with open(os.environ["PROBE_OUT"], "w") as out:
            while True:
                gevent.sleep(1)
                usage = resource.getrusage(resource.RUSAGE_SELF)
                turns = getattr(gevent.get_hub().loop, "iteration", -1)  # libev's loop turns (gevent's default)
                out.write(f"{time.monotonic() - _began:.3f} {_count[0]} {usage.ru_utime + usage.ru_stime:.4f} "
                          f"{turns}\\n")
                out.flush()
    gevent.spawn(sample)
'''

BARE_LOCUSTFILE = '''
import os
from locust import FastHttpUser, between, constant, constant_throughput, task
from lg_probe import *  # noqa: F403

RATE = float(os.environ.get("BARE_RATE", "0"))
USERS = int(os.environ.get("BARE_USERS", "50"))
# Paced: constant_throughput keeps every user's phase, so the users send in step, in bursts; "smooth"
# draws each wait from 0.5 to 1.5 times the mean, so they drift apart and send one at a time.
if not RATE:
    WAIT = constant(0)
elif os.environ.get("BARE_SMOOTH"):
    WAIT = between(0.5 * USERS / RATE, 1.5 * USERS / RATE)
else:
    WAIT = constant_throughput(RATE / USERS)


class Bare(FastHttpUser):
    wait_time = WAIT

    @task
    def get(self):
        self.client.get("/ok")
'''

REQUESTS_LOCUSTFILE = '''
import random
from locust import FastHttpUser, constant, task
from lg_probe import *  # noqa: F403
from scenarios.traffic import Zipf


class ScenarioRequests(FastHttpUser):
    """The scenario's requests with none of its checks, pacing or counting."""

    wait_time = constant(0)

    def on_start(self):
        self.rng, self.zipf, self.page_no = random.Random(1), Zipf(10_000, 1.2, 1), 0

    @task(7)
    def read(self):
        self.client.get(f"/api/users/{self.zipf.draw()}", name="/api/users/{id}",
                        headers={"X-API-Key": "enterprise-1", "Accept-Encoding": "gzip"})

    @task(2)
    def page(self):
        self.page_no = (self.page_no + 1) % 5
        self.client.get("/api/items?limit=50" + (f"&cursor=c{self.page_no}" if self.page_no else ""),
                        name="/api/items", headers={"X-API-Key": "enterprise-1"})

    @task(1)
    def batch(self):
        ops = [{"op": "get_item", "id": self.rng.randint(1, 10_000)} for _ in range(self.rng.randint(1, 100))]
        self.client.post("/api/batch", json={"operations": ops}, headers={"X-API-Key": "enterprise-1"})
'''

MIX_LOCUSTFILE = '''
from locustfile import *  # noqa: F403  (loadgate's scenarios, shape and hooks)
from lg_probe import *  # noqa: F403
'''

#: The mix with parts of loadgate's per-request work taken out (``LADDER``: what each part costs).
#: For this benchmark only: a run without them counts or checks nothing.
LADDER_LOCUSTFILE = '''
import os, time
from locust import events
from locustfile import *  # noqa: F403
from lg_probe import *  # noqa: F403
from scenarios import tasks, users
from scenarios.request_listener import on_request
from scenarios.schedule import Due

OFF = set(os.environ["LADDER_OFF"].split(","))
if "counts" in OFF:  # loadgate's client counts (Locust's own stats stay)
    events.request.remove_listener(on_request)
if "checks" in OFF:  # the same requests, sent without catch_response, their bodies unread
    def cached_read(user):
        user.client.get(f"/api/users/{user.zipf.draw()}", name=tasks.USERS_PATH,
                        headers={"X-API-Key": user.key, "Accept-Encoding": "gzip"})

    def next_page(user):
        user.client.get("/api/items?limit=50", headers={"X-API-Key": user.key}, name="/api/items")

    def batch(user):
        user.client.post("/api/batch", data=tasks.batch_body(user)[1], name="/api/batch",
                         headers={"X-API-Key": user.key, "Content-Type": tasks.JSON_TYPE})

    tasks.cached_read, tasks.next_page, tasks.batch = cached_read, next_page, batch
if "schedule" in OFF:  # no schedule: each user sends back to back, for a key of the same population
    from scenarios.dispatch import DISPATCH
    from scenarios.options import DEFAULT_MIX

    def _send_next(self):
        # A tier by the mix and a key of it at random: the keys' state (their known ETags, so
        # their share of 304s) stays as with the schedule, which only decides who sends when.
        tier = self.rng.choices(list(DEFAULT_MIX), weights=list(DEFAULT_MIX.values()))[0]
        due = Due(time.time(), tier, int(self.rng.random() * DISPATCH.schedule.pools()[tier]), False)
        self.request_context = {"tier": tier, "over_limit": False, "intended": due.intended}
        self.send(due)

    users.ClientUser.tasks = [_send_next]
'''

#: The bare users' configurations, which every run measures as the reference of its ratios.
BARE = ("bare", "bare-paced", "bare-smooth")

#: The ladder's configurations: which parts of loadgate's per-request work each takes out.
LADDER = {"mix-no-counts": "counts", "mix-no-checks": "checks", "mix-no-schedule": "schedule",
          "mix-none": "counts,checks,schedule"}

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


def stub_workdir(prefix: str) -> Path:
    """A fresh folder for the nginx stub (its config, canned answers and temp folders)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / sub).mkdir()
    return work


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
    return nginx_preamble(root, "1", 4096) + f"""    default_type application/json;
    gzip on;
    gzip_types application/json;
    gzip_min_length 200;
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


@dataclass(frozen=True)
class Measure:
    """One Locust process over its steady part (the failure share is over the whole run, from Locust)."""

    rps: float
    cores: float
    failures: float
    #: Requests per turn of the event loop (libev's iterations): how many the process sends each time
    #: it wakes, near enough; NaN where the loop does not count its turns.
    per_turn: float = float("nan")

    @property
    def per_cpu_s(self) -> float:
        return self.rps / self.cores


def run_locust(argv: list[str], work: Path, name: str, seconds: int, env: dict[str, str]) -> Measure:
    """Run Locust pinned to core 0; measure it once spawning has completed and start-up is over."""
    probe, json_base = work / f"{name}.probe", work / name
    cmd = ["taskset", "-c", "0", sys.executable, "-m", "locust", *argv, "--headless", "--only-summary",
           "--json-file", str(json_base), "--loglevel", "ERROR", "--exit-code-on-error", "0"]
    environ = {**os.environ, **env, "PROBE_OUT": str(probe), "PYTHONPATH": f"{work}{os.pathsep}{REPO}"}
    with (work / f"{name}.log").open("w") as log:
        subprocess.run(cmd, cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT,
                       timeout=seconds + 120, check=False)
    spawned_file = Path(f"{probe}.spawned")
    if not probe.exists() or not spawned_file.exists():
        output = (work / f"{name}.log").read_text()[-3000:]
        raise RuntimeError(f"{name}: Locust wrote no measurements; its output:\n{output}")
    samples = [tuple(map(float, line.split()))[:4] for line in probe.read_text().splitlines() if line.strip()]
    spawned = max(float(line) for line in spawned_file.read_text().split())
    begin = max(min(6.0, seconds / 3), spawned + 1.0)
    steady = [row for row in samples if row[0] >= begin][:-1]  # the last second may hold the stop
    if len(steady) < 3:
        raise RuntimeError(f"{name}: {len(steady)} samples after spawning completed at {spawned:.1f} s; "
                           "give it more --seconds")
    (t0, n0, c0, i0), (t1, n1, c1, i1) = steady[0], steady[-1]
    entries = json.loads(json_base.with_suffix(".json").read_text())
    requests = sum(e["num_requests"] for e in entries)
    failures = sum(e["num_failures"] for e in entries) / max(1, requests)
    per_turn = (n1 - n0) / (i1 - i0) if i0 >= 0 and i1 > i0 else float("nan")
    return Measure((n1 - n0) / (t1 - t0), (c1 - c0) / (t1 - t0), failures, per_turn)


def bench_loadgen(runs: int, seconds: int, rate: int, work: Path, only: frozenset[str] = frozenset()) -> None:
    port = procs.free_port()
    (work / "nginx.conf").write_text(nginx_config(work, port))
    for name, text in (("probe", PROBE), ("bare", BARE_LOCUSTFILE), ("requests", REQUESTS_LOCUSTFILE),
                       ("mix", MIX_LOCUSTFILE), ("ladder", LADDER_LOCUSTFILE)):
        (work / f"lg_{name}.py").write_text(text)  # prefixed: "requests.py" would shadow a library
    nginx = procs.start(["taskset", "-c", "1", "nginx", "-c", str(work / "nginx.conf"), "-p", str(work)],
                        work / "nginx.out")
    host = ["--host", f"http://127.0.0.1:{port}"]
    users = concurrency(rate)
    bare = ["-f", str(work / "lg_bare.py"), *host, "--run-time", f"{seconds}s"]
    mix = ["-f", str(work / "lg_mix.py"), *host, "--lg-duration", str(seconds), "--lg-rampup", "2"]
    requests = ["-f", str(work / "lg_requests.py"), *host, "--run-time", f"{seconds}s", "-u", "50", "-r", "50"]
    # Offered far more than one core sends: the mix runs flat out, its backlog sent late.
    flat_rate = 8000
    configs: dict[str, tuple[str, list[str], dict[str, str]]] = {
        "bare": ("bare FastHttpUser, one path, 50 users", [*bare, "-u", "50", "-r", "50"], {}),
        "requests": ("scenario requests alone, 50 users", requests, {}),
        "mix": (f"scenario mix, 50 users, offered {flat_rate:,} req/s", [*mix, "--lg-rate", str(flat_rate), "-u", "50"],
                {}),
        "bare-paced": (f"bare FastHttpUser, {users} users, {rate:,} req/s", [*bare, "-u", str(users), "-r", str(users)],
                       {"BARE_RATE": str(rate), "BARE_USERS": str(users)}),
        "bare-smooth": (f"bare, {users} users, {rate:,} req/s, waits drawn",
                        [*bare, "-u", str(users), "-r", str(users)],
                        {"BARE_RATE": str(rate), "BARE_USERS": str(users), "BARE_SMOOTH": "1"}),
        "mix-paced": (f"scenario mix, {users} users, {rate:,} req/s", [*mix, "--lg-rate", str(rate)], {}),
    }
    ladder = ["-f", str(work / "lg_ladder.py"), *mix[2:], "--lg-rate", str(flat_rate), "-u", "50"]
    for name, off in LADDER.items():
        configs[name] = (f"flat-out mix without {off.replace(',', ', ')}", ladder, {"LADDER_OFF": off})
    if not only:
        configs = {name: c for name, c in configs.items() if name not in LADDER}
    if only:
        unknown = only - set(configs)
        if unknown:
            raise SystemExit(f"--only: no configuration {', '.join(sorted(unknown))} (there are {', '.join(configs)})")
        configs = {name: c for name, c in configs.items() if name in only or name in BARE}
    results: dict[str, list[Measure]] = {name: [] for name in configs}
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/ok", nginx, work / "nginx.out")
        for i in range(runs):
            for name, (_, argv, env) in configs.items():
                results[name].append(run_locust(argv, work, f"{name}-{i}", seconds, env))
    finally:
        procs.stop(nginx)
    med = {name: Measure(statistics.median(m.rps for m in ms), statistics.median(m.cores for m in ms),
                         statistics.median(m.failures for m in ms), statistics.median(m.per_turn for m in ms))
           for name, ms in results.items()}
    per_cpu = {name: statistics.median(m.per_cpu_s for m in ms) for name, ms in results.items()}

    def ratio(name: str, ref: str) -> str:
        """``name`` against ``ref``, paired by round (each run against the reference's run beside it, so
        the machine's drift over the session cancels): the median and, over 2 rounds or more, the range."""
        if name == ref:
            return "1.00"
        paired = sorted(a.per_cpu_s / b.per_cpu_s for a, b in zip(results[name], results[ref]))
        mid = statistics.median(paired)
        return f"{mid:.2f}" if len(paired) < 2 else f"{mid:.2f} ({paired[0]:.2f}-{paired[-1]:.2f})"

    print(f"\nLoad generator on one core (Locust pinned to core 0, nginx stub on core 1), {runs} runs of "
          f"{seconds} s each, alternating; steady part of each run; medians, and each ratio's median and range "
          f"over the {runs} rounds, each run against the reference's run beside it:")
    print(f"{'configuration':<46} {'req/s':>7} {'cores':>6} {'req per CPU-s':>14} {'vs bare (range)':>17} "
          f"{'failures':>9} {'req per loop turn':>18}")
    for name, (label, _, _) in configs.items():
        bare_name = "bare-paced" if name.endswith(("-paced", "-smooth")) else "bare"
        print(f"{label:<46} {med[name].rps:>7,.0f} {med[name].cores:>6.2f} {per_cpu[name]:>14,.0f} "
              f"{ratio(name, bare_name):>17} {med[name].failures:>8.1%} {med[name].per_turn:>18.1f}")
    spread = sorted(m.per_cpu_s for m in results["bare"])
    if len(spread) > 1:  # one run has no spread to show: its ratios carry no measure of the noise
        print(f"the bare user's own spread, flat out: {spread[0]:,.0f} to {spread[-1]:,.0f} req per CPU-s "
              f"({spread[-1] / spread[0] - 1:.0%}): a difference of that size between two runs is noise")
    else:
        print("one run of each: no spread to tell noise from a difference (--runs 5 or more for figures)")
    if "mix" in configs:
        for name in (n for n in LADDER if n in configs):
            print(f"{name}: {ratio(name, 'mix')}x the mix's req per CPU-s")
    if not {"mix", "mix-paced", "requests"} <= set(configs):
        return  # --only: the rows above are the figures
    print(f"mix / bare at {rate:,} req/s, same concurrency: {ratio('mix-paced', 'bare-paced')} (goal >= 0.8); "
          f"against the bare user with drawn waits, which sends one request at a time as the mix does: "
          f"{ratio('mix-paced', 'bare-smooth')}; flat out: {ratio('mix', 'bare')} (goal >= 0.8)")
    # Not loadgate's own cost: the mix revalidates (304s) and walks pages by cursor, so its requests are
    # lighter than these; the ladder (--only mix,mix-no-counts,...) takes loadgate's work out of the mix.
    print(f"the scenario's requests alone against bare: {ratio('requests', 'bare')}; the mix against them: "
          f"{ratio('mix', 'requests')} (the mix's own requests are the lighter: its 304s and cursor walks; "
          f"what loadgate's own work costs is the ladder's: --only mix,mix-none)")
    print(f"generator cores for 10,000 req/s of the default mix: {10_000 / per_cpu['mix-paced']:.2f} at "
          f"{rate:,} req/s a core, {10_000 / per_cpu['mix']:.2f} flat out (goal <= 2.5; bare user: "
          f"{10_000 / per_cpu['bare-paced']:.2f} and {10_000 / per_cpu['bare']:.2f})")


def bench_key_memory(keys: int = 100_000, etags: int = 32) -> None:
    """Bytes per key of the schedule and the client state, every key having read ``etags`` profiles."""
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    schedule = KeySchedule({"free": keys})
    schedule.set_rates({"free": keys * 10 * 0.8 / 60}, 0.0)
    clients = {}
    zipf = Zipf(s=1.2, seed=1)
    now = 0.0
    while len(clients) < keys:
        now += 1.0
        due = schedule.take(now)
        while due is not None:
            state = clients.setdefault((due.tier, due.key_index), KeyState(due.tier, due.over_limit,
                                                                          f"free-{due.key_index + 1}"))
            for _ in range(etags):
                # As the service sends it: one ETag per profile, the same for every key that reads it.
                uid = zipf.draw()
                remember_etag(state, uid, f'W/"{uid:08x}{uid * 2654435761 % 2**32:08x}"')
            due = schedule.take(now)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    used = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(f"\nMemory per API key: {keys:,} keys on one schedule, each having read {etags} profiles: "
          f"{used / keys:,.0f} B a key, {used / 2**20:,.0f} MiB in all")


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
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=int, default=1500, help="the offered rate of the paced runs (req/s)")
    parser.add_argument("--only", default="", help="comma-separated configurations (requests, mix, mix-paced, "
                        "and the ladder's mix-no-counts, mix-no-checks, mix-no-schedule, mix-none) to run beside "
                        "the bare ones, for an A/B of one change; the other benchmarks are skipped")
    args = parser.parse_args()
    only = frozenset(filter(None, args.only.split(",")))
    if shutil.which("nginx") is None or shutil.which("taskset") is None:
        print("needs Debian's nginx and taskset (apt-get install nginx)", file=sys.stderr)
        return 2
    work = stub_workdir("loadgate-loadgen-")
    try:
        bench_loadgen(args.runs, args.seconds, args.rate, work, only)
        if not only:
            bench_key_memory()
            bench_demo_api(args.seconds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
