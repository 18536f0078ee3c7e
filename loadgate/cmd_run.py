"""``loadgate run``: a load test of a service, graded against an SLO spec.

    loadgate run --host URL [--spec FILE] [--shape ramp|step|spike|soak] [--rate R] ...

Every flag is listed in ``docs/cli.md``. Locust runs headless as a subprocess, with loadgate's
scenarios or a QA team's own locustfile. With ``--start-prometheus`` a local Prometheus scrapes
the service and the load generator every second; with ``--prometheus URL`` an existing one is
used (pass ``--selector`` to pick the service's series); with neither, the load generator's own
counts are the source. The steady state (after the ramp-up) is graded; exit codes are the gate's.
"""

from __future__ import annotations

import argparse

from loadgate.argtypes import positive, positive_int
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_host, add_load_arguments, add_locustfile, add_source
from loadgate.load_test import finish, plan_from_args
from loadgate.promserver import INSTALL_HINT, binaries
from loadgate.specs import DEFAULT_SPEC

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_host(parser)
    add_load_arguments(parser, rate=200.0, duration=60.0, spec=DEFAULT_SPEC)
    add_source(parser, "start a local Prometheus that scrapes the host and the load generator")
    add_locustfile(parser)
    hosts = parser.add_argument_group("workers on other hosts (loadgate worker, or locust --worker, joins)")
    hosts.add_argument("--master", action="store_true",
                       help="run the Locust master only: the load comes from workers on other hosts")
    hosts.add_argument("--expect-workers", type=positive_int, metavar="N",
                       help="with --master: start once N workers are connected")
    hosts.add_argument("--expect-workers-timeout", type=positive, default=60.0, metavar="S",
                       help="with --master: give up (exit 3) if N workers have not connected in S seconds "
                            "(default 60)")
    hosts.add_argument("--master-bind-host", default="0.0.0.0", metavar="H",
                       help="with --master: the address workers connect to (default 0.0.0.0)")
    hosts.add_argument("--master-bind-port", type=positive_int, default=5557, metavar="P",
                       help="with --master: the port workers connect to (default 5557)")
    hosts.add_argument("--metrics-host", default="127.0.0.1", metavar="H",
                       help="serve the load generator's loadgate_* series on this address (default 127.0.0.1; "
                            "0.0.0.0 when a Prometheus on another host scrapes them)")
    hosts.add_argument("--metrics-port", type=positive_int, metavar="P",
                       help="the port of the loadgate_* series (default: a free port)")


def run(args: argparse.Namespace, env: Env) -> int:
    if args.master and not args.expect_workers:
        raise UserError("--master needs --expect-workers N: how many workers to wait for")
    if args.expect_workers and not args.master:
        raise UserError("--expect-workers applies to --master only")
    if args.master and args.processes > 1:
        raise UserError("--master and --processes exclude each other: with --master the workers run elsewhere")
    plan = plan_from_args(args, env, args.host, "run", prometheus_url=args.prometheus,
                          start_prometheus=args.start_prometheus, selector=args.selector,
                          master=bool(args.master), expect_workers=args.expect_workers or 0,
                          workers_timeout=args.expect_workers_timeout, master_bind_host=args.master_bind_host,
                          master_bind_port=args.master_bind_port, metrics_host=args.metrics_host,
                          metrics_port=args.metrics_port or 0)
    if plan.start_prometheus and binaries() is None:
        raise UserError(f"--start-prometheus: Prometheus is not installed; {INSTALL_HINT}")
    return finish(plan, env)
