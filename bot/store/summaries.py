"""Weekly summaries: claims that make each one posted once, problems, and the figures' rows."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import (
    Analysis,
    FindingRecord,
    PullRequest,
    Repository,
    SummaryPost,
    SummaryProblem,
    as_utc,
    utcnow,
)


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


# --- what a week's summary counts ------------------------------------------------------------


def account_repositories(
    session: Session, account: str, visible: Collection[str] | None = None
) -> dict[int, str]:
    """Repository id -> name of the account's own repositories the App can still see.

    Owned means named ``account/...``: GitHub logins are case-insensitive and an installation
    sees only its account's repositories, so the name is the surest tie and cannot mix two
    accounts. Repositories removed from the installation are left out, and so, when
    ``visible`` is given (what GitHub says the installation sees now), is any other.
    """
    wanted = account.strip().lower()
    seen = None if visible is None else {name.lower() for name in visible}
    rows = session.execute(
        select(Repository.id, Repository.full_name).where(Repository.removed_at.is_(None))
    )
    return {
        repository_id: full_name
        for repository_id, full_name in rows
        if full_name.partition("/")[0].lower() == wanted
        and (seen is None or full_name.lower() in seen)
    }


def reviewed_pull_requests(
    session: Session, repository_ids: Sequence[int], start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """(repository id, number) of the pull requests analysed between ``start`` and ``end``."""
    rows = session.execute(
        select(PullRequest.repository_id, PullRequest.number)
        .join(Analysis, Analysis.pull_request_id == PullRequest.id)
        .where(
            PullRequest.repository_id.in_(repository_ids),
            Analysis.finished_at >= start,
            Analysis.finished_at < end,
        )
        .distinct()
    )
    return [(repository_id, number) for repository_id, number in rows]


@dataclass(frozen=True)
class FindingRow:
    """A finding of a pull request as a summary counts it; times in UTC."""

    repository_id: int
    fingerprint: str
    code: str
    principle: str
    path: str
    status: str
    created_at: datetime
    updated_at: datetime  # when it was last seen, or fixed, or suppressed
    last_seen_sha: str


def findings_created_before(
    session: Session, repository_ids: Sequence[int], end: datetime
) -> list[FindingRow]:
    """Every finding of the repositories' pull requests that existed before ``end``."""
    rows = session.execute(
        select(
            PullRequest.repository_id,
            FindingRecord.fingerprint,
            FindingRecord.code,
            FindingRecord.principle,
            FindingRecord.path,
            FindingRecord.status,
            FindingRecord.created_at,
            FindingRecord.updated_at,
            FindingRecord.last_seen_sha,
        )
        .join(PullRequest, FindingRecord.pull_request_id == PullRequest.id)
        .where(PullRequest.repository_id.in_(repository_ids), FindingRecord.created_at < end)
    )
    return [
        FindingRow(
            row.repository_id,
            row.fingerprint,
            row.code,
            row.principle,
            row.path,
            row.status,
            as_utc(row.created_at),
            as_utc(row.updated_at),
            row.last_seen_sha,
        )
        for row in rows
    ]
