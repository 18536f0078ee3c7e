"""``loadgate worker``: a Locust worker for a ``loadgate run --master`` on another host.

    loadgate worker --master HOST:PORT [--zone NAME] [--locustfile FILE] [--loop]

Runs ``locust -f locustfile.py --worker --master-host HOST --master-port PORT`` (with your own
``--locustfile``, loadgate's hooks and it, as the master runs them) in the foreground, its output
on this terminal. The master sends the rate, the shape, the duration and this worker's share of
the keys; the worker exits when the master ends the test. Plain ``locust --worker`` joins too.
With ``--loop`` it joins the next master on the same address as soon as one test ends (a capacity
search's steps, each a new ``--master`` run), until a signal stops it. SIGINT, SIGTERM and SIGHUP
stop it (and anything it started).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from loadgate import procs
from loadgate.argtypes import zone
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.run_plan import LOCUSTFILE, PLUGIN

__all__ = ["add_arguments", "run", "worker_command", "parse_master", "LOOP_PAUSE_S"]

#: With ``--loop``, the pause before joining the next master: the one that ended the test is gone by then.
LOOP_PAUSE_S = 1.0
#: With --loop, a worker that fails (exit above 0) sooner than this after it started is not restarted.
BROKEN_START_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master", required=True, metavar="HOST:PORT",
                        help="the master to join (loadgate run --master; port 5557 unless it was given another)")
    parser.add_argument("--zone", type=zone, metavar="NAME",
                        help="the load zone this worker's requests are counted in (per-zone figures and zones: each "
                             "objectives on the master)")
    parser.add_argument("--locustfile", metavar="FILE",
                        help="the same locustfile the master runs, when it runs your own (--locustfile)")
    parser.add_argument("--loop", action="store_true",
                        help="after each test join the next master on the same address (loadgate capacity "
                             "--master: each step is a new master), until stopped by a signal")


def parse_master(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``, port 5557) as a host and a port; a ValueError says what is wrong."""
    host, _, port = text.rpartition(":") if ":" in text else (text, ":", "5557")
    if not host:
        raise ValueError(f"expected HOST:PORT, such as 10.0.0.5:5557, got {text!r}")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"the port of {text!r} is not a number") from None
    if not 0 < number < 65536:
        raise ValueError(f"the port of {text!r} is out of range")
    return host, number


def worker_command(host: str, port: int, locustfile: str | None, zone: str | None = None) -> list[str]:
    """The Locust worker's command line; ``zone`` becomes ``--lg-zone`` (read by the worker at start)."""
    files = f"{PLUGIN},{locustfile}" if locustfile else str(LOCUSTFILE)
    return [sys.executable, "-m", "locust", "-f", files, "--worker", "--master-host", host,
            "--master-port", str(port), "--loglevel", "WARNING", *(["--lg-zone", zone] if zone else [])]


def run(args: argparse.Namespace, env: Env) -> int:
    try:
        host, port = parse_master(args.master)
    except ValueError as exc:
        raise UserError(f"--master: {exc}") from None
    if args.locustfile and not Path(args.locustfile).is_file():
        raise UserError(f"--locustfile: {args.locustfile}: no such file")
    locustfile = str(Path(args.locustfile).resolve()) if args.locustfile else None
    env.stderr.write(f"loadgate: worker joining the master at {host}:{port}"
                     f"{f' in zone {args.zone}' if getattr(args, 'zone', None) else ''}\n")
    env.stderr.flush()
    while True:
        began = time.monotonic()
        proc = subprocess.Popen(worker_command(host, port, locustfile, getattr(args, "zone", None)),
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            code = proc.wait()
        finally:
            procs.stop(proc, timeout_s=15)
        if not getattr(args, "loop", False):
            return code
        if code == 2 or (code > 0 and time.monotonic() - began < BROKEN_START_S):
            # A usage error or a locustfile that cannot load: every restart would fail the same way.
            env.stderr.write(f"loadgate: the worker exited with code {code} {time.monotonic() - began:.1f}s after it "
                             "started; not joining again (see its output above)\n")
            return code
        env.stderr.write(f"loadgate: the test ended (worker exit {code}); joining the next master at {host}:{port}\n")
        env.stderr.flush()
        time.sleep(LOOP_PAUSE_S)
