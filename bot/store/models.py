"""The App's tables, as SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DELIVERY_STATUSES = ("pending", "running", "done", "failed", "ignored")
FINDING_STATUSES = ("open", "fixed", "suppressed")
SQLITE_BUSY_TIMEOUT_MS = 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Named constraints: a migration can alter or drop them by name, on SQLite (which names
    # nothing itself) as on PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


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


class LedgerCommit(Base):
    """One analysis of a repository's default branch: the debt it held at that commit.

    Written in two steps so that a big repository is analysed a chunk of files at a time,
    between reviews: ``running`` while ``remaining`` lists files still to analyse and
    ``pending`` holds what the done chunks found; ``done`` once its findings are in
    ``ledger_findings``. Ids grow in the order commits were analysed, which is the order the
    ledger's states follow.
    """

    __tablename__ = "ledger_commits"
    __table_args__ = (Index("ix_ledger_commits_repository_status", "repository_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")  # or "done"
    # "full": every file was analysed; "changed": only what changed since the commit before,
    # the rest carried over.
    scope: Mapped[str] = mapped_column(String(16))
    # Analyses under another catalogue or configuration are not comparable file by file.
    catalogue: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The merged pull request that brought the commit, when GitHub knows one.
    pull_number: Mapped[int | None] = mapped_column(Integer)
    pull_title: Mapped[str | None] = mapped_column(Text)
    analysed_paths: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the scope
    # JSON: Python files to summarise for the rules that read other files, before any is
    # analysed, a chunk a job (a full analysis would otherwise begin with one long job).
    to_summarise: Mapped[str] = mapped_column(Text, default="[]")
    remaining: Mapped[str] = mapped_column(Text, default="[]")  # JSON: still to analyse
    pending: Mapped[str] = mapped_column(Text, default="[]")  # JSON: findings so far
    files: Mapped[int] = mapped_column(Integer, default=0)
    open_count: Mapped[int] = mapped_column(Integer, default=0)


class LedgerFinding(Base):
    """A finding on the default branch, open from one ledger commit until another."""

    __tablename__ = "ledger_findings"
    __table_args__ = (Index("ix_ledger_findings_repository_closed", "repository_id", "closed_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(16))
    principle: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    opened_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_commits.id", ondelete="CASCADE"), index=True
    )
    closed_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_commits.id", ondelete="CASCADE"), index=True
    )


class WebSession(Base):
    """A person signed in to the dashboard. The cookie holds a random id; the store keeps only
    its hash, so a copy of the database signs nobody in. Tokens are stored encrypted."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(Text)  # encrypted
    refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # What GitHub said the person may see (JSON), and when it said so.
    access: Mapped[str] = mapped_column(Text)
    access_checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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


def as_utc(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; the store writes UTC only.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
