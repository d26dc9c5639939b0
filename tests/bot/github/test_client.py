"""bot.github.client against the simulated GitHub, asserted at the HTTP boundary."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.domain import Annotation, CheckRunOutput, InlineComment
from bot.github import client as gh
from bot.github import deadline
from bot.github.errors import (
    Forbidden,
    GitHubError,
    NotFound,
    OutOfTime,
    RateLimited,
    Unavailable,
    Unprocessable,
)
from tests.fakes.github import BOT_LOGIN, FakeGitHub, fake_github, running_fake_github

__all__ = ["fake_github"]  # the fixture, imported for pytest

REPO = "octo-org/models"
HEAD = "c0ffee" + "0" * 34


def _client(fake: FakeGitHub, **overrides: object) -> gh.InstallationClient:
    return fake.github_app(**overrides).installation(1)


def _comment(line: int, fingerprint: str, start_line: int | None = None) -> InlineComment:
    return InlineComment(
        path="train.py",
        line=line,
        body=f"finding {fingerprint}",
        fingerprint=fingerprint,
        start_line=start_line,
    )


# -- authentication -------------------------------------------------------------------------


def test_installation_token_comes_from_a_signed_app_jwt_and_is_reused(fake_github):
    fake_github.add_installation(1)
    app = fake_github.github_app()

    first = app.token(1)
    second = app.token(1)

    assert first == second
    assert first in fake_github.tokens
    (token_request,) = fake_github.requests_to("POST", "/app/installations/1/access_tokens")
    scheme, _, credential = token_request.headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(credential, options={"verify_signature": False})
    assert claims["iss"] == str(fake_github.app_id)


def test_installation_token_is_renewed_within_five_minutes_of_expiry(fake_github):
    fake_github.add_installation(1)
    fake_github.token_lifetime = timedelta(minutes=4)
    app = fake_github.github_app()

    first = app.token(1)
    second = app.token(1)

    assert first != second
    assert len(fake_github.requests_to("POST", r"/app/installations/1/access_tokens")) == 2


def test_api_calls_carry_the_installation_token(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    client = _client(fake_github)

    client.get_pull(REPO, 7)

    (pull_request,) = fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")
    token = client.app.token(1)
    assert pull_request.headers["authorization"] == f"token {token}"
    assert pull_request.headers["user-agent"] == "debtbot"


def test_a_key_github_does_not_know_is_refused(fake_github):
    fake_github.add_installation(1)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()

    with pytest.raises(GitHubError) as raised:
        fake_github.github_app(private_key=pem).token(1)

    assert raised.value.status == 401
    assert fake_github.tokens == {}


def test_bot_login_is_the_app_slug_as_a_bot(fake_github):
    assert fake_github.github_app().bot_login() == BOT_LOGIN


def test_the_client_of_an_installation_is_reused(fake_github):
    app = fake_github.github_app()
    assert app.installation(1) is app.installation(1)
    assert app.installation(1) is not app.installation(2)


def test_app_from_settings_reads_the_contract_fields():
    settings = SimpleNamespace(
        github_app_id="12",
        github_api_url="https://ghe.example.com/api/v3/",
        private_key_text=lambda: "-----BEGIN RSA PRIVATE KEY-----\n...",
        redis_url=None,
    )
    app = gh.GitHubApp.from_settings(settings)
    assert (app.app_id, app.api_url) == (12, "https://ghe.example.com/api/v3")
    assert "PRIVATE KEY" not in repr(app)
    assert app.pacing is None  # one process: PyGithub's own throttle is enough

    settings.redis_url = "redis://r:6379/1"
    scaled = gh.GitHubApp.from_settings(settings)
    assert scaled.pacing is not None and scaled.pacing.url == "redis://r:6379/1"


# -- reading a pull request -----------------------------------------------------------------


def test_get_pull_reports_the_pull_request_as_github_has_it(fake_github):
    fake_github.add_pull(
        REPO, 7, HEAD, "b" * 40, base_ref="develop", draft=True, author="renovate[bot]",
        author_type="Bot",
    )  # fmt: skip

    info = _client(fake_github).get_pull(REPO, 7)

    assert info.number == 7
    assert (info.head_sha, info.base_sha, info.base_ref) == (HEAD, "b" * 40, "develop")
    assert (info.state, info.draft) == ("open", True)
    assert (info.author_login, info.author_is_bot) == ("renovate[bot]", True)
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) == 1


def test_open_pulls_at_a_commit_are_those_whose_head_it_is(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, "b" * 40, base_ref="develop")
    fake_github.add_pull(REPO, 8, HEAD, "b" * 40)
    fake_github.pull(REPO, 8).state = "closed"
    fake_github.add_pull(REPO, 9, "c" * 40, "b" * 40)  # another head
    fake_github.push(REPO, 9, "d" * 40)  # HEAD is no longer the head of 9 either

    pulls = _client(fake_github).open_pulls_at(REPO, HEAD)

    assert [(p.number, p.base_ref, p.base_sha) for p in pulls] == [(7, "develop", "b" * 40)]
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/commits/{HEAD}/pulls")) == 1


def test_open_pulls_at_a_commit_of_a_repository_out_of_reach_is_a_404(fake_github):
    fake_github.add_repository("acme/other", installation_id=999)
    fake_github.add_repository(REPO)

    with pytest.raises(NotFound):
        _client(fake_github).open_pulls_at("acme/other", HEAD)


def test_a_missing_pull_request_is_a_404_and_is_not_retried(fake_github):
    fake_github.add_repository(REPO)

    with pytest.raises(NotFound):
        _client(fake_github).get_pull(REPO, 99)

    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/99")) == 1


def test_a_repository_name_without_owner_is_refused_before_any_request(fake_github):
    with pytest.raises(ValueError, match="owner/name"):
        _client(fake_github).get_pull("models", 1)
    assert fake_github.requests == []


def test_enterprise_server_layout_api_v3_and_api_graphql():
    with running_fake_github("/api/v3") as fake:
        fake.add_pull(REPO, 7, HEAD, commentable={"train.py": {3}})
        comment = fake.add_review_comment(REPO, 7, "train.py", 3, "old finding")
        client = fake.github_app().installation(1)
        assert fake.url.endswith("/api/v3")

        assert client.get_pull(REPO, 7).head_sha == HEAD
        assert client.resolve_thread(REPO, 7, comment["node_id"]) is True

        assert fake.requests_to("GET", rf"/repos/{REPO}/pulls/7")
        assert len(fake.requests_to("POST", "/graphql")) == 2
        assert fake.pull(REPO, 7).threads[0]["isResolved"] is True


# -- faults ---------------------------------------------------------------------------------


def test_server_errors_are_retried_until_github_answers(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail("GET", rf"/repos/{REPO}/pulls/7", 502, times=1)
    fake_github.fail("GET", rf"/repos/{REPO}/pulls/7", 503, times=1)

    info = _client(fake_github).get_pull(REPO, 7)

    assert info.head_sha == HEAD
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) == 3


def test_server_errors_that_last_end_in_a_github_exception(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail("GET", rf"/repos/{REPO}/pulls/7", 502, times=10)

    with pytest.raises(GitHubError) as raised:
        _client(fake_github, max_retries=2).get_pull(REPO, 7)

    assert raised.value.status == 502
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) == 3


def test_a_used_up_rate_limit_waits_until_the_reset(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail_with_rate_limit("GET", rf"/repos/{REPO}/pulls/7", reset_in=1)
    started = time.monotonic()

    _client(fake_github).get_pull(REPO, 7)

    # GithubRetry waits for X-RateLimit-Reset; the test backoff alone would take 0.01 s.
    # (The bound is loose on purpose: clocks are read at second granularity on both sides.)
    assert time.monotonic() - started >= 0.5
    attempts = fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 0.5


def test_a_rate_limit_reset_beyond_the_longest_wait_fails_at_once(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail_with_rate_limit("GET", rf"/repos/{REPO}/pulls/7", reset_in=3600)
    started = time.monotonic()

    with pytest.raises(RateLimited) as raised:
        _client(fake_github, max_rate_limit_wait=5).get_pull(REPO, 7)

    assert raised.value.status == 403
    assert time.monotonic() - started < 2


def test_a_rate_limit_wait_past_the_jobs_deadline_fails_at_once(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    # Within the longest wait the client accepts (15 minutes), but not within the job's time.
    fake_github.fail_with_rate_limit("GET", rf"/repos/{REPO}/pulls/7", reset_in=60)
    started = time.monotonic()

    with deadline.job_deadline(5), pytest.raises(OutOfTime) as raised:
        _client(fake_github).get_pull(REPO, 7)

    assert raised.value.status == 403 and "tried again later" in str(raised.value)
    assert time.monotonic() - started < 2
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) == 1


def test_retries_stop_when_the_jobs_time_is_up(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail("GET", rf"/repos/{REPO}/pulls/7", 502, times=10)

    with deadline.job_deadline(1.5), pytest.raises(OutOfTime):
        # Backoffs of 1 s, 2 s, 4 s...: the second would end past the deadline.
        _client(fake_github, backoff_factor=1.0, max_retries=5).get_pull(REPO, 7)

    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) <= 2


def test_no_call_is_made_once_the_jobs_time_is_up(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    client = _client(fake_github)
    with deadline.job_deadline(0), pytest.raises(OutOfTime):
        client.get_pull(REPO, 7)
    assert fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7") == []
    assert client.get_pull(REPO, 7).head_sha == HEAD  # outside a job: no deadline


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFound), (410, NotFound), (403, Forbidden), (422, Unprocessable), (502, Unavailable)],
)
def test_github_refusals_come_out_as_our_own_errors(fake_github, status, error):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail(
        "GET", rf"/repos/{REPO}/pulls/7", status, times=10, body={"message": "no, because"}
    )

    with pytest.raises(error) as raised:
        _client(fake_github, max_retries=1).get_pull(REPO, 7)

    assert raised.value.status == status
    assert f"GitHub answered {status}: no, because" in str(raised.value)


def test_too_many_requests_waits_as_retry_after_says(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": {1}})
    fake_github.fail_with_retry_after("POST", rf"/repos/{REPO}/pulls/7/reviews", retry_after=1)

    result = _client(fake_github).create_review(REPO, 7, HEAD, "summary", [_comment(1, "a")])

    posts = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
    assert len(posts) == 2
    assert posts[1].at - posts[0].at >= 1.0
    assert len(result.posted) == 1
    assert len(fake_github.submitted_reviews(REPO, 7)) == 1


def test_a_secondary_rate_limit_403_with_retry_after_is_retried(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail_with_retry_after("GET", rf"/repos/{REPO}/pulls/7", retry_after=1, status=403)

    assert _client(fake_github).get_pull(REPO, 7).head_sha == HEAD
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) == 2


def test_rate_limits_that_outlast_the_retries_raise(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.fail_with_rate_limit("GET", rf"/repos/{REPO}/pulls/7", reset_in=0, times=5)

    with pytest.raises(GitHubError) as raised:
        _client(fake_github, max_retries=1).get_pull(REPO, 7)

    assert raised.value.status == 403
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7")) == 2


def test_writes_to_one_installation_keep_apart(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": {1}})
    fake_github.add_review_comment(REPO, 7, "train.py", 1, "finding")
    comment_id = fake_github.pull(REPO, 7).comments[0]["id"]
    client = _client(fake_github, seconds_between_writes=0.4)

    client.reply_to_comment(REPO, 7, comment_id, "first")
    client.reply_to_comment(REPO, 7, comment_id, "second")

    first, second = fake_github.requests_to("POST", r".*/replies")
    assert second.at - first.at >= 0.3  # 0.4 s apart at the client; the server sees ~that


# -- review comments ------------------------------------------------------------------------


def test_list_review_comments_reads_every_page_and_keeps_only_the_apps(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    ours = [
        fake_github.add_review_comment(REPO, 7, "train.py", line, f"ours {line}")
        for line in range(1, 131)
    ]
    fake_github.add_review_comment(REPO, 7, "train.py", 5, "a human", author="alice")
    reply = fake_github.add_review_comment(
        REPO, 7, "train.py", 1, "resolved", in_reply_to=ours[0]["id"]
    )

    listed = _client(fake_github).list_review_comments(REPO, 7)

    assert [comment.id for comment in listed] == [c["id"] for c in ours] + [reply["id"]]
    assert listed[0].node_id == ours[0]["node_id"]
    assert (listed[0].path, listed[0].line, listed[0].in_reply_to_id) == ("train.py", 1, None)
    assert listed[-1].in_reply_to_id == ours[0]["id"]
    pages = fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7/comments")
    assert [request.query.get("page", ["1"]) for request in pages] == [["1"], ["2"]]
    # Nothing was fetched one by one: a list page says everything about its comments.
    assert not fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/comments/\d+")


def test_reply_to_comment_answers_in_the_thread(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    original = fake_github.add_review_comment(REPO, 7, "train.py", 4, "finding")

    reply = _client(fake_github).reply_to_comment(REPO, 7, original["id"], "Resolved.")

    (request,) = fake_github.requests_to(
        "POST", rf"/repos/{REPO}/pulls/7/comments/{original['id']}/replies"
    )
    assert request.json == {"body": "Resolved."}
    assert reply.in_reply_to_id == original["id"]
    assert fake_github.pull(REPO, 7).threads[0]["comment_ids"] == [original["id"], reply.id]


def test_replying_to_a_deleted_comment_is_a_404(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    with pytest.raises(NotFound):
        _client(fake_github).reply_to_comment(REPO, 7, 123456, "Resolved.")


def test_resolve_thread_finds_the_thread_across_pages_and_resolves_it(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    comments = [
        fake_github.add_review_comment(REPO, 7, "train.py", line, f"finding {line}")
        for line in range(1, 106)
    ]
    target = comments[102]

    resolved = _client(fake_github).resolve_thread(REPO, 7, target["node_id"])

    assert resolved is True
    queries = fake_github.requests_to("POST", "/graphql")
    assert len(queries) == 3  # two pages of threads, one mutation
    assert queries[0].json["variables"]["after"] is None
    assert queries[1].json["variables"]["after"] is not None
    assert "resolveReviewThread" in queries[2].json["query"]
    threads = fake_github.pull(REPO, 7).threads
    assert [thread["isResolved"] for thread in threads].count(True) == 1
    assert threads[102]["isResolved"] is True
    assert queries[2].json["variables"] == {"threadId": threads[102]["id"]}


def test_resolve_thread_leaves_a_resolved_thread_alone(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    comment = fake_github.add_review_comment(REPO, 7, "train.py", 1, "finding")
    fake_github.pull(REPO, 7).threads[0]["isResolved"] = True

    assert _client(fake_github).resolve_thread(REPO, 7, comment["node_id"]) is True
    assert len(fake_github.requests_to("POST", "/graphql")) == 1


def test_resolve_thread_of_a_vanished_comment_does_nothing(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.add_review_comment(REPO, 7, "train.py", 1, "finding")

    assert _client(fake_github).resolve_thread(REPO, 7, "PRRC_gone") is False
    assert len(fake_github.requests_to("POST", "/graphql")) == 1
    assert fake_github.pull(REPO, 7).threads[0]["isResolved"] is False


def test_resolve_thread_on_an_unknown_pull_request_raises(fake_github):
    fake_github.add_repository(REPO)
    with pytest.raises(GitHubError):
        _client(fake_github).resolve_thread(REPO, 404, "PRRC_x")


# -- reviews --------------------------------------------------------------------------------


def test_one_comment_review_with_every_inline_comment(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": {3, 10, 11, 12}})
    comments = [_comment(3, "a"), _comment(12, "b", start_line=10)]

    result = _client(fake_github).create_review(REPO, 7, HEAD, "Two findings.", comments)

    (request,) = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
    assert request.json == {
        "body": "Two findings.",
        "event": "COMMENT",
        "commit_id": HEAD,
        "comments": [
            {"path": "train.py", "body": "finding a", "line": 3, "side": "RIGHT"},
            {
                "path": "train.py",
                "body": "finding b",
                "line": 12,
                "side": "RIGHT",
                "start_line": 10,
                "start_side": "RIGHT",
            },
        ],
    }
    assert result.posted == tuple(comments)
    assert result.refused == ()
    (review,) = fake_github.submitted_reviews(REPO, 7)
    assert result.review_id == review["id"]
    assert review["state"] == "COMMENTED"


def test_a_start_line_equal_to_the_line_is_not_sent(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": {3}})

    result = _client(fake_github).create_review(
        REPO, 7, HEAD, "One.", [_comment(3, "a", start_line=3)]
    )

    (request,) = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
    assert "start_line" not in request.json["comments"][0]
    assert len(result.posted) == 1


def test_a_review_without_comments_is_just_its_body(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)

    result = _client(fake_github).create_review(REPO, 7, HEAD, "All findings fixed.", [])

    (request,) = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
    assert request.json["comments"] == []
    assert request.json["body"] == "All findings fixed."
    assert result.posted == result.refused == ()


def test_comments_github_refuses_move_into_the_body_of_the_one_review(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": set(range(1, 20))})
    good = [_comment(line, f"ok{line}") for line in (1, 2, 4, 5, 7, 8, 9)]
    off_diff = [_comment(30, "far"), _comment(40, "farther")]
    comments = [good[0], off_diff[0], *good[1:5], off_diff[1], *good[5:]]

    result = _client(fake_github).create_review(REPO, 7, HEAD, "Summary.", comments)

    assert set(result.refused) == set(off_diff)
    assert result.posted == tuple(good)
    (review,) = fake_github.submitted_reviews(REPO, 7)
    assert fake_github.pending_reviews(REPO, 7) == []
    assert review["id"] == result.review_id
    assert review["body"].startswith("Summary.")
    assert "finding far" in review["body"] and "finding farther" in review["body"]
    assert "`train.py`, line 30" in review["body"]
    assert [c["body"] for c in review["_comments"]] == [c.body for c in good]
    # Every probe was a PENDING review (no event) and each was deleted again.
    posts = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
    probes = [post for post in posts if "event" not in post.json]
    deletes = fake_github.requests_to("DELETE", rf"/repos/{REPO}/pulls/7/reviews/\d+")
    assert [post.json.get("event") for post in posts].count("COMMENT") == 2
    assert len(probes) == len(posts) - 2
    assert 0 < len(deletes) < len(probes)


def test_finding_one_refused_comment_among_many_takes_few_probes(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": set(range(1, 25))})
    comments = [_comment(line, f"ok{line}") for line in range(1, 25)]
    comments.insert(17, _comment(99, "off"))

    result = _client(fake_github).create_review(REPO, 7, HEAD, "Summary.", comments)

    assert [comment.fingerprint for comment in result.refused] == ["off"]
    assert len(result.posted) == 24
    probes = [
        post
        for post in fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
        if "event" not in post.json
    ]
    # Halving: the empty probe, then about two probes per level of log2(25), not one per comment.
    assert len(probes) <= 1 + 2 * 5


def test_a_review_github_refuses_whatever_its_comments_goes_out_as_text_or_raises(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": {1, 2, 3}})
    stale = "d" * 40  # not a commit of the pull request: GitHub refuses any review on it

    with pytest.raises(GitHubError) as raised:
        _client(fake_github).create_review(
            REPO, 7, stale, "Summary.", [_comment(1, "a"), _comment(2, "b")]
        )

    assert raised.value.status == 422
    assert fake_github.submitted_reviews(REPO, 7) == []
    posts = fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews")
    # The full review, one empty probe that shows no comment is to blame, the text-only review.
    assert len(posts) == 3
    assert posts[1].json["comments"] == [] and "event" not in posts[1].json
    assert posts[2].json["comments"] == [] and "finding a" in posts[2].json["body"]


def test_when_every_comment_is_refused_the_review_is_text_only(fake_github):
    fake_github.add_pull(REPO, 7, HEAD, commentable={"train.py": {1}})

    result = _client(fake_github).create_review(
        REPO, 7, HEAD, "Summary.", [_comment(50, "x"), _comment(60, "y")]
    )

    assert result.posted == ()
    assert len(result.refused) == 2
    (review,) = fake_github.submitted_reviews(REPO, 7)
    assert review["_comments"] == []
    assert "finding x" in review["body"] and "finding y" in review["body"]


def test_a_body_longer_than_github_takes_is_cut_with_a_note(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)

    _client(fake_github).create_review(REPO, 7, HEAD, "x" * 70_000, [])

    (review,) = fake_github.submitted_reviews(REPO, 7)
    assert len(review["body"]) <= gh.TEXT_LIMIT
    assert review["body"].endswith("the check run has all.")


def test_a_review_on_a_repository_of_another_installation_is_not_found(fake_github):
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.add_repository("someone/else", installation_id=2)
    fake_github.add_pull("someone/else", 1, HEAD)

    with pytest.raises(NotFound):
        _client(fake_github).create_review("someone/else", 1, HEAD, "S", [])


# -- check runs -----------------------------------------------------------------------------


def _output(count: int, conclusion: str = "neutral") -> CheckRunOutput:
    annotations = tuple(
        Annotation(
            path="train.py",
            start_line=line,
            end_line=line + 1,
            level="warning",
            title="DEBT1101",
            message=f"finding on line {line}",
        )
        for line in range(1, count + 1)
    )
    return CheckRunOutput(
        title=f"{count} findings", summary="Per principle", conclusion=conclusion,
        annotations=annotations,
    )  # fmt: skip


def test_a_check_run_with_few_annotations_is_one_request(fake_github):
    fake_github.add_repository(REPO)

    run_id = _client(fake_github).create_check_run(REPO, HEAD, _output(3))

    (request,) = fake_github.requests_to("POST", rf"/repos/{REPO}/check-runs")
    assert request.json["name"] == "debtbot"
    assert request.json["head_sha"] == HEAD
    assert request.json["status"] == "completed"
    assert request.json["conclusion"] == "neutral"
    assert request.json["output"]["annotations"][0] == {
        "path": "train.py",
        "start_line": 1,
        "end_line": 2,
        "annotation_level": "warning",
        "title": "DEBT1101",
        "message": "finding on line 1",
    }
    assert fake_github.check_runs[run_id]["conclusion"] == "neutral"


def test_annotations_go_fifty_at_a_time_and_the_conclusion_comes_last(fake_github):
    fake_github.add_repository(REPO)

    run_id = _client(fake_github).create_check_run(REPO, HEAD, _output(120, "failure"))

    (create,) = fake_github.requests_to("POST", rf"/repos/{REPO}/check-runs")
    updates = fake_github.requests_to("PATCH", rf"/repos/{REPO}/check-runs/{run_id}")
    sizes = [len(r.json["output"]["annotations"]) for r in [create, *updates]]
    assert sizes == [50, 50, 20]
    assert [r.json.get("conclusion") for r in [create, *updates]] == [None, None, "failure"]
    assert create.json["status"] == "in_progress"
    run = fake_github.check_runs[run_id]
    assert [a["start_line"] for a in run["_annotations"]] == list(range(1, 121))
    assert (run["status"], run["conclusion"]) == ("completed", "failure")


def test_exactly_fifty_annotations_need_no_update(fake_github):
    fake_github.add_repository(REPO)

    _client(fake_github).create_check_run(REPO, HEAD, _output(50))

    assert len(fake_github.requests_to("POST", rf"/repos/{REPO}/check-runs")) == 1
    assert fake_github.requests_to("PATCH", r".*") == []


def test_a_check_run_update_that_fails_with_502_is_retried(fake_github):
    fake_github.add_repository(REPO)
    fake_github.fail("PATCH", rf"/repos/{REPO}/check-runs/\d+", 502)

    run_id = _client(fake_github).create_check_run(REPO, HEAD, _output(60))

    assert len(fake_github.requests_to("PATCH", rf"/repos/{REPO}/check-runs/{run_id}")) == 2
    assert len(fake_github.check_runs[run_id]["_annotations"]) == 60


# -- metrics --------------------------------------------------------------------------------


def test_calls_and_the_rate_limit_left_are_reported_to_metrics(fake_github):
    metrics = pytest.importorskip("bot.metrics")
    fake_github.add_pull(REPO, 7, HEAD)
    fake_github.rate_limit_remaining = 4321
    counted = metrics.GITHUB_CALLS.labels(operation="get_pull", outcome="ok")
    before = counted._value.get()

    _client(fake_github).get_pull(REPO, 7)

    assert counted._value.get() == before + 1
    # The fake counts down one per request: the token, then the pull request.
    assert metrics.RATE_LIMIT_REMAINING.value == 4319
    text = metrics.exposition()[0].decode()
    assert "debtbot_github_rate_limit_remaining 4319.0" in text


# -- the simulated GitHub itself ------------------------------------------------------------


def test_the_fake_refuses_more_than_fifty_annotations_and_bad_tokens(fake_github):
    fake_github.add_repository(REPO)
    token = fake_github.github_app().token(1)
    annotation = {
        "path": "a.py",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "notice",
        "message": "m",
    }
    body = {
        "name": "debtbot",
        "head_sha": HEAD,
        "output": {"title": "t", "summary": "s", "annotations": [annotation] * 51},
    }
    url = f"{fake_github.url}/repos/{REPO}/check-runs"

    too_many = requests.post(url, json=body, headers={"Authorization": f"token {token}"})
    no_token = requests.post(url, json=body, headers={"Authorization": "token nope"})

    assert too_many.status_code == 422
    assert no_token.status_code == 401
    assert int(too_many.headers["x-ratelimit-limit"]) == 5000
    assert fake_github.check_runs == {}


def test_the_fake_gives_a_webhook_payload_for_its_pull_requests(fake_github):
    fake_github.add_repository(REPO, installation_id=3, clone_url="/tmp/remote.git")
    fake_github.add_pull(REPO, 7, HEAD, "b" * 40)

    payload = fake_github.pull_request_event(REPO, 7, "synchronize")

    assert payload["action"] == "synchronize"
    assert payload["installation"]["id"] == 3
    assert payload["pull_request"]["head"]["sha"] == HEAD
    assert payload["pull_request"]["base"]["repo"]["clone_url"] == "/tmp/remote.git"
    assert payload["repository"]["full_name"] == REPO
