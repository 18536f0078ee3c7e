"""Argument types for the command line: each parses one value or says what it expected."""

from __future__ import annotations

import argparse

import contract

__all__ = ["positive_int", "non_negative_int", "positive", "non_negative", "fraction", "significance", "zone"]


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _whole(text: str, least: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError("must be at least 1" if least == 1 else "must not be negative")
    return value


def positive_int(text: str) -> int:
    """Whole seconds, at least 1."""
    return _whole(text, 1, "whole seconds")


def non_negative_int(text: str) -> int:
    """A whole number, 0 or more."""
    return _whole(text, 0, "a whole number")


def positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def fraction(text: str) -> float:
    """A number between 0 and 1."""
    value = non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def significance(text: str) -> float:
    """A significance level (``--alpha``): between 0.0001 and 0.5."""
    value = fraction(text)
    if not 0.0001 <= value <= 0.5:
        raise argparse.ArgumentTypeError("must be between 0.0001 and 0.5")
    return value


def zone(text: str) -> str:
    """A load zone's name (``contract.ZONE_RULE``): a short word safe as a label."""
    problem = contract.zone_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text
