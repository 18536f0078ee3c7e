"""Benchmark: the demo at rising rates up to 10,000 req/s, graded against the production table.

Each step runs ``loadgate demo`` (the demo API behind nginx, Locust with worker processes, a
local Prometheus) at one rate, with ``--api-processes`` and ``--processes`` sized to this
machine's cores, and grades it against ``slo/targets/production.yaml`` with the throughput
target scaled to the step (90 % of its rate, as ``local.yaml`` does for the demo) and 10 s
availability slices. It prints, per step: the verdict, whether the run was valid (and which
checks failed), the rate achieved, the busiest generator process's CPU, and the p99s; then where
the climb stopped and why. On a small machine the top steps must come out invalid (the
generator is the limit), never a pass or a failure of the service.

    .venv/bin/python bench/bench_scale.py [--rates 500,1000,2000,4000,7000,10000] [--duration 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent


def step_spec(rate: float, directory: Path) -> Path:
    """The production table with throughput at 90 % of ``rate`` and 10 s availability slices."""
    spec = yaml.safe_load((REPO / "slo" / "targets" / "production.yaml").read_text())
    spec["name"] = f"production at {rate:g} req/s"
    for objective in spec["objectives"]:
        if objective["kind"] == "throughput":
            objective["threshold"] = f">= {rate * 0.9:g}/s"
        if objective["kind"] == "availability":
            objective["slice"] = "10s"
    path = directory / f"production-{rate:g}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def run_step(rate: float, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out = work / f"step-{rate:g}"
    argv = [sys.executable, "-m", "loadgate", "demo", "--rate", f"{rate:g}", "--duration", str(args.duration),
            "--rampup", str(args.rampup), "--spec", str(step_spec(rate, work)), "--api-processes",
            str(args.api_processes), "--processes", str(args.processes), "--out", str(out)]
    began = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=args.duration + 300)
    row: dict[str, Any] = {"rate": rate, "exit": proc.returncode, "wall_s": time.monotonic() - began}
    if not (out / "verdict.json").exists():
        row["error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no verdict"
        return row
    doc = json.loads((out / "verdict.json").read_text())
    run = json.loads((out / "run.json").read_text())
    checks = {c["id"]: c for c in doc["validity"]["checks"]}
    objectives = {o["id"]: o for o in doc["objectives"]}
    row.update(verdict=doc["verdict"], valid=doc["validity"]["valid"],
               invalid=[c for c, v in checks.items() if v["status"] == "invalid"],
               achieved=checks["achieved_rate"]["measured"], cpu_share=checks["generator_cpu"]["measured"],
               late=checks["late_requests"]["measured"],
               p99_server=objectives["p99_latency"]["measured"],
               p99_client=(run.get("client_latency") or {}).get("corrected", {}).get("p99"),
               failed=[o for o, v in objectives.items() if v["status"] == "fail"], out=str(out))
    return row


def main() -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="500,1000,2000,4000,7000,10000")
    parser.add_argument("--duration", type=int, default=40)
    parser.add_argument("--rampup", type=int, default=10)
    parser.add_argument("--api-processes", type=int, default=max(1, cores // 2))
    parser.add_argument("--processes", type=int, default=max(1, cores - max(1, cores // 2) - (1 if cores > 2 else 0)))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loadgate-scale-"))
    print(f"{cores} cores: demo API x{args.api_processes}{' behind nginx' if args.api_processes > 1 else ''}, "
          f"Locust x{args.processes} processes, {args.duration}s a step ({args.rampup}s ramp-up)", flush=True)
    print(f"{'rate':>7} {'exit':>4} {'verdict':<13} {'valid':<5} {'achieved':>8} {'cpu>90%':>7} {'late':>6} "
          f"{'p99 server':>10} {'p99 client':>10}  invalid checks / failed objectives", flush=True)
    rows = []
    for rate in (float(r) for r in args.rates.split(",")):
        row = run_step(rate, args, work)
        rows.append(row)
        if "error" in row:
            print(f"{rate:>7g} {row['exit']:>4} {row['error']}", flush=True)
            continue

        def ms(v: float | None) -> str:
            return "n/a" if v is None else f"{v * 1000:.1f} ms"

        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.0%}"

        print(f"{rate:>7g} {row['exit']:>4} {row['verdict']:<13} {str(row['valid']):<5} {pct(row['achieved']):>8} "
              f"{pct(row['cpu_share']):>7} {pct(row['late']):>6} {ms(row['p99_server']):>10} "
              f"{ms(row['p99_client']):>10}  {', '.join(row['invalid']) or '-'} / {', '.join(row['failed']) or '-'}",
              flush=True)
    passed = [r["rate"] for r in rows if r.get("verdict") == "pass" and r.get("valid")]
    first_bad = next((r for r in rows if not (r.get("verdict") == "pass" and r.get("valid"))), None)
    print(f"\nhighest valid pass: {max(passed):g} req/s" if passed else "\nno step passed")
    if first_bad is not None:
        why = ("invalid: " + ", ".join(first_bad.get("invalid", []))) if not first_bad.get("valid", True) else \
            ("failed: " + ", ".join(first_bad.get("failed", []))) if first_bad.get("failed") else \
            first_bad.get("error", first_bad.get("verdict", "?"))
        print(f"stopped at {first_bad['rate']:g} req/s ({why})")
    print(f"run directories: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
