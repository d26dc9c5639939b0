"""GitHub's own webhook payload examples (npm's @octokit/webhooks-examples) through the App.

Our other tests build payloads the way the simulated GitHub does; these are the payloads GitHub
documents, so they catch a field we assume that GitHub does not send. The package is installed
by the test command (``npm ci --prefix tests/webhook_examples``).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import store
from bot.app import events
from bot.app import server as main
from bot.commands import handler as report
from bot.domain import PayloadError
from bot.ledger import ledger_subject
from bot.review import pipeline as review
from tests import TESTS
from tests.bot.app.test_server import make_settings, post

EXAMPLES = (
    TESTS / "webhook_examples/node_modules/@octokit/webhooks-examples/api.github.com/index.json"
)
EVENTS = (
    "pull_request",
    "push",
    "issue_comment",
    "installation",
    "installation_repositories",
    "check_run",
    "check_suite",
)


def webhook_examples(*events: str) -> list[tuple[str, dict[str, Any]]]:
    """GitHub's documented deliveries of these events, as (event, payload)."""
    if not EXAMPLES.is_file():
        raise RuntimeError(
            f"{EXAMPLES} is missing: install it with `npm ci --prefix tests/webhook_examples`"
        )
    catalogue = json.loads(EXAMPLES.read_text())
    return [
        (entry["name"], example)
        for entry in catalogue
        if entry["name"] in events
        for example in entry["examples"]
    ]


ALL = webhook_examples(*EVENTS)
IDS = [f"{event}-{payload.get('action')}-{n}" for n, (event, payload) in enumerate(ALL)]


@pytest.fixture
def recorder(tmp_path):
    """The App recording deliveries without running them."""
    with TestClient(main.create_app(make_settings(tmp_path), run_worker=False)) as client:
        yield client


def test_the_catalogue_has_every_event_and_action_the_app_handles():
    seen = {(event, payload.get("action") or "") for event, payload in ALL}
    from_github = {route for route in events.ROUTES if not route[0].startswith("debtbot.")}
    assert from_github <= seen  # so each handled pair meets a payload GitHub documents


@pytest.mark.parametrize(("event", "payload"), ALL, ids=IDS)
def test_each_documented_payload_is_queued_ignored_or_refused_for_a_reason(
    recorder, event, payload
):
    answer = post(recorder, event, payload)
    route = events.ROUTES.get((event, payload.get("action") or ""))
    if route is None:
        assert (answer.status_code, answer.json()["status"]) == (202, "ignored")
    elif "installation" in payload:
        assert (answer.status_code, answer.json()["status"]) == (202, "queued")
    else:
        # A repository webhook's example: GitHub names the installation in every delivery to
        # an App, and without it there is no token to act with.
        assert answer.status_code == 400
        assert answer.json()["detail"].startswith("installation: ")


@pytest.mark.parametrize(
    "payload",
    [p for e, p in ALL if e == "pull_request" and "installation" in p],
    ids=lambda p: p["action"],
)
def test_the_review_reads_what_it_needs_from_every_pull_request_example(payload):
    ref = review.pull_request_ref(payload)
    pull, repository = payload["pull_request"], payload["repository"]
    assert ref.full_name == repository["full_name"]
    assert (ref.number, ref.head_sha, ref.base_sha) == (
        pull["number"],
        pull["head"]["sha"],
        pull["base"]["sha"],
    )
    assert ref.installation_id == payload["installation"]["id"]


@pytest.mark.parametrize(
    "payload", [p for e, p in ALL if e == "issue_comment"], ids=lambda p: p["action"]
)
def test_every_issue_comment_example_is_read_or_refused_clearly(payload):
    if "installation" not in payload:
        with pytest.raises(PayloadError, match="installation"):
            report.comment_ref(payload)
        return
    ref = report.comment_ref(payload)
    assert ref.comment_id == payload["comment"]["id"]
    assert ref.author == payload["comment"]["user"]["login"]
    # The documented examples are comments on plain issues, which no command answers.
    assert ref.on_pull_request == ("pull_request" in payload["issue"])


def _settle(client: TestClient, delivery: str, seconds: float = 10) -> str:
    """The delivery's status once the worker is done with it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with client.app.state.session_factory() as session:
            status = session.scalar(
                select(store.Delivery.status).where(store.Delivery.delivery_id == delivery)
            )
        if status not in ("pending", "running"):
            return status
        time.sleep(0.05)
    raise AssertionError("the worker did not finish")


@pytest.mark.parametrize(
    ("event", "payload"),
    [(e, p) for e, p in ALL if e in ("installation", "installation_repositories")],
    ids=lambda value: value if isinstance(value, str) else value["action"],
)
def test_installation_examples_change_the_store_as_they_say(tmp_path, fake_github, event, payload):
    installation = payload["installation"]
    account = installation["account"]["login"]
    # The simulated GitHub knows none of these installations: the ledger's backfills fail
    # there at once; what matters here is that they were queued.
    settings = make_settings(tmp_path, github_api_url=fake_github.url)
    with TestClient(main.create_app(settings)) as client:
        assert post(client, event, payload, delivery="the-delivery").status_code == 202
        handled = (event, payload["action"]) in events.ROUTES
        assert _settle(client, "the-delivery") == ("done" if handled else None)
        with client.app.state.session_factory() as session:
            active = store.installation_of(session, account)
            repositories = store.active_repositories(session, installation["id"])
            backfills = set(
                session.scalars(
                    select(store.Delivery.subject).where(store.Delivery.event == "debtbot.ledger")
                )
            )
    action = payload["action"]
    if action in ("deleted", "suspend"):
        assert active is None
    elif action == "new_permissions_accepted":
        assert active is None  # an event the App does not act on: the store learnt nothing
    else:
        assert active is not None and active.id == installation["id"]
    if event == "installation" and action == "created":
        assert repositories == sorted(r["full_name"] for r in payload.get("repositories", []))
        assert backfills == {ledger_subject(name) for name in repositories}
    if event == "installation_repositories":
        assert set(repositories) == {r["full_name"] for r in payload["repositories_added"]}
        assert backfills == {ledger_subject(name) for name in repositories}
