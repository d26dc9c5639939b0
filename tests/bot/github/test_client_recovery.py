"""GitHub client faults that must not double-post or block later reviews."""

from __future__ import annotations

import pytest

from bot.domain import InlineComment
from bot.github import client as github
from bot.github.errors import GitHubError

REPO = "acme/models"


@pytest.fixture
def client(fake_github):
    fake_github.add_installation(1, account="acme")
    fake_github.add_repository(REPO, installation_id=1)
    fake_github.add_pull(REPO, 7, "c" * 40, commentable={"m.py": {3, 4, 5}})
    return fake_github.github_app().installation(1)


def comment(line: int) -> InlineComment:
    return InlineComment(path="m.py", line=line, body=f"line {line}", fingerprint=f"f{line}")


def test_a_review_post_answered_with_502_is_not_sent_twice(fake_github, client) -> None:
    fake_github.fail("POST", rf"/repos/{REPO}/pulls/7/reviews$", 502, times=1)
    with pytest.raises(GitHubError) as error:
        client.create_review(REPO, 7, "c" * 40, "summary", [comment(3)])
    assert error.value.status == 502
    assert len(fake_github.requests_to("POST", rf"/repos/{REPO}/pulls/7/reviews$")) == 1


def test_reads_after_a_502_are_still_retried(fake_github, client) -> None:
    fake_github.fail("GET", rf"/repos/{REPO}/pulls/7$", 502, times=1)
    assert client.get_pull(REPO, 7).number == 7
    assert len(fake_github.requests_to("GET", rf"/repos/{REPO}/pulls/7$")) == 2


def test_a_pending_review_left_behind_is_cleared_before_reviewing(fake_github, client) -> None:
    # What a job that died between creating and deleting a probe review leaves on GitHub.
    github._post_review(
        client.api.get_repo(REPO).get_pull(7),
        client.api.get_repo(REPO).get_commit("c" * 40),
        None,
        (comment(4),),
        None,
    )
    assert len(fake_github.pending_reviews(REPO, 7)) == 1
    result = client.create_review(REPO, 7, "c" * 40, "summary", [comment(3), comment(5)])
    assert [c.line for c in result.posted] == [3, 5] and result.refused == ()
    assert fake_github.pending_reviews(REPO, 7) == []
    assert len(fake_github.submitted_reviews(REPO, 7)) == 1


def test_a_pending_review_left_behind_does_not_block_replies(fake_github, client) -> None:
    posted = client.create_review(REPO, 7, "c" * 40, "summary", [comment(3)])
    [ours] = client.list_review_comments(REPO, 7)
    assert posted.posted and ours.line == 3
    github._post_review(
        client.api.get_repo(REPO).get_pull(7),
        client.api.get_repo(REPO).get_commit("c" * 40),
        None,
        (comment(4),),
        None,
    )
    reply = client.reply_to_comment(REPO, 7, ours.id, "fixed in cccccc")
    assert reply.in_reply_to_id == ours.id
    assert fake_github.pending_reviews(REPO, 7) == []
