"""Benchmark: rendering the report of a 24 h soak (15 s step, 20 endpoints).

Builds a gate record as a 24 h soak would leave it: six objectives, each with a server and a
client series of 5,760 points (with spikes, so downsampling must keep them), and per-endpoint and
per-tier tables for 20 endpoints. Then it times ``reports.publish.render_outputs`` (charts,
HTML, Markdown, JUnit) three times and prints the median wall time and the report's size.
Goals from the issue: <= 5 s and <= 5 MB.

    .venv/bin/python bench/bench_report.py
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analysis.sli import Series, SLIData, Window, histogram_from_buckets  # noqa: E402
from reports.publish import publish, render_outputs  # noqa: E402
from slo.evaluate import Graded  # noqa: E402
from slo.grade import grade  # noqa: E402
from slo.record import build_record  # noqa: E402
from slo.spec import read_spec  # noqa: E402

START = 1767225600.0
DAY = 86400.0
STEP = 15.0


def series(base: float, noise: float, spikes: int, rng: random.Random) -> list[tuple[float, float]]:
    points = [(START + i * STEP, max(0.0, base + rng.gauss(0, noise))) for i in range(int(DAY / STEP) + 1)]
    for _ in range(spikes):
        at = rng.randrange(len(points))
        points[at] = (points[at][0], base * 8)
    return points


def build(directory: Path) -> None:
    rng = random.Random(1)
    spec = read_spec(REPO / "slo" / "targets" / "production.yaml")
    h = histogram_from_buckets([("0.1", 9.0e8), ("0.4", 9.9e8), ("0.5", 9.95e8), ("+Inf", 1.0e9)])
    data = {
        "p50_latency": SLIData(value=h.quantile(0.5), events=h.count, bad=1e8, histogram=h),
        "p99_latency": SLIData(value=h.quantile(0.99), events=h.count, bad=5e6, histogram=h),
        "error_rate": SLIData(value=0.0004, events=1e9, bad=4e5, worst_bad_ratio=0.002),
        "throughput": SLIData(value=11574.0, events=1e9, detail={"lowest_1m_rate": 9000.0, "minutes": 1440}),
        "cache_hit_rate": SLIData(value=0.9, events=7e8, bad=7e7, worst_bad_ratio=0.2),
        "availability": SLIData(value=1438 / 1440, events=1440, bad=2, worst_bad_ratio=0.4,
                                detail={"slice_seconds": 60, "slices": 1440, "good_slices": 1438,
                                        "resolution": 1 / 1440, "bad_slices": []}),
    }
    levels = {"p50_latency": (0.04, "s"), "p99_latency": (0.3, "s"), "error_rate": (0.0004, "ratio"),
              "throughput": (11574.0, "1/s"), "cache_hit_rate": (0.9, "ratio"), "availability": (1.0, "bool")}
    for oid, sli in data.items():
        level, unit = levels[oid]
        sli.series = [Series(name, unit, tuple(series(level, level * 0.05, 20, rng))) for name in ("server", "client")]
        if oid == "availability":
            sli.series = [Series("good slice", "bool", tuple((START + (i + 1) * 60, 0.0 if i in (300, 900) else 1.0)
                                                            for i in range(1440)))]
    graded = Graded("prometheus", tuple(grade(o, data[o.id]) for o in spec.objectives), data)
    breakdown = {
        "endpoints": [{"endpoint": f"/api/v1/resource{i}/{{id}}", "requests": 5e7, "ok": 5e7, "rate_limited": 0,
                       "failure": 10, "http_429": 0, "rate": 578.0, "p50": 0.04, "p99": 0.3} for i in range(20)],
        "tiers": []}
    publish(directory, build_record(spec, graded, Window(START, START + DAY), selector='job="api"',
                                    generated_at=START + DAY, tool_version="bench", options={},
                                    run_id=directory.name, breakdown=breakdown))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="loadgate-report-bench-"))
    try:
        build(work)
        walls = []
        for _ in range(3):
            began = time.perf_counter()
            render_outputs(work)
            walls.append(time.perf_counter() - began)
        size = (work / "report.html").stat().st_size
        points = sum(1 for _ in (work / "series").iterdir()) * 2 * (int(DAY / STEP) + 1)
        print(f"24 h soak report: 6 objectives, ~{points:,} series points, 20 endpoints")
        print(f"render wall (median of 3): {statistics.median(walls):.2f} s "
              f"(min {min(walls):.2f}, max {max(walls):.2f}); "
              f"goal <= 5 s")
        print(f"report.html: {size / 1e6:.2f} MB; goal <= 5 MB")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
