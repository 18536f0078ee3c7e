"""``history.html`` as a reader meets it, in headless Chromium (Debian's), offline, at 1280 and 390 px.

Built from the stored records of ``tests/test_history.py`` (no servers): the trend charts and the
status grid are visible, nothing is fetched beyond the file, no console error, and a 390 px phone
never scrolls sideways (the grid scrolls inside its box). Screenshots land in
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_history import write_capacity, write_run
from tests.test_report_browser import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def page_file(cli, tmp_path: Path) -> Path:
    """history.html over five runs (one slowed) and a capacity search, labelled by git sha."""
    root = tmp_path / "artifacts"
    for i, hour in enumerate(("09", "10", "11", "12")):
        write_run(root, f"run-{i + 1}", f"2026-11-30T{hour}:00:00Z", sha=f"{i + 1}" * 40)
    write_capacity(root, "capacity", "2026-11-30T12:30:00Z")
    write_run(root, "run-5", "2026-11-30T13:00:00Z", slow=True, sha="5" * 40)
    result = cli("history", str(root), "--label-from", "git_sha", "--out", str(tmp_path / "h"))
    assert result.code == 0, result.err
    return tmp_path / "h" / "history.html"


def test_history_html_shows_its_trends_and_grid_cleanly_at_desktop_and_phone_widths(browser, page_file):
    doc = json.loads((page_file.parent / "history.json").read_text())
    url = page_file.resolve().as_uri()
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        console, requests = [], []
        page.on("console", lambda m, seen=console: seen.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e, seen=console: seen.append(f"pageerror: {e}"))
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.goto(url)
        assert console == [], (width, console)
        assert requests == [url], (width, requests)  # nothing fetched beyond the file itself
        assert "regressed" in page.locator("header.banner").inner_text()
        grid = page.locator("table#grid")
        assert grid.is_visible()
        assert grid.locator("tbody tr").count() == len(doc["runs"])
        for oid in doc["objectives"]:
            chart = page.locator(f"#trend-{oid} svg")
            chart.scroll_into_view_if_needed()
            assert chart.is_visible(), (width, oid)
            assert chart.bounding_box()["width"] <= width
        assert page.locator("#trend-capacity svg").is_visible()
        assert page.locator("table#changes tbody tr").count() == len(doc["regressions"])
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"history-{width}.png"), full_page=True)
        page.close()
