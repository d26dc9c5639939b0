"""``GET /``: the App's home page, for whoever runs it: is it healthy, where is it installed."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from bot import store
from bot.webpage import page

router = APIRouter()


def _installations(session_factory) -> list[store.InstallationInfo]:
    with session_factory() as session:
        return store.active_installations(session)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    state = request.app.state
    try:
        installations = await run_in_threadpool(_installations, state.session_factory)
        database = "ok"
    except SQLAlchemyError as error:
        installations, database = [], f"does not answer ({type(error).__name__})"
    worker = state.worker
    if worker is None:
        running = "not running in this process"
    else:
        running = "running" if worker.alive else "stopped"
    settings = state.settings
    if installations:
        accounts = "".join(
            f'<li><a href="{escape(settings.github_url)}/{escape(i.account)}">'
            f"{escape(i.account)}</a> (installation {i.id}, since {i.created_at:%Y-%m-%d})</li>"
            for i in installations
        )
        where = f"<ul>{accounts}</ul>"
    else:
        where = (
            "<p>No account has installed the App yet. Install it from its page on GitHub "
            "(Settings, Developer settings, GitHub Apps, then Install App).</p>"
        )
    body = (
        "<h1>debtbot</h1><p>Reviews Python pull requests for machine-learning technical "
        "debt.</p><h2>Status</h2>"
        f"<ul><li>Database: {escape(database)}</li><li>Worker: {escape(running)}</li>"
        f"<li>Webhooks are received at <code>{escape(settings.public_url)}/webhook</code></li>"
        "</ul><h2>Installed on</h2>"
        f"{where}"
        '<p><a href="/rules">The rules</a> · <a href="/healthz">Health</a> · '
        '<a href="/metrics">Metrics</a></p>'
    )
    return page("Home", body)
