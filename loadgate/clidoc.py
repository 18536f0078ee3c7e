"""``docs/cli.md`` from the argument parser: ``python -m loadgate.clidoc > docs/cli.md`` (``make docs``).

``render_cli_markdown(parser)`` is pure: it returns the page as text and leaves the parser as it
found it. Help is formatted at a fixed width (``WIDTH`` columns) whatever the terminal or ``COLUMNS``
say, so the page is the same on every machine and ``tests/test_docs.py`` can compare it byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from typing import Iterator, Sequence, TextIO, cast

__all__ = ["WIDTH", "render_cli_markdown", "main"]

#: Columns the help text is wrapped at (argparse would otherwise ask the terminal).
WIDTH = 100

_HEADER = """\
# Command line reference

Every `loadgate` command and flag, as `--help` prints it. Back to the [README](../README.md).

This page is generated from the parser by `make docs` (`python -m loadgate.clidoc > docs/cli.md`);
do not edit it by hand. `tests/test_docs.py` fails when it no longer matches the parser.
"""


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """Each subcommand of ``parser`` as (name, one-line help, its parser), in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _walk(parser: argparse.ArgumentParser, help_text: str) -> Iterator[tuple[argparse.ArgumentParser, str]]:
    """``parser`` (with ``help_text``) and every parser below it, depth first, each with its one-line help."""
    yield parser, help_text
    for _, sub_help, sub in _subcommands(parser):
        yield from _walk(sub, sub_help)


def _fixed_width_help(parser: argparse.ArgumentParser, width: int) -> str:
    """``parser.format_help()`` wrapped at ``width`` columns; the parser's formatter is restored after."""
    original = parser.formatter_class
    # argparse types the attribute as a factory of prog only; the classes it holds all take width.
    formatter = cast("type[argparse.HelpFormatter]", original)

    def fixed(prog: str) -> argparse.HelpFormatter:
        return formatter(prog, width=width)

    parser.formatter_class = fixed
    try:
        return parser.format_help()
    finally:
        parser.formatter_class = original


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading of lower-case words and spaces: ``loadgate run`` -> ``loadgate-run``."""
    return heading.strip().lower().replace(" ", "-")


def render_cli_markdown(parser: argparse.ArgumentParser, width: int = WIDTH) -> str:
    """The command line reference in Markdown: a heading and the fenced ``--help`` of each command.

    The top-level parser comes first, then each subcommand in the parser's order. Help is wrapped at
    ``width`` columns; nothing outside the function (the environment, the parser) is changed.
    """
    parsers = list(_walk(parser, parser.description or ""))
    lines = [_HEADER]
    lines.append("| command | what it does |")
    lines.append("| --- | --- |")
    for sub, help_text in parsers[1:]:
        cell = help_text.replace("|", "\\|")
        lines.append(f"| [`{sub.prog}`](#{_anchor(sub.prog)}) | {cell} |")
    for sub, _ in parsers:
        lines.append("")
        lines.append(f"## {sub.prog}")
        lines.append("")
        lines.append("```text")
        lines.append(_fixed_width_help(sub, width).rstrip("\n"))
        lines.append("```")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Print the reference for ``loadgate.cli.build_parser()`` on ``stdout``; takes no arguments."""
    from loadgate.cli import build_parser

    if argv:
        sys.stderr.write("usage: python -m loadgate.clidoc > docs/cli.md\n")
        return 2
    (stdout or sys.stdout).write(render_cli_markdown(build_parser()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
