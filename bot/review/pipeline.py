"""The review of one pull request head: from the webhook payload to one review and a check run.

get the pull request (drop the job if its head moved) -> fetch base and head into the mirror ->
config at head (skip drafts and bots unless asked) -> merge base, changed lines, hunks -> engine
on the changed files -> findings on changed lines -> what was already said (store, and our own
comments on GitHub) -> one review with the new ones -> a reply and a resolved thread for each
commented finding that went away -> check run -> record the analysis.

Everything that talks to GitHub or the store comes in through :class:`ReviewDeps`, so tests can
point the pipeline at a simulated GitHub and a throwaway database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from bot import metrics
from bot.domain import InlineComment, PayloadError, PostedComment, PullInfo, PullRequestRef
from bot.github import mirror as gitmirror
from bot.review import comments
from rules.engine import factcache
from rules.engine.config import Config, ConfigError, config_from_pyproject_text, default_config
from rules.engine.scanner import CONTEXT_FILES, ScanResult, only_added, scan, select
from rules.finding import Finding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewDeps:
    """What the pipeline needs from the outside world; github.py and store.py in production."""

    settings: Any  # bot.settings.Settings: public_url, max_inline_comments, github_url
    session_factory: Callable[[], Any]  # a sqlalchemy sessionmaker
    data_dir: Path  # mirrors live under data_dir/mirrors
    installation_client: Callable[[int], Any]
    installation_token: Callable[[int], str]
    get_pull: Callable[[Any, str, int], PullInfo]
    list_review_comments: Callable[[Any, str, int], list[PostedComment]]
    create_review: Callable[..., Any]  # (client, full_name, number, sha, body, comments)
    reply_to_comment: Callable[..., Any]  # (client, full_name, number, comment_id, body)
    resolve_thread: Callable[..., Any]  # (client, full_name, number, comment_node_id)
    create_check_run: Callable[..., int]  # (client, full_name, head_sha, output)
    open_findings: Callable[[Any, str, int], Mapping[str, Any]]  # -> store.StoredFinding
    record_analysis: Callable[..., int]
    # Where git fetches a repository from, by full name. The App's setting decides the host,
    # not the payload, so the token can only ever be sent to the configured GitHub.
    clone_url: Callable[[str], str] | None = None

    def clone_url_of(self, full_name: str) -> str:
        if self.clone_url is not None:
            return self.clone_url(full_name)
        return gitmirror.default_clone_url(self.settings.github_url, full_name)


def default_deps(settings: Any, session_factory: Callable[[], Any]) -> ReviewDeps:
    """The pipeline wired to the real GitHub client and store."""
    from bot.github import client as github
    from bot.store import queries as store

    app = github.app_from_settings(settings)
    return ReviewDeps(
        settings=settings,
        session_factory=session_factory,
        data_dir=Path(settings.data_dir),
        installation_client=partial(github.installation_client, app=app),
        installation_token=partial(github.installation_token, app=app),
        get_pull=github.get_pull,
        list_review_comments=github.list_review_comments,
        create_review=github.create_review,
        reply_to_comment=github.reply_to_comment,
        resolve_thread=github.resolve_thread,
        create_check_run=github.create_check_run,
        open_findings=store.open_findings,
        record_analysis=store.record_analysis,
    )


# --- entry point ---------------------------------------------------------------------------


def handle_pull_request(payload: dict, deps: ReviewDeps) -> None:
    """The worker's job for pull_request opened, reopened, synchronize and ready_for_review."""
    ref = pull_request_ref(payload)
    started = time.perf_counter()
    outcome = review_pull_request(ref, deps)
    seconds = time.perf_counter() - started
    log.info("%s#%s at %s: %s", ref.full_name, ref.number, ref.head_sha[:12], outcome)
    metrics.REVIEWS.labels(outcome=outcome).inc()
    if outcome in {"posted", "nothing-new"}:
        metrics.REVIEW_SECONDS.observe(seconds)


def pull_request_ref(payload: Mapping[str, Any]) -> PullRequestRef:
    try:
        pull = payload["pull_request"]
        repository = payload["repository"]
        return PullRequestRef(
            installation_id=int(payload["installation"]["id"]),
            owner=str(repository["owner"]["login"]),
            repo=str(repository["name"]),
            number=int(pull["number"]),
            head_sha=str(pull["head"]["sha"]),
            base_ref=str(pull["base"]["ref"]),
            base_sha=str(pull["base"]["sha"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PayloadError(f"pull_request payload lacks {error}") from None


def review_pull_request(ref: PullRequestRef, deps: ReviewDeps) -> str:
    """Review ``ref.head_sha``; returns what became of it (a metrics label)."""
    started = time.perf_counter()
    client = deps.installation_client(ref.installation_id)
    pull = deps.get_pull(client, ref.full_name, ref.number)
    if pull.state != "open":
        return "closed"
    if pull.head_sha != ref.head_sha:
        return "stale-head"  # a newer push has its own delivery
    mirror = gitmirror.ensure_mirror(deps.data_dir, ref.full_name, deps.clone_url_of(ref.full_name))
    token = deps.installation_token(ref.installation_id)
    gitmirror.fetch_pull(mirror, pull.base_ref, ref.number, token)
    if gitmirror.resolve(mirror, gitmirror.pull_ref_name(ref.number)) != ref.head_sha:
        return "stale-head"
    try:
        config = config_at(mirror, ref.head_sha)
    except ConfigError as problem:
        output = comments.config_error_output(str(problem))
        deps.create_check_run(client, ref.full_name, ref.head_sha, output)
        return "config-error"
    if pull.draft and not config.review.drafts:
        return "skipped-draft"
    if pull.author_is_bot and not config.review.bots:
        return "skipped-bot"
    base = gitmirror.merge_base(mirror, gitmirror.base_ref_name(pull.base_ref), ref.head_sha)
    analysed = replace(ref, base_ref=pull.base_ref, base_sha=base)
    return _review(analysed, mirror, config, client, deps, started)


# --- the steps -----------------------------------------------------------------------------


def _review(
    ref: PullRequestRef,
    mirror: Path,
    config: Config,
    client: Any,
    deps: ReviewDeps,
    started: float,
) -> str:
    head, name, number = ref.head_sha, ref.full_name, ref.number
    public_url = deps.settings.public_url
    changed = gitmirror.changed_lines(mirror, ref.base_sha, head)
    diff_hunks = gitmirror.hunks(mirror, ref.base_sha, head)
    with deps.session_factory() as session:
        stored = dict(deps.open_findings(session, name, number))
    wanted = set(changed) | {s.path for s in stored.values()}
    facts_cache = deps.data_dir / factcache.FILE_NAME
    result = analyse_head(mirror, head, config, wanted, changed, facts_cache)
    on_changed = only_added(result.findings, changed)
    existing = deps.list_review_comments(client, name, number)
    commented = commented_fingerprints(existing)
    cap = config.review.max_comments
    plan = comments.plan_review(
        on_changed,
        set(stored) | set(commented),
        deps.settings.max_inline_comments if cap is None else cap,
        diff_hunks,
    )
    posted = adopted_comments(on_changed, stored, commented)
    # Everything that may fail and be retried comes before the review; between posting the
    # review and recording it there is only the database write. A retry after a failure
    # elsewhere (a 502 on the check run, say) would otherwise post findings it only listed in
    # the review's body a second time, since GitHub keeps no per-finding trace of those.
    output = comments.check_run_output(
        on_changed, config.review.fail_on, public_url, result.skipped
    )
    check_run_id = deps.create_check_run(client, name, head, output)
    fixed = gone(stored, result)
    _close_threads(fixed, stored, commented, existing, client, ref, deps)
    review_id = None
    if not plan.is_empty:
        body = comments.review_body(plan, head, public_url)
        inline = comments.inline_comments(plan, diff_hunks, public_url)
        outcome = deps.create_review(client, name, number, head, body, inline)
        review_id = outcome.review_id
        if outcome.posted:
            posted |= _new_comment_ids(outcome.posted, client, ref, deps)
        for finding in (*plan.inline, *plan.listed):
            metrics.FINDINGS.labels(principle=finding.principle, severity=finding.severity).inc()
    with deps.session_factory() as session:
        deps.record_analysis(
            session,
            ref,
            on_changed,
            posted,
            fixed,
            time.perf_counter() - started,
            check_run_id=check_run_id,
            review_id=review_id,
        )
    return "nothing-new" if plan.is_empty else "posted"


def _new_comment_ids(
    sent: Iterable[InlineComment], client: Any, ref: PullRequestRef, deps: ReviewDeps
) -> dict[str, tuple[int, str]]:
    fingerprints = {c.fingerprint for c in sent}
    now_on_github = commented_fingerprints(
        deps.list_review_comments(client, ref.full_name, ref.number)
    )
    return {fp: ids(c) for fp, c in now_on_github.items() if fp in fingerprints}


def config_at(mirror: Path, sha: str) -> Config:
    """``[tool.debtbot]`` (with its ``review`` table) from ``pyproject.toml`` at ``sha``."""
    try:
        data = gitmirror.read_file(mirror, sha, "pyproject.toml")
    except FileNotFoundError:
        return default_config()
    try:
        return config_from_pyproject_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("pyproject.toml is not UTF-8 text") from None


def analyse_head(
    mirror: Path,
    head: str,
    config: Config,
    paths: Iterable[str],
    added: Mapping[str, frozenset[int]] | None = None,
    facts_cache: Path | None = None,
) -> ScanResult:
    """Run the engine on ``paths`` as they are at ``head`` (those gone from it are left out)."""
    files = gitmirror.list_files(mirror, head)
    chosen = select(sorted(p for p in set(paths) if p in files), config)
    sources = [(path, partial(gitmirror.read_file, mirror, head, path)) for path in chosen]
    # Read only when a repository rule is selected: what the rest of the code base holds.
    context = [
        (path, partial(gitmirror.read_file, mirror, head, path))
        for path in sorted(files)
        if path.endswith(CONTEXT_FILES)
    ]
    return scan(sources, config, files, context=context, added=added, facts_cache=facts_cache)


def commented_fingerprints(posted: Iterable[PostedComment]) -> dict[str, PostedComment]:
    """Our open inline comments on GitHub by fingerprint (threads we said were resolved excluded).

    The store is the record, but a run that died between posting and recording leaves comments
    only GitHub knows about; counting them keeps a retried job from posting them twice.
    """
    replies = [c for c in posted if c.in_reply_to_id is not None]
    resolved = {comments.resolved_fingerprint_of(c.body) for c in replies}
    found = {}
    for comment in posted:
        fingerprint = comments.fingerprint_of(comment.body)
        if comment.in_reply_to_id is None and fingerprint and fingerprint not in resolved:
            found[fingerprint] = comment
    return found


def adopted_comments(
    findings: Iterable[Finding], stored: Mapping[str, Any], commented: Mapping[str, PostedComment]
) -> dict[str, tuple[int, str]]:
    """Comments on GitHub the store never recorded, for findings still there: record them now."""
    adopted = {}
    for finding in findings:
        comment = commented.get(finding.fingerprint)
        known = stored.get(finding.fingerprint)
        if comment is not None and (known is None or known.comment_id is None):
            adopted[finding.fingerprint] = ids(comment)
    return adopted


def gone(stored: Mapping[str, Any], result: ScanResult) -> list[str]:
    """Open findings no longer reported at head.

    A file the engine could not read this time (say, a syntax error mid-edit) proves nothing:
    its findings stay open rather than being resolved and then posted again.
    """
    present = {f.fingerprint for f in result.findings}
    unreadable = {s.path for s in result.skipped}
    return [
        fingerprint
        for fingerprint, finding in stored.items()
        if fingerprint not in present and finding.path not in unreadable
    ]


def ids(comment: PostedComment) -> tuple[int, str]:
    return comment.id, comment.node_id


def _close_threads(
    fixed: Iterable[str],
    stored: Mapping[str, Any],
    commented: Mapping[str, PostedComment],
    existing: Iterable[PostedComment],
    client: Any,
    ref: PullRequestRef,
    deps: ReviewDeps,
) -> None:
    """Reply once in each thread whose finding went away, and resolve the thread."""
    already_replied = {
        comments.resolved_fingerprint_of(c.body) for c in existing if c.in_reply_to_id is not None
    }
    for fingerprint in fixed:
        known = stored[fingerprint]
        comment_id, node_id = known.comment_id, known.comment_node_id
        if comment_id is None and fingerprint in commented:
            comment_id, node_id = ids(commented[fingerprint])
        if comment_id is None:
            continue  # only listed in a summary: there is no thread to answer
        if fingerprint not in already_replied:
            reply = comments.resolved_reply(fingerprint, ref.head_sha)
            deps.reply_to_comment(client, ref.full_name, ref.number, comment_id, reply)
        if node_id:
            deps.resolve_thread(client, ref.full_name, ref.number, node_id)
