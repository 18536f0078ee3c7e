"""Every preset grades its instrumentation's series exactly like the loadgate-named twin of the same traffic.

The series are backfilled into a real Prometheus as each instrumentation's documentation says they
look (``tests/support/instrumented.py``): OpenTelemetry's and Micrometer's histograms whose ``_count``
counts the requests, Istio's, Envoy's and Linkerd's milliseconds, ingress-nginx's counter without
``_total``, FastAPI-instrumentator's ``5xx`` status classes, each with its documented default buckets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.prom import PromConfig, Prometheus
from analysis.prom_source import PromSource
from analysis.sli import Window
from loadgate.specs import load_spec_or_fail
from slo.evaluate import grade_source
from slo.record import objective_record
from tests.conftest import PRESET_JOBS
from tests.support import situations
from tests.support.instrumented import DIALECTS
from tests.support.situations import WINDOW

pytestmark = pytest.mark.prometheus

SPEC = Path(__file__).resolve().parent / "specs" / "seed-table.yaml"
JOBS = PRESET_JOBS
#: Measured from the request counts alone: identical to the twin's. (A latency's quantile estimate
#: depends on the bucket bounds; its grade rests on the share at or below the threshold, compared below.)
EXACT = ("error_rate", "throughput", "availability")


def grade(url: str, job: str, preset: str | None = None) -> dict[str, dict]:
    """The seed table graded over the situations' window from ``url`` for ``job`` (with ``preset``):
    each objective's verdict as ``verdict.json`` stores it. Graded in process (the CLI's own path is
    tested below): this matrix is 45 gates."""
    spec = load_spec_or_fail(str(SPEC), preset=preset)
    prom = Prometheus(PromConfig(url))
    try:
        graded = grade_source(spec, PromSource(prom, spec.metrics, spec.service_selector(f'job="{job}"'),
                                               Window(situations.START, situations.END)))
    finally:
        prom.close()
    return {v.objective.id: objective_record(v).to_json() for v in graded.verdicts}


@pytest.fixture(scope="module")
def twins(prometheus: str) -> dict[str, dict[str, dict]]:
    return {job: grade(prometheus, job) for job in JOBS}


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize("preset", sorted(DIALECTS))
def test_a_preset_grades_its_instrumentations_series_like_the_loadgate_twin(twins, preset_prometheus, preset, job):
    twin, mine = twins[job], grade(preset_prometheus, f"{preset}-{job}", preset)
    for oid in EXACT:
        assert mine[oid]["status"] == twin[oid]["status"], (oid, mine[oid]["reason"], twin[oid]["reason"])
        assert mine[oid]["measured"] == pytest.approx(twin[oid]["measured"], rel=1e-9), oid
    assert mine["p50_latency"]["status"] == twin["p50_latency"]["status"], mine["p50_latency"]["reason"]
    assert mine["p50_latency"]["detail"]["fraction_at_or_below"] == pytest.approx(
        twin["p50_latency"]["detail"]["fraction_at_or_below"], rel=1e-9)
    # No instrumentation here counts cache hits: said, with the preset named, never a bare "no series".
    cache = mine["cache_hit_rate"]
    assert cache["status"] == "no_data" and f"the {preset} metrics have no cache counters" in cache["reason"]
    p99 = mine["p99_latency"]
    if preset == "traefik" and job != "p50_breach":
        # Traefik's default buckets (0.1, 0.3, 1.2, 5) have no bound at 0.5 s: p99 < 500 ms is graded
        # only when the quantile is clear of the (0.3, 1.2] bucket (p50_breach's p99 lies in (0.1, 0.3]),
        # and said otherwise.
        assert p99["status"] == "inconclusive" and p99["problem"] == "missing_bucket", p99["reason"]
        assert "0.5" in p99["reason"] or "500 ms" in p99["reason"], p99["reason"]
    else:
        assert p99["status"] == twin["p99_latency"]["status"], (p99["reason"], twin["p99_latency"]["reason"])
    if preset != "traefik":  # with no bound at 0.5 s there is no share at or below it to compare
        assert p99["detail"]["fraction_at_or_below"] == pytest.approx(
            twin["p99_latency"]["detail"]["fraction_at_or_below"], rel=1e-9)


def test_a_millisecond_histogram_is_queried_at_its_own_bound_and_charted_in_seconds(cli, preset_prometheus, tmp_path):
    out = tmp_path / "istio"
    result = cli("gate", "--prometheus", preset_prometheus, "--start", WINDOW[0], "--end", WINDOW[1], "--spec",
                 str(SPEC), "--preset", "istio", "--selector", 'job="istio-healthy"', "--out", str(out))
    assert result.code == 3, result.err  # every objective passes, but no cache counters: no data is never a pass
    p99 = {o["id"]: o for o in json.loads((out / "verdict.json").read_text())["objectives"]}["p99_latency"]
    assert p99["status"] == "pass" and p99["unit"] == "s"
    assert 0.25 < p99["measured"] <= 0.5  # the quantile in seconds, though the buckets are milliseconds
    assert any('reporter="destination"' in q for q in p99["queries"])  # Istio reports each request twice
    assert any("istio_request_duration_milliseconds_bucket" in q for q in p99["queries"])
    assert "P99 latency" in result.out and "no cache counters" in result.out


def test_a_preset_applies_to_loadgate_specs_only(cli, tmp_path):
    openslo = Path(__file__).resolve().parent / "openslo" / "user-api.yaml"
    result = cli("gate", "--prometheus", "http://127.0.0.1:9", "--last", "5m", "--spec", str(openslo), "--preset",
                 "istio", "--out", str(tmp_path / "gate"))
    assert result.code == 2 and "--preset: " in result.err and "queries are its own" in result.err
    assert not (tmp_path / "gate").exists()
