"""Signing a person in with GitHub (the App's user authorization), and asking GitHub, as that
person, what they may see: the calls PyGithub does not make, with httpx.

The authorization code is traded at ``{GITHUB_URL}/login/oauth/access_token``, which answers a
bad or used code with 200 and an ``error`` field, not with an error status. The App's user
tokens expire (8 hours) and come with a refresh token. What a person may see is GitHub's own
answer for their token: the App's installations they can reach, the repositories of each that
they can read (``/user/installations/{id}/repositories``, which PyGithub lacks), and whether
they are a member of each organisation.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.github.errors import GitHubError, IncompleteAnswer, NotFound, Unavailable
from bot.github.manifest import refusal

TIMEOUT_SECONDS = 15.0
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class SignInError(GitHubError):
    """GitHub refused the sign-in (a bad, used or expired code; a refresh token that no longer
    works): the person must sign in again."""


class TokenRevoked(GitHubError):
    """GitHub no longer accepts the person's token (401)."""


@dataclass(frozen=True)
class UserToken:
    access_token: str = field(repr=False)
    expires_at: datetime | None  # None: a token that does not expire
    refresh_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Installation:
    id: int
    account: str
    account_type: str  # "Organization" or "User"


@dataclass(frozen=True)
class UserAccess:
    """What GitHub says the person may see of the App's installations."""

    login: str
    user_id: int
    installations: tuple[Installation, ...]
    repositories: frozenset[str]  # full names, lower case
    member_of: frozenset[str]  # organisation logins, lower case


def authorize_url(github_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "state": state})
    return f"{github_url.rstrip('/')}/login/oauth/authorize?{query}"


async def exchange_code(
    github_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str
) -> UserToken:
    return await _token(
        github_url,
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        },
    )


async def refresh(
    github_url: str, client_id: str, client_secret: str, refresh_token: str
) -> UserToken:
    return await _token(
        github_url,
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
    )


async def _token(github_url: str, form: dict[str, str]) -> UserToken:
    url = f"{github_url.rstrip('/')}/login/oauth/access_token"
    async with _client({"Accept": "application/json"}) as client:
        response = await _send(client, "POST", url, data=form)
    if response.status_code != 200:
        raise refusal(response)
    body = _json(response)
    if not isinstance(body, dict):
        raise IncompleteAnswer("GitHub's token answer is not a JSON object", 200)
    if "error" in body:
        raise SignInError(
            f"GitHub refused the sign-in: {body.get('error_description') or body['error']}", 200
        )
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise IncompleteAnswer("GitHub's token answer has no access_token", 200)
    lifetime = body.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=int(lifetime))
        if isinstance(lifetime, int | str) and str(lifetime).isdigit()
        else None
    )
    refresh_token = (
        body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None
    )
    return UserToken(token, expires_at, refresh_token or None)


async def user_access(api_url: str, token: str) -> UserAccess:
    """Ask GitHub, with the person's token, what they may see of the App's installations."""
    headers = API_HEADERS | {"Authorization": f"Bearer {token}"}
    base = api_url.rstrip("/")
    async with _client(headers) as client:
        user = await _get(client, f"{base}/user")
        installations = [
            Installation(
                int(i["id"]), str(i["account"]["login"]), str(i["account"].get("type", ""))
            )
            async for i in _pages(client, f"{base}/user/installations", "installations")
        ]
        repositories: set[str] = set()
        members: set[str] = set()
        for installation in installations:
            listing = f"{base}/user/installations/{installation.id}/repositories"
            async for repository in _pages(client, listing, "repositories"):
                repositories.add(str(repository["full_name"]).lower())
            if installation.account_type == "Organization" and await _member(
                client, base, installation.account
            ):
                members.add(installation.account.lower())
    try:
        return UserAccess(
            login=str(user["login"]),
            user_id=int(user["id"]),
            installations=tuple(installations),
            repositories=frozenset(repositories),
            member_of=frozenset(members),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise IncompleteAnswer(f"GitHub's /user answer lacks {error}") from None


def _installation(item: dict[str, Any]) -> Installation:
    try:
        account = item["account"]
        return Installation(int(item["id"]), str(account["login"]), str(account.get("type", "")))
    except (KeyError, TypeError, ValueError) as error:
        raise IncompleteAnswer(f"an installation in GitHub's answer lacks {error}") from None


async def _member(client: httpx.AsyncClient, base: str, organisation: str) -> bool:
    try:
        membership = await _get(client, f"{base}/user/memberships/orgs/{organisation}")
    except NotFound:
        return False  # GitHub answers 404 to whoever is not a member
    return isinstance(membership, dict) and membership.get("state") == "active"


async def _pages(client: httpx.AsyncClient, url: str, key: str) -> AsyncIterator[dict[str, Any]]:
    next_url: str | None = f"{url}?per_page=100"
    seen: set[str] = set()
    while next_url:
        if next_url in seen:
            raise IncompleteAnswer(f"GitHub's pages of {url} lead back to the same page")
        seen.add(next_url)
        response = await _send(client, "GET", next_url)
        body = _checked(response)
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise IncompleteAnswer(f"GitHub's answer to {url} has no {key} list")
        for item in items:
            yield item
        found = _NEXT.search(response.headers.get("link", ""))
        next_url = found.group(1) if found else None


async def _get(client: httpx.AsyncClient, url: str) -> Any:
    return _checked(await _send(client, "GET", url))


def _checked(response: httpx.Response) -> Any:
    if response.status_code == 401:
        raise TokenRevoked("GitHub no longer accepts this sign-in", 401)
    if response.status_code != 200:
        raise refusal(response)
    return _json(response)


async def _send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise Unavailable(f"GitHub did not answer within {TIMEOUT_SECONDS:g} seconds") from error
    except httpx.TransportError as error:
        raise Unavailable(f"no answer from GitHub: {type(error).__name__}: {error}") from error


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise IncompleteAnswer("GitHub's answer is not JSON", response.status_code) from None


def _client(headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT_SECONDS, headers=headers, follow_redirects=False)
