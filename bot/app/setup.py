"""Setup mode: ``debtbot serve`` without credentials registers the App through GitHub's manifest
flow, saves its credentials to .env and hands over to the App, with no file edited by hand.

``GET /`` explains and asks who owns the App, where, and its name; ``POST /setup`` answers with
a form that POSTs the manifest (app.yml, filled in) to GitHub with a ``state`` remembered here
for an hour, once; GitHub sends the browser to ``GET /setup/callback`` with a code, traded for
the credentials (bot/github/manifest.py), written to .env (bot/envfile.py), after which
``on_registered`` starts the App in this process and the browser goes on to install it.

Anyone who can reach the server while it is in setup mode can register an App and have its
credentials saved: setup mode is for the operator's first start, and ends with it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.app import manifest, pages, setup_pages
from bot.app.setup_pages import FormValues
from bot.envfile import EnvFileError, write_env_file
from bot.github import errors
from bot.github.manifest import TIMEOUT_SECONDS, RegisteredApp, convert_manifest_code
from bot.settings import (
    ENV_FILE,
    GITHUB_COM,
    Settings,
    SettingsError,
    SetupSettings,
    http_url,
    load_settings,
)

log = logging.getLogger(__name__)

STATE_SECONDS = 3600.0  # as long as GitHub's code is valid
MAX_PENDING = 100  # registrations started and not finished, kept at once
MAX_FORM_BYTES = 16 * 1024
# GitHub's rules for logins: letters, digits and single hyphens, not at either end, 39 at most.
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
MAX_NAME = 34  # GitHub refuses longer App names

OnRegistered = Callable[[Settings], Awaitable[None]]


@dataclass(frozen=True)
class Registration:
    """A registration under way, remembered by its state until GitHub sends the browser back."""

    github_url: str
    api_url: str
    public_url: str
    expires_at: float
    # What GitHub handed back, kept when saving it failed so a retry need not ask again.
    app: RegisteredApp | None = None


class Registrations:
    """The states handed out: each valid for an hour, and taken out when used."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._pending: dict[str, Registration] = {}
        self._lock = threading.Lock()

    def start(self, github_url: str, api_url: str, public_url: str) -> str:
        state = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._pending = {s: r for s, r in self._pending.items() if r.expires_at > now}
            while len(self._pending) >= MAX_PENDING:  # the oldest make way
                del self._pending[next(iter(self._pending))]
            self._pending[state] = Registration(
                github_url, api_url, public_url, now + STATE_SECONDS
            )
        return state

    def take(self, state: str) -> Registration | None:
        """The registration of ``state``, no longer pending; None if unknown or expired."""
        with self._lock:
            registration = self._pending.pop(state, None)
        if registration is None or registration.expires_at <= self._clock():
            return None
        return registration

    def keep(self, state: str, registration: Registration) -> None:
        """Pending again, after a failure the person can retry from the same link."""
        with self._lock:
            self._pending[state] = registration


def create_setup_app(
    settings: SetupSettings,
    on_registered: OnRegistered,
    *,
    clock: Callable[[], float] = time.time,
    github_timeout: float = TIMEOUT_SECONDS,
) -> FastAPI:
    """The setup pages. ``on_registered`` gets the App's settings once they are saved."""
    app = FastAPI(title="debtbot setup", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.setup = settings
    app.state.registrations = Registrations(clock)
    app.state.on_registered = on_registered
    app.state.clock = clock
    app.state.github_timeout = github_timeout
    app.state.finishing = asyncio.Lock()
    app.state.registered = False
    app.add_api_route("/", setup_home, methods=["GET"], response_class=HTMLResponse)
    app.add_api_route("/setup", start_registration, methods=["POST"], response_class=HTMLResponse)
    app.add_api_route("/setup/callback", finish_registration, methods=["GET"])
    app.add_api_route("/healthz", setup_health, methods=["GET"])
    app.include_router(pages.router)
    return app


def env_file() -> Path:
    return Path(ENV_FILE).absolute()


def public_url(request: Request) -> str:
    """PUBLIC_URL, else the address the browser used, as a proxy or tunnel in front reports it."""
    configured = request.app.state.setup.public_url
    if configured:
        return configured
    headers = request.headers
    scheme = headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or request.url.netloc
    return f"{scheme}://{host}{request.scope.get('root_path', '')}".rstrip("/")


async def setup_home(request: Request) -> HTMLResponse:
    settings: SetupSettings = request.app.state.setup
    values = FormValues("user", "", settings.github_url, "debtbot")
    return setup_pages.setup_page(values, public_url(request), env_file())


async def setup_health(request: Request) -> JSONResponse:
    # Up and waiting to be registered: a container's health check should not restart it.
    return JSONResponse({"status": "setup"})


async def start_registration(request: Request) -> HTMLResponse:
    body = await request.body()
    form = {k: v[0] for k, v in parse_qs(body[:MAX_FORM_BYTES].decode(errors="replace")).items()}
    values = FormValues(
        owner=form.get("owner", "user"),
        organisation=form.get("organisation", "").strip(),
        github_url=form.get("github_url", "").strip(),
        name=form.get("name", "").strip(),
    )
    problems = _form_problems(values)
    here = public_url(request)
    if problems:
        return setup_pages.setup_page(values, here, env_file(), problems)
    settings: SetupSettings = request.app.state.setup
    github_url = http_url(values.github_url)
    api_url = manifest.api_url_for(github_url, settings.github_url, settings.github_api_url)
    state = request.app.state.registrations.start(github_url, api_url, here)
    organisation = values.organisation if values.owner == "organisation" else None
    action = manifest.registration_url(github_url, organisation, state)
    account = f"the organisation {organisation}" if organisation else "your personal account"
    return setup_pages.confirm_page(
        action, manifest.app_manifest(here, values.name), account, github_url
    )


def _form_problems(values: FormValues) -> tuple[str, ...]:
    problems = []
    if values.owner not in ("user", "organisation"):
        problems.append("Choose your personal account or an organisation.")
    if values.owner == "organisation" and not LOGIN.match(values.organisation):
        problems.append(
            "The organisation's login is missing or not one GitHub allows (letters, digits and "
            "single hyphens, at most 39)."
        )
    try:
        http_url(values.github_url)
    except ValueError:
        problems.append("The GitHub address must start with https:// (or http://).")
    if not values.name or len(values.name) > MAX_NAME:
        problems.append(f"Give the App a name of at most {MAX_NAME} characters.")
    return tuple(problems)


async def finish_registration(request: Request, code: str = "", state: str = "") -> Response:
    app_state = request.app.state
    registrations: Registrations = app_state.registrations
    retry = f"/setup/callback?{urlencode({'code': code, 'state': state})}"
    # One registration finishes at a time, and only one ever: a second tab's link must not
    # replace the credentials the first one saved.
    async with app_state.finishing:
        if app_state.registered:
            return setup_pages.already_registered()
        registration = registrations.take(state) if state else None
        if registration is None or not code:
            return setup_pages.unknown_state()
        if registration.app is None:
            try:
                registered = await convert_manifest_code(
                    registration.api_url, code, app_state.github_timeout
                )
            except errors.GitHubError as error:
                return _exchange_failed(error, registrations, state, registration, retry)
            registration = replace(registration, app=registered)
        assert registration.app is not None
        try:
            settings = await run_in_threadpool(_save, registration, registration.app)
        except (OSError, EnvFileError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            registrations.keep(state, registration)
            log.error("could not write %s: %s", env_file(), reason)
            return setup_pages.cannot_save(env_file(), reason, retry)
        except SettingsError as error:
            return setup_pages.cannot_start(env_file(), str(error))
        app_state.registered = True
        log.info(
            "registered the GitHub App %s (id %d) on %s; its credentials are in %s",
            registration.app.slug,
            registration.app.id,
            registration.github_url,
            env_file(),
        )
        try:
            await app_state.on_registered(settings)
        except Exception as error:
            log.exception("the App could not start after its registration")
            return setup_pages.cannot_start(env_file(), f"{type(error).__name__}: {error}")
    return RedirectResponse(f"{registration.app.html_url}/installations/new", status_code=303)


def _exchange_failed(
    error: errors.GitHubError,
    registrations: Registrations,
    state: str,
    registration: Registration,
    retry: str,
) -> HTMLResponse:
    log.warning("could not get the registered App's credentials from GitHub: %s", error)
    if isinstance(error, errors.RateLimited | errors.Unavailable):
        registrations.keep(state, registration)  # the code is still good: the link works again
        if isinstance(error, errors.RateLimited):
            return setup_pages.rate_limited(error.retry_at, datetime.now(UTC), retry)
        return setup_pages.unavailable(str(error), retry)
    if isinstance(error, errors.NotFound | errors.Unprocessable):
        return setup_pages.code_rejected(error.status)
    if isinstance(error, errors.IncompleteAnswer):
        return setup_pages.incomplete(str(error))
    return setup_pages.refused(str(error))


def _save(registration: Registration, app: RegisteredApp) -> Settings:
    """Write the credentials to .env, then read the settings back as any later start will."""
    values = {
        "GITHUB_APP_ID": str(app.id),
        "GITHUB_PRIVATE_KEY": app.pem,
        "GITHUB_WEBHOOK_SECRET": app.webhook_secret,
        "GITHUB_CLIENT_ID": app.client_id,
        "GITHUB_CLIENT_SECRET": app.client_secret,
        "PUBLIC_URL": registration.public_url,
    }
    if registration.github_url != GITHUB_COM:
        values |= {"GITHUB_URL": registration.github_url, "GITHUB_API_URL": registration.api_url}
    write_env_file(env_file(), values)
    settings = load_settings()
    # The environment wins over .env: say so when it hides what was just written.
    for name, wanted, got in (
        ("PUBLIC_URL", registration.public_url, settings.public_url),
        ("GITHUB_URL", registration.github_url, settings.github_url),
        ("GITHUB_API_URL", registration.api_url, settings.github_api_url),
    ):
        if wanted != got:
            log.warning("%s in the environment (%s) overrides the %s in .env", name, got, wanted)
    if settings.github_app_id != app.id:
        raise SettingsError(f"GITHUB_APP_ID in the environment overrides the new App's {app.id}")
    return settings
