"""The end of GitHub's manifest flow, which PyGithub does not cover: trading the code GitHub
gives the browser after registering an App for the App's id and secrets.

``POST {api}/app-manifests/{code}/conversions`` needs no authentication (the code, valid for an
hour and once, is the credential), so a plain httpx call does. Its errors are
:mod:`bot.github.errors`, as the rest of the App's GitHub calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx

from bot.github.errors import (
    Forbidden,
    GitHubError,
    IncompleteAnswer,
    NotFound,
    RateLimited,
    Unavailable,
    Unprocessable,
)
from bot.settings import looks_like_pem_private_key

TIMEOUT_SECONDS = 15.0
HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "debtbot",
}


@dataclass(frozen=True)
class RegisteredApp:
    """What GitHub hands back for a new App. The secrets stay out of repr, hence out of logs."""

    id: int
    slug: str
    html_url: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    client_secret: str = field(repr=False)


async def convert_manifest_code(
    api_url: str, code: str, timeout: float = TIMEOUT_SECONDS
) -> RegisteredApp:
    """The App GitHub registered for ``code``; a GitHubError when GitHub refuses or fails."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    try:
        async with httpx.AsyncClient(timeout=timeout, headers=HEADERS) as client:
            response = await client.post(url)
    except httpx.TimeoutException as error:
        raise Unavailable(f"GitHub did not answer within {timeout:g} seconds") from error
    except httpx.TransportError as error:
        raise Unavailable(f"no answer from GitHub: {type(error).__name__}: {error}") from error
    if response.status_code == 201:
        return _registered_app(response)
    raise refusal(response)


def _registered_app(response: httpx.Response) -> RegisteredApp:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise IncompleteAnswer("GitHub's answer is not a JSON object", response.status_code)
    texts = ("slug", "html_url", "client_id", "pem", "webhook_secret", "client_secret")
    lacking = [] if isinstance(body.get("id"), int) and body["id"] > 0 else ["id"]
    lacking += [name for name in texts if not isinstance(body.get(name), str) or not body[name]]
    if "pem" not in lacking and not looks_like_pem_private_key(body["pem"]):
        lacking.append("pem")
    if lacking:
        raise IncompleteAnswer(
            f"GitHub's answer lacks a valid {', '.join(lacking)}", response.status_code
        )
    return RegisteredApp(
        id=body["id"],
        slug=body["slug"],
        html_url=body["html_url"].rstrip("/"),
        client_id=body["client_id"],
        pem=body["pem"],
        webhook_secret=body["webhook_secret"],
        client_secret=body["client_secret"],
    )


def refusal(response: httpx.Response) -> GitHubError:
    status = response.status_code
    try:
        said = response.json().get("message")
    except (ValueError, AttributeError):
        said = None
    message = f"GitHub answered {status}: {said or response.reason_phrase or 'no message'}"
    headers = response.headers
    if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        retry_at = datetime.fromtimestamp(int(reset), UTC) if reset.isdigit() else None
        return RateLimited(message, status, retry_at)
    if status in (403, 429) and headers.get("retry-after", "").isdigit():
        retry_at = datetime.now(UTC) + timedelta(seconds=int(headers["retry-after"]))
        return RateLimited(message, status, retry_at)
    if status in (404, 410):
        return NotFound(message, status)
    if status == 422:
        return Unprocessable(message, status)
    if status == 403:
        return Forbidden(message, status)
    if status >= 500:
        return Unavailable(message, status)
    return GitHubError(message, status)
