"""``loadgate demo --api-processes N``: the demo API as several processes behind Debian's nginx.

nginx hashes on ``X-API-Key``, so each key's rate limit is held by exactly one process (over-limit
keys still see their 429s), and the local Prometheus scrapes each process as its own instance, so
the gate merges several instances' series. The run is the shared healthy fleet (conftest.py).
"""

from __future__ import annotations

import pytest
import requests

from loadgate.promserver import PrometheusServer

pytestmark = pytest.mark.e2e


def test_two_api_processes_behind_nginx_pass_the_demo_each_scraped_as_an_instance(healthy_fleet):
    proc, doc, run, out = healthy_fleet.proc, healthy_fleet.doc, healthy_fleet.run, healthy_fleet.out
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "2 processes behind nginx" in proc.stderr
    assert run["demo_api"]["processes"] == 2
    tiers = {row["tier"]: row for row in doc["breakdown"]["tiers"]}
    # Each key reaches one process: over-limit keys are refused past their limit, in-limit keys never.
    assert sum(row["rate_limited"] for name, row in tiers.items() if name.endswith("_over_limit")) > 0
    assert all(row["failure"] == 0 for row in tiers.values())
    # The run's Prometheus data: the service is two instances, both answering.
    with PrometheusServer(out / "prometheus") as prom:
        end = run["window"]["end_unix"]
        answer = requests.get(f"{prom.url}/api/v1/query", params={
            "query": 'count by (job) (sum by (instance) (increase(http_requests_total{job="service"}[30s])) > 0)',
            "time": end}, timeout=10).json()
    assert answer["data"]["result"][0]["value"][1] == "2"
