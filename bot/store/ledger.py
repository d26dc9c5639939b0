"""The debt ledger: what each analysed commit of a repository's default branch held.

A finding is one row from the commit where it appeared to the commit where it went away, so a
commit's open debt is every row opened at or before it and not closed by then, and an analysis
that changed three files writes three files' worth of rows, not the whole repository again.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.store.installations import repository_row
from bot.store.models import LedgerCommit, LedgerFinding, Repository, as_utc

# What a finding keeps in the ledger, in the JSON of a running commit and in its row.
FINDING_FIELDS = ("fingerprint", "code", "principle", "severity", "path", "line", "end_line",
                  "message")  # fmt: skip


@dataclass(frozen=True)
class LedgerState:
    """One analysed (or still analysing) commit of the default branch."""

    id: int
    full_name: str
    sha: str
    status: str
    scope: str
    catalogue: str
    recorded_at: datetime
    pull_number: int | None
    pull_title: str | None
    remaining: tuple[str, ...]
    files: int
    open_count: int
    to_summarise: tuple[str, ...] = ()


@dataclass(frozen=True)
class LedgerRow:
    """A finding's life on the default branch: open from ``opened_id`` until ``closed_id``."""

    fingerprint: str
    code: str
    principle: str
    severity: str
    path: str
    line: int
    end_line: int
    message: str
    opened_id: int
    closed_id: int | None

    def open_at(self, commit_id: int) -> bool:
        return self.opened_id <= commit_id and (
            self.closed_id is None or self.closed_id > commit_id
        )


def _state(row: LedgerCommit, full_name: str) -> LedgerState:
    return LedgerState(
        id=row.id,
        full_name=full_name,
        sha=row.sha,
        status=row.status,
        scope=row.scope,
        catalogue=row.catalogue,
        recorded_at=as_utc(row.recorded_at),
        pull_number=row.pull_number,
        pull_title=row.pull_title,
        remaining=tuple(json.loads(row.remaining)),
        files=row.files,
        open_count=row.open_count,
        to_summarise=tuple(json.loads(row.to_summarise)),
    )


def _repository(session: Session, full_name: str) -> Repository | None:
    return session.scalar(select(Repository).where(Repository.full_name == full_name))


def running_ledger_commit(session: Session, full_name: str) -> LedgerState | None:
    """The commit being analysed a chunk at a time, if one is."""
    repository = _repository(session, full_name)
    if repository is None:
        return None
    row = session.scalar(
        select(LedgerCommit)
        .where(LedgerCommit.repository_id == repository.id, LedgerCommit.status == "running")
        .order_by(LedgerCommit.id.desc())
        .limit(1)
    )
    return None if row is None else _state(row, full_name)


def last_ledger_commit(session: Session, full_name: str) -> LedgerState | None:
    """The last commit whose analysis is done: the ledger's present."""
    states = ledger_commits(session, full_name, last=1)
    return states[-1] if states else None


def ledger_commits(session: Session, full_name: str, last: int | None = None) -> list[LedgerState]:
    """Done commits, oldest first (only the ``last`` ones when given)."""
    repository = _repository(session, full_name)
    if repository is None:
        return []
    query = (
        select(LedgerCommit)
        .where(LedgerCommit.repository_id == repository.id, LedgerCommit.status == "done")
        .order_by(LedgerCommit.id.desc())
    )
    if last is not None:
        query = query.limit(last)
    rows = list(session.scalars(query))
    return [_state(row, full_name) for row in reversed(rows)]


def commits_since_full(session: Session, full_name: str) -> int | None:
    """How many done commits followed the last full analysis; None when there was none."""
    repository = _repository(session, full_name)
    if repository is None:
        return None
    last_full = session.scalar(
        select(func.max(LedgerCommit.id)).where(
            LedgerCommit.repository_id == repository.id,
            LedgerCommit.status == "done",
            LedgerCommit.scope == "full",
        )
    )
    if last_full is None:
        return None
    return session.scalar(
        select(func.count())
        .select_from(LedgerCommit)
        .where(
            LedgerCommit.repository_id == repository.id,
            LedgerCommit.status == "done",
            LedgerCommit.id > last_full,
        )
    )


def open_paths(session: Session, full_name: str, codes: Collection[str]) -> set[str]:
    """Paths holding an open finding of one of ``codes`` (rules that read other files)."""
    repository = _repository(session, full_name)
    if repository is None or not codes:
        return set()
    return set(
        session.scalars(
            select(LedgerFinding.path)
            .where(
                LedgerFinding.repository_id == repository.id,
                LedgerFinding.closed_id.is_(None),
                LedgerFinding.code.in_(list(codes)),
            )
            .distinct()
        )
    )


def start_ledger_commit(
    session: Session,
    full_name: str,
    sha: str,
    *,
    scope: str,
    catalogue: str,
    to_analyse: Iterable[str],
    analysed_paths: Iterable[str],
    recorded_at: datetime,
    pull: tuple[int, str] | None = None,
    to_summarise: Iterable[str] = (),
) -> LedgerState:
    """Begin the analysis of ``sha``: ``to_analyse`` are the files still to run the engine on;
    ``analysed_paths`` every path whose findings this commit decides (files deleted since the
    last commit included). A full analysis decides every path."""
    if scope not in ("full", "changed"):
        raise ValueError(f"unknown ledger scope {scope!r}")
    repository = repository_row(session, full_name)
    row = LedgerCommit(
        repository_id=repository.id,
        sha=sha,
        status="running",
        scope=scope,
        catalogue=catalogue,
        recorded_at=recorded_at,
        pull_number=pull[0] if pull else None,
        pull_title=pull[1] if pull else None,
        analysed_paths=json.dumps(sorted(set(analysed_paths))),
        remaining=json.dumps(sorted(set(to_analyse))),
        to_summarise=json.dumps(sorted(set(to_summarise))),
        pending="[]",
    )
    session.add(row)
    session.commit()
    return _state(row, full_name)


def add_ledger_findings(
    session: Session, commit_id: int, findings: Iterable[Mapping[str, Any]], done: Collection[str]
) -> LedgerState:
    """Keep what a chunk of files found, and take those files off the commit's list, in one
    transaction: a chunk whose job died is analysed again, never counted twice."""
    row = session.get(LedgerCommit, commit_id, with_for_update=True)
    if row is None or row.status != "running":
        session.rollback()
        raise LookupError(f"ledger commit {commit_id} is not running")
    pending = json.loads(row.pending)
    pending.extend({key: finding[key] for key in FINDING_FIELDS} for finding in findings)
    row.pending = json.dumps(pending)
    done_set = set(done)
    row.remaining = json.dumps([p for p in json.loads(row.remaining) if p not in done_set])
    row.files += len(done_set)
    full_name = session.get(Repository, row.repository_id).full_name
    session.commit()
    return _state(row, full_name)


def summarised(session: Session, commit_id: int, done: Collection[str]) -> LedgerState:
    """Take files whose facts are now kept off the commit's list of files to summarise."""
    row = session.get(LedgerCommit, commit_id, with_for_update=True)
    if row is None or row.status != "running":
        session.rollback()
        raise LookupError(f"ledger commit {commit_id} is not running")
    done_set = set(done)
    row.to_summarise = json.dumps([p for p in json.loads(row.to_summarise) if p not in done_set])
    full_name = session.get(Repository, row.repository_id).full_name
    session.commit()
    return _state(row, full_name)


def finish_ledger_commit(
    session: Session, commit_id: int, finished_at: datetime
) -> tuple[int, int]:
    """Write the commit's findings into the ledger: those no longer found in the paths it
    decides are closed by it, new ones opened by it, the rest carried over (with their lines
    as they are now). Returns (opened, closed)."""
    row = session.get(LedgerCommit, commit_id, with_for_update=True)
    if row is None or row.status != "running":
        session.rollback()
        raise LookupError(f"ledger commit {commit_id} is not running")
    found = {finding["fingerprint"]: finding for finding in json.loads(row.pending)}
    decided = set(json.loads(row.analysed_paths))
    everything = row.scope == "full"
    still_open = session.scalars(
        select(LedgerFinding).where(
            LedgerFinding.repository_id == row.repository_id, LedgerFinding.closed_id.is_(None)
        )
    ).all()
    closed = 0
    kept: set[str] = set()
    for existing in still_open:
        current = found.get(existing.fingerprint)
        if current is not None:
            kept.add(existing.fingerprint)
            existing.line, existing.end_line = current["line"], current["end_line"]
            existing.message = current["message"]
        elif everything or existing.path in decided:
            existing.closed_id = row.id
            closed += 1
        else:
            kept.add(existing.fingerprint)
    opened = 0
    for fingerprint, finding in found.items():
        if fingerprint in kept:
            continue
        session.add(
            LedgerFinding(
                repository_id=row.repository_id,
                opened_id=row.id,
                **{key: finding[key] for key in FINDING_FIELDS},
            )
        )
        opened += 1
    row.status = "done"
    row.finished_at = finished_at
    row.pending = "[]"
    row.remaining = "[]"
    row.to_summarise = "[]"
    row.open_count = len(kept) + opened
    session.commit()
    return opened, closed


def abandon_running_ledger_commits(session: Session, full_name: str) -> int:
    """Drop unfinished analyses (the branch moved under a full analysis that can start over)."""
    repository = _repository(session, full_name)
    if repository is None:
        return 0
    result = session.execute(
        update(LedgerCommit)
        .where(LedgerCommit.repository_id == repository.id, LedgerCommit.status == "running")
        .values(status="abandoned", pending="[]", remaining="[]", to_summarise="[]")
    )
    session.commit()
    return result.rowcount or 0


def ledger_rows(session: Session, full_name: str) -> list[LedgerRow]:
    """Every finding the repository's default branch ever held, in the order they opened."""
    repository = _repository(session, full_name)
    if repository is None:
        return []
    rows = session.scalars(
        select(LedgerFinding)
        .where(LedgerFinding.repository_id == repository.id)
        .order_by(LedgerFinding.opened_id, LedgerFinding.path, LedgerFinding.line)
    )
    return [
        LedgerRow(
            fingerprint=r.fingerprint,
            code=r.code,
            principle=r.principle,
            severity=r.severity,
            path=r.path,
            line=r.line,
            end_line=r.end_line,
            message=r.message,
            opened_id=r.opened_id,
            closed_id=r.closed_id,
        )
        for r in rows
    ]
