"""Which webhook event does what: one table, ``ROUTES``, from (event, action) to a handler.

The webhook endpoint consults the table to decide what to record (and the payload's model to
check it against); the worker consults it again to run the handler. Events and actions absent
from the table are acknowledged and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot import store
from bot.app import payloads
from bot.domain import PayloadError
from bot.ledger import ledger_subject
from bot.services import Services

Handler = Callable[[dict[str, Any], Services], None]


@dataclass(frozen=True)
class Route:
    handler: Handler
    # The fields the handler reads, typed (bot.app.payloads); checked at the webhook so that a
    # malformed payload is refused with a 400 instead of failing on the worker. None: nothing
    # is checked.
    payload: type[BaseModel] | None
    # Jobs with the same subject never run at the same time (see store.Delivery).
    subject: Callable[[dict[str, Any]], str]


def review_pull_request(payload: dict[str, Any], services: Services) -> None:
    # Imported here so that the server starts, and other events are handled, even when the
    # review pipeline's heavier imports (git, the engine) fail.
    from bot.review import pipeline

    pipeline.handle_pull_request(payload, services)


def answer_comment(payload: dict[str, Any], services: Services) -> None:
    # Imported here for the same reason as the review pipeline.
    from bot.commands import handler

    handler.handle_issue_comment(payload, services)


def rerun_checks(payload: dict[str, Any], services: Services) -> None:
    """The Re-run button of our check run (or of the whole suite): each open pull request
    whose head is that commit is queued for review as if it had just been pushed. Queued, not
    reviewed here, so that it waits for any review of the same pull request already running."""
    kind = "check_run" if "check_run" in payload else "check_suite"
    sha = payload[kind]["head_sha"]
    repository = payload["repository"]
    installation = int(payload["installation"]["id"])
    client = services.github.installation(installation)
    pulls = client.open_pulls_at(repository["full_name"], sha)
    asked_at = services.clock().isoformat()
    with services.sessions() as session:
        for pull in pulls:
            queued = {
                "action": "synchronize",
                "installation": {"id": installation},
                "repository": repository,
                "pull_request": {
                    "number": pull.number,
                    "head": {"sha": pull.head_sha},
                    "base": {"ref": pull.base_ref, "sha": pull.base_sha},
                },
            }
            recorded = store.record_delivery(
                session,
                f"rerun:{kind}:{payload[kind]['id']}:{pull.number}:{asked_at}",
                "pull_request",
                "synchronize",
                json.dumps(queued),
                _pull_request_subject(queued),
            )
            if recorded is not None:
                services.enqueue(recorded)


def ledger_push(payload: dict[str, Any], services: Services) -> None:
    # Imported here for the same reason as the review pipeline.
    from bot.ledger import record

    record.handle_push(payload, services)


def ledger_step(payload: dict[str, Any], services: Services) -> None:
    from bot.ledger import record

    record.handle_queued(payload, services)


def _queue_backfills(installation_id: int, added: list[store.RepositoryInfo], services: Services,
                     reason: str) -> None:  # fmt: skip
    from bot.ledger import record

    record.queue_backfills(installation_id, [info.full_name for info in added], services, reason)


def installation_changed(payload: dict[str, Any], services: Services) -> None:
    installation = payload["installation"]
    action = payload["action"]
    with services.sessions() as session:
        if action == "deleted":
            store.remove_installation(session, installation["id"])
            return
        store.upsert_installation(
            session,
            installation["id"],
            installation["account"]["login"],
            installation["account"].get("type", ""),
            suspended={"suspend": True, "unsuspend": False}.get(action),
        )
        if action == "created":
            added = _repositories(payload.get("repositories"))
            store.set_installation_repositories(session, installation["id"], added=added)
    if action == "created":
        _queue_backfills(installation["id"], added, services, f"installed:{installation['id']}")


def installation_repositories_changed(payload: dict[str, Any], services: Services) -> None:
    installation = payload["installation"]
    with services.sessions() as session:
        store.upsert_installation(
            session,
            installation["id"],
            installation["account"]["login"],
            installation["account"].get("type", ""),
        )
        added = _repositories(payload["repositories_added"])
        store.set_installation_repositories(
            session,
            installation["id"],
            added=added,
            removed=_repositories(payload["repositories_removed"]),
        )
    _queue_backfills(installation["id"], added, services, f"added:{installation['id']}")


def _repositories(items: Iterable[Mapping[str, Any]] | None) -> list[store.RepositoryInfo]:
    try:
        return [store.RepositoryInfo(item["id"], item["full_name"]) for item in items or ()]
    except (KeyError, TypeError) as error:
        raise PayloadError(f"a repository entry lacks id or full_name: {error}") from error


def _pull_request_subject(payload: dict[str, Any]) -> str:
    return f"{payload['repository']['full_name']}#{payload['pull_request']['number']}"


def _issue_subject(payload: dict[str, Any]) -> str:
    # The same subject as the pull request's reviews: a report never runs beside a review of
    # the same pull request, whose findings it reads.
    return f"{payload['repository']['full_name']}#{payload['issue']['number']}"


def _repository_subject(payload: dict[str, Any]) -> str:
    return payload["repository"]["full_name"]


def _ledger_subject(payload: dict[str, Any]) -> str:
    return ledger_subject(payload["repository"]["full_name"])


def _installation_subject(payload: dict[str, Any]) -> str:
    return f"installation:{payload['installation']['id']}"


_REVIEW = Route(review_pull_request, payloads.PullRequestEvent, _pull_request_subject)
_COMMENT = Route(answer_comment, payloads.IssueCommentEvent, _issue_subject)
_CHECK_RUN_RERUN = Route(rerun_checks, payloads.CheckRunEvent, _repository_subject)
_CHECK_SUITE_RERUN = Route(rerun_checks, payloads.CheckSuiteEvent, _repository_subject)
_INSTALLATION = Route(installation_changed, payloads.InstallationEvent, _installation_subject)
_INSTALLATION_REPOSITORIES = Route(
    installation_repositories_changed,
    payloads.InstallationRepositoriesEvent,
    _installation_subject,
)

_LEDGER_PUSH = Route(ledger_push, payloads.PushEvent, _ledger_subject)
_LEDGER = Route(ledger_step, payloads.LedgerStep, _ledger_subject)

ROUTES: Mapping[tuple[str, str], Route] = {
    ("pull_request", "opened"): _REVIEW,
    ("pull_request", "reopened"): _REVIEW,
    ("pull_request", "synchronize"): _REVIEW,
    ("pull_request", "ready_for_review"): _REVIEW,
    ("check_run", "rerequested"): _CHECK_RUN_RERUN,
    ("check_suite", "rerequested"): _CHECK_SUITE_RERUN,
    ("issue_comment", "created"): _COMMENT,
    ("issue_comment", "edited"): _COMMENT,
    ("installation", "created"): _INSTALLATION,
    ("installation", "deleted"): _INSTALLATION,
    ("installation", "suspend"): _INSTALLATION,
    ("installation", "unsuspend"): _INSTALLATION,
    ("installation_repositories", "added"): _INSTALLATION_REPOSITORIES,
    ("installation_repositories", "removed"): _INSTALLATION_REPOSITORIES,
    # Pushes carry no action. Only the default branch's are recorded, by the ledger's job.
    ("push", ""): _LEDGER_PUSH,
    # The ledger's backfills and next chunks: recorded by the App itself, never by a webhook.
    ("debtbot.ledger", "analyse"): _LEDGER,
}
