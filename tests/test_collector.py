"""A Locust process that sends load collects its young generation of garbage every 20,000 objects."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from scenarios import collector
from tests.conftest import REPO


@pytest.fixture
def thresholds():
    """The test process's own thresholds, put back afterwards."""
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_and_the_older_ones_kept(thresholds):
    gc.set_threshold(700, 10, 10)
    collector.install()
    assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, 10, 10)


def test_a_higher_threshold_and_a_collector_switched_off_by_threshold_stay(thresholds):
    gc.set_threshold(50_000, 5, 7)
    collector.install()
    assert gc.get_threshold() == (50_000, 5, 7)
    gc.set_threshold(0, 5, 7)
    collector.install()
    assert gc.get_threshold() == (0, 5, 7)


def test_loadgates_locustfile_and_plugin_raise_it_in_the_locust_process():
    # A child process: importing Locust monkey-patches the interpreter.
    for module in ("locustfile", "scenarios.plugin"):
        out = subprocess.run([sys.executable, "-c", f"import gc, {module}; print(gc.get_threshold()[0])"],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert int(out.stdout.split()[-1]) == collector.YOUNG_THRESHOLD, module
