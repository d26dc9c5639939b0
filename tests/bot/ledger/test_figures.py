"""The ledger's figures as pure functions of its commits and rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ledger import figures
from bot.store import LedgerRow, LedgerState

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday of 2026-W49


def commit(commit_id: int, weeks_ago: float, catalogue: str = "c1", pull=None) -> LedgerState:
    return LedgerState(
        id=commit_id, full_name="a/b", sha=f"{commit_id:040d}", status="done", scope="full",
        catalogue=catalogue, recorded_at=NOW - timedelta(weeks=weeks_ago),
        pull_number=pull[0] if pull else None, pull_title=pull[1] if pull else None,
        remaining=(), files=1, open_count=0,
    )  # fmt: skip


def row(
    fingerprint: str, opened: int, closed: int | None = None, principle="glue-code", path="a.py"
):
    return LedgerRow(
        fingerprint=fingerprint, code="DEBT801", principle=principle, severity="warning",
        path=path, line=1, end_line=1, message="m", opened_id=opened, closed_id=closed,
    )  # fmt: skip


def test_debt_held_on_arrival_is_neither_added_nor_growth() -> None:
    commits = [commit(1, 1)]
    rows = [row("x", 1), row("y", 1)]
    result = figures.repository_figures("a/b", commits, rows, NOW)
    assert result.total == 2 and result.growth == 0
    assert sum(point.added for point in result.weeks) == 0
    # Weeks before the first analysis were not measured.
    assert [p.known for p in result.weeks[-3:]] == [False, True, True]


def test_growth_counts_from_four_weeks_ago_and_a_new_catalogue_is_a_baseline() -> None:
    commits = [
        commit(1, 10),
        commit(2, 5, pull=(3, "Three")),
        commit(3, 2, pull=(4, "Four")),
        commit(4, 1, catalogue="c2"),  # new rules: what it opens is not anybody's doing
    ]
    rows = [
        row("old", 1),
        row("five", 2, closed=3),
        row("two", 3),
        row("new-rule", 4, principle="external-world"),
    ]
    result = figures.repository_figures("a/b", commits, rows, NOW)
    assert result.total == 3
    assert result.growth == 3 - 2  # four weeks ago: "old" and "five" were open
    assert sum(p.added for p in result.weeks) == 2  # "five" and "two"; not "new-rule"
    assert sum(p.paid_off for p in result.weeks) == 1
    assert {(p.number, p.added, p.paid_off) for p in result.pulls} == {(3, 1, 0), (4, 1, 1)}
    assert result.by_principle == {"glue-code": 2, "external-world": 1}


def test_an_account_adds_up_its_repositories_and_ranks_them() -> None:
    small = figures.repository_figures("a/small", [commit(1, 1)], [row("x", 1)], NOW)
    big = figures.repository_figures(
        "a/big", [commit(1, 3), commit(2, 0.1)], [row("x", 1), row("y", 2), row("z", 2)], NOW
    )
    account = figures.account_figures("a", [small, big])
    assert [r.full_name for r in account.repositories] == ["a/big", "a/small"]
    assert account.total == 4
    assert account.weeks[-1].open_total == 4 and account.weeks[-1].added == 2
    assert [r.full_name for r in account.by_growth] == ["a/big", "a/small"]


def test_hotspots_rank_files_by_open_findings() -> None:
    rows = [row("1", 1, path="a.py"), row("2", 1, path="b/c.py"), row("3", 1, path="b/c.py")]
    result = figures.repository_figures("a/b", [commit(1, 1)], rows, NOW)
    assert [(h.path, h.findings) for h in result.hotspots] == [("b/c.py", 2), ("a.py", 1)]
