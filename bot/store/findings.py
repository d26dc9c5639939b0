"""Findings of pull requests, the analyses that found them, and the comments about them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.domain import PullRequestRef
from bot.store.installations import repository_row
from bot.store.models import (
    Analysis,
    CommentRecord,
    FindingRecord,
    Installation,
    PullRequest,
    Repository,
    utcnow,
)
from rules.finding import Finding


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
    repository = repository_row(session, ref.full_name)
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
    moved: Mapping[str, str] | None = None,
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
    ``moved``: old fingerprint -> new, for findings still there in an edited form (a commented-out
    block one line longer): the stored finding, its first sighting and its comment carry on under
    the new fingerprint;
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
    for old, new in (moved or {}).items():
        record = records.get(old)
        if record is not None and new not in records:
            record.fingerprint = new
            records[new] = records.pop(old)
    session.flush()
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
