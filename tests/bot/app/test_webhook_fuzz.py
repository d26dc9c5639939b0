"""Correctly signed deliveries with mutated payloads and odd headers, as an attacker (or a broken
proxy) sends them: every one gets an answer below 500, nothing logs a traceback, a refused
delivery stores nothing, and the server still answers afterwards.

The payloads start from GitHub's own examples (npm's @octokit/webhooks-examples) of every event
the App handles; hypothesis deletes fields, replaces them with values of other types, empty,
huge or nested ones, and changes the action, the event and the delivery id.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import store
from bot.app import server as main
from bot.app.webhooks import signature
from tests.bot.app.test_server import SECRET, make_settings
from tests.bot.app.test_webhook_examples import ALL

EXAMPLES = [(event, payload) for event, payload in ALL if "installation" in payload]
DELIVERIES = 2000


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.extend(paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:3]):
            found.extend(paths(inner, (*prefix, index)))
    return found


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "0" * 40, "x" * 70_000, "../../etc/passwd", "\u202e\x00"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def deliveries(draw) -> tuple[dict[str, str], bytes, str]:
    event, example = draw(st.sampled_from(EXAMPLES))
    payload = copy.deepcopy(example)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = paths(payload)
        if not where:
            break
        path = draw(st.sampled_from(where))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        payload["action"] = draw(JSON)
    body = json.dumps(payload).encode()
    delivery = draw(st.sampled_from([str(uuid.uuid4())] * 6 + ["", "x" * 5000, "a b", "é", "../x"]))
    event = draw(st.sampled_from([event] * 6 + ["", "E" * 300, "pull request", "ping", "x.y"]))
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(SECRET, body),
        "Content-Type": draw(st.sampled_from(["application/json"] * 8 + ["text/plain", ""])),
    }
    return headers, body, delivery


@pytest.fixture(scope="module")
def answers() -> Counter:
    return Counter()


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    settings_ = make_settings(tmp_path_factory.mktemp("fuzz"))
    with TestClient(main.create_app(settings_, run_worker=False)) as client:
        yield client


@settings(
    max_examples=DELIVERIES,
    deadline=None,
    derandomize=True,  # the same deliveries on every run, so a failure can be replayed
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(delivery=deliveries())
def test_a_mutated_signed_delivery_never_gets_a_5xx_or_a_traceback(
    recorder, answers, caplog, delivery
):
    headers, body, delivery_id = delivery
    caplog.clear()
    # Bytes, as they go on the wire: a header's text need not be ASCII there.
    sent = {name: value.encode("latin-1") for name, value in headers.items()}
    with caplog.at_level(logging.DEBUG):
        answer = recorder.post("/webhook", content=body, headers=sent)
    answers["sent"] += 1
    answers[f"{answer.status_code // 100}xx"] += 1
    tracebacks = [r for r in caplog.records if r.exc_info]
    answers["tracebacks"] += len(tracebacks)
    assert answer.status_code < 500, answer.text
    assert not tracebacks, tracebacks[0].getMessage()
    assert answer.json()["status"] in ("queued", "ignored", "duplicate", "pong", "rejected")
    if answer.status_code >= 400 and delivery_id:
        with recorder.app.state.session_factory() as session:
            stored = session.scalar(
                select(store.Delivery.id).where(store.Delivery.delivery_id == delivery_id)
            )
        assert stored is None, "a refused delivery was stored as a job"


def test_the_server_still_answers_after_the_fuzz(recorder, answers):
    assert recorder.get("/healthz").status_code == 200
    if answers["sent"]:  # this module's fuzz ran first
        assert answers["sent"] >= DELIVERIES and answers["5xx"] == 0 and answers["tracebacks"] == 0
        counts = ", ".join(f"{key}: {value}" for key, value in sorted(answers.items(), key=str))
        logging.getLogger(__name__).info("webhook fuzz: %s", counts)
