"""A simulated GitHub for tests: a real HTTP server on 127.0.0.1.

PyGithub speaks HTTP through ``requests``, which respx cannot intercept, so the App is pointed at
this server instead (its ``url`` is the API base). It records every request, answers with
payloads shaped like GitHub's, and behaves like GitHub where the App depends on it: JWT and
installation-token auth, 422 for a review comment off the diff, at most 50 annotations per
check-run request, paginated lists with Link headers, GraphQL review threads, rate-limit headers,
and failures scripted by the test (5xx, rate limits, 404).

Use the ``fake_github`` fixture, or ``running_fake_github(prefix="/api/v3")`` for the layout of
a GitHub Enterprise Server (REST under /api/v3, GraphQL at /api/graphql).

state.py holds what GitHub keeps and the helpers that arrange and inspect it; server.py the
HTTP server that answers from it (and ``FakeGitHub``, the state served); payloads.py the JSON
GitHub sends, built from the state: webhook payloads and the bodies of API answers.
"""

from tests.fakes.github.server import (
    FakeGitHub,
    RecordedRequest,
    ScriptedFailure,
    fake_github,
    running_fake_github,
)
from tests.fakes.github.state import (
    APP_ID,
    APP_SLUG,
    BOT_LOGIN,
    FakePull,
    FakeRepository,
    GitHubState,
    app_private_key,
)

__all__ = [
    "APP_ID",
    "APP_SLUG",
    "BOT_LOGIN",
    "FakeGitHub",
    "FakePull",
    "FakeRepository",
    "GitHubState",
    "RecordedRequest",
    "ScriptedFailure",
    "app_private_key",
    "fake_github",
    "running_fake_github",
]
