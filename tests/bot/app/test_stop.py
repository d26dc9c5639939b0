"""``debtbot serve`` told to stop in the middle of a review that GitHub does not answer.

A deploy sends SIGTERM (a terminal, SIGINT) and kills what is left ten seconds later. The server
must be gone within its grace period plus a second, whatever GitHub does, and the review it cut
must be taken up at the next start and posted exactly once.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot import store
from tests.bot.app.test_end_to_end import (
    NUMBER,
    REPO,
    SECRET,
    open_pull_request,
    signed_delivery,
)
from tests.bot.app.test_end_to_end import git_server as git_server
from tests.bot.app.test_worker import free_port
from tests.fakes.github import FakeGitHub

ROOT = Path(__file__).resolve().parents[3]
REVIEWS = rf"/repos/{REPO}/pulls/{NUMBER}/reviews"
GRACE = 1.0


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def serve(tmp_path: Path, environment: dict[str, str], port: int) -> subprocess.Popen:
    log = (tmp_path / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}/healthz"

    def healthy() -> bool:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, 30)
    return process


def the_delivery(sessions) -> store.Delivery:
    with sessions() as session:
        found = session.query(store.Delivery).filter_by(event="pull_request").one()
        session.expunge(found)
        return found


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_review_stuck_on_github_is_given_back_and_posted_once_after_restart(
    tmp_path, fake_github: FakeGitHub, git_server: str, database_url: str, stop_signal
):
    open_pull_request(tmp_path, fake_github)
    environment = {
        **os.environ,
        **fake_github.environment(),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_URL": git_server,
        "PUBLIC_URL": "https://debtbot.example.com",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SUMMARIES": "false",
        "SHUTDOWN_GRACE_SECONDS": str(GRACE),
        # Far longer than the test: the job comes back because it was given back, not
        # because its lease ran out.
        "WORKER_LEASE_SECONDS": "600",
        "PYTHONPATH": str(ROOT),
    }
    engine = store.make_engine(database_url)
    store.upgrade_schema(engine)
    sessions = store.make_session_factory(engine)
    port = free_port()

    # GitHub takes the review and never answers while this server runs.
    fake_github.answer_late("POST", REVIEWS, 60)
    first = serve(tmp_path, environment, port)
    body, headers = signed_delivery("pull_request", fake_github.pull_request_event(REPO, NUMBER))
    answer = httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers)
    assert answer.status_code == 202
    wait_for(lambda: fake_github.requests_to("POST", REVIEWS))

    first.send_signal(stop_signal)
    told = time.monotonic()
    try:
        first.wait(GRACE + 5)
    finally:
        if first.poll() is None:
            first.kill()
    took = time.monotonic() - told
    logging.getLogger(__name__).info(
        "stopped %.2f s after %s (grace %s s), a review stuck", took, stop_signal.name, GRACE
    )
    assert took <= GRACE + 1.0, f"stopped {took:.2f} s after the signal"
    given_back = the_delivery(sessions)
    assert (given_back.status, given_back.attempts) == ("pending", 1)
    assert "stopped in the middle" in given_back.last_error
    assert "given back to the queue mid-job" in (tmp_path / "server.log").read_text()

    second = serve(tmp_path, environment, port)
    try:
        wait_for(lambda: the_delivery(sessions).status == "done")
        time.sleep(0.5)  # a few more polls: nothing else may be sent
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(GRACE + 5)
    assert the_delivery(sessions).attempts == 2
    assert len(fake_github.submitted_reviews(REPO, NUMBER)) == 1
    assert len(fake_github.requests_to("POST", REVIEWS)) == 1
    engine.dispose()
