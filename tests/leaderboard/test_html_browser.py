"""The HTML leaderboard in a real browser (headless Chromium driven by selenium): it sorts by a clicked column and
back, keeps missing values last, loads nothing, runs no injected script, shows its figure, and its screenshot shows
the table. Skips without chromium, chromedriver or selenium, unless BRAINBENCH_REQUIRE_BROWSER is set (CI: fails).

BRAINBENCH_SCREENSHOT_DIR, when set, also receives the screenshot (html-leaderboard.png), to be looked at.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from board_page_records import HOSTILE_MODEL, board_records

from brainbench.leaderboard.html import ranking_figure, render_board, write_board
from brainbench.leaderboard.ranking import latest_of, rank

WINDOW = (1300, 1000)  # CSS pixels: the table's first rows fit on the first screen
#: Chromium must not reach for the network on its own (updates, sync, safe browsing): the test machines have none.
QUIET_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-default-apps", "--disable-extensions")


def _missing_part() -> str | None:
    """Why no browser can be driven here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if _chromium() is None:
        return "no chromium on PATH (apt-get install chromium, or run .ci/browser-setup)"
    if shutil.which("chromedriver") is None:
        return "no chromedriver on PATH (apt-get install chromium-driver, or run .ci/browser-setup)"
    return None


def _chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium with a fresh profile, driven by selenium; quit after the module's tests."""
    missing = _missing_part()
    if missing is not None:
        if os.environ.get("BRAINBENCH_REQUIRE_BROWSER"):  # CI installs the browser: its tests must run, not skip
            pytest.fail(f"BRAINBENCH_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="brainbench-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = _chromium() or ""
        for flag in (*QUIET_FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def board_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = board_records()
    latest = latest_of(records)
    ranking = rank(latest, records)
    return write_board(ranking, latest, tmp_path_factory.mktemp("page") / "board.html",
                       figures=[ranking_figure(ranking)], benchmarks=True, source="/tmp/board.sqlite")


def labels_in_order(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#ranking-table tbody tr')).map(r => r.cells[1].textContent)")


def click_header(driver: Any, name: str) -> str | None:
    """Click the ranking's column header ``name``; return its aria-sort afterwards."""
    from selenium.webdriver.common.by import By

    header = next(th for th in driver.find_elements(By.CSS_SELECTOR, "#ranking-table thead th")
                  if th.text.replace("\n", "") == name)
    header.find_element(By.TAG_NAME, "button").click()
    return header.get_attribute("aria-sort")


def test_clicking_a_header_sorts_by_it_and_again_reverses(browser: Any, board_page: Path) -> None:
    browser.get(board_page.as_uri())
    ranked = ["resnet50", "alexnet", "vgg16", "tinycnn", HOSTILE_MODEL, "resnet50 (random-init)"]
    assert labels_in_order(browser) == ranked
    # V1 by hand from board_page_records.SCORES: tinycnn .70, resnet50 .62, alexnet = vgg16 .55 (a tie keeps the
    # ranking's order), random-init .15, the script-named model .12.
    assert click_header(browser, "V1") == "descending"  # a score's first click: best first
    assert labels_in_order(browser) == ["tinycnn", "resnet50", "alexnet", "vgg16", "resnet50 (random-init)",
                                        HOSTILE_MODEL]
    assert click_header(browser, "V1") == "ascending"
    assert labels_in_order(browser) == [HOSTILE_MODEL, "resnet50 (random-init)", "alexnet", "vgg16", "resnet50",
                                        "tinycnn"]
    # V2: resnet50 .41, alexnet = vgg16 .35; the other three have none and stay last, in the ranking's order, both ways.
    # V2: resnet50 .41, alexnet = vgg16 .35; the other three have none and stay last, in the ranking's order.
    no_v2 = ["tinycnn", HOSTILE_MODEL, "resnet50 (random-init)"]
    assert click_header(browser, "V2") == "descending"
    assert labels_in_order(browser) == ["resnet50", "alexnet", "vgg16", *no_v2]
    assert click_header(browser, "V2") == "ascending"
    assert labels_in_order(browser) == ["alexnet", "vgg16", "resnet50", *no_v2]
    # The rank column: first click back to the ranking's order, the second reverses it (the tie keeps its order).
    assert click_header(browser, "#") == "ascending"
    assert labels_in_order(browser) == ranked
    assert click_header(browser, "#") == "descending"
    assert labels_in_order(browser) == ["resnet50 (random-init)", HOSTILE_MODEL, "tinycnn", "alexnet", "vgg16",
                                        "resnet50"]
    # Text sorts alphabetically, A to Z first: for these labels (lower-case letters, digits, then '<' or ' ', which
    # both collations put first) the browser's collation and Python's code-point order agree.
    assert click_header(browser, "model") == "ascending"
    assert labels_in_order(browser) == sorted(ranked)
    assert click_header(browser, "model") == "descending"
    assert labels_in_order(browser) == sorted(ranked, reverse=True)
    sorted_headers = browser.execute_script(
        "return document.querySelectorAll('#ranking-table thead th[aria-sort]').length")
    assert sorted_headers == 1  # only the column sorted by says so


def test_the_page_loads_nothing_runs_no_injected_script_and_shows_the_table(
        browser: Any, board_page: Path, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    browser.get(board_page.as_uri())
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    with pytest.raises(NoAlertPresentException):  # the model named <script>alert(1)</script> ran nothing
        browser.switch_to.alert.text  # noqa: B018
    link = browser.find_element(By.CSS_SELECTOR, "#ranking-table a[href='#entry-5']")
    assert link.text == HOSTILE_MODEL
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors  # e.g. a policy violation: the page's own script blocked, or something fetched
    figure = browser.find_element(By.CSS_SELECTOR, "#figures img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", figure) > 100

    table = browser.find_element(By.ID, "ranking-table")
    assert table.is_displayed()
    top = table.rect["y"]
    height = browser.execute_script("return window.innerHeight")
    assert 0 <= top < height / 2  # the table starts on the first screen, under the title
    shot = tmp_path / "board.png"
    assert browser.save_screenshot(str(shot))
    from PIL import Image

    with Image.open(shot) as image:
        grey = image.convert("L")
        assert grey.size[0] >= WINDOW[0] * 0.9
        assert len(set(grey.tobytes())) > 16  # text, bars and rules, not a blank or single-colour page
    keep = os.environ.get("BRAINBENCH_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / "html-leaderboard.png")


def test_the_policy_blocks_a_request_the_page_would_otherwise_make(browser: Any, http_server: Any,
                                                                   tmp_path: Path) -> None:
    # A URL that reached the page (an image on a local server) is not fetched: the page's Content-Security-Policy
    # forbids it. Without that policy the same page does fetch it, so this test can see a request.
    records = board_records()
    latest = latest_of(records)
    page = render_board(rank(latest, records), latest)
    leak = f'<img src="{http_server.url("probe.png")}" alt="probe">'
    guarded = page.replace("</main>", leak + "</main>")
    assert guarded != page
    unguarded = "\n".join(line for line in guarded.splitlines() if "Content-Security-Policy" not in line)
    (tmp_path / "guarded.html").write_text(guarded, encoding="utf-8")
    (tmp_path / "unguarded.html").write_text(unguarded, encoding="utf-8")

    browser.get((tmp_path / "guarded.html").as_uri())  # returns once the page has loaded, images included
    assert http_server.requests == []  # (Chromium lists the blocked image among its resource entries all the same)
    browser.get((tmp_path / "unguarded.html").as_uri())
    assert http_server.requests == ["/probe.png"]
