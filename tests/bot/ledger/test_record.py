"""The ledger kept on real git repositories, the real store (both databases) and the real
GitHub client pointed at the simulated GitHub: installation backfills, pushes to the default
branch, chunked analyses that let reviews go first, and the figures they add up to."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import pytest
from sqlalchemy import select

from bot import store
from bot.app import events
from bot.app.worker import RetryPolicy, process_next
from bot.ledger import figures
from bot.services import Services
from tests.conftest import commit_all, new_repo, write_files
from tests.fakes.github import FakeGitHub

REPO = "acme/models"
INSTALLATION = 42
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday

LOADER = """\
import yaml


def load(path):
    with open(path) as f:
        return yaml.load(f)
"""
THRESHOLD = """\
def decide(proba):
    return proba > 0.73
"""
CLEAN = """\
def decide(proba, threshold):
    return proba > threshold
"""


@dataclass
class World:
    remote: git.Repo
    fake: FakeGitHub
    services: Services
    now: list[datetime]

    def commit(self, files: dict[str, str | None]) -> str:
        write_files(Path(self.remote.working_tree_dir), files)
        return commit_all(self.remote, "change")

    def deliver(self, event: str, payload: dict[str, Any], delivery: str) -> int | None:
        route = events.ROUTES[(event, payload.get("action") or "")]
        with self.services.sessions() as session:
            return store.record_delivery(
                session, delivery, event, payload.get("action") or "", json.dumps(payload),
                route.subject(payload),
            )  # fmt: skip

    def push(self, before: str, after: str, merged_pull: int | None = None) -> None:
        if merged_pull is not None:
            pull = self.fake.add_pull(REPO, merged_pull, after, before)
            pull.title = f"Change {merged_pull}"
            self.fake.merge_pull(REPO, merged_pull, after)
        self.deliver("push", self.fake.push_event(REPO, before, after), f"push-{after}")

    def drain(self, attempts: int = 1) -> list[str]:
        """Run every due delivery, as the worker does; the subjects in the order they ran."""
        policy = RetryPolicy(max_attempts=attempts, backoff_seconds=0)
        while process_next(events.ROUTES, self.services, policy):
            pass
        assert self.failed() == []
        with self.services.sessions() as session:
            return list(
                session.scalars(
                    select(store.Delivery.subject)
                    .where(store.Delivery.status == "done")
                    .order_by(store.Delivery.finished_at, store.Delivery.id)
                )
            )

    def failed(self) -> list[str]:
        with self.services.sessions() as session:
            return list(
                session.scalars(
                    select(store.Delivery.last_error).where(store.Delivery.status == "failed")
                )
            )

    def chunks_of(self, files: int) -> None:
        settings = self.services.settings.model_copy(update={"ledger_chunk_files": files})
        self.services = replace(self.services, settings=settings)

    def figures(self) -> figures.RepositoryFigures:
        with self.services.sessions() as session:
            result = figures.load_repository(session, REPO, self.now[0])
        assert result is not None
        return result


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub, database_url: str) -> World:
    root = tmp_path / "git" / f"{REPO}.git"
    remote = new_repo(root)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "loader.py").write_text(LOADER)
    commit_all(remote, "first")
    fake_github.add_repository(REPO, installation_id=INSTALLATION)
    engine = store.make_engine(database_url)
    store.create_schema(engine)
    now = [START]
    services = fake_github.services(
        store.make_session_factory(engine),
        tmp_path / "data",
        git_url=str(tmp_path / "git"),
        clock=lambda: now[0],
    )
    return World(remote, fake_github, services, now)


def install(world: World) -> None:
    world.deliver("installation", world.fake.installation_event(INSTALLATION), "install")


def test_installation_backfills_the_default_branch(world: World) -> None:
    head = world.remote.head.commit.hexsha
    install(world)
    world.drain()

    current = world.figures()
    assert current.sha == head
    assert current.total == 1
    (finding,) = current.findings
    assert (finding.code, finding.path, finding.line) == ("DEBT401", "pkg/loader.py", 6)
    assert current.by_principle == {"best-practices-trap": 1}
    assert current.by_rule == {"DEBT401": 1}
    # The baseline is not debt anybody added this week.
    assert sum(point.added for point in current.weeks) == 0
    with world.services.sessions() as session:
        (commit,) = store.ledger_commits(session, REPO)
    assert commit.scope == "full" and commit.pull_number is None


def test_pushes_open_and_close_findings_and_name_their_pull_requests(world: World) -> None:
    install(world)
    world.drain()
    first = world.remote.head.commit.hexsha

    world.now[0] = START + timedelta(weeks=1)
    added = world.commit({"pkg/decide.py": THRESHOLD})
    world.push(first, added, merged_pull=5)
    world.drain()

    world.now[0] = START + timedelta(weeks=2)
    paid = world.commit({"pkg/decide.py": CLEAN, "pkg/loader.py": None})
    world.push(added, paid, merged_pull=6)
    world.drain()

    current = world.figures()
    assert current.sha == paid
    assert current.total == 0
    by_week = {point.week: point for point in current.weeks}
    assert by_week["2026-W46"].added >= 1 and by_week["2026-W46"].paid_off == 0
    assert by_week["2026-W47"].paid_off == by_week["2026-W46"].added + 1
    assert by_week["2026-W45"].open_total == 1
    assert by_week["2026-W46"].open_total == 1 + by_week["2026-W46"].added
    assert by_week["2026-W47"].open_total == 0
    pulls = {p.number: p for p in current.pulls}
    assert pulls[5].title == "Change 5" and pulls[5].added == by_week["2026-W46"].added
    assert pulls[5].paid_off == 0
    assert pulls[6].paid_off == by_week["2026-W47"].paid_off and pulls[6].added == 0
    with world.services.sessions() as session:
        scopes = [c.scope for c in store.ledger_commits(session, REPO)]
    assert scopes == ["full", "changed", "changed"]


def test_an_incremental_push_reads_only_what_changed(world: World) -> None:
    install(world)
    world.drain()
    first = world.remote.head.commit.hexsha
    # A file nobody touches keeps its finding without being read again.
    changed = world.commit({"pkg/decide.py": THRESHOLD})
    world.push(first, changed)
    world.drain()
    with world.services.sessions() as session:
        last = store.ledger_commits(session, REPO)[-1]
        rows = store.ledger_rows(session, REPO)
    assert last.scope == "changed" and last.files == 1
    loader = [r for r in rows if r.path == "pkg/loader.py"]
    assert loader and all(r.closed_id is None and r.opened_id < last.id for r in loader)


def test_pushes_to_other_branches_are_not_the_ledgers_business(world: World) -> None:
    install(world)
    world.drain()
    head = world.remote.head.commit.hexsha
    payload = world.fake.push_event(REPO, head, "c" * 40, ref="refs/heads/feature")
    world.deliver("push", payload, "push-feature")
    world.drain()
    with world.services.sessions() as session:
        assert len(store.ledger_commits(session, REPO)) == 1


def test_a_big_backfill_goes_in_chunks_and_reviews_wait_for_none(world: World) -> None:
    world.commit({f"pkg/m{n}.py": THRESHOLD for n in range(7)})
    world.chunks_of(3)
    install(world)
    # A review arrives while the backfill is under way: it runs before the next chunk.
    head = world.remote.head.commit.hexsha
    world.remote.git.update_ref("refs/pull/9/head", head)
    world.fake.add_pull(REPO, 9, head, head)
    policy = RetryPolicy(max_attempts=1, backoff_seconds=0)
    assert process_next(events.ROUTES, world.services, policy)  # the installation
    assert process_next(events.ROUTES, world.services, policy)  # the first chunk
    world.deliver("pull_request", world.fake.pull_request_event(REPO, 9, "opened"), "review-9")
    order = world.drain()[2:]
    assert order[0] == f"{REPO}#9", order
    assert all(s.startswith(store.BACKGROUND_SUBJECT) for s in order[1:])
    current = world.figures()
    assert current.total == 8  # the loader and seven thresholds
    with world.services.sessions() as session:
        (commit,) = store.ledger_commits(session, REPO)
    assert commit.files == 9  # every Python file, three at a time


def test_a_job_github_fails_is_retried_and_counts_nothing_twice(world: World) -> None:
    world.commit({f"pkg/m{n}.py": THRESHOLD for n in range(4)})
    world.chunks_of(2)
    install(world)
    # GitHub fails the merged-pull lookup past the client's own retries: the job dies.
    world.fake.fail("GET", rf"/repos/{REPO}/commits/[0-9a-f]+/pulls", 502, times=6)
    world.drain(attempts=5)
    with world.services.sessions() as session:
        retried = session.scalar(
            select(store.Delivery.attempts).where(store.Delivery.subject.like("%ledger%"))
            .order_by(store.Delivery.attempts.desc()).limit(1)
        )  # fmt: skip
    assert retried is not None and retried > 1
    current = world.figures()
    fingerprints = [f.fingerprint for f in current.findings]
    assert len(fingerprints) == len(set(fingerprints)) == current.total


def test_nothing_is_analysed_for_a_repository_the_app_lost(world: World) -> None:
    install(world)
    # The installation is deleted before its backfill runs: the job does nothing, and fails not.
    world.deliver("installation", world.fake.installation_event(INSTALLATION, "deleted"), "gone")
    policy = RetryPolicy(max_attempts=1, backoff_seconds=0)
    assert process_next(events.ROUTES, world.services, policy)  # created
    with world.services.sessions() as session:
        store.remove_installation(session, INSTALLATION)
    world.drain()
    with world.services.sessions() as session:
        assert store.ledger_commits(session, REPO) == []
    assert world.fake.requests_to("GET", rf"/repos/{REPO}") == []


def test_a_push_from_an_installation_the_store_never_heard_of_is_recorded(world: World) -> None:
    # Installed before debtbot kept a ledger, or its installation event was lost.
    first = world.remote.head.commit.hexsha
    second = world.commit({"pkg/decide.py": THRESHOLD})
    world.push(first, second)
    world.drain()
    with world.services.sessions() as session:
        (commit,) = store.ledger_commits(session, REPO)
        assert commit.sha == second and commit.scope == "full"
        assert store.installation_of(session, "acme").id == INSTALLATION
        assert store.active_repositories(session, INSTALLATION) == [REPO]


def test_a_push_does_not_bring_back_what_was_removed(world: World) -> None:
    install(world)
    world.drain()
    with world.services.sessions() as session:
        store.remove_installation(session, INSTALLATION)
    first = world.remote.head.commit.hexsha
    world.push(first, world.commit({"pkg/decide.py": THRESHOLD}))
    world.drain()
    with world.services.sessions() as session:
        assert len(store.ledger_commits(session, REPO)) == 1
        assert store.installation_of(session, "acme") is None


def test_an_empty_repository_waits_for_its_first_push(
    tmp_path: Path, fake_github: FakeGitHub, database_url: str
) -> None:
    git.Repo.init(tmp_path / "git" / "acme" / "empty.git", bare=True)
    fake_github.add_repository("acme/empty", installation_id=INSTALLATION)
    engine = store.make_engine(database_url)
    store.create_schema(engine)
    services = fake_github.services(
        store.make_session_factory(engine), tmp_path / "data", git_url=str(tmp_path / "git")
    )
    world = World(git.Repo.init(tmp_path / "unused"), fake_github, services, [START])
    install(world)
    world.drain()  # no delivery failed
    with services.sessions() as session:
        assert store.ledger_commits(session, "acme/empty") == []
