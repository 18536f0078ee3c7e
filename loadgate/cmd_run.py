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

from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.flags import add_host, add_load_arguments, add_locustfile, add_master_arguments, add_source
from loadgate.load_test import check_master_flags, finish, plan_from_args
from loadgate.promserver import INSTALL_HINT, binaries
from loadgate.specs import DEFAULT_SPEC

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_host(parser)
    add_load_arguments(parser, rate=200.0, duration=60.0, spec=DEFAULT_SPEC)
    add_source(parser, "start a local Prometheus that scrapes the host and the load generator")
    add_locustfile(parser)
    add_master_arguments(parser)


def run(args: argparse.Namespace, env: Env) -> int:
    check_master_flags(args)
    plan = plan_from_args(args, env, args.host, "run", prometheus_url=args.prometheus,
                          start_prometheus=args.start_prometheus, selector=args.selector,
                          master=bool(args.master), expect_workers=args.expect_workers or 0,
                          workers_timeout=args.expect_workers_timeout, master_bind_host=args.master_bind_host,
                          master_bind_port=args.master_bind_port, metrics_host=args.metrics_host,
                          metrics_port=args.metrics_port or 0)
    if plan.start_prometheus and binaries() is None:
        raise UserError(f"--start-prometheus: Prometheus is not installed; {INSTALL_HINT}")
    return finish(plan, env)
