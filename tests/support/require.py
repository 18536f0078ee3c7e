"""A test that needs something this machine lacks: skipped here, a failure under CI (``CI`` set)."""

from __future__ import annotations

import os

import pytest

__all__ = ["missing"]


def missing(why: str) -> None:
    """Stop the test because ``why`` (a message naming what to install): under CI it fails."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {why}", pytrace=False)
    pytest.skip(why)
