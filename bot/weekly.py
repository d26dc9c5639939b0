"""Posting an account's weekly summary as an issue, when the account asked for it.

The account asks in ``debtbot.toml`` of its ``.github`` repository::

    [summary]
    repository = "analytics-platform"
    weekday = "monday"
    hour = 9
    timezone = "Europe/Amsterdam"
    enabled = true

No file (or no ``[summary]`` table): nothing is posted anywhere. A broken file is logged once,
with what is wrong, and nothing is posted. Each summary is claimed in the store before it is
posted, so one account gets at most one issue a week however many processes try; a claim left
unfinished is taken over after a lease, and the new owner looks on GitHub before posting again.

When to post (weekday, hour, timezone) is read and validated here; acting on it is the
scheduler's business.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def issue_title(week: str) -> str:
    return f"Technical debt summary, week {week}"


def post_weekly_summary(deps: WeeklyDeps, installation_id: int, account: str, week: str) -> str:
    """Post the account's summary for ``week`` unless it is posted already; say what happened.

    ``not-configured``, ``config-error``, ``disabled``, ``already-claimed`` (posted, or being
    posted by another process), ``found`` (an unfinished claim whose issue was on GitHub) or
    ``posted``.
    """
    summary.parse_week(week)
    client = deps.installation_client(installation_id)
    try:
        text = deps.read_text_file(client, f"{account}/{CONFIG_REPOSITORY}", CONFIG_PATH)
        config = None if text is None else parse_summary_config(text)
    except (SummaryConfigError, UnicodeDecodeError) as error:
        reason = error if isinstance(error, SummaryConfigError) else "it is not UTF-8 text"
        log.error("%s/%s/%s: no summary: %s", account, CONFIG_REPOSITORY, CONFIG_PATH, reason)
        return "config-error"
    if config is None:
        return "not-configured"
    if not config.enabled:
        return "disabled"
    full_name = f"{account}/{config.repository}"
    with deps.session_factory() as session:
        claim = store.claim_summary(session, account, week, full_name, deps.now(), CLAIM_LEASE)
    if claim is None:
        return "already-claimed"
    marker = summary.summary_marker(account, week)
    if claim.resumed:
        # The claim's first owner may have posted and died before recording it.
        for issue in deps.list_own_issues(client, claim.repository):
            if marker in issue.body:
                with deps.session_factory() as session:
                    store.finish_summary(session, claim, issue.number, issue.html_url)
                return "found"
    with deps.session_factory() as session:
        figures = summary.weekly_figures(session, account, week)
    body = summary.render_summary(figures, deps.public_url, deps.github_url)
    try:
        issue = deps.create_issue(client, claim.repository, issue_title(week), body)
    except GithubException as error:
        if error.status not in (404, 410):
            raise  # the claim stays; after its lease a retry looks on GitHub first
        # Nothing was created: no such repository, one the App was not given, or one with
        # issues turned off. The claim is given back so that a corrected file works.
        with deps.session_factory() as session:
            store.release_summary(session, claim)
        log.error(
            "%s/%s/%s: no summary: cannot open an issue in %s (is it a repository of %s, "
            "with issues on, that debtbot is installed on?)",
            account,
            CONFIG_REPOSITORY,
            CONFIG_PATH,
            claim.repository,
            account,
        )
        return "config-error"
    with deps.session_factory() as session:
        store.finish_summary(session, claim, issue.number, issue.html_url)
    log.info("%s: summary for %s posted as %s", account, week, issue.html_url)
    return "posted"
