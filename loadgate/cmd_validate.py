"""``loadgate validate FILE...``: check spec files; print their objectives, or every error located.

Exit 0 when all files are valid, 2 when any is not. Errors read ``file:line: field.path: problem``.
"""

from __future__ import annotations

import argparse

from loadgate.env import Env
from loadgate.errors import UserError
from slo.gate import ExitCode
from slo.model import unit_of
from slo.spec import SpecError, read_spec
from slo.units import OP_SYMBOLS, format_value

__all__ = ["add_arguments", "run"]



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="SLO spec files (version: loadgate/v1)")


def run(args: argparse.Namespace, env: Env) -> int:
    problems: list[str] = []
    for path in args.files:
        try:
            spec = read_spec(path)
        except SpecError as exc:
            problems.extend(str(issue) for issue in exc.issues)
            continue
        env.stdout.write(f"{path}: valid {spec.version} spec {spec.name!r}, {len(spec.objectives)} objectives\n")
        for o in spec.objectives:
            unit = unit_of(o.kind, o.unit)
            target = f"{OP_SYMBOLS[o.target.op]} {format_value(o.target.value, unit)}"
            if o.kind == "latency" and o.quantile is not None:
                target = f"p{o.quantile * 100:g} {target}"
            warn = f"  warn {format_value(o.warn, unit)}" if o.warn is not None else ""
            optional = "  (optional)" if not o.required else ""
            env.stdout.write(f"  {o.id:<20} {o.kind:<15} {target}{warn}{optional}  {o.title}\n")
    if problems:
        raise UserError("\n".join(problems))
    return ExitCode.PASS
