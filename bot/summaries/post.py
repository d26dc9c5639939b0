"""Posting an account's weekly summary as an issue, when the account asked for it.

The account asks in ``debtbot.toml`` of its ``.github`` repository::

    [summary]
    repository = "analytics-platform"
    weekday = "monday"
    hour = 9
    timezone = "Europe/Amsterdam"
    enabled = true

No file (or no ``[summary]`` table): nothing is posted anywhere. A broken file posts nothing; what
is wrong with it is logged once and kept in the store, and the account's next summary, once the
file is mended, opens with it. Each summary is claimed in the store before it is
posted, so one account gets at most one issue a week however many processes try; a claim left
unfinished is taken over after a lease, and the new owner looks on GitHub before posting again.

When to post (weekday, hour, timezone) is read and validated here; acting on it is
``bot.summaries.schedule``'s business.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from github import GithubException, RateLimitExceededException
from sqlalchemy.orm import Session, sessionmaker

from bot.github import client as github
from bot.store import queries as store
from bot.summaries import figures as summary

log = logging.getLogger(__name__)

CONFIG_REPOSITORY = ".github"
CONFIG_PATH = "debtbot.toml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Longer than creating one issue can take, rate-limit waits and retries included (bot.github.client
# waits up to 15 minutes for a reset, a few times); a claim older than this was abandoned.
CLAIM_LEASE = timedelta(hours=2)
_REPOSITORY_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class SummaryConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SummaryConfig:
    repository: str  # a repository of the account, by name
    weekday: str = "monday"
    hour: int = 9
    timezone: str = "UTC"
    enabled: bool = True


def parse_summary_config(text: str) -> SummaryConfig | None:
    """The ``[summary]`` settings of a ``debtbot.toml``; None when it has none.

    Raises SummaryConfigError naming the first thing wrong.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SummaryConfigError(f"{CONFIG_PATH} is not valid TOML: {error}") from None
    table = document.get("summary")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise SummaryConfigError("[summary] must be a table")
    known = {"repository", "weekday", "hour", "timezone", "enabled"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise SummaryConfigError(
            f"[summary] has no setting {unknown[0]!r}; it takes {', '.join(sorted(known))}"
        )
    repository = table.get("repository")
    if repository is None:
        raise SummaryConfigError("[summary] needs repository, the repository to post in")
    if not isinstance(repository, str) or not _REPOSITORY_NAME.fullmatch(repository):
        raise SummaryConfigError(
            f"[summary] repository must be the name of one of your repositories, "
            f'like "analytics-platform", not {repository!r}'
        )
    weekday = table.get("weekday", "monday")
    if not isinstance(weekday, str) or weekday.lower() not in WEEKDAYS:
        raise SummaryConfigError(f'[summary] weekday must be a day like "monday", not {weekday!r}')
    hour = table.get("hour", 9)
    # TOML booleans are not hours, although Python counts them as integers.
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise SummaryConfigError(f"[summary] hour must be a whole hour from 0 to 23, not {hour!r}")
    timezone = table.get("timezone", "UTC")
    if not isinstance(timezone, str) or not _known_timezone(timezone):
        raise SummaryConfigError(
            f'[summary] timezone must be a time zone like "Europe/Amsterdam", not {timezone!r}'
        )
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise SummaryConfigError(f"[summary] enabled must be true or false, not {enabled!r}")
    return SummaryConfig(repository, weekday.lower(), hour, timezone, enabled)


def due_at(config: SummaryConfig, week: str) -> datetime:
    """When the summary of ``week`` is due: the first chosen weekday and hour, in the
    account's time zone, at or after the week's end (Monday 00:00 UTC)."""
    end = summary.week_start(*summary.parse_week(week)) + timedelta(days=7)
    zone = ZoneInfo(config.timezone)
    local_end = end.astimezone(zone)
    days_ahead = (WEEKDAYS.index(config.weekday) - local_end.weekday()) % 7
    day = local_end.date() + timedelta(days=days_ahead)
    due = datetime.combine(day, time(config.hour), zone)
    if due < end:  # the chosen hour of that day was before the week ended
        due = datetime.combine(day + timedelta(days=7), time(config.hour), zone)
    return due.astimezone(UTC)


def _known_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class WeeklyDeps:
    session_factory: sessionmaker[Session]
    installation_client: Callable[[int], Any]
    public_url: str
    github_url: str = "https://github.com"
    read_text_file: Callable[..., str | None] = github.read_text_file
    create_issue: Callable[..., Any] = github.create_issue
    list_own_issues: Callable[..., list] = github.list_own_issues
    installation_repositories: Callable[..., list[str]] = github.installation_repositories
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def default_deps(settings: Any, session_factory: sessionmaker[Session]) -> WeeklyDeps:
    app = github.app_from_settings(settings)
    return WeeklyDeps(
        session_factory=session_factory,
        installation_client=partial(github.installation_client, app=app),
        public_url=settings.public_url,
        github_url=settings.github_url,
    )


def issue_title(week: str) -> str:
    return f"Technical debt summary, week {week}"


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt to post a summary.

    ``status``: ``not-configured``, ``disabled``, ``config-error`` (``problem`` says what),
    ``already-posted`` (``issue_url`` is where), ``being-posted`` (by another process),
    ``found`` (an unfinished claim whose issue was on GitHub) or ``posted``.
    """

    status: str
    issue_url: str | None = None
    problem: str | None = None
    body: str | None = None  # the summary as posted


def read_summary_config(deps: WeeklyDeps, client: Any, account: str) -> SummaryConfig | None:
    """The account's ``[summary]`` settings; None without a file or table. Raises
    SummaryConfigError for a broken file and GithubException when GitHub fails."""
    try:
        text = deps.read_text_file(client, f"{account}/{CONFIG_REPOSITORY}", CONFIG_PATH)
    except UnicodeDecodeError:
        raise SummaryConfigError(f"{CONFIG_PATH} is not UTF-8 text") from None
    return None if text is None else parse_summary_config(text)


def config_problem(deps: WeeklyDeps, account: str, reason: str) -> Outcome:
    """Record why the account gets no summary; logged once per distinct problem, not per try."""
    return record_problem(deps, account, f"{account}/{CONFIG_REPOSITORY}/{CONFIG_PATH}: {reason}")


def record_problem(deps: WeeklyDeps, account: str, message: str) -> Outcome:
    with deps.session_factory() as session:
        news = store.record_summary_problem(session, account, message, deps.now())
    log.log(logging.ERROR if news else logging.DEBUG, "no summary: %s", message)
    return Outcome("config-error", problem=message)


def post_weekly_summary(
    deps: WeeklyDeps,
    installation_id: int,
    account: str,
    week: str,
    config: SummaryConfig | None = None,
) -> Outcome:
    """Post the account's summary for ``week`` unless it is posted already.

    ``config`` is the account's settings when the caller has just read them; otherwise they
    are read from GitHub. What may wait on GitHub (a rate limit) is done before the claim, or
    renews it, so that no claim runs out while its holder still means to post.
    """
    summary.parse_week(week)
    client = deps.installation_client(installation_id)
    if config is None:
        try:
            config = read_summary_config(deps, client, account)
        except SummaryConfigError as error:
            return config_problem(deps, account, str(error))
    if config is None:
        return Outcome("not-configured")
    if not config.enabled:
        return Outcome("disabled")
    with deps.session_factory() as session:
        post = store.summary_post(session, account, week)
    if post is not None and post.status == "posted":
        return Outcome("already-posted", post.issue_url)
    full_name = f"{account}/{config.repository}"
    # The store may have missed a repository leaving the installation; GitHub has not.
    visible = deps.installation_repositories(client)
    if full_name.lower() not in {name.lower() for name in visible}:
        return config_problem(deps, account, _cannot_post(full_name, account))
    with deps.session_factory() as session:
        body, problem = compose(
            session, account, week, deps.public_url, deps.github_url, visible, config
        )
        claim = store.claim_summary(session, account, week, full_name, deps.now(), CLAIM_LEASE)
        if claim is None:
            post = store.summary_post(session, account, week)
            if post is not None and post.status == "posted":
                return Outcome("already-posted", post.issue_url)
            return Outcome("being-posted")
    try:
        if claim.resumed:
            found = _posted_before(deps, client, claim)
            if found is not None:
                return found
        with deps.session_factory() as session:
            renewed = store.renew_summary(session, claim, deps.now())
        if renewed is None:
            return Outcome("being-posted")  # taken over while we looked
        claim = renewed
        issue = deps.create_issue(client, claim.repository, issue_title(week), body)
    except RateLimitExceededException:
        raise  # nothing was done; the claim stays, and after its lease a retry looks first
    except GithubException as error:
        if error.status not in (403, 404, 410):
            raise  # the claim stays; after its lease a retry looks on GitHub first
        # Nothing was created: no such repository, issues turned off, or no permission to open
        # issues. The claim is given back so that a corrected setting works.
        with deps.session_factory() as session:
            store.release_summary(session, claim)
        return config_problem(deps, account, _cannot_post(claim.repository, account))
    with deps.session_factory() as session:
        if not store.finish_summary(session, claim, issue.number, issue.html_url):
            # The claim ran out while GitHub was slow; whoever holds it now looks on GitHub
            # before posting, and finds this issue.
            log.warning("%s: summary for %s posted after its claim ran out", account, week)
        if problem is not None:
            store.clear_summary_problem(session, account, problem.last_seen_at)
    log.info("%s: summary for %s posted as %s", account, week, issue.html_url)
    return Outcome("posted", issue.html_url, body=body)


def _posted_before(deps: WeeklyDeps, client: Any, claim: store.SummaryClaim) -> Outcome | None:
    """An unfinished claim's summary, if its first holder posted it before dying."""
    marker = summary.summary_marker(claim.account, claim.week)
    for issue in deps.list_own_issues(client, claim.repository):
        if marker in issue.body:
            with deps.session_factory() as session:
                store.finish_summary(session, claim, issue.number, issue.html_url)
            return Outcome("found", issue.html_url)
    return None


def _cannot_post(full_name: str, account: str) -> str:
    return (
        f"cannot open an issue in {full_name}: is it a repository of {account}, with issues "
        "turned on, that debtbot is installed on and may open issues in?"
    )


def compose(
    session: Session,
    account: str,
    week: str,
    public_url: str,
    github_url: str,
    visible: Collection[str] | None = None,
    config: SummaryConfig | None = None,
) -> tuple[str, store.SummaryProblemInfo | None]:
    """The summary's Markdown, and the account's unreported problem.

    ``visible``: the repositories the installation sees, when GitHub was asked. ``config``:
    the account's settings, which tell whether the problem kept a summary from being posted;
    only then does the summary open with a warning.
    """
    figures = summary.weekly_figures(session, account, week, visible)
    problem = store.summary_problem(session, account)
    missed = None if problem is None or config is None else _missed(config, problem)
    warnings = () if problem is None or missed is None else (_problem_warning(problem, missed),)
    return summary.render_summary(figures, public_url, github_url, warnings), problem


def _missed(config: SummaryConfig, problem: store.SummaryProblemInfo) -> datetime | None:
    """The first moment a summary was due while the problem lasted, if there was one."""
    moment = problem.first_seen_at - timedelta(days=14)
    while moment <= problem.last_seen_at:
        due = due_at(config, summary.week_name(*summary.week_of(moment)))
        if problem.first_seen_at <= due <= problem.last_seen_at:
            return due
        moment += timedelta(days=7)
    return None


def _problem_warning(problem: store.SummaryProblemInfo, missed: datetime) -> str:
    first, last = (
        f"{moment:%-d %B %Y %H:%M} UTC" for moment in (problem.first_seen_at, problem.last_seen_at)
    )
    when = f"On {first}" if first == last else f"From {first} to {last}"
    # In a code span, so that nothing the file holds (an @team, a link) acts in the issue.
    reason = problem.message.replace("`", "'")
    return (
        f"{when}, debtbot could not use this account's summary settings, so the summary due "
        f"{missed:%-d %B %Y %H:%M} UTC was not posted: `{reason}`"
    )
