"""The shared HTTP exchange (api/http.py): bounded bodies, no redirects, no queries in errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
import contextlib
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
import pytest

from custom_components.solarhub.api import http
from custom_components.solarhub.api.errors import (
    ApiConnectionError,
    NotFoundError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SessionLostError,
    SessionRejectedError,
    SolarHubApiError,
)
from custom_components.solarhub.api.shapes import error_message
from tests.api.canned import serve_app

pytestmark = pytest.mark.usefixtures("socket_enabled")

TIMEOUT = aiohttp.ClientTimeout(total=5)
MB = 1024 * 1024


def _not_found(failure: http.Failure) -> SolarHubApiError:
    return NotFoundError(
        f"{failure.what} answered HTTP {failure.status}: {error_message(failure.body)}"
    )


async def _get(
    session: aiohttp.ClientSession, url: str, *, max_body: int = http.DEFAULT_MAX_BODY
) -> http.Answer:
    return await http.exchange(
        session,
        "GET",
        url,
        path="/thing",
        peer="the device",
        client_timeout=TIMEOUT,
        status_error=_not_found,
        max_body=max_body,
    )


@dataclass
class Streamer:
    """Streams ``total`` bytes in 64 kB chunks, counting what it managed to send."""

    total: int
    status: int = 200
    announce: bool = False
    sent: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=self.status)
        if self.announce:
            response.content_length = self.total
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            while self.sent < self.total:
                await response.write(chunk)
                self.sent += len(chunk)
        except ConnectionError, asyncio.CancelledError:
            pass
        finally:
            self.done.set()
        return response


@contextlib.asynccontextmanager
async def streaming(streamer: Streamer) -> AsyncIterator[str]:
    async with serve_app(streamer.handle) as host:
        yield f"http://{host}/thing"


async def test_a_body_over_the_cap_is_refused_while_streaming(
    http_session: aiohttp.ClientSession,
) -> None:
    streamer = Streamer(total=64 * MB)
    async with streaming(streamer) as url:
        with pytest.raises(ResponseTooLargeError, match=r"GET /thing: .* longer than the 1048576"):
            await _get(http_session, url, max_body=MB)
        await asyncio.wait_for(streamer.done.wait(), 5)
    assert streamer.sent < 16 * MB  # the client stopped reading long before the end


async def test_an_announced_length_over_the_cap_is_refused_unread(
    http_session: aiohttp.ClientSession,
) -> None:
    streamer = Streamer(total=64 * MB, announce=True)
    async with streaming(streamer) as url:
        with pytest.raises(ResponseTooLargeError, match="announces 67108864 bytes"):
            await _get(http_session, url, max_body=MB)
        await asyncio.wait_for(streamer.done.wait(), 5)
    assert streamer.sent < 16 * MB


async def test_a_body_at_the_cap_is_read(http_session: aiohttp.ClientSession) -> None:
    streamer = Streamer(total=MB)
    async with streaming(streamer) as url:
        answer = await _get(http_session, url, max_body=MB)
    assert answer.body == b"x" * MB


async def test_only_the_first_bytes_of_an_error_body_are_read(
    http_session: aiohttp.ClientSession,
) -> None:
    streamer = Streamer(total=64 * MB, status=500)
    async with streaming(streamer) as url:
        with pytest.raises(NotFoundError, match=r"GET /thing answered HTTP 500: 'xxx") as err:
            await _get(http_session, url)
        await asyncio.wait_for(streamer.done.wait(), 5)
    assert len(str(err.value)) < 300
    assert streamer.sent < 16 * MB


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_refused_and_not_followed(
    http_session: aiohttp.ClientSession, status: int
) -> None:
    elsewhere: list[str] = []

    async def other(request: web.Request) -> web.StreamResponse:
        elsewhere.append(request.path)
        return web.Response(text="{}")

    async with serve_app(other) as other_host:

        async def redirect(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": f"http://{other_host}/x"})

        async with serve_app(redirect) as host:
            with pytest.raises(RedirectRefusedError, match=f"GET /thing answered HTTP {status}"):
                await _get(http_session, f"http://{host}/thing")
    assert elsewhere == []


@pytest.mark.parametrize(
    "url",
    ["http://[::1/x?key=SECRET&user_id=42", "ftp://h/x?key=SECRET", "http://h/x#key=SECRET"],
)
async def test_connection_errors_carry_no_url_query(
    http_session: aiohttp.ClientSession, url: str
) -> None:
    with pytest.raises(ApiConnectionError, match="GET /thing: cannot talk to the device") as err:
        await _get(http_session, url)
    assert "SECRET" not in str(err.value)
    assert "42" not in str(err.value)


def test_strip_query() -> None:
    text = "URL('https://api.example.com/v4/systems?key=abc&user_id=9') and http://h/p?x=1 end"
    assert http.strip_query(text) == "URL('https://api.example.com/v4/systems') and http://h/p end"


async def test_a_timeout_is_a_connection_error(http_session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    async with serve_app(hang) as host:
        with pytest.raises(ApiConnectionError, match="the device did not answer in time"):
            await http.exchange(
                http_session,
                "GET",
                f"http://{host}/thing",
                path="/thing",
                peer="the device",
                client_timeout=aiohttp.ClientTimeout(total=0.2),
                status_error=_not_found,
            )
        release.set()


# ---- the silent re-login ---------------------------------------------------------------------


@dataclass
class Account:
    """A fake credential store: ``refusals`` is how many calls the server refuses in a row."""

    refusals: int
    credential: int | None = None
    logins: int = 0
    calls: list[int] = field(default_factory=list)

    async def current(self) -> tuple[int, bool]:
        if self.credential is not None:
            return self.credential, False
        return await self.renew(-1), True

    async def renew(self, _rejected: int) -> int:
        self.logins += 1
        self.credential = self.logins
        return self.logins

    def forget(self, rejected: int) -> None:
        if self.credential == rejected:
            self.credential = None

    async def call(self, credential: int) -> str:
        self.calls.append(credential)
        if self.refusals:
            self.refusals -= 1
            raise SessionRejectedError("HTTP 401")
        return "ok"

    def run(self) -> Awaitable[str]:
        return http.with_relogin(
            current=self.current, renew=self.renew, forget=self.forget, call=self.call
        )


async def test_relogin_once_then_succeed() -> None:
    account = Account(refusals=1, credential=0)
    assert await account.run() == "ok"
    assert (account.logins, account.calls) == (1, [0, 1])


@pytest.mark.parametrize(
    ("credential", "logins", "calls"),
    [(0, 1, [0, 1]), (None, 1, [1])],  # held a session / had to log in first
)
async def test_a_refusal_after_a_successful_login_is_a_lost_session(
    credential: int | None, logins: int, calls: list[int]
) -> None:
    account = Account(refusals=2, credential=credential)
    with pytest.raises(SessionLostError, match="right after a successful login"):
        await account.run()
    assert (account.logins, account.calls, account.credential) == (logins, calls, None)


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
