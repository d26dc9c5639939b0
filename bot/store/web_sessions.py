"""The dashboard's sign-ins: one row per session, found by the hash of the cookie's id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import WebSession, as_utc


@dataclass(frozen=True)
class WebSessionInfo:
    id_hash: str
    login: str
    user_id: int
    token: str  # encrypted, as stored
    refresh_token: str | None
    token_expires_at: datetime | None
    expires_at: datetime
    access: str  # JSON
    access_checked_at: datetime


def _info(row: WebSession) -> WebSessionInfo:
    return WebSessionInfo(
        id_hash=row.id_hash,
        login=row.login,
        user_id=row.user_id,
        token=row.token,
        refresh_token=row.refresh_token,
        token_expires_at=as_utc(row.token_expires_at) if row.token_expires_at else None,
        expires_at=as_utc(row.expires_at),
        access=row.access,
        access_checked_at=as_utc(row.access_checked_at),
    )


def create_web_session(session: Session, info: WebSessionInfo, now: datetime) -> None:
    session.add(
        WebSession(
            id_hash=info.id_hash,
            login=info.login,
            user_id=info.user_id,
            token=info.token,
            refresh_token=info.refresh_token,
            token_expires_at=info.token_expires_at,
            created_at=now,
            expires_at=info.expires_at,
            access=info.access,
            access_checked_at=info.access_checked_at,
        )
    )
    # Sign-ins that ran out are of no use to anyone: drop them while writing anyway.
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.commit()


def web_session(session: Session, id_hash: str, now: datetime) -> WebSessionInfo | None:
    """The session, None when there is none or it has expired."""
    row = session.scalar(select(WebSession).where(WebSession.id_hash == id_hash))
    if row is None or as_utc(row.expires_at) <= now:
        return None
    return _info(row)


def update_web_session(
    session: Session,
    id_hash: str,
    *,
    access: str,
    checked_at: datetime,
    token: str | None = None,
    refresh_token: str | None = None,
    token_expires_at: datetime | None = None,
) -> None:
    """Keep what GitHub said the person may see, and the token when it was refreshed."""
    row = session.scalar(select(WebSession).where(WebSession.id_hash == id_hash))
    if row is None:
        session.rollback()
        return
    row.access = access
    row.access_checked_at = checked_at
    if token is not None:
        row.token, row.refresh_token, row.token_expires_at = token, refresh_token, token_expires_at
    session.commit()


def delete_web_session(session: Session, id_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id_hash == id_hash))
    session.commit()
