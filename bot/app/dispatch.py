"""An ASGI app that hands every request to the app it currently holds, and can be told to hold
another: how setup mode becomes the App once registered, in the same process and on the same
port, without a restart.

It owns the lifespan: uvicorn's startup starts the first app's, ``switch_to`` starts the next
one's (its worker, its store) before any request reaches it, and uvicorn's shutdown stops them
all, the last started first. Requests already in flight finish on the app they began with.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send


class Dispatcher:
    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._lifespans = AsyncExitStack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.app(scope, receive, send)

    async def switch_to(self, app: Starlette) -> None:
        """Start ``app``'s lifespan, then send it every later request."""
        await self._lifespans.enter_async_context(app.router.lifespan_context(app))
        self.app = app

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            await self._lifespans.enter_async_context(self.app.router.lifespan_context(self.app))
        except Exception as error:
            await send({"type": "lifespan.startup.failed", "message": repr(error)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        try:
            await self._lifespans.aclose()
        except Exception as error:
            await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
            return
        await send({"type": "lifespan.shutdown.complete"})
