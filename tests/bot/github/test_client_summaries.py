"""bot.github.client's calls for weekly summaries, against the simulated GitHub over HTTP."""

from __future__ import annotations

import pytest

from bot.github import client as gh
from bot.github.errors import GitHubError, Unavailable
from tests.fakes.github import BOT_LOGIN, FakeGitHub, fake_github

__all__ = ["fake_github"]  # the fixture, imported for pytest

CONFIG_REPO = "octo-org/.github"
TARGET = "octo-org/analytics-platform"
CONTENTS = r"/repos/octo-org/\.github/contents/debtbot\.toml"


def _client(fake: FakeGitHub) -> gh.InstallationClient:
    return fake.github_app().installation(1)


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_installation(1, "octo-org")
    fake_github.add_installation(2, "umbrella")
    fake_github.add_repository(CONFIG_REPO, installation_id=1)
    fake_github.add_repository(TARGET, installation_id=1)
    fake_github.add_repository("umbrella/.github", installation_id=2)
    return fake_github


# -- reading debtbot.toml ---------------------------------------------------------------------


def test_a_file_is_read_as_text_from_the_contents_api(fake):
    fake.add_file(CONFIG_REPO, "debtbot.toml", "[summary]\nrepository = 'é'\n" * 40)

    text = _client(fake).read_text_file(CONFIG_REPO, "debtbot.toml")

    assert text == "[summary]\nrepository = 'é'\n" * 40
    (request,) = fake.requests_to("GET", CONTENTS)
    assert request.headers["authorization"].startswith("token ghs_")


def test_no_file_no_repository_and_another_accounts_repository_are_all_none(fake):
    client = _client(fake)
    assert client.read_text_file(CONFIG_REPO, "debtbot.toml") is None
    assert client.read_text_file("octo-org/nothing-here", "debtbot.toml") is None
    fake.add_file("umbrella/.github", "debtbot.toml", "[summary]\n")
    assert client.read_text_file("umbrella/.github", "debtbot.toml") is None


def test_a_file_that_is_not_utf8_is_said_so(fake):
    fake.add_file(CONFIG_REPO, "debtbot.toml", "hour = 9 # été\n".encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        _client(fake).read_text_file(CONFIG_REPO, "debtbot.toml")


def test_a_refusal_other_than_404_is_raised_not_taken_for_no_file(fake):
    fake.fail("GET", CONTENTS, 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubError) as raised:
        _client(fake).read_text_file(CONFIG_REPO, "debtbot.toml")
    assert raised.value.status == 403


def test_a_passing_server_error_is_retried(fake):
    fake.add_file(CONFIG_REPO, "debtbot.toml", "[summary]\n")
    fake.fail("GET", CONTENTS, 502)
    assert _client(fake).read_text_file(CONFIG_REPO, "debtbot.toml") == "[summary]\n"
    assert len(fake.requests_to("GET", CONTENTS)) == 2


# -- the issue --------------------------------------------------------------------------------


def test_an_issue_is_opened_once_and_found_again_among_the_apps_own(fake):
    client = _client(fake)
    fake.add_issue(TARGET, "someone else's", "<!-- marker -->", author="alice")

    opened = client.create_issue(TARGET, "Technical debt summary", "<!-- marker -->\nbody")

    (request,) = fake.requests_to("POST", rf"/repos/{TARGET}/issues$")
    assert request.json == {"title": "Technical debt summary", "body": "<!-- marker -->\nbody"}
    assert opened.html_url.endswith(f"/issues/{opened.number}")
    own = client.list_own_issues(TARGET)
    assert [(i.number, i.title) for i in own] == [(opened.number, "Technical debt summary")]
    (listing,) = fake.requests_to("GET", rf"/repos/{TARGET}/issues$")
    assert listing.query["creator"] == [BOT_LOGIN] and listing.query["state"] == ["all"]


def test_the_apps_issues_are_listed_across_pages(fake):
    for week in range(1, 131):
        fake.add_issue(TARGET, f"week {week}", "")
    titles = [i.title for i in _client(fake).list_own_issues(TARGET)]
    assert titles == [f"week {week}" for week in range(130, 0, -1)]  # newest first
    assert len(fake.requests_to("GET", rf"/repos/{TARGET}/issues$")) == 2


@pytest.mark.parametrize(
    ("status", "message"),
    [(410, "Issues are disabled for this repo"), (404, "Not Found"), (422, "Validation Failed")],
)
def test_an_issue_github_will_not_open_raises_with_its_status(fake, status, message):
    fake.fail("POST", rf"/repos/{TARGET}/issues$", status, body={"message": message})
    with pytest.raises(GitHubError) as raised:
        _client(fake).create_issue(TARGET, "title", "body")
    assert raised.value.status == status
    # A write is never sent twice: a second issue is worse than none.
    assert len(fake.requests_to("POST", rf"/repos/{TARGET}/issues$")) == 1


def test_a_server_error_opening_an_issue_is_not_retried(fake):
    fake.fail("POST", rf"/repos/{TARGET}/issues$", 502)
    with pytest.raises(GitHubError):
        _client(fake).create_issue(TARGET, "title", "body")
    assert len(fake.requests_to("POST", rf"/repos/{TARGET}/issues$")) == 1
    assert fake.issues(TARGET) == []


# -- what the installation sees -----------------------------------------------------------------


def test_the_installations_repositories_are_listed_across_pages(fake):
    for n in range(130):
        fake.add_repository(f"octo-org/project-{n:03d}", installation_id=1)
    fake.remove_repository_from_installation("octo-org/project-007")

    names = _client(fake).installation_repositories()

    assert len(names) == 131  # .github, analytics-platform, 129 projects
    assert "octo-org/project-007" not in names and TARGET in names
    assert not any(name.startswith("umbrella/") for name in names)
    assert len(fake.requests_to("GET", r"/installation/repositories$")) == 2


def test_a_rate_limited_listing_waits_for_the_reset_then_succeeds(fake):
    fake.fail_with_rate_limit("GET", r"/installation/repositories$", reset_in=1)
    assert TARGET in _client(fake).installation_repositories()
    assert len(fake.requests_to("GET", r"/installation/repositories$")) == 2


def test_an_issue_whose_answer_times_out_is_not_opened_twice(fake):
    client = fake.github_app(timeout=1).installation(1)
    fake.answer_late("POST", rf"/repos/{TARGET}/issues$", seconds=2)

    with pytest.raises(Unavailable) as raised:
        client.create_issue(TARGET, "title", "body")

    assert raised.value.status is None  # no answer came

    assert len(fake.requests_to("POST", rf"/repos/{TARGET}/issues$")) == 1
    assert len(fake.issues(TARGET)) == 1  # GitHub opened it; the caller must look before retrying


def test_a_read_that_times_out_is_retried(fake):
    fake.add_file(CONFIG_REPO, "debtbot.toml", "[summary]\n")
    client = fake.github_app(timeout=1).installation(1)
    fake.answer_late("GET", CONTENTS, seconds=2)
    assert client.read_text_file(CONFIG_REPO, "debtbot.toml") == "[summary]\n"
    assert len(fake.requests_to("GET", CONTENTS)) == 2
