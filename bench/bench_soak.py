"""Benchmark: a soak. Holds the demo at a steady rate and watches every process for leaks.

Runs ``loadgate demo --duration M×60 --rate R`` (the demo API, a local Prometheus and Locust, all
on 127.0.0.1). Once a minute it samples, for each process of the run (loadgate itself, each
Locust process, the demo API and Prometheus), its resident memory (``VmRSS``) and its open file
descriptors, from /proc, and the size of the client-series file. At the end it re-renders the
report with ``loadgate report`` and times it.

It prints one row a minute and, per process, the growth of memory and descriptors over the last
two thirds of the run (after warm-up); the goal is under 5 %, and the report under 5 s.

    .venv/bin/python bench/bench_soak.py [--minutes 30] [--rate 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = (("locust", " -m locust "), ("demo_api", " -m demo_api "), ("prometheus", "prometheus --config"))


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _children() -> dict[int, int]:
    """Every process's parent, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _read(entry / "stat")
            if stat:
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def processes(root: int) -> dict[str, int]:
    """The run's processes by name: ``loadgate``, ``locust``, ``locust-worker-N``, ``demo_api``, ``prometheus``."""
    parents = _children()
    found, frontier = {root}, {root}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    named = {"loadgate": root}
    workers = 0
    for pid in sorted(found - {root}):
        cmd = " " + (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") \
            if (Path("/proc") / str(pid)).exists() else ""
        for name, marker in KINDS:
            if marker in cmd:
                if name == "locust" and "locust" in named:
                    workers += 1
                    name = f"locust-worker-{workers}"
                named.setdefault(name, pid)
    return named


def sample(pid: int) -> tuple[float, int]:
    """(resident MiB, open descriptors) of ``pid``; (nan, 0) once it is gone."""
    rss = next((int(line.split()[1]) / 1024 for line in _read(Path(f"/proc/{pid}/status")).splitlines()
                if line.startswith("VmRSS:")), float("nan"))
    try:
        fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    except OSError:
        fds = 0
    return rss, fds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="loadgate-soak-")) / "run"
    argv = [sys.executable, "-m", "loadgate", "demo", "--duration", str(args.minutes * 60), "--rampup", "30",
            "--rate", str(args.rate), "--processes", str(args.processes), "--out", str(out)]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    rows: list[tuple[int, dict[str, tuple[float, int]], int]] = []
    began = time.monotonic()
    names: dict[str, int] = {}
    try:
        minute = 0
        while proc.poll() is None and minute < args.minutes:
            time.sleep(max(0.0, began + (minute + 1) * 60 - time.monotonic()))
            minute += 1
            names.update(processes(proc.pid))
            series = out / "client_series.jsonl"
            rows.append((minute, {name: sample(pid) for name, pid in names.items()},
                         series.stat().st_size if series.exists() else 0))
            line = "  ".join(f"{name} {rss:6.1f} MiB {fds:3d} fd" for name, (rss, fds) in rows[-1][1].items())
            print(f"min {minute:3d}  {line}  series {rows[-1][2] / 2**20:7.2f} MiB", flush=True)
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.terminate()
    print(f"\nloadgate demo exited {code} after {(time.monotonic() - began) / 60:.1f} min")
    start = rows[len(rows) // 3] if rows else None
    if start and len(rows) > 3:
        print(f"growth from minute {start[0]} to minute {rows[-1][0]} (goal under 5 %):")
        for name in names:
            (rss0, fd0), (rss1, fd1) = start[1].get(name, (0, 0)), rows[-1][1].get(name, (0, 0))
            if rss0 and rss0 == rss0 and rss1 == rss1:
                print(f"  {name:<18} memory {rss0:7.1f} -> {rss1:7.1f} MiB ({(rss1 - rss0) / rss0:+.1%}), "
                      f"descriptors {fd0} -> {fd1}")
        print(f"  client series file {start[2] / 2**20:.2f} -> {rows[-1][2] / 2**20:.2f} MiB "
              f"({(rows[-1][2] - start[2]) / max(1, rows[-1][0] - start[0]) / 1024:.0f} KiB a minute)")
    t0 = time.monotonic()
    report = subprocess.run([sys.executable, "-m", "loadgate", "report", str(out)], cwd=REPO, capture_output=True,
                            text=True)
    print(f"loadgate report: exit {report.returncode} in {time.monotonic() - t0:.2f} s (goal under 5 s); "
          f"report.html {(out / 'report.html').stat().st_size / 2**20:.2f} MiB")
    print(f"run directory: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
