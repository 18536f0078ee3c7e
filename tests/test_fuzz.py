"""Fuzzing the two inputs loadgate does not control: spec files and Prometheus's answers.

* **Specs.** Generated YAML documents (shaped like specs, and arbitrary) and raw bytes go to the
  spec loader and through ``loadgate validate``: the result is a spec or a located ``SpecError``
  (exit 0 or 2), never a traceback and never a hang.
* **Prometheus answers.** A fake Prometheus on 127.0.0.1 answers every query with generated
  garbage (wrong shapes, NaN, ±Inf, strings for numbers, huge and empty results, missing keys,
  warnings, error statuses): the gate never passes and never tracebacks.

Each is bounded to about a minute (``max_examples``).
"""

from __future__ import annotations

import io
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadgate.cli import Env, main
from slo.model import KINDS
from slo.spec import SpecError, load_spec
from tests.support.canned_http import CannedServer

pytestmark = pytest.mark.fuzz

FIELDS = ("id", "title", "kind", "threshold", "warn", "required", "description", "percentile", "slice",
          "slice_max_error_ratio", "query", "good", "bad", "total", "unit")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=20),
                    st.sampled_from(["< 500ms", ">= 99.9%", "> 80%", "<= 1s", "10000/s", "p99", "5s", "1%", "",
                                     "< -1ms", ">= 200%", "<", "99.99"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
objective = st.dictionaries(st.sampled_from(FIELDS), st.one_of(values, st.sampled_from(KINDS)), max_size=8)
spec_like = st.fixed_dictionaries(
    {"version": st.sampled_from(["loadgate/v1", "loadgate/v2", "", 1]),
     "name": scalars, "objectives": st.one_of(st.lists(objective, max_size=4), values)},
    optional={"metrics": st.dictionaries(st.text(max_size=10), scalars, max_size=3), "selector": scalars,
              "description": scalars})


def _load(data: bytes) -> None:
    try:
        load_spec(data, "fuzz.yaml")
    except SpecError as exc:
        assert str(exc).startswith("fuzz.yaml"), str(exc)  # located: file (and line) first


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(spec_like.map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode()),
                 values.map(lambda v: yaml.safe_dump(v).encode()), st.binary(max_size=300),
                 st.text(max_size=300).map(str.encode)))
def test_any_spec_file_is_a_spec_or_a_located_error(data: bytes) -> None:
    _load(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(spec_like.map(lambda d: yaml.safe_dump(d, allow_unicode=True)))
def test_validate_answers_any_spec_with_exit_0_or_2_and_never_a_traceback(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    code = main(["validate", str(path)], Env(stdout=out, stderr=err, environ={}))
    assert code in (0, 2), err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()


# -- Prometheus answers -------------------------------------------------------------------------
numbers = st.one_of(st.sampled_from(["NaN", "+Inf", "-Inf", "1e309", "-0", "", "x", "1,5", None, True]),
                    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20))
sample = st.one_of(st.lists(numbers, max_size=3), numbers, st.dictionaries(st.text(max_size=5), numbers, max_size=2))
metric = st.one_of(st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3), st.none(), numbers)
item = st.fixed_dictionaries({}, optional={"metric": metric, "value": sample, "values": st.lists(sample, max_size=4)})
result = st.one_of(st.lists(item, max_size=3), st.lists(item, min_size=200, max_size=300), item, numbers, st.none())
data_part = st.fixed_dictionaries({}, optional={"resultType": st.sampled_from(["vector", "matrix", "scalar", "string",
                                                                               "", None]),
                                                "result": result})
answer = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["success", "error", "", None]), "data": st.one_of(data_part, numbers),
    "warnings": st.lists(st.text(max_size=20), max_size=2), "errorType": st.text(max_size=8),
    "error": st.text(max_size=20)})
raw = st.one_of(answer.map(lambda a: json.dumps(a).encode()), st.binary(max_size=100),
                st.sampled_from([b"", b"{", b"[]", b"null", b'{"status":"success"}',
                                 b'{"status":"success","data":{"resultType":"vector","result":[]}}']))
status_code = st.sampled_from([200, 200, 200, 400, 422, 500, 503])


class Garbage:
    """A fake Prometheus's answers: the n-th request gets the n-th of ``answers`` (cycling)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes]] = [(200, b"{}")]
        self.count = 0

    def __call__(self, _: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        answer = self.answers[self.count % len(self.answers)]
        self.count += 1
        return answer


@pytest.fixture(scope="module")
def garbage_prometheus() -> Iterator[tuple[CannedServer, Garbage]]:
    garbage = Garbage()
    with CannedServer(garbage) as server:
        yield server, garbage


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(answers=st.lists(st.tuples(status_code, raw), min_size=1, max_size=8))
def test_the_gate_never_passes_on_garbage_from_prometheus_and_never_tracebacks(
        tmp_path: Path, garbage_prometheus: tuple[CannedServer, Garbage], answers: list[tuple[int, bytes]]) -> None:
    server, garbage = garbage_prometheus
    garbage.answers, garbage.count = answers, 0
    out, err = io.StringIO(), io.StringIO()
    run_dir = tmp_path / f"gate-{abs(hash(tuple(answers)))}"
    code = main(["gate", "--prometheus", server.url, "--start", "2026-01-01T00:15:00Z", "--end",
                 "2026-01-01T00:45:00Z", "--out", str(run_dir)],
                Env(stdout=out, stderr=err, environ={"LOADGATE_PROM_TIMEOUT": "5"}))
    assert code in (1, 3), (code, answers, err.getvalue())
    assert "Traceback" not in out.getvalue() + err.getvalue()
    doc = json.loads((run_dir / "verdict.json").read_text())
    assert doc["verdict"] != "pass" and doc["exit_code"] == code
