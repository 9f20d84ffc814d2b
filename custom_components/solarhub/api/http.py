"""The one HTTP exchange every SolarHub client makes, and the single silent re-login.

:func:`exchange` sends one request and returns the :class:`Answer` of a success. Everything else
becomes the error family of :mod:`.errors`:

- a timeout, or any aiohttp / OS error → :class:`ApiConnectionError` (its text never carries the
  URL's query: an API key may travel in it);
- a 3xx → :class:`RedirectRefusedError`: redirects are never followed, so neither credentials nor
  writes reach another host, and another host's answer is never taken for the device's;
- any other non-2xx → what the client's :data:`StatusMapper` makes of a :class:`Failure` (each
  client keeps only its vendor's status knowledge); the failure's body holds at most
  :data:`ERROR_BODY_LIMIT` bytes, read from the start, the rest is never read;
- a success body longer than ``max_body`` → :class:`ResponseTooLargeError`, raised as soon as the
  announced length or the bytes streamed so far exceed it (the body is never read whole first).

:func:`with_relogin` is the re-login: a call refused with :class:`SessionRejectedError` logs in
again once and is retried once. A refusal after a login that succeeded does not mean the
password is wrong, so it becomes :class:`SessionLostError` (a connection-type error, retried on the
next cycle); only a login that is itself refused raises :class:`AuthenticationError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
import logging
import re
from typing import TYPE_CHECKING, Final

import aiohttp

from .errors import (
    ApiConnectionError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SessionLostError,
    SessionRejectedError,
    SolarHubApiError,
)

if TYPE_CHECKING:
    from yarl import URL

_LOGGER = logging.getLogger(__name__)

# A JSON answer of either vendor is at most a few hundred kB; clients pass larger caps per call
# where an endpoint needs them (CSV series).
DEFAULT_MAX_BODY: Final = 4 * 1024 * 1024
ERROR_BODY_LIMIT: Final = 4096  # bytes of an error answer read for its message
_CHUNK: Final = 64 * 1024
_URL_QUERY: Final = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s?#'\"<>]*)[?#][^\s'\"<>]*")

type StatusMapper = Callable[[Failure], SolarHubApiError]
type HeaderObserver = Callable[[Mapping[str, str]], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    """A 2xx answer: its status, headers and whole body (at most the call's ``max_body``)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Failure:
    """A non-2xx, non-3xx answer, for the client's :data:`StatusMapper`.

    ``path`` is the call's path as the client names it (no query); ``body`` is the first
    :data:`ERROR_BODY_LIMIT` bytes at most.
    """

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def what(self) -> str:
        """``"GET /processdata"``: the call, for messages."""
        return f"{self.method} {self.path}"


def strip_query(text: str) -> str:
    """``text`` with the query and fragment of every URL in it removed (keys travel there)."""
    return _URL_QUERY.sub(r"\1", text)


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    path: str,
    peer: str,
    client_timeout: aiohttp.ClientTimeout,
    status_error: StatusMapper,
    params: Mapping[str, str | int] | None = None,
    json: object = None,
    headers: Mapping[str, str] | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    observe: HeaderObserver | None = None,
) -> Answer:
    """Send one request and return its 2xx :class:`Answer`, or raise (see the module's text).

    ``path`` (no query) and ``peer`` (a host, "the Tigo cloud") word the errors; ``observe``
    sees the headers of every answer, errors included (rate-limit headers).
    """
    what = f"{method} {path}"
    try:
        async with session.request(
            method,
            url,
            params=params,
            json=json,
            headers=headers,
            timeout=client_timeout,
            allow_redirects=False,
        ) as response:
            status, response_headers = response.status, response.headers
            _LOGGER.debug("%s -> HTTP %s", what, status)
            if observe is not None:
                observe(response_headers)
            if 300 <= status < 400:
                raise RedirectRefusedError(
                    f"{what} answered HTTP {status} (a redirect): redirects are not followed"
                )
            if not 200 <= status < 300:
                body = await response.content.read(ERROR_BODY_LIMIT)
                raise status_error(
                    Failure(
                        method=method,
                        path=path,
                        status=status,
                        headers=response_headers,
                        body=body,
                    )
                )
            body = await _read_bounded(response, what, max_body)
    except TimeoutError as err:
        raise ApiConnectionError(f"{what}: {peer} did not answer in time") from err
    except (aiohttp.ClientError, OSError) as err:
        reason = strip_query(str(err)) or type(err).__name__
        raise ApiConnectionError(f"{what}: cannot talk to {peer}: {reason}") from err
    return Answer(status=status, headers=response_headers, body=body)


async def _read_bounded(response: aiohttp.ClientResponse, what: str, max_body: int) -> bytes:
    """The body, streamed; :class:`ResponseTooLargeError` as soon as it exceeds ``max_body``."""
    if response.content_length is not None and response.content_length > max_body:
        raise ResponseTooLargeError(
            f"{what}: the answer announces {response.content_length} bytes,"
            f" more than the {max_body} accepted"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_body:
            raise ResponseTooLargeError(
                f"{what}: the answer is longer than the {max_body} bytes accepted"
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def with_relogin[Cred, T](
    *,
    current: Callable[[], Awaitable[tuple[Cred, bool]]],
    renew: Callable[[Cred], Awaitable[Cred]],
    forget: Callable[[Cred], None],
    call: Callable[[Cred], Awaitable[T]],
) -> T:
    """``call`` with a session or token, re-logging in once when it is refused.

    ``current`` gives the credential to use and whether it was just obtained by a login;
    ``renew`` logs in again after the given credential was refused; ``forget`` drops a refused
    credential. ``call`` raises :class:`SessionRejectedError` when the credential is refused.
    A refusal of a credential that a login has just granted raises :class:`SessionLostError`.
    """
    credential, fresh = await current()
    try:
        return await call(credential)
    except SessionRejectedError as err:
        forget(credential)
        if fresh:
            raise SessionLostError(f"{err} (right after a successful login)") from err
    _LOGGER.debug("Session or token refused, logging in again")
    credential = await renew(credential)
    try:
        return await call(credential)
    except SessionRejectedError as err:
        forget(credential)
        raise SessionLostError(f"{err} (right after a successful login)") from err
