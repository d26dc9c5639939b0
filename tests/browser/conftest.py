"""Browser tests: Playwright driving Debian's chromium (``apt-get install chromium``) against
the App served by uvicorn on loopback.

Playwright's own browser download is never used: the browser is the system's chromium, at
``CHROMIUM`` (default /usr/bin/chromium). Without it these tests fail and say how to install it;
``DEBTBOT_SKIP_BROWSER=1`` skips them on purpose.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("DEBTBOT_SKIP_BROWSER") == "1":
        skip = pytest.mark.skip(reason="DEBTBOT_SKIP_BROWSER=1")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's package (apt-get install chromium), "
            "set CHROMIUM to another build, or skip the browser tests with DEBTBOT_SKIP_BROWSER=1"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # As root in a container chromium's sandbox cannot start; /dev/shm may be tiny there.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1:port, lifespan and all, until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the App did not start under uvicorn")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def new_page(browser) -> Iterator[Callable]:
    """Pages at desktop or phone size; each records every URL it requested."""
    contexts = []

    def make(size: dict = DESKTOP):
        context = browser.new_context(**size)
        contexts.append(context)
        page = context.new_page()
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        return page

    yield make
    for context in contexts:
        context.close()


def overflows(page) -> bool:
    """Whether the page is wider than the screen (a phone would scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def screenshot(page, name: str) -> None:
    """A full-page screenshot into $DEBTBOT_SCREENSHOTS (docs/screenshots/ holds the committed
    ones); nothing when it is unset."""
    folder = os.environ.get("DEBTBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
