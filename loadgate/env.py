"""What a command may touch besides its arguments, passed in so tests need no patching."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence, TextIO

__all__ = ["Env"]


@dataclass
class Env:
    """Standard streams, the environment, the command line as typed and the clock (Unix seconds)."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    clock: Callable[[], float] = time.time
    #: The arguments after ``loadgate``, recorded in ``run.json`` so a run can be repeated.
    argv: Sequence[str] = ()
