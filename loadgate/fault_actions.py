"""``--fault AT:ACTION`` and ``--recover AT:ACTION``: a drill's actions, parsed and checked. Pure.

``AT`` is seconds into the steady state (after the ramp-up): ``20``, ``20s``, ``1.5m``. An action:

* ``kill-api:N``: SIGKILL the Nth demo API process behind the front (``loadgate demo`` only; the
  primaries first, then the backup zone's), a fault;
* ``cmd:COMMAND``: any command, run by ``/bin/sh -c`` in its own process group with a timeout
  (``--action-timeout``), its exit code and the tail of its output kept; killed with its group at
  the timeout or at the end of the run (``kubectl delete pod api-0``, ``docker kill db``).

``timed_action`` is the argparse type: a bad argument is exit 2 naming the flag and the bad part.
``check_actions`` makes the checks that need the rest of the plan.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Callable, Sequence

from slo.timeline import FAULT, RECOVER
from slo.units import UnitError, parse_duration

__all__ = ["KILL_API", "CMD", "DEFAULT_TIMEOUT_S", "ACTIONS", "TimedAction", "parse_timed", "fault_argument",
           "recover_argument", "check_actions"]

KILL_API, CMD = "kill-api", "cmd"
#: How long a ``cmd:`` action may run before it is killed (``--action-timeout``), seconds.
DEFAULT_TIMEOUT_S = 30.0
ACTIONS = "kill-api:N, cmd:COMMAND"
_EXAMPLE = "20:kill-api:1 or 30:cmd:'docker kill db'"


@dataclass(frozen=True)
class TimedAction:
    """One drill action: ``at_s`` seconds into the steady state, a fault or a recovery (``role``),
    its ``kind`` with the process number (``kill-api``) or the command (``cmd``), as written (``text``)."""

    at_s: float
    role: str
    kind: str
    text: str
    process: int | None = None
    command: str | None = None

    @property
    def flag(self) -> str:
        return "--fault" if self.role == FAULT else "--recover"

    @property
    def action(self) -> str:
        """The action without its time: ``kill-api:1``, ``cmd:docker kill db``."""
        return f"{KILL_API}:{self.process}" if self.kind == KILL_API else f"{CMD}:{self.command}"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = parse_duration(text.strip())
    if not math.isfinite(value) or value < 0:
        raise UnitError("must be 0 or more seconds")
    return value


def parse_timed(text: str, role: str) -> TimedAction:
    """``AT:ACTION`` as a ``TimedAction``; ``ValueError`` naming the bad part."""
    at, sep, action = text.partition(":")
    if not sep or not at.strip() or not action:
        raise ValueError(f"expected AT:ACTION such as {_EXAMPLE}, got {text!r}")
    try:
        at_s = _seconds(at)
    except UnitError:
        raise ValueError(f"{at!r} in {text!r} is no time: seconds into the steady state, such as 20 or 20s") \
            from None
    kind, _, rest = action.partition(":")
    if kind == KILL_API:
        try:
            process = int(rest)
        except ValueError:
            process = 0
        if process < 1:
            raise ValueError(f"kill-api needs the process number N (1 for the first), got {rest!r} in {text!r}")
        if role == RECOVER:
            raise ValueError(f"kill-api in {text!r} is a fault, not a recovery: give it to --fault")
        return TimedAction(at_s, role, KILL_API, text, process=process)
    if kind == CMD:
        if not rest.strip():
            raise ValueError(f"cmd: needs a command, such as cmd:'docker kill db', in {text!r}")
        return TimedAction(at_s, role, CMD, text, command=rest)
    raise ValueError(f"unknown action {kind!r} in {text!r}; one of {ACTIONS}")


def _argument(role: str) -> Callable[[str], TimedAction]:
    def parse(text: str) -> TimedAction:
        try:
            return parse_timed(text, role)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


#: The argparse types of ``--fault`` and ``--recover``.
fault_argument = _argument(FAULT)
recover_argument = _argument(RECOVER)


def check_actions(actions: Sequence[TimedAction], steady_s: float, api_processes: int | None) -> str | None:
    """What is wrong with a drill's actions given the plan, in one sentence naming the flag and the
    action (None when nothing is): an action after the steady state's ``steady_s`` seconds, or a
    ``kill-api`` outside the demo (``api_processes`` None) or past its processes."""
    for a in actions:
        if a.at_s >= steady_s:
            return (f"{a.flag} {a.text}: {a.at_s:g}s is not inside the steady state, which lasts {steady_s:g}s "
                    "(--duration minus --rampup)")
        if a.kind == KILL_API:
            if api_processes is None:
                return (f"{a.flag} {a.text}: kill-api applies to loadgate demo only (its demo API processes); "
                        "against your own service, use cmd:COMMAND")
            if a.process is not None and a.process > api_processes:
                return (f"{a.flag} {a.text}: there are only {api_processes} demo API process"
                        f"{'es' if api_processes > 1 else ''} (--api-processes and --backup-processes)")
    return None
