"""What can go wrong when talking to GitHub, in our own terms.

The client translates PyGithub's and requests' exceptions into these at its boundary, so the rest
of the App never imports PyGithub to tell a missing repository from a rate limit.
"""

from __future__ import annotations

from datetime import datetime


class GitHubError(Exception):
    """GitHub refused or failed a call. ``status`` is its HTTP status; None when no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError):
    """404 or 410: no such thing, or nothing the installation may see."""


class Forbidden(GitHubError):
    """403 other than a rate limit: the App lacks a permission, or the feature is off."""


class Unprocessable(GitHubError):
    """422: GitHub understood the request and would not do it (a comment off the diff, say)."""


class RateLimited(GitHubError):
    """The rate limit ran out and waiting for its reset would take too long. Nothing was done.
    ``retry_at``: when GitHub said the limit resets, if it said."""

    def __init__(
        self, message: str, status: int | None = None, retry_at: datetime | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_at = retry_at


class Unavailable(GitHubError):
    """A 5xx, or no answer at all. A POST may still have been acted on: look before resending."""


class OutOfTime(GitHubError):
    """The job's time for GitHub ran out, or a wait GitHub asked for would outlast it: nothing
    more is asked, and the job is tried again later (see bot.github.deadline)."""


class IncompleteAnswer(GitHubError):
    """GitHub said it did the work, but its answer lacks what the call returns."""
