"""Who is looking at the dashboard, and what they may see.

Sign-in is GitHub's user authorization of the App: ``/dashboard/login`` sends the browser to
GitHub with a random ``state`` (kept in a short-lived signed cookie), GitHub sends it back to
``/dashboard/callback`` with a code, traded for the person's token. The session lives in the
store (so it survives restarts and logging out ends it for good); the cookie carries only its
random id, signed. What the person may see is GitHub's answer for their token, asked again
after ``DASHBOARD_ACCESS_SECONDS``: an account's pages need membership of the organisation (or
being that user), a repository's need GitHub to list it among the repositories they can read.
Anything else is a 404, the same as what does not exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from bot import store
from bot.github import oauth
from bot.github.errors import GitHubError
from bot.settings import Settings
from bot.webpage import page

log = logging.getLogger(__name__)
router = APIRouter()

SESSION_COOKIE = "debtbot_session"
STATE_COOKIE = "debtbot_sign_in"
STATE_SECONDS = 600
# A token this close to its expiry is refreshed before it is used.
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what GitHub says they may see (logins and names lower case)."""

    login: str
    accounts: frozenset[str]
    repositories: frozenset[str]

    def may_see_account(self, account: str) -> bool:
        return account.lower() in self.accounts

    def may_read(self, full_name: str) -> bool:
        return full_name.lower() in self.repositories


class SignInNeeded(Exception):
    """The request has no valid session."""


def require_account(viewer: Viewer, account: str) -> None:
    if not viewer.may_see_account(account):
        raise HTTPException(404, "Not Found")


def require_repository(viewer: Viewer, full_name: str) -> None:
    if not viewer.may_read(full_name):
        raise HTTPException(404, "Not Found")


# --- the signed cookies and the encrypted tokens -------------------------------------------------


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_key(), salt=f"debtbot {purpose}")


def _fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(settings.session_key() + b" token encryption").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def _callback_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/dashboard/callback"


def _local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/dashboard"
    return target


# --- the routes ------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(_settings)]


@router.get("/dashboard/login", response_class=HTMLResponse)
async def login(settings: AppSettings, next: str | None = None) -> Response:
    if not settings.github_client_id or not settings.github_client_secret:
        return page(
            "Sign-in is not set up",
            "<h1>Sign-in is not set up</h1><p>The dashboard signs people in with GitHub. Set "
            "<code>GITHUB_CLIENT_ID</code> and <code>GITHUB_CLIENT_SECRET</code> (the App's "
            "client id and a client secret, from its settings page on GitHub) and restart.</p>",
            status_code=503,
        )
    state = secrets.token_urlsafe(32)
    target = oauth.authorize_url(
        settings.github_url, settings.github_client_id, _callback_url(settings), state
    )
    response = RedirectResponse(target, status_code=303)
    signed = _serializer(settings, "sign-in").dumps({"state": state, "next": _local_path(next)})
    response.set_cookie(
        STATE_COOKIE,
        signed,
        max_age=STATE_SECONDS,
        path="/dashboard",
        httponly=True,
        secure=_secure(settings),
        samesite="lax",
    )
    return response


@router.get("/dashboard/callback", response_class=HTMLResponse)
async def callback(
    request: Request,
    settings: AppSettings,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    if error:
        return _refused(f"GitHub did not sign you in ({error}).", 403)
    try:
        expected = _serializer(settings, "sign-in").loads(
            request.cookies.get(STATE_COOKIE, ""), max_age=STATE_SECONDS
        )
    except BadSignature:
        expected = None
    if (
        not code
        or not state
        or not expected
        or not secrets.compare_digest(str(expected.get("state", "")), state)
    ):
        return _refused("This sign-in was not started here, or took longer than ten minutes.", 400)
    try:
        token = await oauth.exchange_code(
            settings.github_url,
            settings.github_client_id or "",
            settings.github_client_secret or "",
            code,
            _callback_url(settings),
        )
        access = await oauth.user_access(settings.github_api_url, token.access_token)
    except oauth.SignInError as problem:
        return _refused(str(problem), 400)
    except GitHubError as problem:
        log.warning("sign-in failed: %s", problem)
        return _refused(f"GitHub could not be asked who you are: {problem}", 502)
    session_id = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    cipher = _fernet(settings)
    info = store.WebSessionInfo(
        id_hash=_hash(session_id),
        login=access.login,
        user_id=access.user_id,
        token=cipher.encrypt(token.access_token.encode()).decode(),
        refresh_token=(
            cipher.encrypt(token.refresh_token.encode()).decode() if token.refresh_token else None
        ),
        token_expires_at=token.expires_at,
        expires_at=now + timedelta(seconds=settings.session_max_age_seconds),
        access=_access_json(access),
        access_checked_at=now,
    )
    await run_in_threadpool(_create, request.app.state.session_factory, info, now)
    log.info("%s signed in to the dashboard", access.login, extra={"login": access.login})
    response = RedirectResponse(expected.get("next") or "/dashboard", status_code=303)
    response.delete_cookie(STATE_COOKIE, path="/dashboard")
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(settings, "session").dumps(session_id),
        max_age=settings.session_max_age_seconds,
        path="/",
        httponly=True,
        secure=_secure(settings),
        samesite="lax",
    )
    return response


@router.post("/dashboard/logout")
async def logout(request: Request, settings: AppSettings) -> Response:
    # SameSite=Lax keeps other sites' forms from carrying the cookie here.
    session_id = _session_id(request, settings)
    if session_id is not None:
        await run_in_threadpool(_delete, request.app.state.session_factory, _hash(session_id))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _refused(message: str, status: int) -> HTMLResponse:
    body = (
        f"<h1>Not signed in</h1><p>{escape(message)}</p>"
        '<p><a href="/dashboard/login">Sign in with GitHub</a></p>'
    )
    return page("Not signed in", body, status_code=status)


# --- the dependencies ------------------------------------------------------------------------


async def _viewer(request: Request) -> Viewer:
    settings: Settings = request.app.state.settings
    session_id = _session_id(request, settings)
    if session_id is None:
        raise SignInNeeded
    sessions = request.app.state.session_factory
    now = datetime.now(UTC)
    info = await run_in_threadpool(_read, sessions, _hash(session_id), now)
    if info is None:
        raise SignInNeeded
    access = json.loads(info.access)
    stale = now - info.access_checked_at >= timedelta(seconds=settings.dashboard_access_seconds)
    if stale:
        access = await _ask_again(request, settings, info, now)
    return Viewer(
        login=info.login,
        accounts=frozenset(access["accounts"]),
        repositories=frozenset(access["repositories"]),
    )


async def _ask_again(
    request: Request, settings: Settings, info: store.WebSessionInfo, now: datetime
) -> dict[str, Any]:
    """GitHub's answer as it is now; the session ends when GitHub no longer takes its token."""
    sessions = request.app.state.session_factory
    cipher = _fernet(settings)
    try:
        token = cipher.decrypt(info.token.encode()).decode()
        refreshed = None
        if info.token_expires_at is not None and info.token_expires_at - REFRESH_MARGIN <= now:
            if info.refresh_token is None:
                raise oauth.TokenRevoked("the token expired and cannot be refreshed")
            refreshed = await oauth.refresh(
                settings.github_url,
                settings.github_client_id or "",
                settings.github_client_secret or "",
                cipher.decrypt(info.refresh_token.encode()).decode(),
            )
            token = refreshed.access_token
        access = await oauth.user_access(settings.github_api_url, token)
    except (oauth.TokenRevoked, oauth.SignInError, InvalidToken):
        await run_in_threadpool(_delete, sessions, info.id_hash)
        raise SignInNeeded from None
    except GitHubError as problem:
        # GitHub is down or the limit is spent: refusing everything is the safe answer.
        log.warning("could not ask GitHub what %s may see: %s", info.login, problem)
        raise HTTPException(
            503, "GitHub could not be asked what you may see; try again soon"
        ) from problem
    text = _access_json(access)
    extra: dict[str, Any] = {}
    if refreshed is not None:
        extra = {
            "token": cipher.encrypt(refreshed.access_token.encode()).decode(),
            "refresh_token": (
                cipher.encrypt(refreshed.refresh_token.encode()).decode()
                if refreshed.refresh_token
                else None
            ),
            "token_expires_at": refreshed.expires_at,
        }
    await run_in_threadpool(_update, sessions, info.id_hash, text, now, extra)
    return json.loads(text)


def _access_json(access: oauth.UserAccess) -> str:
    """The accounts and repositories the person may see, among the App's installations."""
    own = access.login.lower()
    accounts = {
        i.account.lower()
        for i in access.installations
        if i.account.lower() == own or i.account.lower() in access.member_of
    }
    return json.dumps({"accounts": sorted(accounts), "repositories": sorted(access.repositories)})


def _session_id(request: Request, settings: Settings) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return _serializer(settings, "session").loads(
            cookie, max_age=settings.session_max_age_seconds
        )
    except BadSignature:
        return None


async def page_viewer(request: Request) -> Viewer:
    try:
        viewer = await _viewer(request)
    except SignInNeeded:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            303,
            "Sign in first",
            headers={"location": "/dashboard/login?" + urlencode({"next": target})},
        ) from None
    return await run_in_threadpool(_installed_only, request.app.state.session_factory, viewer)


async def api_viewer(request: Request) -> Viewer:
    try:
        viewer = await _viewer(request)
    except SignInNeeded:
        raise HTTPException(401, "Sign in at /dashboard/login first") from None
    return await run_in_threadpool(_installed_only, request.app.state.session_factory, viewer)


def _installed_only(sessions, viewer: Viewer) -> Viewer:
    """Keep only what the App still works on: a revoked installation shows nothing."""
    with sessions() as session:
        installations = store.active_installations(session)
        accounts = {i.account.lower() for i in installations}
        repositories = {
            name.lower() for i in installations for name in store.active_repositories(session, i.id)
        }
    return Viewer(
        login=viewer.login,
        accounts=viewer.accounts & accounts,
        repositories=viewer.repositories & repositories,
    )


PageViewer = Annotated[Viewer, Depends(page_viewer)]
ApiViewer = Annotated[Viewer, Depends(api_viewer)]


# --- the store, from the thread pool ---------------------------------------------------------


def _create(sessions, info: store.WebSessionInfo, now: datetime) -> None:
    with sessions() as session:
        store.create_web_session(session, info, now)


def _read(sessions, id_hash: str, now: datetime) -> store.WebSessionInfo | None:
    with sessions() as session:
        return store.web_session(session, id_hash, now)


def _update(sessions, id_hash: str, access: str, now: datetime, extra: dict[str, Any]) -> None:
    with sessions() as session:
        store.update_web_session(session, id_hash, access=access, checked_at=now, **extra)


def _delete(sessions, id_hash: str) -> None:
    with sessions() as session:
        store.delete_web_session(session, id_hash)
