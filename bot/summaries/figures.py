"""Weekly summaries: one account's week of reviews, from the store, as Markdown for an issue.

``weekly_figures`` reads the store (reviews and findings of the account's own repositories);
``render_summary`` is pure. Weeks are ISO weeks (``2026-W48``), Monday to Monday in UTC.

When things happened is what the store recorded: a finding is added when a review first saw it
(``created_at``), fixed or suppressed when a review closed it (``updated_at`` of a closed finding,
see ``store.record_analysis``). Findings are counted per pull request, as the reviews reported
them; hotspots count each distinct finding of a repository once, whatever pull requests saw it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from sqlalchemy.orm import Session

from bot import store
from bot.markdown import count
from rules.catalogue import rules_by_code
from rules.principles import PRINCIPLES

TREND_WEEKS = 8
TOP_RULES = 5
HOTSPOTS = 10
REPOSITORY_ROWS = 50  # an organisation with hundreds of repositories still gets a readable issue

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class WeekError(ValueError):
    pass


def summary_marker(account: str, week: str) -> str:
    """Hidden in the issue body: how a summary already on GitHub is recognised."""
    return f"<!-- debtbot:summary {account.lower()} {week} -->"


def parse_week(text: str) -> tuple[int, int]:
    """(year, week) of an ISO week written ``2026-W48``; WeekError when it is not one."""
    match = _WEEK.fullmatch(text.strip())
    if match is None:
        raise WeekError(f"{text!r} is not a week; write it as an ISO week, like 2026-W48")
    year, week = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(f"{year} has no week {week}") from None
    return year, week


def week_name(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def week_start(year: int, week: int) -> datetime:
    return datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time(), UTC)


def week_of(moment: datetime) -> tuple[int, int]:
    year, week, _ = moment.isocalendar()
    return year, week


def last_complete_week(now: datetime | None = None) -> tuple[int, int]:
    """The week before the one ``now`` is in: what a summary posted on Monday is about."""
    return week_of((now or datetime.now(UTC)) - timedelta(days=7))


@dataclass(frozen=True)
class Tally:
    """Counts for one row of a table: a repository or a principle."""

    name: str
    added: int = 0
    fixed: int = 0
    suppressed: int = 0
    reviewed: int = 0  # pull requests; per repository only


@dataclass(frozen=True)
class RuleCount:
    code: str
    principle: str
    added: int


@dataclass(frozen=True)
class TrendPoint:
    week: str
    added: int
    fixed: int


@dataclass(frozen=True)
class Hotspot:
    repository: str
    path: str
    open_findings: int
    sha: str  # a commit where the file has these findings, for the link


@dataclass(frozen=True)
class WeekFigures:
    account: str
    week: str
    start: datetime
    end: datetime
    repositories: tuple[str, ...]
    reviewed: int
    added: int
    fixed: int
    suppressed: int
    by_repository: tuple[Tally, ...]
    by_principle: tuple[Tally, ...]
    top_rules: tuple[RuleCount, ...]
    trend: tuple[TrendPoint, ...]
    hotspots: tuple[Hotspot, ...]


def weekly_figures(
    session: Session, account: str, week: str, visible: Collection[str] | None = None
) -> WeekFigures:
    year, number = parse_week(week)
    start = week_start(year, number)
    end = start + timedelta(days=7)
    trend_start = start - timedelta(days=7 * (TREND_WEEKS - 1))
    repositories = store.account_repositories(session, account, visible)
    ids = list(repositories)

    reviewed_rows = store.reviewed_pull_requests(session, ids, start, end)
    reviewed_per_repository = Counter(
        repositories[repository_id] for repository_id, _ in reviewed_rows
    )

    findings = store.findings_created_before(session, ids, end)

    def per_kind() -> dict[str, Counter[str]]:
        return {"repository": Counter(), "principle": Counter()}

    added_by, fixed_by, suppressed_by = per_kind(), per_kind(), per_kind()
    rules: Counter[tuple[str, str]] = Counter()
    trend_added: Counter[tuple[int, int]] = Counter()
    trend_fixed: Counter[tuple[int, int]] = Counter()
    open_at_end: dict[tuple[str, str], dict[str, tuple[datetime, str]]] = defaultdict(dict)
    for row in findings:
        repository, fingerprint, principle = (
            repositories[row.repository_id],
            row.fingerprint,
            row.principle,
        )
        created, updated = row.created_at, row.updated_at
        closed = updated if row.status in ("fixed", "suppressed") else None
        if start <= created < end:
            added_by["repository"][repository] += 1
            added_by["principle"][principle] += 1
            rules[row.code, principle] += 1
        if closed is not None and start <= closed < end:
            into = fixed_by if row.status == "fixed" else suppressed_by
            into["repository"][repository] += 1
            into["principle"][principle] += 1
        if trend_start <= created < end:
            trend_added[week_of(created)] += 1
        if row.status == "fixed" and trend_start <= closed < end:
            trend_fixed[week_of(closed)] += 1
        if closed is None or closed >= end:
            # Open when the week ended. The newest sighting gives the commit to link to.
            seen = open_at_end[repository, row.path]
            if fingerprint not in seen or seen[fingerprint][0] < updated:
                seen[fingerprint] = (updated, row.last_seen_sha)

    def tallies(kind: str, names: set[str]) -> tuple[Tally, ...]:
        rows = [
            Tally(
                name=name,
                added=added_by[kind][name],
                fixed=fixed_by[kind][name],
                suppressed=suppressed_by[kind][name],
                reviewed=reviewed_per_repository[name] if kind == "repository" else 0,
            )
            for name in names
        ]
        rows.sort(key=lambda t: (-t.added, -t.fixed, -t.suppressed, -t.reviewed, t.name))
        # Quiet repositories are left out: the week is about what happened.
        return tuple(
            row for row in rows if row.added or row.fixed or row.suppressed or row.reviewed
        )

    by_repository = tallies("repository", set(repositories.values()))
    by_principle = tallies(
        "principle",
        set(added_by["principle"]) | set(fixed_by["principle"]) | set(suppressed_by["principle"]),
    )

    trend = []
    for offset in range(TREND_WEEKS):
        key = week_of(trend_start + timedelta(days=7 * offset))
        trend.append(TrendPoint(week_name(*key), trend_added[key], trend_fixed[key]))

    hotspots = sorted(
        (
            Hotspot(repository, path, len(seen), max(seen.values())[1])
            for (repository, path), seen in open_at_end.items()
        ),
        key=lambda h: (-h.open_findings, h.repository, h.path),
    )[:HOTSPOTS]

    return WeekFigures(
        account=account,
        week=week_name(year, number),
        start=start,
        end=end,
        repositories=tuple(sorted(repositories.values())),
        reviewed=len(reviewed_rows),
        added=sum(added_by["repository"].values()),
        fixed=sum(fixed_by["repository"].values()),
        suppressed=sum(suppressed_by["repository"].values()),
        by_repository=by_repository,
        by_principle=by_principle,
        top_rules=tuple(
            RuleCount(code, principle, findings)
            for (code, principle), findings in sorted(rules.items(), key=lambda i: (-i[1], i[0]))[
                :TOP_RULES
            ]
        ),
        trend=tuple(trend),
        hotspots=tuple(hotspots),
    )


# --- rendering ---------------------------------------------------------------------------------


def render_summary(
    figures: WeekFigures,
    public_url: str,
    github_url: str = "https://github.com",
    warnings: Sequence[str] = (),
) -> str:
    """The summary as Markdown for a GitHub issue; without ``public_url`` rules are not linked.

    ``warnings`` are shown first, as GitHub's warning alerts: what went wrong with the account's
    summaries since the last one.
    """
    public_url, github_url = public_url.rstrip("/"), github_url.rstrip("/")
    last_day = figures.end - timedelta(days=1)
    lines = [
        summary_marker(figures.account, figures.week),
        f"## Technical debt in {_text(figures.account)}, week {figures.week}",
        "",
        *(line for warning in warnings for line in ("> [!WARNING]", f"> {warning}", "")),
        f"{figures.start:%-d %B %Y} to {last_day:%-d %B %Y} (UTC), across "
        + count(len(figures.repositories), "repository", "repositories")
        + " debtbot is installed on.",
        "",
        f"**{count(figures.reviewed, 'pull request')} reviewed** · "
        f"**{figures.added} added** · **{figures.fixed} fixed** · "
        f"**{figures.suppressed} suppressed**",
        "",
        "### The last eight weeks",
        "",
        *_trend_chart(figures.trend),
        "",
        "Bars: findings added. Line: findings fixed.",
        "",
        "### Per repository",
        "",
    ]
    if figures.by_repository:
        shown = figures.by_repository[:REPOSITORY_ROWS]
        lines += ["| repository | pull requests reviewed | added | fixed | suppressed |"]
        lines += ["|---|---:|---:|---:|---:|"]
        lines += [
            f"| [{_cell(t.name)}]({github_url}/{quote(t.name)}) | {t.reviewed} | {t.added} "
            f"| {t.fixed} | {t.suppressed} |"
            for t in shown
        ]
        hidden = len(figures.by_repository) - len(shown)
        if hidden:
            lines += ["", f"…and {count(hidden, 'more repository', 'more repositories')}."]
    else:
        lines += ["No pull request was reviewed and no finding changed this week."]
    lines += ["", "### Per principle", ""]
    if figures.by_principle:
        lines += ["| principle | added | fixed | suppressed |", "|---|---:|---:|---:|"]
        lines += [
            f"| {_principle(t.name, public_url)} | {t.added} | {t.fixed} | {t.suppressed} |"
            for t in figures.by_principle
        ]
    else:
        lines += ["No finding was added, fixed or suppressed this week."]
    lines += ["", "### Rules that fired most", ""]
    if figures.top_rules:
        lines += [
            f"{place}. {_rule(rule.code, public_url)} ({_principle(rule.principle, public_url)}): "
            f"{count(rule.added, 'finding')}"
            for place, rule in enumerate(figures.top_rules, 1)
        ]
    else:
        lines += ["No rule fired this week."]
    lines += ["", "### Hotspots", ""]
    if figures.hotspots:
        lines += ["Files with most open findings when the week ended:", ""]
        lines += [
            f"- [{_code(h.repository + '/' + h.path)}]"
            f"({github_url}/{quote(h.repository)}/blob/{h.sha}/{quote(h.path)}): "
            f"{count(h.open_findings, 'open finding')}"
            for h in figures.hotspots
        ]
    else:
        lines += ["No open findings when the week ended."]
    return "\n".join(lines) + "\n"


def _trend_chart(trend: tuple[TrendPoint, ...]) -> list[str]:
    # Mermaid's xychart has no legend, hence the sentence under it. The axis needs a top above
    # zero, or an empty eight weeks draws nothing.
    top = max([1, *(p.added for p in trend), *(p.fixed for p in trend)])
    labels = ", ".join(f'"{p.week.partition("-")[2]}"' for p in trend)
    return [
        "```mermaid",
        "xychart-beta",
        '    title "Findings added and fixed per week"',
        f"    x-axis [{labels}]",
        f'    y-axis "findings" 0 --> {top}',
        f"    bar [{', '.join(str(p.added) for p in trend)}]",
        f"    line [{', '.join(str(p.fixed) for p in trend)}]",
        "```",
    ]


def _rule(code: str, public_url: str) -> str:
    known = rules_by_code().get(code)
    label = f"{code} {known.name}" if known else code
    return f"[{label}]({public_url}/rules/{quote(code)})" if public_url else label


def _principle(slug: str, public_url: str) -> str:
    known = PRINCIPLES.get(slug)
    title = _cell(known.title if known else slug)
    return f"[{title}]({public_url}/principles/{quote(slug)})" if public_url and known else title


def _cell(text: str) -> str:
    # A pipe would end the table cell; brackets would end the link text.
    return text.replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")


def _text(text: str) -> str:
    return _cell(text).replace("*", "\\*").replace("_", "\\_")


def _code(text: str) -> str:
    # A backtick in a path would end a one-backtick code span early.
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"
