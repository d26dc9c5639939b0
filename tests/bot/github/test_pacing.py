"""Pacing shared through Redis: two App clients that share nothing but the Redis on this machine
(as two worker processes do) keep one installation's pause between writes and its rate-limit
waits together, measured at the simulated GitHub."""

from __future__ import annotations

import itertools
import random
import threading
import time

import pytest
import redis

from bot.github.errors import RateLimited
from bot.github.pacing import RedisPacing, stop_until_from
from tests.fakes.github import FakeGitHub

REDIS_URL = "redis://127.0.0.1:6379/0"
REPO = "acme/models"


@pytest.fixture
def installation(fake_github: FakeGitHub) -> int:
    # An installation id of this test's own: the pacing keys in Redis are per installation.
    installation_id = random.randrange(10**6, 10**9)
    fake_github.add_repository(REPO, installation_id=installation_id)
    fake_github.add_pull(REPO, 7)
    yield installation_id
    redis.Redis.from_url(REDIS_URL).delete(
        f"debtbot:github:{installation_id}:stop-until",
        f"debtbot:github:{installation_id}:next-write",
    )


def two_workers(fake_github: FakeGitHub, pacing: RedisPacing | None):
    # Different timeouts make two App objects, so neither reuses the other's client, token or
    # PyGithub throttle: the only thing they share is Redis.
    return (
        fake_github.github_app(pacing=pacing, timeout=10),
        fake_github.github_app(pacing=pacing, timeout=11),
    )


def comment_times(fake_github: FakeGitHub) -> list[float]:
    posted = fake_github.requests_to("POST", rf"/repos/{REPO}/issues/7/comments")
    return sorted(request.at for request in posted)


def post_comments(apps, installation: int, each: int) -> None:
    for app in apps:
        # As a review job does, read first: the installation token is then at hand, and what
        # is measured is the writes alone.
        app.installation(installation).get_pull(REPO, 7)

    def post(app) -> None:
        for number in range(each):
            app.installation(installation).create_issue_comment(REPO, 7, f"note {number}")

    threads = [threading.Thread(target=post, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_writes_of_two_workers_to_one_installation_keep_the_pause_between_them(
    fake_github: FakeGitHub, installation: int
):
    pacing = RedisPacing(REDIS_URL, seconds_between_writes=0.3)
    post_comments(two_workers(fake_github, pacing), installation, each=3)
    times = comment_times(fake_github)
    assert len(times) == 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.25, gaps


def test_without_shared_pacing_two_workers_write_at_once(fake_github: FakeGitHub, installation):
    # The control for the test above: each client's own throttle knows nothing of the other's.
    post_comments(two_workers(fake_github, None), installation, each=3)
    times = comment_times(fake_github)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) < 0.25, gaps


def test_a_rate_limit_one_worker_meets_holds_the_other_back(
    fake_github: FakeGitHub, installation: int
):
    first, second = two_workers(fake_github, RedisPacing(REDIS_URL))
    path = rf"/repos/{REPO}/pulls/7"
    fake_github.fail_with_rate_limit("GET", path, reset_in=2)
    waited = threading.Thread(target=lambda: first.installation(installation).get_pull(REPO, 7))
    waited.start()
    deadline = time.monotonic() + 10
    while not fake_github.requests_to("GET", path) and time.monotonic() < deadline:
        time.sleep(0.01)
    [refused] = fake_github.requests_to("GET", path)
    time.sleep(0.2)  # the 403 has been answered and shared

    pull = second.installation(installation).get_pull(REPO, 7)
    waited.join(10)
    assert pull.number == 7
    later = fake_github.requests_to("GET", path)[1:]
    assert len(later) == 2  # the first worker's retry and the second worker's call
    # Nobody called again before the reset: at least a second after the refused call.
    assert min(r.at for r in later) - refused.at >= 1.0


def test_a_wait_longer_than_allowed_fails_the_call_without_sending_it(
    fake_github: FakeGitHub, installation: int
):
    pacing = RedisPacing(REDIS_URL, max_wait=5)
    pacing.stop_until(installation, time.time() + 600)
    app = fake_github.github_app(pacing=pacing)
    with pytest.raises(RateLimited, match="wait"):
        app.installation(installation).get_pull(REPO, 7)
    assert fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7") == []


def test_pacing_lost_with_redis_lets_the_work_go_on(fake_github: FakeGitHub, installation: int):
    app = fake_github.github_app(pacing=RedisPacing("redis://127.0.0.1:9/0"))
    assert app.installation(installation).get_pull(REPO, 7).number == 7


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {"Retry-After": "30"}, 1030.0),
        (403, {"retry-after": "5"}, 1005.0),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2000"}, 2000.0),
        (403, {"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "2000"}, None),  # a refusal
        (404, {"Retry-After": "30"}, None),
        (502, {}, None),
    ],
)
def test_when_github_asks_for_a_pause(status, headers, expected):
    assert stop_until_from(headers, status, now=1000.0) == expected
