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
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from bot import store
from bot.github.client import InstallationClient
from bot.github.errors import Forbidden, NotFound
from bot.services import Services
from bot.summaries import figures as summary

log = logging.getLogger(__name__)

CONFIG_REPOSITORY = ".github"
CONFIG_PATH = "debtbot.toml"
# Longer than creating one issue can take, rate-limit waits and retries included (bot.github.client
# waits up to 15 minutes for a reset, a few times); a claim older than this was abandoned.
CLAIM_LEASE = timedelta(hours=2)
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)


class SummaryConfigError(ValueError):
    pass


class SummaryConfig(BaseModel):
    """The ``[summary]`` table of an account's ``debtbot.toml``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    repository: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")  # a repository of the account
    weekday: Weekday = "monday"
    hour: int = Field(default=9, ge=0, le=23)
    timezone: str = "UTC"
    enabled: bool = True

    @field_validator("weekday", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not _known_timezone(value):
            raise ValueError("unknown time zone")
        return value


# What to say about a bad value, per setting: the person reading it fixes a file, not a schema.
_PROBLEMS = {
    "repository": 'must be the name of one of your repositories, like "analytics-platform"',
    "weekday": 'must be a day like "monday"',
    "hour": "must be a whole hour from 0 to 23",
    "timezone": 'must be a time zone like "Europe/Amsterdam"',
    "enabled": "must be true or false",
}


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
    try:
        return SummaryConfig.model_validate(table)
    except ValidationError as invalid:
        raise SummaryConfigError(_problem(invalid.errors()[0])) from None


def _problem(error: dict) -> str:
    setting = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        known = ", ".join(sorted(SummaryConfig.model_fields))
        return f"[summary] has no setting {setting!r}; it takes {known}"
    if error["type"] == "missing":
        return f"[summary] needs {setting}, the repository to post in"
    return f"[summary] {setting} {_PROBLEMS[setting]}, not {error['input']!r}"


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


def read_summary_config(client: InstallationClient, account: str) -> SummaryConfig | None:
    """The account's ``[summary]`` settings; None without a file or table. Raises
    SummaryConfigError for a broken file and GitHubError when GitHub fails."""
    try:
        text = client.read_text_file(f"{account}/{CONFIG_REPOSITORY}", CONFIG_PATH)
    except UnicodeDecodeError:
        raise SummaryConfigError(f"{CONFIG_PATH} is not UTF-8 text") from None
    return None if text is None else parse_summary_config(text)


def config_problem(services: Services, account: str, reason: str) -> Outcome:
    """Record why the account gets no summary; logged once per distinct problem, not per try."""
    return record_problem(
        services, account, f"{account}/{CONFIG_REPOSITORY}/{CONFIG_PATH}: {reason}"
    )


def record_problem(services: Services, account: str, message: str) -> Outcome:
    with services.sessions() as session:
        news = store.record_summary_problem(session, account, message, services.clock())
    log.log(logging.ERROR if news else logging.DEBUG, "no summary: %s", message)
    return Outcome("config-error", problem=message)


def post_weekly_summary(
    services: Services,
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
    client = services.github.installation(installation_id)
    if config is None:
        try:
            config = read_summary_config(client, account)
        except SummaryConfigError as error:
            return config_problem(services, account, str(error))
    if config is None:
        return Outcome("not-configured")
    if not config.enabled:
        return Outcome("disabled")
    with services.sessions() as session:
        post = store.summary_post(session, account, week)
    if post is not None and post.status == "posted":
        return Outcome("already-posted", post.issue_url)
    full_name = f"{account}/{config.repository}"
    # The store may have missed a repository leaving the installation; GitHub has not.
    visible = client.installation_repositories()
    if full_name.lower() not in {name.lower() for name in visible}:
        return config_problem(services, account, _cannot_post(full_name, account))
    with services.sessions() as session:
        body, problem = compose(
            session,
            account,
            week,
            services.settings.public_url,
            services.settings.github_url,
            visible,
            config,
        )
        claim = store.claim_summary(
            session, account, week, full_name, services.clock(), CLAIM_LEASE
        )
        if claim is None:
            post = store.summary_post(session, account, week)
            if post is not None and post.status == "posted":
                return Outcome("already-posted", post.issue_url)
            return Outcome("being-posted")
    try:
        if claim.resumed:
            found = _posted_before(services, client, claim)
            if found is not None:
                return found
        with services.sessions() as session:
            renewed = store.renew_summary(session, claim, services.clock())
        if renewed is None:
            return Outcome("being-posted")  # taken over while we looked
        claim = renewed
        issue = client.create_issue(claim.repository, issue_title(week), body)
    except (NotFound, Forbidden):
        # A rate limit or a 5xx goes up: the claim stays, and after its lease a retry looks
        # on GitHub before posting again.
        # Nothing was created: no such repository, issues turned off, or no permission to open
        # issues. The claim is given back so that a corrected setting works.
        with services.sessions() as session:
            store.release_summary(session, claim)
        return config_problem(services, account, _cannot_post(claim.repository, account))
    with services.sessions() as session:
        if not store.finish_summary(session, claim, issue.number, issue.html_url):
            # The claim ran out while GitHub was slow; whoever holds it now looks on GitHub
            # before posting, and finds this issue.
            log.warning("%s: summary for %s posted after its claim ran out", account, week)
        if problem is not None:
            store.clear_summary_problem(session, account, problem.last_seen_at)
    log.info("%s: summary for %s posted as %s", account, week, issue.html_url)
    return Outcome("posted", issue.html_url, body=body)


def _posted_before(
    services: Services, client: InstallationClient, claim: store.SummaryClaim
) -> Outcome | None:
    """An unfinished claim's summary, if its first holder posted it before dying."""
    marker = summary.summary_marker(claim.account, claim.week)
    for issue in client.list_own_issues(claim.repository):
        if marker in issue.body:
            with services.sessions() as session:
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
