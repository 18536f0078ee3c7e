"""Benchmark: 10,000 req/s of the default mix on this machine, through ``loadgate run --processes 2``.

The nginx stub of ``bench_loadgen.py`` (the scenario's canned answers) serves on 127.0.0.1;
``loadgate run`` drives it with the default mix at ``--rate`` (10,000 req/s) for ``--seconds``
graded seconds (60, after a ``--rampup`` of 10 s) with ``--processes`` Locust workers (2), graded
from the client side only (no Prometheus) against the production table with its throughput target
at 90 % of the rate, as ``bench_scale.py`` does. Nothing is pinned: the workers, the master,
loadgate and nginx share the machine's cores, as a user's run would.

It prints the achieved rate, the late (over 100 ms) and dropped shares, each process's CPU over
the graded window (sampled once a second from ``/proc`` with psutil: mean and the share of
seconds over 90 %), the run's validity checks and the verdict; then whether the run was valid:
achieved >= 98 % of the rate, late under 1 %, no generator CPU check failing. The stub's batch
answer always holds 100 results, so about 10 % of requests fail their checks by design (every
batch that sent fewer operations): the verdict's error objectives fail on that, never the validity.

    .venv/bin/python bench/bench_10k.py [--rate 10000] [--seconds 60] [--processes 2] [--users N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_loadgen import nginx_config, stub_workdir  # noqa: E402
from bench_scale import step_spec  # noqa: E402

from analysis.client_series import parse_series  # noqa: E402
from loadgate import procs  # noqa: E402

#: A valid 10K run: the share of the rate achieved, and the most requests over 100 ms late (or dropped).
ACHIEVED_GOAL, LATE_GOAL = 0.98, 0.01


class CpuSampler:
    """Once a second, the CPU seconds (user + system) of the process tree under ``root`` and of
    extra processes; ``over(t0, t1)`` gives each one's mean CPU percent and its per-second readings."""

    def __init__(self, roots: list[psutil.Process]) -> None:
        self.roots = roots
        self.samples: list[tuple[float, dict[int, tuple[str, float]]]] = []
        #: Each process's label and parent, as first seen (they are gone when the run is read).
        self.seen: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now, seen = time.time(), {}
            for root in self.roots:
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.NoSuchProcess:
                    continue
                for proc in tree:
                    try:
                        times = proc.cpu_times()
                        if proc.pid not in self.seen:
                            self.seen[proc.pid] = (_label(proc), proc.ppid())
                        seen[proc.pid] = (self.seen[proc.pid][0], times.user + times.system)
                    except psutil.Error:
                        pass
            self.samples.append((now, seen))
            self._stop.wait(1.0)

    def over(self, t0: float, t1: float) -> dict[int, tuple[str, float, list[float]]]:
        """Per pid: its label, its mean CPU percent over [t0, t1], and its per-second percents."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        out: dict[int, tuple[str, float, list[float]]] = {}
        if len(inside) < 2:
            return out
        for pid, (label, _) in inside[-1][1].items():
            points = [(t, seen[pid][1]) for t, seen in inside if pid in seen]
            if len(points) < 2:
                continue
            per_s = [100 * (c1 - c0) / (u1 - u0) for (u0, c0), (u1, c1) in zip(points, points[1:]) if u1 > u0]
            mean = 100 * (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])
            out[pid] = (label, mean, per_s)
        return out


def _label(proc: psutil.Process) -> str:
    cmd = proc.cmdline()
    text = " ".join(cmd)
    if "nginx" in text:
        return "nginx"
    if "locust" in text:
        return "locust (master or worker)"
    if "loadgate" in text:
        return "loadgate"
    return proc.name()


def locust_roles(pids: dict[int, tuple[str, float, list[float]]], seen: dict[int, tuple[str, int]]) -> dict[int, str]:
    """Name the Locust processes: one whose parent is a Locust process is a worker, the other the master."""
    roles = {}
    for pid, (label, _, _) in pids.items():
        if label.startswith("locust"):
            parent = seen.get(pid, ("", 0))[1]
            label = "locust worker" if seen.get(parent, ("",))[0].startswith("locust") else "locust master"
        roles[pid] = label
    return roles


def run(args: argparse.Namespace, work: Path) -> int:
    port = procs.free_port()
    (work / "nginx.conf").write_text(nginx_config(work, port))
    nginx = procs.start(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)], work / "nginx.out")
    out = work / "run"
    duration = args.seconds + args.rampup
    argv = [sys.executable, "-m", "loadgate", "run", "--host", f"http://127.0.0.1:{port}", "--rate", f"{args.rate:g}",
            "--duration", str(duration), "--rampup", str(args.rampup), "--processes", str(args.processes),
            "--spec", str(step_spec(args.rate, work)), "--out", str(out)]
    if args.users:
        argv += ["--users", str(args.users)]
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/ok", nginx, work / "nginx.out")
        print(f"loadgate run at {args.rate:,.0f} req/s for {duration} s ({args.rampup} s ramp-up), "
              f"--processes {args.processes}{f' --users {args.users}' if args.users else ''}, "
              f"nginx stub on 127.0.0.1:{port}, {os.cpu_count()} cores, nothing pinned", flush=True)
        with (work / "loadgate.log").open("w") as log:
            child = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
            sampler = CpuSampler([psutil.Process(child.pid), psutil.Process(nginx.pid)])
            sampler.start()
            try:
                code = child.wait(timeout=duration + 300)
            finally:
                sampler.stop()
    finally:
        procs.stop(nginx)
    if not (out / "verdict.json").exists():
        print(f"loadgate exited {code} with no verdict; its output:\n{(work / 'loadgate.log').read_text()[-3000:]}")
        return 1
    verdict = json.loads((out / "verdict.json").read_text())
    window = verdict["window"]
    t0, t1 = window["start_unix"], window["end_unix"]
    series = parse_series((out / "client_series.jsonl").read_text().splitlines())
    counts = series.counts(t0, t1)
    intended = counts.scheduled + counts.dropped
    checks = {c["id"]: c for c in verdict["validity"]["checks"]}
    achieved = checks["achieved_rate"]["measured"] or 0.0
    late = (counts.very_late + counts.dropped) / intended if intended else 0.0
    dropped = counts.dropped / intended if intended else 0.0
    print(f"\nexit {code}; graded window {window['seconds']:.0f} s; {counts.total / window['seconds']:,.0f} req/s "
          f"answered, {counts.scheduled / window['seconds']:,.0f} req/s sent")
    print(f"achieved: {achieved:.1%} of {args.rate:,.0f} req/s (goal >= {ACHIEVED_GOAL:.0%})")
    print(f"late over 100 ms: {late:.2%} (goal < {LATE_GOAL:.0%}), of which dropped unsent {dropped:.2%}; "
          f"late over 10 ms {counts.late / max(1.0, counts.scheduled):.2%}")
    cpu = sampler.over(t0, t1)
    roles = locust_roles(cpu, sampler.seen)
    print("\nCPU over the graded window (percent of one core; seconds over 90 %):")
    total = 0.0
    for pid, (_, mean, per_s) in sorted(cpu.items(), key=lambda kv: -kv[1][1]):
        if mean < 0.5:
            continue
        total += mean
        over = sum(1 for p in per_s if p > 90) / max(1, len(per_s))
        print(f"  {roles[pid]:<16} pid {pid:<8} {mean:6.1f} %   over 90 %: {over:4.0%}")
    print(f"  {'all of them':<16} {'':<12} {total:6.1f} % of {100 * (os.cpu_count() or 1)} %")
    print("\nvalidity checks:")
    for check in verdict["validity"]["checks"]:
        print(f"  {check['id']:<15} {check['status']:<8} {check['reason']}")
    print(f"\nverdict: {verdict['verdict']} (exit {verdict['exit_code']}): {verdict.get('reason') or ''}")
    for objective in verdict["objectives"]:
        print(f"  {objective['id']:<16} {objective['status']:<13} {objective.get('reason') or ''}")
    cpu_ok = checks["generator_cpu"]["status"] == "ok"
    valid = achieved >= ACHIEVED_GOAL and late < LATE_GOAL and cpu_ok
    print(f"\n10K on {os.cpu_count()} cores valid: {'yes' if valid else 'no'} (achieved {achieved:.1%}, late "
          f"{late:.2%}, generator CPU check {checks['generator_cpu']['status']})"
          + (f"; run directory: {out}" if args.keep else ""))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--seconds", type=int, default=60, help="graded seconds, after the ramp-up")
    parser.add_argument("--rampup", type=int, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--users", type=int, default=0, help="the concurrency (default: loadgate's)")
    parser.add_argument("--keep", action="store_true", help="keep the run directory")
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        print("needs Debian's nginx (apt-get install nginx)", file=sys.stderr)
        return 2
    work = stub_workdir("loadgate-10k-")
    try:
        return run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
