"""When summaries are due, and the scheduler posting them against the simulated GitHub."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from bot import store
from bot.summaries import post as weekly
from bot.summaries import schedule
from tests.bot.app.test_celery import REDIS_URL, ROOT, Workers, wait_for
from tests.bot.store.test_store import engine, postgres_engine, sqlite_engine  # noqa: F401  (fixtures)
from tests.bot.summaries.test_figures import _fill
from tests.bot.summaries.test_post import CONFIG, two_accounts_on_github
from tests.bot.summaries.test_post import World as WeeklyWorld
from tests.fakes.github import FakeGitHub

AMSTERDAM = weekly.SummaryConfig(
    repository="analytics-platform", weekday="monday", hour=9, timezone="Europe/Amsterdam"
)
UMBRELLA_CONFIG = """
[summary]
repository = "notes"
weekday = "tuesday"
hour = 7
timezone = "America/New_York"
"""
ISSUES = r"/repos/.+/issues$"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("config", "week", "due"),
    [
        # Week 48 of 2026 ends on Monday 30 November, 00:00 UTC.
        (AMSTERDAM, "2026-W48", _utc(2026, 11, 30, 8)),
        # In summer Amsterdam is two hours ahead; the clocks went forward on 29 March.
        (AMSTERDAM, "2026-W13", _utc(2026, 3, 30, 7)),
        # Monday 09:00 in Auckland comes before the week ends in UTC: the next Monday.
        (
            weekly.SummaryConfig(
                repository="r", weekday="monday", hour=9, timezone="Pacific/Auckland"
            ),
            "2026-W48",
            _utc(2026, 12, 6, 20),
        ),
        # Sunday evening in Los Angeles is after the week's end in UTC: that same Sunday.
        (
            weekly.SummaryConfig(
                repository="r", weekday="sunday", hour=18, timezone="America/Los_Angeles"
            ),
            "2026-W48",
            _utc(2026, 11, 30, 2),
        ),
        # Midnight on Monday in UTC is the week's end itself.
        (
            weekly.SummaryConfig(repository="r", weekday="monday", hour=0, timezone="UTC"),
            "2026-W48",
            _utc(2026, 11, 30, 0),
        ),
        (
            weekly.SummaryConfig(repository="r", weekday="friday", hour=17, timezone="UTC"),
            "2026-W53",
            _utc(2027, 1, 8, 17),
        ),
    ],
)
def test_a_summary_is_due_at_the_first_chosen_hour_after_its_week(config, week, due):
    assert weekly.due_at(config, week) == due


def test_the_due_week_is_the_newest_whose_hour_has_come():
    due = _utc(2026, 11, 30, 8)
    assert schedule.due_week(AMSTERDAM, due - timedelta(seconds=1)) == "2026-W47"
    assert schedule.due_week(AMSTERDAM, due) == "2026-W48"
    assert schedule.due_week(AMSTERDAM, due + timedelta(days=6, hours=23)) == "2026-W48"
    assert schedule.due_week(AMSTERDAM, due + timedelta(days=7)) == "2026-W49"
    early = weekly.SummaryConfig(repository="r", weekday="monday", hour=0, timezone="UTC")
    assert schedule.due_week(early, _utc(2026, 11, 30, 0)) == "2026-W48"


class World(WeeklyWorld):
    """The weekly tests' world (simulated GitHub, a store, a clock), run by the scheduler."""

    def run(self, cache: schedule.ConfigCache | None = None) -> dict[str, str]:
        outcomes = schedule.run_due_summaries(self.services(), cache)
        return {account: outcome.status for account, outcome in outcomes.items()}

    def config_reads(self) -> int:
        return len(self.fake.requests_to("GET", r"/repos/[^/]+/\.github/contents/debtbot\.toml"))


@pytest.fixture
def world(engine, fake_github: FakeGitHub) -> Iterator[World]:  # noqa: F811
    """On SQLite and on PostgreSQL: each process of a test opens its own engine on the URL."""
    url = engine.url.render_as_string(hide_password=False)
    with store.make_session_factory(engine)() as session:
        _fill(session)
        installed = _utc(2026, 11, 1)
        for installation_id, account in [(1, "acme"), (2, "umbrella"), (3, "initech")]:
            store.upsert_installation(session, installation_id, account, "Organization")
            session.get(store.Installation, installation_id).created_at = installed
        session.commit()
    two_accounts_on_github(fake_github)
    fake_github.add_installation(3, "initech")
    fake_github.add_repository("initech/.github", installation_id=3)
    fake_github.add_file("acme/.github", "debtbot.toml", CONFIG)
    fake_github.add_file("umbrella/.github", "debtbot.toml", UMBRELLA_CONFIG)
    world = World(fake_github, url)
    world.clock[0] = _utc(2026, 11, 30, 7, 30)
    yield world
    for opened in world.engines:
        opened.dispose()


def test_each_account_gets_its_summary_at_its_own_hour_once(world):
    # Monday 07:30 UTC: no summary of week 48 is due yet, and week 47's, due a week ago, was
    # never posted (the scheduler was not running then), so it is posted now.
    assert world.run() == {"acme": "posted", "umbrella": "posted"}
    assert [i["title"] for i in world.fake.issues("acme/analytics-platform")] == [
        weekly.issue_title("2026-W47")
    ]
    assert [i["title"] for i in world.fake.issues("umbrella/notes")] == [
        weekly.issue_title("2026-W47")
    ]

    world.clock[0] = _utc(2026, 11, 30, 8, 0)  # 09:00 in Amsterdam
    assert world.run() == {"acme": "posted"}
    world.clock[0] = _utc(2026, 12, 1, 11, 59)  # 06:59 in New York, on Tuesday
    assert world.run() == {}
    world.clock[0] = _utc(2026, 12, 1, 12, 0)
    assert world.run() == {"umbrella": "posted"}

    acme = world.fake.issues("acme/analytics-platform")
    umbrella = world.fake.issues("umbrella/notes")
    assert [i["title"] for i in acme][-1] == weekly.issue_title("2026-W48")
    assert [i["title"] for i in umbrella][-1] == weekly.issue_title("2026-W48")
    assert "umbrella" not in acme[-1]["body"] and "acme" not in umbrella[-1]["body"]
    # initech has no debtbot.toml: nothing anywhere, whatever the hour.
    assert not world.fake.requests_to("POST", r"/repos/initech/")

    # A restarted process, later that week: nothing is due, so nothing is asked of GitHub.
    world.clock[0] = _utc(2026, 12, 3, 9, 0)
    before = len(world.fake.requests)
    assert world.run() == {}
    # Only initech, which never gets a summary, is looked at again.
    asked = {r.path for r in world.fake.requests[before:] if "access_tokens" not in r.path}
    assert asked == {"/repos/initech/.github/contents/debtbot.toml"}
    assert len(world.fake.requests_to("POST", ISSUES)) == 4


def test_a_summary_missed_during_downtime_is_posted_when_the_scheduler_is_back(world):
    # Down from Sunday until Wednesday: week 48 is posted on Wednesday, week 47 is not
    # posted any more (its summary was due two weeks before).
    world.clock[0] = _utc(2026, 12, 2, 15, 0)
    assert world.run() == {"acme": "posted", "umbrella": "posted"}
    assert [i["title"] for i in world.fake.issues("acme/analytics-platform")] == [
        weekly.issue_title("2026-W48")
    ]
    with world.services().sessions() as session:
        assert [p.week for p in store.summary_posts(session, "acme")] == ["2026-W48"]


def test_weeks_that_ended_before_the_installation_are_not_summarised(world):
    with world.services().sessions() as session:
        session.get(store.Installation, 1).created_at = _utc(2026, 11, 25)
        session.commit()
    world.clock[0] = _utc(2026, 11, 27, 12, 0)  # week 47 is due, but acme arrived after it
    assert world.run() == {"umbrella": "posted"}
    world.clock[0] = _utc(2026, 11, 30, 8, 0)
    assert world.run() == {"acme": "posted"}


def test_settings_are_read_once_an_hour_and_not_at_all_once_the_week_is_posted(world):
    world.clock[0] = _utc(2026, 11, 30, 6, 0)
    cache: schedule.ConfigCache = {}
    world.run(cache)  # catches up on week 47
    reads = world.config_reads()
    assert reads == 3  # acme, umbrella, initech
    for minutes in (5, 10, 55):
        world.clock[0] = _utc(2026, 11, 30, 6, minutes)
        assert world.run(cache) == {}
    assert world.config_reads() == reads  # believed for an hour
    world.clock[0] = _utc(2026, 11, 30, 7, 0)
    world.run(cache)
    assert world.config_reads() == reads + 3  # an hour on: read again
    world.clock[0] = _utc(2026, 11, 30, 8, 0)
    assert world.run(cache) == {"acme": "posted"}
    world.clock[0] = _utc(2026, 12, 1, 12, 0)
    assert world.run(cache) == {"umbrella": "posted"}
    reads = world.config_reads()
    world.clock[0] = _utc(2026, 12, 1, 14, 0)
    world.run(cache)
    # Only initech (no file, so never posted) is read again; posted accounts cost nothing.
    assert world.config_reads() == reads + 1


def test_a_changed_file_is_seen_within_the_hour(world):
    world.clock[0] = _utc(2026, 11, 30, 6, 0)
    cache: schedule.ConfigCache = {}
    world.run(cache)
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG.replace("hour = 9", "hour = 7"))
    world.clock[0] = _utc(2026, 11, 30, 6, 30)  # 07:30 in Amsterdam: due now, not seen yet
    assert world.run(cache) == {}
    world.clock[0] = _utc(2026, 11, 30, 7, 0)
    assert world.run(cache) == {"acme": "posted"}


def test_one_account_failing_does_not_stop_the_others(world, caplog):
    world.clock[0] = _utc(2026, 11, 30, 12, 0)
    world.fake.fail("GET", r"/repos/acme/\.github/contents/debtbot\.toml", 502, times=10)
    world.fake.add_file("umbrella/.github", "debtbot.toml", "[summary]\nrepository = 5\n")
    assert world.run() == {"acme": "github-error", "umbrella": "config-error"}
    assert not world.fake.requests_to("POST", ISSUES)

    # GitHub is back and umbrella mended its file: acme posts its week 48, and umbrella its week
    # 47 (still due until Tuesday). No summary was due while the file was broken, so none
    # says so.
    world.fake.add_file("umbrella/.github", "debtbot.toml", UMBRELLA_CONFIG)
    world.clock[0] = _utc(2026, 11, 30, 13, 0)
    assert world.run() == {"acme": "posted", "umbrella": "posted"}
    (notes,) = world.fake.issues("umbrella/notes")
    assert notes["title"] == weekly.issue_title("2026-W47")
    assert "[!WARNING]" not in notes["body"]

    # Broken again across Tuesday 07:00 in New York, when week 48 was due: that summary, once
    # posted, says what kept it back.
    world.fake.add_file("umbrella/.github", "debtbot.toml", "[summary]\nrepository = 5\n")
    for hour in (11, 12):
        world.clock[0] = _utc(2026, 12, 1, hour, 0)
        assert world.run() == {"umbrella": "config-error"}
    world.fake.add_file("umbrella/.github", "debtbot.toml", UMBRELLA_CONFIG)
    world.clock[0] = _utc(2026, 12, 1, 14, 0)  # the hour the broken file was believed is over
    assert world.run() == {"umbrella": "posted"}
    latest = world.fake.issues("umbrella/notes")[-1]
    assert latest["title"] == weekly.issue_title("2026-W48")
    assert (
        "> [!WARNING]\n> From 1 December 2026 11:00 UTC to 1 December 2026 12:00 UTC"
        in (latest["body"])
    )
    assert (
        "so the summary due 1 December 2026 12:00 UTC was not posted: `umbrella/"
        in (latest["body"])
    )


def test_a_repository_it_cannot_post_in_is_not_tried_again_within_the_hour(world):
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG.replace("analytics-", "data-"))
    world.clock[0] = _utc(2026, 11, 30, 8, 0)
    cache: schedule.ConfigCache = {}
    assert world.run(cache)["acme"] == "config-error"
    asked = len(world.fake.requests)
    for minutes in (5, 30, 55):
        world.clock[0] = _utc(2026, 11, 30, 8, minutes)
        assert world.run(cache) == {"acme": "config-error"}
    acme = [
        r for r in world.fake.requests[asked:] if "/acme/" in r.path or "installation" in r.path
    ]
    assert acme == []
    world.fake.add_file("acme/.github", "debtbot.toml", CONFIG)
    world.clock[0] = _utc(2026, 11, 30, 9, 0)
    assert world.run(cache) == {"acme": "posted"}


def test_replicas_looking_at_once_post_each_summary_once(world):
    world.clock[0] = _utc(2026, 11, 30, 8, 0)
    results: list[dict[str, str]] = []
    start = threading.Barrier(4)

    def replica() -> None:
        services = world.services()
        start.wait()
        results.append({a: o.status for a, o in schedule.run_due_summaries(services).items()})

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Week 48 for acme, week 47 for umbrella (week 48 is due on Tuesday).
    assert len(world.fake.issues("acme/analytics-platform")) == 1
    assert len(world.fake.issues("umbrella/notes")) == 1
    posted = [account for result in results for account, s in result.items() if s == "posted"]
    assert sorted(posted) == ["acme", "umbrella"]


def test_the_scheduler_thread_looks_at_once_and_stops(world):
    world.clock[0] = _utc(2026, 11, 30, 8, 0)
    scheduler = schedule.start_scheduler(world.services(), interval_seconds=0.05)
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while len(world.fake.requests_to("POST", ISSUES)) < 2 and datetime.now(UTC) < deadline:
            threading.Event().wait(0.02)
        assert scheduler.thread.is_alive()
    finally:
        assert scheduler.stop()
    assert len(world.fake.issues("acme/analytics-platform")) == 1
    assert len(world.fake.issues("umbrella/notes")) == 1


def test_celery_workers_each_running_beat_post_each_summary_once(world, tmp_path):
    # Three `debtbot worker` processes, each with its own periodic trigger, looking every half
    # second, on the real clock: whatever the week, each account's newest due summary is
    # posted, and the store's claim lets only one of them post it.
    queue = f"debtbot-test-{uuid.uuid4().hex[:12]}"
    environment = {
        **os.environ,
        **world.fake.environment(),
        "GITHUB_WEBHOOK_SECRET": "secret",
        "PUBLIC_URL": "https://debtbot.example.com",
        "DATABASE_URL": world.url,
        "DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "SUMMARY_CHECK_SECONDS": "0.5",
        "PYTHONPATH": str(ROOT),
    }
    workers = Workers(tmp_path, environment)
    try:
        for name in ("one", "two", "three"):
            workers.start(name, "--concurrency=2")
        wait_for(lambda: len(world.fake.requests_to("POST", ISSUES)) >= 2, 90)
        time.sleep(3)  # several more looks by every worker
    finally:
        workers.stop_all()
        redis.Redis.from_url(REDIS_URL).delete(queue)
    assert len(world.fake.issues("acme/analytics-platform")) == 1
    assert len(world.fake.issues("umbrella/notes")) == 1
    assert len(world.fake.requests_to("POST", ISSUES)) == 2
