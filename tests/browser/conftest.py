"""Headless Chromium (Debian's) driven by Playwright, against real Kirb server processes.

One Chromium for the browser tests; a fresh browser context (so a fresh fingerprint,
and its own client IP through X-Forwarded-For) per person. The servers run in
production mode, so they serve the static files tests/conftest.py's ``server_env``
collects before any of them starts.
"""

import os
from pathlib import Path

import pytest

from tests.browser.pages import (
    BROWSER_SKIP_REASON,
    CHROMIUM_PATH,
    PLAYWRIGHT_AVAILABLE,
    Person,
)
from tests.clients import new_ip

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SCREENSHOT_DIR = BASE_DIR / "test-artifacts" / "screenshots"

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="session")
def server_env(server_env):
    """The servers' environment (tests/conftest.py, which also collects the static
    files), with Django's async-safety check kept on in the servers: see ``chromium``
    (an empty value counts as unset)."""
    return {**server_env, ASYNC_UNSAFE: ""}


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (there is one browser test module).

    Playwright's sync API keeps an asyncio loop running in this thread between calls,
    so Django would refuse the test process's own database calls (seeding, and the
    flush after each transactional test) as "called from an async context". They are
    plain synchronous calls, so the check is switched off in this process while the
    browser runs, and restored afterwards; server processes are not affected.
    """
    if not PLAYWRIGHT_AVAILABLE or not os.path.exists(CHROMIUM_PATH):
        pytest.skip(BROWSER_SKIP_REASON)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def person(chromium):
    """``person(name, viewport=..., city=...)``: a new browser profile on its own IP.

    ``city``: the city remembered from an earlier visit (none: a first visit).
    """
    people = []

    def make(name="person", *, viewport=(1280, 900), city=None, mobile=False, reduced_motion=None):
        created = Person.create(
            chromium, name, ip=new_ip(), viewport=viewport, city=city, mobile=mobile, reduced_motion=reduced_motion
        )
        people.append(created)
        return created

    yield make
    for created in people:
        created.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
