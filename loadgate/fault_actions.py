"""``--fault AT:ACTION`` and ``--recover AT:ACTION``: a drill's actions, parsed and checked. Pure.

``AT`` is seconds into the steady state (after the ramp-up): ``20``, ``20s``, ``1.5m``. An action:

* ``kill-api:N``: SIGKILL the Nth demo API process behind the front (``loadgate demo`` only; the
  primaries first, then the backup zone's), a fault;
* ``cmd:COMMAND``: any command, run by ``/bin/sh -c`` in its own process group with a timeout
  (``--action-timeout``), its exit code and the tail of its output kept; killed with its group at
  the timeout or at the end of the run (``kubectl delete pod api-0``, ``docker kill db``);
* host actions on a Linux network namespace NAME (a host, as ``ip netns list`` shows it; run by
  ``loadgate.hosts``): ``kill-host:NAME`` (SIGKILL to every process in it), ``cut:NAME`` (its
  links but loopback set down), ``delay:NAME:MS`` (a netem delay on its links), all faults, and
  ``heal:NAME`` (its links set up, loadgate's delays on it removed), a recovery.

``fault_argument`` and ``recover_argument`` are the argparse types: a bad argument is exit 2
naming the flag and the bad part. ``check_actions`` makes the checks that need the rest of the
plan, ``check_hosts`` those that need the machine (root, the namespaces), from what it was told.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass
from typing import Callable, Collection, Sequence

from slo.timeline import FAULT, RECOVER
from slo.units import UnitError, parse_duration

__all__ = ["KILL_API", "CMD", "KILL_HOST", "CUT", "HEAL", "DELAY", "HOST_KINDS", "MAX_DELAY_MS",
           "DEFAULT_TIMEOUT_S", "ACTIONS", "TimedAction", "parse_timed", "fault_argument", "recover_argument",
           "check_actions", "check_hosts"]

KILL_API, CMD = "kill-api", "cmd"
KILL_HOST, CUT, HEAL, DELAY = "kill-host", "cut", "heal", "delay"
#: The actions on a network namespace (``loadgate.hosts``).
HOST_KINDS = (KILL_HOST, CUT, HEAL, DELAY)
#: The longest ``delay:NAME:MS``, milliseconds.
MAX_DELAY_MS = 60_000.0
#: How long a ``cmd:`` action may run before it is killed (``--action-timeout``), seconds.
DEFAULT_TIMEOUT_S = 30.0
ACTIONS = "kill-api:N, kill-host:NAME, cut:NAME, heal:NAME, delay:NAME:MS, cmd:COMMAND"
#: A network namespace's name as ``ip netns add`` takes it (a file name under /run/netns), kept
#: to letters, digits, ``_``, ``.`` and ``-``, 1 to 64 of them, starting with neither a dot nor a dash.
_NAMESPACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_EXAMPLE = "20:kill-api:1 or 30:cmd:'docker kill db'"


@dataclass(frozen=True)
class TimedAction:
    """One drill action: ``at_s`` seconds into the steady state, a fault or a recovery (``role``),
    its ``kind`` with the process number (``kill-api``), the command (``cmd``) or the network
    namespace (``host``, and ``delay_ms`` for ``delay``), as written (``text``)."""

    at_s: float
    role: str
    kind: str
    text: str
    process: int | None = None
    command: str | None = None
    host: str | None = None
    delay_ms: float | None = None

    @property
    def flag(self) -> str:
        return "--fault" if self.role == FAULT else "--recover"

    @property
    def action(self) -> str:
        """The action without its time: ``kill-api:1``, ``cmd:docker kill db``, ``delay:edge:40``."""
        if self.kind == KILL_API:
            return f"{KILL_API}:{self.process}"
        if self.kind == DELAY:
            return f"{DELAY}:{self.host}:{self.delay_ms:g}"
        if self.kind in HOST_KINDS:
            return f"{self.kind}:{self.host}"
        return f"{CMD}:{self.command}"


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
    if kind in HOST_KINDS:
        return _host_action(at_s, role, kind, rest, text)
    raise ValueError(f"unknown action {kind!r} in {text!r}; one of {ACTIONS}")


def _host_action(at_s: float, role: str, kind: str, rest: str, text: str) -> TimedAction:
    """``kill-host:NAME``, ``cut:NAME``, ``heal:NAME`` or ``delay:NAME:MS`` (``rest`` after the kind)."""
    name, _, ms = rest.partition(":") if kind == DELAY else (rest, "", "")
    usage = f"{kind}:NAME:MS" if kind == DELAY else f"{kind}:NAME"
    if not _NAMESPACE.fullmatch(name):
        raise ValueError(f"{usage} needs a network namespace's name (as ip netns list shows it: letters, digits, "
                         f"'_', '.' or '-'), got {name!r} in {text!r}")
    delay_ms = None
    if kind == DELAY:
        try:
            delay_ms = float(ms.strip().removesuffix("ms"))
        except ValueError:
            delay_ms = math.nan
        if not (math.isfinite(delay_ms) and 0 < delay_ms <= MAX_DELAY_MS):
            raise ValueError(f"delay:NAME:MS needs the delay in milliseconds, above 0 and at most {MAX_DELAY_MS:g}, "
                             f"such as delay:{name}:40, got {ms!r} in {text!r}")
    if kind == HEAL and role == FAULT:
        raise ValueError(f"heal in {text!r} undoes a fault, it is not one: give it to --recover")
    if kind != HEAL and role == RECOVER:
        raise ValueError(f"{kind} in {text!r} is a fault, not a recovery: give it to --fault")
    return TimedAction(at_s, role, kind, text, host=name, delay_ms=delay_ms)


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


def check_hosts(actions: Sequence[TimedAction], *, root: bool, namespaces: Collection[str] | None,
                own: str | None = None) -> str | None:
    """What stops a drill's host actions on this machine, in one sentence naming the flag and the
    action (None when nothing does): loadgate is not ``root``, iproute2's ``ip`` could not list the
    ``namespaces`` (None), a namespace that does not exist, or a ``kill-host`` of ``own``, the
    namespace loadgate itself runs in. Pure: the caller asks the machine."""
    hosts = [a for a in actions if a.kind in HOST_KINDS]
    if not hosts:
        return None
    first = hosts[0]
    if not root:
        return (f"{first.flag} {first.text}: host actions need root (they run ip and tc on network namespaces); "
                "run loadgate as root")
    if namespaces is None:
        return (f"{first.flag} {first.text}: iproute2's ip could not list the network namespaces "
                "(apt-get install -y iproute2)")
    for a in hosts:
        if a.host not in namespaces:
            known = ", ".join(sorted(namespaces)[:10]) or "none"
            return f"{a.flag} {a.text}: no network namespace {a.host!r} (ip netns list: {known})"
        if a.kind == KILL_HOST and a.host == own:
            return (f"{a.flag} {a.text}: loadgate itself runs in network namespace {a.host!r}: killing every "
                    "process in it would kill the load test")
    return None
