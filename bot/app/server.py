"""The App's web server: ``create_app()`` wires routers, the store and the worker;
``setup_mode_app()`` the setup pages that become the App once registered; ``serve()``."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from html import escape

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import logs, store
from bot.analysis import AnalysisProcesses
from bot.app import events, home, pages, setup, webhooks
from bot.app.dispatch import Dispatcher
from bot.app.worker import RetryPolicy, start_worker
from bot.metrics import QUEUE, exposition
from bot.services import Services
from bot.settings import (
    DEFAULT_SHUTDOWN_GRACE_SECONDS,
    Settings,
    SettingsError,
    SetupSettings,
    credentials_given,
    get_settings,
    load_settings,
    load_setup_settings,
)
from bot.summaries import schedule
from bot.webpage import page

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    routes: Mapping[tuple[str, str], events.Route] | None = None,
    run_worker: bool = True,
) -> FastAPI:
    """The FastAPI app. ``routes`` replaces the event table (tests); ``run_worker=False`` records
    deliveries without running them, and posts no weekly summaries. With ``REDIS_URL`` set the
    deliveries go to Celery workers (``debtbot worker``), which also post the summaries."""
    settings = settings or get_settings()
    engine = store.make_engine(settings.database_url)
    session_factory = store.make_session_factory(engine)
    services = Services.from_settings(settings, session_factory)
    in_process = run_worker and not settings.redis_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.prepare_schema(engine)
        analysers = None
        if in_process:
            threads = settings.worker_threads or os.cpu_count() or 1
            jobs = services
            if settings.analysis_processes:
                analysers = AnalysisProcesses(threads)
                jobs = replace(services, run_analysis=analysers.run)
            app.state.worker = start_worker(
                app.state.routes,
                jobs,
                RetryPolicy.from_settings(settings),
                settings.worker_poll_seconds,
                settings.worker_lease_seconds,
                threads,
            )
        if in_process and settings.summaries:
            app.state.scheduler = schedule.start_scheduler(services, settings.summary_check_seconds)
        try:
            yield
        finally:
            # Both get the same grace period, not one after the other.
            grace_ends = time.monotonic() + settings.shutdown_grace_seconds
            if app.state.scheduler is not None:
                app.state.scheduler.stopping.set()
            if app.state.worker is not None:
                app.state.worker.stop(settings.shutdown_grace_seconds)
            if analysers is not None:
                analysers.stop()
            if app.state.scheduler is not None:
                app.state.scheduler.stop(max(grace_ends - time.monotonic(), 0))
            engine.dispose()

    app = FastAPI(title="debtbot", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.routes = events.ROUTES if routes is None else routes
    app.state.worker = None
    app.state.scheduler = None
    app.state.enqueue = _enqueue(app, settings) if run_worker else None
    app.include_router(webhooks.router)
    app.include_router(home.router)
    app.include_router(pages.router)
    _add_dashboard(app)
    app.add_api_route("/healthz", healthz, methods=["GET"])
    app.add_api_route("/metrics", metrics, methods=["GET"])
    return app


def _add_dashboard(app: FastAPI) -> None:
    from bot.dashboard import api, auth, charts
    from bot.dashboard import pages as dashboard_pages

    for router in (auth.router, dashboard_pages.router, api.router, charts.router):
        app.include_router(router)

    @app.exception_handler(StarletteHTTPException)
    async def dashboard_errors(request: Request, error: StarletteHTTPException) -> Response:
        # The dashboard's pages answer in HTML, as the rest of the App's pages; its API and
        # every other route keep FastAPI's JSON.
        path = request.url.path
        if (
            path.startswith("/dashboard")
            and not path.startswith("/dashboard/api")
            and (error.status_code in (404, 503))
        ):
            title = "Not found" if error.status_code == 404 else "Unavailable"
            text = (
                "There is nothing here, or nothing you may see."
                if error.status_code == 404
                else str(error.detail)
            )
            return page(
                title, f"<h1>{title}</h1><p>{escape(text)}</p>", status_code=error.status_code
            )
        return await http_exception_handler(request, error)


def _enqueue(app: FastAPI, settings: Settings) -> Callable[[int], None]:
    """How the webhook hands a recorded delivery to the workers."""
    if settings.redis_url:
        from bot.app import tasks  # Celery is loaded only by installations that use it

        return tasks.sender(tasks.make_celery(settings))

    def wake(delivery_id: int) -> None:
        if app.state.worker is not None:
            app.state.worker.wake()

    return wake


def _database_answers(session_factory) -> bool:
    with session_factory() as session:
        return store.database_answers(session)


async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    try:
        await run_in_threadpool(_database_answers, state.session_factory)
    except SQLAlchemyError as error:
        return JSONResponse(
            {"status": "unhealthy", "database": type(error).__name__}, status_code=503
        )
    worker, scheduler = state.worker, state.scheduler
    if worker is not None and not worker.alive:
        return JSONResponse({"status": "unhealthy", "worker": "stopped"}, status_code=503)
    if scheduler is not None and not scheduler.thread.is_alive():
        return JSONResponse({"status": "unhealthy", "summaries": "stopped"}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "worker": "celery" if state.settings.redis_url else worker is not None,
            "summaries": scheduler is not None,
        }
    )


def _queue_counts(session_factory) -> dict[str, int]:
    with session_factory() as session:
        return store.delivery_counts(session)


async def metrics(request: Request) -> Response:
    counts = await run_in_threadpool(_queue_counts, request.app.state.session_factory)
    for status in store.DELIVERY_STATUSES:
        QUEUE.labels(status).set(counts.get(status, 0))
    body, content_type = exposition()
    return Response(body, media_type=content_type)


def setup_mode_app(settings: SetupSettings, **options) -> Dispatcher:
    """The setup pages until the App is registered, then the App itself (``create_app``),
    started in this process. ``options`` go to ``setup.create_setup_app``."""

    async def run_the_app(app_settings: Settings) -> None:
        await dispatcher.switch_to(create_app(app_settings))

    dispatcher = Dispatcher(setup.create_setup_app(settings, run_the_app, **options))
    return dispatcher


def _address(host: str, port: int) -> str:
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def _schema_problem(database_url: str) -> str | None:
    """Why the App cannot start on this database (unreachable, or its schema not this
    version's), before the server binds its port; None when it can. SQLite is brought up to
    date here, as the one-process default."""
    from sqlalchemy.exc import SQLAlchemyError

    engine = store.make_engine(database_url)
    try:
        store.prepare_schema(engine)
    except store.SchemaError as problem:
        return str(problem)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        where = engine.url.render_as_string(hide_password=True)
        return f"The database at {where} cannot be used: {reason}"
    finally:
        engine.dispose()
    return None


def serve(host: str, port: int) -> int:
    """Run the App until interrupted, in setup mode when no credential is set anywhere; 2 when
    the settings are partly given, missing or invalid."""
    import uvicorn
    from pydantic import ValidationError

    try:
        log_settings = logs.LogSettings()
    except ValidationError as error:
        print(f"invalid logging settings (LOG_LEVEL, LOG_FORMAT):\n{error}", file=sys.stderr)
        return 2
    logs.configure(log_settings)
    try:
        if credentials_given():
            settings = load_settings()
            problem = _schema_problem(settings.database_url)
            if problem:
                print(problem, file=sys.stderr)
                return 2
            app = create_app(settings)
            grace = settings.shutdown_grace_seconds
        else:
            setup_settings = load_setup_settings()
            app = setup_mode_app(setup_settings)
            grace = DEFAULT_SHUTDOWN_GRACE_SECONDS
            log.info(
                "No GitHub App credentials (GITHUB_APP_ID) in the environment or .env: starting in "
                "setup mode. Open %s to register the App.",
                setup_settings.public_url or _address(host, port),
            )
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        log_config=None,
        # Requests still open when the process is told to stop get the same grace as jobs.
        timeout_graceful_shutdown=grace,
    )
    return 0


def work(concurrency: int | None, beat: bool, pool: str) -> int:
    """Run a Celery worker (``debtbot worker``) until stopped; 2 when the settings are missing or
    invalid, REDIS_URL is not set, or the database is not ready."""
    from pydantic import ValidationError

    try:
        logs.configure(logs.LogSettings())
        settings = load_settings()
    except ValidationError as error:
        print(f"invalid logging settings (LOG_LEVEL, LOG_FORMAT):\n{error}", file=sys.stderr)
        return 2
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if not settings.redis_url:
        print(
            "REDIS_URL is not set: without it `debtbot serve` runs the work itself, and a "
            "separate worker has nothing to take work from",
            file=sys.stderr,
        )
        return 2
    problem = _schema_problem(settings.database_url)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from bot.app import tasks

    return tasks.run_worker(settings, concurrency, beat, pool)
