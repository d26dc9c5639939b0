"""Posting weekly summaries against the simulated GitHub over real HTTP, with a real store.

What is asserted is what reached GitHub (requests, issues) and what the store recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import store
from bot.cli.main import main
from bot.github.errors import GitHubError
from bot.services import Services
from bot.summaries import figures as summary
from bot.summaries import post as weekly
from tests.bot.store.test_store import engine, postgres_engine, sqlite_engine  # noqa: F401  (fixtures)
from tests.bot.summaries.test_figures import PUBLIC_URL, _fill
from tests.fakes.github import FakeGitHub

WEEK = "2026-W48"
CONFIG = """
[summary]
repository = "analytics-platform"
weekday = "monday"
hour = 9
timezone = "Europe/Amsterdam"
enabled = true
"""
ISSUES = r"/repos/acme/analytics-platform/issues"


class World:
    def __init__(self, fake: FakeGitHub, url: str) -> None:
        self.fake = fake
        self.url = url
        self.clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
        self.engines: list = []

    def services(self) -> Services:
        """Fresh services on a fresh engine: what a restarted (or another) process has."""
        database = store.make_engine(self.url)
        self.engines.append(database)
        return self.fake.services(
            store.make_session_factory(database),
            Path("unused-data"),  # summaries never touch git
            git_url="unused",
            clock=lambda: self.clock[0],
            public_url=PUBLIC_URL,
            github_url="https://github.example",
        )

    def post(self, account: str = "acme", installation_id: int = 1) -> str:
        return self.outcome(account, installation_id).status

    def outcome(self, account: str = "acme", installation_id: int = 1) -> weekly.Outcome:
        return weekly.post_weekly_summary(self.services(), installation_id, account, WEEK)

    def posts(self, account: str = "acme") -> list[tuple[str, str, str, int | None]]:
        with self.services().sessions() as session:
            return [
                (p.week, p.repository, p.status, p.issue_number)
                for p in store.summary_posts(session, account)
            ]


def two_accounts_on_github(fake: FakeGitHub) -> None:
    """acme (installation 1) and umbrella (2): a .github repository each, code repositories
    and one to post the summary in."""
    fake.add_installation(1, "acme")
    fake.add_installation(2, "umbrella")
    for full_name, installation_id in [
        ("acme/.github", 1),
        ("acme/analytics-platform", 1),
        ("acme/models", 1),
        ("acme/pipelines", 1),
        ("umbrella/.github", 2),
        ("umbrella/models", 2),
        ("umbrella/notes", 2),
    ]:
        fake.add_repository(full_name, installation_id=installation_id)


@pytest.fixture
def world(tmp_path, fake_github: FakeGitHub) -> Iterator[World]:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    database = store.make_engine(url)
    store.create_schema(database)
    with store.make_session_factory(database)() as session:
        _fill(session)
    database.dispose()
    two_accounts_on_github(fake_github)
    world = World(fake_github, url)
    yield world
    for opened in world.engines:
        opened.dispose()


def test_a_configured_account_gets_its_summary_as_one_issue_even_after_a_restart(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)

    assert world.post() == "posted"

    (issue,) = world.fake.issues("acme/analytics-platform")
    assert issue["title"] == "Technical debt summary, week 2026-W48"
    assert issue["user"]["login"] == world.fake.bot_login
    with world.services().sessions() as session:
        expected = summary.render_summary(
            summary.weekly_figures(session, "acme", WEEK), PUBLIC_URL, "https://github.example"
        )
    assert issue["body"] == expected
    assert "<!-- debtbot:summary acme 2026-W48 -->" in issue["body"]
    assert world.posts() == [(WEEK, "acme/analytics-platform", "posted", issue["number"])]
    assert len(world.fake.requests_to("GET", r"/repos/acme/\.github/contents/debtbot\.toml")) == 1

    # A restarted process (new engine, new clients) and a later hour: nothing more is posted.
    world.clock[0] += timedelta(hours=3)
    assert world.outcome() == weekly.Outcome("already-posted", issue["html_url"])
    assert len(world.fake.requests_to("POST", ISSUES)) == 1


def test_a_repository_the_installation_no_longer_sees_is_left_out(world):
    # Removed from the installation on GitHub; the store missed the webhook.
    world.fake.remove_repository_from_installation("acme/pipelines")
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)

    outcome = world.outcome()

    (issue,) = world.fake.issues("acme/analytics-platform")
    assert outcome.body == issue["body"]
    assert "acme/models" in issue["body"] and "acme/pipelines" not in issue["body"]
    with world.services().sessions() as session:
        everything = summary.weekly_figures(session, "acme", WEEK)
        seen = summary.weekly_figures(
            session, "acme", WEEK, visible=["ACME/models", "acme/.github"]
        )
    assert "acme/pipelines" in everything.repositories
    assert seen.repositories == ("acme/models",)
    # acme/pipelines' findings of the week: two in one pull request, one in another.
    assert seen.added == everything.added - 3


def test_no_file_no_summary_and_accounts_never_mix(world):
    assert world.post("umbrella", 2) == "not-configured"
    assert not world.fake.requests_to("POST", r"/repos/.+/issues")
    assert world.posts("umbrella") == []

    world.fake.add_file("umbrella/.github", "debtbot.toml", 'summary.repository = "notes"\n')
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    assert world.post("umbrella", 2) == "posted"
    assert world.post("acme", 1) == "posted"

    (notes,) = world.fake.issues("umbrella/notes")
    (analytics,) = world.fake.issues("acme/analytics-platform")
    assert "umbrella/models" in notes["body"] and "acme" not in notes["body"]
    assert "acme/models" in analytics["body"] and "umbrella" not in analytics["body"]


def test_an_account_whose_file_the_installation_cannot_see_gets_nothing(world):
    # acme's installation does not see umbrella's .github, which holds a file.
    world.fake.add_file("umbrella/.github", "debtbot.toml", 'summary.repository = "notes"\n')
    assert world.post("umbrella", 1) == "not-configured"
    assert not world.fake.requests_to("POST", r"/repos/.+/issues")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[summary\nrepository = 'x'", "debtbot.toml is not valid TOML"),
        ("[summary]\nweekday = 'monday'", "[summary] needs repository"),
        ("[summary]\nrepository = 'acme/other'", "must be the name of one of your repositories"),
        ("[summary]\nrepository = 'x'\nday = 'monday'", "[summary] has no setting 'day'"),
        ("[summary]\nrepository = 'x'\nweekday = 'mon'", "weekday must be a day"),
        ("[summary]\nrepository = 'x'\nhour = 24", "hour must be a whole hour from 0 to 23"),
        ("[summary]\nrepository = 'x'\nhour = true", "hour must be a whole hour"),
        ("[summary]\nrepository = 'x'\ntimezone = 'Mars/Olympus'", "timezone must be a time"),
        ("[summary]\nrepository = 'x'\nenabled = 'yes'", "enabled must be true or false"),
        ("summary = 3", "[summary] must be a table"),
    ],
)
def test_a_broken_file_is_one_clear_error_and_nothing_is_posted(world, caplog, text, message):
    world.fake.add_file("acme/.github", "debtbot.toml", text)
    with caplog.at_level(logging.INFO, logger="bot.summaries.post"):
        outcome = world.outcome()
        # Trying again (the next look of the scheduler, another replica) does not log again.
        world.clock[0] += timedelta(minutes=5)
        assert world.post() == "config-error"
    assert outcome.status == "config-error" and message in outcome.problem
    (record,) = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("no summary: acme/.github/debtbot.toml: ")
    assert message in record.getMessage()
    assert not world.fake.requests_to("POST", r"/repos/.+/issues")
    assert world.posts() == []


def test_a_broken_file_is_reported_in_the_next_summary_once_mended(world, caplog):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG.replace("hour = 9", "hour = 25"))
    with caplog.at_level(logging.ERROR, logger="bot.summaries.post"):
        assert world.post() == "config-error"
        world.clock[0] += timedelta(hours=2)
        assert world.post() == "config-error"
        # A different mistake is news, and is logged.
        world.fake.add_file("acme/.github", "debtbot.toml", CONFIG.replace("true", "'yes'"))
        world.clock[0] += timedelta(hours=2)
        assert world.post() == "config-error"
    assert [("hour" in r.getMessage(), "enabled" in r.getMessage()) for r in caplog.records] == [
        (True, False),
        (False, True),
    ]

    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    world.clock[0] += timedelta(hours=1)
    assert world.post() == "posted"
    (issue,) = world.fake.issues("acme/analytics-platform")
    warning = issue["body"].split("\n\n")[1]
    assert warning == (
        "> [!WARNING]\n> From 30 November 2026 08:00 UTC to 30 November 2026 12:00 UTC, debtbot "
        "could not use this account's summary settings, so the summary due 30 November 2026 "
        "08:00 UTC was not posted: `acme/.github/debtbot.toml: [summary] enabled must be true "
        "or false, not 'yes'`"
    )
    with world.services().sessions() as session:
        assert store.summary_problem(session, "acme") is None


def test_a_repository_the_app_cannot_post_in_is_a_clear_error_until_it_is_fixed(world, caplog):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG.replace("analytics-", "data-"))
    with caplog.at_level(logging.INFO, logger="bot.summaries.post"):
        assert world.post() == "config-error"
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "cannot open an issue in acme/data-platform" in record.getMessage()
    assert world.posts() == []

    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    assert world.post() == "posted"
    (issue,) = world.fake.issues("acme/analytics-platform")
    assert "cannot open an issue in acme/data-platform: is it a repository of acme" in issue["body"]


def test_no_permission_to_open_issues_is_a_clear_error_and_the_claim_is_given_back(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    world.fake.fail("POST", ISSUES, 403, body={"message": "Resource not accessible by integration"})

    outcome = world.outcome()

    assert outcome.status == "config-error" and "may open issues in" in outcome.problem
    assert world.posts() == []  # given back: the next look, with the permission granted, posts
    assert world.post() == "posted"


def test_a_repository_the_installation_does_not_see_is_refused_before_any_claim(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    world.fake.remove_repository_from_installation("acme/analytics-platform")

    assert world.post() == "config-error"

    assert world.posts() == []
    assert not world.fake.requests_to("POST", ISSUES)


def test_a_disabled_summary_is_not_posted(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG.replace("true", "false"))
    assert world.post() == "disabled"
    assert world.fake.issues("acme/analytics-platform") == []


def test_a_failed_post_is_retried_once_the_claim_expires_and_posted_once(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    world.fake.fail("POST", ISSUES, 502)

    with pytest.raises(GitHubError):
        world.post()
    assert world.posts() == [(WEEK, "acme/analytics-platform", "posting", None)]
    # Another replica (or a restart) soon after: the claim is still held.
    assert world.post() == "being-posted"

    world.clock[0] += weekly.CLAIM_LEASE + timedelta(seconds=1)
    # Someone quoting the marker in an issue of their own is not the App's summary.
    world.fake.add_issue(
        "acme/analytics-platform", "copy", "<!-- debtbot:summary acme 2026-W48 -->", "alice"
    )
    assert world.post() == "posted"

    assert len(world.fake.requests_to("POST", ISSUES)) == 2  # the 502 and the one that worked
    mine = [i for i in world.fake.issues("acme/analytics-platform") if i["title"] != "copy"]
    assert len(mine) == 1
    assert world.posts() == [(WEEK, "acme/analytics-platform", "posted", mine[0]["number"])]
    (listing,) = world.fake.requests_to("GET", ISSUES)
    assert listing.query["creator"] == [world.fake.bot_login]


def test_a_summary_posted_just_before_a_crash_is_found_not_posted_again(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    # The process claimed, posted, and died before recording the issue.
    with world.services().sessions() as session:
        store.claim_summary(
            session, "acme", WEEK, "acme/analytics-platform", world.clock[0], weekly.CLAIM_LEASE
        )
    posted = world.fake.add_issue(
        "acme/analytics-platform",
        weekly.issue_title(WEEK),
        summary.summary_marker("acme", WEEK) + "\nthe summary",
    )
    world.clock[0] += weekly.CLAIM_LEASE * 2

    assert world.post() == "found"

    assert not world.fake.requests_to("POST", ISSUES)
    assert world.posts() == [(WEEK, "acme/analytics-platform", "posted", posted["number"])]


# --- the store's guarantee, on SQLite and PostgreSQL -------------------------------------------


def test_one_claim_per_account_and_week_and_one_taker_of_an_expired_one(engine):  # noqa: F811
    sessions = store.make_session_factory(engine)
    now = datetime(2026, 11, 30, 8, tzinfo=UTC)
    lease = timedelta(minutes=10)
    with sessions() as first, sessions() as second:
        claim = store.claim_summary(first, "Acme", WEEK, "acme/a", now, lease)
        assert claim == store.SummaryClaim("acme", WEEK, "acme/a", resumed=False, token=now)
        assert store.claim_summary(second, "acme", WEEK, "acme/b", now, lease) is None
        # Other weeks and other accounts are claimed on their own.
        assert store.claim_summary(second, "acme", "2026-W49", "acme/a", now, lease)
        assert store.claim_summary(second, "umbrella", WEEK, "umbrella/n", now, lease)

        later = now + lease + timedelta(seconds=1)
        taken = store.claim_summary(second, "acme", WEEK, "acme/b", later, lease)
        assert taken == store.SummaryClaim("acme", WEEK, "acme/a", resumed=True, token=later)
        assert store.claim_summary(first, "acme", WEEK, "acme/b", later, lease) is None

        # The first holder, back from a long wait, can no longer renew, release or finish it.
        assert store.renew_summary(first, claim, later) is None
        store.release_summary(first, claim)
        assert not store.finish_summary(first, claim, 6, "https://github.example/acme/a/issues/6")
        renewed = store.renew_summary(second, taken, later + timedelta(seconds=5))
        assert renewed is not None and renewed.token == later + timedelta(seconds=5)
        assert store.renew_summary(second, taken, later) is None  # the old token is spent
        taken = renewed
        assert store.finish_summary(first, taken, 7, "https://github.example/acme/a/issues/7")
        much_later = later + lease * 10
        assert store.claim_summary(second, "acme", WEEK, "acme/a", much_later, lease) is None
        assert [(p.week, p.status, p.issue_number) for p in store.summary_posts(first, "ACME")] == [
            (WEEK, "posted", 7),
            ("2026-W49", "posting", None),
        ]


def test_the_config_file_parses_with_defaults():
    assert weekly.parse_summary_config(CONFIG) == weekly.SummaryConfig(
        repository="analytics-platform",
        weekday="monday",
        hour=9,
        timezone="Europe/Amsterdam",
        enabled=True,
    )
    assert weekly.parse_summary_config("[summary]\nrepository = 'a'\nweekday = 'Friday'") == (
        weekly.SummaryConfig(repository="a", weekday="friday", hour=9, timezone="UTC", enabled=True)
    )
    assert weekly.parse_summary_config("[other]\nx = 1") is None


# --- debtbot summary --post ---------------------------------------------------------------------


@pytest.fixture
def app_environment(world, monkeypatch) -> World:
    """The App's settings in the environment, as where `debtbot serve` runs."""
    for name, value in world.fake.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "secret")
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("GITHUB_URL", "https://github.example")
    monkeypatch.setenv("DATABASE_URL", world.url)
    with world.services().sessions() as session:
        store.upsert_installation(session, 1, "acme", "Organization")
        store.upsert_installation(session, 2, "umbrella", "Organization")
    return world


PAST_WEEK = "2026-W45"  # over whatever day the tests run


def test_the_command_prints_and_posts_the_summary_once(app_environment, capsys):
    world = app_environment
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)

    assert main(["summary", "--org", "acme", "--week", PAST_WEEK, "--post"]) == 0

    out, err = capsys.readouterr()
    (issue,) = world.fake.issues("acme/analytics-platform")
    assert issue["title"] == weekly.issue_title(PAST_WEEK)
    assert out == issue["body"]
    assert err == f"debtbot: posted as {issue['html_url']}\n"

    # Again, as the scheduler would later: printed, not posted twice.
    assert main(["summary", "--org", "ACME", "--week", PAST_WEEK, "--post"]) == 0
    out, err = capsys.readouterr()
    assert out == issue["body"]
    assert err == f"debtbot: already posted as {issue['html_url']}; not posted again\n"
    assert len(world.fake.requests_to("POST", ISSUES)) == 1
    assert world.posts() == [(PAST_WEEK, "acme/analytics-platform", "posted", issue["number"])]


@pytest.mark.parametrize(
    ("account", "file", "week", "message"),
    [
        ("umbrella", None, PAST_WEEK, "nothing posted: umbrella/.github/debtbot.toml has no"),
        ("umbrella", "[summary]\nrepository = 'notes'\nenabled = false", PAST_WEEK, "turns"),
        ("umbrella", "[summary]\nrepository = 'notes'\nhour = -1", PAST_WEEK, "hour must be"),
        ("acme", CONFIG, "this week", "week {week} is not over yet"),
        ("initech", CONFIG, PAST_WEEK, "the store has no repositories of 'initech'"),
    ],
)
def test_the_command_posts_nothing_unasked_and_says_why(
    app_environment, capsys, account, file, week, message
):
    world = app_environment
    if file is not None:
        world.fake.add_file(f"{account}/.github", "debtbot.toml", file)
    if week == "this week":
        week = summary.week_name(*summary.week_of(datetime.now(UTC)))

    assert main(["summary", "--org", account, "--week", week, "--post"]) == 2

    assert message.format(week=week) in capsys.readouterr().err
    assert not world.fake.requests_to("POST", r"/repos/.+/issues")


def test_the_command_needs_the_apps_settings_and_an_installation_to_post(
    app_environment, capsys, monkeypatch
):
    world = app_environment
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    with world.services().sessions() as session:
        store.upsert_installation(session, 1, "acme", suspended=True)
    assert main(["summary", "--org", "acme", "--week", PAST_WEEK, "--post"]) == 2
    assert "debtbot has no active installation on 'acme'" in capsys.readouterr().err

    monkeypatch.delenv("GITHUB_APP_ID")
    assert main(["summary", "--org", "acme", "--week", PAST_WEEK, "--post"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "GITHUB_APP_ID is not set" in err
    assert not world.fake.requests_to("POST", r"/repos/.+/issues")


def test_the_command_says_when_github_fails_and_the_next_try_posts_once(app_environment, capsys):
    world = app_environment
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    world.fake.fail("POST", ISSUES, 502)

    assert main(["summary", "--org", "acme", "--week", PAST_WEEK, "--post"]) == 2
    assert "GitHub answered 502" in capsys.readouterr().err


def test_a_problem_is_news_once_and_cleared_only_up_to_what_was_reported(engine):  # noqa: F811
    sessions = store.make_session_factory(engine)
    first = datetime(2026, 11, 30, 8, tzinfo=UTC)
    with sessions() as session:
        assert store.record_summary_problem(session, "Acme", "hour is 25", first)
        assert not store.record_summary_problem(
            session, "acme", "hour is 25", first + timedelta(hours=1)
        )
        assert store.record_summary_problem(
            session, "acme", "weekday is mon", first + timedelta(hours=2)
        )
        assert store.record_summary_problem(session, "umbrella", "no repository", first)
        reported = store.summary_problem(session, "ACME")
        assert reported == store.SummaryProblemInfo(
            "weekday is mon", first, first + timedelta(hours=2)
        )
        # Seen again after the summary that reported it was composed: kept for the next one.
        store.record_summary_problem(session, "acme", "weekday is mon", first + timedelta(hours=3))
        store.clear_summary_problem(session, "acme", reported.last_seen_at)
        assert store.summary_problem(session, "acme") is not None
        store.clear_summary_problem(session, "acme", first + timedelta(hours=3))
        assert store.summary_problem(session, "acme") is None
        assert store.summary_problem(session, "umbrella").message == "no repository"
