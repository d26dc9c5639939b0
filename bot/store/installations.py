"""Installations of the App and the repositories each one sees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.store.models import Installation, Repository, as_utc, utcnow


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
        repository = repository_row(session, info.full_name, info.github_id)
        repository.installation_id = installation_id
        repository.removed_at = None
    now = utcnow()
    for info in removed:
        repository = repository_row(session, info.full_name, info.github_id)
        repository.removed_at = now
    session.commit()


def adopt_repository(
    session: Session, installation_id: int, account_login: str, account_type: str,
    info: RepositoryInfo,
) -> None:  # fmt: skip
    """Learn of a repository from its installation's event when the store never heard of the
    installation (installed before debtbot kept track, or its events were lost), or of the
    repository. What the store knows already is left as it is: an installation removed, or a
    repository taken from it, stays so."""
    if session.get(Installation, installation_id) is None:
        session.add(
            Installation(id=installation_id, account_login=account_login, account_type=account_type)
        )
        session.flush()
    repository = repository_row(session, info.full_name, info.github_id)
    if repository.installation_id is None and repository.removed_at is None:
        repository.installation_id = installation_id
    session.commit()


def repository_row(session: Session, full_name: str, github_id: int | None = None) -> Repository:
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


def repository_installed(session: Session, full_name: str) -> bool:
    """Whether the App still works on the repository: known, not removed, and its
    installation neither removed nor suspended."""
    row = session.execute(
        select(Repository.id)
        .join(Installation, Installation.id == Repository.installation_id)
        .where(
            Repository.full_name == full_name,
            Repository.removed_at.is_(None),
            Installation.removed_at.is_(None),
            Installation.suspended_at.is_(None),
        )
    ).first()
    return row is not None
