"""``LoadGateShape``: the Locust load shape that runs ``--lg-shape`` with a fixed pool of users.

The shape's rates themselves are pure functions of elapsed seconds (``scenarios.shapes``); this
is the Locust side, which picks the users and the spawn rate from Locust's own options and hands
the length it runs to the workers.
"""

from __future__ import annotations

from locust import LoadTestShape
from locust.runners import MasterRunner

from scenarios.options import seconds
from scenarios.schedule import concurrency
from scenarios.shapes import ShapeSpec, effective_duration, target_rate
from scenarios.state import STATE

__all__ = ["LoadGateShape", "SPAWN_SHARE"]

#: The share of the ramp-up that the users are spawned in (from its start).
SPAWN_SHARE = 0.5


class LoadGateShape(LoadTestShape):
    """Runs the chosen shape of target rates for its duration, with a fixed pool of users.

    Open-model users take the rate from the schedule (every process follows the shape); the users
    are the concurrency: ``-u`` (or the web form's users), else sized from ``--lg-rate`` by
    Little's law (``scenarios.schedule.concurrency``). Plain Locust users run closed-loop, as
    many as that. ``-t/--run-time`` always ends the run: with a shape, Locust waits for the shape
    to end before it starts its own run-time timer, so the shape ends itself at ``-t``.
    """

    use_common_options = True

    def reset_time(self) -> None:
        """A test starts: the shape's own length as given now (the command line or the web form);
        each tick then writes the length it runs back, for the workers."""
        super().reset_time()
        if self.runner is not None and self.runner.environment.parsed_options is not None:
            STATE.given_duration = seconds(getattr(self.runner.environment.parsed_options, "lg_duration", None))

    def tick(self) -> tuple[int, float] | None:
        """The users and spawn rate now, or None once the shape's length has run (the test ends);
        notes the target rate and the concurrency in ``STATE``."""
        assert self.runner is not None and self.runner.environment.parsed_options is not None
        options = self.runner.environment.parsed_options
        duration = effective_duration(STATE.given_duration, seconds(options.run_time))
        # For the workers: Locust sends the master's own options with each spawn message.
        options.lg_run_length = duration
        if isinstance(self.runner, MasterRunner) and not STATE.given_workers:
            options.lg_workers = max(1, self.runner.worker_count)
        rate = target_rate(options.lg_shape, self.get_run_time(), ShapeSpec(options.lg_rate, duration,
                                                                             options.lg_rampup))
        if rate is None:
            return None
        STATE.target_rate = rate
        users = STATE.given_users if options.headless else options.num_users
        STATE.concurrency = users = int(users or concurrency(options.lg_rate))
        spawn_rate = STATE.given_spawn_rate if options.headless else options.spawn_rate
        if not spawn_rate:
            # Spawned over the first half of the ramp-up, while the rate is low: the graded window
            # then starts seconds after the last spawn, not in its stall.
            spawn_rate = max(1.0, users / (options.lg_rampup * SPAWN_SHARE)) if options.lg_rampup > 0 else float(users)
        return users, float(spawn_rate)
