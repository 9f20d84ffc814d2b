"""One GET to the Enlighten cloud, and what its HTTP status means (v2 and v4 alike).

Built on the shared :func:`..http.exchange` (timeout, no redirects, bounded bodies, queries
stripped from error texts). On top of it, for a cloud whose API key travels in the query: every
error text is also scrubbed of the key, the user id and the token (a server may echo them), and
an aiohttp error is never chained as the cause (its text and request info hold the whole URL).

Requests are serialised per API key, process-wide (every config entry using a key shares one
lock), because Enlighten answers 503 to concurrent requests on a key. Within that lock each
request first awaits the caller's ``gate`` (the key's budget: it returns when one more request
fits the minute) and is reported to ``on_request`` before the lock is released, so the next
request's gate sees it, however many requests one caller sends in a row.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import re
from typing import TYPE_CHECKING, Final
import weakref

import aiohttp
from multidict import MultiDict

from ..errors import (
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RatePeriod,
    SolarHubApiError,
)
from ..http import Failure, exchange, strip_query
from ..shapes import excerpt, loads
from .errors import (
    ConcurrentRequestsError,
    InvalidDatesError,
    KeyClientMismatchError,
    PlanNotPermittedError,
    TemporarilyUnavailableError,
    UnknownUserError,
)
from .parsers import parse_moment

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

MAX_BODY: Final = 8 * 1024 * 1024  # a v2 systems page of 1,000 systems, with room
DEFAULT_RETRY_AFTER: Final = 60.0
UNAVAILABLE_ERROR_CODE: Final = 7
PEER: Final = "Enlighten"
_MISMATCH: Final = re.compile(r"key\s*-?\s*client\s+mismatch", re.I)
_PLAN: Final = re.compile(r"\bplan\b", re.I)
_USER: Final = re.compile(r"\buser(_id| id)?\b", re.I)

type Query = list[tuple[str, str]]

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def key_lock(api_key: str) -> asyncio.Lock:
    """The lock serialising the requests of ``api_key`` in this process (per event loop)."""
    loop = asyncio.get_running_loop()
    locks = _LOCKS.setdefault(loop, {})
    return locks.setdefault(hashlib.sha256(api_key.encode()).hexdigest(), asyncio.Lock())


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestRecord:
    """One request sent to Enlighten, for the caller's ledger of requests spent.

    ``status`` is the HTTP status, ``None`` when no answer came (timeout, connection error).
    """

    endpoint: str  # "systems", "summary", "stats", "telemetry/production_micro", ...
    system_id: int | None
    status: int | None
    at: datetime


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every URL's query removed and every secret replaced by ``***``."""
    text = strip_query(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_text(body: bytes) -> str:
    """What an Enlighten error body says, else an excerpt of the body.

    That is ``message`` (a string or a list), ``details``, ``errorMessages``, ``reason``.
    """
    try:
        raw = loads(body)
    except ValueError:
        raw = None
    if isinstance(raw, dict):
        parts: list[str] = []
        for key in ("message", "details", "errorMessages", "error", "reason"):
            value = raw.get(key)
            values = value if isinstance(value, list) else [value]
            parts.extend(item for item in values if isinstance(item, str) and item)
        if parts:
            return excerpt("; ".join(dict.fromkeys(parts)).encode())
    return excerpt(body) if body.strip() else "(no message)"


def _error_code(body: bytes) -> object:
    try:
        raw = loads(body)
    except ValueError:
        return None
    return raw.get("errorCode") if isinstance(raw, dict) else None


def rate_limited_error(text: str, body: bytes, now: datetime) -> RateLimitedError:
    """409 (v2) or 429 (v4): the period, its end and the limit where the body says them."""
    try:
        raw = loads(body)
    except ValueError:
        raw = None
    obj = raw if isinstance(raw, dict) else {}
    period = {"minute": RatePeriod.MINUTE, "month": RatePeriod.MONTH}.get(
        str(obj.get("period")), RatePeriod.UNKNOWN
    )
    try:
        end = parse_moment(obj.get("period_end"), "period_end", "rate limit")
    except MalformedResponseError:
        end = None
    limit = obj.get("limit")
    return RateLimitedError(
        text,
        DEFAULT_RETRY_AFTER if end is None else max(0.0, (end - now).total_seconds()),
        period=period,
        period_end=end,
        limit=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
    )


def status_error(path: str, status: int, body: bytes, now: datetime) -> SolarHubApiError:
    """Map a non-success status of ``GET path`` to the client's error (v2 and v4 alike)."""
    message = error_text(body)
    text = f"GET {path} answered HTTP {status}: {message}"
    if status == 401:
        if _MISMATCH.search(message):
            return KeyClientMismatchError(text)
        if _PLAN.search(message):
            return PlanNotPermittedError(text)
        if _USER.search(message):
            return UnknownUserError(text)
        return AuthenticationError(text)
    if status == 403:
        return PermissionDeniedError(text)
    if status == 404:
        return NotFoundError(text)
    if status in (409, 429):
        return rate_limited_error(text, body, now)
    if status == 422:
        return InvalidDatesError(text)
    if status == 503:
        return ConcurrentRequestsError(text)
    if status >= 500:
        if _error_code(body) == UNAVAILABLE_ERROR_CODE:
            return TemporarilyUnavailableError(text)
        return ApiConnectionError(text)
    return SolarHubApiError(text)


class Transport:
    """GETs for one API key: serialised, bounded, scrubbed; the session is the caller's."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        lock_key: str,
        secrets: Callable[[], Sequence[str]],
        request_timeout: float,
        clock: Callable[[], datetime],
        on_request: Callable[[RequestRecord], None] | None,
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Prepare; ``secrets`` returns what must never appear in a text (key, user id, token).

        ``gate`` is awaited before every request (it may wait, or raise the client's error).
        """
        self._http = session
        self.base_url = base_url.rstrip("/")
        self._lock_key = lock_key
        self._secrets = secrets
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._clock = clock
        self._on_request = on_request
        self._gate = gate

    def _record(self, endpoint: str, system_id: int | None, status: int | None) -> None:
        if self._on_request is not None:
            self._on_request(
                RequestRecord(
                    endpoint=endpoint, system_id=system_id, status=status, at=self._clock()
                )
            )

    async def get(
        self,
        path: str,
        query: Iterable[tuple[str, str]],
        headers: dict[str, str],
        *,
        endpoint: str,
        system_id: int | None,
    ) -> bytes:
        """One GET of ``base_url + path``; the body of a 2xx, else the mapped error."""
        status: int | None = None

        def mapped(failure: Failure) -> SolarHubApiError:
            nonlocal status
            status = failure.status
            return status_error(failure.path, failure.status, failure.body, self._clock())

        async with key_lock(self._lock_key):
            if self._gate is not None:
                await self._gate()
            try:
                answer = await exchange(
                    self._http,
                    "GET",
                    self.base_url + path,
                    path=path,
                    peer=PEER,
                    client_timeout=self._timeout,
                    status_error=mapped,
                    params=MultiDict(query),
                    headers={"Accept": "application/json", **headers},
                    max_body=MAX_BODY,
                )
            except SolarHubApiError as err:
                self._record(endpoint, system_id, status)
                raise _scrubbed(err, self._secrets()) from None
            self._record(endpoint, system_id, answer.status)
        return answer.body


def _scrubbed(error: SolarHubApiError, secrets: Sequence[str]) -> SolarHubApiError:
    """``error`` with the secrets removed from its text and no chained cause or context."""
    clean = redact(str(error), secrets)
    if clean != str(error):
        error.args = (clean,)
    error.__cause__ = None
    error.__suppress_context__ = True
    return error


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)
