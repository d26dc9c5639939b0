"""The fields of each handled webhook that the App reads, typed: a payload is checked against its
event's model when it arrives, so one that does not fit is refused with a 400 saying which field
is wrong, and never becomes a job that fails on the worker.

Only what the handlers read is declared; GitHub's other fields pass unchecked (GitHub adds
fields over time). Strict: a string where a number belongs is refused, not converted.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["ValidationError", "problem"]

_MODEL = ConfigDict(extra="ignore", strict=True, frozen=True)
# GitHub's names: logins up to 39 characters, repositories up to 100; generous bounds that
# keep a hostile payload from storing megabytes under a name.
_NAME = Field(min_length=1, max_length=256)
_SHA = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_ID = Field(ge=1, le=2**63 - 1)


class Account(BaseModel):
    model_config = _MODEL
    login: str = _NAME
    type: str | None = Field(default=None, max_length=64)


class InstallationRef(BaseModel):
    model_config = _MODEL
    id: int = _ID


class Installation(BaseModel):
    model_config = _MODEL
    id: int = _ID
    account: Account


class RepositoryName(BaseModel):
    model_config = _MODEL
    full_name: str = Field(min_length=3, max_length=256, pattern=r"^[^/\s]+/[^/\s]+$")
    default_branch: str | None = Field(default=None, max_length=256)


class Repository(RepositoryName):
    name: str = _NAME
    owner: Account


class Branch(BaseModel):
    model_config = _MODEL
    ref: str = Field(min_length=1, max_length=256)
    sha: str = _SHA


class Head(BaseModel):
    model_config = _MODEL
    sha: str = _SHA


class PullRequest(BaseModel):
    model_config = _MODEL
    number: int = _ID
    head: Head
    base: Branch


class PullRequestEvent(BaseModel):
    model_config = _MODEL
    installation: InstallationRef
    repository: Repository
    pull_request: PullRequest


class Issue(BaseModel):
    model_config = _MODEL
    number: int = _ID


class Comment(BaseModel):
    model_config = _MODEL
    id: int = _ID
    body: str | None = Field(default=None, max_length=262_144)  # GitHub's own limit is 65,536
    user: Account


class IssueCommentEvent(BaseModel):
    model_config = _MODEL
    installation: InstallationRef
    repository: RepositoryName
    issue: Issue
    comment: Comment


class CheckRun(BaseModel):
    model_config = _MODEL
    id: int = _ID
    head_sha: str = _SHA


class CheckRunEvent(BaseModel):
    model_config = _MODEL
    installation: InstallationRef
    repository: Repository
    check_run: CheckRun


class CheckSuiteEvent(BaseModel):
    model_config = _MODEL
    installation: InstallationRef
    repository: Repository
    check_suite: CheckRun


class RepositoryEntry(BaseModel):
    model_config = _MODEL
    id: int = _ID
    full_name: str = Field(min_length=3, max_length=256)


class InstallationEvent(BaseModel):
    model_config = _MODEL
    installation: Installation
    repositories: list[RepositoryEntry] | None = None


class InstallationRepositoriesEvent(BaseModel):
    model_config = _MODEL
    installation: Installation
    repositories_added: list[RepositoryEntry]
    repositories_removed: list[RepositoryEntry]


class PushRepository(Repository):
    id: int = _ID


class PushEvent(BaseModel):
    model_config = _MODEL
    installation: InstallationRef
    repository: PushRepository
    ref: str = Field(min_length=1, max_length=1024)
    deleted: bool = False


class LedgerStep(BaseModel):
    model_config = _MODEL
    installation: InstallationRef
    repository: RepositoryName


def problem(error: ValidationError) -> str:
    """What is wrong with a payload, in a few words (the first three things): ``installation:
    Field required; pull_request.number: Input should be a valid integer``. The offending
    values are not repeated: they may be huge."""
    said = []
    for found in error.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in found["loc"]) or "the payload"
        said.append(f"{where}: {found['msg']}")
    return "; ".join(said)[:500]
