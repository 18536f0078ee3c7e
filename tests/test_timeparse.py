"""Windows on the command line."""

import pytest

from loadgate.timeparse import parse_time, resolve_window


def test_rfc3339_and_unix_seconds_give_the_same_instant():
    assert parse_time("2026-01-01T00:00:00Z") == 1767225600
    assert parse_time("2026-01-01T01:00:00+01:00") == 1767225600
    assert parse_time("1767225600") == 1767225600


@pytest.mark.parametrize("text, message", [("2026-01-01T00:00:00", "no time zone"), ("yesterday", "RFC 3339"),
                                           ("-5", "not a valid Unix time")])
def test_a_time_that_cannot_be_read_says_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_time(text)


def test_last_ends_now_in_whole_seconds():
    assert resolve_window(None, None, "30m", now=1000.7) == (1000 - 1800, 1000)


def test_a_window_needs_start_and_end_or_last_but_not_both():
    with pytest.raises(ValueError, match="--start and --end"):
        resolve_window("1", None, None, now=0)
    with pytest.raises(ValueError, match="not both"):
        resolve_window("1", "2", "5m", now=0)
    with pytest.raises(ValueError, match="must end after"):
        resolve_window("100", "100", None, now=0)
    with pytest.raises(ValueError, match="--last"):
        resolve_window(None, None, "soon", now=0)
