"""One GET to the Enlighten cloud, and what its HTTP status means (v2 and v4 alike).

The properties of the shared HTTP exchange, on aiohttp directly: a total timeout, no redirects
followed (the key travels in the query), bodies read streamed up to :data:`MAX_BODY`, and error
texts that name the path only: aiohttp puts the whole URL, query and key included, into its
exception texts, so those are redacted and never chained.

Requests are serialised per API key, process-wide (every config entry using a key shares one
lock), because Enlighten answers 503 to concurrent requests on a key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import json
import logging
import re
from typing import TYPE_CHECKING, Final
import weakref

import aiohttp

from ..errors import (
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    SolarHubApiError,
)
from ..shapes import excerpt
from .errors import (
    ConcurrentRequestsError,
    EnlightenRateLimitedError,
    InvalidDatesError,
    KeyClientMismatchError,
    LimitPeriod,
    PlanNotPermittedError,
    TemporarilyUnavailableError,
)
from .parsers import parse_moment

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

_LOGGER = logging.getLogger(__name__)

MAX_BODY: Final = 8 * 1024 * 1024
DEFAULT_RETRY_AFTER: Final = 60.0
UNAVAILABLE_ERROR_CODE: Final = 7
_CHUNK: Final = 64 * 1024
_URL_QUERY: Final = re.compile(r"(?P<url>[a-z][a-z0-9+.-]*://[^\s?#'\"]*)\?[^\s#'\"]*", re.I)
_MISMATCH: Final = re.compile(r"key\s*-?\s*client\s+mismatch", re.I)
_PLAN: Final = re.compile(r"\bplan\b", re.I)

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
    text = _URL_QUERY.sub(r"\g<url>", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_text(body: bytes) -> str:
    """What an Enlighten error body says, else an excerpt of the body.

    That is ``message`` (a string or a list), ``details``, ``errorMessages``, ``reason``.
    """
    try:
        raw = json.loads(body)
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
        raw = json.loads(body)
    except ValueError:
        return None
    return raw.get("errorCode") if isinstance(raw, dict) else None


def rate_limited_error(text: str, body: bytes, now: datetime) -> EnlightenRateLimitedError:
    """409 (v2) or 429 (v4): the period, its end and the limit where the body says them."""
    try:
        raw = json.loads(body)
    except ValueError:
        raw = None
    obj = raw if isinstance(raw, dict) else {}
    period_value = obj.get("period")
    period: LimitPeriod | None = None
    if period_value == "minute":
        period = "minute"
    elif period_value == "month":
        period = "month"
    try:
        start = parse_moment(obj.get("period_start"), "period_start", "rate limit")
        end = parse_moment(obj.get("period_end"), "period_end", "rate limit")
    except MalformedResponseError:
        start = end = None
    limit = obj.get("limit")
    retry_after = DEFAULT_RETRY_AFTER
    if end is not None:
        retry_after = max(0.0, (end - now).total_seconds())
    return EnlightenRateLimitedError(
        text,
        retry_after,
        period=period,
        period_start=start,
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


async def _read_capped(response: aiohttp.ClientResponse, path: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > MAX_BODY:
            raise MalformedResponseError(f"GET {path}: the answer is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Transport:
    """GETs for one API key: serialised, bounded, redacted; the session is the caller's."""

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
    ) -> None:
        """Prepare; ``secrets`` returns what must never appear in a text (key, user id, token)."""
        self._http = session
        self.base_url = base_url.rstrip("/")
        self._lock_key = lock_key
        self._secrets = secrets
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._clock = clock
        self._on_request = on_request

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
        query: Query,
        headers: dict[str, str],
        *,
        endpoint: str,
        system_id: int | None,
    ) -> bytes:
        """One GET of ``base_url + path``; the body of a 2xx, else the mapped error."""
        async with key_lock(self._lock_key):
            try:
                async with self._http.get(
                    self.base_url + path,
                    params=query,
                    headers={"Accept": "application/json", **headers},
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    body = await _read_capped(response, path)
            except TimeoutError:
                self._record(endpoint, system_id, None)
                raise ApiConnectionError(f"GET {path}: Enlighten did not answer in time") from None
            except (aiohttp.ClientError, OSError) as err:
                self._record(endpoint, system_id, None)
                detail = redact(str(err) or type(err).__name__, self._secrets())
                raise ApiConnectionError(
                    f"GET {path}: cannot talk to Enlighten: {type(err).__name__}: {detail}"
                ) from None
            except MalformedResponseError:
                self._record(endpoint, system_id, status)
                raise
        self._record(endpoint, system_id, status)
        _LOGGER.debug("GET %s -> HTTP %s", path, status)
        if not 200 <= status < 300:
            raise _redacted(status_error(path, status, body, self._clock()), self._secrets())
        return body


def _redacted(error: SolarHubApiError, secrets: Sequence[str]) -> SolarHubApiError:
    """``error`` with the secrets removed from its text (a server may echo the query)."""
    clean = redact(str(error), secrets)
    if clean != str(error):
        error.args = (clean,)
    return error


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)
