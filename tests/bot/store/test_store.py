"""The store against SQLite and the real PostgreSQL (a fresh schema per test, dropped after)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from bot import store
from bot.domain import PullRequestRef
from rules.finding import Finding

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_answers() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error}"


@pytest.fixture
def postgres_engine():
    """An engine on a fresh schema of the test database, dropped afterwards."""
    reason = _postgres_answers()
    if reason:
        pytest.skip(reason)
    schema = f"debtbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    engine = store.make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    store.create_schema(engine)
    yield engine
    engine.dispose()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path}/store.sqlite3")
    store.create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def sessions(engine):
    return store.make_session_factory(engine)


def test_plain_postgresql_urls_use_psycopg_3():
    assert store.database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store.database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store.database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path}/nested/db.sqlite3")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()


def test_postgres_tables_land_in_the_test_schema(postgres_engine):
    engine = postgres_engine
    with engine.connect() as connection:
        schema = connection.execute(text("select current_schema()")).scalar()
        tables = connection.execute(
            text("select table_name from information_schema.tables where table_schema = :s"),
            {"s": schema},
        ).scalars()
        assert {"deliveries", "findings", "comments", "analyses"} <= set(tables)
    assert engine.url.drivername == "postgresql+psycopg"


# --- deliveries -------------------------------------------------------------------------------


def test_a_redelivery_is_recorded_once(sessions):
    with sessions() as session:
        assert store.record_delivery(session, "d-1", "pull_request", "opened", '{"a": 1}', "o/r#1")
        assert not store.record_delivery(session, "d-1", "pull_request", "opened", "{}", "o/r#1")
        rows = session.scalars(select(store.Delivery)).all()
    assert [(r.delivery_id, r.payload, r.status, r.attempts) for r in rows] == [
        ("d-1", '{"a": 1}', "pending", 0)
    ]


def test_claims_take_the_oldest_due_delivery_and_mark_it_running(sessions):
    with sessions() as session:
        for number in (1, 2):
            store.record_delivery(session, f"d-{number}", "pull_request", "opened", "{}", "")
        first = store.claim_next_delivery(session)
        second = store.claim_next_delivery(session)
        assert (first.delivery_id, first.status, first.attempts) == ("d-1", "running", 1)
        assert second.delivery_id == "d-2"
        assert store.claim_next_delivery(session) is None
    with sessions() as session:
        assert store.delivery_counts(session) == {"running": 2}


def test_a_delivery_waiting_for_a_retry_is_not_claimed_early(sessions):
    with sessions() as session:
        store.record_delivery(session, "d-1", "pull_request", "opened", "{}", "")
        claimed = store.claim_next_delivery(session)
        later = store.utcnow() + timedelta(minutes=5)
        store.finish_delivery(session, claimed.id, "pending", "boom", retry_at=later)
        assert store.claim_next_delivery(session) is None
        again = store.claim_next_delivery(session, now=later + timedelta(seconds=1))
        assert (again.delivery_id, again.attempts, again.last_error) == ("d-1", 2, "boom")


def test_jobs_of_one_pull_request_never_run_at_the_same_time(sessions):
    with sessions() as session:
        store.record_delivery(session, "push-1", "pull_request", "synchronize", "{}", "o/r#1")
        store.record_delivery(session, "push-2", "pull_request", "synchronize", "{}", "o/r#1")
        store.record_delivery(session, "other", "pull_request", "opened", "{}", "o/r#2")
        first = store.claim_next_delivery(session)
        # push-2 waits for push-1; the other pull request's job goes ahead.
        assert store.claim_next_delivery(session).delivery_id == "other"
        assert store.claim_next_delivery(session) is None
        store.finish_delivery(session, first.id, "done")
        assert store.claim_next_delivery(session).delivery_id == "push-2"


def test_background_work_waits_for_everything_else(sessions):
    ledger = f"{store.BACKGROUND_SUBJECT}ledger:o/r"
    with sessions() as session:
        backfill = store.record_delivery(
            session, "ledger-1", "debtbot.ledger", "analyse", "{}", ledger
        )
        store.record_delivery(session, "review", "pull_request", "opened", "{}", "o/r#1")
        # The in-process worker: the review, though it came later, goes first.
        assert store.claim_next_delivery(session).delivery_id == "review"
        # A Celery worker told to run the backfill puts it back while a review is due...
        store.record_delivery(session, "review-2", "pull_request", "opened", "{}", "o/r#2")
        claimed, why = store.claim_delivery(session, backfill)
        assert (claimed, why) == (None, "waiting")
        assert store.claim_next_delivery(session).delivery_id == "review-2"
        # ...and runs it once nothing else is waiting (running reviews do not hold it back).
        claimed, why = store.claim_delivery(session, backfill)
        assert (claimed.delivery_id, why) == ("ledger-1", "claimed")


def test_concurrent_workers_claim_each_delivery_exactly_once(sessions):
    with sessions() as session:
        for number in range(40):
            store.record_delivery(session, f"d-{number}", "e", "a", "{}", f"s{number}")
    claimed: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        with sessions() as session:
            while (delivery := store.claim_next_delivery(session)) is not None:
                with lock:
                    claimed.append(delivery.delivery_id)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(f"d-{number}" for number in range(40))


def test_postgres_claims_skip_rows_another_worker_has_locked(postgres_engine):
    sessions = store.make_session_factory(postgres_engine)
    with sessions() as session:
        store.record_delivery(session, "locked", "e", "a", "{}", "")
        store.record_delivery(session, "free", "e", "a", "{}", "")
    with sessions() as holder, sessions() as other:
        holder.execute(
            select(store.Delivery).where(store.Delivery.delivery_id == "locked").with_for_update()
        ).all()
        # Without SKIP LOCKED this would block until the holder's transaction ends.
        other.execute(text("SET lock_timeout = '2s'"))
        assert store.claim_next_delivery(other).delivery_id == "free"
        holder.rollback()


def test_finishing_records_the_outcome(sessions):
    with sessions() as session:
        store.record_delivery(session, "d-1", "e", "a", "{}", "")
        claimed = store.claim_next_delivery(session)
        store.finish_delivery(session, claimed.id, "failed", "RuntimeError: no")
        with pytest.raises(ValueError, match="running"):
            store.finish_delivery(session, claimed.id, "running")
    with sessions() as session:
        row = session.get(store.Delivery, claimed.id)
        assert (row.status, row.last_error) == ("failed", "RuntimeError: no")
        assert row.finished_at is not None


def test_only_deliveries_whose_worker_stopped_showing_life_are_requeued(sessions):
    now = store.utcnow()
    with sessions() as session:
        for name in ("d-1", "d-2", "d-3"):
            store.record_delivery(session, name, "e", "a", "{}", name)
        dead, alive = store.claim_next_delivery(session), store.claim_next_delivery(session)
        assert store.heartbeat(session, dead.id, now - timedelta(minutes=5))  # its last sign
        assert store.heartbeat(session, alive.id, now)

        taken = store.requeue_abandoned(session, now - timedelta(minutes=2), max_attempts=5)

        assert taken == 1
        assert store.delivery_counts(session) == {"pending": 2, "running": 1}
        assert session.get(store.Delivery, dead.id, populate_existing=True).status == "pending"
        again = store.claim_next_delivery(session)
        assert (again.id, again.attempts) == (dead.id, 2)
        # The first claim, back from its pause, holds nothing any more: its beat and its
        # outcome are refused, and the second claim's run stands.
        assert not store.heartbeat(session, dead.id, now, attempt=1)
        assert not store.finish_delivery(session, dead.id, "done", attempt=1)
        assert store.heartbeat(session, dead.id, now, attempt=2)
        assert store.finish_delivery(session, dead.id, "done", attempt=2)
        store.finish_delivery(session, alive.id, "done")
        assert not store.heartbeat(session, alive.id, now)


def test_a_job_whose_worker_dies_on_every_try_fails_instead_of_looping(sessions):
    now = store.utcnow()
    with sessions() as session:
        store.record_delivery(session, "oom", "e", "a", "{}", "x")
        for attempt in (1, 2, 3):
            claimed = store.claim_next_delivery(session)
            assert claimed.attempts == attempt
            store.heartbeat(session, claimed.id, now - timedelta(minutes=5))
            store.requeue_abandoned(session, now - timedelta(minutes=2), max_attempts=3)
        row = session.get(store.Delivery, claimed.id, populate_existing=True)
        assert row.status == "failed" and "died on every try" in row.last_error


# --- installations ----------------------------------------------------------------------------


def test_installations_and_their_repositories_follow_the_events(sessions):
    with sessions() as session:
        store.upsert_installation(session, 7, "octo-org", "Organization")
        store.set_installation_repositories(
            session,
            7,
            added=[store.RepositoryInfo(1, "octo-org/a"), store.RepositoryInfo(2, "octo-org/b")],
        )
        assert store.active_repositories(session, 7) == ["octo-org/a", "octo-org/b"]
        store.set_installation_repositories(
            session, 7, removed=[store.RepositoryInfo(1, "octo-org/a")]
        )
        # A rename keeps the repository: it is found by GitHub id.
        store.set_installation_repositories(
            session, 7, added=[store.RepositoryInfo(2, "octo-org/renamed")]
        )
        assert store.active_repositories(session, 7) == ["octo-org/renamed"]
        store.upsert_installation(session, 7, "octo-org", suspended=True)
        assert session.get(store.Installation, 7).suspended_at is not None
        store.upsert_installation(session, 7, "octo-org", suspended=False)
        assert session.get(store.Installation, 7).suspended_at is None
        store.remove_installation(session, 7)
        assert session.get(store.Installation, 7).removed_at is not None
        assert store.active_repositories(session, 7) == []
        assert session.get(store.Installation, 7).account_type == "Organization"


# --- findings across pushes ---------------------------------------------------------------------


def _ref(head: str) -> PullRequestRef:
    return PullRequestRef(7, "octo", "repo", 12, head, "main", "b" * 40)


def _finding(fingerprint: str, line: int = 3) -> Finding:
    return Finding(
        "DEBT301", "cutting-corners", "src/a.py", line, line + 1, 1, "warning", "msg", fingerprint
    )


def test_findings_are_tracked_across_pushes(sessions):
    with sessions() as session:
        assert store.open_findings(session, "octo/repo", 12) == {}
        store.record_analysis(
            session,
            _ref("h1"),
            [_finding("f1"), _finding("f2", 9)],
            posted={"f1": (101, "PRRC_1")},
            fixed=[],
            duration=1.5,
        )
    with sessions() as session:
        known = store.open_findings(session, "octo/repo", 12)
        assert set(known) == {"f1", "f2"}
        assert (known["f1"].comment_id, known["f1"].comment_node_id) == (101, "PRRC_1")
        assert known["f2"].comment_id is None
        assert (known["f2"].line, known["f2"].end_line, known["f2"].first_seen_sha) == (9, 10, "h1")

        # Second push: f1 fixed, f2 moved down and still there.
        store.record_analysis(
            session, _ref("h2"), [_finding("f2", 20)], posted={}, fixed=["f1"], duration=0.5
        )
    with sessions() as session:
        known = store.open_findings(session, "octo/repo", 12)
        assert list(known) == ["f2"]
        assert (known["f2"].line, known["f2"].first_seen_sha, known["f2"].last_seen_sha) == (
            20,
            "h1",
            "h2",
        )
        comment = session.scalars(select(store.CommentRecord)).one()
        assert (comment.resolved_sha, comment.head_sha) == ("h2", "h1")
        fixed = session.scalars(
            select(store.FindingRecord).where(store.FindingRecord.fingerprint == "f1")
        ).one()
        assert (fixed.status, fixed.fixed_sha) == ("fixed", "h2")
        analyses = session.scalars(select(store.Analysis).order_by(store.Analysis.id)).all()
        assert [
            (a.head_sha, a.findings_count, a.new_comments_count, a.fixed_count) for a in analyses
        ] == [("h1", 2, 1, 0), ("h2", 1, 0, 1)]
        assert analyses[0].duration_seconds == 1.5

        # Third push: f1 comes back; it is open again and has no live comment.
        store.record_analysis(
            session, _ref("h3"), [_finding("f1"), _finding("f2", 20)], {}, [], 0.1
        )
    with sessions() as session:
        known = store.open_findings(session, "octo/repo", 12)
        assert known["f1"].comment_id is None and known["f1"].first_seen_sha == "h1"


def test_findings_of_other_pull_requests_are_kept_apart(sessions):
    with sessions() as session:
        store.record_analysis(session, _ref("h1"), [_finding("f1")], {}, [], 0.1)
        other = PullRequestRef(7, "octo", "repo", 13, "h9", "main", "b" * 40)
        store.record_analysis(session, other, [_finding("f1")], {"f1": (5, "N5")}, [], 0.1)
        assert store.open_findings(session, "octo/repo", 12)["f1"].comment_id is None
        assert store.open_findings(session, "octo/repo", 13)["f1"].comment_id == 5
        assert store.open_findings(session, "octo/other", 12) == {}


def test_a_comment_for_an_unknown_finding_is_refused_and_nothing_is_written(sessions):
    with sessions() as session, pytest.raises(ValueError, match="ghost"):
        store.record_analysis(session, _ref("h1"), [_finding("f1")], {"ghost": (1, "N")}, [], 1)
    with sessions() as session:
        assert session.scalars(select(store.Analysis)).all() == []
        assert session.scalars(select(store.FindingRecord)).all() == []


def test_suppressed_findings_leave_the_open_set(sessions):
    with sessions() as session:
        store.record_analysis(session, _ref("h1"), [_finding("f1")], {"f1": (1, "N1")}, [], 0.1)
        store.record_analysis(session, _ref("h2"), [], {}, [], 0.1, suppressed=["f1"])
        assert store.open_findings(session, "octo/repo", 12) == {}
        record = session.scalars(select(store.FindingRecord)).one()
        assert record.status == "suppressed"


def test_a_comment_recorded_again_is_not_duplicated(sessions):
    # A retried job adopts the comments its first attempt posted; a fixed then reintroduced
    # finding may adopt its old, resolved thread.
    with sessions() as session:
        store.record_analysis(session, _ref("h1"), [_finding("f1")], {"f1": (1, "N1")}, [], 0.1)
        store.record_analysis(session, _ref("h1"), [_finding("f1")], {"f1": (1, "N1")}, [], 0.1)
        store.record_analysis(session, _ref("h2"), [], {}, ["f1"], 0.1)
        assert store.open_findings(session, "octo/repo", 12) == {}
        store.record_analysis(session, _ref("h3"), [_finding("f1")], {"f1": (1, "N1")}, [], 0.1)
        assert store.open_findings(session, "octo/repo", 12)["f1"].comment_id == 1
        comment = session.scalars(select(store.CommentRecord)).one()
        assert (comment.resolved_at, comment.resolved_sha, comment.head_sha) == (None, None, "h1")
