"""Signing in to the dashboard with GitHub, and who sees what: the real App (both databases)
against the simulated GitHub, which signs people in and answers for their tokens over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot import store
from bot.app.server import create_app
from tests.fakes.github import FakeGitHub

PUBLIC_URL = "https://debtbot.example.com"
ORG = "octo-org"


def record_ledger(sessions, full_name: str, findings: int) -> None:
    found = [
        {
            "fingerprint": f"{full_name}:{n}",
            "code": "DEBT1101",
            "principle": "external-world",
            "severity": "warning",
            "path": f"pkg/m{n}.py",
            "line": n + 1,
            "end_line": n + 1,
            "message": "Move the threshold into configuration.",
        }
        for n in range(findings)
    ]
    paths = {f["path"] for f in found}
    now = datetime.now(UTC)
    with sessions() as session:
        state = store.start_ledger_commit(
            session, full_name, "a" * 40, scope="full", catalogue="c", to_analyse=paths,
            analysed_paths=paths, recorded_at=now,
        )  # fmt: skip
        store.add_ledger_findings(session, state.id, found, paths)
        store.finish_ledger_commit(session, state.id, now)


@dataclass
class Dashboard:
    fake: FakeGitHub
    client: TestClient
    settings: object
    sessions: object

    def sign_in(self, login: str, next_path: str = "/dashboard") -> httpx.Response:
        """The whole round trip: our login, GitHub's authorize page, our callback."""
        self.fake.sign_in_as(login)
        start = self.client.get("/dashboard/login", params={"next": next_path},
                                follow_redirects=False)  # fmt: skip
        assert start.status_code == 303
        at_github = httpx.get(start.headers["location"], follow_redirects=False)
        assert at_github.status_code == 302
        back = urlsplit(at_github.headers["location"])
        assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL
        return self.client.get(f"{back.path}?{back.query}", follow_redirects=False)

    def age_sessions(self, **values: datetime) -> None:
        """Move the stored sessions' moments, as time passing would."""
        with self.sessions() as session:
            session.execute(update(store.WebSession).values(**values))
            session.commit()

    def status(self, path: str) -> int:
        return self.client.get(path, follow_redirects=False).status_code


def make_dashboard(fake: FakeGitHub, tmp_path: Path, database_url: str, **settings) -> Dashboard:
    config = fake.settings(tmp_path, database_url=database_url, github_url=fake.web_url, **settings)
    app = create_app(config, run_worker=False)
    client = TestClient(app, base_url=PUBLIC_URL)
    client.__enter__()
    return Dashboard(fake, client, config, app.state.session_factory)


@pytest.fixture
def dashboard(fake_github: FakeGitHub, tmp_path: Path, database_url: str):
    fake = fake_github
    fake.add_installation(1, ORG)
    fake.add_repository(f"{ORG}/models", installation_id=1)
    fake.add_repository(f"{ORG}/data", installation_id=1)
    fake.add_repository(f"{ORG}/secret", installation_id=1, private=True)
    fake.add_installation(2, "dave", account_type="User")
    fake.add_repository("dave/notebooks", installation_id=2)
    fake.add_member(ORG, "alice")
    fake.set_role(f"{ORG}/models", "bob", "read")  # an outside collaborator
    board = make_dashboard(fake, tmp_path, database_url)
    with board.sessions() as session:
        for installation, account in ((1, ORG), (2, "dave")):
            store.upsert_installation(session, installation, account)
            names = [r for r in fake.repositories if r.startswith(account + "/")]
            store.set_installation_repositories(
                session,
                installation,
                added=[store.RepositoryInfo(fake.repositories[n].id, n) for n in names],
            )
    for name, count in ((f"{ORG}/models", 3), (f"{ORG}/data", 1), (f"{ORG}/secret", 2),
                        ("dave/notebooks", 1)):  # fmt: skip
        record_ledger(board.sessions, name, count)
    yield board
    board.client.__exit__(None, None, None)


def test_signing_in_lands_where_asked_with_a_secure_cookie(dashboard: Dashboard) -> None:
    answer = dashboard.sign_in("alice", next_path=f"/dashboard/accounts/{ORG}")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dashboard/accounts/{ORG}"
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie"
                  and v.startswith("debtbot_session="))  # fmt: skip
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    page = dashboard.client.get(f"/dashboard/accounts/{ORG}")
    assert page.status_code == 200
    assert "octo-org/models" in page.text and "Signed in as alice" in page.text


def test_the_access_matrix(dashboard: Dashboard) -> None:
    dave = "/dashboard/accounts/dave"
    account, models, data, secret = (
        f"/dashboard/accounts/{ORG}",
        f"/dashboard/repos/{ORG}/models",
        f"/dashboard/repos/{ORG}/data",
        f"/dashboard/repos/{ORG}/secret",
    )
    expected = {
        # a member: the organisation and what it lets members read, not a private repository
        "alice": {account: 200, models: 200, data: 200, secret: 404, dave: 404},
        # an outside collaborator: the one repository, never the organisation's page
        "bob": {account: 404, models: 200, data: 404, secret: 404},
        # a stranger: nothing at all, and nothing that tells them what exists
        "carol": {account: 404, models: 404, data: 404, secret: 404},
        # a user who installed the App on their own account
        "dave": {dave: 200, "/dashboard/repos/dave/notebooks": 200,
                 account: 404, models: 404},
    }  # fmt: skip
    for login, pages in expected.items():
        dashboard.client.cookies.clear()
        assert dashboard.sign_in(login).status_code == 303
        seen = {path: dashboard.status(path) for path in pages}
        assert seen == pages, login
        api = {path: dashboard.status(path.replace("/dashboard/", "/dashboard/api/", 1))
               for path in pages}  # fmt: skip
        assert api == pages, f"{login} through the API"


def test_what_is_hidden_looks_like_what_does_not_exist(dashboard: Dashboard) -> None:
    dashboard.sign_in("carol")
    hidden = dashboard.client.get(f"/dashboard/repos/{ORG}/models")
    missing = dashboard.client.get(f"/dashboard/repos/{ORG}/nothing-here")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text


def test_the_home_page_lists_what_each_may_see(dashboard: Dashboard) -> None:
    dashboard.sign_in("bob")
    listing = dashboard.client.get("/dashboard/api/accounts").json()
    assert listing == {"viewer": "bob", "accounts": [], "repositories": [f"{ORG}/models"]}
    page = dashboard.client.get("/dashboard")
    assert f"{ORG}/models" in page.text and f"/dashboard/accounts/{ORG}" not in page.text


def test_not_signed_in_pages_send_to_sign_in_and_the_api_says_401(dashboard: Dashboard) -> None:
    page = dashboard.client.get(f"/dashboard/repos/{ORG}/models", follow_redirects=False)
    assert page.status_code == 303
    target = urlsplit(page.headers["location"])
    assert target.path == "/dashboard/login"
    assert parse_qs(target.query)["next"] == [f"/dashboard/repos/{ORG}/models"]
    assert dashboard.status(f"/dashboard/api/repos/{ORG}/models") == 401


def test_logout_ends_the_session_for_good(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    cookie = dashboard.client.cookies.get("debtbot_session")
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 200
    assert dashboard.client.post("/dashboard/logout", follow_redirects=False).status_code == 303
    assert "debtbot_session" not in dashboard.client.cookies
    # The old cookie, replayed, signs nobody in: the session is gone from the store.
    dashboard.client.cookies.set("debtbot_session", cookie)
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 303


def test_a_tampered_or_expired_session_is_refused(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    cookie = dashboard.client.cookies.get("debtbot_session")
    dashboard.client.cookies.set(
        "debtbot_session", cookie[:-2] + ("A" if cookie[-1] != "A" else "B") * 2
    )
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 303
    dashboard.client.cookies.set("debtbot_session", cookie)
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 200
    dashboard.age_sessions(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 303


def test_a_session_survives_a_restart(
    dashboard: Dashboard, fake_github: FakeGitHub, tmp_path: Path, database_url: str
) -> None:
    dashboard.sign_in("alice")
    cookie = dashboard.client.cookies.get("debtbot_session")
    restarted = make_dashboard(fake_github, tmp_path, database_url)
    try:
        restarted.client.cookies.set("debtbot_session", cookie)
        assert restarted.status(f"/dashboard/accounts/{ORG}") == 200
    finally:
        restarted.client.__exit__(None, None, None)


def test_a_sign_in_not_started_here_is_refused(dashboard: Dashboard) -> None:
    dashboard.fake.sign_in_as("alice")
    # A code and state from a sign-in this browser never started (login CSRF): no state cookie.
    authorize = (
        f"{dashboard.fake.web_url}/login/oauth/authorize?client_id={dashboard.fake.client_id}"
        f"&redirect_uri={PUBLIC_URL}/dashboard/callback&state=forged"
    )
    back = urlsplit(httpx.get(authorize, follow_redirects=False).headers["location"])
    answer = dashboard.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert answer.status_code == 400
    assert "debtbot_session" not in dashboard.client.cookies


def test_sign_in_never_sends_the_browser_to_another_host(dashboard: Dashboard) -> None:
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        dashboard.client.cookies.clear()
        answer = dashboard.sign_in("alice", next_path=target)
        assert answer.headers["location"] == "/dashboard", target


def test_a_used_code_is_refused_with_a_clear_page(dashboard: Dashboard) -> None:
    dashboard.fake.sign_in_as("alice")
    start = dashboard.client.get("/dashboard/login", follow_redirects=False)
    back = urlsplit(
        httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    )
    first = dashboard.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert first.status_code == 303
    dashboard.client.cookies.clear()
    # The state cookie is gone with the first use; a replay is refused either way.
    replay = dashboard.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert replay.status_code == 400 and "Sign in with GitHub" in replay.text


def test_access_is_asked_again_and_follows_github(
    fake_github: FakeGitHub, tmp_path: Path, database_url: str, dashboard: Dashboard
) -> None:
    dashboard.sign_in("alice")
    secret = f"/dashboard/repos/{ORG}/secret"
    assert dashboard.status(secret) == 404
    fake_github.set_role(f"{ORG}/secret", "alice", "read")
    asked = len(fake_github.requests_to("GET", "/user/installations"))
    # Within DASHBOARD_ACCESS_SECONDS the answer GitHub gave at sign-in stands.
    assert dashboard.status(secret) == 404
    assert len(fake_github.requests_to("GET", "/user/installations")) == asked
    dashboard.age_sessions(access_checked_at=datetime.now(UTC) - timedelta(hours=1))
    assert dashboard.status(secret) == 200
    assert len(fake_github.requests_to("GET", "/user/installations")) == asked + 1


def test_a_revoked_installation_shows_nothing(dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    assert dashboard.status(f"/dashboard/repos/{ORG}/models") == 200
    with dashboard.sessions() as session:
        store.remove_installation(session, 1)
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 404
    assert dashboard.status(f"/dashboard/repos/{ORG}/models") == 404
    assert dashboard.status(f"/dashboard/api/repos/{ORG}/models") == 404


def test_a_token_github_revoked_ends_the_session(
    fake_github: FakeGitHub, dashboard: Dashboard
) -> None:
    dashboard.sign_in("alice")
    fake_github.revoke_user_tokens("alice")
    dashboard.age_sessions(access_checked_at=datetime.now(UTC) - timedelta(hours=1))
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 303
    with dashboard.sessions() as session:
        assert session.query(store.WebSession).count() == 0


def test_an_expired_token_is_refreshed(fake_github: FakeGitHub, dashboard: Dashboard) -> None:
    dashboard.sign_in("alice")
    dashboard.age_sessions(
        access_checked_at=datetime.now(UTC) - timedelta(hours=1),
        token_expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    assert dashboard.status(f"/dashboard/accounts/{ORG}") == 200
    refreshes = [r for r in fake_github.requests_to("POST", "/login/oauth/access_token")
                 if (r.form or {}).get("grant_type") == "refresh_token"]  # fmt: skip
    assert len(refreshes) == 1


def test_github_down_while_asking_is_a_503_not_a_guess(
    fake_github: FakeGitHub, dashboard: Dashboard
) -> None:
    dashboard.sign_in("alice")
    dashboard.age_sessions(access_checked_at=datetime.now(UTC) - timedelta(hours=1))
    fake_github.fail("GET", "/user/installations", 502)
    answer = dashboard.client.get(f"/dashboard/accounts/{ORG}", follow_redirects=False)
    assert answer.status_code == 503 and "try again" in answer.text


def test_without_oauth_settings_sign_in_says_what_to_set(
    fake_github: FakeGitHub, tmp_path: Path, database_url: str
) -> None:
    board = make_dashboard(
        fake_github, tmp_path, database_url, github_client_id=None, github_client_secret=None
    )
    try:
        answer = board.client.get("/dashboard/login", follow_redirects=False)
        assert answer.status_code == 503
        assert "GITHUB_CLIENT_ID" in answer.text and "GITHUB_CLIENT_SECRET" in answer.text
    finally:
        board.client.__exit__(None, None, None)
