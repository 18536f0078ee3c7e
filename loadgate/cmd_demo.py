"""``loadgate demo``: the demo API, a local Prometheus and a graded load test, on this machine.

Starts ``python -m demo_api`` on a free 127.0.0.1 port (with any fault flags), then runs the
load test of ``loadgate run`` against it with ``--start-prometheus`` (unless ``--no-prometheus``,
or Prometheus is not installed: then the load generator's own counts are graded), graded
against ``slo/targets/local.yaml``. A healthy demo passes; ``--slow-fraction 0.05 --slow-ms 800``
fails P99 latency; ``--error-fraction 0.01`` fails the error rate. ``--api-processes N`` runs N
demo API processes behind nginx (``loadgate.frontend``), each scraped as its own instance, all
serving the same data; ``--backup-processes M`` adds a backup zone; nginx's passive health checks
(``--max-fails``, ``--fail-timeout``) take a dead process out, so ``--fault AT:kill-api:N`` is a
real failover, with its recovery measured (``docs/failover.md``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path

from loadgate import procs
from loadgate.argtypes import fraction, non_negative, non_negative_int, positive, positive_int
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.faults import Target
from loadgate.flags import add_load_arguments
from loadgate.frontend import FAIL_TIMEOUT_S, MAX_FAILS, NGINX_HINT, HealthChecks, nginx_front
from loadgate.load_test import finish, plan_from_args
from loadgate.promserver import binaries
from slo.gate import ExitCode

__all__ = ["add_arguments", "run", "LOCAL_SPEC"]

LOCAL_SPEC = "slo/targets/local.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_load_arguments(parser, rate=200.0, duration=60.0, spec=LOCAL_SPEC)
    parser.add_argument("--no-prometheus", action="store_true", help="grade from the load generator's side only")
    parser.add_argument("--api-processes", type=positive_int, default=1, metavar="N",
                        help="demo API processes behind nginx, which hashes on X-API-Key so each key's limit is "
                             "held by one process; all serve the same data (default 1: no nginx)")
    front = parser.add_argument_group("nginx in front (with --api-processes above 1 or --backup-processes)")
    front.add_argument("--backup-processes", type=non_negative_int, default=0, metavar="M",
                       help="a backup zone of M more demo API processes, which nginx passes a request to when no "
                            "primary can answer it (default 0)")
    front.add_argument("--max-fails", type=non_negative_int, default=MAX_FAILS, metavar="N",
                       help="nginx's passive health check: N failed attempts within --fail-timeout take a process "
                            f"out of the ring for --fail-timeout (0: never; default {MAX_FAILS})")
    front.add_argument("--fail-timeout", type=positive, default=FAIL_TIMEOUT_S, metavar="S",
                       help=f"nginx's fail_timeout, seconds (default {FAIL_TIMEOUT_S:g})")
    faults = parser.add_argument_group("faults injected into the demo API")
    faults.add_argument("--slow-fraction", type=fraction, default=0.0, metavar="F", help="fraction of requests delayed")
    faults.add_argument("--slow-ms", type=non_negative, default=0.0, metavar="MS", help="delay of a slow request")
    faults.add_argument("--error-fraction", type=fraction, default=0.0, metavar="F", help="fraction answered 503")
    faults.add_argument("--error-burst", type=_burst, default=(0.0, 0.0), metavar="START_S:LENGTH_S",
                        help="every request answered 503 for LENGTH_S seconds, START_S after the demo API started")
    faults.add_argument("--cache-ttl", type=non_negative, default=300.0, metavar="S", help="0 disables the cache")
    faults.add_argument("--stall-every", type=non_negative, default=0.0, metavar="S",
                        help="the whole API stops answering every S seconds (0: never)")
    faults.add_argument("--stall-ms", type=non_negative, default=0.0, metavar="MS", help="how long each stall lasts")


def _burst(text: str) -> tuple[float, float]:
    """``START_S:LENGTH_S``, both 0 or more seconds."""
    start, sep, length = text.partition(":")
    try:
        pair = (non_negative(start), non_negative(length)) if sep else None
    except argparse.ArgumentTypeError:
        pair = None
    if pair is None:
        raise argparse.ArgumentTypeError(f"expected START_S:LENGTH_S in seconds, e.g. 12:0.5, got {text!r}")
    return pair


def run(args: argparse.Namespace, env: Env) -> int:
    start_prometheus = not args.no_prometheus
    if start_prometheus and binaries() is None:
        env.stderr.write("loadgate: Prometheus is not installed, so the demo grades from the load generator's "
                         "side (install Debian's prometheus package for server-side figures)\n")
        start_prometheus = False
    faults = {"slow_fraction": args.slow_fraction, "slow_ms": args.slow_ms, "error_fraction": args.error_fraction,
              "cache_ttl_s": args.cache_ttl, "stall_every_s": args.stall_every, "stall_ms": args.stall_ms}
    if args.error_burst[1] > 0:
        faults["error_burst"] = list(args.error_burst)
    fronted = args.api_processes > 1 or args.backup_processes > 0
    if fronted and not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        raise UserError(f"--{'api' if args.api_processes > 1 else 'backup'}-processes: nginx is not installed; "
                        f"{NGINX_HINT}")
    port = procs.free_port()
    count = args.api_processes + args.backup_processes
    api_ports = [procs.free_port() for _ in range(count)] if fronted else [port]
    checks = HealthChecks(args.max_fails, args.fail_timeout)
    front = {"backup_processes": args.backup_processes, "max_fails": checks.max_fails,
             "fail_timeout_s": checks.fail_timeout_s} if fronted else {}
    plan = plan_from_args(args, env, f"http://127.0.0.1:{port}", "demo", start_prometheus=start_prometheus,
                          extra={"demo_api": {**faults, "processes": args.api_processes, **front}},
                          scrape_targets=tuple(f"127.0.0.1:{p}" for p in api_ports))
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        apis = []
        targets: list[Target] = []
        for i, api_port in enumerate(api_ports):
            # One seed for all: every process serves the same data, so ETags and cursors survive a failover.
            argv = [sys.executable, "-m", "demo_api", "--port", str(api_port), "--seed", str(args.seed),
                    "--instance", str(i),
                    "--slow-fraction", f"{args.slow_fraction:g}", "--slow-ms", f"{args.slow_ms:g}",
                    "--error-fraction", f"{args.error_fraction:g}", "--cache-ttl", f"{args.cache_ttl:g}",
                    "--stall-every", f"{args.stall_every:g}", "--stall-ms", f"{args.stall_ms:g}",
                    "--error-burst", f"{args.error_burst[0]:g}:{args.error_burst[1]:g}"]
            if args.keys:
                argv += ["--keys", args.keys]  # the demo API accepts exactly the keys the load generator sends
            log = plan.out_dir / ("demo_api.log" if len(api_ports) == 1 else f"demo_api-{i + 1}.log")
            api = procs.start(argv, log)
            stack.callback(procs.stop, api)
            apis.append((api, api_port, log))
            zone = "" if not args.backup_processes else " (backup zone)" if i >= args.api_processes else " (primary)"
            targets.append((f"demo API process {i + 1} of {count}{zone} on 127.0.0.1:{api_port}", api))
        try:
            for api, api_port, log in apis:
                procs.wait_http(f"http://127.0.0.1:{api_port}/healthz", api, log)
            if fronted:
                stack.enter_context(nginx_front(plan.out_dir / "nginx", port, api_ports[:args.api_processes],
                                                api_ports[args.api_processes:], checks))
        except procs.ProcessError as exc:
            raise UserError(f"the demo API did not start: {exc}", ExitCode.INCONCLUSIVE) from None
        behind = f", {args.api_processes} processes behind nginx" if fronted else ""
        if args.backup_processes:
            behind += f" and {args.backup_processes} in its backup zone"
        if fronted:
            behind += f" (max_fails={checks.max_fails}, fail_timeout={checks.fail_timeout_s:g}s)"
        env.stderr.write(f"loadgate: demo API on {plan.host}{behind} (faults: {faults})\n")
        return finish(plan, env, targets)
