"""``loadgate validate FILE...``: check spec files; print their objectives, or every error located.

Exit 0 when all files are valid, 2 when any is not. Errors read ``file:line: field.path: problem``.
"""

from __future__ import annotations

import argparse

from loadgate.env import Env
from loadgate.errors import UserError
from slo import model
from slo.gate import ExitCode
from slo.model import Objective, unit_of
from slo.spec import SpecError, read_spec
from slo.units import OP_SYMBOLS, format_duration, format_ratio, format_value

__all__ = ["add_arguments", "run"]



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="SLO spec files (version: loadgate/v1), files of OpenSLO v1 documents, or directories "
                             "of OpenSLO files read as one set")


def _details(o: Objective) -> list[str]:
    """What a reader needs beyond the target: slices, per-point comparisons, approximations."""
    out = []
    if o.budgeting != model.OCCURRENCES and o.slice_seconds is not None:
        what = f"{o.budgeting}: {format_duration(o.slice_seconds)} slices"
        if o.slice_target is not None:
            what += f", a slice is good at {OP_SYMBOLS['>=']} {format_ratio(o.slice_target)}"
        elif o.budgeting == model.RATIO_TIMESLICES:
            what += ", graded by the mean of their good ratios"
        out.append(what)
    if o.point_op is not None and o.point_value is not None:
        step = f"each {format_duration(o.slice_seconds)} slice" if o.budgeting == model.TIMESLICES and \
            o.slice_seconds and o.slice_target is None else "each point (one a scrape interval)"
        out.append(f"good when the query's value {OP_SYMBOLS[o.point_op]} {o.point_value:g}, for {step}")
    if o.note:
        out.append(f"approximate: {o.note}")
    if not o.takes_selector:
        out.append("literal PromQL: a --selector is refused, not added to it")
    return out


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
            for line in _details(o):
                env.stdout.write(f"  {'':<20} {line}\n")
        for note in spec.notes:
            env.stdout.write(f"  note: {note}\n")
    if problems:
        raise UserError("\n".join(problems))
    return ExitCode.PASS
