"""Plain data passed between the App's modules. No I/O here.

The way of one pull request: webhook -> delivery (store) -> worker -> review pipeline:
git mirror (changed lines, files at head) -> engine -> plan (comments.py) -> GitHub (github.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PullRequestRef:
    """Which pull request, at which head, as a webhook announced it."""

    installation_id: int
    owner: str
    repo: str
    number: int
    head_sha: str
    base_ref: str  # branch name the pull request targets
    base_sha: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


@dataclass(frozen=True)
class PullInfo:
    """The pull request as GitHub reports it now (to drop stale jobs)."""

    number: int
    head_sha: str
    base_ref: str
    base_sha: str
    state: str  # "open" or "closed"
    draft: bool
    author_login: str
    author_is_bot: bool


@dataclass(frozen=True)
class InlineComment:
    """One review comment to post: RIGHT side, ``start_line`` only for multi-line ranges."""

    path: str
    line: int
    body: str
    fingerprint: str
    start_line: int | None = None


@dataclass(frozen=True)
class PostedComment:
    """A review comment that exists on GitHub (ours), as listed by the API."""

    id: int
    node_id: str
    path: str
    line: int | None
    body: str
    in_reply_to_id: int | None = None


@dataclass(frozen=True)
class ReviewResult:
    review_id: int
    posted: tuple[InlineComment, ...]  # went in as inline comments
    refused: tuple[InlineComment, ...]  # GitHub would not take them inline: now in the body


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str  # "notice", "warning" or "failure"
    title: str
    message: str


@dataclass(frozen=True)
class CheckRunOutput:
    title: str
    summary: str
    conclusion: str  # "neutral", "success" or "failure"
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class IssueCommentInfo:
    """A comment in a pull request's conversation (an issue comment), as GitHub lists it."""

    id: int
    body: str
    author_login: str
    author_is_bot: bool
    html_url: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class IssueInfo:
    """An issue of a repository, as GitHub lists it."""

    number: int
    title: str
    body: str
    html_url: str = ""


class PayloadError(ValueError):
    """A webhook payload lacks something its handler needs; retrying will not help."""
