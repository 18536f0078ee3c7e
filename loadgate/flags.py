"""The flags several commands share, defined once: the spec, the selector, the output, the load and the source.

Each ``add_*`` adds its flags to a parser; what a flag means and its default are said here only,
so ``gate``, ``run``, ``demo``, ``capacity`` and ``rules`` cannot drift apart.
"""

from __future__ import annotations

import argparse

from analysis.presets import PRESETS
from loadgate.argtypes import fraction, non_negative, positive, positive_int, significance, zone
from loadgate.fault_actions import DEFAULT_TIMEOUT_S, fault_argument, recover_argument
from loadgate.specs import DEFAULT_SPEC
from scenarios.schedule import DEFAULT_MAX_LATE_S
from scenarios.shapes import SHAPES
from slo.compare import DEFAULT_TOLERANCES
from slo.regression import DEFAULT_ALPHA
from slo.timeline import HOLD_S

__all__ = ["add_spec", "add_selector", "add_out", "add_host", "add_source", "add_traffic", "add_locustfile",
           "add_load_arguments", "add_baseline_arguments", "add_drill_arguments", "add_master_arguments"]

# argparse formats help text with %: a literal percent sign is written %%.
_TOLERANCES = ",".join(f"{kind}={value * 100:g}%%" for kind, value in DEFAULT_TOLERANCES.items())


def add_spec(parser: argparse.ArgumentParser, default: str = DEFAULT_SPEC) -> None:
    """``--spec FILE``: a loadgate/v1 or OpenSLO v1 spec (a file or a directory of OpenSLO documents),
    and ``--preset NAME``: the instrumentation whose metric names its default queries read."""
    parser.add_argument("--spec", default=default, metavar="FILE",
                        help=f"SLO spec: loadgate/v1 or OpenSLO v1, a file or a directory (default {default})")
    parser.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME",
                        help="read the service's series as this instrumentation names them (overrides the "
                             f"spec's metrics.preset; its single names still apply): {', '.join(sorted(PRESETS))}")


def add_selector(parser: argparse.ArgumentParser, help_text: str = "label matchers added to every default "
                                                                   "query, e.g. 'job=\"api\"'") -> None:
    """``--selector MATCHERS``: label matchers for the service's series."""
    parser.add_argument("--selector", default="", metavar="MATCHERS", help=help_text)


def add_out(parser: argparse.ArgumentParser, what: str = "output directory (default runs/<UTC time>-<command>/)",
            metavar: str = "DIR") -> None:
    """``--out DIR``: where a command writes its outputs."""
    parser.add_argument("--out", metavar=metavar, help=what)


def add_host(parser: argparse.ArgumentParser) -> None:
    """``--host URL``: the service under test."""
    parser.add_argument("--host", required=True, metavar="URL", help="base URL of the service under test")


def add_source(parser: argparse.ArgumentParser, start_help: str) -> None:
    """``--prometheus URL | --start-prometheus`` and ``--selector``: where the server side is graded from."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--prometheus", metavar="URL", help="grade from this Prometheus")
    source.add_argument("--start-prometheus", action="store_true", help=start_help)
    add_selector(parser, "label matchers for the service's series")


def add_traffic(parser: argparse.ArgumentParser, *, users_help: str) -> None:
    """The traffic's make-up: ``--processes``, ``--mix``, ``--users``, ``--keys`` and ``--seed``."""
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="Locust worker processes on this machine (default 1)")
    parser.add_argument("--mix", metavar="TIERS", help="share of traffic per tier, e.g. free=10,basic=20,pro=30,"
                                                       "enterprise=40")
    parser.add_argument("--users", type=positive_int, metavar="N", help=users_help)
    parser.add_argument("--keys", metavar="FILE",
                        help="the API keys to send with, a CSV with the header tier,key (the demo API accepts "
                             "the same file); never written anywhere by loadgate")
    parser.add_argument("--seed", type=int, default=1, help="seed for reproducible traffic")


def add_locustfile(parser: argparse.ArgumentParser) -> None:
    """``--locustfile FILE``: a QA team's own scenarios, run with loadgate's hooks."""
    parser.add_argument("--locustfile", metavar="FILE",
                        help="your own Locust scenarios instead of loadgate's: users subclassing "
                             "scenarios.OpenModelUser get the arrival rate; plain HttpUser/FastHttpUser run "
                             "closed-loop (--users of them), and the report says the rate was not controlled")


def add_baseline_arguments(parser: argparse.ArgumentParser, *, gating: bool = True) -> None:
    """``--baseline DIR...``, ``--alpha`` and ``--regression-tolerance`` (and ``--fail-on-regression``
    where a gate decides)."""
    parser.add_argument("--baseline", metavar="DIR", nargs="+", action="extend",
                        help="compare with earlier run or gate directories (or folders of them), pooled: each "
                             "objective is tested for a significant change (see docs/regressions.md)")
    parser.add_argument("--alpha", type=significance, default=DEFAULT_ALPHA, metavar="A",
                        help=f"the significance level of the regression test (default {DEFAULT_ALPHA:g})")
    parser.add_argument("--regression-tolerance", default="", metavar="KIND=PCT,...",
                        help=f"the minimum effect that counts as a regression, once significant (defaults: "
                             f"{_TOLERANCES})")
    if gating:
        parser.add_argument("--fail-on-regression", action="store_true",
                            help="a significant regression against the baseline fails the gate (exit 1)")


def add_load_arguments(parser: argparse.ArgumentParser, *, rate: float, duration: float, spec: str) -> None:
    """The flags of a load test, shared by ``run`` and ``demo``."""
    add_spec(parser, spec)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="ramp", help="load shape (default ramp)")
    parser.add_argument("--rate", type=positive, default=rate, metavar="R",
                        help=f"target requests per second at peak (default {rate:g})")
    parser.add_argument("--duration", type=positive, default=duration, metavar="S",
                        help=f"seconds of load (default {duration:g})")
    parser.add_argument("--rampup", type=non_negative, default=10.0, metavar="S",
                        help="seconds of ramp-up, not graded (default 10)")
    add_traffic(parser, users_help="Locust users carrying the requests, the concurrency (default: Little's law, "
                                   "rate x 50 ms x 4 headroom, at least 10)")
    parser.add_argument("--zone", type=zone, metavar="NAME",
                        help="count every request of this run in load zone NAME (per-zone figures, zones: each "
                             "objectives); on a distributed run each worker names its own (loadgate worker --zone)")
    parser.add_argument("--over-limit", type=fraction, default=0.0, metavar="F",
                        help="fraction of each tier's API keys sending at 150 %% of their limit")
    parser.add_argument("--ids", metavar="A-B|FILE",
                        help="user ids cached reads draw from, Zipf-ranked with the first most popular: a range "
                             "such as 1-250000, or a file of ids, one a line (default 1-10000)")
    parser.add_argument("--max-late", type=positive, default=DEFAULT_MAX_LATE_S, metavar="S",
                        help="a request still waiting for a free user S seconds after its intended time is "
                             f"dropped unsent and counted (default {DEFAULT_MAX_LATE_S:g})")
    add_out(parser, "run directory (default runs/<UTC time>-<command>/)")
    parser.add_argument("--fail-on-warn", action="store_true", help="a warning fails the gate")
    parser.add_argument("--require-evidence", action="store_true",
                        help="a pass the sample size cannot demonstrate is inconclusive")
    parser.add_argument("--allow-invalid", action="store_true",
                        help="a run that could not deliver its load (generator died or saturated, rate short, "
                             "requests late, workers lost) is graded with warnings instead of inconclusive")
    parser.add_argument("--abort-on-fail", action="store_true",
                        help="stop the load as soon as a required latency, error-rate or availability objective "
                             "can no longer pass over the planned window (more bad events than its whole budget); "
                             "the window so far is graded, and the gate fails (exit 1)")
    alerting = parser.add_argument_group("alerts proven under load (needs the local Prometheus)")
    alerting.add_argument("--alert-rules", action="store_true",
                          help="load the spec's burn-rate alert rules (loadgate rules) into the local Prometheus, "
                               "their windows scaled to the run, and record which alerts fired and when")
    alerting.add_argument("--expect-alerts", metavar="SLO:SEV,...",
                          help="a drill: pass only if each named alert fired (e.g. error_rate:page); 'none': fail if "
                               "any alert fired. Implies --alert-rules")
    add_drill_arguments(parser)
    add_baseline_arguments(parser)


def add_drill_arguments(parser: argparse.ArgumentParser) -> None:
    """``--fault``, ``--recover``, ``--action-timeout`` and ``--recovery-hold``: a failover drill."""
    drill = parser.add_argument_group("failover drills (docs/failover.md)")
    drill.add_argument("--fault", type=fault_argument, action="append", default=[], metavar="AT:ACTION",
                       help="inject a fault AT seconds into the steady state: kill-api:N (demo: SIGKILL its Nth API "
                            "process), cmd:COMMAND (any command, e.g. 20:cmd:'docker kill db'), or on a network "
                            "namespace NAME (a host; needs root): kill-host:NAME (SIGKILL every process in it), "
                            "cut:NAME (its links down), delay:NAME:MS (a netem delay on its links); repeatable; "
                            "verdict.json gains a timeline with each fault's cost and recovery; cut links and delays "
                            "are undone at the end of the run")
    drill.add_argument("--recover", type=recover_argument, action="append", default=[], metavar="AT:ACTION",
                       help="run an action that undoes a fault, AT seconds into the steady state: cmd:COMMAND, or "
                            "heal:NAME (the namespace's links up, loadgate's delays on it removed); repeatable")
    drill.add_argument("--action-timeout", type=positive, default=DEFAULT_TIMEOUT_S, metavar="S",
                       help="a cmd: action still running after S seconds is killed with its process group, as is "
                            f"any still running when the run ends (default {DEFAULT_TIMEOUT_S:g})")
    drill.add_argument("--recovery-hold", type=positive, default=HOLD_S, metavar="S",
                       help="the service has recovered from a fault once every 5 s window stays within the error "
                            f"rate and latency objectives for S seconds (default {HOLD_S:g})")


def add_master_arguments(parser: argparse.ArgumentParser, *, each_step: bool = False) -> None:
    """``--master``, ``--expect-workers N`` and the master's address, and where the load generator's
    ``loadgate_*`` series are served: the load comes from workers on other hosts (``loadgate worker``).
    ``each_step``: a capacity search, whose every step waits for the workers (``loadgate worker --loop``)."""
    hosts = parser.add_argument_group("workers on other hosts (loadgate worker, or locust --worker, joins)")
    hosts.add_argument("--master", action="store_true",
                       help="run the Locust master only: the load comes from workers on other hosts")
    hosts.add_argument("--expect-workers", type=positive_int, metavar="N",
                       help=f"with --master: start{' each step' if each_step else ''} once N workers are connected")
    hosts.add_argument("--expect-workers-timeout", type=positive, default=60.0, metavar="S",
                       help="with --master: give up (exit 3) if N workers have not connected in S seconds "
                            f"{'at a step, which is then inconclusive ' if each_step else ''}(default 60)")
    hosts.add_argument("--master-bind-host", default="0.0.0.0", metavar="H",
                       help="with --master: the address workers connect to (default 0.0.0.0)")
    hosts.add_argument("--master-bind-port", type=positive_int, default=5557, metavar="P",
                       help="with --master: the port workers connect to (default 5557)")
    hosts.add_argument("--metrics-host", default="127.0.0.1", metavar="H",
                       help="serve the load generator's loadgate_* series on this address (default 127.0.0.1; "
                            "0.0.0.0 when a Prometheus on another host scrapes them)")
    hosts.add_argument("--metrics-port", type=positive_int, metavar="P",
                       help="the port of the loadgate_* series (default: a free port)")
