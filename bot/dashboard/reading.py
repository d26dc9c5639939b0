"""What the dashboard reads from the store, always through what the viewer may see."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot import store
from bot.dashboard.auth import Viewer
from bot.ledger import figures
from bot.ledger.figures import AccountFigures, RepositoryFigures


def visible(sessions: sessionmaker[Session], viewer: Viewer) -> tuple[list[str], list[str]]:
    """The accounts the viewer may see, and the repositories they may read in other accounts
    (an outside collaborator's), each as GitHub spells it."""
    with sessions() as session:
        accounts, others = [], []
        for installation in store.active_installations(session):
            if viewer.may_see_account(installation.account):
                accounts.append(installation.account)
                continue
            others.extend(
                name
                for name in store.active_repositories(session, installation.id)
                if viewer.may_read(name)
            )
    return sorted(accounts, key=str.lower), sorted(others, key=str.lower)


def account(sessions: sessionmaker[Session], login: str, viewer: Viewer) -> AccountFigures:
    now = datetime.now(UTC)
    with sessions() as session:
        installation = store.installation_of(session, login)
        names = [] if installation is None else store.active_repositories(session, installation.id)
        found = [
            figures.load_repository(session, name, now) for name in names if viewer.may_read(name)
        ]
    spelled = installation.account if installation is not None else login
    return figures.account_figures(spelled, [f for f in found if f is not None])


def repository(sessions: sessionmaker[Session], full_name: str) -> RepositoryFigures | None:
    with sessions() as session:
        return figures.load_repository(session, full_name, datetime.now(UTC))
