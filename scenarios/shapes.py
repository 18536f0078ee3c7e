"""Load shapes: pure functions from elapsed seconds to a target request rate (requests/s).

Each returns None once the test is over, so Locust's shape stops the run. None of them sleeps.

* ``ramp``: linear from 0 to ``rate`` over ``rampup`` seconds, then hold until ``duration``.
* ``step``: ``steps`` equal stairs up to ``rate`` across the duration (after the ramp-up).
* ``spike``: hold at half the rate, with a spike to the full rate in the middle fifth.
* ``soak``: like ``ramp``; meant for long durations at a steady rate.

The graded window is ``[rampup, duration]``: the ramp-up warms caches and connection pools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

__all__ = ["SHAPES", "ShapeSpec", "target_rate", "ramp", "step", "spike", "soak", "DEFAULT_DURATION_S",
           "effective_duration"]


@dataclass(frozen=True)
class ShapeSpec:
    """A shape's parameters: peak ``rate`` (req/s), total ``duration`` and ``rampup`` (seconds)."""

    rate: float
    duration: float
    rampup: float = 0.0
    steps: int = 4


def _ramp_factor(t: float, rampup: float) -> float:
    return 1.0 if rampup <= 0 else min(1.0, max(0.0, t / rampup))


def ramp(t: float, spec: ShapeSpec) -> float | None:
    if t >= spec.duration:
        return None
    return spec.rate * _ramp_factor(t, spec.rampup)


def step(t: float, spec: ShapeSpec) -> float | None:
    if t >= spec.duration:
        return None
    if t < spec.rampup:
        return spec.rate / spec.steps * _ramp_factor(t, spec.rampup)
    held = spec.duration - spec.rampup
    stair = min(spec.steps, 1 + math.floor((t - spec.rampup) / (held / spec.steps)))
    return spec.rate * stair / spec.steps


def spike(t: float, spec: ShapeSpec) -> float | None:
    if t >= spec.duration:
        return None
    base = 0.5 * spec.rate * _ramp_factor(t, spec.rampup)
    held = spec.duration - spec.rampup
    middle = spec.rampup + 0.4 * held
    return spec.rate if middle <= t < middle + 0.2 * held else base


def soak(t: float, spec: ShapeSpec) -> float | None:
    return ramp(t, spec)


SHAPES: dict[str, Callable[[float, ShapeSpec], float | None]] = {"ramp": ramp, "step": step, "spike": spike,
                                                                  "soak": soak}


def target_rate(name: str, t: float, spec: ShapeSpec) -> float | None:
    """The target rate of shape ``name`` at ``t`` seconds, or None when the run is over."""
    return SHAPES[name](t, spec)


#: The shape's length when neither ``--lg-duration`` nor ``-t/--run-time`` gives one (seconds).
DEFAULT_DURATION_S = 60.0


def effective_duration(duration_s: float | None, run_time_s: float | None) -> float:
    """How long the shape runs: ``--lg-duration``, cut short by Locust's ``-t/--run-time`` (which
    always ends the run); ``-t`` alone sets it; 60 s with neither."""
    if run_time_s:
        return min(duration_s, run_time_s) if duration_s else float(run_time_s)
    return duration_s if duration_s else DEFAULT_DURATION_S
