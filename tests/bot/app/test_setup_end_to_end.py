"""From a fresh folder to a review, with no file edited by hand and no restart.

``debtbot serve`` runs as a real process in an empty folder, pointed only at the simulated
GitHub. A browser (httpx, following links and submitting forms as they are on the page) opens
the setup page, posts the manifest to GitHub, comes back with the code; then GitHub delivers a
pull request signed with the secret it issued, and the review reaches GitHub: fetched over git
with an installation token, signed in with the private key GitHub handed over.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from bot.app.webhooks import signature
from tests import ROOT
from tests.bot.app.test_end_to_end import NEW, NUMBER, OLD, REPO, Remote
from tests.bot.app.test_setup import Forms
from tests.bot.app.test_worker import free_port
from tests.fakes.github import FakeGitHub

SERVE = "import sys; from bot.cli.main import main; sys.exit(main(sys.argv[1:]))"


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def served(tmp_path: Path, fake_github: FakeGitHub):
    """`debtbot serve` in an empty folder: where GitHub is, and nothing else of the App."""
    folder = tmp_path / "fresh"
    folder.mkdir()
    port = free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(("GITHUB_", "PUBLIC_URL", "DATABASE_URL", "DATA_DIR"))
    }
    environment |= {
        "GITHUB_URL": fake_github.web_url,
        "GITHUB_API_URL": fake_github.url,
        "WORKER_POLL_SECONDS": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    log = folder.parent / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--port", str(port)],
            cwd=folder,
            env=environment,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(base + "/healthz") or process.poll() is not None, 30)
        assert process.poll() is None, log.read_text()
        yield folder, base, process, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(15)


def test_from_a_fresh_folder_to_a_review_without_a_restart(
    served, tmp_path: Path, fake_github: FakeGitHub
) -> None:
    folder, base, process, log = served
    assert "starting in setup mode" in log.read_text()
    assert f"Open http://127.0.0.1:{base.rsplit(':', 1)[1]}" in log.read_text()

    browser = httpx.Client(base_url=base, timeout=30)
    # The setup page, filled in as a person would (their own account, on the GitHub set up).
    page = browser.get("/")
    assert page.status_code == 200 and "Set up debtbot" in page.text
    [form] = Forms(page.text).forms
    assert form["fields"]["github_url"] == fake_github.web_url
    confirm = browser.post(form["action"], data=form["fields"] | {"owner": "user"})
    [to_github] = Forms(confirm.text).forms
    assert to_github["action"].startswith(f"{fake_github.web_url}/settings/apps/new?state=")

    manifest = json.loads(to_github["fields"]["manifest"])
    assert manifest["hook_attributes"]["url"] == f"{base}/webhook"

    # GitHub takes the manifest and sends the browser back with a code.
    back = httpx.post(to_github["action"], data=to_github["fields"], follow_redirects=False)
    assert back.status_code == 302
    assert back.headers["location"].startswith(f"{base}/setup/callback?code=")
    done = browser.get(back.headers["location"], follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{fake_github.web_url}/apps/debtbot/installations/new"
    assert fake_github.registered_manifests == [manifest]

    env = folder / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    saved = dotenv_values(env)
    assert saved == {
        "GITHUB_APP_ID": str(fake_github.app_id),
        "GITHUB_PRIVATE_KEY": fake_github.private_key,
        "GITHUB_WEBHOOK_SECRET": fake_github.webhook_secret,
        "GITHUB_CLIENT_ID": fake_github.client_id,
        "GITHUB_CLIENT_SECRET": fake_github.client_secret,
        "PUBLIC_URL": base,
        "GITHUB_URL": fake_github.web_url,
        "GITHUB_API_URL": fake_github.url,
    }
    assert "Worker: running" in browser.get("/").text  # the App's home page now

    # The App is installed on a repository with a pull request, and GitHub says so.
    remote = Remote(tmp_path)
    (Path(remote.work.working_tree_dir) / "pkg").mkdir()
    base_sha = remote.commit({"pkg/__init__.py": "", "pkg/old.py": OLD}, "main")
    remote.work.git.checkout("-b", "feature")
    head = remote.commit({"pkg/new.py": NEW}, "feature")
    remote.open_pull(head)
    fake_github.serve_git(tmp_path / "remotes")
    fake_github.add_installation(1, account="acme")
    fake_github.add_repository(REPO, installation_id=1)
    fake_github.add_pull(REPO, NUMBER, head, base_sha, commentable={"pkg/new.py": range(1, 12)})

    body = json.dumps(fake_github.pull_request_event(REPO, NUMBER, "opened")).encode()
    delivered = httpx.post(
        f"{base}/webhook",
        content=body,
        headers={
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature(fake_github.webhook_secret, body),
            "Content-Type": "application/json",
        },
    )
    assert delivered.status_code == 202, delivered.text
    wait_for(lambda: fake_github.submitted_reviews(REPO, NUMBER) and fake_github.check_runs)
    [review] = fake_github.submitted_reviews(REPO, NUMBER)
    assert review["commit_id"] == head
    assert any("DEBT302" in c["body"] for c in fake_github.pull(REPO, NUMBER).comments)
    assert process.poll() is None  # one process all along

    process.send_signal(signal.SIGTERM)
    assert process.wait(15) in (0, -signal.SIGTERM)
    logged = log.read_text()
    assert "Application shutdown complete" in logged
    for secret in (fake_github.webhook_secret, fake_github.private_key.splitlines()[1]):
        assert secret not in logged
