"""No secret is ever written anywhere: a full run of ``debtbot serve`` at DEBUG (a review, a
failed GitHub call that is retried, a ``/debt-report``), then every byte it left on disk is
searched for the private key, the webhook secret, the OAuth client secret, the session secret
and every installation token GitHub handed out.
"""

from __future__ import annotations

import os
import signal

import httpx

from bot import store
from tests.bot.app.test_end_to_end import (
    NUMBER,
    REPO,
    SECRET,
    open_pull_request,
    signed_delivery,
)
from tests.bot.app.test_end_to_end import git_server as git_server
from tests.bot.app.test_stop import ROOT, serve, wait_for
from tests.bot.app.test_worker import free_port
from tests.fakes.github import FakeGitHub

REVIEWS = rf"/repos/{REPO}/pulls/{NUMBER}/reviews"
COMMENTS = rf"/repos/{REPO}/issues/{NUMBER}/comments"
SESSION_SECRET = "session-secret-" + "s" * 40


def test_no_secret_reaches_a_log_the_store_or_the_mirror(
    tmp_path, fake_github: FakeGitHub, git_server: str
):
    open_pull_request(tmp_path, fake_github)
    fake_github.set_role(REPO, "alice", "write")
    written = tmp_path / "written"  # everything the App writes: log, store, mirrors
    environment = {
        **os.environ,
        **fake_github.environment(),
        "GITHUB_CLIENT_ID": fake_github.client_id,
        "GITHUB_CLIENT_SECRET": fake_github.client_secret,
        "SESSION_SECRET": SESSION_SECRET,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_URL": git_server,
        "PUBLIC_URL": "https://debtbot.example.com",
        "DATABASE_URL": f"sqlite:///{written}/debtbot.sqlite3",
        "DATA_DIR": str(written / "data"),
        "LOG_LEVEL": "DEBUG",
        "SUMMARIES": "false",
        "WORKER_BACKOFF_SECONDS": "0.2",
        "PYTHONPATH": str(ROOT),
    }
    written.mkdir()
    # The first try of the review fails at GitHub: its error is logged and stored.
    fake_github.fail("POST", REVIEWS, 502, body={"message": "Server Error"})
    port = free_port()
    server = serve(written, environment, port)
    url = f"http://127.0.0.1:{port}/webhook"
    try:
        opened = fake_github.pull_request_event(REPO, NUMBER)
        body, headers = signed_delivery("pull_request", opened)
        assert httpx.post(url, content=body, headers=headers).status_code == 202
        wait_for(lambda: fake_github.submitted_reviews(REPO, NUMBER))
        comment = fake_github.add_issue_comment(REPO, NUMBER, "/debt-report", author="alice")
        event = fake_github.issue_comment_event(REPO, NUMBER, comment)
        body, headers = signed_delivery("issue_comment", event)
        assert httpx.post(url, content=body, headers=headers).status_code == 202
        wait_for(lambda: len(fake_github.requests_to("POST", COMMENTS)) >= 1)
        sessions = store.make_session_factory(store.make_engine(environment["DATABASE_URL"]))

        def both_done() -> bool:
            with sessions() as session:
                return store.delivery_counts(session).get("done", 0) >= 2

        wait_for(both_done)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)

    key_lines = [
        line
        for line in fake_github.private_key.splitlines()
        if line.strip() and not line.startswith("-----")
    ]
    secrets = {
        "webhook secret": SECRET,
        "OAuth client secret": fake_github.client_secret,
        "session secret": SESSION_SECRET,
        **{f"private key line {n}": line for n, line in enumerate(key_lines)},
        **{f"installation token {token[:6]}…": token for token in fake_github.tokens},
    }
    assert fake_github.tokens, "no installation token was handed out: nothing was tested"
    files = [path for path in written.rglob("*") if path.is_file()]
    assert any(path.name == "server.log" for path in files)
    assert any(path.name == "config" for path in files)  # a mirror's git config
    log = (written / "server.log").read_text(errors="replace")
    assert "DEBUG" in log and "502" in log  # the log did record the run, and its failure
    for path in files:
        content = path.read_bytes()
        for what, secret in secrets.items():
            assert secret.encode() not in content, f"{what} found in {path}"
