"""``POST /webhook``: verify, record, acknowledge. The work itself runs on the worker.

Order matters: the body is read (bounded) and its signature checked before anything is parsed,
so an unsigned request costs nothing and stores nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot import store
from bot.app import payloads
from bot.metrics import DELIVERIES

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
# GitHub's event names (``pull_request``) and delivery ids (a UUID); what does not look like
# one is refused before it reaches a log line or the store.
_EVENT = re.compile(r"[a-z_.]{1,64}")
_DELIVERY = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger(__name__)

router = APIRouter()


class BodyTooLarge(Exception):
    pass


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header GitHub sends for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks, size = [], 0
    # The declared length can lie (or be absent with chunked encoding): count what arrives.
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status_code: int, outcome: str, detail: str = "", **extra: Any) -> JSONResponse:
    content: dict[str, Any] = {"status": outcome, **extra}
    if detail:
        content["detail"] = detail
    return JSONResponse(content, status_code=status_code)


@router.post("/webhook")
async def receive_webhook(request: Request) -> JSONResponse:
    state = request.app.state
    try:
        body = await _read_body(request)
    except BodyTooLarge:
        DELIVERIES.labels("", "rejected").inc()
        return _answer(413, "rejected", f"body over {MAX_BODY_BYTES} bytes")
    if not signature_matches(
        state.settings.github_webhook_secret, body, request.headers.get("x-hub-signature-256")
    ):
        DELIVERIES.labels("", "rejected").inc()
        return _answer(401, "rejected", "missing or wrong X-Hub-Signature-256")

    event = request.headers.get("x-github-event", "")
    delivery_id = request.headers.get("x-github-delivery", "")
    if not event or not delivery_id:
        return _answer(400, "rejected", "X-GitHub-Event and X-GitHub-Delivery are required")
    if not _EVENT.fullmatch(event) or not _DELIVERY.fullmatch(delivery_id):
        return _answer(400, "rejected", "X-GitHub-Event or X-GitHub-Delivery is malformed")
    content_type = request.headers.get("content-type", "application/json")
    if content_type.split(";")[0].strip().lower() != "application/json":
        # GitHub's other choice, a form: the App's webhook is registered as JSON.
        return _answer(415, "rejected", "set the webhook's content type to application/json")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _answer(400, "rejected", "the body is not UTF-8 JSON")
    if not isinstance(payload, dict):
        return _answer(400, "rejected", "the body is not a JSON object")

    if event == "ping":
        DELIVERIES.labels(event, "received").inc()
        return _answer(200, "pong")
    action = payload.get("action") or ""
    if not isinstance(action, str):
        DELIVERIES.labels("", "rejected").inc()
        return _answer(400, "rejected", "action: not a string")
    # "debtbot." events are the App's own jobs, never GitHub's.
    route = None if event.startswith("debtbot.") else state.routes.get((event, action))
    if route is None:
        # Not recorded: the App has nothing to do with it, and storing every payload GitHub
        # sends would only grow the database.
        DELIVERIES.labels(event, "ignored").inc()
        return _answer(202, "ignored")
    if route.payload is not None:
        try:
            route.payload.model_validate(payload)
        except payloads.ValidationError as error:
            DELIVERIES.labels(event, "rejected").inc()
            detail = payloads.problem(error)
            log.warning("delivery %s (%s.%s) refused: %s", delivery_id, event, action, detail)
            return _answer(400, "rejected", detail)

    recorded = await run_in_threadpool(
        _record, state.session_factory, delivery_id, event, action, text, route.subject(payload)
    )
    if recorded is None:
        DELIVERIES.labels(event, "duplicate").inc()
        return _answer(200, "duplicate", delivery=delivery_id)
    DELIVERIES.labels(event, "received").inc()
    if state.enqueue is not None:
        await run_in_threadpool(state.enqueue, recorded)
    return _answer(202, "queued", delivery=delivery_id)


def _record(session_factory, delivery_id, event, action, text: str, subject: str) -> int | None:
    with session_factory() as session:
        return store.record_delivery(session, delivery_id, event, action, text, subject)
