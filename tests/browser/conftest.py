"""Fixtures for the real-browser tests: headless Chromium and a folder for what they leave behind.

The tests need Chromium, its driver and a rendered course, so they run only under
`make test-browser`, which sets COURSE_BROWSER_TESTS=1. Everywhere else (`make test` collects the
whole tests/ folder) they are left out of collection.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from course_utils.config import env_flag

if not env_flag("COURSE_BROWSER_TESTS"):
    collect_ignore_glob = ["test_*.py"]

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium and chromium-driver (`make chromium`)
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1400,1000",
]

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Remember a failure in any phase, so that the browser fixture can take a screenshot of it.
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where screenshots and the JupyterLab log go: next to the built course when there is one,
    so that a human can look at them after `make test-browser`."""
    build = os.environ.get("COURSE_BUILD_DIR")
    if not build:
        return tmp_path_factory.mktemp("browser-test")
    folder = Path(build).resolve() / "browser-test"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser(request, tmp_path, artifacts):
    """Headless Chromium with a fresh profile; a screenshot is saved if the test fails."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            pytest.fail(f"{path} is missing: install Debian's chromium and chromium-driver "
                        "(`make chromium`)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    # An explicit driver path keeps Selenium Manager from trying to download one (no network).
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        if request.node.stash.get(_FAILED, False):
            shot = artifacts / f"FAILED-{request.node.name}.png"
            if driver.save_screenshot(str(shot)):
                print(f"screenshot of the failure: {shot}")
        driver.quit()
