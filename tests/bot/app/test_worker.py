"""The worker: outcomes, retries, start/stop, and a real process killed mid-job."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from bot import store
from bot.app.events import Route
from bot.app.webhooks import signature
from bot.app.worker import RetryPolicy, process_next, start_worker
from bot.domain import PayloadError
from bot.github import deadline
from bot.github.errors import Unavailable
from bot.github.mirror import MirrorError
from bot.services import Services
from tests import ROOT
from tests.bot.app.test_server import PEM, SECRET, make_settings, pull_request_payload

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def sessions(database_url):
    engine = store.make_engine(database_url)
    store.create_schema(engine)
    yield store.make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def services(tmp_path, sessions):
    return Services.from_settings(make_settings(tmp_path), sessions)


def record(sessions, delivery_id: str, payload: dict, event="pull_request", action="opened"):
    with sessions() as session:
        store.record_delivery(session, delivery_id, event, action, json.dumps(payload), "s")


def the_delivery(sessions, delivery_id: str) -> store.Delivery:
    with sessions() as session:
        return session.scalars(
            select(store.Delivery).where(store.Delivery.delivery_id == delivery_id)
        ).one()


def routes_to(handler) -> dict:
    return {("pull_request", "opened"): Route(handler, None, lambda payload: "s")}


def test_a_handled_delivery_is_done_and_its_payload_reaches_the_handler(sessions, services):
    seen = []
    record(sessions, "d-1", {"n": 1})
    assert process_next(routes_to(lambda p, c: seen.append((p, c))), services, RetryPolicy())
    assert seen == [({"n": 1}, services)]
    assert the_delivery(sessions, "d-1").status == "done"
    assert not process_next(routes_to(seen.append), services, RetryPolicy())


def test_a_failing_handler_is_retried_with_backoff_then_failed(sessions, services):
    calls = []

    def flaky(payload, services):
        calls.append(payload)
        raise RuntimeError(f"GitHub said 502 (call {len(calls)})")

    policy = RetryPolicy(max_attempts=3, backoff_seconds=60)
    record(sessions, "d-1", {"n": 1})
    before = store.utcnow()
    assert process_next(routes_to(flaky), services, policy)
    delivery = the_delivery(sessions, "d-1")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "RuntimeError: GitHub said 502 (call 1)"
    waited = delivery.next_attempt_at.replace(tzinfo=None) - before.replace(tzinfo=None)
    assert timedelta(seconds=59) < waited < timedelta(seconds=70)
    # Not due yet: nothing to do.
    assert not process_next(routes_to(flaky), services, policy)

    for attempt in (2, 3):
        with sessions() as session:
            session.execute(update(store.Delivery).values(next_attempt_at=store.utcnow()))
            session.commit()
        assert process_next(routes_to(flaky), services, policy)
        assert the_delivery(sessions, "d-1").attempts == attempt
    delivery = the_delivery(sessions, "d-1")
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "RuntimeError: GitHub said 502 (call 3)",
    )
    assert len(calls) == 3


def test_backoff_doubles_up_to_a_ceiling():
    policy = RetryPolicy(max_attempts=9, backoff_seconds=10, max_backoff_seconds=100)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 80, 100]


def test_a_payload_the_handler_cannot_use_fails_at_once(sessions, services):
    def picky(payload, services):
        raise PayloadError("a repository entry lacks id")

    record(sessions, "d-1", {"n": 1})
    process_next(routes_to(picky), services, RetryPolicy(max_attempts=5))
    delivery = the_delivery(sessions, "d-1")
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "lacks id" in delivery.last_error


def test_a_delivery_no_route_handles_any_more_is_ignored(sessions, services):
    record(sessions, "d-1", {"n": 1}, event="pull_request", action="closed")
    assert process_next(routes_to(print), services, RetryPolicy())
    assert the_delivery(sessions, "d-1").status == "ignored"


def test_the_thread_requeues_what_a_dead_process_left_and_runs_it(sessions, services):
    record(sessions, "left-running", {"n": 1})
    with sessions() as session:
        started = store.claim_next_delivery(session).alive_at  # the previous process died here
    done = []
    worker = start_worker(
        routes_to(lambda p, c: done.append(p)),
        services,
        RetryPolicy(),
        30.0,
        lease_seconds=1.0,
    )
    try:
        deadline = time.monotonic() + 10
        while the_delivery(sessions, "left-running").status != "done":
            assert time.monotonic() < deadline, "not taken up"
            time.sleep(0.01)
        assert done == [{"n": 1}]
        # Taken up once its lease ran out, not before.
        assert the_delivery(sessions, "left-running").finished_at - started >= timedelta(seconds=1)
        # A long poll interval: only wake() makes the next one run promptly.
        record(sessions, "new", {"n": 2})
        worker.wake()
        deadline = time.monotonic() + 5
        while len(done) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert done == [{"n": 1}, {"n": 2}]
    finally:
        assert worker.stop(grace_seconds=5)
    assert the_delivery(sessions, "left-running").attempts == 2


def test_a_long_job_keeps_its_lease_and_no_other_worker_takes_it(sessions, services):
    record(sessions, "long", {"n": 1})
    runs = []

    def slow(payload, services):
        runs.append(payload)
        time.sleep(2.5)  # two and a half leases long

    routes = routes_to(slow)
    workers = [
        start_worker(routes, services, RetryPolicy(), 0.05, lease_seconds=1.0) for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 10
        while the_delivery(sessions, "long").status != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert all(worker.stop(grace_seconds=5) for worker in workers)
    assert runs == [{"n": 1}]
    assert the_delivery(sessions, "long").attempts == 1


def test_a_job_that_runs_out_of_time_for_github_is_tried_again_later(sessions, services):
    record(sessions, "slow-github", {"n": 1})

    def waits_for_github(payload, services):
        # What the GitHub client does before a wait GitHub asked for (a rate limit's reset).
        deadline.ensure_time_for(30, "GitHub asked for a wait of 30 s", 403)

    policy = RetryPolicy(job_seconds=5, backoff_seconds=60)
    started = time.monotonic()
    assert process_next(routes_to(waits_for_github), services, policy)

    assert time.monotonic() - started < 2
    delivery = the_delivery(sessions, "slow-github")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "OutOfTime" in delivery.last_error and "tried again later" in delivery.last_error
    assert store.as_utc(delivery.next_attempt_at) > store.utcnow() + timedelta(seconds=50)
    deadline.ensure_time_for(30, "outside a job there is no deadline")


@pytest.mark.parametrize(
    "failure",
    [
        MirrorError("git fetch failed (128): remote: fatal: unable to read 0123abcd"),
        Unavailable("GitHub answered 502: Server Error", 502),
    ],
)
def test_a_failure_of_the_world_outside_is_one_warning_without_a_traceback(
    sessions, services, caplog, failure
):
    record(sessions, "outside", {"n": 1})

    def fails(payload, services):
        raise failure

    with caplog.at_level(logging.WARNING, logger="bot.app.worker"):
        assert process_next(routes_to(fails), services, RetryPolicy())

    [logged] = [r for r in caplog.records if "outside" in r.getMessage()]
    assert logged.levelno == logging.WARNING and logged.exc_info is None
    assert str(failure) in logged.getMessage()
    assert the_delivery(sessions, "outside").status == "pending"


def test_threads_run_jobs_at_once_and_a_stop_gives_back_those_still_running(sessions, services):
    for n in (1, 2, 3):
        with sessions() as session:
            payload = json.dumps({"n": n})
            store.record_delivery(session, f"t-{n}", "pull_request", "opened", payload, f"pr-{n}")
    started, release = [], threading.Event()

    def held(payload, services):
        started.append(payload["n"])
        release.wait(30)  # a call to GitHub that does not come back

    worker = start_worker(
        routes_to(held), services, RetryPolicy(), 0.05, lease_seconds=60.0, threads=2
    )
    try:
        deadline = time.monotonic() + 10
        while len(started) < 2:
            assert time.monotonic() < deadline, f"only {started} started"
            time.sleep(0.01)
        time.sleep(0.3)
        assert sorted(started) == [1, 2]  # two at once; the third waits for a free thread

        stopping = time.monotonic()
        assert not worker.stop(grace_seconds=0.5)
        assert time.monotonic() - stopping < 1.5
    finally:
        release.set()
    states = {n: the_delivery(sessions, f"t-{n}") for n in (1, 2, 3)}
    assert [(d.status, d.attempts) for d in states.values()] == [
        ("pending", 1),
        ("pending", 1),
        ("pending", 0),
    ]
    assert "stopped in the middle" in states[1].last_error
    # The threads the stop left behind cannot record an outcome over the given-back jobs.
    time.sleep(0.3)
    assert [the_delivery(sessions, f"t-{n}").status for n in (1, 2)] == ["pending", "pending"]


# --- a real process, killed mid-job --------------------------------------------------------------

RUNNER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    import uvicorn

    from bot.app import server as main
    from bot.app.events import Route
    from bot.settings import load_settings

    marks = Path(sys.argv[2])

    def review(payload, services):
        with marks.open("a") as out:
            out.write(f"start {payload['number']}\\n")
        if (marks.parent / "block").exists():
            time.sleep(3600)  # the test kills the process here
        with marks.open("a") as out:
            out.write(f"finish {payload['number']}\\n")

    routes = {("pull_request", "opened"): Route(review, None, lambda payload: "pr")}
    app = main.create_app(load_settings(), routes=routes)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    tmp_path: Path,
    database_url: str,
    port: int,
    command: list[str] | None = None,
    extra_environment: dict[str, str] | None = None,
) -> subprocess.Popen:
    environment = {
        **os.environ,
        **(extra_environment or {}),
        "GITHUB_APP_ID": "1234",
        "GITHUB_PRIVATE_KEY": PEM,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "PUBLIC_URL": "https://debtbot.example.com",
        "DATABASE_URL": database_url,
        "WORKER_POLL_SECONDS": "0.05",
        "WORKER_LEASE_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    command = command or [sys.executable, str(runner), str(port), str(tmp_path / "marks")]
    log = (tmp_path / "server.log").open("ab")
    process = subprocess.Popen(command, cwd=tmp_path, env=environment, stderr=log, stdout=log)
    log.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the server exited during startup"
        time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start")


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_job_cut_short_by_kill_9_finishes_exactly_once_after_restart(tmp_path, database_url):
    marks = tmp_path / "marks"
    (tmp_path / "block").touch()
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    body = json.dumps(pull_request_payload("opened", number=5)).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "kill-1",
        "X-Hub-Signature-256": signature(SECRET, body),
        "Content-Type": "application/json",
    }
    engine = store.make_engine(database_url)
    sessions = store.make_session_factory(engine)

    first = start_server(tmp_path, database_url, port)
    try:
        assert httpx.post(url, content=body, headers=headers).status_code == 202
        wait_for(lambda: marks.exists() and "start 5" in marks.read_text())
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    assert the_delivery(sessions, "kill-1").status == "running"

    (tmp_path / "block").unlink()
    second = start_server(tmp_path, database_url, port)
    try:
        wait_for(lambda: the_delivery(sessions, "kill-1").status == "done")
        # GitHub redelivering it now changes nothing.
        again = httpx.post(url, content=body, headers=headers)
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
        time.sleep(0.3)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    assert marks.read_text().splitlines() == ["start 5", "start 5", "finish 5"]
    delivery = the_delivery(sessions, "kill-1")
    assert (delivery.status, delivery.attempts) == ("done", 2)
    engine.dispose()


def test_serve_runs_the_app_until_stopped(tmp_path):
    port = free_port()
    code = f"import sys; from bot.app.server import serve; sys.exit(serve('127.0.0.1', {port}))"
    database = f"sqlite:///{tmp_path}/served.sqlite3"
    process = start_server(tmp_path, database, port, [sys.executable, "-c", code])
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/rules/DEBT301").status_code == 200
        ping = json.dumps({"zen": "Design for failure.", "hook_id": 1}).encode()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhook",
            content=ping,
            headers={
                "X-GitHub-Event": "ping",
                "X-GitHub-Delivery": "p-1",
                "X-Hub-Signature-256": signature(SECRET, ping),
            },
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells of it.
    assert process.wait(10) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (tmp_path / "server.log").read_text()
    assert (tmp_path / "served.sqlite3").exists()


def test_serve_logs_one_json_object_per_line_with_each_delivery_and_its_outcome(tmp_path):
    port = free_port()
    code = f"import sys; from bot.app.server import serve; sys.exit(serve('127.0.0.1', {port}))"
    database = f"sqlite:///{tmp_path}/served.sqlite3"
    environment = {"LOG_FORMAT": "JSON", "LOG_LEVEL": "info"}
    process = start_server(tmp_path, database, port, [sys.executable, "-c", code], environment)
    installed = json.dumps(
        {
            "action": "created",
            "installation": {"id": 77, "account": {"login": "acme", "type": "Organization"}},
            # No repository: their ledger backfills would call a GitHub this test has not.
            "repositories": [],
        }
    ).encode()
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/webhook",
            content=installed,
            headers={
                "X-GitHub-Event": "installation",
                "X-GitHub-Delivery": "delivery-42",
                "X-Hub-Signature-256": signature(SECRET, installed),
            },
        )
        assert answer.status_code == 202

        def logged() -> list[dict]:
            lines = (tmp_path / "server.log").read_text().splitlines()
            return [json.loads(line) for line in lines if line.strip()]

        wait_for(lambda: any(line.get("delivery") == "delivery-42" for line in logged()))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    lines = logged()  # every line parses: uvicorn's own as well as ours
    assert any(line["message"] == "Application startup complete." for line in lines)
    (done,) = [line for line in lines if line.get("delivery") == "delivery-42"]
    assert done["level"] == "INFO" and done["outcome"] == "done"
    assert (done["event"], done["action"]) == ("installation", "created")
    assert done["seconds"] >= 0 and "time" in done


def test_serve_refuses_an_unknown_log_format_and_names_it(tmp_path):
    environment = {**os.environ, "LOG_FORMAT": "xml", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bot.app.server import serve; sys.exit(serve('127.0.0.1', 1))",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "LOG_FORMAT" in done.stderr and "log_format" in done.stderr
