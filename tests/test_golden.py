"""Golden files pin the contracts users build on: ``verdict.json`` and the spec errors.

Volatile fields (the tool's version, the Prometheus URL's port, the spec's absolute path) are
masked; everything else must match byte for byte once parsed. After an intended change,
regenerate with ``LOADGATE_UPDATE_GOLDEN=1 make test`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
BAD_SPECS = sorted((GOLDEN / "specs" / "bad").glob("*.yaml"))
MASK = "<masked>"
#: (path into the document) -> masked, because it differs between machines or versions.
VOLATILE = (("tool", "version"), ("spec", "path"), ("source_info", "prometheus"))


def mask(doc: dict[str, Any], paths: tuple[tuple[str, ...], ...] = VOLATILE) -> dict[str, Any]:
    """A copy of ``doc`` with each volatile path that exists replaced by ``<masked>``."""
    out = json.loads(json.dumps(doc))
    for path in paths:
        node = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            node[path[-1]] = MASK
    return out


def check_golden(name: str, actual: Any) -> None:
    """Compare with ``tests/golden/<name>``, or write it when ``LOADGATE_UPDATE_GOLDEN`` is set."""
    path = GOLDEN / name
    text = actual if isinstance(actual, str) else json.dumps(actual, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("LOADGATE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if isinstance(actual, str):
        assert text == expected
    else:
        assert json.loads(text) == json.loads(expected)


@pytest.mark.parametrize("spec", BAD_SPECS, ids=[p.stem for p in BAD_SPECS])
def test_validate_reports_each_bad_spec_exactly_as_its_golden_file_says(cli, spec):
    result = cli("validate", str(spec))
    assert result.code == 2
    assert result.out == ""
    check_golden(f"specs/bad/{spec.stem}.txt", result.err.replace(str(spec), "<spec>"))


@pytest.mark.prometheus
def test_a_gate_writes_the_golden_verdict_json(cli, prometheus, tmp_path):
    """The production table over a 2-minute brownout: failures, bad slices, burn rates, evidence."""
    out = tmp_path / "gate-brownout"
    result = cli("gate", "--prometheus", prometheus, "--start", "2026-01-01T00:15:00Z",
                 "--end", "2026-01-01T00:45:00Z", "--selector", 'job="brownout"', "--out", str(out),
                 "--spec", str(REPO / "slo/targets/production.yaml"), clock=lambda: 1767229200.0)
    assert result.code == 1, result.err
    doc = json.loads((out / "verdict.json").read_text())
    series = {p.name: json.loads(p.read_text()) for p in sorted((out / "series").glob("*.json"))}
    check_golden("gate-verdict.json", {"verdict.json": mask(doc), "series": series})


#: The load test behind ``golden/run/``: a recorded 16 s demo run (ramp to 40 req/s, 4 s ramp-up,
#: 20 % over-limit keys, 1 % injected 503s, 2 % of requests slowed by 450 ms), graded from the
#: load generator's series with the local spec.
RUN_FACTS = {"host": "http://127.0.0.1:8000", "git_sha": "0" * 40, "versions": {"python": "3.11", "locust": "2.47"},
             "command": ["loadgate", "demo", "--duration", "16", "--rampup", "4", "--rate", "40"]}


def replay_run(out: Path) -> None:
    """Grade the recorded client series as ``loadgate run`` does after Locust exits, into ``out``."""
    import math

    from analysis.breakdown import breakdown, spectrum
    from analysis.client_source import ClientSource
    from loadgate.run import steady_window
    from loadgate.run_children import read_series
    from loadgate.run_facts import RunFacts, run_record
    from loadgate.run_observe import locust_totals
    from loadgate.run_plan import RunPlan
    from reports.publish import publish
    from slo.evaluate import grade_source
    from slo.record import build_record
    from slo.spec import load_spec

    # Named as a user in the repository root would: the path is shown in summary.md, unmasked.
    spec = load_spec((REPO / "slo/targets/local.yaml").read_bytes(), "slo/targets/local.yaml")
    plan = RunPlan(host=RUN_FACTS["host"], spec=spec, out_dir=out, rate=40, duration=16, rampup=4, seed=7,
                   over_limit=0.2, command=RUN_FACTS["command"], extra={"demo_api": {"error_fraction": 0.01}})
    series = read_series(GOLDEN / "run" / "client_series.jsonl")
    window = steady_window(series, plan.rampup, plan.duration)
    chart_start = float(math.floor(series.started))
    client = grade_source(spec, ClientSource(series, window, chart_start=chart_start))
    facts = RunFacts(locust_exit_code=0, locust_totals=locust_totals(GOLDEN / "run" / "locust.json"),
                     loadgen_cpu_over_90=False, server_counter_at_end=None, exporter_responses=None,
                     git_sha=RUN_FACTS["git_sha"], versions=RUN_FACTS["versions"])
    record = build_record(spec, client, window, client=client, selector="", generated_at=1795924100.0,
                          tool_version="0.1.0", run_id=out.name, chart_start=chart_start,
                          options={"fail_on_warn": False, "require_evidence": False, "fail_on_regression": False},
                          run=run_record(plan, series, window, facts, source=client.source, prometheus=None),
                          breakdown={**breakdown(series, window), "spectrum": spectrum(series, window)})
    publish(out, record)


def test_a_run_graded_from_the_load_generators_series_writes_the_golden_record(tmp_path):
    out = tmp_path / "run-golden"
    replay_run(out)
    doc = json.loads((out / "verdict.json").read_text())
    assert doc["verdict"] == "fail" and doc["exit_code"] == 1
    series = {p.name: json.loads(p.read_text()) for p in sorted((out / "series").glob("*.json"))}
    check_golden("run/verdict.json", {"verdict.json": mask(doc), "series": series})
    check_golden("run/summary.md", (out / "summary.md").read_text())


def test_validate_prints_the_openslo_test_documents_as_its_golden_file_says(cli):
    docs = [REPO / "tests" / "openslo" / name for name in ("user-api.yaml", "quantile.yaml")]
    result = cli("validate", *map(str, docs))
    assert result.code == 0, result.err
    check_golden("specs/openslo-valid.txt", result.out.replace(str(REPO) + "/", ""))
