"""The graded table as the CLI prints it: whole Metric and Status at every width, in a log too."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from analysis.sli import SLIData, Window, histogram_from_buckets
from reports.publish import publish
from slo.evaluate import Graded
from slo.grade import grade
from slo.spec import load_spec

START, END = 1767226500.0, 1767228300.0
SPEC = b"""version: loadgate/v1
name: wide
objectives:
  - {id: p99_latency, title: P99 latency of every endpoint, kind: latency, percentile: 99, threshold: "< 500ms",
     warn: "< 400ms"}
  - {id: error_rate, title: Error rate (5xx), kind: error_rate, threshold: "< 0.1%"}
  - {id: throughput, title: Throughput, kind: throughput, threshold: ">= 10000/s"}
"""
#: A title as long as a route's, and an objective the source could not grade.
LONG_SPEC = b"""version: loadgate/v1
name: long
objectives:
  - {id: p99_users, title: "P99 latency of GET /api/v1/users/{id} (cached)", kind: latency, percentile: 99,
     threshold: "< 500ms", warn: "< 400ms"}
  - {id: cache_hit_rate, title: Cache hit rate, kind: cache_hit_rate, threshold: "> 80%"}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A stored record whose rows carry long Measured texts and the load generator's own figures."""
    spec = load_spec(SPEC, "wide.yaml")
    h = histogram_from_buckets([("0.1", 9000), ("0.4", 9880), ("0.5", 9950), ("+Inf", 10000)])
    data = {"p99_latency": SLIData(value=h.quantile(0.99), events=h.count, bad=50, histogram=h,
                                   detail={"measured_from_actual_sends": 0.041}),
            "error_rate": SLIData(value=0.004, events=10000, bad=40),
            "throughput": SLIData(value=9512.0, events=570720)}
    graded = Graded("prometheus", tuple(grade(o, data[o.id]) for o in spec.objectives), data)
    client = Graded("locust", graded.verdicts, data)
    from slo.record import build_record

    directory = tmp_path_factory.mktemp("wide")
    publish(directory, build_record(spec, graded, Window(START, END), selector="", generated_at=END,
                                    tool_version="0", options={}, run_id="wide", client=client))
    return directory


@pytest.fixture(scope="module")
def long_dir(tmp_path_factory):
    """A stored record with a 46-character title and an INCONCLUSIVE objective, compared with itself."""
    from analysis.sli import NEEDS_PROMETHEUS, Problem
    from slo.grade import Verdict
    from slo.record import build_record

    spec = load_spec(LONG_SPEC, "long.yaml")
    h = histogram_from_buckets([("0.1", 9000), ("0.4", 9880), ("0.5", 9950), ("+Inf", 10000)])
    data = {"p99_users": SLIData(value=h.quantile(0.99), events=h.count, bad=50, histogram=h),
            "cache_hit_rate": SLIData(problem=Problem(NEEDS_PROMETHEUS, "the cache is read from Prometheus"))}
    p99, cache = spec.objectives
    graded = Graded("prometheus", (grade(p99, data["p99_users"]),
                                   Verdict(cache, "inconclusive", None, "the cache is read from Prometheus",
                                           problem=NEEDS_PROMETHEUS)), data)
    base, directory = tmp_path_factory.mktemp("base"), tmp_path_factory.mktemp("long")
    for where in (base, directory):
        publish(where, build_record(spec, graded, Window(START, END), selector="", generated_at=END,
                                    tool_version="0", options={}, run_id=where.name))
    return directory, base


def table_lines(out: str) -> list[str]:
    """The table's own lines: from the header to the line before the first one not in it."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Metric"))
    end = next(i for i, line in enumerate(lines) if line.startswith(("✘", "✔", "⚠", "?", "∅")) and i > start + 1)
    return lines[start:end]


@pytest.mark.parametrize("columns", ["80", "100", "160", None], ids=["80", "100", "160", "ci-log"])
def test_metric_and_status_are_never_cut_at_any_width_or_in_a_log(cli, run_dir, columns):
    result = cli("report", str(run_dir), environ={"COLUMNS": columns} if columns else {})
    assert result.code == 0, result.err
    width = int(columns or 100)
    lines = table_lines(result.out)
    assert all(cell_len(line) <= width for line in result.out.splitlines()), result.out
    assert lines[0].split()[:3] == ["Metric", "Target", "Measured"] and "Status" in lines[0]
    for title, status in (("P99 latency of every endpoint", "⚠ WARN"), ("Error rate (5xx)", "✘ FAIL"),
                          ("Throughput", "✘ FAIL")):
        row = next(line for line in lines if line.startswith(title))
        assert status in row, (title, result.out)
    # The client side's figures are there, in a column or on the lines below the table.
    assert "as sent ≈ 41 ms" in " ".join(result.out.split())
    assert not any(line.endswith(" ") for line in result.out.splitlines())


def test_a_narrow_screen_moves_the_client_side_below_the_table_and_a_wide_one_keeps_it_inline(cli, run_dir):
    narrow = cli("report", str(run_dir), environ={"COLUMNS": "80"}).out
    wide = cli("report", str(run_dir), environ={"COLUMNS": "160"}).out
    assert "Client side" not in table_lines(narrow)[0]
    assert "p99_latency: client side: ≈" in " ".join(narrow.split())
    assert "Client side" in table_lines(wide)[0]


@pytest.mark.parametrize("columns", ["80", "100", "160", None], ids=["80", "100", "160", "ci-log"])
def test_a_long_title_wraps_whole_words_and_status_stays_whole_beside_a_baseline_column(cli, long_dir, columns):
    directory, base = long_dir
    result = cli("report", str(directory), "--baseline", str(base), environ={"COLUMNS": columns} if columns else {})
    assert result.code == 0, result.err
    width = int(columns or 100)
    assert all(cell_len(line) <= width for line in result.out.splitlines()), result.out
    lines = table_lines(result.out)
    assert lines[0].split()[:3] == ["Metric", "Target", "Measured"] and "Status" in lines[0]
    text = " ".join(" ".join(lines).split())
    for word in "P99 latency of GET /api/v1/users/{id} (cached)".split():
        assert word in text.split(), (word, result.out)  # wrapped at a space, never cut inside a word
    assert any("? INCONCLUSIVE" in line for line in lines) and any("⚠ WARN" in line for line in lines)
    for word in "< 500 ms (warn 400 ms)".split():
        assert word in text.split(), (word, result.out)  # the target whole, on one line or two
    assert "vs baseline" in result.out.lower()


def test_the_layout_fits_every_width_and_never_wraps_status():
    from loadgate.table import _GAP, layout

    cells = {"Metric": ["P99 latency of GET /api/v1/users/{id} (cached)", "Error rate"],
             "Target": ["< 500 ms (warn 400 ms)", "< 0.1 %"], "Measured": ["≈ 452 ms in (400 ms, 500 ms]" * 2, "1 %"],
             "Status": ["? INCONCLUSIVE", "✘ FAIL"], "Client side": ["≈ 41 ms ✔", "1 % ✘"]}
    for width in range(30, 220):
        plan = layout(cells, width)
        if plan.stacked:
            assert width < 60, width  # blocks only on a screen too narrow for any table
            continue
        assert sum(plan.widths.values()) + _GAP * (len(plan.widths) - 1) <= width, (width, plan)
        assert plan.widths["Status"] == len("? INCONCLUSIVE") and plan.widths["Measured"] >= 16
        assert plan.widths["Metric"] >= 10 and plan.widths["Target"] >= 10
        assert ("Client side" in plan.widths) != ("Client side" in plan.below)


def test_a_screen_too_narrow_for_columns_prints_each_objective_as_a_block(cli, long_dir):
    directory, _ = long_dir
    result = cli("report", str(directory), environ={"COLUMNS": "40"})
    assert result.code == 0 and "Metric" not in result.out.splitlines()[0]
    assert "P99 latency of GET /api/v1/users/{id} (cached) ⚠ WARN" in " ".join(result.out.split())
    assert all(cell_len(line) <= 40 for line in result.out.splitlines()), result.out
