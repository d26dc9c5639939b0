"""Commands in a pull request's conversation: from an ``issue_comment`` delivery to one answer.

not a pull request, a bot, or not a command -> nothing -> may the commenter push? (else one
polite refusal per person and pull request) -> eyes reaction -> help, or: a report made within
the last minute? (then the reaction was the answer) -> fetch base and head into the mirror ->
engine at head and at the merge base over the same files -> the store's findings the review
did not comment on -> post the report comment, or edit the one already there.

Everything that talks to GitHub or the store comes in through :class:`CommandDeps`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot.commands import render as commands
from bot.commands.render import FULL, HELP, Command, ReportInput
from bot.domain import IssueCommentInfo, PayloadError
from bot.github import mirror as gitmirror
from bot.metrics import COMMANDS
from bot.review.pipeline import analyse_head, config_at
from rules.engine import factcache
from rules.engine.config import ConfigError
from rules.engine.scanner import select

log = logging.getLogger(__name__)

# At most one report per pull request in this time; a repeat inside it gets only the reaction.
REPORT_INTERVAL = timedelta(minutes=1)
# How long a collaborator's permission is trusted: long enough to spare GitHub a call per
# command, short enough that someone whose access was removed is refused soon after.
PERMISSION_TTL = 300.0


@dataclass(frozen=True)
class PermissionCache:
    """(installation, repository, login) -> (permission, when it was asked), for a short while."""

    ttl: float = PERMISSION_TTL
    clock: Callable[[], float] = time.monotonic
    entries: dict[tuple[int, str, str], tuple[str, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple[int, str, str], ask: Callable[[], str]) -> str:
        with self.lock:
            cached = self.entries.get(key)
            if cached is not None and self.clock() - cached[1] < self.ttl:
                return cached[0]
        permission = ask()
        with self.lock:
            self.entries[key] = (permission, self.clock())
        return permission


# One per process: deps are built for every job, the answers should outlive a job.
_PERMISSIONS = PermissionCache()


@dataclass(frozen=True)
class CommandDeps:
    """What answering a command needs; github.py and store.py in production."""

    settings: Any  # bot.settings.Settings: public_url, github_url
    session_factory: Callable[[], Any]
    data_dir: Path
    installation_client: Callable[[int], Any]
    installation_token: Callable[[int], str]
    bot_login: Callable[[Any], str]  # (client) -> "debtbot[bot]"
    get_pull: Callable[..., Any]
    collaborator_permission: Callable[..., str]  # (client, full_name, login)
    add_reaction: Callable[..., Any]  # (client, full_name, comment_id, content)
    list_issue_comments: Callable[..., list[IssueCommentInfo]]  # (client, full_name, number)
    create_issue_comment: Callable[..., IssueCommentInfo]  # (client, full_name, number, body)
    update_issue_comment: Callable[..., IssueCommentInfo]  # (client, full_name, id, body)
    open_findings: Callable[[Any, str, int], Mapping[str, Any]]
    push_permissions: frozenset[str] = frozenset({"admin", "write"})
    permissions: PermissionCache = _PERMISSIONS
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    clone_url: Callable[[str], str] | None = None

    def clone_url_of(self, full_name: str) -> str:
        if self.clone_url is not None:
            return self.clone_url(full_name)
        return gitmirror.default_clone_url(self.settings.github_url, full_name)


def default_deps(settings: Any, session_factory: Callable[[], Any]) -> CommandDeps:
    from bot.github import client as github
    from bot.store import queries as store

    app = github.app_from_settings(settings)
    return CommandDeps(
        settings=settings,
        session_factory=session_factory,
        data_dir=Path(settings.data_dir),
        installation_client=partial(github.installation_client, app=app),
        installation_token=partial(github.installation_token, app=app),
        bot_login=lambda client: github.bot_login(client.app),
        get_pull=github.get_pull,
        collaborator_permission=github.collaborator_permission,
        add_reaction=github.add_reaction,
        list_issue_comments=github.list_issue_comments,
        create_issue_comment=github.create_issue_comment,
        update_issue_comment=github.update_issue_comment,
        open_findings=store.open_findings,
        push_permissions=github.PUSH_PERMISSIONS,
    )


@dataclass(frozen=True)
class CommentRef:
    """Which comment, on which pull request, by whom, as the webhook announced it."""

    installation_id: int
    full_name: str
    number: int
    comment_id: int
    body: str
    author: str
    author_is_bot: bool
    on_pull_request: bool


def comment_ref(payload: Mapping[str, Any]) -> CommentRef:
    try:
        issue, comment = payload["issue"], payload["comment"]
        return CommentRef(
            installation_id=int(payload["installation"]["id"]),
            full_name=str(payload["repository"]["full_name"]),
            number=int(issue["number"]),
            comment_id=int(comment["id"]),
            body=str(comment.get("body") or ""),
            author=str(comment["user"]["login"]),
            author_is_bot=comment["user"].get("type") == "Bot",
            # Only a pull request's issue carries this key.
            on_pull_request=bool(issue.get("pull_request")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PayloadError(f"issue_comment payload lacks {error}") from None


# --- entry point ---------------------------------------------------------------------------


def handle_issue_comment(payload: dict, deps: CommandDeps) -> None:
    """The worker's job for issue_comment created and edited."""
    ref = comment_ref(payload)
    outcome = answer(ref, deps)
    COMMANDS.labels(outcome).inc()
    if outcome not in {"not-a-pull-request", "not-a-command", "bot"}:
        log.info("%s#%s comment %s: %s", ref.full_name, ref.number, ref.comment_id, outcome)


def answer(ref: CommentRef, deps: CommandDeps) -> str:
    """Answer one comment; returns what became of it."""
    if not ref.on_pull_request:
        return "not-a-pull-request"
    # Bots never command us, and our own comments (a report quoting the help) must not loop.
    if ref.author_is_bot or ref.author.endswith("[bot]"):
        return "bot"
    command = commands.parse_command(ref.body)
    if command is None:
        return "not-a-command"
    client = deps.installation_client(ref.installation_id)
    if not _may_push(ref, client, deps):
        return _refuse_once(ref, client, deps)
    deps.add_reaction(client, ref.full_name, ref.comment_id, "eyes")
    ours = _our_comments(ref, client, deps)
    if command.name == HELP or command.problem:
        # One help comment per pull request, rewritten each time, so asking twice adds nothing.
        body = commands.render_help(deps.settings.public_url, command.problem) + "\n" + HELP_MARKER
        helped = next((c for c in reversed(ours) if HELP_MARKER in c.body), None)
        if helped is None:
            deps.create_issue_comment(client, ref.full_name, ref.number, body)
        else:
            deps.update_issue_comment(client, ref.full_name, helped.id, body)
        return "help"
    previous = next((c for c in reversed(ours) if commands.REPORT_MARKER in c.body), None)
    if previous is not None and _recent(previous, deps.now()):
        return "too-soon"
    body = _report_body(ref, command, client, deps)
    if previous is None:
        deps.create_issue_comment(client, ref.full_name, ref.number, body)
        return "posted"
    deps.update_issue_comment(client, ref.full_name, previous.id, body)
    return "updated"


# --- the steps -----------------------------------------------------------------------------


def _may_push(ref: CommentRef, client: Any, deps: CommandDeps) -> bool:
    key = (ref.installation_id, ref.full_name, ref.author)
    ask = partial(deps.collaborator_permission, client, ref.full_name, ref.author)
    return deps.permissions.get(key, ask) in deps.push_permissions


HELP_MARKER = "<!-- debtbot:help -->"


def _refusal_marker(login: str) -> str:
    return f"<!-- debtbot:refused={login.lower()} -->"


def _refuse_once(ref: CommentRef, client: Any, deps: CommandDeps) -> str:
    # GitHub is the record: our earlier refusal carries a hidden marker naming the person.
    marker = _refusal_marker(ref.author)
    if any(marker in c.body for c in _our_comments(ref, client, deps)):
        return "refused-again"
    body = commands.render_refusal(ref.author) + "\n" + marker
    deps.create_issue_comment(client, ref.full_name, ref.number, body)
    return "refused"


def _our_comments(ref: CommentRef, client: Any, deps: CommandDeps) -> list[IssueCommentInfo]:
    login = deps.bot_login(client)
    comments = deps.list_issue_comments(client, ref.full_name, ref.number)
    # Only our own: anyone can write the hidden markers into a comment of theirs.
    return [c for c in comments if c.author_login == login]


def _recent(comment: IssueCommentInfo, now: datetime) -> bool:
    return comment.updated_at is not None and now - comment.updated_at < REPORT_INTERVAL


def _report_body(ref: CommentRef, command: Command, client: Any, deps: CommandDeps) -> str:
    pull = deps.get_pull(client, ref.full_name, ref.number)
    mirror = gitmirror.ensure_mirror(deps.data_dir, ref.full_name, deps.clone_url_of(ref.full_name))
    token = deps.installation_token(ref.installation_id)
    gitmirror.fetch_pull(mirror, pull.base_ref, ref.number, token)
    # What was fetched, which may be newer than what GitHub said a moment ago.
    head = gitmirror.resolve(mirror, gitmirror.pull_ref_name(ref.number)) or pull.head_sha
    base = gitmirror.merge_base(mirror, gitmirror.base_ref_name(pull.base_ref), head)
    now = deps.now()
    try:
        config = config_at(mirror, head)
    except ConfigError as problem:
        return (
            f"{commands.REPORT_MARKER}\nNo report for {head[:12]}: `pyproject.toml` has a "
            f"problem debtbot cannot work around.\n\n```text\n{problem}\n```\n\n"
            f"<sub>Updated {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC.</sub>"
        )
    changed = set(gitmirror.changed_lines(mirror, base, head))
    files_at_head = gitmirror.list_files(mirror, head)
    wanted = files_at_head if command.scope == FULL else changed
    analysed = tuple(select(sorted(p for p in wanted if p in files_at_head), config))
    facts_cache = deps.data_dir / factcache.FILE_NAME
    at_head = analyse_head(mirror, head, config, wanted, facts_cache=facts_cache)
    # The same files at the merge base; those the pull request deleted are paid off there.
    at_base = analyse_head(mirror, base, config, wanted, facts_cache=facts_cache)
    principle = command.principle
    with deps.session_factory() as session:
        stored = deps.open_findings(session, ref.full_name, ref.number)
    left_out = tuple(
        f
        for f in stored.values()
        if f.comment_id is None and f.path in wanted and principle in (None, f.principle)
    )
    github_url = deps.settings.github_url.rstrip("/")
    report = ReportInput(
        full_name=ref.full_name,
        number=ref.number,
        head_sha=head,
        base_sha=base,
        scope=command.scope,
        head=tuple(f for f in at_head.findings if principle in (None, f.principle)),
        base=tuple(f for f in at_base.findings if principle in (None, f.principle)),
        files=analysed,
        left_out=left_out,
        skipped=tuple(at_head.skipped),
        check_run_url=f"{github_url}/{ref.full_name}/pull/{ref.number}/checks",
    )
    return commands.render_report(report, deps.settings.public_url, now)
