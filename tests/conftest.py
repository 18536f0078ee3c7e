"""Shared fixtures: a real Prometheus with backfilled situations, and an in-process CLI runner.

Without Debian's ``prometheus`` package the Prometheus tests are skipped with the install
command, except under CI (``CI`` set), where a missing Prometheus fails the run.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from loadgate.cli import Env, main
from loadgate.promserver import INSTALL_HINT, PrometheusServer, backfill, binaries
from tests.support import situations
from tests.support.ping import PingService
from tests.support.require import missing
from tests.support.schemas import check_tree
from tests.support.synthetic import openmetrics

REPO = Path(__file__).resolve().parent.parent


class _Runs(list[Path]):
    """The run directories this session's end-to-end tests produced. Under pytest-xdist each
    worker also appends them to a file all the run's workers share (``everywhere()`` reads it),
    so that the browser test loads the reports of every worker, not only of its own."""

    @staticmethod
    def _shared(uid: str | None = None) -> Path | None:
        uid = uid or os.environ.get("PYTEST_XDIST_TESTRUNUID")
        return Path(tempfile.gettempdir()) / f"loadgate-e2e-runs-{uid}.txt" if uid else None

    def append(self, out: Path) -> None:
        super().append(out)
        if (shared := self._shared()) is not None:
            with shared.open("a") as handle:
                handle.write(f"{out}\n")

    def everywhere(self) -> list[Path]:
        shared = self._shared()
        found = shared.read_text().splitlines() if shared is not None and shared.exists() else []
        return list(dict.fromkeys([*self, *map(Path, found)]))


#: Run directories the end-to-end tests produced; the browser tests load their reports too.
E2E_RUNS = _Runs()


def pytest_configure(config: pytest.Config) -> None:
    # The controller of a pytest-xdist run names the run, so that it can remove the shared file.
    if os.environ.get("PYTEST_XDIST_WORKER") is None and getattr(config.option, "numprocesses", None) \
            and getattr(config.option, "testrunuid", None) is None:
        config.option.testrunuid = uuid.uuid4().hex


def pytest_sessionfinish(session: pytest.Session) -> None:
    uid = getattr(session.config.option, "testrunuid", None)
    if os.environ.get("PYTEST_XDIST_WORKER") is None and (shared := _Runs._shared(uid)) is not None:
        shared.unlink(missing_ok=True)  # the controller, once every worker is done


#: ``make test`` runs the suite on two pytest-xdist workers, each test file on one worker (so that
#: its module fixtures start once); the files named here share a session fixture, and so a worker.
SHARED_GROUPS = {
    "test_e2e_demo.py": "recorded-demos", "test_e2e_history.py": "recorded-demos",
    "test_report_browser.py": "chromium", "test_history_browser.py": "chromium",
    "test_inspect.py": "preset-prometheus", "test_presets_prometheus.py": "preset-prometheus",
}
#: Fixtures whose runs measure the machine's spare capacity: their tests are marked ``solo`` and
#: ``make test`` runs them after the others, alone. The healthy fleet (two worker processes, two
#: API processes behind nginx, Prometheus) asserts that no check warns, and beside another load
#: test its client-side p99 read 4.9-11.8x the server's.
SOLO_FIXTURES = {"healthy_fleet"}


def _group(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return SHARED_GROUPS.get(Path(module).name, module)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The workers take the groups in collection order, which mixes end-to-end files with unit ones.
    # Tried: the long groups first; the parallel half took 756 s against 687 s (two load tests at
    # once contend more than one beside unit tests), so the order stays as collected.
    for item in items:
        if SOLO_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.solo)


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: pytest -p no:xdist still runs
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A test file's tests go to one worker, and so do the files of one ``SHARED_GROUPS`` entry
    (xdist's own ``--dist loadgroup`` does not group under pytest 9 here)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ByFile(config, log)


@dataclass
class CliResult:
    """What one in-process ``loadgate`` call returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run ``loadgate ARGS`` in-process with captured output; ``clock``/``environ`` may be passed."""

    def run(*argv: str, clock: Callable[[], float] | None = None, environ: dict[str, str] | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        env = Env(stdout=out, stderr=err, environ=environ if environ is not None else {})
        if clock is not None:
            env.clock = clock
        code = main(list(argv), env)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def _require_prometheus() -> None:
    if binaries() is None:
        missing(f"Prometheus is not installed; {INSTALL_HINT}")


@pytest.fixture(scope="session")
def situation_blocks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TSDB blocks of every situation in ``tests/support/situations.py``, made once per session."""
    _require_prometheus()
    root = tmp_path_factory.mktemp("backfill")
    data = root / "situations.om"
    data.write_text(openmetrics(situations.JOBS, situations.T0, situations.DURATION_S))
    blocks = root / "blocks"
    backfill(data, blocks)
    return blocks


@pytest.fixture(scope="session")
def prometheus(situation_blocks: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Prometheus on 127.0.0.1 serving the backfilled situations."""
    storage = tmp_path_factory.mktemp("prom") / "data"
    shutil.copytree(situation_blocks, storage)
    with PrometheusServer(storage) as server:
        yield server.url


@dataclass(frozen=True)
class DemoRun:
    """One ``loadgate demo`` that several tests grade: its process, output directory and records."""

    proc: "subprocess.CompletedProcess[str]"
    out: Path
    doc: dict[str, Any]
    run: dict[str, Any]


#: The healthy fleet: every part of the demo at once, healthy. Two Locust worker processes, two
#: demo API processes behind nginx, over-limit keys, and the spec's burn-rate alerts expected silent.
FLEET_ARGS = ("--processes", "2", "--api-processes", "2", "--over-limit", "0.2", "--alert-rules",
              "--expect-alerts", "none", "--ids", "1-200", "--duration", "30", "--rampup", "10")


@pytest.fixture(scope="session")
def healthy_fleet(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``loadgate demo`` with ``FLEET_ARGS``, run once for the tests of each of its parts."""
    _require_prometheus()
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        from loadgate.frontend import NGINX_HINT

        missing(f"nginx is not installed; {NGINX_HINT}")
    out = tmp_path_factory.mktemp("fleet") / "demo"
    proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--out", str(out), *FLEET_ARGS], cwd=REPO,
                          capture_output=True, text=True, timeout=240)
    assert (out / "verdict.json").is_file(), proc.stderr[-3000:]
    E2E_RUNS.append(out)
    return DemoRun(proc, out, json.loads((out / "verdict.json").read_text()),
                   json.loads((out / "run.json").read_text()))


#: Three short demos in time order, the last with 5 % of requests slowed by 800 ms: the release
#: history of ``tests/test_e2e_history.py``, whose slowed run ``tests/test_e2e_demo.py`` grades too.
RECORDED = {"healthy-1": (), "healthy-2": (), "slow": ("--slow-fraction", "0.05", "--slow-ms", "800")}


@pytest.fixture(scope="session")
def recorded_demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """The ``RECORDED`` demos (14 s, 7 s of it ramp-up), run once, in that order, into one folder."""
    _require_prometheus()
    root = tmp_path_factory.mktemp("history-runs")
    runs = {}
    for name, args in RECORDED.items():
        out = root / name
        proc = subprocess.run([sys.executable, "-m", "loadgate", "demo", "--duration", "14", "--rampup", "7",
                               "--out", str(out), *args], cwd=REPO, capture_output=True, text=True, timeout=150)
        assert (out / "verdict.json").is_file(), proc.stderr[-3000:]
        E2E_RUNS.append(out)
        runs[name] = DemoRun(proc, out, json.loads((out / "verdict.json").read_text()),
                             json.loads((out / "run.json").read_text()))
    return runs


#: The situations written again by every instrumentation (``tests/support/instrumented.py``).
PRESET_JOBS = ("healthy", "p50_breach", "p99_breach", "error_breach", "brownout")


@pytest.fixture(scope="session")
def preset_prometheus(situation_blocks: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus serving the situations as each instrumentation writes them (job
    ``<preset>-<situation>``, and ``shop-<situation>`` for one no preset knows), beside a node
    exporter's unrelated series (job ``node``)."""
    from tests.support.instrumented import DIALECTS, SHOP, openmetrics_as, unrelated_openmetrics

    root = tmp_path_factory.mktemp("presets")
    storage = root / "data"
    storage.mkdir()
    jobs = [j for j in situations.JOBS if j.name in PRESET_JOBS]
    texts = {name: openmetrics_as(d, jobs, situations.T0, situations.DURATION_S, job_prefix=f"{name}-")
             for name, d in {**DIALECTS, "shop": SHOP}.items()}
    texts["node"] = unrelated_openmetrics(situations.T0, situations.DURATION_S)
    for name, text in texts.items():
        (root / f"{name}.om").write_text(text)
        backfill(root / f"{name}.om", root / name)
        for block in (root / name).iterdir():
            shutil.copytree(block, storage / block.name)
    with PrometheusServer(storage) as server:
        yield server.url


@pytest.fixture
def ping_service() -> Iterator[PingService]:
    """A small HTTP service on 127.0.0.1 (``GET /ping``), stopped after the test."""
    with PingService() as service:
        yield service


@pytest.fixture
def unreachable_url() -> str:
    """A 127.0.0.1 URL where nothing listens."""
    from loadgate.procs import free_port

    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(autouse=True)
def _stored_records_match_their_schemas(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every end-to-end or Prometheus test, each verdict.json, run.json and capacity.json it
    wrote under its ``tmp_path`` must fit its JSON Schema (``schemas/``)."""
    checked = {"e2e", "prometheus"} & set(request.keywords) and "tmp_path" in request.fixturenames
    root = request.getfixturevalue("tmp_path") if checked else None
    yield
    if root is not None:
        found = check_tree(root)
        assert not found, "outputs that do not fit their schema:\n" + "\n".join(found[:20])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright, offline, for the browser tests."""
    chromium = shutil.which("chromium")
    if chromium is None:
        missing("Chromium is not installed; sudo apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"])
        yield instance
        instance.close()
