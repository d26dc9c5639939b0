"""The App's GitHub client: :class:`GitHubApp` (the App, its tokens and login) and
:class:`InstallationClient` (every call the App makes as one installation).

PyGithub does the HTTP work. Its ``GithubRetry`` backs off on 5xx and waits out rate limits as
GitHub asks (``Retry-After``, or ``X-RateLimit-Reset`` when nothing remains), and its write
throttle keeps a pause between mutating calls. This module adds what PyGithub does not: one
installation token per installation shared by the API client and git, the fallback when GitHub
refuses some inline comments of a review, check-run annotations sent 50 at a time, and errors
in our own terms (:mod:`bot.github.errors`): nothing outside this module sees PyGithub.
"""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from github import (
    Auth,
    Github,
    GithubException,
    GithubIntegration,
    GithubRetry,
    RateLimitExceededException,
)
from github.Commit import Commit
from github.GithubObject import GithubObject
from github.IssueComment import IssueComment
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest
from github.PullRequestComment import PullRequestComment
from github.PullRequestReview import PullRequestReview
from github.Repository import Repository
from urllib3.util.retry import Retry

from bot import metrics
from bot.domain import (
    Annotation,
    CheckRunOutput,
    InlineComment,
    IssueCommentInfo,
    IssueInfo,
    PostedComment,
    PullInfo,
    ReviewResult,
)
from bot.github import deadline
from bot.github.errors import (
    Forbidden,
    GitHubError,
    NotFound,
    RateLimited,
    Unavailable,
    Unprocessable,
)
from bot.github.pacing import RedisPacing, stop_until_from

if TYPE_CHECKING:
    from bot.settings import Settings

CHECK_RUN_NAME = "debtbot"
ANNOTATIONS_PER_REQUEST = 50  # GitHub refuses more in one create or update of a check run
TOKEN_RENEWAL_MARGIN = timedelta(minutes=5)  # a git fetch started on an older token may outlive it
TEXT_LIMIT = 65_535  # longest review body or check-run summary GitHub accepts
# How long a collaborator's permission is trusted: long enough to spare GitHub a call per
# command, short enough that someone whose access was removed is refused soon after.
PERMISSION_TTL = 300.0
_clock = time.monotonic  # what the permission cache measures its time with
USER_AGENT = "debtbot"
DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class GitHubApp:
    """How to reach GitHub as the App. The retry and pause knobs exist so tests can be fast."""

    app_id: int
    private_key: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    max_retries: int = 5
    backoff_factor: float = 1.0
    secondary_rate_wait: float = 60.0
    # Waiting longer than this for a rate limit holds the worker hostage; failing lets the job be
    # retried later instead.
    max_rate_limit_wait: float = 900.0
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    timeout: int = 30
    # Several workers: the pause between writes and rate-limit waits, kept together in Redis.
    pacing: RedisPacing | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHubApp:
        pacing = None
        if settings.redis_url:
            pacing = RedisPacing(settings.redis_url, cls.seconds_between_writes)
        return cls(
            app_id=int(settings.github_app_id),
            private_key=settings.private_key_text(),
            api_url=settings.github_api_url.rstrip("/"),
            pacing=pacing,
        )

    def installation(self, installation_id: int) -> InstallationClient:
        """The client of one installation, reused so its pause between writes holds across jobs."""
        return _client(self, installation_id)

    def token(self, installation_id: int) -> str:
        """An installation access token, reused until five minutes before it expires."""
        key = (self, installation_id)
        with _tokens_lock, _translated():
            cached = _tokens.get(key)
            if cached is not None and datetime.now(UTC) < cached[1] - TOKEN_RENEWAL_MARGIN:
                return cached[0]
            authorization = _integration(self).get_access_token(installation_id)
            _tokens[key] = (authorization.token, authorization.expires_at)
            return authorization.token

    def bot_login(self) -> str:
        """The login the App's comments carry, e.g. ``debtbot[bot]``."""
        with _translated():
            return _bot_login(self)


@dataclass(frozen=True)
class InstallationClient:
    """A PyGithub client acting as one installation of the App."""

    installation_id: int
    api: Github = field(repr=False, compare=False)
    app: GitHubApp
    # PyGithub's write pause is per client but not thread-safe; holding this around our writes
    # keeps the pause true when two jobs for one installation run at once.
    write_lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    # (repository, login) -> (permission, when GitHub said so), for PERMISSION_TTL seconds.
    _permissions: dict[tuple[str, str], tuple[str, float]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def get_pull(self, full_name: str, number: int) -> PullInfo:
        with _calling(self, "get_pull"):
            return _pull_info(_pull(self, full_name, number))

    def open_pulls_at(self, full_name: str, sha: str) -> list[PullInfo]:
        """The open pull requests whose head is the commit ``sha``. A check run's re-run names
        its pull requests only when they come from the same repository, never from a fork."""
        with _calling(self, "open_pulls_at"):
            pulls = self.api.get_repo(full_name).get_commit(sha).get_pulls()
            return [
                _pull_info(pull) for pull in pulls if pull.state == "open" and pull.head.sha == sha
            ]

    def merged_pull_of(self, full_name: str, sha: str) -> tuple[int, str] | None:
        """The merged pull request (number, title) that brought commit ``sha`` to its branch;
        None for a commit pushed directly."""
        with _calling(self, "merged_pull_of"):
            pulls = self.api.get_repo(full_name).get_commit(sha).get_pulls()
            for pull in pulls:
                if pull.merged_at is not None:
                    return pull.number, pull.title
        return None

    def default_branch(self, full_name: str) -> str:
        with _calling(self, "default_branch"):
            return self.api.get_repo(full_name).default_branch

    def list_review_comments(self, full_name: str, number: int) -> list[PostedComment]:
        """The App's own review comments on a pull request, every page of them."""
        login = self.app.bot_login()
        with _calling(self, "list_review_comments"):
            comments = _pull(self, full_name, number).get_review_comments()
            return [
                _posted(comment)
                for comment in comments
                if _as_listed(comment)["user"]["login"] == login
            ]

    def create_review(
        self,
        full_name: str,
        number: int,
        commit_sha: str,
        body: str,
        comments: Sequence[InlineComment],
    ) -> ReviewResult:
        """Post one COMMENT review on ``commit_sha``; comments GitHub refuses go into its body.

        GitHub answers 422 for the whole review when any one comment is not on a line of the diff,
        without saying which. Then the comments are tried in halves as PENDING reviews (invisible to
        others, deleted at once) until the refused ones are known, and one review is posted with the
        rest. If that still fails, the review goes out with every comment in its body.
        """
        comments = tuple(comments)
        pull = _pull(self, full_name, number)
        # Lazy: built from its URL at no cost; only its sha is sent, as the review's commit_id.
        commit = self.api.get_repo(full_name).get_commit(commit_sha)
        with self.write_lock, _calling(self, "create_review"):
            if not comments:
                review = _post_review(pull, commit, _fit(body), (), "COMMENT")
                return ReviewResult(review_id=review.id, posted=(), refused=())
            review = _try_review(pull, commit, _fit(body), comments, "COMMENT")
            if review is not None:
                return ReviewResult(review_id=review.id, posted=comments, refused=())
            if _delete_pending_reviews(pull):
                # A pending review left by a job that died mid-way blocks every new review.
                review = _try_review(pull, commit, _fit(body), comments, "COMMENT")
                if review is not None:
                    return ReviewResult(review_id=review.id, posted=comments, refused=())
            refused = _refused(pull, commit, comments)
            accepted = tuple(comment for comment in comments if comment not in refused)
            if accepted:
                review = _try_review(
                    pull, commit, _with_refused(body, refused), accepted, "COMMENT"
                )
                if review is not None:
                    return ReviewResult(review_id=review.id, posted=accepted, refused=refused)
            review = _post_review(pull, commit, _with_refused(body, comments), (), "COMMENT")
            return ReviewResult(review_id=review.id, posted=(), refused=comments)

    def reply_to_comment(
        self, full_name: str, number: int, comment_id: int, body: str
    ) -> PostedComment:
        """Answer in the thread of a review comment."""
        with self.write_lock, _calling(self, "reply_to_comment"):
            pull = _pull(self, full_name, number)
            try:
                reply = pull.create_review_comment_reply(comment_id, body)
            except GithubException as error:
                # A pending review of ours (left by a job that died) blocks replies as well.
                if error.status != 422 or not _delete_pending_reviews(pull):
                    raise
                reply = pull.create_review_comment_reply(comment_id, body)
            return _posted(reply)

    def resolve_thread(self, full_name: str, number: int, comment_node_id: str) -> bool:
        """Resolve the review thread our comment opened.

        True when the thread is resolved (now or already was); False when no thread of the pull
        request starts with that comment any more (someone deleted it), which leaves nothing to do.
        """
        owner, name = _split(full_name)
        with self.write_lock, _calling(self, "resolve_thread"):
            thread = _thread_opened_by(self, owner, name, number, comment_node_id)
            if thread is None:
                return False
            if not thread["isResolved"]:
                self.api.requester.graphql_query(_RESOLVE_MUTATION, {"threadId": thread["id"]})
            return True

    def create_check_run(self, full_name: str, head_sha: str, output: CheckRunOutput) -> int:
        """Create the completed ``debtbot`` check run with every annotation; returns its id.

        The first 50 annotations go with the creation, each further 50 with an update, and the
        conclusion with the last request so the run never looks finished before it is.
        """
        batches = _batches(output.annotations) or [()]
        repository = self.api.get_repo(full_name)
        with self.write_lock, _calling(self, "create_check_run"):
            check_run = repository.create_check_run(
                name=CHECK_RUN_NAME,
                head_sha=head_sha,
                output=_check_output(output, batches[0]),
                **_completion(output, finished=len(batches) == 1),
            )
            for position, batch in enumerate(batches[1:], start=2):
                check_run.edit(
                    output=_check_output(output, batch),
                    **_completion(output, finished=position == len(batches)),
                )
            return check_run.id

    def collaborator_permission(self, full_name: str, login: str) -> str:
        """``admin``, ``write``, ``read`` or ``none``: what ``login`` may do in the repository.

        GitHub answers 404 for a login it does not know; that person can do nothing here.
        The answer is trusted for PERMISSION_TTL seconds.
        """
        _split(full_name)
        key = (full_name.lower(), login.lower())
        cached = self._permissions.get(key)
        if cached is not None and _clock() - cached[1] < PERMISSION_TTL:
            return cached[0]
        with _calling(self, "collaborator_permission"):
            try:
                permission = self.api.get_repo(full_name).get_collaborator_permission(login)
            except GithubException as error:
                if error.status != 404:
                    raise
                permission = "none"
        self._permissions[key] = (permission, _clock())
        return permission

    def add_reaction(self, full_name: str, comment_id: int, content: str = "eyes") -> None:
        """React to an issue comment (GitHub keeps one reaction of a kind per author)."""
        with self.write_lock, _calling(self, "add_reaction"):
            _issue_comment(self, full_name, comment_id).create_reaction(content)

    def list_issue_comments(self, full_name: str, number: int) -> list[IssueCommentInfo]:
        """Every comment of a pull request's conversation, oldest first, every page of them."""
        _split(full_name)
        with _calling(self, "list_issue_comments"):
            comments = self.api.get_repo(full_name).get_issue(number).get_comments()
            return [_issue_comment_info(comment) for comment in comments]

    def create_issue_comment(self, full_name: str, number: int, body: str) -> IssueCommentInfo:
        """Post a comment in the pull request's conversation."""
        _split(full_name)
        with self.write_lock, _calling(self, "create_issue_comment"):
            comment = self.api.get_repo(full_name).get_issue(number).create_comment(_fit(body))
            return _issue_comment_info(comment)

    def update_issue_comment(self, full_name: str, comment_id: int, body: str) -> IssueCommentInfo:
        """Replace the body of a conversation comment."""
        with self.write_lock, _calling(self, "update_issue_comment"):
            comment = _issue_comment(self, full_name, comment_id)
            comment.edit(_fit(body))
            # Built from its URL, the comment's raw data is empty; edit() set its attributes from
            # GitHub's answer and marked it complete, so reading them costs no request.
            return IssueCommentInfo(
                id=comment.id,
                body=comment.body or "",
                author_login=comment.user.login,
                author_is_bot=comment.user.type == "Bot",
                html_url=comment.html_url or "",
                updated_at=comment.updated_at,
            )

    def read_text_file(self, full_name: str, path: str) -> str | None:
        """A file's text on the default branch; None when there is no such file, or no such
        repository the installation can see (GitHub answers 404 for both).

        Raises UnicodeDecodeError for a file that is not UTF-8: the caller says what it expected.
        """
        _split(full_name)
        with _calling(self, "read_text_file"):
            try:
                content = self.api.get_repo(full_name).get_contents(path)
            except GithubException as error:
                if error.status != 404:
                    raise
                return None
        if isinstance(content, list) or content.type != "file":
            return None  # a folder by that name is not the file we look for
        # The contents API sends the file base64-encoded (up to 1 MB, far above a settings file).
        return base64.b64decode(_as_listed(content)["content"]).decode("utf-8")

    def create_issue(self, full_name: str, title: str, body: str) -> IssueInfo:
        """Open an issue in the repository."""
        _split(full_name)
        with self.write_lock, _calling(self, "create_issue"):
            # Not cut to fit: a summary's lists are capped well below GitHub's limit.
            issue = self.api.get_repo(full_name).create_issue(title=title, body=body)
            return _issue_info(issue)

    def list_own_issues(self, full_name: str) -> list[IssueInfo]:
        """Issues the App opened in the repository, open or closed, newest first, every page."""
        _split(full_name)
        login = self.app.bot_login()
        with _calling(self, "list_own_issues"):
            issues = self.api.get_repo(full_name).get_issues(state="all", creator=login)
            return [_issue_info(issue) for issue in issues]

    def installation_repositories(
        self,
    ) -> list[str]:
        """Full names of every repository the installation can see now, every page."""
        with _calling(self, "installation_repositories"):
            listing = PaginatedList(
                Repository,
                self.api.requester,
                "/installation/repositories",
                {"per_page": 100},
                list_item="repositories",
            )
            return [_as_listed(repository)["full_name"] for repository in listing]


@functools.lru_cache(maxsize=1024)
def _client(app: GitHubApp, installation_id: int) -> InstallationClient:
    api = Github(
        auth=_InstallationToken(app, installation_id),
        base_url=app.api_url,
        timeout=app.timeout,
        user_agent=USER_AGENT,
        per_page=100,
        retry=_retry(app, installation_id),
        seconds_between_requests=app.seconds_between_requests,
        seconds_between_writes=app.seconds_between_writes,
        # Objects are built from their URL; only reading one of their fields costs a request.
        lazy=True,
    )
    return InstallationClient(installation_id=installation_id, api=api, app=app)


class _Retry(GithubRetry):
    """PyGithub's retry, except that a POST answered with 5xx, or not answered, is not sent again.

    GitHub can act on a POST and still answer 502 (a review created, then a timeout upstream).
    Sending it again would post twice; the job is retried instead, and the review pipeline
    first lists what is already on GitHub. Rate-limit answers (403, 429) mean nothing was done,
    so those are still waited out and retried.
    """

    def __init__(self, on_stop: Callable[[float], None] | None = None, **kwargs: Any) -> None:
        # Told when GitHub asks for a pause (epoch seconds): other workers then keep it too.
        self.on_stop = on_stop
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> _Retry:
        kw["on_stop"] = self.on_stop
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST" and status_code >= 500:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, **rest):
        # A POST whose answer never came (a read timeout, a dropped connection) may have been
        # done: the same reasoning as for 5xx. A connection that failed before the request
        # was sent is still retried.
        if error is not None and (method or "").upper() == "POST" and self._is_read_error(error):
            raise error
        if response is not None and self.on_stop is not None:
            until = stop_until_from(dict(response.headers), response.status)
            if until is not None:
                self.on_stop(until)
        retry = super().increment(method, url, response, error, **rest)
        wait = retry.get_backoff_time()
        if response is not None:
            wait = max(wait, retry.get_retry_after(response) or 0)
        status = response.status if response is not None else None
        deadline.ensure_time_for(wait, f"GitHub asked for a wait of {wait:.0f} s", status)
        return retry


def _retry(app: GitHubApp, installation_id: int | None = None) -> GithubRetry:
    on_stop = None
    if app.pacing is not None and installation_id is not None:
        on_stop = functools.partial(app.pacing.stop_until, installation_id)
    return _Retry(
        on_stop=on_stop,
        total=app.max_retries,
        backoff_factor=app.backoff_factor,
        secondary_rate_wait=app.secondary_rate_wait,
        max_rate_limit_wait=app.max_rate_limit_wait,
        # Check-run updates are PATCH requests; urllib3 leaves PATCH out by default.
        allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"},
        # When retries run out, hand the last answer to PyGithub so callers get a GithubException
        # with GitHub's status and message rather than a bare urllib3 error.
        raise_on_status=False,
    )


@functools.lru_cache(maxsize=16)
def _integration(app: GitHubApp) -> GithubIntegration:
    return GithubIntegration(
        auth=Auth.AppAuth(app.app_id, app.private_key),
        base_url=app.api_url,
        timeout=app.timeout,
        user_agent=USER_AGENT,
        retry=_retry(app),
        seconds_between_requests=app.seconds_between_requests,
        seconds_between_writes=app.seconds_between_writes,
    )


_tokens: dict[tuple[GitHubApp, int], tuple[str, datetime]] = {}
_tokens_lock = threading.Lock()


class _InstallationToken(Auth.Auth):
    """PyGithub asks for the token before every request; the shared cache decides when to renew."""

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self._app = app
        self._installation_id = installation_id

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._app.token(self._installation_id)


@functools.lru_cache(maxsize=16)
def _bot_login(app: GitHubApp) -> str:
    return f"{_integration(app).get_app().slug}[bot]"


def _delete_pending_reviews(pull: PullRequest) -> int:
    """Delete PENDING reviews; GitHub lists those only to their author, so these are ours."""
    pending = [review for review in pull.get_reviews() if review.state == "PENDING"]
    for review in pending:
        review.delete()
    return len(pending)


def _refused(
    pull: PullRequest, commit: Commit, comments: tuple[InlineComment, ...]
) -> tuple[InlineComment, ...]:
    if not _accepted(pull, commit, ()):
        # GitHub refuses even an empty review on this commit: no comment is to blame, and trying
        # them one by one would only make noise.
        return comments
    return _refused_among(pull, commit, comments)


def _refused_among(
    pull: PullRequest, commit: Commit, comments: tuple[InlineComment, ...]
) -> tuple[InlineComment, ...]:
    """Comments GitHub will not take, found by halving; the caller knows some are refused."""
    if len(comments) == 1:
        return comments
    middle = len(comments) // 2
    first, second = comments[:middle], comments[middle:]
    if _accepted(pull, commit, first):
        return _refused_among(pull, commit, second)
    refused = _refused_among(pull, commit, first)
    if _accepted(pull, commit, second):
        return refused
    return refused + _refused_among(pull, commit, second)


def _accepted(pull: PullRequest, commit: Commit, comments: tuple[InlineComment, ...]) -> bool:
    pending = _try_review(pull, commit, None, comments, event=None)
    if pending is None:
        return False
    pending.delete()
    return True


def _try_review(
    pull: PullRequest,
    commit: Commit,
    body: str | None,
    comments: tuple[InlineComment, ...],
    event: str | None,
) -> PullRequestReview | None:
    """The review, or None when GitHub refuses it with 422."""
    try:
        return _post_review(pull, commit, body, comments, event)
    except GithubException as error:
        if error.status != 422:
            raise
        return None


def _post_review(
    pull: PullRequest,
    commit: Commit,
    body: str | None,
    comments: tuple[InlineComment, ...],
    event: str | None,
) -> PullRequestReview:
    # Leaving the event out is how the API makes a PENDING review.
    options: dict[str, Any] = {"event": event} if event else {}
    if body is not None:
        options["body"] = body
    return pull.create_review(
        commit=commit,
        comments=[_comment_payload(comment) for comment in comments],
        **options,
    )


def _comment_payload(comment: InlineComment) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "path": comment.path,
        "body": comment.body,
        "line": comment.line,
        "side": "RIGHT",
    }
    if comment.start_line is not None and comment.start_line < comment.line:
        payload["start_line"] = comment.start_line
        payload["start_side"] = "RIGHT"
    return payload


def _with_refused(body: str, refused: Sequence[InlineComment]) -> str:
    if not refused:
        return _fit(body)
    parts = [body, "", "---", "", "GitHub would not place these comments on the diff:"]
    for comment in refused:
        lines = (
            f"lines {comment.start_line}-{comment.line}"
            if comment.start_line is not None and comment.start_line < comment.line
            else f"line {comment.line}"
        )
        parts += ["", f"**`{comment.path}`, {lines}**", "", comment.body]
    return _fit("\n".join(parts))


def _fit(text: str) -> str:
    if len(text) <= TEXT_LIMIT:
        return text
    note = "\n\n… cut short: GitHub takes at most 65,535 characters here; the check run has all."
    return text[: TEXT_LIMIT - len(note)] + note


_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { id } } }
      }
    }
  }
}
"""

_RESOLVE_MUTATION = """
mutation($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } }
}
"""


def _thread_opened_by(
    client: InstallationClient, owner: str, name: str, number: int, comment_node_id: str
) -> dict[str, Any] | None:
    for thread in _review_threads(client, owner, name, number):
        # A thread's first comment is the one that opened it: ours, replies come after.
        first = thread["comments"]["nodes"][:1]
        if first and first[0]["id"] == comment_node_id:
            return thread
    return None


def _review_threads(
    client: InstallationClient, owner: str, name: str, number: int
) -> Iterator[dict[str, Any]]:
    variables: dict[str, Any] = {"owner": owner, "name": name, "number": number, "after": None}
    while True:
        _, data = client.api.requester.graphql_query(_THREADS_QUERY, variables)
        pull = (data["data"]["repository"] or {}).get("pullRequest")
        if pull is None:
            raise LookupError(f"GitHub knows no pull request {owner}/{name}#{number}")
        threads = pull["reviewThreads"]
        yield from threads["nodes"]
        if not threads["pageInfo"]["hasNextPage"]:
            return
        variables["after"] = threads["pageInfo"]["endCursor"]


def _batches(annotations: Sequence[Annotation]) -> list[tuple[Annotation, ...]]:
    return [
        tuple(annotations[start : start + ANNOTATIONS_PER_REQUEST])
        for start in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ]


def _completion(output: CheckRunOutput, finished: bool) -> dict[str, Any]:
    if not finished:
        return {"status": "in_progress"}
    return {
        "status": "completed",
        "conclusion": output.conclusion,
        "completed_at": datetime.now(UTC),
    }


def _check_output(output: CheckRunOutput, annotations: tuple[Annotation, ...]) -> dict[str, Any]:
    return {
        "title": output.title,
        "summary": _fit(output.summary),
        "annotations": [
            {
                "path": annotation.path,
                "start_line": annotation.start_line,
                "end_line": annotation.end_line,
                "annotation_level": annotation.level,
                "title": annotation.title,
                "message": annotation.message,
            }
            for annotation in annotations
        ],
    }


# --- conversation comments and permissions (the /debt-report command) ---------------------


def _issue_comment(client: InstallationClient, full_name: str, comment_id: int) -> IssueComment:
    _split(full_name)
    # Lazy: built from its URL, so reacting or editing is the one request it should be. The
    # comment's URL does not contain the issue number; any number builds the same URL.
    return client.api.get_repo(full_name).get_issue(1).get_comment(comment_id)


def _issue_comment_info(comment: IssueComment) -> IssueCommentInfo:
    fields = _as_listed(comment)
    user = fields.get("user") or {}
    return IssueCommentInfo(
        id=fields["id"],
        body=fields.get("body") or "",
        author_login=user.get("login", ""),
        author_is_bot=user.get("type") == "Bot",
        html_url=fields.get("html_url") or "",
        updated_at=_timestamp(fields.get("updated_at")),
    )


# --- files and issues (weekly summaries) --------------------------------------------------------


def _issue_info(issue: Any) -> IssueInfo:
    fields = _as_listed(issue)
    return IssueInfo(
        number=fields["number"],
        title=fields.get("title") or "",
        body=fields.get("body") or "",
        html_url=fields.get("html_url") or "",
    )


def _timestamp(text: str | None) -> datetime | None:
    # GitHub writes UTC times as 2024-01-01T00:00:00Z.
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _pull(client: InstallationClient, full_name: str, number: int) -> PullRequest:
    _split(full_name)
    return client.api.get_repo(full_name).get_pull(number)


def _pull_info(pull: PullRequest) -> PullInfo:
    return PullInfo(
        number=pull.number,
        head_sha=pull.head.sha,
        base_ref=pull.base.ref,
        base_sha=pull.base.sha,
        state=pull.state,
        draft=bool(pull.draft),
        author_login=pull.user.login,
        author_is_bot=pull.user.type == "Bot",
    )


def _split(full_name: str) -> tuple[str, str]:
    owner, slash, name = full_name.partition("/")
    if not owner or not slash or not name or "/" in name:
        raise ValueError(f"expected a repository as owner/name, got {full_name!r}")
    return owner, name


def _posted(comment: PullRequestComment) -> PostedComment:
    fields = _as_listed(comment)
    return PostedComment(
        id=fields["id"],
        node_id=fields["node_id"],
        path=fields["path"],
        line=fields.get("line"),
        body=fields["body"],
        in_reply_to_id=fields.get("in_reply_to_id"),
    )


def _as_listed(item: GithubObject) -> dict[str, Any]:
    """The JSON GitHub sent for an item, without PyGithub completing it first.

    Items of a list are partial objects: reading a field GitHub leaves out (``in_reply_to_id`` on
    the first comment of a thread) makes PyGithub fetch the item again, a request per comment.
    The list already said everything, so read what it said.
    """
    return GithubObject.raw_data.fget(item)


# The operations that change something on GitHub: the ones kept a pause apart.
_WRITES = frozenset(
    {
        "create_review",
        "reply_to_comment",
        "resolve_thread",
        "create_check_run",
        "add_reaction",
        "create_issue_comment",
        "update_issue_comment",
        "create_issue",
    }
)


@contextmanager
def _calling(client: InstallationClient, operation: str) -> Iterator[None]:
    """Wait for the installation's turn (with several workers), count the operation, note the
    rate limit GitHub reported, and translate errors."""
    outcome = "error"
    try:
        deadline.ensure_time_for(0, f"{operation} not called")
        if client.app.pacing is not None:
            client.app.pacing.wait_turn(client.installation_id, write=operation in _WRITES)
        with _translated():
            yield
        outcome = "ok"
    finally:
        metrics.GITHUB_CALLS.labels(operation=operation, outcome=outcome).inc()
        remaining = client.api.requester.rate_limiting[0]
        if remaining >= 0:
            metrics.RATE_LIMIT_REMAINING.set(remaining)


@contextmanager
def _translated() -> Iterator[None]:
    """PyGithub's and requests' exceptions as :mod:`bot.github.errors`."""
    try:
        yield
    except RateLimitExceededException as error:
        raise RateLimited(_message(error), error.status) from error
    except GithubException as error:
        raise _error_for(error.status)(_message(error), error.status) from error
    except requests.RequestException as error:
        raise Unavailable(f"no answer from GitHub: {type(error).__name__}: {error}") from error


def _error_for(status: int) -> type[GitHubError]:
    if status in (404, 410):
        return NotFound
    if status == 403:
        return Forbidden
    if status == 422:
        return Unprocessable
    if status >= 500:
        return Unavailable
    return GitHubError


def _message(error: GithubException) -> str:
    data = error.data if isinstance(error.data, dict) else {}
    return f"GitHub answered {error.status}: {data.get('message') or error.data or 'no message'}"
