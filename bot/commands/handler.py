"""Commands in a pull request's conversation: from an ``issue_comment`` delivery to one answer.

not a pull request, a bot, or not a command -> nothing -> may the commenter push? (else one
polite refusal per person and pull request) -> eyes reaction -> help, or: a report made within
the last minute? (then the reaction was the answer) -> fetch base and head into the mirror ->
engine at head and at the merge base over the same files -> the store's findings the review
did not comment on -> post the report comment, or edit the one already there.

GitHub, the store and git come in through :class:`bot.services.Services`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import store
from bot.analysis import analyse_at, configs_at
from bot.commands import render as commands
from bot.commands.render import FULL, HELP, Command, ReportInput
from bot.domain import IssueCommentInfo, PayloadError
from bot.github import mirror as gitmirror
from bot.github.client import InstallationClient
from bot.metrics import COMMANDS
from bot.services import Services
from rules.engine import ConfigError

log = logging.getLogger(__name__)

# At most one report per pull request in this time; a repeat inside it gets only the reaction.
REPORT_INTERVAL = timedelta(minutes=1)
# What the collaborator permission API answers in ``permission``: maintain is reported as
# write and triage as read, and custom roles as the base role they extend, so these two mean
# "can push" whatever roles an organisation defined.
PUSH_PERMISSIONS = frozenset({"admin", "write"})


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


def handle_issue_comment(payload: dict, services: Services) -> None:
    """The worker's job for issue_comment created and edited."""
    ref = comment_ref(payload)
    outcome = answer(ref, services)
    COMMANDS.labels(outcome).inc()
    if outcome not in {"not-a-pull-request", "not-a-command", "bot"}:
        log.info(
            "comment %s on %s#%s: %s",
            ref.comment_id,
            ref.full_name,
            ref.number,
            outcome,
            extra={
                "repository": ref.full_name,
                "pull_request": ref.number,
                "comment": ref.comment_id,
                "outcome": outcome,
            },
        )


def answer(ref: CommentRef, services: Services) -> str:
    """Answer one comment; returns what became of it."""
    if not ref.on_pull_request:
        return "not-a-pull-request"
    # Bots never command us, and our own comments (a report quoting the help) must not loop.
    if ref.author_is_bot or ref.author.endswith("[bot]"):
        return "bot"
    command = commands.parse_command(ref.body)
    if command is None:
        return "not-a-command"
    client = services.github.installation(ref.installation_id)
    if client.collaborator_permission(ref.full_name, ref.author) not in PUSH_PERMISSIONS:
        return _refuse_once(ref, client, services)
    client.add_reaction(ref.full_name, ref.comment_id, "eyes")
    ours = _our_comments(ref, client, services)
    if command.name == HELP or command.problem:
        # One help comment per pull request, rewritten each time, so asking twice adds nothing.
        body = commands.render_help(services.settings.public_url, command.problem)
        body += "\n" + HELP_MARKER
        helped = next((c for c in reversed(ours) if HELP_MARKER in c.body), None)
        if helped is None:
            client.create_issue_comment(ref.full_name, ref.number, body)
        else:
            client.update_issue_comment(ref.full_name, helped.id, body)
        return "help"
    previous = next((c for c in reversed(ours) if commands.REPORT_MARKER in c.body), None)
    if previous is not None and _recent(previous, services.clock()):
        return "too-soon"
    body = _report_body(ref, command, client, services)
    if previous is None:
        client.create_issue_comment(ref.full_name, ref.number, body)
        return "posted"
    client.update_issue_comment(ref.full_name, previous.id, body)
    return "updated"


# --- the steps -----------------------------------------------------------------------------


HELP_MARKER = "<!-- debtbot:help -->"


def _refusal_marker(login: str) -> str:
    return f"<!-- debtbot:refused={login.lower()} -->"


def _refuse_once(ref: CommentRef, client: InstallationClient, services: Services) -> str:
    # GitHub is the record: our earlier refusal carries a hidden marker naming the person.
    marker = _refusal_marker(ref.author)
    if any(marker in c.body for c in _our_comments(ref, client, services)):
        return "refused-again"
    body = commands.render_refusal(ref.author) + "\n" + marker
    client.create_issue_comment(ref.full_name, ref.number, body)
    return "refused"


def _our_comments(
    ref: CommentRef, client: InstallationClient, services: Services
) -> list[IssueCommentInfo]:
    login = services.github.bot_login()
    comments = client.list_issue_comments(ref.full_name, ref.number)
    # Only our own: anyone can write the hidden markers into a comment of theirs.
    return [c for c in comments if c.author_login == login]


def _recent(comment: IssueCommentInfo, now: datetime) -> bool:
    return comment.updated_at is not None and now - comment.updated_at < REPORT_INTERVAL


def _report_body(
    ref: CommentRef, command: Command, client: InstallationClient, services: Services
) -> str:
    pull = client.get_pull(ref.full_name, ref.number)
    mirror = services.mirrors.ensure(ref.full_name)
    token = services.github.token(ref.installation_id)
    gitmirror.fetch_pull(mirror, pull.base_ref, ref.number, token)
    # What was fetched, which may be newer than what GitHub said a moment ago.
    head = gitmirror.resolve(mirror, gitmirror.pull_ref_name(ref.number)) or pull.head_sha
    base = gitmirror.merge_base(mirror, gitmirror.base_ref_name(pull.base_ref), head)
    now = services.clock()
    changed = set(gitmirror.changed_lines(mirror, base, head))
    files_at_head = gitmirror.list_files(mirror, head)
    wanted = files_at_head if command.scope == FULL else changed
    facts_cache = services.facts_cache
    try:
        present = sorted(p for p in wanted if p in files_at_head)
        analysed = tuple(sorted(p for _, paths in configs_at(mirror, head, present) for p in paths))
        at_head = services.run_analysis(analyse_at, mirror, head, wanted, facts_cache=facts_cache)
        # The same files at the merge base; those the pull request deleted are paid off there.
        at_base = services.run_analysis(analyse_at, mirror, base, wanted, facts_cache=facts_cache)
    except ConfigError as problem:
        return (
            f"{commands.REPORT_MARKER}\nNo report for {head[:12]}: a `pyproject.toml` has a "
            f"problem debtbot cannot work around.\n\n```text\n{problem}\n```\n\n"
            f"<sub>Updated {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC.</sub>"
        )
    principle = command.principle
    with services.sessions() as session:
        stored = store.open_findings(session, ref.full_name, ref.number)
    left_out = tuple(
        f
        for f in stored.values()
        if f.comment_id is None and f.path in wanted and principle in (None, f.principle)
    )
    github_url = services.settings.github_url.rstrip("/")
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
    return commands.render_report(report, services.settings.public_url, now)
