"""Setup mode at its HTTP boundary: the pages a browser sees, the manifest it posts to GitHub,
and the code traded for credentials, with GitHub's answers played by respx."""

from __future__ import annotations

import json
import logging
import stat
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
import yaml
from fastapi.testclient import TestClient

from bot.app.server import setup_mode_app
from bot.settings import SetupSettings
from tests import ROOT
from tests.bot.app.test_server import SETTING_VARIABLES
from tests.fakes.github import FakeGitHub, app_private_key

PEM = app_private_key()
WEBHOOK_SECRET = "e340154128314309424b7c8e90325147d99fdafa"
CLIENT_SECRET = "1726be1638095a19edd134c77bde3aa2ece1e5d8"
API = "https://api.github.com"
CODE = "a180b1a3d263c81bc6441d7b990bae27d4c10679"


def registered_app(**changes) -> dict:
    """GitHub's 201 answer to a manifest conversion, as its documentation shows it."""
    answer = {
        "id": 1,
        "slug": "debtbot-acme",
        "node_id": "MDxOkludGVncmF0aW9uMQ==",
        "owner": {"login": "acme", "id": 1, "type": "Organization"},
        "name": "debtbot-acme",
        "description": "Reviews Python pull requests for machine-learning technical debt.",
        "external_url": "https://debtbot.example.com",
        "html_url": "https://github.com/apps/debtbot-acme",
        "created_at": "2026-01-05T16:18:44-04:00",
        "updated_at": "2026-01-05T16:18:44-04:00",
        "permissions": {"metadata": "read", "pull_requests": "write"},
        "events": ["pull_request"],
        "client_id": "Iv1.8a61f9b3a7aba766",
        "client_secret": CLIENT_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "pem": PEM,
    }
    return answer | changes


class Forms(HTMLParser):
    """The forms of a page with their inputs, as a browser would submit them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action"), "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    """An empty working folder and no App setting anywhere, as on a fresh clone."""
    for name in (*SETTING_VARIABLES, "GITHUB_WEBHOOK_SECRET", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/debtbot.sqlite3")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def clock() -> Clock:
    return Clock()


def setup_client(clock: Clock, base_url: str = "http://localhost:8000", **settings) -> TestClient:
    app = setup_mode_app(SetupSettings(**settings), clock=clock, github_timeout=2)
    return TestClient(app, base_url=base_url)


@pytest.fixture
def client(folder, clock):
    with setup_client(clock) as client:
        yield client


def start(client: TestClient, headers: dict | None = None, **form) -> tuple[str, dict]:
    """Fill in the setup page's form; the form GitHub receives: its action, and the manifest."""
    page = client.get("/", headers=headers)
    assert page.status_code == 200
    [setup_form] = Forms(page.text).forms
    assert setup_form["action"] == "/setup"
    fields = setup_form["fields"] | {"owner": "user"} | form
    answer = client.post("/setup", data=fields, headers=headers)
    assert answer.status_code == 200, answer.text
    [github_form] = Forms(answer.text).forms
    assert "Register GitHub App" in answer.text
    return github_form["action"], json.loads(github_form["fields"]["manifest"])


def state_of(action: str) -> str:
    return parse_qs(urlsplit(action).query)["state"][0]


def callback(client: TestClient, state: str, code: str = CODE) -> httpx.Response:
    return client.get(
        "/setup/callback", params={"code": code, "state": state}, follow_redirects=False
    )


def env_mode(folder: Path) -> int:
    return stat.S_IMODE((folder / ".env").stat().st_mode)


# --- the pages before GitHub ----------------------------------------------------------------


def test_the_setup_page_says_what_will_happen_and_that_localhost_is_unreachable(client, folder):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Set up debtbot" in page.text
    assert str(folder / ".env") in page.text
    assert "http://localhost:8000/webhook" in page.text
    assert "GitHub cannot reach this computer" in page.text
    [form] = Forms(page.text).forms
    assert form["fields"]["github_url"] == "https://github.com"
    assert client.get("/healthz").json() == {"status": "setup"}
    assert client.get("/rules").status_code == 200


def test_the_manifest_is_app_yml_with_this_servers_addresses(client):
    action, manifest = start(client, name="debtbot-ml")
    assert action.startswith("https://github.com/settings/apps/new?state=")
    template = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest == template | {
        "name": "debtbot-ml",
        "url": "http://localhost:8000",
        "hook_attributes": {"url": "http://localhost:8000/webhook", "active": True},
        "redirect_url": "http://localhost:8000/setup/callback",
        "callback_urls": ["http://localhost:8000/dashboard/callback"],
    }


def test_behind_a_tunnel_the_addresses_are_the_ones_the_proxy_reports(client):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "debtbot.trycloudflare.com"}
    action, manifest = start(client, headers=forwarded, owner="organisation", organisation="acme")
    assert action.startswith("https://github.com/organizations/acme/settings/apps/new?state=")
    assert manifest["hook_attributes"]["url"] == "https://debtbot.trycloudflare.com/webhook"
    assert manifest["redirect_url"] == "https://debtbot.trycloudflare.com/setup/callback"
    assert manifest["callback_urls"] == ["https://debtbot.trycloudflare.com/dashboard/callback"]
    page = client.get("/", headers=forwarded)
    assert "GitHub cannot reach this computer" not in page.text


def test_public_url_wins_and_an_enterprise_server_gets_its_own_address(folder, clock):
    with setup_client(clock, public_url="https://debtbot.acme.io/") as client:
        action, manifest = start(client, github_url="https://ghe.acme.io/")
    assert action.startswith("https://ghe.acme.io/settings/apps/new?state=")
    assert manifest["url"] == "https://debtbot.acme.io"
    assert manifest["hook_attributes"]["url"] == "https://debtbot.acme.io/webhook"


def test_a_form_with_mistakes_is_shown_again_naming_them(client):
    answer = client.post(
        "/setup",
        data={"owner": "organisation", "organisation": "-acme", "github_url": "ghe", "name": ""},
    )
    assert answer.status_code == 400
    assert "organisation&#x27;s login" in answer.text
    assert "must start with https://" in answer.text
    assert "Give the App a name" in answer.text
    [form] = Forms(answer.text).forms
    assert form["action"] == "/setup" and form["fields"]["organisation"] == "-acme"


# --- the way back from GitHub ---------------------------------------------------------------


@respx.mock(assert_all_called=False)
def test_a_registered_app_is_saved_and_runs_without_a_restart(folder, clock, caplog, respx_mock):
    (folder / ".env").write_text("LOG_LEVEL=info\n")
    conversion = respx_mock.post(f"{API}/app-manifests/{CODE}/conversions").respond(
        201, json=registered_app()
    )
    caplog.set_level(logging.DEBUG)
    with setup_client(clock) as client:
        action, _ = start(client, owner="organisation", organisation="acme")
        answer = callback(client, state_of(action))
        assert answer.status_code == 303
        assert (
            answer.headers["location"] == "https://github.com/apps/debtbot-acme/installations/new"
        )
        assert conversion.call_count == 1
        sent = conversion.calls.last.request
        assert sent.headers["accept"] == "application/vnd.github+json"

        # The same server is now the App: its home page, its worker, no setup routes.
        home = client.get("/")
        assert home.status_code == 200 and "Worker: running" in home.text
        assert "No account has installed the App yet" in home.text
        assert client.get("/healthz").json()["worker"] is True
        assert callback(client, state_of(action)).status_code == 404
        assert client.post("/setup", data={"owner": "user"}).status_code == 404
        worker = client.app.app.state.worker
    assert not worker.alive  # the server's shutdown stopped the App's worker

    assert env_mode(folder) == 0o600
    text = (folder / ".env").read_text()
    assert text.startswith("LOG_LEVEL=info\n")
    assert "GITHUB_APP_ID='1'" in text and "PUBLIC_URL='http://localhost:8000'" in text
    assert WEBHOOK_SECRET in text and "GITHUB_URL" not in text  # github.com is the default
    # The dashboard signs people in with the App's OAuth client: both are kept.
    assert f"GITHUB_CLIENT_SECRET='{CLIENT_SECRET}'" in text and "GITHUB_CLIENT_ID=" in text
    for secret in (WEBHOOK_SECRET, "PRIVATE KEY-----\n", CLIENT_SECRET):
        assert secret not in caplog.text and secret not in answer.text


@respx.mock(assert_all_called=False)
def test_an_enterprise_server_is_asked_at_its_api_and_remembered(folder, clock, respx_mock):
    conversion = respx_mock.post(
        f"https://ghe.acme.io/api/v3/app-manifests/{CODE}/conversions"
    ).respond(201, json=registered_app(html_url="https://ghe.acme.io/github-apps/debtbot-acme"))
    with setup_client(clock) as client:
        action, _ = start(client, github_url="https://ghe.acme.io")
        answer = callback(client, state_of(action))
        assert answer.headers["location"] == (
            "https://ghe.acme.io/github-apps/debtbot-acme/installations/new"
        )
    assert conversion.called
    text = (folder / ".env").read_text()
    assert "GITHUB_URL='https://ghe.acme.io'" in text
    assert "GITHUB_API_URL='https://ghe.acme.io/api/v3'" in text


@respx.mock
def test_an_unknown_or_expired_state_asks_to_start_again(client, clock, folder, respx_mock):
    unknown = callback(client, "not-a-state-we-gave")
    assert unknown.status_code == 400
    assert "Start again" in unknown.text and "Nothing was saved" in unknown.text
    action, _ = start(client)
    clock.now += 3601
    expired = callback(client, state_of(action))
    assert expired.status_code == 400 and "more than an hour old" in expired.text
    assert not respx_mock.calls  # GitHub was never asked
    assert not (folder / ".env").exists()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        (422, {"message": "Validation Failed", "errors": ["code has expired"]}),
    ],
)
@respx.mock
def test_a_code_github_no_longer_takes_means_starting_again(
    client, folder, respx_mock, status, body
):
    respx_mock.post(f"{API}/app-manifests/{CODE}/conversions").respond(status, json=body)
    (folder / ".env").write_text("LOG_LEVEL=info\n")
    action, _ = start(client)
    answer = callback(client, state_of(action))
    assert answer.status_code == 400
    assert "expired" in answer.text and "Start again" in answer.text
    assert (folder / ".env").read_text() == "LOG_LEVEL=info\n"
    # The state is spent with the code: the same link cannot be tried again.
    assert callback(client, state_of(action)).status_code == 400
    assert respx_mock.calls.call_count == 1


@respx.mock
def test_a_rate_limit_says_when_to_retry_and_the_same_link_works_then(client, folder, respx_mock):
    reset = int(time.time()) + 12 * 60
    route = respx_mock.post(f"{API}/app-manifests/{CODE}/conversions")
    route.side_effect = [
        httpx.Response(
            403,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            json={"message": "API rate limit exceeded for 203.0.113.7."},
        ),
        httpx.Response(201, json=registered_app()),
    ]
    action, _ = start(client)
    limited = callback(client, state_of(action))
    assert limited.status_code == 503
    assert time.strftime("%H:%M UTC", time.gmtime(reset)) in limited.text
    assert "in about 12 minutes" in limited.text
    assert not (folder / ".env").exists()
    assert 'href="/setup/callback?code=' in limited.text
    assert callback(client, state_of(action)).status_code == 303
    assert env_mode(folder) == 0o600


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"message": "Server Error"}),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
    ],
    ids=["500", "502", "timeout", "refused"],
)
@respx.mock
def test_github_unavailable_keeps_the_code_for_another_try(client, folder, respx_mock, failure):
    route = respx_mock.post(f"{API}/app-manifests/{CODE}/conversions")
    route.side_effect = [failure, httpx.Response(201, json=registered_app())]
    action, _ = start(client)
    answer = callback(client, state_of(action))
    assert answer.status_code == 502
    assert "GitHub is not answering" in answer.text and "valid for an hour" in answer.text
    assert not (folder / ".env").exists()
    assert callback(client, state_of(action)).status_code == 303
    assert "GITHUB_APP_ID='1'" in (folder / ".env").read_text()


@pytest.mark.parametrize("lacking", ["pem", "webhook_secret", "id", "html_url"])
@respx.mock
def test_an_answer_lacking_credentials_saves_nothing(client, folder, respx_mock, lacking):
    answer = registered_app()
    del answer[lacking]
    respx_mock.post(f"{API}/app-manifests/{CODE}/conversions").respond(201, json=answer)
    action, _ = start(client)
    page = callback(client, state_of(action))
    assert page.status_code == 502
    assert "answer was incomplete" in page.text and lacking in page.text
    assert "delete it" in page.text
    assert not (folder / ".env").exists()
    for secret in (WEBHOOK_SECRET, CLIENT_SECRET, "PRIVATE KEY"):
        assert secret not in page.text


@respx.mock
def test_credentials_that_cannot_be_saved_are_kept_for_another_try(client, folder, respx_mock):
    conversion = respx_mock.post(f"{API}/app-manifests/{CODE}/conversions").respond(
        201, json=registered_app()
    )
    (folder / ".env").mkdir()  # in the way: no file can be written there
    action, _ = start(client)
    page = callback(client, state_of(action))
    assert page.status_code == 500
    assert "could not be saved" in page.text and "Is a directory" in page.text
    assert WEBHOOK_SECRET not in page.text and "PRIVATE KEY" not in page.text
    (folder / ".env").rmdir()
    assert callback(client, state_of(action)).status_code == 303
    assert conversion.call_count == 1  # GitHub's code was used once; nothing was lost
    assert "GITHUB_APP_ID='1'" in (folder / ".env").read_text()


@respx.mock
def test_a_forbidden_registration_is_explained(client, folder, respx_mock):
    respx_mock.post(f"{API}/app-manifests/{CODE}/conversions").respond(
        403, json={"message": "Resource not accessible"}
    )
    action, _ = start(client)
    page = callback(client, state_of(action))
    assert page.status_code == 502
    assert "GitHub answered 403: Resource not accessible" in page.text
    assert not (folder / ".env").exists()


def test_an_organisation_registers_on_the_simulated_github_whose_codes_work_once(
    folder, clock, fake_github: FakeGitHub
):
    settings = {"github_url": fake_github.web_url, "github_api_url": fake_github.url}
    with setup_client(clock, **settings) as client:
        action, manifest = start(client, owner="organisation", organisation="acme")
        assert action.startswith(f"{fake_github.web_url}/organizations/acme/settings/apps/new?")
        back = httpx.post(action, data={"manifest": json.dumps(manifest)}, follow_redirects=False)
        assert back.status_code == 302
        location = urlsplit(back.headers["location"])
        assert (location.scheme, location.netloc, location.path) == (
            "http",
            "localhost:8000",
            "/setup/callback",
        )
        query = parse_qs(location.query)
        assert query["state"] == [state_of(action)]
        answer = callback(client, query["state"][0], query["code"][0])
        assert answer.status_code == 303
    assert fake_github.registered_manifests == [manifest]
    again = httpx.post(f"{fake_github.url}/app-manifests/{query['code'][0]}/conversions")
    assert again.status_code == 404
    saved = (folder / ".env").read_text()
    assert f"GITHUB_APP_ID='{fake_github.app_id}'" in saved
    assert f"GITHUB_WEBHOOK_SECRET='{fake_github.webhook_secret}'" in saved
