"""Keeping the ledger: the debt on each repository's default branch, commit after commit.

A push to the default branch (or the App's installation, for the head as it is) queues a job
that brings the ledger up to the branch's tip. The first analysis of a repository reads every
file; later ones read the files the push changed, plus the files whose open findings come from
rules that read other files, and carry the rest over. Work is done a chunk of files per job:
between chunks the job queues its own continuation, so reviews waiting in the queue run first
(the queue takes background subjects last) and a 150k-line backfill never holds a worker for
long.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from bot import store
from bot.analysis import analyse_at, configs_at, summarise_at
from bot.domain import PayloadError
from bot.github import mirror as gitmirror
from bot.ledger import ledger_subject
from bot.services import Services
from rules.catalogue import all_rules

log = logging.getLogger(__name__)

EVENT = "debtbot.ledger"  # deliveries the App records for itself, never sent by GitHub
CONFIG_FILES = ("pyproject.toml", "debtbot.toml")


@dataclass(frozen=True)
class Target:
    installation_id: int
    full_name: str
    branch: str | None  # None: ask GitHub for the default branch


def handle_push(payload: dict[str, Any], services: Services) -> None:
    """The worker's job for a push: only the default branch's moves matter to the ledger."""
    repository = payload["repository"]
    branch = repository.get("default_branch") or repository.get("master_branch")
    if payload.get("deleted") or not branch or payload.get("ref") != f"refs/heads/{branch}":
        return
    target = _target(payload, branch)
    try:
        owner = repository["owner"]
        info = store.RepositoryInfo(int(repository["id"]), target.full_name)
        with services.sessions() as session:
            store.adopt_repository(
                session, target.installation_id, str(owner["login"]), str(owner.get("type", "")),
                info,
            )  # fmt: skip
    except (KeyError, TypeError, ValueError) as error:
        raise PayloadError(f"push payload lacks {error}") from None
    bring_up_to_date(target, services)


def handle_queued(payload: dict[str, Any], services: Services) -> None:
    """The worker's job for the ledger's own deliveries: a backfill, or the next chunk."""
    bring_up_to_date(_target(payload, payload["repository"].get("default_branch")), services)


def queue_backfills(
    installation_id: int, full_names: list[str], services: Services, reason: str
) -> None:
    """Queue the first analysis of repositories the App was just given."""
    for full_name in full_names:
        _queue(services, Target(installation_id, full_name, None), f"{reason}:{full_name}")


def bring_up_to_date(target: Target, services: Services) -> str:
    """One step towards a ledger at the branch's tip; returns what it did (for the log)."""
    with services.sessions() as session:
        installed = store.repository_installed(session, target.full_name)
        running = store.running_ledger_commit(session, target.full_name)
    if not installed:
        # Removed from the App, or its installation suspended or deleted, since it was queued.
        return "not-installed"
    mirror = services.mirrors.ensure(target.full_name)
    if running is not None:
        outcome = _analyse_chunk(target, running, mirror, services)
    else:
        outcome = _start(target, mirror, services)
    log.info(
        "ledger of %s: %s",
        target.full_name,
        outcome,
        extra={"repository": target.full_name, "outcome": outcome},
    )
    return outcome


def _start(target: Target, mirror, services: Services) -> str:
    client = services.github.installation(target.installation_id)
    branch = target.branch or client.default_branch(target.full_name)
    token = services.github.token(target.installation_id)
    try:
        tip = gitmirror.fetch_branch(mirror, branch, token)
    except gitmirror.MirrorError as error:
        if "couldn't find remote ref" not in str(error):
            raise
        return "empty"  # a repository without a commit yet: its first push brings the ledger
    with services.sessions() as session:
        last = store.last_ledger_commit(session, target.full_name)
        since_full = store.commits_since_full(session, target.full_name)
    if last is not None and last.sha == tip:
        return "up-to-date"
    catalogue = _catalogue(mirror, tip)
    files = gitmirror.list_files(mirror, tip)
    selected = {p for _, group in configs_at(mirror, tip, files) for p in group}
    incremental = (
        last is not None
        and last.catalogue == catalogue
        and since_full is not None
        and since_full < services.settings.ledger_full_every
        and gitmirror.resolve(mirror, last.sha) is not None
    )
    if incremental:
        present, gone = gitmirror.changed_paths(mirror, last.sha, tip)
        # A sub-project's settings changed: its files are judged anew, so judge them all.
        incremental = not any(p.rpartition("/")[2] in CONFIG_FILES for p in present | gone)
    if incremental:
        with services.sessions() as session:
            reading_others = store.open_paths(session, target.full_name, _repository_rule_codes())
        to_analyse = (present | reading_others) & selected
        decided = present | gone | reading_others
        scope = "changed"
    else:
        to_analyse, decided, scope = selected, selected, "full"
    # Every chunk's rules that read other files need the facts of all Python files: gathered
    # first, a chunk a job, unless this analysis is one chunk anyway.
    to_summarise = (
        sorted(p for p in files if p.endswith(".py"))
        if len(to_analyse) > services.settings.ledger_chunk_files
        else []
    )
    pull = client.merged_pull_of(target.full_name, tip)
    with services.sessions() as session:
        state = store.start_ledger_commit(
            session,
            target.full_name,
            tip,
            scope=scope,
            catalogue=catalogue,
            to_analyse=to_analyse,
            analysed_paths=decided,
            recorded_at=services.clock(),
            pull=pull,
            to_summarise=to_summarise,
        )
    return _analyse_chunk(target, state, mirror, services)


def _analyse_chunk(target: Target, state: store.LedgerState, mirror, services: Services) -> str:
    if state.to_summarise:
        return _summarise_chunk(target, state, mirror, services)
    chunk = list(state.remaining[: services.settings.ledger_chunk_files])
    if chunk:
        result = services.run_analysis(
            analyse_at, mirror, state.sha, chunk, facts_cache=services.facts_cache
        )
        with services.sessions() as session:
            state = store.add_ledger_findings(
                session, state.id, [f.to_json() for f in result.findings], chunk
            )
    if state.remaining:
        _queue(services, target, f"continue:{target.full_name}:{state.id}:{len(state.remaining)}")
        return f"analysed {len(chunk)} files of {state.sha[:12]}, {len(state.remaining)} to go"
    with services.sessions() as session:
        opened, closed = store.finish_ledger_commit(session, state.id, services.clock())
    # The branch may have moved while this commit was analysed: catch up at once.
    _queue(services, target, f"catch-up:{target.full_name}:{state.id}")
    return f"{state.sha[:12]} recorded ({state.scope}): {opened} opened, {closed} closed"


def _summarise_chunk(target: Target, state: store.LedgerState, mirror, services: Services) -> str:
    chunk = list(state.to_summarise[: services.settings.ledger_chunk_files])
    services.run_analysis(summarise_at, mirror, state.sha, chunk, services.facts_cache)
    with services.sessions() as session:
        state = store.summarised(session, state.id, chunk)
    left = len(state.to_summarise)
    _queue(services, target, f"summarise:{target.full_name}:{state.id}:{left}")
    return f"summarised {len(chunk)} files of {state.sha[:12]}, {left} to go"


def _queue(services: Services, target: Target, key: str) -> None:
    payload = {
        "installation": {"id": target.installation_id},
        "repository": {"full_name": target.full_name, "default_branch": target.branch},
    }
    with services.sessions() as session:
        recorded = store.record_delivery(
            session,
            f"ledger:{key}",
            EVENT,
            "analyse",
            json.dumps(payload),
            ledger_subject(target.full_name),
        )
    if recorded is not None:
        services.enqueue(recorded)


def _target(payload: dict[str, Any], branch: str | None) -> Target:
    try:
        return Target(
            int(payload["installation"]["id"]), str(payload["repository"]["full_name"]), branch
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PayloadError(f"ledger payload lacks {error}") from None


def _catalogue(mirror, sha: str) -> str:
    """What makes two analyses comparable: the rules there are and the root configuration."""
    digest = hashlib.sha256()
    digest.update(_version().encode())
    digest.update(",".join(rule.code for rule in all_rules()).encode())
    for name in CONFIG_FILES:
        try:
            digest.update(gitmirror.read_file(mirror, sha, name))
        except FileNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()[:32]


def _version() -> str:
    try:
        return metadata.version("debtbot")
    except metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "source"


def _repository_rule_codes() -> set[str]:
    return {rule.code for rule in all_rules() if rule.check_repository is not None}
