"""Which webhook event does what: one table, ``ROUTES``, from (event, action) to a handler.

The webhook endpoint consults the table to decide what to record (and which payload fields must
be present); the worker consults it again to run the handler. Events and actions absent from the
table are acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import store
from bot.domain import PayloadError
from bot.services import Services

Handler = Callable[[dict[str, Any], Services], None]


@dataclass(frozen=True)
class Route:
    handler: Handler
    # Dotted paths the payload must have for the handler to do its work; checked at the webhook
    # so that a malformed payload is refused with a 400 instead of failing on the worker.
    required: tuple[str, ...]
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
            store.set_installation_repositories(
                session, installation["id"], added=_repositories(payload.get("repositories"))
            )


def installation_repositories_changed(payload: dict[str, Any], services: Services) -> None:
    installation = payload["installation"]
    with services.sessions() as session:
        store.upsert_installation(
            session,
            installation["id"],
            installation["account"]["login"],
            installation["account"].get("type", ""),
        )
        store.set_installation_repositories(
            session,
            installation["id"],
            added=_repositories(payload["repositories_added"]),
            removed=_repositories(payload["repositories_removed"]),
        )


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


def _installation_subject(payload: dict[str, Any]) -> str:
    return f"installation:{payload['installation']['id']}"


PULL_REQUEST_FIELDS = (
    "installation.id",
    "repository.full_name",
    "repository.name",
    "repository.owner.login",
    "pull_request.number",
    "pull_request.head.sha",
    "pull_request.base.ref",
    "pull_request.base.sha",
)
# Not issue.pull_request: comments on plain issues arrive too, and are ignored by the handler.
ISSUE_COMMENT_FIELDS = (
    "installation.id",
    "repository.full_name",
    "issue.number",
    "comment.id",
    "comment.user.login",
)
INSTALLATION_FIELDS = ("installation.id", "installation.account.login")
INSTALLATION_REPOSITORIES_FIELDS = (
    *INSTALLATION_FIELDS,
    "repositories_added",
    "repositories_removed",
)

_REVIEW = Route(review_pull_request, PULL_REQUEST_FIELDS, _pull_request_subject)
_COMMENT = Route(answer_comment, ISSUE_COMMENT_FIELDS, _issue_subject)
_INSTALLATION = Route(installation_changed, INSTALLATION_FIELDS, _installation_subject)
_INSTALLATION_REPOSITORIES = Route(
    installation_repositories_changed, INSTALLATION_REPOSITORIES_FIELDS, _installation_subject
)

ROUTES: Mapping[tuple[str, str], Route] = {
    ("pull_request", "opened"): _REVIEW,
    ("pull_request", "reopened"): _REVIEW,
    ("pull_request", "synchronize"): _REVIEW,
    ("pull_request", "ready_for_review"): _REVIEW,
    ("issue_comment", "created"): _COMMENT,
    ("issue_comment", "edited"): _COMMENT,
    ("installation", "created"): _INSTALLATION,
    ("installation", "deleted"): _INSTALLATION,
    ("installation", "suspend"): _INSTALLATION,
    ("installation", "unsuspend"): _INSTALLATION,
    ("installation_repositories", "added"): _INSTALLATION_REPOSITORIES,
    ("installation_repositories", "removed"): _INSTALLATION_REPOSITORIES,
}


def missing_fields(payload: Mapping[str, Any], paths: Iterable[str]) -> list[str]:
    """The dotted paths absent from the payload (or null), in the order given."""
    missing = []
    for path in paths:
        value: Any = payload
        for key in path.split("."):
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            missing.append(path)
    return missing
