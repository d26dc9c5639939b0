"""The web server: settings, POST /webhook, /healthz, /metrics, serve()."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from bot import store
from bot.app import events
from bot.app import server as main
from bot.app.events import Route
from bot.app.webhooks import MAX_BODY_BYTES, signature
from bot.github.client import GitHubApp
from bot.settings import Settings, SettingsError, credentials_given, load_settings
from tests import ROOT
from tests.fakes.github import app_private_key

SECRET = "It's a Secret to Everybody"
SETTING_VARIABLES = (
    "GITHUB_APP_ID",
    "GITHUB_PRIVATE_KEY",
    "GITHUB_PRIVATE_KEY_PATH",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_API_URL",
    "GITHUB_URL",
    "DATABASE_URL",
    "PUBLIC_URL",
    "DATA_DIR",
    "MAX_INLINE_COMMENTS",
)


PEM = app_private_key()


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No App variable set and no .env file in reach."""
    for name in SETTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = {
        "github_app_id": 1234,
        "github_private_key": PEM,
        "github_webhook_secret": SECRET,
        "database_url": f"sqlite:///{tmp_path}/debtbot.sqlite3",
        "public_url": "https://debtbot.example.com",
        "data_dir": tmp_path / "data",
        "worker_poll_seconds": 0.05,
        "worker_backoff_seconds": 0,
    }
    return Settings(**{**values, **overrides})


def pull_request_payload(action: str = "opened", number: int = 12, head: str = "a" * 40) -> dict:
    """Shaped like GitHub's pull_request webhook (trimmed to what matters plus a little more)."""
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": "open",
            "draft": False,
            "user": {"login": "octocat", "type": "User"},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": "octo-org/models"}},
            "base": {"sha": "b" * 40, "ref": "main", "repo": {"full_name": "octo-org/models"}},
        },
        "repository": {
            "id": 99,
            "name": "models",
            "full_name": "octo-org/models",
            "owner": {"login": "octo-org", "type": "Organization"},
            "clone_url": "https://github.com/octo-org/models.git",
        },
        "installation": {"id": 7, "node_id": "MDIz"},
        "sender": {"login": "octocat", "type": "User"},
    }


def post(client: TestClient, event: str, payload, delivery: str | None = None, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature(SECRET, body),
        "Content-Type": "application/json",
        **headers,
    }
    return client.post("/webhook", content=body, headers=sent)


def deliveries(client: TestClient) -> list[store.Delivery]:
    with client.app.state.session_factory() as session:
        return list(session.scalars(select(store.Delivery).order_by(store.Delivery.id)))


@pytest.fixture
def client(tmp_path, database_url):
    """The App with the real event table and no worker: deliveries stay as recorded."""
    app = main.create_app(make_settings(tmp_path, database_url=database_url), run_worker=False)
    with TestClient(app) as client:
        yield client


# --- settings ---------------------------------------------------------------------------------


def test_missing_settings_are_named_in_one_message(clean_environment):
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    for name in ("GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET", "PUBLIC_URL", "GITHUB_PRIVATE_KEY"):
        assert name in message
    assert "DATABASE_URL" not in message  # it has a default


def test_invalid_settings_are_named_together(clean_environment, monkeypatch):
    monkeypatch.setenv("GITHUB_APP_ID", "not-a-number")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", "ssh-rsa AAAA")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("PUBLIC_URL", "debtbot.example.com")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    lines = str(raised.value).splitlines()[1:]
    assert len(lines) == 3
    assert any(line.strip().startswith("- GITHUB_APP_ID:") for line in lines)
    assert any("GITHUB_PRIVATE_KEY: is not a PEM private key" in line for line in lines)
    assert any("PUBLIC_URL: must start with http" in line for line in lines)


def test_the_key_comes_from_exactly_one_place(clean_environment, monkeypatch, tmp_path):
    key_file = tmp_path / "app.pem"
    key_file.write_text(PEM)
    monkeypatch.setenv("GITHUB_APP_ID", "1")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("PUBLIC_URL", "https://x.example")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key_file))
    assert load_settings().private_key_text() == PEM

    monkeypatch.setenv("GITHUB_PRIVATE_KEY", PEM)
    with pytest.raises(SettingsError, match="only one of GITHUB_PRIVATE_KEY"):
        load_settings()
    monkeypatch.delenv("GITHUB_PRIVATE_KEY")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(tmp_path / "absent.pem"))
    with pytest.raises(SettingsError, match="GITHUB_PRIVATE_KEY_PATH: cannot read"):
        load_settings()


def test_a_one_line_key_with_escaped_newlines_is_accepted(clean_environment, monkeypatch):
    monkeypatch.setenv("GITHUB_APP_ID", "1")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("PUBLIC_URL", "https://x.example/")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", PEM.replace("\n", "\\n"))
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    settings = load_settings()
    assert settings.private_key_text() == PEM
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.public_url == "https://x.example"
    assert (settings.github_url, settings.max_inline_comments) == ("https://github.com", 25)
    assert settings.database_url == "sqlite:///./debtbot.sqlite3"


def test_serve_stops_with_exit_status_2_when_credentials_are_partly_given(
    clean_environment, monkeypatch, capsys
):
    # The webhook secret alone: a half-done setup to finish by hand, not one to start afresh.
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    assert main.serve("127.0.0.1", 0) == 2
    error = capsys.readouterr().err
    assert "debtbot cannot start" in error and "GITHUB_APP_ID is not set" in error
    assert "PUBLIC_URL is not set" in error


def test_credentials_in_env_file_or_environment_in_any_case_mean_no_setup_mode(
    clean_environment, monkeypatch, tmp_path
):
    assert not credentials_given()
    (tmp_path / ".env").write_text("PUBLIC_URL=https://x.example\nGITHUB_URL=https://ghe.x\n")
    assert not credentials_given()  # where the App will live is no credential
    (tmp_path / ".env").write_text("github_app_id=\n")
    assert credentials_given()  # empty, but there: named as invalid rather than ignored
    (tmp_path / ".env").unlink()
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", "/nowhere.pem")
    assert credentials_given()


def test_serve_refuses_an_invalid_github_url_in_setup_mode_too(
    clean_environment, monkeypatch, capsys
):
    monkeypatch.setenv("GITHUB_URL", "ghe.example.com")
    assert main.serve("127.0.0.1", 0) == 2
    assert "GITHUB_URL: must start with http" in capsys.readouterr().err


# --- POST /webhook ----------------------------------------------------------------------------


def test_ping_is_answered_and_not_stored(client):
    response = post(client, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert response.status_code == 200
    assert deliveries(client) == []


def test_a_pull_request_event_is_recorded_and_acknowledged(client):
    payload = pull_request_payload("synchronize")
    response = post(client, "pull_request", payload, delivery="d-1")
    assert (response.status_code, response.json()["status"]) == (202, "queued")
    [delivery] = deliveries(client)
    assert (delivery.delivery_id, delivery.event, delivery.action, delivery.status) == (
        "d-1",
        "pull_request",
        "synchronize",
        "pending",
    )
    assert delivery.subject == "octo-org/models#12"
    assert json.loads(delivery.payload) == payload


def test_a_redelivery_is_acknowledged_and_does_nothing(client):
    assert post(client, "pull_request", pull_request_payload(), delivery="d-1").status_code == 202
    again = post(client, "pull_request", pull_request_payload(), delivery="d-1")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert len(deliveries(client)) == 1


@pytest.mark.parametrize(
    "header", [None, "sha256=" + "0" * 64, "sha1=abc", signature("another secret", b"{}")]
)
def test_a_missing_or_wrong_signature_gets_401_and_nothing_is_stored(client, header):
    body = json.dumps(pull_request_payload()).encode()
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1"}
    if header:
        headers["X-Hub-Signature-256"] = header
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 401
    assert deliveries(client) == []


def test_the_signature_covers_the_exact_bytes(client):
    body = json.dumps(pull_request_payload()).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": signature(SECRET, body),
    }
    # Same JSON, one more space: a different body, so the signature no longer matches.
    response = client.post("/webhook", content=body + b" ", headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"not json", "not UTF-8 JSON"), (b"[1, 2]", "not a JSON object"), (b"\xff\xfe", "UTF-8")],
)
def test_a_body_that_is_not_a_json_object_gets_400(client, body, reason):
    response = post(client, "pull_request", body)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert deliveries(client) == []


def test_a_payload_missing_what_the_event_needs_gets_400_naming_it(client):
    payload = pull_request_payload()
    del payload["pull_request"]["head"]["sha"]
    del payload["installation"]
    response = post(client, "pull_request", payload)
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "installation: Field required; pull_request.head.sha: Field required"
    )
    assert deliveries(client) == []


def test_headers_github_always_sends_are_required(client):
    body = json.dumps(pull_request_payload()).encode()
    response = client.post(
        "/webhook",
        content=body,
        headers={"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": signature(SECRET, body)},
    )
    assert response.status_code == 400
    assert "X-GitHub-Delivery" in response.json()["detail"]


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("issues", {"action": "opened", "issue": {"number": 1}}),
        ("pull_request", pull_request_payload("closed")),
        ("pull_request", pull_request_payload("labeled")),
        ("star", {"action": "created"}),
        # The App's own jobs: a signed delivery claiming to be one is still not run.
        (
            "debtbot.ledger",
            {"action": "analyse", "installation": {"id": 1}, "repository": {"full_name": "a/b"}},
        ),
    ],
)
def test_events_the_app_does_not_handle_get_202_and_are_not_stored(client, event, payload):
    response = post(client, event, payload)
    assert (response.status_code, response.json()["status"]) == (202, "ignored")
    assert deliveries(client) == []


@pytest.mark.parametrize(
    ("headers", "status", "said"),
    [
        ({"X-GitHub-Delivery": "x" * 129}, 400, "malformed"),
        ({"X-GitHub-Delivery": "id with spaces"}, 400, "malformed"),
        ({"X-GitHub-Event": "E" * 65}, 400, "malformed"),
        ({"X-GitHub-Event": "pull request"}, 400, "malformed"),
        ({"X-GitHub-Event": "Pull_Request"}, 400, "malformed"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({"Content-Type": "text/plain"}, 415, "application/json"),
    ],
)
def test_odd_headers_are_refused_and_store_nothing(client, headers, status, said):
    response = post(client, "pull_request", pull_request_payload(), **headers)
    assert response.status_code == status
    assert said in response.json()["detail"]
    assert deliveries(client) == []


def test_an_action_that_is_not_a_string_is_refused(client):
    for action in ([1, 2], {"login": None}, 7):
        payload = {**pull_request_payload(), "action": action}
        response = post(client, "pull_request", payload)
        assert (response.status_code, response.json()["detail"]) == (400, "action: not a string")
    assert deliveries(client) == []


def test_a_field_of_the_wrong_type_is_refused_naming_it(client):
    payload = pull_request_payload()
    payload["pull_request"]["number"] = "12"  # strict: GitHub sends numbers as numbers
    payload["installation"]["id"] = True
    response = post(client, "pull_request", payload)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "installation.id: Input should be a valid integer" in detail
    assert "pull_request.number: Input should be a valid integer" in detail
    assert deliveries(client) == []


def test_a_body_over_25_mb_gets_413(client):
    body = b"x" * (MAX_BODY_BYTES + 1)
    response = post(client, "pull_request", body)
    assert response.status_code == 413
    assert deliveries(client) == []


def test_a_chunked_body_over_25_mb_gets_413_too(client):
    def chunks():
        for _ in range(26):
            yield b"x" * (1024 * 1024)

    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1"}
    response = client.post("/webhook", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert client.get("/healthz").status_code == 200


def test_the_answer_does_not_wait_for_the_work(tmp_path, database_url):
    started, release = threading.Event(), threading.Event()

    def slow_review(payload, context):
        started.set()
        release.wait(10)

    routes = {("pull_request", "opened"): Route(slow_review, None, lambda payload: "s")}
    app = main.create_app(make_settings(tmp_path, database_url=database_url), routes=routes)
    with TestClient(app) as client:
        began = time.monotonic()
        response = post(client, "pull_request", pull_request_payload())
        elapsed = time.monotonic() - began
        assert response.status_code == 202
        assert started.wait(5), "the worker never picked the delivery up"
        assert elapsed < 1.0
        release.set()


# --- the event table, run by the worker -----------------------------------------------------


def installation_payload(action: str, repositories=None) -> dict:
    payload = {
        "action": action,
        "installation": {
            "id": 7,
            "account": {"login": "octo-org", "id": 1, "type": "Organization"},
            "app_id": 1234,
            "target_type": "Organization",
        },
        "sender": {"login": "octocat"},
    }
    if repositories is not None:
        payload["repositories"] = repositories
    return payload


def wait_until_done(client: TestClient, count: int, timeout: float = 5.0) -> list[store.Delivery]:
    """GitHub's deliveries once all are done (the App's own jobs they queued aside)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [r for r in deliveries(client) if not r.event.startswith("debtbot.")]
        if len(rows) >= count and all(r.status in ("done", "failed") for r in rows):
            return rows
        time.sleep(0.02)
    raise AssertionError(f"deliveries not finished: {[(r.event, r.status) for r in rows]}")


def test_installation_events_keep_the_store_current(tmp_path, database_url, fake_github):
    repo = {"id": 1, "name": "models", "full_name": "octo-org/models", "private": True}
    other = {"id": 2, "name": "data", "full_name": "octo-org/data", "private": False}
    # The ledger's backfills these queue ask the simulated GitHub, which knows nothing of them.
    settings = make_settings(tmp_path, database_url=database_url, github_api_url=fake_github.url)
    with TestClient(main.create_app(settings)) as client:
        post(client, "installation", installation_payload("created", [repo]))
        added = installation_payload("added")
        added.update(repositories_added=[other], repositories_removed=[], repository_selection="x")
        post(client, "installation_repositories", added)
        removed = installation_payload("removed")
        removed.update(repositories_added=[], repositories_removed=[repo])
        post(client, "installation_repositories", removed)
        post(client, "installation", installation_payload("suspend"))
        rows = wait_until_done(client, 4)
        assert [r.status for r in rows] == ["done"] * 4
        with client.app.state.session_factory() as session:
            assert store.active_repositories(session, 7) == ["octo-org/data"]
            installation = session.get(store.Installation, 7)
            assert installation.account_login == "octo-org"
            assert installation.suspended_at is not None
        post(client, "installation", installation_payload("deleted"))
        wait_until_done(client, 5)
        with client.app.state.session_factory() as session:
            assert store.active_repositories(session, 7) == []
            assert session.get(store.Installation, 7).removed_at is not None


def test_the_table_sends_pull_requests_to_the_review_pipeline():
    for action in ("opened", "reopened", "synchronize", "ready_for_review"):
        assert events.ROUTES["pull_request", action].handler is events.review_pull_request
    assert ("pull_request", "closed") not in events.ROUTES
    events.ROUTES["pull_request", "opened"].payload.model_validate(pull_request_payload())


# --- /healthz and /metrics --------------------------------------------------------------------


def test_healthz_checks_the_database(client):
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "worker": False,
        "summaries": False,
    }
    broken = create_engine(f"sqlite:///{client.app.state.settings.data_dir}/no/such/dir/x.db")
    client.app.state.session_factory = store.make_session_factory(broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


def test_healthz_reports_the_worker_and_the_summary_scheduler(tmp_path, database_url):
    with TestClient(main.create_app(make_settings(tmp_path, database_url=database_url))) as client:
        health = client.get("/healthz").json()
        assert health["worker"] is True and health["summaries"] is True
        scheduler = client.app.state.scheduler
        scheduler.stop()
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "unhealthy", "summaries": "stopped"}
    assert not scheduler.thread.is_alive()


def test_a_replica_can_leave_summaries_to_the_others(tmp_path, database_url):
    with TestClient(
        main.create_app(make_settings(tmp_path, database_url=database_url, summaries=False))
    ) as client:
        assert client.app.state.scheduler is None
        assert client.get("/healthz").json()["summaries"] is False


def test_metrics_count_deliveries_and_show_the_queue(client):
    def sample(text: str, name: str) -> float:
        line = next((x for x in text.splitlines() if x.startswith(name + " ")), None)
        return float(line.split()[-1]) if line else 0.0

    received = 'debtbot_deliveries_total{event="pull_request",status="received"}'
    before = sample(client.get("/metrics").text, received)
    post(client, "pull_request", pull_request_payload(), delivery="m-1")
    post(client, "pull_request", pull_request_payload(), delivery="m-1")
    post(client, "pull_request", pull_request_payload(), delivery="m-2")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, received) - before == 2
    assert sample(text, 'debtbot_queue_deliveries{status="pending"}') == 2
    for name in (
        "debtbot_reviews_total",
        "debtbot_findings_total",
        "debtbot_commands_total",
        "debtbot_summaries_total",
        "debtbot_review_seconds",
        "debtbot_github_calls_total",
    ):
        assert f"# TYPE {name}" in text


def test_pull_request_jobs_reach_the_review_pipeline(tmp_path, database_url, monkeypatch):
    from bot.review import pipeline as review

    calls = []
    monkeypatch.setattr(
        review, "handle_pull_request", lambda p, services: calls.append((p, services))
    )
    settings = make_settings(tmp_path, database_url=database_url)
    with TestClient(main.create_app(settings)) as client:
        payload = pull_request_payload("ready_for_review")
        assert post(client, "pull_request", payload).status_code == 202
        [delivery] = wait_until_done(client, 1)
    assert delivery.status == "done"
    [(received, services)] = calls
    assert received == payload
    # The App's own services: its settings, GitHub as they describe it, mirrors in its data dir.
    assert services.settings is settings
    assert services.github == GitHubApp.from_settings(settings)
    assert services.mirrors.data_dir == settings.data_dir


def test_the_manifest_asks_for_the_least_the_app_needs():
    import yaml

    text = (ROOT / "app.yml").read_text()
    manifest = yaml.safe_load(text)
    assert manifest["default_permissions"] == {
        "pull_requests": "write",
        "checks": "write",
        "contents": "read",
        "issues": "write",
        "metadata": "read",
    }
    # GitHub sends installation events to every App; they cannot be subscribed to.
    # Every other event the App handles is one it subscribes to, and no more.
    # The App's own jobs ("debtbot.") are not GitHub's events.
    handled = {event for event, _ in events.ROUTES if not event.startswith("debtbot.")} - {
        "installation",
        "installation_repositories",
    }
    assert sorted(manifest["default_events"]) == sorted(handled)
    assert manifest["hook_attributes"]["url"].endswith("/webhook")
    assert manifest["redirect_url"].endswith("/setup/callback")
    lines = text.splitlines()
    for permission in manifest["default_permissions"]:
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(permission))
        assert lines[index - 1].strip().startswith("#"), f"{permission} has no comment saying why"


# --- the home page ----------------------------------------------------------------------------


def test_the_home_page_shows_the_health_and_where_the_app_is_installed(tmp_path, database_url):
    with TestClient(main.create_app(make_settings(tmp_path, database_url=database_url))) as client:
        post(client, "installation", installation_payload("created"))
        wait_until_done(client, 1)
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Database: ok" in page.text and "Worker: running" in page.text
        assert '<a href="https://github.com/octo-org">octo-org</a>' in page.text
        for link in ('href="/rules"', 'href="/healthz"'):
            assert link in page.text


def test_the_home_page_says_when_the_database_does_not_answer(client):
    assert "Worker: not running in this process" in client.get("/").text
    broken = create_engine(f"sqlite:///{client.app.state.settings.data_dir}/no/such/dir/x.db")
    client.app.state.session_factory = store.make_session_factory(broken)
    page = client.get("/")
    assert page.status_code == 200 and "Database: does not answer" in page.text


def test_setup_routes_do_not_exist_once_the_app_is_registered(client):
    assert client.post("/setup", data={"owner": "user"}).status_code == 404
    assert client.get("/setup/callback", params={"code": "c", "state": "s"}).status_code == 404


def test_env_example_lists_every_setting_commented_out():
    from bot.logs import LogSettings

    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z_]+)=", text, flags=re.MULTILINE))
    known = {name.upper() for name in (*Settings.model_fields, *LogSettings.model_fields)}
    assert listed == known
    # Copied to .env as it is, it sets nothing: a fresh start stays in setup mode.
    assert not [line for line in text.splitlines() if line and not line.startswith("#")]
