"""A local Prometheus server on 127.0.0.1, and backfilling data into it with promtool.

Debian's ``prometheus`` package provides both binaries. The server is started with an
explicit config, storage path, listen address and a long retention (retention counts from the
newest block, so backfilled history would otherwise be deleted at once).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from loadgate import procs

__all__ = ["INSTALL_HINT", "binaries", "backfill", "PrometheusServer"]

INSTALL_HINT = ("install Debian's prometheus package (it provides /usr/bin/prometheus and /usr/bin/promtool): "
                "sudo apt-get install -y prometheus")


def binaries() -> tuple[str, str] | None:
    """Paths of ``prometheus`` and ``promtool``, or None when either is missing."""
    server, tool = shutil.which("prometheus"), shutil.which("promtool")
    return (server, tool) if server and tool else None


def backfill(openmetrics_file: Path, blocks_dir: Path) -> None:
    """Turn an OpenMetrics file into TSDB blocks in ``blocks_dir`` with promtool."""
    found = binaries()
    if found is None:
        raise procs.ProcessError(f"promtool not found; {INSTALL_HINT}")
    blocks_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([found[1], "tsdb", "create-blocks-from", "openmetrics", str(openmetrics_file),
                             str(blocks_dir)], capture_output=True, text=True)
    if result.returncode != 0:
        raise procs.ProcessError(f"promtool failed on {openmetrics_file}: {result.stderr.strip()[-500:]}")


class PrometheusServer:
    """``with PrometheusServer(storage, config_text) as prom: prom.url`` runs one on 127.0.0.1."""

    def __init__(self, storage: Path, config_text: str = "global:\n  scrape_interval: 15s\n",
                 port: int | None = None, retention: str = "100y"):
        self.storage = storage
        self.config_text = config_text
        self.port = port
        self.retention = retention
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.storage.parent / f"{self.storage.name}-prometheus.log"

    def start(self) -> "PrometheusServer":
        found = binaries()
        if found is None:
            raise procs.ProcessError(f"prometheus not found; {INSTALL_HINT}")
        self.storage.mkdir(parents=True, exist_ok=True)
        config = self.storage.parent / f"{self.storage.name}-prometheus.yml"
        config.write_text(self.config_text)
        self.port = self.port or procs.free_port()
        self.proc = procs.start([found[0], f"--config.file={config}", f"--storage.tsdb.path={self.storage}",
                                 f"--web.listen-address=127.0.0.1:{self.port}",
                                 f"--storage.tsdb.retention.time={self.retention}", "--log.level=warn"],
                                self.log_path)
        try:
            procs.wait_http(f"{self.url}/-/ready", self.proc, self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc)
            self.proc = None

    def __enter__(self) -> "PrometheusServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
