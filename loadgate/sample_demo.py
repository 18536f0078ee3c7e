"""``make demo`` (for now): the release gate on a real Prometheus, with known data.

It backfills two situations from ``loadgate.situations`` into a Prometheus it starts on
127.0.0.1 (a healthy service, and the same service with a two-minute brownout of 503s), grades
each with ``loadgate gate`` against ``slo/targets/production.yaml``, and prints the tables and
report paths. The load-test demo (``loadgate demo``: the demo API, Locust and a live
Prometheus) replaces this when the traffic issue lands.

Exit 0 when the healthy window passes and the brownout fails, as they should.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from loadgate import situations
from loadgate.cli import Env, main
from loadgate.procs import ProcessError
from loadgate.promserver import PrometheusServer, backfill
from loadgate.synthetic import openmetrics

__all__ = ["run_demo"]


def run_demo(base: Path = Path("runs")) -> int:
    """Run the offline gate demo under ``base``; returns the process exit code."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    root = base / f"{stamp}-sample-demo"
    root.mkdir(parents=True, exist_ok=True)
    jobs = [j for j in situations.JOBS if j.name in ("healthy", "brownout")]
    data = root / "situations.om"
    data.write_text(openmetrics(jobs, situations.T0, situations.DURATION_S))
    try:
        backfill(data, root / "prometheus-data")
        server = PrometheusServer(root / "prometheus-data").start()
    except ProcessError as exc:
        print(f"loadgate demo: {exc}", file=sys.stderr)
        return 2
    codes = {}
    try:
        for job in ("healthy", "brownout"):
            print(f"\n== loadgate gate over {situations.WINDOW[0]} .. {situations.WINDOW[1]}, job={job!r}",
                  file=sys.stderr)
            out = root / f"gate-{job}"
            codes[job] = main(["gate", "--prometheus", server.url, "--start", situations.WINDOW[0],
                               "--end", situations.WINDOW[1], "--selector", f'job="{job}"', "--out", str(out)],
                              Env())
            print(f"   exit code {codes[job]}; report: {out / 'report.html'}", file=sys.stderr)
    finally:
        server.stop()
        shutil.rmtree(root / "prometheus-data", ignore_errors=True)
    expected = codes == {"healthy": 0, "brownout": 1}
    print("\nloadgate demo: " + ("the healthy window passed and the brownout failed, as expected."
                                 if expected else f"unexpected exit codes {codes}"), file=sys.stderr)
    return 0 if expected else 1


if __name__ == "__main__":
    sys.exit(run_demo())
