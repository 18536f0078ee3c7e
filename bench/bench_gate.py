"""Benchmark: `loadgate gate` over 1 h, 6 h and 24 h windows of backfilled data.

24 h of a service with 3 instances x 3 endpoints scraped every 15 s (about 1.1 M samples) is
backfilled into a real Prometheus on 127.0.0.1. The gate then grades all six objectives of
slo/targets/production.yaml, with their chart series, over each window, as a real process.
Runs alternate between windows (1h, 6h, 24h, 1h, ...) so machine noise hits all alike.

It prints wall time and peak memory (the gate process's max RSS) per window, the median of the
runs, and each window's cost relative to the 1 h one beside the ratio of window lengths.
Goals from the issue: the 24 h gate in <= 5 s wall and <= 400 MB peak; cost at most linear.

    .venv/bin/python bench/bench_gate.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from loadgate.promserver import PrometheusServer, backfill  # noqa: E402
from tests.support.situations import HEALTHY_LATENCY  # noqa: E402
from tests.support.synthetic import Job, Profile, openmetrics  # noqa: E402

T0 = 1767225600  # 2026-01-01T00:00:00Z
DAY = 24 * 3600
WINDOWS = {"1h": 3600, "6h": 6 * 3600, "24h": DAY}


def run_gate(url: str, seconds: int, out: Path) -> tuple[float, float, int]:
    """Run one gate as a child process; returns (wall seconds, peak RSS MiB, exit code)."""
    end = T0 + DAY
    argv = [sys.executable, "-m", "loadgate", "gate", "--prometheus", url, "--start", str(end - seconds),
            "--end", str(end), "--selector", 'job="bench"', "--out", str(out)]
    began = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.read().decode() if proc.stderr else "")
    return wall, usage.ru_maxrss / 1024.0, proc.returncode


def generate(path: Path) -> None:
    """Write 24 h (and a minute) of the benchmark service's series to ``path``."""
    profile = Profile(rate=4000, latency=HEALTHY_LATENCY, error_ratio=0.0001, hit_ratio=0.9)
    job = Job("bench", lambda instance, offset: profile, instances=("a:8000", "b:8000", "c:8000"),
              endpoints=(("GET", "/api/users/{id}", 0.6), ("GET", "/api/items", 0.3), ("POST", "/api/batch", 0.1)))
    path.write_text(openmetrics([job], T0, DAY + 60))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per window (default 3)")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate)
        return 0

    work = Path(tempfile.mkdtemp(prefix="loadgate-bench-"))
    try:
        began = time.perf_counter()
        data = work / "bench.om"
        # In a child process: the gate's peak RSS is read from wait4, and a child started by a
        # large parent would report the parent's peak instead of its own.
        subprocess.run([sys.executable, __file__, "--generate", str(data)], check=True)
        samples = sum(1 for line in data.open() if not line.startswith("#"))
        generated = time.perf_counter() - began
        began = time.perf_counter()
        backfill(data, work / "prom")
        backfilled = time.perf_counter() - began
        print(f"data: 24 h, 3 instances x 3 endpoints, 15 s scrape: {samples:,} samples "
              f"(generated in {generated:.1f} s, backfilled by promtool in {backfilled:.1f} s)")

        results: dict[str, list[tuple[float, float]]] = {name: [] for name in WINDOWS}
        with PrometheusServer(work / "prom") as server:
            run_gate(server.url, 3600, work / "warmup")  # first touch of the blocks
            for i in range(args.runs):
                for name, seconds in WINDOWS.items():
                    wall, rss, code = run_gate(server.url, seconds, work / f"out-{name}-{i}")
                    if code not in (0, 1):
                        print(f"gate over {name} exited {code}", file=sys.stderr)
                        return 1
                    results[name].append((wall, rss))

        base = statistics.median(w for w, _ in results["1h"])
        print(f"\n{'window':>6} {'wall s (median)':>16} {'min..max':>14} {'peak RSS MiB':>13} "
              f"{'cost vs 1h':>11} {'window vs 1h':>13}")
        for name, seconds in WINDOWS.items():
            walls = [w for w, _ in results[name]]
            rss = max(r for _, r in results[name])
            med = statistics.median(walls)
            print(f"{name:>6} {med:>16.2f} {min(walls):>6.2f}..{max(walls):<6.2f} {rss:>13.0f} "
                  f"{med / base:>10.2f}x {seconds / 3600:>12.0f}x")
        day_wall = statistics.median(w for w, _ in results["24h"])
        day_rss = max(r for _, r in results["24h"])
        print(f"\n24 h gate: {day_wall:.2f} s wall (goal <= 5 s), {day_rss:.0f} MiB peak (goal <= 400 MB); "
              f"cost grows {'sub-linearly' if day_wall / base < 24 else 'super-linearly'} with the window")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
