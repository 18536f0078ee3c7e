"""Talking to Prometheus when it is unreachable, misbehaving or guarded.

A Prometheus that answers garbage or fails on purpose cannot be had for real, so these tests
use a small real HTTP server on 127.0.0.1 that plays that part.
"""

from __future__ import annotations

import base64
import json
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler
from typing import Callable, Iterator

import pytest

from analysis.prom import PromConfig, Prometheus, PromQueryError, PromUnreachable
from tests.support.canned_http import CannedServer, Respond

WINDOW = ["--start", "2026-01-01T00:15:00Z", "--end", "2026-01-01T00:45:00Z"]


@pytest.fixture
def fake_prometheus() -> Iterator[Callable[[Respond], CannedServer]]:
    """Starts a ``CannedServer`` per call, playing a misbehaving Prometheus; all stopped after the test."""
    with ExitStack() as stack:
        yield lambda respond: stack.enter_context(CannedServer(respond))


def empty_vector(_: BaseHTTPRequestHandler) -> tuple[int, bytes]:
    return 200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()


def test_an_unreachable_prometheus_is_inconclusive_with_one_line_and_outputs_still_written(cli, unreachable_url,
                                                                                           tmp_path):
    out = tmp_path / "gate"
    result = cli("gate", "--prometheus", unreachable_url, *WINDOW, "--out", str(out))
    assert result.code == 3
    assert "Traceback" not in result.err + result.out
    doc = json.loads((out / "verdict.json").read_text())
    assert doc["verdict"] == "inconclusive" and doc["exit_code"] == 3
    assert doc["reason"] == f"Prometheus could not be queried: cannot reach Prometheus at {unreachable_url}: " \
                            "connection refused"
    assert {o["status"] for o in doc["objectives"]} == {"inconclusive"}
    for name in ("summary.md", "junit.xml", "report.html"):
        assert (out / name).is_file()
    assert "INCONCLUSIVE" in result.out


def test_a_prometheus_answering_garbage_is_inconclusive_not_a_crash(cli, fake_prometheus, tmp_path):
    fake = fake_prometheus(lambda h: (200, b"<html>this is not prometheus</html>"))
    out = tmp_path / "gate"
    result = cli("gate", "--prometheus", fake.url, *WINDOW, "--out", str(out))
    assert result.code == 3
    doc = json.loads((out / "verdict.json").read_text())
    assert all("not JSON" in o["reason"] for o in doc["objectives"])


def test_a_502_is_retried_a_bounded_number_of_times_then_inconclusive(cli, fake_prometheus, tmp_path):
    fake = fake_prometheus(lambda h: (502, b"bad gateway"))
    result = cli("gate", "--prometheus", fake.url, *WINDOW, "--out", str(tmp_path / "g"))
    assert result.code == 3
    assert len(fake.requests) == 3  # the first try and two retries, then the gate gives up on this Prometheus
    doc = json.loads((tmp_path / "g" / "verdict.json").read_text())
    assert "HTTP 502" in doc["reason"]


def test_a_400_bad_query_is_not_retried_and_its_error_is_reported(fake_prometheus):
    body = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}).encode()
    fake = fake_prometheus(lambda h: (400, body))
    prom = Prometheus(PromConfig(fake.url, backoff_s=0))
    with pytest.raises(PromQueryError, match="bad_data: parse error at char 5"):
        prom.instant("sum(", 0)
    assert len(fake.requests) == 1
    prom.close()


def test_a_bearer_token_comes_from_the_environment_and_never_reaches_the_outputs(cli, fake_prometheus, tmp_path):
    fake = fake_prometheus(empty_vector)
    out = tmp_path / "gate"
    result = cli("gate", "--prometheus", fake.url, *WINDOW, "--out", str(out),
                 environ={"LOADGATE_PROM_TOKEN": "s3cret-token"})
    assert result.code == 3  # no data at all
    assert {r.get("authorization") for r in fake.requests} == {"Bearer s3cret-token"}
    written = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "s3cret-token" not in written + result.out + result.err
    assert json.loads((out / "verdict.json").read_text())["source_info"]["auth"] == "bearer"


def test_basic_auth_comes_from_the_environment_and_credentials_in_the_url_are_never_stored(cli, fake_prometheus,
                                                                                          tmp_path):
    fake = fake_prometheus(empty_vector)
    out = tmp_path / "gate"
    url = fake.url.replace("http://", "http://user:pw-in-url@")
    cli("gate", "--prometheus", url, *WINDOW, "--out", str(out),
        environ={"LOADGATE_PROM_USER": "alice", "LOADGATE_PROM_PASSWORD": "wonder"})
    expected = "Basic " + base64.b64encode(b"alice:wonder").decode()
    assert {r.get("authorization") for r in fake.requests} == {expected}
    written = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "wonder" not in written and "pw-in-url" not in written


def test_a_timeout_is_explicit_and_configurable_from_the_environment():
    config = PromConfig.from_env("http://127.0.0.1:9090/", {"LOADGATE_PROM_TIMEOUT": "2.5"})
    assert (config.url, config.timeout_s, config.verify_tls) == ("http://127.0.0.1:9090", 2.5, True)
    assert PromConfig.from_env("https://p", {"LOADGATE_PROM_INSECURE": "1"}).verify_tls is False
    with pytest.raises(ValueError, match="LOADGATE_PROM_TIMEOUT"):
        PromConfig.from_env("http://p", {"LOADGATE_PROM_TIMEOUT": "soon"})


def test_a_missing_ca_file_is_a_usage_error(cli, tmp_path):
    result = cli("gate", "--prometheus", "https://127.0.0.1:1", *WINDOW, "--out", str(tmp_path / "g"),
                 environ={"LOADGATE_PROM_CA_FILE": str(tmp_path / "missing.pem")})
    assert result.code == 2
    assert "LOADGATE_PROM_CA_FILE" in result.err


def test_connection_errors_raise_unreachable_from_the_client(unreachable_url):
    prom = Prometheus(PromConfig(unreachable_url, retries=0))
    with pytest.raises(PromUnreachable, match="connection refused"):
        prom.range("up", 0, 10, 1)
    prom.close()


def test_a_dropped_connection_is_retried_twice_as_documented(fake_prometheus):
    seen = []

    def drop_twice(h: BaseHTTPRequestHandler) -> tuple[int, bytes] | None:
        seen.append(h.path)
        return None if len(seen) <= 2 else empty_vector(h)

    fake = fake_prometheus(drop_twice)
    prom = Prometheus(PromConfig(fake.url, backoff_s=0))
    assert prom.instant("up", 0) == []
    assert len(fake.requests) == 3


def test_a_prometheus_that_always_drops_the_connection_is_inconclusive_after_the_retries(cli, fake_prometheus,
                                                                                         tmp_path):
    fake = fake_prometheus(lambda h: None)
    result = cli("gate", "--prometheus", fake.url, *WINDOW, "--out", str(tmp_path / "g"))
    assert result.code == 3 and "Traceback" not in result.err
    assert len(fake.requests) == 3  # the first try and two retries
    assert "cannot reach Prometheus" in json.loads((tmp_path / "g" / "verdict.json").read_text())["reason"]


def test_a_prometheus_that_never_answers_is_named_with_its_timeout_and_asked_once(cli, fake_prometheus, tmp_path):
    import time

    fake = fake_prometheus(lambda h: (time.sleep(3), empty_vector(h))[1])
    began = time.monotonic()
    result = cli("gate", "--prometheus", fake.url, *WINDOW, "--out", str(tmp_path / "g"),
                 environ={"LOADGATE_PROM_TIMEOUT": "1"})
    assert result.code == 3 and time.monotonic() - began < 10
    reason = json.loads((tmp_path / "g" / "verdict.json").read_text())["reason"]
    assert f"Prometheus at {fake.url} did not answer within 1s (LOADGATE_PROM_TIMEOUT)" in reason
    assert len(fake.requests) == 1


def test_an_answer_with_warnings_is_partial_data_and_never_a_pass(cli, fake_prometheus, tmp_path):
    def partial(_: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        return 200, json.dumps({"status": "success", "warnings": ["store 10.0.0.7:10901 unreachable"],
                                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "1"]}]}
                                }).encode()

    fake = fake_prometheus(partial)
    out = tmp_path / "g"
    result = cli("gate", "--prometheus", fake.url, *WINDOW, "--out", str(out))
    assert result.code == 3 and "Traceback" not in result.err
    doc = json.loads((out / "verdict.json").read_text())
    assert doc["verdict"] == "inconclusive"
    assert {o["status"] for o in doc["objectives"]} == {"inconclusive"}
    assert all("store 10.0.0.7:10901 unreachable" in o["reason"] for o in doc["objectives"])
    assert "store 10.0.0.7:10901 unreachable" in (out / "report.html").read_text()
