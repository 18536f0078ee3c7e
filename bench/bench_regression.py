"""Benchmark: the calibration of the regression test (slo/regression.py), and its speed.

Draws pairs of synthetic runs with the generators of ``tests/test_regression_stats.py`` (lognormal
latencies in the SLO buckets, Bernoulli 5xx) and prints, for p99 and for the error rate:

* the A/A false-alarm share (both runs from one distribution; should be <= alpha), and the share
  with a worse p-value under alpha alone (the significance test's own calibration);
* the same with four baseline runs whose medians or rates vary from run to run (dispersion applied);
* the detection share of a true change (every latency x1.2; the error rate x3), with the median
  ``detectable`` the module states for those runs;
* the time per comparison.

    .venv/bin/python bench/bench_regression.py [--pairs 1000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from slo.regression import DEFAULT_ALPHA  # noqa: E402
from tests.test_regression_stats import error_run, latency_run, verdicts  # noqa: E402

CASES = [
    # label, generator, requests per run, minimum effect, true factor, run-to-run noise
    ("p99", latency_run, 20_000, 0.10, 1.2, 0.1),
    ("error rate", error_run, 50_000, 0.50, 3.0, 0.3),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    args = parser.parse_args(argv)
    pairs = args.pairs
    limit = DEFAULT_ALPHA + 3 * math.sqrt(DEFAULT_ALPHA * (1 - DEFAULT_ALPHA) / pairs)
    print(f"{pairs} pairs per line, alpha {DEFAULT_ALPHA:g} (bound alpha + 3 SE = {limit:.3f})")
    for label, make, n, min_effect, factor, noise in CASES:
        started = time.perf_counter()
        aa = verdicts(make, pairs, 1, n, seed=11, min_effect=min_effect)
        noisy = verdicts(make, pairs, 4, n, seed=12, min_effect=min_effect, noise=noise)
        shifted = verdicts(make, pairs, 1, n, seed=13, min_effect=min_effect, factor=factor)
        per = (time.perf_counter() - started) / (3 * pairs)
        def regressed(found):  # noqa: E306
            return sum(c.verdict == "regressed" for c in found) / len(found)

        def worse_p(found):  # noqa: E306
            return sum(c.significant and (c.effect or 0) > 0 for c in found) / len(found)
        detectable = statistics.median(c.detectable for c in shifted if c.detectable is not None)
        print(f"{label:>10}: {n} requests per run, minimum effect {min_effect:.0%}")
        spread = statistics.median(c.dispersion for c in noisy)
        print(f"{'':>12}A/A false alarms, 1 baseline run:          {regressed(aa):.3f} "
              f"(p < alpha alone: {worse_p(aa):.3f})")
        print(f"{'':>12}A/A false alarms, 4 noisy baseline runs:   {regressed(noisy):.3f} "
              f"(p < alpha alone: {worse_p(noisy):.3f}; median dispersion {spread:.3g})")
        print(f"{'':>12}x{factor:g} detected as regressed:            {regressed(shifted):.3f} "
              f"(median detectable {detectable:.1%})")
        print(f"{'':>12}time per comparison (drawing included): {per * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
