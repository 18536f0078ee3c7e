"""The HTML report as a reader meets it: loaded in headless Chromium (Debian's), offline.

For every report (gate reports made here, and the end-to-end runs' reports when those tests ran
first): no console error, no request beyond the file itself, the banner and every objective's row
readable, no sideways scrolling on a 390 px phone, and screenshots at 1280 and 390 px saved under
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import E2E_RUNS, REPO
from tests.support.situations import WINDOW

pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "test-artifacts" / "screenshots"


def check_report(browser, report: Path, name: str) -> dict:
    """Load one report at both widths; returns what was seen."""
    doc = json.loads((report.parent / "verdict.json").read_text())
    url = report.resolve().as_uri()
    seen: dict = {}
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        console, requests, dialogs = [], [], []
        page.on("console", lambda m, seen=console: seen.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e, seen=console: seen.append(f"pageerror: {e}"))
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
        page.goto(url)
        assert console == [], (name, width, console)
        assert requests == [url], (name, width, requests)  # nothing fetched beyond the file itself
        assert dialogs == [], (name, dialogs)
        banner = page.locator("header.banner").inner_text()
        assert {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}[doc["verdict"]] in banner
        rows = page.locator("table#graded tbody tr")
        assert rows.count() == len(doc["objectives"])
        for i, entry in enumerate(doc["objectives"]):
            row = rows.nth(i)
            assert row.is_visible()
            assert entry["title"] in row.inner_text()
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))
        seen[width] = banner
        page.close()
    return seen


@pytest.mark.prometheus
@pytest.mark.parametrize("job", ["healthy", "brownout", "no_cache_metrics"])
def test_gate_reports_read_cleanly_in_chromium_at_desktop_and_phone_widths(browser, cli, prometheus, tmp_path, job):
    out = tmp_path / job
    cli("gate", "--prometheus", prometheus, "--start", WINDOW[0], "--end", WINDOW[1], "--selector", f'job="{job}"',
        "--out", str(out))
    check_report(browser, out / "report.html", f"gate-{job}")


def test_a_hostile_report_shows_its_script_as_text_and_runs_nothing(browser, tmp_path):
    from tests.test_outputs import hostile_report

    report = hostile_report(tmp_path)
    check_report(browser, report, "hostile")
    page = browser.new_page()
    page.goto(report.resolve().as_uri())
    assert "<script>alert(1)</script>" in page.locator("body").inner_text()
    page.close()


def check_capacity_report(browser, report: Path, name: str) -> None:
    """A capacity search's report: the answer, the performance table, the chart and every step."""
    doc = json.loads((report.parent / "capacity.json").read_text())
    url = report.resolve().as_uri()
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        console, requests = [], []
        page.on("console", lambda m, seen=console: seen.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e, seen=console: seen.append(f"pageerror: {e}"))
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.goto(url)
        assert console == [] and requests == [url], (name, width, console, requests)
        assert "Capacity:" in page.locator(".banner").inner_text()
        tables = page.locator("table")
        assert tables.nth(0).locator("tbody tr").count() == len(doc["table"])
        assert tables.nth(1).locator("tbody tr").count() == len(doc["steps"])
        if any(s["objectives"] for s in doc["steps"]):
            assert page.locator("svg").first.is_visible()
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        page.close()


def _kind(out: Path) -> tuple:
    """What decides which parts a run's report shows: one report of each kind is read."""
    if (out / "capacity.json").exists():
        doc = json.loads((out / "capacity.json").read_text())
        return ("capacity", doc.get("limited_by"), doc.get("lower_bound"), doc.get("interrupted"))
    if not (out / "verdict.json").exists():
        return ("unrecorded", str(out))  # checked on its own (its report must still exist)
    doc = json.loads((out / "verdict.json").read_text())
    run = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    return ("run", doc.get("verdict"), doc.get("source"), bool(doc.get("alerts")), bool(doc.get("baseline")),
            bool(doc.get("interrupted")), (doc.get("validity") or {}).get("valid"), bool(run.get("aborted")),
            (run.get("workers") or 1) > 1, bool((doc.get("breakdown") or {}).get("tiers")))


def test_every_kind_of_end_to_end_run_report_reads_cleanly_in_chromium(browser):
    """The session's end-to-end runs (every worker's, as far as they have got), one of each kind
    (verdict, source, alerts, baseline, interruption, validity, abort, workers, tiers; capacity
    searches by outcome)."""
    runs = E2E_RUNS.everywhere()  # every worker's, under pytest-xdist
    if not runs:
        pytest.skip("no end-to-end run in this session (run the whole suite to include them)")
    seen: set[tuple] = set()
    for out in runs:
        if not out.exists() or (kind := _kind(out)) in seen:
            continue
        seen.add(kind)
        if kind[0] == "capacity":
            check_capacity_report(browser, out / "report.html", f"capacity-{out.parent.name}")
        else:
            check_report(browser, out / "report.html", f"run-{out.parent.name}")
