"""What the App's jobs work with, built once per process and handed to every handler.

Features (review, commands, summaries) take one :class:`Services` rather than a bag of
functions: GitHub is reached through :class:`bot.github.client.GitHubApp`, the store through
``sessions``, git through :class:`bot.github.mirror.Mirrors`. Tests build the same object
pointed at the simulated GitHub, a throwaway database and local git remotes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.github.client import GitHubApp
from bot.github.mirror import Mirrors
from bot.settings import Settings
from rules.engine import factcache


def _now() -> datetime:
    return datetime.now(UTC)


def in_this_process(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run an analysis in the calling thread (Celery's worker processes, tests)."""
    return work(*args, **kwargs)


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    github: GitHubApp
    mirrors: Mirrors
    clock: Callable[[], datetime] = _now
    # Hands a delivery recorded by a job (a re-run asked for) to the workers; the in-process
    # worker finds it in the store without being told.
    enqueue: Callable[[int], None] = lambda delivery_id: None
    # Runs an analysis (``run_analysis(analyse_at, mirror, sha, ...)``): in the calling thread,
    # or in the App's analysis processes (bot.analysis.AnalysisProcesses.run).
    run_analysis: Callable[..., Any] = in_this_process

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker[Session]) -> Services:
        return cls(
            settings=settings,
            sessions=sessions,
            github=GitHubApp.from_settings(settings),
            mirrors=Mirrors(Path(settings.data_dir), settings.github_url),
        )

    @property
    def facts_cache(self) -> Path:
        """Where the facts of other files are kept between reviews (see rules.engine.factcache)."""
        return self.mirrors.data_dir / factcache.FILE_NAME
