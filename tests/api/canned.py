"""Tiny canned servers on loopback, for what a faithful simulator never says."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
import contextlib

from aiohttp import web
from aiohttp.test_utils import TestServer

__all__ = ["Handler", "json_reply", "serve_app"]

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def serve_app(handle: Handler) -> AsyncIterator[str]:
    """Serve ``handle`` for every method and path on 127.0.0.1; yields ``host:port``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"127.0.0.1:{server.port}"
    finally:
        await server.close()


def json_reply(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Handler:
    """A handler answering ``body`` as JSON."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, status=status, headers=headers)

    return handler
