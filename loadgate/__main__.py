"""``python -m loadgate``."""

from loadgate.cli import entry_point

entry_point()
