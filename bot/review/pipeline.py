"""The review of one pull request head: from the webhook payload to one review and a check run.

get the pull request (drop the job if its head moved) -> fetch base and head into the mirror ->
config at head (skip drafts and bots unless asked) -> merge base, changed lines, hunks -> engine
on the changed files -> findings on changed lines -> what was already said (store, and our own
comments on GitHub) -> one review with the new ones -> a reply and a resolved thread for each
commented finding that went away -> check run -> record the analysis.

GitHub, the store and git come in through :class:`bot.services.Services`, so tests can point the
pipeline at a simulated GitHub, a throwaway database and a local remote.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import metrics, store
from bot.analysis import analyse_at, analyse_base, config_at
from bot.domain import InlineComment, PayloadError, PostedComment, PullRequestRef
from bot.github import mirror as gitmirror
from bot.github.client import InstallationClient
from bot.review import comments
from bot.services import Services
from rules.engine import (
    Config,
    ConfigError,
    ScanResult,
    brought_by_change,
    codes_by_path,
    only_added,
)
from rules.finding import Finding

log = logging.getLogger(__name__)


# --- entry point ---------------------------------------------------------------------------


def handle_pull_request(payload: dict, services: Services) -> None:
    """The worker's job for pull_request opened, reopened, synchronize and ready_for_review."""
    ref = pull_request_ref(payload)
    started = time.perf_counter()
    outcome = review_pull_request(ref, services)
    seconds = time.perf_counter() - started
    log.info(
        "review of %s#%s at %s: %s in %.2fs",
        ref.full_name,
        ref.number,
        ref.head_sha[:12],
        outcome,
        seconds,
        extra={
            "repository": ref.full_name,
            "pull_request": ref.number,
            "head": ref.head_sha,
            "outcome": outcome,
            "seconds": round(seconds, 3),
        },
    )
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


def review_pull_request(ref: PullRequestRef, services: Services) -> str:
    """Review ``ref.head_sha``; returns what became of it (a metrics label)."""
    started = time.perf_counter()
    client = services.github.installation(ref.installation_id)
    pull = client.get_pull(ref.full_name, ref.number)
    if pull.state != "open":
        return "closed"
    if pull.head_sha != ref.head_sha:
        return "stale-head"  # a newer push has its own delivery
    mirror = services.mirrors.ensure(ref.full_name)
    token = services.github.token(ref.installation_id)
    gitmirror.fetch_pull(mirror, pull.base_ref, ref.number, token)
    if gitmirror.resolve(mirror, gitmirror.pull_ref_name(ref.number)) != ref.head_sha:
        return "stale-head"
    try:
        config = config_at(mirror, ref.head_sha)
    except ConfigError as problem:
        output = comments.config_error_output(str(problem))
        client.create_check_run(ref.full_name, ref.head_sha, output)
        return "config-error"
    if pull.draft and not config.review.drafts:
        return "skipped-draft"
    if pull.author_is_bot and not config.review.bots:
        return "skipped-bot"
    base = gitmirror.merge_base(mirror, gitmirror.base_ref_name(pull.base_ref), ref.head_sha)
    analysed = replace(ref, base_ref=pull.base_ref, base_sha=base)
    return _review(analysed, mirror, config, client, services, started)


# --- the steps -----------------------------------------------------------------------------


def _review(
    ref: PullRequestRef,
    mirror: Path,
    config: Config,
    client: InstallationClient,
    services: Services,
    started: float,
) -> str:
    head, name, number = ref.head_sha, ref.full_name, ref.number
    public_url = services.settings.public_url
    _ensure_present(mirror, ref, services)
    changed = gitmirror.changed_lines(mirror, ref.base_sha, head)
    diff_hunks = gitmirror.hunks(mirror, ref.base_sha, head)
    with services.sessions() as session:
        stored = dict(store.open_findings(session, name, number))
    wanted = set(changed) | {s.path for s in stored.values()}
    try:
        result = services.run_analysis(
            analyse_at, mirror, head, wanted, changed, services.facts_cache, ref.base_sha
        )
    except ConfigError as problem:  # a sub-project's pyproject.toml
        client.create_check_run(name, head, comments.config_error_output(str(problem)))
        return "config-error"
    on_changed = only_added(result.findings, changed)
    if on_changed:
        on_changed = _brought_by_change(mirror, ref.base_sha, on_changed, services)
    existing = client.list_review_comments(name, number)
    commented = commented_fingerprints(existing)
    said = set(stored) | set(commented)
    fixed = gone(stored, result)
    moved = moved_findings(fixed, stored, on_changed, said)
    fixed = [fingerprint for fingerprint in fixed if fingerprint not in moved]
    # Rules and files that keep an open comment of ours: never a second comment on them.
    threads = {
        (finding.code, finding.path)
        for fingerprint, finding in stored.items()
        if fingerprint not in fixed and (finding.comment_id is not None or fingerprint in commented)
    }
    cap = config.review.max_comments
    plan = comments.plan_review(
        on_changed,
        said | set(moved.values()),
        services.settings.max_inline_comments if cap is None else cap,
        diff_hunks,
        threads,
    )
    posted = adopted_comments(on_changed, stored, commented)
    # Everything that may fail and be retried comes before the review; between posting the
    # review and recording it there is only the database write. A retry after a failure
    # elsewhere (a 502 on the check run, say) would otherwise post findings it only listed in
    # the review's body a second time, since GitHub keeps no per-finding trace of those.
    output = comments.check_run_output(
        on_changed, config.review.fail_on, public_url, result.skipped
    )
    check_run_id = client.create_check_run(name, head, output)
    _close_threads(fixed, stored, commented, existing, client, ref)
    review_id = None
    if not plan.is_empty:
        unread = [s for s in result.skipped if s.path in changed]
        body = comments.review_body(plan, head, public_url, unread)
        inline = comments.inline_comments(plan, diff_hunks, public_url)
        outcome = client.create_review(name, number, head, body, inline)
        review_id = outcome.review_id
        if outcome.posted:
            posted |= _new_comment_ids(outcome.posted, client, ref)
        for finding in plan.said:
            metrics.FINDINGS.labels(principle=finding.principle, severity=finding.severity).inc()
    with services.sessions() as session:
        store.record_analysis(
            session,
            ref,
            on_changed,
            posted,
            fixed,
            time.perf_counter() - started,
            moved=moved,
            check_run_id=check_run_id,
            review_id=review_id,
        )
    return "nothing-new" if plan.is_empty else "posted"


def _ensure_present(mirror: Path, ref: PullRequestRef, services: Services) -> None:
    """Fetch everything again, once, when the mirror lacks the content of a file at the head or
    the base (a mirror damaged on disk, a fetch cut short); still lacking it then is a clear
    error. One ``git cat-file --batch-check`` per commit: cheap beside the review."""

    def lacking() -> list[str]:
        commits = (ref.head_sha, ref.base_sha)
        return [path for sha in commits for path in gitmirror.missing_files(mirror, sha)]

    missing = lacking()
    if not missing:
        return
    log.warning(
        "mirror of %s lacks %d files at %s (%s): fetching everything again",
        ref.full_name, len(missing), ref.head_sha[:12], ", ".join(missing[:5]),
    )  # fmt: skip
    token = services.github.token(ref.installation_id)
    gitmirror.fetch_pull(mirror, ref.base_ref, ref.number, token, refetch=True)
    missing = lacking()
    if missing:
        raise gitmirror.MirrorError(
            f"the mirror of {ref.full_name} lacks {len(missing)} files at {ref.head_sha[:12]} "
            f"even after fetching everything again: {', '.join(missing[:5])}"
        )


def _brought_by_change(
    mirror: Path, base: str, findings: list[Finding], services: Services
) -> list[Finding]:
    """The findings without those the base already had and those most files of the same kind
    already had (see :func:`rules.engine.brought_by_change`): a pull request that only touches
    a line is not blamed for what was on it, nor one more file for the repository's way."""
    try:
        wanted, cache = codes_by_path(findings), services.facts_cache
        before, kinds = services.run_analysis(analyse_base, mirror, base, wanted, cache)
    except ConfigError:
        return findings  # a base whose configuration is broken has nothing to compare with
    return brought_by_change(findings, before.findings, kinds)


def _new_comment_ids(
    sent: Iterable[InlineComment], client: InstallationClient, ref: PullRequestRef
) -> dict[str, tuple[int, str]]:
    fingerprints = {c.fingerprint for c in sent}
    now_on_github = commented_fingerprints(client.list_review_comments(ref.full_name, ref.number))
    return {fp: ids(c) for fp, c in now_on_github.items() if fp in fingerprints}


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


def moved_findings(
    fixed: Iterable[str],
    stored: Mapping[str, store.StoredFinding],
    findings: Iterable[Finding],
    said: Collection[str],
) -> dict[str, str]:
    """Open findings gone at head, paired with a new finding of the same rule in the same file.

    An edit can change a finding's fingerprint without fixing it (a commented-out block one line
    longer, a threshold moved): that is the same problem, not a fix and a new one, so its thread
    carries on and nothing is said twice. The nearest new finding is taken, each at most once.
    """
    new: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.fingerprint not in said:
            new.setdefault((finding.code, finding.path), []).append(finding)
    moves = {}
    for fingerprint in sorted(fixed, key=lambda f: (stored[f].path, stored[f].line)):
        old = stored[fingerprint]
        candidates = new.get((old.code, old.path))
        if candidates:
            nearest = min(candidates, key=lambda f: (abs(f.line - old.line), f.line))
            candidates.remove(nearest)
            moves[fingerprint] = nearest.fingerprint
    return moves


def ids(comment: PostedComment) -> tuple[int, str]:
    return comment.id, comment.node_id


def _close_threads(
    fixed: Iterable[str],
    stored: Mapping[str, Any],
    commented: Mapping[str, PostedComment],
    existing: Iterable[PostedComment],
    client: InstallationClient,
    ref: PullRequestRef,
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
            client.reply_to_comment(ref.full_name, ref.number, comment_id, reply)
        if node_id:
            client.resolve_thread(ref.full_name, ref.number, node_id)
