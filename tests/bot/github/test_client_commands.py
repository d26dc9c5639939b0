"""bot.github.client's calls for /debt-report, against the simulated GitHub over HTTP."""

from __future__ import annotations

import pytest

from bot.commands.handler import PUSH_PERMISSIONS
from bot.github import client as gh
from bot.github.errors import GitHubError
from tests.fakes.github import BOT_LOGIN, FakeGitHub, fake_github

__all__ = ["fake_github"]  # the fixture, imported for pytest

REPO = "octo-org/models"
NUMBER = 7


def _client(fake: FakeGitHub) -> gh.InstallationClient:
    return fake.github_app().installation(1)


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_installation(1)
    fake_github.add_pull(REPO, NUMBER)
    return fake_github


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
        (None, "none"),
    ],
)
def test_collaborator_permission_reads_the_permission_api(fake, role, permission):
    if role is not None:
        fake.set_role(REPO, "alice", role)

    answer = _client(fake).collaborator_permission(REPO, "alice")

    assert answer == permission
    assert (answer in PUSH_PERMISSIONS) == (role in {"admin", "maintain", "write"})
    (request,) = fake.requests_to("GET", rf"/repos/{REPO}/collaborators/alice/permission")
    assert request.headers["authorization"].startswith("token ghs_")


def test_an_unknown_login_has_no_permission(fake):
    assert _client(fake).collaborator_permission(REPO, "ghost-someone") == "none"


def test_other_permission_failures_are_not_taken_for_a_refusal(fake):
    fake.fail("GET", r"/repos/.*/permission", 403, body={"message": "Forbidden"})

    with pytest.raises(GitHubError) as raised:
        _client(fake).collaborator_permission(REPO, "alice")
    assert raised.value.status == 403


def test_a_permission_is_trusted_for_a_while_then_asked_again(fake, monkeypatch):
    fake.set_role(REPO, "alice", "write")
    client = _client(fake)
    asked = rf"/repos/{REPO}/collaborators/alice/permission"
    now = [1000.0]
    monkeypatch.setattr(gh, "_clock", lambda: now[0])

    assert client.collaborator_permission(REPO, "alice") == "write"
    fake.set_role(REPO, "alice", "read")  # access taken away
    now[0] += gh.PERMISSION_TTL - 1
    assert client.collaborator_permission(REPO, "Alice") == "write"  # logins ignore case
    assert len(fake.requests_to("GET", asked)) == 1

    now[0] += 2
    assert client.collaborator_permission(REPO, "alice") == "read"
    assert len(fake.requests_to("GET", asked)) == 2


# -- reactions ------------------------------------------------------------------------------


def test_an_eyes_reaction_is_one_post_on_the_comment(fake):
    comment = fake.add_issue_comment(REPO, NUMBER, "/debt-report", author="alice")

    _client(fake).add_reaction(REPO, comment["id"])
    _client(fake).add_reaction(REPO, comment["id"])  # GitHub keeps one per kind and author

    requests = fake.requests_to("POST", rf"/repos/{REPO}/issues/comments/{comment['id']}/reactions")
    assert [r.json for r in requests] == [{"content": "eyes"}] * 2
    assert [r["content"] for r in fake.reactions(REPO, NUMBER, comment["id"])] == ["eyes"]
    # Built from its URL: no request to read the comment first.
    assert fake.requests_to("GET", rf"/repos/{REPO}/issues/comments/\d+") == []


def test_a_reaction_on_a_deleted_comment_fails_with_404(fake):
    with pytest.raises(GitHubError) as raised:
        _client(fake).add_reaction(REPO, 999_999)
    assert raised.value.status == 404


# -- conversation comments ------------------------------------------------------------------


def test_issue_comments_are_listed_across_pages_with_their_authors(fake):
    for n in range(130):
        fake.add_issue_comment(REPO, NUMBER, f"comment {n}", author="alice")
    fake.add_issue_comment(REPO, NUMBER, "a report", author=BOT_LOGIN)

    listed = _client(fake).list_issue_comments(REPO, NUMBER)

    assert [c.body for c in listed] == [f"comment {n}" for n in range(130)] + ["a report"]
    assert (listed[0].author_login, listed[0].author_is_bot) == ("alice", False)
    assert (listed[-1].author_login, listed[-1].author_is_bot) == (BOT_LOGIN, True)
    assert listed[-1].html_url.endswith(f"#issuecomment-{listed[-1].id}")
    pages = fake.requests_to("GET", rf"/repos/{REPO}/issues/{NUMBER}/comments")
    assert len(pages) == 2


def test_a_comment_is_created_then_updated_in_place(fake):
    client = _client(fake)

    created = client.create_issue_comment(REPO, NUMBER, "first")
    updated = client.update_issue_comment(REPO, created.id, "second")

    assert updated.id == created.id and updated.body == "second"
    assert updated.updated_at is not None and updated.updated_at.tzinfo is not None
    assert created.updated_at is not None
    assert [c["body"] for c in fake.issue_comments(REPO, NUMBER)] == ["second"]
    (post,) = fake.requests_to("POST", rf"/repos/{REPO}/issues/{NUMBER}/comments")
    (patch,) = fake.requests_to("PATCH", rf"/repos/{REPO}/issues/comments/{created.id}")
    assert (post.json, patch.json) == ({"body": "first"}, {"body": "second"})
    assert created.author_login == BOT_LOGIN
    assert fake.requests_to("GET", rf"/repos/{REPO}/issues/comments/\d+") == []


def test_a_body_longer_than_github_takes_is_cut_rather_than_refused(fake):
    created = _client(fake).create_issue_comment(REPO, NUMBER, "x" * 70_000)

    assert len(created.body) < 65_536
    assert "cut short" in created.body


def test_editing_a_comment_the_app_did_not_write_is_refused_by_the_fake(fake):
    theirs = fake.add_issue_comment(REPO, NUMBER, "mine", author="alice")

    with pytest.raises(GitHubError) as raised:
        _client(fake).update_issue_comment(REPO, theirs["id"], "changed")
    assert raised.value.status == 403
    assert fake.issue_comments(REPO, NUMBER)[0]["body"] == "mine"


def test_a_repository_of_another_installation_is_not_found(fake):
    fake.add_repository("other-org/secret", installation_id=2)
    fake.add_pull("other-org/secret", 1)

    with pytest.raises(GitHubError) as raised:
        _client(fake).create_issue_comment("other-org/secret", 1, "hello")
    assert raised.value.status == 404
    assert fake.issue_comments("other-org/secret", 1) == []
