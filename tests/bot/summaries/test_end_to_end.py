"""Weekly summaries end to end: reviews recorded by the running App, summaries posted by the
scheduler, for two organisations that never mix, exactly once across a restart and a replica.

What is real here: the FastAPI App with its worker thread takes signed webhooks (the
installations, then pull requests in three repositories of two organisations), fetches each
pull request from a git server on loopback and reviews it against the simulated GitHub over
HTTP, recording what it found in the store. The scheduler (``schedule.run_due_summaries``, as
the App's scheduler thread calls it) then reads each organisation's ``debtbot.toml`` from
GitHub, composes the summary from that store and opens the issue over HTTP. Only its clock is
fixed, to step over each organisation's due moment; the last test runs the App's own scheduler
thread on the real clock.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import store
from bot.app.server import create_app
from bot.services import Services
from bot.settings import Settings
from bot.summaries import figures as summary
from bot.summaries import post as weekly
from bot.summaries import schedule
from tests.bot.app.test_end_to_end import (  # noqa: F401  (git_server is a fixture)
    FIXED,
    NEW,
    SECRET,
    Remote,
    deliver_event,
    git_server,
    settled,
    wait_for,
)
from tests.bot.summaries.test_post import two_accounts_on_github
from tests.fakes.github import FakeGitHub

ACME_CONFIG = """\
[summary]
repository = "analytics-platform"
weekday = "monday"
hour = 9
timezone = "Europe/Amsterdam"
"""
UMBRELLA_CONFIG = """\
[summary]
repository = "notes"
weekday = "tuesday"
hour = 9
timezone = "America/New_York"
"""
CLEAN = """\
import pandas as pd


def clean(frame):
    frame.dropna(inplace=True)
    return frame


def load():
    try:
        return pd.read_csv("/home/alice/data/train.csv")
    except Exception:
        pass
"""
ISSUE_POSTS = r"/repos/.+/issues"


def app_settings(
    tmp_path: Path, fake: FakeGitHub, git_url: str, database_url: str, **overrides: Any
) -> Settings:
    return Settings(
        github_app_id=fake.app_id,
        github_private_key=fake.private_key,
        github_webhook_secret=SECRET,
        github_api_url=fake.url,
        github_url=git_url,
        database_url=database_url,
        public_url="https://debtbot.example.com",
        data_dir=tmp_path / "data",
        worker_poll_seconds=0.05,
        worker_backoff_seconds=0.1,
        **overrides,
    )


def two_organisations(fake: FakeGitHub) -> None:
    """Acme (installation 1) and umbrella (2), each asking for a summary at its own time."""
    two_accounts_on_github(fake)
    fake.add_file("acme/.github", "debtbot.toml", ACME_CONFIG)
    fake.add_file("umbrella/.github", "debtbot.toml", UMBRELLA_CONFIG)


def install(client: TestClient, fake: FakeGitHub, settings: Settings, *ids: int) -> None:
    for installation_id in ids:
        answer = deliver_event(client, "installation", fake.installation_event(installation_id))
        assert answer.status_code == 202
    wait_for(lambda: settled(settings))


def open_pull(
    tmp_path: Path, fake: FakeGitHub, full_name: str, number: int, path: str, text: str
) -> Remote:
    """A pull request adding ``path``, on GitHub and on the git server."""
    repository = Remote(tmp_path, full_name)
    (Path(repository.work.working_tree_dir) / path).parent.mkdir(parents=True, exist_ok=True)
    base = repository.commit({"README.md": f"# {full_name}\n"}, "main")
    repository.work.git.checkout("-b", "feature")
    head = repository.commit({path: text}, "feature")
    repository.open_pull(head, number)
    lines = range(1, text.count("\n") + 1)
    fake.add_pull(full_name, number, head, base, commentable={path: lines})
    return repository


def reported(fake: FakeGitHub, full_name: str) -> int:
    """How many findings the App's check runs in the repository told GitHub about."""
    return len(
        {
            (a["path"], a["title"], a["message"])
            for run in fake.check_runs.values()
            if run["_repository"] == full_name
            for a in run["_annotations"]
        }
    )


def replica(settings: Settings, clock: list[datetime], engines: list) -> Services:
    """What a scheduler process has: its own engine and clients, and our clock."""
    engine = store.make_engine(settings.database_url)
    engines.append(engine)
    services = Services.from_settings(settings, store.make_session_factory(engine))
    return dataclasses.replace(services, clock=lambda: clock[0])


@pytest.fixture
def engines() -> Iterator[list]:
    """The replicas' engines, closed at the end whatever happened."""
    made: list = []
    yield made
    for engine in made:
        engine.dispose()


def race(*replicas: Services) -> list[dict[str, weekly.Outcome]]:
    """Every replica's scheduler looks at the same moment."""
    start = threading.Barrier(len(replicas))

    def look(services: Services) -> dict[str, weekly.Outcome]:
        start.wait()
        return schedule.run_due_summaries(services, {})

    with ThreadPoolExecutor(len(replicas)) as pool:
        return list(pool.map(look, replicas))


@pytest.fixture
def reviewed(
    tmp_path: Path,
    fake_github: FakeGitHub,
    git_server: str,  # noqa: F811
    database_url: str,
) -> Iterator[tuple[Settings, dict[str, str]]]:
    """A week of reviews by the running App, of a pull request in each of acme/models,
    acme/pipelines and umbrella/models. Yields the App's settings and each pull request's
    head, once all reviews are recorded."""
    two_organisations(fake_github)
    settings = app_settings(tmp_path, fake_github, git_server, database_url, summaries=False)
    pulls = [
        ("acme/models", 7, "pkg/new.py", NEW),
        ("umbrella/models", 3, "pkg/new.py", NEW),
        ("acme/pipelines", 12, "etl/clean.py", CLEAN),
    ]
    with TestClient(create_app(settings)) as client:
        install(client, fake_github, settings, 1, 2)
        remotes, heads = {}, {}
        for full_name, number, path, text in pulls:
            remote = open_pull(tmp_path, fake_github, full_name, number, path, text)
            remotes[full_name], heads[full_name] = remote, remote.work.head.commit.hexsha
            event = fake_github.pull_request_event(full_name, number, "opened")
            assert deliver_event(client, "pull_request", event).status_code == 202
        wait_for(lambda: settled(settings) and len(fake_github.check_runs) == len(pulls))
        for full_name, number, _, _ in pulls:
            reviews = rf"/repos/{full_name}/pulls/{number}/reviews"
            assert len(fake_github.requests_to("POST", reviews)) == 1, full_name
        # A push to acme/models fixes one of its findings.
        fixed = remotes["acme/models"].commit({"pkg/new.py": FIXED}, "feature")
        remotes["acme/models"].open_pull(fixed, 7)
        fake_github.push("acme/models", 7, fixed)
        event = fake_github.pull_request_event("acme/models", 7, "synchronize")
        assert deliver_event(client, "pull_request", event).status_code == 202
        wait_for(lambda: settled(settings) and len(fake_github.check_runs) == len(pulls) + 1)
        yield settings, heads


def test_a_week_of_reviews_is_summarised_once_per_organisation(
    reviewed: tuple[Settings, dict[str, str]],
    fake_github: FakeGitHub,
    git_server: str,  # noqa: F811
    engines: list,
) -> None:
    settings, heads = reviewed
    fake = fake_github
    # The reviews were stamped by the real clock, so the week to summarise is this one.
    week = summary.week_name(*summary.week_of(datetime.now(UTC)))
    engines.append(store.make_engine(settings.database_url))
    with store.make_session_factory(engines[-1])() as session:
        started = session.scalar(select(func.min(store.Analysis.started_at)))
    if summary.week_name(*summary.week_of(store.as_utc(started))) != week:
        pytest.skip("the reviews began in the week before: run again")
    acme_due = weekly.due_at(weekly.parse_summary_config(ACME_CONFIG), week)
    umbrella_due = weekly.due_at(weekly.parse_summary_config(UMBRELLA_CONFIG), week)
    assert acme_due < umbrella_due
    title = weekly.issue_title(week)
    clock = [acme_due - timedelta(minutes=1)]
    first = replica(settings, clock, engines)
    cache: schedule.ConfigCache = {}

    # Not due yet; the week before is not told either, having ended before debtbot came.
    assert schedule.run_due_summaries(first, cache) == {}
    assert not fake.requests_to("POST", ISSUE_POSTS)

    # Acme is due; two replicas look at once and one of them posts.
    clock[0] = acme_due + timedelta(minutes=1)
    outcomes = race(replica(settings, clock, engines), replica(settings, clock, engines))
    assert all("umbrella" not in looked for looked in outcomes)
    statuses = sorted(looked["acme"].status for looked in outcomes if "acme" in looked)
    assert statuses.count("posted") == 1
    assert set(statuses) <= {"posted", "being-posted", "already-posted"}
    [acme_issue] = fake.issues("acme/analytics-platform")
    assert acme_issue["title"] == title
    assert fake.issues("umbrella/notes") == []
    assert len(fake.requests_to("POST", ISSUE_POSTS)) == 1

    # Umbrella is due; acme, posted, is not looked at again.
    clock[0] = umbrella_due
    outcomes = schedule.run_due_summaries(first, cache)
    assert list(outcomes) == ["umbrella"] and outcomes["umbrella"].status == "posted"
    [umbrella_issue] = fake.issues("umbrella/notes")
    assert umbrella_issue["title"] == title
    assert outcomes["umbrella"].issue_url == umbrella_issue["html_url"]
    assert fake.issues("acme/analytics-platform") == [acme_issue]

    acme_body, umbrella_body = acme_issue["body"], umbrella_issue["body"]
    assert summary.summary_marker("acme", week) in acme_body
    assert summary.summary_marker("umbrella", week) in umbrella_body
    assert "umbrella" not in acme_body.lower()
    assert "acme" not in umbrella_body.lower()
    # The figures are what the App's check runs reported, not what we guess the rules find.
    acme = {name: reported(fake, name) for name in ("acme/models", "acme/pipelines")}
    umbrella = reported(fake, "umbrella/models")
    assert all(acme.values()) and umbrella
    assert "across 4 repositories debtbot is installed on" in acme_body
    assert (
        f"**2 pull requests reviewed** · **{sum(acme.values())} added** · **1 fixed** · "
        "**0 suppressed**"
    ) in acme_body
    for name, added in acme.items():
        fixed = 1 if name == "acme/models" else 0
        assert f"| [{name}]({git_server}/{name}) | 1 | {added} | {fixed} | 0 |" in acme_body
    assert "across 3 repositories debtbot is installed on" in umbrella_body
    assert (
        f"**1 pull request reviewed** · **{umbrella} added** · **0 fixed** · **0 suppressed**"
    ) in umbrella_body
    assert f"| [umbrella/models]({git_server}/umbrella/models) | 1 | {umbrella} | 0 | 0 |" in (
        umbrella_body
    )
    hotspot = (
        f"- [`acme/pipelines/etl/clean.py`]"
        f"({git_server}/acme/pipelines/blob/{heads['acme/pipelines']}/etl/clean.py): "
        f"{acme['acme/pipelines']} open findings"
    )
    assert hotspot in acme_body
    # A rule that fired only in acme/pipelines stays in acme's summary.
    assert "DEBT701" in acme_body and "DEBT701" not in umbrella_body
    assert "DEBT302" in acme_body and "DEBT302" in umbrella_body

    # A restart later that week, and a second replica with it: nothing is due, nothing asked.
    for engine in engines:
        engine.dispose()
    engines.clear()
    clock[0] = umbrella_due + timedelta(days=3)
    asked = len(fake.requests)
    assert race(replica(settings, clock, engines), replica(settings, clock, engines)) == [{}, {}]
    assert len(fake.requests) == asked
    assert len(fake.requests_to("POST", ISSUE_POSTS)) == 2


def test_the_apps_scheduler_thread_reads_the_config_and_posts_nothing_early(
    tmp_path: Path, fake_github: FakeGitHub, database_url: str
) -> None:
    two_organisations(fake_github)
    settings = app_settings(
        tmp_path,
        fake_github,
        "https://github.example",
        database_url,
        summaries=True,
        summary_check_seconds=0.05,
    )
    app = create_app(settings)

    def reads() -> int:
        return len(fake_github.requests_to("GET", r"/repos/acme/\.github/contents/debtbot\.toml"))

    with TestClient(app) as client:
        install(client, fake_github, settings, 1)
        wait_for(lambda: reads() > 0, seconds=10)
        scheduler = app.state.scheduler
        assert scheduler.thread.is_alive()
    assert not scheduler.thread.is_alive()
    # Installed this week: no week before it is due, and this week is not over.
    assert not fake_github.requests_to("POST", ISSUE_POSTS)
    assert reads() == 1  # kept for an hour, not read at every look
