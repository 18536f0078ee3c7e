"""The demo API's error burst (``--error-burst START_S:LENGTH_S``): every ``/api`` request 503 for a while."""

from __future__ import annotations

import argparse

import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from demo_api.__main__ import _burst as api_burst
from demo_api.app import Settings, create_app
from loadgate.cmd_demo import _burst as demo_burst
from tests.test_demo_api import KEY, Clock


def test_every_api_request_is_503_during_the_burst_and_answered_before_and_after_it():
    clock = Clock()
    c = TestClient(create_app(Settings(db_delay_ms=0, error_burst_start_s=10.0, error_burst_s=0.5),
                              registry=CollectorRegistry(), clock=clock))
    codes = []
    for elapsed in (9.9, 10.0, 10.25, 10.49, 10.5, 20.0):
        clock.now = 1000.0 + elapsed
        codes.append(c.get("/api/users/1", headers=KEY).status_code)
    assert codes == [200, 503, 503, 503, 200, 200]
    clock.now = 1010.2
    assert c.get("/healthz").status_code == 200  # only /api paths fail


def test_no_burst_is_the_default():
    c = TestClient(create_app(Settings(db_delay_ms=0), registry=CollectorRegistry(), clock=Clock()))
    assert c.get("/api/users/1", headers=KEY).status_code == 200


@pytest.mark.parametrize("parse", [api_burst, demo_burst])
def test_a_burst_is_start_and_length_in_seconds(parse):
    assert parse("12:0.5") == (12.0, 0.5)
    for bad in ("12", "a:1", "1:-2", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)
