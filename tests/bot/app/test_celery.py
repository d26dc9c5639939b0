"""The App scaled out: webhooks received by the web app, work done by real Celery workers
(``debtbot worker`` processes) taking it from the Redis on this machine.

Nothing of ours is replaced: the worker processes review the pull request from a git server on
loopback and talk to the simulated GitHub over HTTP, with the store on SQLite or PostgreSQL.
Each test has a queue of its own on the shared Redis, so tests never take each other's work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from bot import store
from bot.app.server import create_app
from bot.app.webhooks import signature
from tests.bot.app.test_end_to_end import (
    NUMBER,
    REPO,
    SECRET,
    deliver,
    git_server,
    open_pull_request,
)
from tests.fakes.github import FakeGitHub

__all__ = ["git_server"]  # a fixture, used by name

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/0"
REVIEWS = rf"/repos/{REPO}/pulls/{NUMBER}/reviews"


@pytest.fixture(scope="module", autouse=True)
def redis_answers() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"the Redis these tests need is not running at {REDIS_URL}: {error}")


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"debtbot-test-{uuid.uuid4().hex[:12]}"
    yield name
    redis.Redis.from_url(REDIS_URL).delete(name, f"{name}\x06\x163", f"{name}\x06\x166")


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


class Workers:
    """``debtbot worker`` processes with the App's settings in their environment."""

    def __init__(self, tmp_path: Path, environment: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.environment = environment
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, *options: str) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "worker", *options],
            cwd=self.tmp_path,  # no .env of the developer's is read
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole, children included
        )
        log.close()
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """What a machine or container dying does: SIGKILL to the worker and its children."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def scaled(tmp_path, fake_github: FakeGitHub, git_server: str, database_url: str, queue: str):
    """A pull request ready to review, the web app sending work to ``queue``, and a way to
    start workers."""
    open_pull_request(tmp_path, fake_github)
    environment = {
        **os.environ,
        **fake_github.environment(),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_URL": git_server,
        "PUBLIC_URL": "https://debtbot.example.com",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "worker-data"),
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "WORKER_LEASE_SECONDS": "1",
        "WORKER_BACKOFF_SECONDS": "0.1",
        "SUMMARIES": "false",
        "PYTHONPATH": str(ROOT),
    }
    settings = fake_github.settings(
        tmp_path / "web-data",
        github_webhook_secret=SECRET,
        github_url=git_server,
        database_url=database_url,
        redis_url=REDIS_URL,
        celery_queue=queue,
        summaries=False,
    )
    workers = Workers(tmp_path, environment)
    engine = store.make_engine(database_url)
    sessions = store.make_session_factory(engine)
    try:
        with TestClient(create_app(settings)) as client:
            yield client, workers, sessions
    finally:
        workers.stop_all()
        engine.dispose()


def delivery(sessions, delivery_id: str) -> store.Delivery:
    with sessions() as session:
        found = session.query(store.Delivery).filter_by(delivery_id=delivery_id).one()
        session.expunge(found)
        return found


def test_a_celery_worker_reviews_what_the_web_app_received(scaled, fake_github: FakeGitHub):
    client, workers, sessions = scaled
    workers.start("worker", "--concurrency=2")
    answer = deliver(client, fake_github.pull_request_event(REPO, NUMBER), delivery="c-1")
    assert (answer.status_code, answer.json()["status"]) == (202, "queued")
    # The web app runs no job itself: the work is the Celery worker's.
    assert answer.json() and client.get("/healthz").json()["worker"] == "celery"

    wait_for(lambda: delivery(sessions, "c-1").status == "done")
    [review] = fake_github.submitted_reviews(REPO, NUMBER)
    assert review["commit_id"] == fake_github.pull(REPO, NUMBER).head_sha
    posted = fake_github.requests_to("POST", REVIEWS)
    assert any("DEBT302" in comment["body"] for comment in posted[0].json["comments"])
    assert "celery@" in workers.log("worker")  # it really was a Celery worker


def test_a_worker_killed_mid_review_leaves_exactly_one_review(scaled, fake_github: FakeGitHub):
    client, workers, sessions = scaled
    # GitHub takes the review, then the worker is killed before it hears back.
    fake_github.answer_late("POST", REVIEWS, 30)
    first = workers.start("first", "--concurrency=1")
    deliver(client, fake_github.pull_request_event(REPO, NUMBER), delivery="kill-1")
    wait_for(lambda: fake_github.requests_to("POST", REVIEWS))
    workers.kill(first)
    assert delivery(sessions, "kill-1").status == "running"
    assert len(fake_github.submitted_reviews(REPO, NUMBER)) == 1

    workers.start("second", "--concurrency=1")
    wait_for(lambda: delivery(sessions, "kill-1").status == "done")
    time.sleep(1.5)  # a sweep or two more: nothing else may be sent
    assert len(fake_github.submitted_reviews(REPO, NUMBER)) == 1
    assert len(fake_github.requests_to("POST", REVIEWS)) == 1
    assert delivery(sessions, "kill-1").attempts == 2


def test_a_delivery_recorded_while_redis_was_away_is_sent_by_the_sweep(
    tmp_path, scaled, fake_github: FakeGitHub, database_url: str
):
    _, workers, sessions = scaled
    # A web replica whose Redis cannot be reached still acknowledges and records the delivery.
    cut_off = create_app(
        fake_github.settings(
            tmp_path / "cut-off",
            github_webhook_secret=SECRET,
            database_url=database_url,
            redis_url="redis://127.0.0.1:9/0",  # the discard port: nothing listens
            summaries=False,
        )
    )
    with TestClient(cut_off) as client:
        answer = deliver(client, fake_github.pull_request_event(REPO, NUMBER), delivery="lost-1")
    assert answer.status_code == 202
    assert delivery(sessions, "lost-1").status == "pending"

    workers.start("worker", "--concurrency=1")
    wait_for(lambda: delivery(sessions, "lost-1").status == "done")
    assert len(fake_github.submitted_reviews(REPO, NUMBER)) == 1


def test_worker_refuses_to_start_without_redis(tmp_path, fake_github: FakeGitHub):
    environment = {
        **os.environ,
        **fake_github.environment(),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "PUBLIC_URL": "https://debtbot.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/store.sqlite3",
        "PYTHONPATH": str(ROOT),
    }
    environment.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "worker"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "REDIS_URL is not set" in done.stderr


def test_celery_workers_keep_the_ledger_chunk_by_chunk(scaled, fake_github: FakeGitHub):
    client, workers, sessions = scaled
    workers.start("worker", "--concurrency=2")
    body = fake_github.installation_event(1)
    answer = client.post(
        "/webhook",
        content=json.dumps(body).encode(),
        headers={
            "X-GitHub-Event": "installation",
            "X-GitHub-Delivery": "install-1",
            "X-Hub-Signature-256": signature(SECRET, json.dumps(body).encode()),
        },
    )
    assert answer.status_code == 202

    def recorded() -> list[store.LedgerState]:
        with sessions() as session:
            return store.ledger_commits(session, REPO)

    # The backfill is queued by the installation's job and run by a worker, not the web app.
    wait_for(lambda: len(recorded()) == 1)
    (commit,) = recorded()
    with sessions() as session:
        main = session.query(store.Delivery).filter_by(delivery_id="install-1").one()
        assert main.status == "done"
        ledger = session.query(store.Delivery).filter_by(event="debtbot.ledger").all()
    assert commit.scope == "full" and commit.files == 2  # pkg/__init__.py and pkg/old.py
    assert ledger and {d.status for d in ledger} <= {"done", "pending", "running"}
