"""loadgate's Locust options (``--lg-*``) and the reading of their values.

``add_options`` is an ``events.init_command_line_parser`` listener, so plain
``locust -f locustfile.py`` takes the options (web UI, ``--headless``, ``--processes``,
master/worker). Locust sends the master's parsed options to its workers with each spawn, which
is how ``--lg-run-length`` and ``--lg-workers`` reach them.
"""

from __future__ import annotations

import argparse
from typing import Any

from scenarios.schedule import DEFAULT_MAX_LATE_S
from scenarios.shapes import SHAPES
from scenarios.traffic import DEFAULT_IDS, DEFAULT_MIX

__all__ = ["MIX_TEXT", "add_options", "seconds", "workers"]

#: ``--lg-mix``'s default, as text: ``tier=percent`` pairs.
MIX_TEXT = ",".join(f"{tier}={share * 100:g}" for tier, share in DEFAULT_MIX.items())


def add_options(parser: Any) -> None:
    """Add the ``loadgate`` group of options to Locust's parser (``events.init_command_line_parser``)."""
    group = parser.add_argument_group("loadgate", "Options added by loadgate's scenarios")

    def option(*flags: str, web: bool = True, **kwargs: Any) -> None:
        # Options added through a group skip Locust's own add_argument, so mark the web form's here.
        action = group.add_argument(*flags, **kwargs)
        action.include_in_web_ui, action.is_secret, action.is_required, action.is_multiple = web, False, False, False

    option("--lg-rate", type=float, default=200.0, help="target requests per second at peak")
    option("--lg-shape", choices=sorted(SHAPES), default="ramp", help="load shape")
    option("--lg-duration", type=float, default=None,
           help="seconds the shape runs (default: -t/--run-time, else 60; -t always ends the run)")
    option("--lg-rampup", type=float, default=10.0, help="seconds of ramp-up (not graded)")
    option("--lg-mix", default=MIX_TEXT, help="share of traffic per tier")
    option("--lg-pace", type=float, default=0.8, help="in-limit keys' pace, share of their limit")
    option("--lg-over-limit", type=float, default=0.0, help="fraction of each tier's keys at 150 %% of the limit")
    option("--lg-ids", default=DEFAULT_IDS,
           help="user ids cached reads draw from, Zipf-ranked: a range A-B or a file of ids")
    option("--lg-zipf-s", type=float, default=1.2, help="Zipf exponent of id popularity")
    option("--lg-seed", type=int, default=1, help="seed for reproducible traffic")
    option("--lg-max-late", type=float, default=DEFAULT_MAX_LATE_S,
           help="seconds past its intended time after which a request still waiting for a free user is "
                "dropped, never sent, and counted")
    option("--lg-keys-file", default="", web=False,
           help="the API keys to send with, a CSV with the header tier,key (default: generated demo keys)")
    option("--lg-workers", type=int, default=0, web=False,
           help="processes sharing the rate (default: the workers connected when the test starts, or 1)")
    # Set by the master's shape for its workers (Locust sends the master's own options with each spawn).
    option("--lg-run-length", type=float, default=0.0, web=False, help=argparse.SUPPRESS)
    option("--lg-metrics-port", type=int, default=0, web=False,
           help="expose loadgate_* series on PORT (master or local process)")
    option("--lg-metrics-host", default="127.0.0.1", web=False,
           help="the address the loadgate_* series are served on (default 127.0.0.1; 0.0.0.0 for a "
                "Prometheus on another host)")
    option("--lg-zone", default="", web=False,
           help="the load zone this process's requests are counted in (a worker's own: read at start, before "
                "the master's options arrive)")
    option("--lg-series-file", default="", web=False, help="append client snapshots (JSON lines) here")


def seconds(value: Any) -> float | None:
    """A number of seconds from the command line or the web form (where it arrives as text)."""
    if value in (None, ""):
        return None
    return float(value)


def workers(options: Any) -> int:
    """Processes that share the open model's rate: ``--lg-workers`` (which a master sets to the
    workers connected when the test starts, unless given), else 1."""
    return max(1, int(getattr(options, "lg_workers", 0) or 1))
