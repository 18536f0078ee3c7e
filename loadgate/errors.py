"""The error a command raises for an expected failure: a message for the user and an exit code.

``cli.main`` prints the message to stderr and returns the code; no traceback is shown.
"""

from __future__ import annotations

from slo.gate import ExitCode

__all__ = ["UserError"]


class UserError(Exception):
    """An expected failure (bad flag, bad spec, unreadable directory) with its exit code."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.USAGE):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
