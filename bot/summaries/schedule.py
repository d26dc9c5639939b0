"""When weekly summaries are due, and the thread that posts each account's due summary.

A summary of an ISO week (Monday to Monday, UTC) is due at the account's first chosen weekday
and hour, in its time zone, after the week has ended. Every few minutes the scheduler looks at
each installation: the newest week that is due and not yet posted is posted. After downtime
the missed summary is therefore posted at the next look; a summary missed for longer than a week
is left out (the next one's eight-week trend still shows that week).

Every replica runs a scheduler and they need no coordination: ``weekly.post_weekly_summary``
claims each account's week in the store, so one of them posts and the others find it claimed.
Reading each account's ``debtbot.toml`` costs a request, so what was read is kept for
``CONFIG_TTL``, and an account whose newest week is posted costs no request at all.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import store
from bot.github.errors import GitHubError
from bot.metrics import SUMMARIES
from bot.services import Services
from bot.summaries import figures as summary
from bot.summaries import post as weekly

log = logging.getLogger(__name__)

# How long a debtbot.toml that was read (or found missing, or broken) is believed.
CONFIG_TTL = timedelta(hours=1)


def due_week(config: weekly.SummaryConfig, now: datetime) -> str:
    """The newest week whose summary is due at ``now``."""
    week = summary.week_name(*summary.last_complete_week(now))
    if weekly.due_at(config, week) <= now:
        return week
    # Not due yet: the week before it was due less than a week ago.
    return summary.week_name(*summary.week_of(now - timedelta(days=14)))


# Account (lower case) -> when its settings were read, the settings, and what was wrong with them.
ConfigCache = dict[str, tuple[datetime, weekly.SummaryConfig | None, str | None]]


def run_due_summaries(
    services: Services, cache: ConfigCache | None = None
) -> dict[str, weekly.Outcome]:
    """Post every installation's due summary; what became of each account that had one due.

    One account failing (GitHub down, a broken file) does not stop the others.
    """
    cache = {} if cache is None else cache
    now = services.clock()
    newest = summary.week_name(*summary.last_complete_week(now))
    outcomes: dict[str, weekly.Outcome] = {}
    with services.sessions() as session:
        installations = store.active_installations(session)
    for installation in installations:
        account = installation.account
        with services.sessions() as session:
            if _posted(session, account, newest):
                continue
        try:
            outcome = _run_one(services, cache, installation, now)
        except GitHubError as error:
            log.warning("%s: summary not posted this time: %s", account, error)
            outcome = weekly.Outcome("github-error")
        except Exception:
            log.exception("%s: summary not posted this time", account)
            outcome = weekly.Outcome("error")
        if outcome is not None:
            SUMMARIES.labels(outcome.status).inc()
            outcomes[account] = outcome
    return outcomes


def _run_one(
    services: Services,
    cache: ConfigCache,
    installation: store.InstallationInfo,
    now: datetime,
) -> weekly.Outcome | None:
    account = installation.account
    key = account.lower()
    cached = cache.get(key)
    if cached is None or now - cached[0] >= CONFIG_TTL:
        client = services.github.installation(installation.id)
        try:
            config = weekly.read_summary_config(client, account)
        except weekly.SummaryConfigError as error:
            outcome = weekly.config_problem(services, account, str(error))
            cache[key] = (now, None, outcome.problem)
            return outcome
        cached = cache[key] = (now, config, None)
    _, config, problem = cached
    if problem is not None:
        return weekly.record_problem(services, account, problem)
    if config is None or not config.enabled:
        return None
    week = due_week(config, now)
    if summary.week_start(*summary.parse_week(week)) + timedelta(days=7) <= installation.created_at:
        return None  # the week ended before debtbot was installed: there is nothing to tell
    with services.sessions() as session:
        if _posted(session, account, week):
            return None
    outcome = weekly.post_weekly_summary(services, installation.id, account, week, config)
    if outcome.status == "config-error":
        # A repository it cannot post in: not asked again until the settings are read again.
        cache[key] = (now, None, outcome.problem)
    return outcome


def _posted(session, account: str, week: str) -> bool:
    post = store.summary_post(session, account, week)
    return post is not None and post.status == "posted"


@dataclass(frozen=True)
class Scheduler:
    """A running scheduler thread; ``stop()`` it at exit."""

    thread: threading.Thread
    stopping: threading.Event = field(repr=False)

    def stop(self, timeout: float = 10.0) -> bool:
        self.stopping.set()
        self.thread.join(timeout)
        return not self.thread.is_alive()


def start_scheduler(services: Services, interval_seconds: float) -> Scheduler:
    """Look for due summaries now (catching up after downtime), then every interval."""
    stopping = threading.Event()
    cache: ConfigCache = {}

    def loop() -> None:
        while not stopping.is_set():
            try:
                run_due_summaries(services, cache)
            except Exception:
                # The store itself failed (database down): look again at the next interval.
                log.exception("the summary scheduler could not reach the store")
            stopping.wait(interval_seconds)

    thread = threading.Thread(target=loop, name="debtbot-summaries", daemon=True)
    thread.start()
    return Scheduler(thread, stopping)
