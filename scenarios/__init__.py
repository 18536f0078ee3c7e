"""Locust scenarios: tiered API clients on a schedule of intended sends, their tasks and load shapes.

``scenarios.OpenModelUser`` is the documented base for a QA team's own open-model scenarios (see
``scenarios.open_model``). It is imported lazily: importing Locust patches the whole process with
gevent, and the CLI imports this package's pure modules (shapes, traffic, keys) without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OpenModelUser", "Due"]


def __getattr__(name: str) -> Any:
    if name == "OpenModelUser":
        from scenarios.open_model import OpenModelUser

        return OpenModelUser
    if name == "Due":
        from scenarios.schedule import Due

        return Due
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
