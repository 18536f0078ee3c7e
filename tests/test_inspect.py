"""``loadgate inspect`` on a real Prometheus: the preset found, the starter spec written, and that spec graded.

The Prometheus is ``preset_prometheus`` (conftest.py): the situations as each instrumentation writes
them, one instrumentation no preset knows (``shop``), and a node exporter's unrelated series.
"""

from __future__ import annotations

import json

import pytest

from analysis.inventory import Inventory, assess
from tests.support import situations
from tests.support.instrumented import DIALECTS
from tests.support.situations import WINDOW

pytestmark = pytest.mark.prometheus


def inspect(cli, url: str, job: str, *more: str):
    return cli("inspect", "--prometheus", url, "--selector", f'job="{job}"', *more, clock=lambda: situations.END)


def gate(cli, url: str, spec, out):
    result = cli("gate", "--prometheus", url, "--start", WINDOW[0], "--end", WINDOW[1], "--spec", str(spec),
                 "--out", str(out))
    return result, {o["id"]: o for o in json.loads((out / "verdict.json").read_text())["objectives"]}


@pytest.mark.parametrize("preset", sorted(DIALECTS))
def test_inspect_finds_the_preset_and_its_starter_spec_validates_and_grades(cli, preset_prometheus, tmp_path, preset):
    starter = tmp_path / "starter.yaml"
    found = inspect(cli, preset_prometheus, f"{preset}-healthy", "--out", str(starter))
    assert found.code == 0, found.err
    assert f"Fits: preset {preset} " in found.out
    m = DIALECTS[preset].metrics
    assert f"  {m.duration}  unit {m.duration_unit}" in found.out  # the unit, from the name
    assert "cache_hit_rate: not graded: no cache hit and miss counters" in found.out
    exact = "exact: a bucket at 500 ms" if preset != "traefik" else "not exact: no bucket at 500 ms"
    assert f"p99_latency: {exact}" in found.out, found.out
    assert cli("validate", str(starter)).code == 0
    result, graded = gate(cli, preset_prometheus, starter, tmp_path / "gate")
    assert "cache_hit_rate" not in graded  # left out: nothing could grade it
    if preset == "traefik":  # no bucket at 0.5 s, and the healthy p99 lies in (0.3 s, 1.2 s]
        assert result.code == 3 and graded["p99_latency"]["status"] == "inconclusive", result.err
    else:
        assert result.code == 0, (result.out, result.err)
        assert all(o["status"] == "pass" for o in graded.values()), graded


def test_inspect_maps_an_instrumentation_no_preset_knows_from_the_shapes_of_its_series(cli, preset_prometheus,
                                                                                       tmp_path):
    starter = tmp_path / "starter.yaml"
    found = inspect(cli, preset_prometheus, "shop-error_breach", "--out", str(starter))
    assert found.code == 0, found.err
    assert "Fits: no preset: a mapping from the series' shapes" in found.out
    assert "shop_http_hits_total  status label http_code (codes: 200, 503)" in found.out
    assert "shop_request_latency_milliseconds  unit ms" in found.out
    text = starter.read_text()
    assert "shop_http_hits_total" in text and "duration_unit: ms" in text and "http_code" in text
    result, graded = gate(cli, preset_prometheus, starter, tmp_path / "gate")
    # The twin's known answer: 0.5 % 5xx fails the error rate; the latencies pass, graded exactly.
    assert result.code == 1, result.err
    assert graded["error_rate"]["status"] == "fail" and graded["error_rate"]["measured"] == pytest.approx(0.005)
    assert graded["p99_latency"]["status"] == "pass" and "fraction_at_or_below" in graded["p99_latency"]["detail"]


def test_inspect_on_unrelated_series_is_exit_3_and_says_what_it_found(cli, preset_prometheus, tmp_path):
    found = inspect(cli, preset_prometheus, "node", "--out", str(tmp_path / "starter.yaml"))
    assert found.code == 3, found.err
    assert "no HTTP request series found" in found.err and "node_cpu_seconds_total" in found.err
    assert "HTTP request counters:\n  none" in found.out and "up targets: 1" in found.out
    assert not (tmp_path / "starter.yaml").exists()


def test_inspect_usage_errors_exit_2_and_an_unreachable_prometheus_is_inconclusive(cli, unreachable_url, tmp_path):
    assert cli("inspect").code == 2
    assert cli("inspect", "--prometheus", unreachable_url, "--selector", 'job="a').code == 2
    result = cli("inspect", "--prometheus", unreachable_url)
    assert result.code == 3 and "cannot inspect" in result.err and "Traceback" not in result.err


def test_a_status_label_of_classes_and_a_counter_without_total_are_recognised():
    inv = Inventory(names=("nginx_ingress_controller_requests", "api_calls_total",
                           "nginx_ingress_controller_request_duration_seconds_bucket"),
                    labels={"nginx_ingress_controller_requests": ("status", "ingress"),
                            "api_calls_total": ("result",)},
                    values={("nginx_ingress_controller_requests", "status"): ("2xx", "5xx"),
                            ("nginx_ingress_controller_requests", "ingress"): ("web",),
                            ("api_calls_total", "result"): ("ok", "error")},
                    buckets={"nginx_ingress_controller_request_duration_seconds": ("0.1", "0.5", "+Inf")})
    found = assess(inv)
    assert [(c.name, c.status_label, c.status_form) for c in found.counters] == \
        [("nginx_ingress_controller_requests", "status", "classes")]  # "ok"/"error" are no status
    assert found.preset == "ingress-nginx"
