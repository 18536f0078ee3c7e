"""What a run left, read after it: Locust's totals and log, the local Prometheus's final counters,
the tool versions and the git sha. The I/O half of the run's facts (``run_facts`` builds
``run.json`` from them, purely).
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path
from typing import Any

import contract
from analysis.prom import PromConfig, PromError, Prometheus
from loadgate.run_facts import RunFacts
from loadgate.run_plan import LOCUSTFILE
from reports.write import read_json

__all__ = ["locust_totals", "gather_facts"]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("loadgate", "locust", "prometheus-api-client", "starlette", "uvicorn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    try:
        text = subprocess.run(["prometheus", "--version"], capture_output=True, text=True, timeout=5).stdout
        out["prometheus"] = text.split()[2] if text.startswith("prometheus, version") else text.strip()[:40]
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    return out


def _git_sha() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=LOCUSTFILE.parent)
        return result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def locust_totals(json_file: Path) -> dict[str, Any]:
    """Requests and failures from Locust's own ``--json-file`` (not the stale CSV)."""
    try:
        entries = read_json(json_file)
    except (OSError, ValueError):
        return {}
    return {"requests": sum(e.get("num_requests", 0) for e in entries),
            "failures": sum(e.get("num_failures", 0) for e in entries),
            "endpoints": {e["name"]: {"requests": e.get("num_requests", 0), "failures": e.get("num_failures", 0)}
                          for e in entries if "name" in e}}


def _prom_sum(url: str, query: str, at: float) -> float | None:
    """One number from the local Prometheus after the last scrape (None when it has none)."""
    prom = Prometheus(PromConfig(url))
    try:
        samples = prom.instant(query, at)
        return samples[0][1] if samples else None
    except PromError:
        return None
    finally:
        prom.close()


def gather_facts(out: Path, locust_code: int | None, local_prom: str | None, server_query: str,
                 now: float) -> RunFacts:
    """Locust's totals and log, and, with a local Prometheus, the service's and the exporter's totals."""
    log_path = out / "locust.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    server_total = exporter = None
    if local_prom:
        # The demo API's counter counts every request it answered, since it starts with the test.
        server_total = _prom_sum(local_prom, server_query, now)
        # last_over_time: once Locust has exited, its series are stale and an instant query is empty.
        exporter = _prom_sum(local_prom, f'sum(last_over_time({contract.CLIENT_RESPONSES_FAMILY}_total'
                                         f'{{job="{contract.CLIENT_JOB}"}}[10m]))', now)
    return RunFacts(
        locust_exit_code=locust_code, locust_totals=locust_totals(out / "locust.json"),
        # Locust logs this when a load-generator process passes 90 % CPU.
        loadgen_cpu_over_90=("CPU usage above" in log or "CPU usage threshold was exceeded" in log
                             or "CPU usage was too high" in log),
        server_counter_at_end=server_total, exporter_responses=exporter, git_sha=_git_sha(), versions=_versions())
