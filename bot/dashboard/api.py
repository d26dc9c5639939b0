"""The dashboard's figures as JSON, under the same rules of who may see what as its pages."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from bot.dashboard import reading
from bot.dashboard.auth import ApiViewer, require_account, require_repository
from bot.ledger import figures

router = APIRouter()


@router.get("/dashboard/api/accounts")
async def accounts(request: Request, viewer: ApiViewer) -> dict:
    sessions = request.app.state.session_factory
    names, repositories = await run_in_threadpool(reading.visible, sessions, viewer)
    return {"viewer": viewer.login, "accounts": names, "repositories": repositories}


@router.get("/dashboard/api/accounts/{account}")
async def account(request: Request, account: str, viewer: ApiViewer) -> dict:
    require_account(viewer, account)
    sessions = request.app.state.session_factory
    found = await run_in_threadpool(reading.account, sessions, account, viewer)
    return figures.account_json(found)


@router.get("/dashboard/api/repos/{owner}/{name}")
async def repository(request: Request, owner: str, name: str, viewer: ApiViewer) -> dict:
    full_name = f"{owner}/{name}"
    require_repository(viewer, full_name)
    sessions = request.app.state.session_factory
    found = await run_in_threadpool(reading.repository, sessions, full_name)
    if found is None:
        raise HTTPException(404, f"{full_name} has no finished analysis yet")
    return figures.repository_json(found)
