"""The App end to end: a signed webhook in, the worker, git over HTTP, GitHub over HTTP.

Nothing of ours is replaced: the FastAPI app with its worker thread receives the webhook, the
review pipeline fetches the pull request from a git server on loopback (git's "dumb" HTTP
protocol, served as static files), and talks to the simulated GitHub through PyGithub.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import git
import pytest
from fastapi.testclient import TestClient

from bot import store
from bot.app.server import create_app
from bot.app.webhooks import signature
from bot.settings import Settings
from rules.engine import factcache, scanner
from tests.conftest import commit_all, new_repo
from tests.fakes.github import FakeGitHub

SECRET = "webhook-secret"
REPO = "acme/models"
NUMBER = 7

OLD = "import yaml\n\nCONFIG = yaml.load(open('c.yml'))\n"
NEW = """\
import numpy as np


def missing(values):
    return values[values == np.nan]


def decide(model, features):
    proba = model.predict_proba(features)[:, 1]
    return proba > 0.73
"""
FIXED = """\
import numpy as np


def missing(values):
    return values[np.isnan(values)]


def decide(model, features):
    proba = model.predict_proba(features)[:, 1]
    return proba > 0.73
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving_git(tmp_path: Path) -> Iterator[str]:
    """Serves tmp_path/remotes over HTTP, as git's dumb protocol needs: plain files."""
    root = tmp_path / "remotes"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[str]:
    with serving_git(tmp_path) as url:
        yield url


class Remote:
    """A repository on the git server, with a working copy to make commits in."""

    def __init__(self, tmp_path: Path, full_name: str = REPO) -> None:
        self.bare = git.Repo.init(tmp_path / "remotes" / f"{full_name}.git", bare=True)
        self.work = new_repo(tmp_path / "work" / full_name)
        self.work.create_remote("origin", self.bare.git_dir)

    def commit(self, files: dict[str, str], branch: str) -> str:
        root = Path(self.work.working_tree_dir)
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        sha = commit_all(self.work, f"change {', '.join(files)}")
        self.work.git.push("origin", f"HEAD:refs/heads/{branch}", "--force")
        return sha

    def open_pull(self, sha: str, number: int = NUMBER) -> None:
        self.work.git.push("origin", f"{sha}:refs/pull/{number}/head", "--force")
        self.bare.git.update_server_info()


def open_pull_request(tmp_path: Path, fake_github: FakeGitHub) -> Remote:
    """A repository on the git server, known to the simulated GitHub under installation 1, with
    pull request NUMBER adding ``pkg/new.py`` (NEW, which has findings) to main."""
    remote = Remote(tmp_path)
    base = remote.commit({"pkg/__init__.py": "", "pkg/old.py": "x = 1\n"}, "main")
    remote.work.git.checkout("-b", "feature")
    head = remote.commit({"pkg/new.py": NEW}, "feature")
    remote.open_pull(head)
    fake_github.add_installation(1, account="acme")
    fake_github.add_repository(REPO, installation_id=1)
    fake_github.add_pull(REPO, NUMBER, head, base, commentable={"pkg/new.py": range(1, 12)})
    return remote


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the worker")


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub, git_server: str, database_url: str):
    remote = Remote(tmp_path)
    (Path(remote.work.working_tree_dir) / "pkg").mkdir()
    base = remote.commit({"pkg/__init__.py": "", "pkg/old.py": OLD}, "main")
    remote.work.git.checkout("-b", "feature")
    settings = Settings(
        github_app_id=fake_github.app_id,
        github_private_key=fake_github.private_key,
        github_webhook_secret=SECRET,
        github_api_url=fake_github.url,
        github_url=git_server,
        database_url=database_url,
        public_url="https://debtbot.example.com",
        data_dir=tmp_path / "data",
        worker_poll_seconds=0.05,
        worker_backoff_seconds=0.1,
    )
    fake_github.add_installation(1, account="acme")
    fake_github.add_repository(REPO, installation_id=1)
    # A new process: nothing learnt by earlier tests in memory, so the cache on disk is used.
    scanner._FACTS_CACHE.clear()
    app = create_app(settings)
    with TestClient(app) as client:
        yield remote, base, client, settings


def deliver(client: TestClient, payload: dict, delivery: str | None = None):
    body = json.dumps(payload).encode()
    return client.post(
        "/webhook",
        content=body,
        headers={
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature(SECRET, body),
            "Content-Type": "application/json",
        },
    )


def settled(settings: Settings) -> bool:
    engine = store.make_engine(settings.database_url)
    try:
        with store.make_session_factory(engine)() as session:
            counts = store.delivery_counts(session)
    finally:
        engine.dispose()
    return counts.get("pending", 0) == 0 and counts.get("running", 0) == 0


def test_review_per_push_without_duplicates(world, fake_github: FakeGitHub) -> None:
    remote, base, client, settings = world
    head = remote.commit({"pkg/new.py": NEW}, "feature")
    remote.open_pull(head)
    fake_github.add_pull(REPO, NUMBER, head, base, commentable={"pkg/new.py": range(1, 12)})

    first = fake_github.pull_request_event(REPO, NUMBER, "opened")
    answer = deliver(client, first, delivery="delivery-1")
    assert answer.status_code == 202
    wait_for(lambda: settled(settings) and fake_github.check_runs)

    [review] = fake_github.submitted_reviews(REPO, NUMBER)
    assert review["state"] == "COMMENTED" and review["commit_id"] == head
    reviewed = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/{NUMBER}/reviews$")
    assert reviewed[-1].json["event"] == "COMMENT"
    sent = reviewed[-1].json["comments"]
    assert {c["path"] for c in sent} == {"pkg/new.py"}  # old debt on main is left alone
    assert {c["side"] for c in sent} == {"RIGHT"}
    assert all("debtbot:fingerprint=" in c["body"] for c in sent)
    nan_comment = next(c for c in sent if "DEBT302" in c["body"])
    assert nan_comment["line"] == 5
    [run] = fake_github.check_runs.values()
    assert run["name"] == "debtbot" and run["head_sha"] == head
    assert run["conclusion"] == "neutral"
    assert {a["path"] for a in run["_annotations"]} == {"pkg/new.py"}
    # What the repository rules learnt of the other files is kept for the next push (and start).
    with sqlite3.connect(settings.data_dir / factcache.FILE_NAME) as cache:
        assert cache.execute("SELECT count(*) FROM facts").fetchone() == (2,)  # pkg/__init__, old

    # A redelivery of the same event is acknowledged and does nothing.
    again = deliver(client, first, delivery="delivery-1")
    assert again.status_code == 200
    # The same head announced again (a new delivery id) posts nothing new either.
    deliver(client, fake_github.pull_request_event(REPO, NUMBER, "reopened"))
    wait_for(lambda: settled(settings))
    assert len(fake_github.submitted_reviews(REPO, NUMBER)) == 1
    assert len(fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/{NUMBER}/reviews$")) == 1

    # A push that fixes one finding: a reply on its thread, the thread resolved, no new review.
    fixed = remote.commit({"pkg/new.py": FIXED}, "feature")
    remote.open_pull(fixed)
    fake_github.push(REPO, NUMBER, fixed)
    deliver(client, fake_github.pull_request_event(REPO, NUMBER, "synchronize"))
    wait_for(lambda: settled(settings) and len(fake_github.check_runs) >= 3)
    # (GitHub files a reply under a review of its own, so count what we asked for.)
    assert len(fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/{NUMBER}/reviews$")) == 1
    replies = [
        r for r in fake_github.requests if r.method == "POST" and r.path.endswith("/replies")
    ]
    assert len(replies) == 1
    assert fixed[:7] in replies[0].json["body"]
    threads = fake_github.pull(REPO, NUMBER).threads
    resolved = [t for t in threads if t["isResolved"]]
    assert len(resolved) == 1


def deliver_event(client: TestClient, event: str, payload: dict):
    body, headers = signed_delivery(event, payload)
    return client.post("/webhook", content=body, headers=headers)


def signed_delivery(event: str, payload: dict, secret: str = SECRET) -> tuple[bytes, dict]:
    """A delivery's body and headers as GitHub sends them, signed with ``secret``."""
    body = json.dumps(payload).encode()
    return body, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature(secret, body),
        "Content-Type": "application/json",
    }


def test_debt_report_through_the_webhook_and_worker(world, fake_github: FakeGitHub) -> None:
    remote, base, client, settings = world
    head = remote.commit({"pkg/new.py": NEW}, "feature")
    remote.open_pull(head)
    fake_github.add_pull(REPO, NUMBER, head, base, commentable={"pkg/new.py": range(1, 12)})
    fake_github.set_role(REPO, "alice", "write")

    command = fake_github.add_issue_comment(REPO, NUMBER, "/debt-report", author="alice")
    answer = deliver_event(
        client, "issue_comment", fake_github.issue_comment_event(REPO, NUMBER, command)
    )
    assert answer.status_code == 202
    wait_for(lambda: settled(settings) and len(fake_github.issue_comments(REPO, NUMBER)) == 2)

    report = fake_github.issue_comments(REPO, NUMBER)[-1]
    assert "<!-- debtbot:report -->" in report["body"]
    assert "DEBT302" in report["body"] and "pkg/new.py" in report["body"]
    assert [r["content"] for r in fake_github.reactions(REPO, NUMBER, command["id"])] == ["eyes"]

    # Someone who cannot push: one polite reply, however often they ask, and no report.
    def ask(author: str) -> dict:
        comment = fake_github.add_issue_comment(REPO, NUMBER, "/debt-report", author=author)
        event = fake_github.issue_comment_event(REPO, NUMBER, comment)
        assert deliver_event(client, "issue_comment", event).status_code == 202
        wait_for(lambda: settled(settings))
        return comment

    ask("mallory")
    ask("mallory")
    ours = [c for c in fake_github.issue_comments(REPO, NUMBER) if c["user"]["type"] == "Bot"]
    assert len(ours) == 2
    assert ours[-1]["body"].startswith("Sorry @mallory, only people who can push")

    # Asked again within the minute: the eyes reaction, no new work.
    again = ask("alice")
    assert [r["content"] for r in fake_github.reactions(REPO, NUMBER, again["id"])] == ["eyes"]
    assert fake_github.issue_comments(REPO, NUMBER)[1]["body"] == report["body"]

    # A minute later the same comment is rewritten in place, saying when.
    report["updated_at"] = "2026-01-01T00:00:00Z"
    ask("alice")
    ours = [c for c in fake_github.issue_comments(REPO, NUMBER) if c["user"]["type"] == "Bot"]
    assert len(ours) == 2
    assert ours[0]["id"] == report["id"] and ours[0]["updated_at"] != "2026-01-01T00:00:00Z"
    assert "<sub>Updated " in ours[0]["body"] and "DEBT302" in ours[0]["body"]
    edits = fake_github.requests_to("PATCH", rf"/repos/{REPO}/issues/comments/{report['id']}$")
    assert len(edits) == 1

    metrics = client.get("/metrics").text
    for outcome in ("posted", "refused", "refused-again", "too-soon", "updated"):
        assert f'debtbot_commands_total{{outcome="{outcome}"}}' in metrics
