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
``bot.schedule``'s business.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from github import GithubException
from sqlalchemy.orm import Session, sessionmaker

from bot import github, store, summary

log = logging.getLogger(__name__)

CONFIG_REPOSITORY = ".github"
CONFIG_PATH = "debtbot.toml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Longer than posting one issue takes, retries included; a claim older than this was abandoned.
CLAIM_LEASE = timedelta(minutes=10)
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
    message = f"{account}/{CONFIG_REPOSITORY}/{CONFIG_PATH}: {reason}"
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
    are read from GitHub.
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
    full_name = f"{account}/{config.repository}"
    with deps.session_factory() as session:
        claim = store.claim_summary(session, account, week, full_name, deps.now(), CLAIM_LEASE)
        if claim is None:
            post = store.summary_post(session, account, week)
            if post is not None and post.status == "posted":
                return Outcome("already-posted", post.issue_url)
            return Outcome("being-posted")
    marker = summary.summary_marker(account, week)
    if claim.resumed:
        # The claim's first owner may have posted and died before recording it.
        for issue in deps.list_own_issues(client, claim.repository):
            if marker in issue.body:
                with deps.session_factory() as session:
                    store.finish_summary(session, claim, issue.number, issue.html_url)
                return Outcome("found", issue.html_url)
    # The store may have missed a repository leaving the installation; GitHub has not.
    visible = deps.installation_repositories(client)
    with deps.session_factory() as session:
        body, problem = compose(session, account, week, deps.public_url, deps.github_url, visible)
    try:
        issue = deps.create_issue(client, claim.repository, issue_title(week), body)
    except GithubException as error:
        if error.status not in (404, 410):
            raise  # the claim stays; after its lease a retry looks on GitHub first
        # Nothing was created: no such repository, one the App was not given, or one with
        # issues turned off. The claim is given back so that a corrected file works.
        with deps.session_factory() as session:
            store.release_summary(session, claim)
        return config_problem(
            deps,
            account,
            f"cannot open an issue in {claim.repository}: is it a repository of {account}, "
            "with issues turned on, that debtbot is installed on?",
        )
    with deps.session_factory() as session:
        store.finish_summary(session, claim, issue.number, issue.html_url)
        if problem is not None:
            store.clear_summary_problem(session, account, problem.last_seen_at)
    log.info("%s: summary for %s posted as %s", account, week, issue.html_url)
    return Outcome("posted", issue.html_url, body=body)


def compose(
    session: Session,
    account: str,
    week: str,
    public_url: str,
    github_url: str,
    visible: Collection[str] | None = None,
) -> tuple[str, store.SummaryProblemInfo | None]:
    """The summary's Markdown, warning of the account's unreported problem, and that problem.

    ``visible``: the repositories the installation sees, when GitHub was asked."""
    figures = summary.weekly_figures(session, account, week, visible)
    problem = store.summary_problem(session, account)
    warnings = () if problem is None else (_problem_warning(problem),)
    return summary.render_summary(figures, public_url, github_url, warnings), problem


def _problem_warning(problem: store.SummaryProblemInfo) -> str:
    first, last = (
        f"{moment:%-d %B %Y %H:%M} UTC" for moment in (problem.first_seen_at, problem.last_seen_at)
    )
    when = f"On {first}" if first == last else f"From {first} to {last}"
    return (
        f"{when}, debtbot could not use this account's summary settings, so a summary due in "
        f"that time was not posted: {problem.message}"
    )
