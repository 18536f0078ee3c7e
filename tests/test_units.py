"""Units in specs and on the command line."""

import pytest

from slo.units import (
    UnitError,
    format_duration,
    format_rate,
    format_ratio,
    format_value,
    parse_comparison,
    parse_duration,
    parse_number,
    parse_rate,
    parse_ratio,
)


@pytest.mark.parametrize("text, seconds", [("100ms", 0.1), ("0.5s", 0.5), ("2m", 120), ("1h", 3600),
                                           ("250us", 0.00025), (" 40 ms ", 0.04), ("1e2ms", 0.1)])
def test_durations_become_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["100", "ms", "100 mss", "-5ms", "1.2.3s", ""])
def test_a_duration_without_a_known_unit_is_refused_with_an_example(text):
    with pytest.raises(UnitError, match="100ms"):
        parse_duration(text)


def test_percentages_become_exact_ratios():
    assert parse_ratio("99.99%") == 0.9999
    assert parse_ratio("0.1%") == 0.001
    assert parse_ratio("80 %") == 0.8
    assert parse_ratio("0.999") == 0.999
    assert parse_ratio(0.5) == 0.5


@pytest.mark.parametrize("text", ["101%", "1.5", "fast", True])
def test_a_ratio_outside_0_to_100_percent_is_refused(text):
    with pytest.raises(UnitError):
        parse_ratio(text)


def test_rates_become_events_per_second():
    assert parse_rate("10000/s") == 10000
    assert parse_rate("600/min") == 10
    assert parse_rate("36000/h") == 10
    with pytest.raises(UnitError, match="10000/s"):
        parse_rate("10000")
    with pytest.raises(UnitError):
        parse_rate(10000)


def test_a_leading_operator_is_split_from_the_value():
    assert parse_comparison("< 100ms") == ("<", "100ms")
    assert parse_comparison(">=99.99%") == (">=", "99.99%")
    assert parse_comparison("100ms") == (None, "100ms")
    assert parse_comparison(3) == (None, 3)


def test_plain_numbers_parse_for_generic_objectives():
    assert parse_number("3") == 3.0
    assert parse_number("-1.5") == -1.5
    assert parse_number(2) == 2.0
    with pytest.raises(UnitError):
        parse_number("three")


def test_values_are_rendered_in_the_units_people_read():
    assert format_duration(0.0873) == "87.3 ms"
    assert format_duration(0.5) == "500 ms"
    assert format_duration(12.5) == "12.5 s"
    assert format_ratio(0.9999) == "99.99 %"
    assert format_ratio(0.99995) == "99.995 %"
    assert format_ratio(0.001) == "0.1 %"
    assert format_ratio(0.0) == "0 %"
    assert format_rate(10234.4) == "10,234 req/s"
    assert format_value(None, "s") == "n/a"
    assert format_value(3.0, "instances") == "3 instances"


def test_a_first_signal_while_results_are_written_waits_for_them_and_a_second_does_not():
    import os
    import signal

    from loadgate.signals import FORCE, Interrupted, deferred, handled

    written = []
    with pytest.raises(Interrupted) as stopped:
        with handled():
            with deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                written.append("verdict.json")  # still running: the signal waits
    assert written == ["verdict.json"] and stopped.value.exit_code == 143
    with pytest.raises(Interrupted):
        with handled():
            with deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGTERM)  # a second one stops at once
                written.append("never")
    assert written == ["verdict.json"] and FORCE.now
    FORCE.now = False
