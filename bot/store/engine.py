"""Connecting to the database: SQLite by default, PostgreSQL by ``DATABASE_URL``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.store.models import SQLITE_BUSY_TIMEOUT_MS


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


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def database_answers(session: Session) -> bool:
    """Whether a trivial query succeeds (for /healthz); raises what the driver raises."""
    return session.execute(select(1)).scalar_one() == 1
