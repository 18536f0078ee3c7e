"""The ``loadgate`` command line: ``main(argv) -> int``, the only caller of ``sys.exit`` is ``entry_point``.

Subcommands live in one module each (``cmd_<name>.py``) with ``add_arguments(parser)`` and
``run(args, env) -> int``. Expected failures raise ``UserError`` and end as one line on stderr
with their exit code (2 for usage and spec errors); results go to stdout, logs to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import NoReturn, Sequence

from loadgate import (
    cmd_capacity,
    cmd_convert,
    cmd_demo,
    cmd_gate,
    cmd_history,
    cmd_inspect,
    cmd_report,
    cmd_rules,
    cmd_run,
    cmd_validate,
    cmd_worker,
)
from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.procs import ProcessError
from loadgate.signals import Interrupted, handled
from loadgate.version import tool_version
from slo.gate import ExitCode

__all__ = ["Env", "main", "entry_point", "tool_version"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises ``UserError`` (exit 2) instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, status: int):
        self.status = status


_COMMANDS = {
    "validate": (cmd_validate, "check SLO spec files and print their objectives"),
    "convert": (cmd_convert, "print a spec in the other format: OpenSLO v1 to loadgate/v1, or --to openslo"),
    "gate": (cmd_gate, "grade a Prometheus window against a spec; exit 0 pass, 1 fail, 3 inconclusive"),
    "inspect": (cmd_inspect, "find a service's series in Prometheus, the preset that reads them and what they can "
                             "grade; --out writes a starter spec (exit 0 found, 3 none)"),
    "report": (cmd_report, "re-render report.html, summary.md and junit.xml from a gate or run directory"),
    "history": (cmd_history, "the trend of several gate, run and capacity directories and the newest run's "
                             "changes: history.json, history.html, history.md (exit 0; 1 on a regression with "
                             "--fail-on-regression)"),
    "run": (cmd_run, "load-test a service with Locust and grade it; exit codes as gate"),
    "demo": (cmd_demo, "load-test the bundled demo API on this machine and grade it"),
    "capacity": (cmd_capacity, "find the highest rate at which every objective still holds; exit 0 if it meets the "
                               "spec's throughput target, 1 if below, 3 if unknown"),
    "rules": (cmd_rules, "write Prometheus burn-rate alerting rules (and promtool tests) for a spec"),
    "worker": (cmd_worker, "a Locust worker joining a loadgate run --master on another host"),
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to print help)."""
    parser = _Parser(prog="loadgate", description="Load testing and SLO release gates.")
    parser.add_argument("--version", action="version", version=f"loadgate {tool_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in _COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> int:
    """Run one command and return its exit code; never raises for an expected failure."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    env = dataclasses.replace(env or Env(), argv=tuple(arguments))
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
        if not args.command:
            parser.print_help(env.stderr)
            return ExitCode.USAGE
        module = _COMMANDS[args.command][0]
        with handled():
            return module.run(args, env)
    except _Exit as stop:
        return stop.status
    except UserError as exc:
        env.stderr.write(f"loadgate: {exc.message}\n" if not exc.message.startswith("loadgate") else
                         f"{exc.message}\n")
        return exc.exit_code
    except ProcessError as exc:
        # A child we needed (Prometheus, the demo API) did not start: nothing could be measured.
        env.stderr.write(f"loadgate: {exc}\n")
        return ExitCode.INCONCLUSIVE
    except OSError as exc:
        # The file system said no (permissions, a full disk, a path that is a file): a usage problem.
        env.stderr.write(f"loadgate: {exc.strerror or exc}: {exc.filename or ''}\n")
        return ExitCode.USAGE
    except Interrupted as exc:
        env.stderr.write(f"loadgate: interrupted ({exc.name})\n")
        return exc.exit_code
    except KeyboardInterrupt:
        env.stderr.write("loadgate: interrupted\n")
        return ExitCode.INTERRUPTED


def entry_point() -> None:
    """Console-script entry: ``sys.exit(main())``."""
    sys.exit(main())
