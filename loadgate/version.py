"""The installed loadgate version, recorded in every output."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["tool_version"]


def tool_version() -> str:
    """The installed loadgate version ("0+unknown" when running from an uninstalled tree)."""
    try:
        return version("loadgate")
    except PackageNotFoundError:
        return "0+unknown"
