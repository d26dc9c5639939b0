"""The ledger's figures: what a repository or an account holds now, and how it got there.

Pure functions of the ledger's commits and rows (bot.store.ledger), so the pages, the JSON API
and the CSV export show the same numbers. Debt "added" and "paid off" counts only what changed
between two analyses under the same rules and settings: the first analysis of a repository, and
the first after a new catalogue or a new ``[tool.debtbot]``, set a new baseline instead.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy.orm import Session

from bot import store
from bot.store import LedgerRow, LedgerState

TREND_WEEKS = 26
GROWTH_WEEKS = 4


@dataclass(frozen=True)
class WeekPoint:
    week: str  # ISO week, 2026-W48
    start: datetime  # its Monday, 00:00 UTC
    known: bool  # False before the repository's first analysis: its debt was not measured
    open_by_principle: dict[str, int]
    added: int
    paid_off: int

    @property
    def open_total(self) -> int:
        return sum(self.open_by_principle.values())


@dataclass(frozen=True)
class Hotspot:
    path: str
    findings: int
    by_principle: dict[str, int]


@dataclass(frozen=True)
class PullFigures:
    number: int
    title: str
    added: int
    paid_off: int


@dataclass(frozen=True)
class RepositoryFigures:
    full_name: str
    sha: str  # the last analysed commit of the default branch
    analysed_at: datetime
    total: int
    by_principle: dict[str, int]
    by_rule: dict[str, int]
    by_severity: dict[str, int]
    growth: int  # open findings now minus GROWTH_WEEKS weeks ago
    weeks: tuple[WeekPoint, ...]
    hotspots: tuple[Hotspot, ...]
    pulls: tuple[PullFigures, ...]
    findings: tuple[LedgerRow, ...]  # open now, by path and line
    # The pull request whose merge brought each open finding (by fingerprint), where known.
    added_by: dict[str, int]


@dataclass(frozen=True)
class AccountFigures:
    account: str
    repositories: tuple[RepositoryFigures, ...]  # by debt, most first
    weeks: tuple[WeekPoint, ...]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.repositories)

    @property
    def by_growth(self) -> tuple[RepositoryFigures, ...]:
        return tuple(sorted(self.repositories, key=lambda r: (-r.growth, r.full_name)))


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def week_ends(now: datetime, count: int = TREND_WEEKS) -> list[tuple[str, datetime, datetime]]:
    """The last ``count`` ISO weeks up to the one holding ``now``: name, start and end (the
    current one's end is still to come: it holds everything recorded so far)."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    ends = []
    for back in range(count - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        ends.append((week_of(start), start, start + timedelta(weeks=1)))
    return ends


def repository_figures(
    full_name: str,
    commits: Sequence[LedgerState],
    rows: Iterable[LedgerRow],
    now: datetime,
    weeks: int = TREND_WEEKS,
) -> RepositoryFigures | None:
    """None until the repository's first analysis is done."""
    if not commits:
        return None
    rows = list(rows)
    last = commits[-1]
    open_now = sorted((r for r in rows if r.open_at(last.id)), key=lambda r: (r.path, r.line))
    counted = _comparable(commits)
    recorded = {c.id: c.recorded_at for c in commits}
    pull_of = {c.id: c.pull_number for c in commits}
    points = []
    for label, start, end in week_ends(now, weeks):
        at = _state_at(commits, end)
        points.append(
            WeekPoint(
                week=label,
                start=start,
                known=at is not None,
                open_by_principle=dict(
                    Counter(r.principle for r in rows if at is not None and r.open_at(at))
                ),
                added=sum(
                    1 for r in rows if r.opened_id in counted
                    and start <= recorded[r.opened_id] < end
                ),
                paid_off=sum(
                    1 for r in rows if r.closed_id in counted
                    and start <= recorded[r.closed_id] < end
                ),
            )
        )  # fmt: skip
    # Growth since GROWTH_WEEKS ago, or since the first analysis when that came later: the
    # debt a repository already held when the App arrived is not growth.
    then = _state_at(commits, now - timedelta(weeks=GROWTH_WEEKS)) or commits[0].id
    open_then = sum(1 for r in rows if r.open_at(then))
    return RepositoryFigures(
        full_name=full_name,
        sha=last.sha,
        analysed_at=last.recorded_at,
        total=len(open_now),
        by_principle=_sorted_counts(r.principle for r in open_now),
        by_rule=_sorted_counts(r.code for r in open_now),
        by_severity=_sorted_counts(r.severity for r in open_now),
        growth=len(open_now) - open_then,
        weeks=tuple(points),
        hotspots=_hotspots(open_now),
        pulls=_pulls(commits, rows, counted),
        findings=tuple(open_now),
        added_by={
            r.fingerprint: pull_of[r.opened_id]
            for r in open_now
            if r.opened_id in counted and pull_of.get(r.opened_id)
        },
    )


def account_figures(account: str, repositories: Iterable[RepositoryFigures]) -> AccountFigures:
    ranked = tuple(sorted(repositories, key=lambda r: (-r.total, r.full_name)))
    weeks: list[WeekPoint] = []
    if ranked:
        for index, point in enumerate(ranked[0].weeks):
            by_principle: Counter[str] = Counter()
            added = paid_off = 0
            for figures in ranked:
                other = figures.weeks[index]
                by_principle.update(other.open_by_principle)
                added += other.added
                paid_off += other.paid_off
            known = any(figures.weeks[index].known for figures in ranked)
            weeks.append(
                WeekPoint(point.week, point.start, known, dict(by_principle), added, paid_off)
            )
    return AccountFigures(account=account, repositories=ranked, weeks=tuple(weeks))


def _comparable(commits: Sequence[LedgerState]) -> set[int]:
    """Commits whose openings and closings are the team's doing, not a new baseline."""
    return {
        later.id for earlier, later in pairwise(commits) if earlier.catalogue == later.catalogue
    }


def _state_at(commits: Sequence[LedgerState], moment: datetime) -> int | None:
    """The last commit analysed before ``moment``."""
    at = None
    for commit in commits:
        if commit.recorded_at < moment:
            at = commit.id
    return at


def _sorted_counts(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda item: (-item[1], item[0])))


def _hotspots(open_now: Iterable[LedgerRow]) -> tuple[Hotspot, ...]:
    by_path: dict[str, Counter[str]] = defaultdict(Counter)
    for row in open_now:
        by_path[row.path][row.principle] += 1
    spots = [Hotspot(path, sum(c.values()), dict(c)) for path, c in by_path.items()]
    return tuple(sorted(spots, key=lambda s: (-s.findings, s.path)))


def _pulls(
    commits: Sequence[LedgerState], rows: Sequence[LedgerRow], counted: set[int]
) -> tuple[PullFigures, ...]:
    pull_of = {c.id: (c.pull_number, c.pull_title or "") for c in commits if c.pull_number}
    added: Counter[tuple[int, str]] = Counter()
    paid: Counter[tuple[int, str]] = Counter()
    for row in rows:
        if row.opened_id in counted and row.opened_id in pull_of:
            added[pull_of[row.opened_id]] += 1
        if row.closed_id in counted and row.closed_id in pull_of:
            paid[pull_of[row.closed_id]] += 1
    pulls = [
        PullFigures(number, title, added[(number, title)], paid[(number, title)])
        for number, title in set(added) | set(paid)
    ]
    return tuple(sorted(pulls, key=lambda p: (-(p.added + p.paid_off), p.number)))


def load_repository(
    session: Session, full_name: str, now: datetime, weeks: int = TREND_WEEKS
) -> RepositoryFigures | None:
    return repository_figures(
        full_name, store.ledger_commits(session, full_name), store.ledger_rows(session, full_name),
        now, weeks,
    )  # fmt: skip


def repository_json(figures: RepositoryFigures) -> dict[str, Any]:
    return {
        "repository": figures.full_name,
        "commit": figures.sha,
        "analysed_at": figures.analysed_at.isoformat(),
        "open": figures.total,
        "growth": figures.growth,
        "growth_weeks": GROWTH_WEEKS,
        "by_principle": figures.by_principle,
        "by_rule": figures.by_rule,
        "by_severity": figures.by_severity,
        "weeks": [_week_json(point) for point in figures.weeks],
        "hotspots": [
            {"path": s.path, "open": s.findings, "by_principle": s.by_principle}
            for s in figures.hotspots
        ],
        "pull_requests": [
            {"number": p.number, "title": p.title, "added": p.added, "paid_off": p.paid_off}
            for p in figures.pulls
        ],
        "findings": [
            {
                "rule": r.code,
                "principle": r.principle,
                "severity": r.severity,
                "path": r.path,
                "line": r.line,
                "end_line": r.end_line,
                "message": r.message,
                "fingerprint": r.fingerprint,
                "added_by_pull_request": figures.added_by.get(r.fingerprint),
            }
            for r in figures.findings
        ],
    }


def account_json(figures: AccountFigures) -> dict[str, Any]:
    return {
        "account": figures.account,
        "open": figures.total,
        "repositories": [
            {"repository": r.full_name, "open": r.total, "growth": r.growth,
             "by_principle": r.by_principle, "analysed_at": r.analysed_at.isoformat()}
            for r in figures.repositories
        ],
        "weeks": [_week_json(point) for point in figures.weeks],
    }  # fmt: skip


def _week_json(point: WeekPoint) -> dict[str, Any]:
    return {
        "week": point.week,
        "open": point.open_total if point.known else None,
        "open_by_principle": point.open_by_principle,
        "added": point.added,
        "paid_off": point.paid_off,
    }
