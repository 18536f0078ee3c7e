"""``loadgate convert FILE [--to loadgate|openslo]``: one spec in the other format, on stdout.

OpenSLO v1 documents (a file, or a directory read as one set) become the equivalent
``loadgate/v1`` spec (the default, ``--to loadgate``); a ``loadgate/v1`` spec becomes OpenSLO v1
documents with ``--to openslo``. What the other format cannot hold is said on stderr, naming the
objective; nothing is dropped silently. Exit 0 when written, 2 for a bad spec or nothing to write.
"""

from __future__ import annotations

import argparse

from loadgate.env import Env
from loadgate.errors import UserError
from loadgate.specs import load_spec_or_fail
from slo.gate import ExitCode
from slo.loadgate_v1 import SPEC_VERSION
from slo.openslo import API_VERSION, ConvertError, to_openslo
from slo.spec_write import dump_spec, dump_warnings

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a loadgate/v1 spec, a file of OpenSLO v1 documents, or a "
                                                     "directory of OpenSLO files")
    parser.add_argument("--to", choices=("loadgate", "openslo"), default="loadgate",
                        help="the format to write (default loadgate: loadgate/v1)")


def run(args: argparse.Namespace, env: Env) -> int:
    spec = load_spec_or_fail(args.file)
    wanted = SPEC_VERSION if args.to == "loadgate" else API_VERSION
    if spec.format == wanted:
        other = "openslo" if args.to == "loadgate" else "loadgate"
        raise UserError(f"{args.file} is already {wanted}; did you mean --to {other}?")
    if args.to == "loadgate":
        notes = [f"note: {n}" for n in spec.notes]
        for warning in dump_warnings(spec):
            env.stderr.write(f"loadgate: {warning}\n")
        env.stdout.write(dump_spec(spec, header=f"Converted by loadgate from {spec.path} ({spec.format}).\n"
                                                + "\n".join(notes)))
        return ExitCode.PASS
    try:
        text, warnings = to_openslo(spec)
    except ConvertError as exc:
        raise UserError(str(exc)) from None
    for warning in warnings:
        env.stderr.write(f"loadgate: {warning}\n")
    env.stdout.write(text)
    return ExitCode.PASS
