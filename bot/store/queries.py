"""The App's database: SQLAlchemy 2 models and the queries the App needs. Only module with SQL.

SQLite by default, PostgreSQL by changing ``DATABASE_URL``. Every write function commits its own
transaction: a delivery recorded, claimed or finished is durable when the function returns, which
is what lets the App answer a webhook at once and still lose nothing when the process dies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.domain import PullRequestRef
from rules.finding import Finding

DELIVERY_STATUSES = ("pending", "running", "done", "failed", "ignored")
FINDING_STATUSES = ("open", "fixed", "suppressed")
SQLITE_BUSY_TIMEOUT_MS = 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Installation(Base):
    __tablename__ = "installations"

    # GitHub's installation id: the App is told it in every webhook, so it is the natural key.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_login: Mapped[str] = mapped_column(String(255))
    account_type: Mapped[str] = mapped_column(String(32), default="")
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Uninstalled installations are kept, marked, so their history stays readable.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # GitHub's repository id; unknown when a repository is first seen through a pull request
    # event of an installation the store has not heard about.
    github_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    installation_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("installations.id", ondelete="SET NULL")
    )
    full_name: Mapped[str] = mapped_column(String(255), unique=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PullRequest(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (UniqueConstraint("repository_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    head_sha: Mapped[str] = mapped_column(String(64))
    base_ref: Mapped[str] = mapped_column(String(255))
    base_sha: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Analysis(Base):
    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), index=True
    )
    head_sha: Mapped[str] = mapped_column(String(64))
    base_sha: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="done")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[float] = mapped_column(Float)
    findings_count: Mapped[int] = mapped_column(Integer, default=0)
    new_comments_count: Mapped[int] = mapped_column(Integer, default=0)
    fixed_count: Mapped[int] = mapped_column(Integer, default=0)
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    review_id: Mapped[int | None] = mapped_column(BigInteger)


class FindingRecord(Base):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("pull_request_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pull_request_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(16))
    principle: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    first_seen_sha: Mapped[str] = mapped_column(String(64))
    last_seen_sha: Mapped[str] = mapped_column(String(64))
    fixed_sha: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class CommentRecord(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    github_comment_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    node_id: Mapped[str] = mapped_column(String(128))
    head_sha: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_sha: Mapped[str | None] = mapped_column(String(64))


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_queue", "status", "next_attempt_at"),
        # At most one running job per subject (one pull request, one installation), even with
        # several workers: pushes to one pull request are reviewed in order, never concurrently.
        Index(
            "ux_deliveries_running_subject",
            "subject",
            unique=True,
            sqlite_where=text("status = 'running' AND subject != ''"),
            postgresql_where=text("status = 'running' AND subject != ''"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)  # X-GitHub-Delivery
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the running job last showed its worker alive: set when it is claimed, refreshed while
    # it runs. One left stale for a lease was abandoned by a dead process. (The column keeps
    # its first name, started_at, so stores made before the lease need no migration.)
    alive_at: Mapped[datetime | None] = mapped_column("started_at", DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SummaryPost(Base):
    """One weekly summary of one account: claimed before it is posted, so never posted twice."""

    __tablename__ = "summary_posts"
    # The guarantee itself: whatever the number of processes, one row per account and week.
    __table_args__ = (UniqueConstraint("account", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(255))  # lower case: logins ignore case
    week: Mapped[str] = mapped_column(String(16))  # ISO week, 2026-W48
    repository: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="posting")  # or "posted"
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issue_number: Mapped[int | None] = mapped_column(Integer)
    issue_url: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SummaryProblem(Base):
    """Why an account's summary could not be posted, kept until its next summary says so."""

    __tablename__ = "summary_problems"

    account: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower case
    message: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- engine -----------------------------------------------------------------------------------


def database_url(url: str) -> str:
    """The SQLAlchemy URL for a DATABASE_URL: plain PostgreSQL URLs use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    if not in_memory:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        # The worker thread and the request threads share the pool.
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # An in-memory database exists per connection: share one connection.
        poolclass=StaticPool if in_memory else None,
    )
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the webhook handler write while the worker reads; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def database_answers(session: Session) -> bool:
    """Whether a trivial query succeeds (for /healthz); raises what the driver raises."""
    return session.execute(select(1)).scalar_one() == 1


# --- deliveries: the durable job queue ----------------------------------------------------------


def record_delivery(
    session: Session,
    delivery_id: str,
    event: str,
    action: str,
    payload_text: str,
    subject: str = "",
) -> bool:
    """Store a delivery as pending; False when this delivery id was already recorded."""
    session.add(
        Delivery(
            delivery_id=delivery_id,
            event=event,
            action=action or "",
            subject=subject,
            payload=payload_text,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        known = session.scalar(select(Delivery.id).where(Delivery.delivery_id == delivery_id))
        if known is None:
            raise
        return False
    return True


def claim_next_delivery(session: Session, now: datetime | None = None) -> Delivery | None:
    """Mark the oldest due pending delivery running and return it; None when there is none.

    Safe with several workers: PostgreSQL skips rows another transaction has locked, and the
    conditional UPDATE (status still pending) decides any race on SQLite. A delivery whose
    subject already has a running job waits for it.
    """
    now = now or utcnow()
    busy = (
        select(Delivery.subject)
        .where(Delivery.status == "running", Delivery.subject != "")
        .scalar_subquery()
    )
    candidates = (
        select(Delivery.id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            (Delivery.subject == "") | Delivery.subject.not_in(busy),
        )
        .order_by(Delivery.id)  # oldest received first: pushes are reviewed in order
        .limit(5)
        .with_for_update(skip_locked=True)
    )
    for delivery_id in session.scalars(candidates).all():
        claimed = _try_claim(session, delivery_id, now)
        if claimed is not None:
            return claimed
    session.rollback()
    return None


def _try_claim(session: Session, delivery_id: int, now: datetime) -> Delivery | None:
    statement = (
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "pending")
        .values(status="running", attempts=Delivery.attempts + 1, alive_at=now)
    )
    try:
        changed = session.execute(statement).rowcount
        session.commit()
    except IntegrityError:
        # Another worker started a job for the same subject in the meantime.
        session.rollback()
        return None
    if changed != 1:
        return None
    return session.get(Delivery, delivery_id, populate_existing=True)


def _running_attempt(delivery_id: int, attempt: int | None):
    """The delivery, as long as the claim that made ``attempt`` still runs it: a worker whose
    lease ran out must not touch what another worker now runs."""
    held = (Delivery.id == delivery_id) & (Delivery.status == "running")
    return held if attempt is None else held & (Delivery.attempts == attempt)


def finish_delivery(
    session: Session,
    delivery_id: int,
    status: str,
    error: str | None = None,
    retry_at: datetime | None = None,
    attempt: int | None = None,
) -> bool:
    """Close a claimed delivery: done, failed or ignored; or ``pending`` again with ``retry_at``.

    ``attempt``: the claim's attempt number; False when that claim no longer holds it.
    """
    if status not in DELIVERY_STATUSES or status == "running":
        raise ValueError(f"cannot finish a delivery as {status!r}")
    values: dict[str, object] = {"status": status, "last_error": error}
    if status == "pending":
        values["next_attempt_at"] = retry_at or utcnow()
    else:
        values["finished_at"] = utcnow()
    changed = session.execute(
        update(Delivery).where(_running_attempt(delivery_id, attempt)).values(**values)
    ).rowcount
    session.commit()
    return changed == 1


def heartbeat(
    session: Session, delivery_id: int, now: datetime | None = None, attempt: int | None = None
) -> bool:
    """Show that the worker running a delivery is alive; False when that claim does not run it
    any more (finished, or taken back after its worker was thought dead)."""
    changed = session.execute(
        update(Delivery)
        .where(_running_attempt(delivery_id, attempt))
        .values(alive_at=now or utcnow())
    ).rowcount
    session.commit()
    return changed == 1


def requeue_abandoned(session: Session, alive_before: datetime, max_attempts: int) -> int:
    """Put back in the queue the running deliveries whose worker has not shown itself alive
    since ``alive_before``: their process died. One that has had ``max_attempts`` tries fails
    instead, since a job that kills its process would otherwise take down worker after worker.
    Safe to call from every worker at any time."""
    abandoned = (Delivery.status == "running") & (
        Delivery.alive_at.is_(None) | (Delivery.alive_at < alive_before)
    )
    now = utcnow()
    failed = session.execute(
        update(Delivery)
        .where(abandoned, Delivery.attempts >= max_attempts)
        .values(
            status="failed",
            finished_at=now,
            last_error="its worker died on every try (killed, out of memory, or crashed)",
        )
    ).rowcount
    requeued = session.execute(
        update(Delivery).where(abandoned).values(status="pending", next_attempt_at=now)
    ).rowcount
    session.commit()
    return failed + requeued


def delivery_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}


# --- installations and repositories -----------------------------------------------------------


@dataclass(frozen=True)
class RepositoryInfo:
    github_id: int
    full_name: str


def upsert_installation(
    session: Session,
    installation_id: int,
    account_login: str,
    account_type: str = "",
    suspended: bool | None = None,
) -> None:
    """Create or refresh an installation; ``suspended`` True/False changes its state, None not."""
    installation = session.get(Installation, installation_id)
    if installation is None:
        installation = Installation(id=installation_id, account_login=account_login)
        session.add(installation)
    installation.account_login = account_login
    installation.account_type = account_type or installation.account_type or ""
    installation.removed_at = None
    if suspended is True and installation.suspended_at is None:
        installation.suspended_at = utcnow()
    elif suspended is False:
        installation.suspended_at = None
    session.commit()


def remove_installation(session: Session, installation_id: int) -> None:
    """Mark an installation and its repositories removed; their history stays."""
    now = utcnow()
    installation = session.get(Installation, installation_id)
    if installation is not None:
        installation.removed_at = now
    session.execute(
        update(Repository)
        .where(Repository.installation_id == installation_id, Repository.removed_at.is_(None))
        .values(removed_at=now)
    )
    session.commit()


def set_installation_repositories(
    session: Session,
    installation_id: int,
    added: Iterable[RepositoryInfo] = (),
    removed: Iterable[RepositoryInfo] = (),
) -> None:
    """Apply an installation's repository changes (also used with the full list at install)."""
    if session.get(Installation, installation_id) is None:
        # Events can arrive before (or without) the installation event: keep the link anyway.
        session.add(Installation(id=installation_id, account_login=""))
        session.flush()
    for info in added:
        repository = _repository(session, info.full_name, info.github_id)
        repository.installation_id = installation_id
        repository.removed_at = None
    now = utcnow()
    for info in removed:
        repository = _repository(session, info.full_name, info.github_id)
        repository.removed_at = now
    session.commit()


def _repository(session: Session, full_name: str, github_id: int | None = None) -> Repository:
    """The repository by GitHub id, else by name (renames follow the id); created if new."""
    repository = None
    if github_id is not None:
        repository = session.scalar(select(Repository).where(Repository.github_id == github_id))
    if repository is None:
        repository = session.scalar(select(Repository).where(Repository.full_name == full_name))
    if repository is None:
        repository = Repository(full_name=full_name, github_id=github_id)
        session.add(repository)
    repository.full_name = full_name
    if github_id is not None:
        repository.github_id = github_id
    session.flush()
    return repository


@dataclass(frozen=True)
class InstallationInfo:
    id: int
    account: str
    created_at: datetime


def active_installations(session: Session) -> list[InstallationInfo]:
    """Installations neither removed nor suspended, whose account is known."""
    rows = session.scalars(
        select(Installation)
        .where(
            Installation.removed_at.is_(None),
            Installation.suspended_at.is_(None),
            Installation.account_login != "",
        )
        .order_by(Installation.id)
    )
    return [InstallationInfo(row.id, row.account_login, as_utc(row.created_at)) for row in rows]


def installation_of(session: Session, account: str) -> InstallationInfo | None:
    """The active installation on an account (logins ignore case), if the App has one."""
    wanted = account.strip().lower()
    return next((i for i in active_installations(session) if i.account.lower() == wanted), None)


def active_repositories(session: Session, installation_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Repository.full_name)
            .where(Repository.installation_id == installation_id, Repository.removed_at.is_(None))
            .order_by(Repository.full_name)
        )
    )


# --- findings and analyses --------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFinding:
    """A finding as the store knows it, with the review comment posted for it, if any."""

    fingerprint: str
    code: str
    principle: str
    path: str
    line: int
    end_line: int
    severity: str
    message: str
    status: str
    first_seen_sha: str
    last_seen_sha: str
    comment_id: int | None = None
    comment_node_id: str | None = None


def _pull_request(session: Session, ref: PullRequestRef) -> PullRequest:
    repository = _repository(session, ref.full_name)
    if repository.installation_id is None and session.get(Installation, ref.installation_id):
        repository.installation_id = ref.installation_id
    pull = session.scalar(
        select(PullRequest).where(
            PullRequest.repository_id == repository.id, PullRequest.number == ref.number
        )
    )
    if pull is None:
        pull = PullRequest(repository_id=repository.id, number=ref.number)
        session.add(pull)
    pull.head_sha, pull.base_ref, pull.base_sha = ref.head_sha, ref.base_ref, ref.base_sha
    session.flush()
    return pull


def open_findings(session: Session, full_name: str, number: int) -> dict[str, StoredFinding]:
    """The pull request's open findings by fingerprint, with their unresolved comment."""
    rows = session.execute(
        select(FindingRecord, CommentRecord)
        .join(PullRequest, FindingRecord.pull_request_id == PullRequest.id)
        .join(Repository, PullRequest.repository_id == Repository.id)
        .outerjoin(
            CommentRecord,
            (CommentRecord.finding_id == FindingRecord.id) & CommentRecord.resolved_at.is_(None),
        )
        .where(
            Repository.full_name == full_name,
            PullRequest.number == number,
            FindingRecord.status == "open",
        )
        .order_by(FindingRecord.id, CommentRecord.id)
    )
    found: dict[str, StoredFinding] = {}
    for record, comment in rows:
        # With several unresolved comments (should not happen) the latest one wins.
        found[record.fingerprint] = StoredFinding(
            fingerprint=record.fingerprint,
            code=record.code,
            principle=record.principle,
            path=record.path,
            line=record.line,
            end_line=record.end_line,
            severity=record.severity,
            message=record.message,
            status=record.status,
            first_seen_sha=record.first_seen_sha,
            last_seen_sha=record.last_seen_sha,
            comment_id=comment.github_comment_id if comment else None,
            comment_node_id=comment.node_id if comment else None,
        )
    return found


def record_analysis(
    session: Session,
    ref: PullRequestRef,
    findings: Sequence[Finding],
    posted: Mapping[str, tuple[int, str]],
    fixed: Sequence[str],
    duration: float,
    *,
    suppressed: Sequence[str] = (),
    status: str = "done",
    check_run_id: int | None = None,
    review_id: int | None = None,
    finished_at: datetime | None = None,
) -> int:
    """Record one review of ``ref.head_sha``; returns the analysis id.

    ``findings``: those on changed lines at this head (opened, or reopened, and marked seen);
    ``posted``: fingerprint -> (comment id, node id) of the inline comments just posted;
    ``fixed``: fingerprints that disappeared (their comments are marked resolved at this head);
    ``suppressed``: fingerprints silenced by a ``# debt: ignore`` since they were reported.
    """
    unknown = set(posted) - {finding.fingerprint for finding in findings}
    if unknown:
        raise ValueError(f"comments posted for findings not given: {', '.join(sorted(unknown))}")
    finished_at = finished_at or utcnow()
    pull = _pull_request(session, ref)
    records = {
        record.fingerprint: record
        for record in session.scalars(
            select(FindingRecord).where(FindingRecord.pull_request_id == pull.id)
        )
    }
    for finding in findings:
        record = records.get(finding.fingerprint)
        if record is None:
            # Stamped with the review's time, not the clock's, so that weekly figures count a
            # finding in the week its review finished (and a replayed review in its own week).
            record = FindingRecord(
                pull_request_id=pull.id,
                fingerprint=finding.fingerprint,
                first_seen_sha=ref.head_sha,
                created_at=finished_at,
            )
            session.add(record)
            records[finding.fingerprint] = record
        record.code, record.principle = finding.code, finding.principle
        record.path, record.line, record.end_line = finding.path, finding.line, finding.end_line
        record.severity, record.message = finding.severity, finding.message
        record.status, record.last_seen_sha, record.fixed_sha = "open", ref.head_sha, None
        record.updated_at = finished_at
    session.flush()
    for fingerprint, (comment_id, node_id) in posted.items():
        _attach_comment(session, records[fingerprint], comment_id, node_id, ref.head_sha)
    _close(session, records, fixed, "fixed", ref.head_sha, finished_at)
    _close(session, records, suppressed, "suppressed", ref.head_sha, finished_at)
    analysis = Analysis(
        pull_request_id=pull.id,
        head_sha=ref.head_sha,
        base_sha=ref.base_sha,
        status=status,
        started_at=finished_at - timedelta(seconds=duration),
        finished_at=finished_at,
        duration_seconds=duration,
        findings_count=len(findings),
        new_comments_count=len(posted),
        fixed_count=len(fixed),
        check_run_id=check_run_id,
        review_id=review_id,
    )
    session.add(analysis)
    session.commit()
    return analysis.id


def _attach_comment(
    session: Session, record: FindingRecord, comment_id: int, node_id: str, sha: str
) -> None:
    """Link a GitHub comment to a finding; a comment already known is moved, not duplicated.

    A comment can come back: a job that posted its review and died before recording it finds its
    comments on GitHub at the retry, and a finding fixed then reintroduced may adopt its old
    thread. Either way the comment is live (unresolved) for this finding again.
    """
    comment = session.scalar(
        select(CommentRecord).where(CommentRecord.github_comment_id == comment_id)
    )
    if comment is None:
        comment = CommentRecord(github_comment_id=comment_id, head_sha=sha)
        session.add(comment)
    comment.finding_id, comment.node_id = record.id, node_id
    comment.resolved_at, comment.resolved_sha = None, None


def _close(
    session: Session,
    records: Mapping[str, FindingRecord],
    fingerprints: Sequence[str],
    status: str,
    sha: str,
    when: datetime,
) -> None:
    for fingerprint in fingerprints:
        record = records.get(fingerprint)
        if record is None:
            continue  # never stored (e.g. found and gone before any review): nothing to close
        if record.status == status:
            # Already closed so, and its comments resolved then. Left alone because updated_at
            # says when it was fixed or suppressed (see bot.summaries.figures).
            continue
        record.status, record.fixed_sha, record.updated_at = status, sha, when
        session.execute(
            update(CommentRecord)
            .where(CommentRecord.finding_id == record.id, CommentRecord.resolved_at.is_(None))
            .values(resolved_at=when, resolved_sha=sha)
        )


# --- weekly summaries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryClaim:
    """The right to post one account's summary for one week.

    ``resumed``: an earlier claim was left unfinished (its process died, or GitHub failed), so
    the summary may already be on GitHub; look there before posting again.
    """

    account: str
    week: str
    repository: str
    resumed: bool
    # The claim's own time: only the holder knows it, so only the holder can renew, finish or
    # release the claim once another process might have taken it over.
    token: datetime


def claim_summary(
    session: Session,
    account: str,
    week: str,
    repository: str,
    now: datetime,
    lease: timedelta,
) -> SummaryClaim | None:
    """Claim a summary; None when it was posted, or another process claimed it less than
    ``lease`` ago. Only one of several processes claiming at once gets it: the unique
    constraint decides a new claim, a conditional update an expired one."""
    account, now = account.lower(), now.astimezone(UTC)
    session.add(SummaryPost(account=account, week=week, repository=repository, claimed_at=now))
    try:
        session.commit()
        return SummaryClaim(account, week, repository, resumed=False, token=now)
    except IntegrityError:
        session.rollback()
    row = session.scalar(
        select(SummaryPost).where(SummaryPost.account == account, SummaryPost.week == week)
    )
    if row is None or row.status == "posted" or as_utc(row.claimed_at) > now - lease:
        session.rollback()
        return None
    taken = session.execute(
        update(SummaryPost)
        .where(
            SummaryPost.id == row.id,
            SummaryPost.status == "posting",
            SummaryPost.claimed_at == row.claimed_at,
        )
        .values(claimed_at=now)
    ).rowcount
    session.commit()
    if taken != 1:
        return None
    # The repository of the first claim: a summary that may be out already is looked for there.
    return SummaryClaim(account, week, row.repository, resumed=True, token=now)


def _held(claim: SummaryClaim):
    return (
        (SummaryPost.account == claim.account)
        & (SummaryPost.week == claim.week)
        & (SummaryPost.status == "posting")
        & (SummaryPost.claimed_at == claim.token)
    )


def renew_summary(session: Session, claim: SummaryClaim, now: datetime) -> SummaryClaim | None:
    """Start the claim's lease again; None when the claim is no longer this holder's."""
    now = now.astimezone(UTC)
    taken = session.execute(update(SummaryPost).where(_held(claim)).values(claimed_at=now))
    session.commit()
    return replace(claim, token=now) if taken.rowcount == 1 else None


def finish_summary(
    session: Session, claim: SummaryClaim, issue_number: int, issue_url: str
) -> bool:
    """Record the posted issue; False when the claim had been taken over meanwhile."""
    done = session.execute(
        update(SummaryPost)
        .where(_held(claim))
        .values(status="posted", issue_number=issue_number, issue_url=issue_url, posted_at=utcnow())
    )
    session.commit()
    return done.rowcount == 1


def release_summary(session: Session, claim: SummaryClaim) -> None:
    """Give back a claim whose summary is known not to have been posted."""
    session.execute(delete(SummaryPost).where(_held(claim)))
    session.commit()


def summary_post(session: Session, account: str, week: str) -> SummaryPost | None:
    return session.scalar(
        select(SummaryPost).where(SummaryPost.account == account.lower(), SummaryPost.week == week)
    )


def record_summary_problem(session: Session, account: str, message: str, now: datetime) -> bool:
    """Remember why the account's summary failed; True when this is news (not the same message
    as last time), which is when it is worth logging."""
    account = account.lower()
    problem = session.get(SummaryProblem, account)
    news = problem is None or problem.message != message
    if problem is None:
        problem = SummaryProblem(account=account, message=message, first_seen_at=now)
        session.add(problem)
    # A different problem right after the first one continues the same spell without summaries.
    problem.message, problem.last_seen_at = message, now
    try:
        session.commit()
    except IntegrityError:
        # Another process recorded it at the same moment, so it has been logged.
        session.rollback()
        return False
    return news


@dataclass(frozen=True)
class SummaryProblemInfo:
    message: str
    first_seen_at: datetime
    last_seen_at: datetime


def summary_problem(session: Session, account: str) -> SummaryProblemInfo | None:
    problem = session.get(SummaryProblem, account.lower())
    if problem is None:
        return None
    return SummaryProblemInfo(
        problem.message, as_utc(problem.first_seen_at), as_utc(problem.last_seen_at)
    )


def clear_summary_problem(session: Session, account: str, seen_before: datetime) -> None:
    """Forget the account's problem once a summary reported it (one newer than that stays)."""
    session.execute(
        delete(SummaryProblem).where(
            SummaryProblem.account == account.lower(),
            SummaryProblem.last_seen_at <= seen_before,
        )
    )
    session.commit()


def summary_posts(session: Session, account: str) -> list[SummaryPost]:
    return list(
        session.scalars(
            select(SummaryPost)
            .where(SummaryPost.account == account.lower())
            .order_by(SummaryPost.week)
        )
    )


def as_utc(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; the store writes UTC only.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
