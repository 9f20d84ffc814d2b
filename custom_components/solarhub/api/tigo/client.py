"""Async client for the Tigo Energy cloud, REST API v3 (open to Premium accounts only).

One client per account. The bearer token is fetched lazily with HTTP Basic auth, renewed when less
than :data:`RENEW_BEFORE` is left before it expires and, on a 401, fetched once more before the
call is retried once; concurrent calls share one login. Rate limits are never retried inside the
client: a 429 becomes :class:`RateLimitedError` with the wait the server asked for. The response
parsers are pure functions, so malformed answers are easy to test without a server; the CSV
parsers live in :mod:`.csv`.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
import logging
import math
from typing import TYPE_CHECKING, Any, Final, Protocol

import aiohttp

from ..errors import (
    ApiConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SessionRejectedError,
    SolarHubApiError,
)
from ..http import Failure, exchange, with_relogin
from ..shapes import (
    as_dict,
    as_list,
    datetime_field,
    error_message,
    excerpt,
    finite_float,
    int_field,
    malformed,
    optional_str_field,
    parse_json,
    retry_after_seconds,
    shown,
    str_field,
)
from .csv import parse_aggregate_csv, parse_combined_csv
from .models import (
    Alert,
    AlertType,
    CsvSeries,
    DataSet,
    LayoutInverter,
    LayoutMppt,
    LayoutPanel,
    LayoutString,
    ObjectType,
    RateLimit,
    Summary,
    SystemLayout,
    TigoObject,
    TigoSource,
    TigoSystem,
    TigoToken,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api2.tigoenergy.com/api/v3/"
RENEW_BEFORE: Final = timedelta(minutes=5)
DEFAULT_RETRY_AFTER: Final = 60.0
# Yii, which serves this API, caps page sizes at 50 by default: asking for more could make a full
# page look short and end the paging early.
PAGE_SIZE: Final = 50
MAX_PAGES: Final = 100
# A page of JSON is some kB; a CSV series of minutes for a large system some MB.
MAX_JSON_BODY: Final = 4 * 1024 * 1024
MAX_CSV_BODY: Final = 64 * 1024 * 1024
# Parsing takes about 1 s per 10 MB: above this size it runs in an executor, off the event loop.
CSV_INLINE_LIMIT: Final = 256 * 1024

_LOGIN: Final = "users/login"
_LOGOUT: Final = "users/logout"

type _Params = dict[str, str | int]


class _CsvParser(Protocol):
    def __call__(self, text: str, tz: tzinfo, *, now: datetime) -> CsvSeries: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Credentials:
    username: str = field(repr=False)
    password: str = field(repr=False)

    def basic(self) -> str:
        """The ``Authorization`` value of the login (UTF-8, as browsers and curl send it)."""
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


# ---- pure helpers: wire format -> models ----------------------------------------------------


def decode_text(body: bytes, what: str) -> str:
    """Decode a CSV body (UTF-8), or raise :class:`MalformedResponseError`."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise malformed(what, f"not text: {excerpt(body)}") from err


def _decode_and_parse(
    body: bytes, what: str, parse: _CsvParser, tz: tzinfo, now: datetime
) -> CsvSeries:
    """Decode and parse a CSV body: pure, so it may run in an executor."""
    return parse(decode_text(body, what), tz, now=now)


def _envelope(raw: object, key: str, what: str) -> object:
    """The content of ``{"<key>": ...}``, the wrapper of every answer of this API."""
    obj = as_dict(raw, what)
    if key not in obj:
        raise malformed(what, f"no {key!r} in it (keys: {shown(sorted(obj)[:10])})")
    return obj[key]


def _optional_list(obj: Mapping[str, object], key: str, what: str) -> list[object]:
    """A list, empty when null or absent."""
    value = obj.get(key)
    return [] if value is None else as_list(value, f"{what} ({key})")


def _int(obj: Mapping[str, object], key: str, what: str) -> int:
    """Read an integer; a string of digits is tolerated (PHP back ends send ids either way)."""
    return int_field(obj, key, what, digit_strings=True)


def _optional_int(obj: Mapping[str, object], key: str, what: str) -> int | None:
    return None if obj.get(key) in (None, "") else _int(obj, key, what)


def _float(obj: Mapping[str, object], key: str, what: str) -> float:
    """Read a finite number; a numeric string is tolerated."""
    value = obj.get(key)
    number = finite_float(value)
    if isinstance(value, str) and value.isascii() and "_" not in value:
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise malformed(what, f"{key!r} should be a number, got {shown(value)}")
    return number


def _optional_float(obj: Mapping[str, object], key: str, what: str) -> float | None:
    return None if obj.get(key) in (None, "") else _float(obj, key, what)


def _datetime(obj: Mapping[str, object], key: str, what: str) -> datetime:
    """Read a time, white space around it tolerated.

    The API sends offsets ("2016-09-01T00:00:00-08:00"); a time without one is taken as UTC.
    """
    return datetime_field(obj, key, what, strip=True)


def _optional_datetime(obj: Mapping[str, object], key: str, what: str) -> datetime | None:
    """A time, ``None`` when null, absent, empty or PHP's zero date ``0000-00-00…``."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and value.strip() in ("", "null")):
        return None
    if isinstance(value, str) and value.startswith("0000-00-00"):
        return None
    return _datetime(obj, key, what)


def parse_token(raw: object) -> TigoToken:
    """``GET users/login``: ``{"user": {"user_id", "auth", "expires", "user_type"}}``."""
    what = _LOGIN
    user = as_dict(_envelope(raw, "user", what), what)
    auth = str_field(user, "auth", what)
    if not auth:
        raise malformed(what, "empty 'auth'")
    return TigoToken(
        user_id=_int(user, "user_id", what),
        auth=auth,
        expires=_datetime(user, "expires", what),
        user_type=optional_str_field(user, "user_type", what) or "",
    )


def _system(obj: Mapping[str, object], what: str) -> TigoSystem:
    return TigoSystem(
        system_id=_int(obj, "system_id", what),
        name=optional_str_field(obj, "name", what) or "",
        timezone=optional_str_field(obj, "timezone", what) or None,
        power_rating=_optional_float(obj, "power_rating", what),
        latitude=_optional_float(obj, "latitude", what),
        longitude=_optional_float(obj, "longitude", what),
        street=optional_str_field(obj, "street", what),
        city=optional_str_field(obj, "city", what),
        zip=optional_str_field(obj, "zip", what),
        country=optional_str_field(obj, "country", what),
        created=_optional_datetime(obj, "created", what),
    )


def parse_systems(raw: object) -> list[TigoSystem]:
    """One page of ``GET systems``."""
    what = "systems"
    return [
        _system(as_dict(item, what), what)
        for item in as_list(_envelope(raw, "systems", what), what)
    ]


def parse_system(raw: object) -> TigoSystem:
    """``GET systems/view``."""
    what = "systems/view"
    return _system(as_dict(_envelope(raw, "system", what), what), what)


def parse_layout(raw: object) -> SystemLayout:
    """``GET systems/layout``: inverters -> MPPTs -> strings -> panels."""
    what = "systems/layout"
    system = as_dict(_envelope(raw, "system", what), what)
    inverters = []
    for inverter_item in _optional_list(system, "inverters", what):
        inverter = as_dict(inverter_item, what)
        mppts = []
        for mppt_item in _optional_list(inverter, "mppts", what):
            mppt = as_dict(mppt_item, what)
            strings = []
            for string_item in _optional_list(mppt, "strings", what):
                string = as_dict(string_item, what)
                panels = tuple(
                    LayoutPanel(
                        panel_id=_int(panel, "panel_id", what),
                        label=optional_str_field(panel, "label", what) or "",
                        serial=optional_str_field(panel, "serial", what) or None,
                        object_id=_optional_int(panel, "object_id", what),
                    )
                    for panel in (
                        as_dict(item, what) for item in _optional_list(string, "panels", what)
                    )
                )
                strings.append(
                    LayoutString(
                        string_id=_int(string, "string_id", what),
                        label=optional_str_field(string, "label", what) or "",
                        object_id=_optional_int(string, "object_id", what),
                        panels=panels,
                    )
                )
            mppts.append(
                LayoutMppt(
                    mppt_id=_int(mppt, "mppt_id", what),
                    label=optional_str_field(mppt, "label", what) or "",
                    strings=tuple(strings),
                )
            )
        serial = optional_str_field(inverter, "inverter_serial", what)
        if serial is None:
            serial = optional_str_field(inverter, "serial", what)
        inverters.append(
            LayoutInverter(
                inverter_id=_int(inverter, "inverter_id", what),
                label=optional_str_field(inverter, "label", what) or "",
                serial=serial or None,
                object_id=_optional_int(inverter, "object_id", what),
                mppts=tuple(mppts),
            )
        )
    return SystemLayout(system_id=_int(system, "system_id", what), inverters=tuple(inverters))


def parse_objects(raw: object) -> list[TigoObject]:
    """``GET objects/system``; the data source is ``datasource`` (``datasources`` in the docs)."""
    what = "objects/system"
    objects = []
    for item in as_list(_envelope(raw, "objects", what), what):
        obj = as_dict(item, what)
        key = "datasource" if "datasource" in obj else "datasources"
        children = []
        for child in _optional_list(obj, "children", what):
            if not isinstance(child, int) or isinstance(child, bool):
                raise malformed(what, f"'children' should list object ids, got {shown(child)}")
            children.append(child)
        parent_id = _optional_int(obj, "parent_id", what)
        objects.append(
            TigoObject(
                id=_int(obj, "id", what),
                label=optional_str_field(obj, "label", what) or "",
                object_type_id=_int(obj, "object_type_id", what),
                parent_id=-1 if parent_id is None else parent_id,
                datasource=optional_str_field(obj, key, what) or None,
                children=tuple(children),
            )
        )
    return objects


def parse_object_types(raw: object) -> list[ObjectType]:
    """``GET objects/types``."""
    what = "objects/types"
    return [
        ObjectType(
            object_type_id=_int(obj, "object_type_id", what),
            label=optional_str_field(obj, "label", what) or "",
        )
        for obj in (
            as_dict(item, what) for item in as_list(_envelope(raw, "object_types", what), what)
        )
    ]


def parse_sources(raw: object) -> list[TigoSource]:
    """``GET sources/system``.

    Entries without ``source_id`` are left out: the documented example answer holds a stray
    ``{"system_id": 11}`` between two sources.
    """
    what = "sources/system"
    sources = []
    for item in as_list(_envelope(raw, "sources", what), what):
        obj = as_dict(item, what)
        if obj.get("source_id") is None:
            continue
        sets = tuple(
            DataSet(
                set_name=str_field(data_set, "set_name", what),
                last_min=_optional_datetime(data_set, "last_min", what),
                last_day=_optional_datetime(data_set, "last_day", what),
            )
            for data_set in (as_dict(entry, what) for entry in _optional_list(obj, "sets", what))
        )
        sources.append(
            TigoSource(
                source_id=_int(obj, "source_id", what),
                name=optional_str_field(obj, "name", what) or "",
                serial=optional_str_field(obj, "serial", what) or "",
                gateway_count=_optional_int(obj, "gateway_count", what),
                control_state=optional_str_field(obj, "control_state", what),
                last_checkin=_optional_datetime(obj, "last_checkin", what),
                timezone=optional_str_field(obj, "timezone", what) or None,
                sw_version=optional_str_field(obj, "sw_version", what),
                created_on=_optional_datetime(obj, "created_on", what),
                sets=sets,
            )
        )
    return sources


def parse_summary(raw: object) -> Summary:
    """``GET data/summary``: energies in Wh, power in W."""
    what = "data/summary"
    obj = as_dict(_envelope(raw, "summary", what), what)
    return Summary(
        lifetime_energy_dc=_float(obj, "lifetime_energy_dc", what),
        ytd_energy_dc=_float(obj, "ytd_energy_dc", what),
        daily_energy_dc=_float(obj, "daily_energy_dc", what),
        last_power_dc=_float(obj, "last_power_dc", what),
        updated_on=_optional_datetime(obj, "updated_on", what),
    )


def parse_alerts(raw: object) -> list[Alert]:
    """One page of ``GET alerts/system``."""
    what = "alerts/system"
    return [
        Alert(
            alert_id=_int(obj, "alert_id", what),
            unique_id=_int(obj, "unique_id", what),
            system_id=_int(obj, "system_id", what),
            title=optional_str_field(obj, "title", what) or "",
            message=optional_str_field(obj, "message", what) or "",
            description=optional_str_field(obj, "description", what) or "",
            added=_datetime(obj, "added", what),
            generated=_optional_datetime(obj, "generated", what),
        )
        for obj in (as_dict(item, what) for item in as_list(_envelope(raw, "alerts", what), what))
    ]


def parse_alert_types(raw: object) -> list[AlertType]:
    """``GET alerts/types``."""
    what = "alerts/types"
    return [
        AlertType(
            alert_type_id=_int(obj, "alert_type_id", what),
            unique_id=_int(obj, "unique_id", what),
            title=optional_str_field(obj, "title", what) or "",
            description=optional_str_field(obj, "description", what) or "",
        )
        for obj in (
            as_dict(item, what) for item in as_list(_envelope(raw, "alert_types", what), what)
        )
    ]


def _header_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def parse_rate_limit(headers: Mapping[str, str], observed_at: datetime) -> RateLimit | None:
    """The ``X-Rate-Limit-*`` headers; ``None`` when the response carried none of them."""
    raw = [
        headers.get(name)
        for name in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")
    ]
    if all(value is None for value in raw):
        return None
    limit, remaining, reset = (_header_number(value) for value in raw)
    return RateLimit(
        limit=None if limit is None or not limit.is_integer() else int(limit),
        remaining=None if remaining is None or not remaining.is_integer() else int(remaining),
        reset_seconds=reset,
        observed_at=observed_at,
    )


def parse_retry_after(value: str | None, reset: str | None = None, *, now: datetime) -> float:
    """Seconds to wait after a 429: ``Retry-After`` (seconds or HTTP date), else reset, else 60."""
    seconds = retry_after_seconds(value, now=now)
    if seconds is not None:
        return seconds
    reset_seconds = _header_number(reset)
    return DEFAULT_RETRY_AFTER if reset_seconds is None else reset_seconds


def status_error(
    method: str,
    path: str,
    status: int,
    body: bytes,
    *,
    retry_after: str | None = None,
    reset: str | None = None,
    now: datetime,
) -> SolarHubApiError:
    """Map a non-success HTTP status of ``method path`` to the client's error."""
    text = f"{method} {path} answered HTTP {status}: {error_message(body)}"
    if status == 401:
        # With the token: it expired early or was logged out elsewhere; log in again.
        return AuthenticationError(text) if path == _LOGIN else SessionRejectedError(text)
    if status == 403:
        # At login this is what an account without the Premium subscription gets.
        return PermissionDeniedError(text)
    if status == 404:
        return NotFoundError(text)
    if status == 429:
        return RateLimitedError(text, parse_retry_after(retry_after, reset, now=now))
    if status >= 500:
        return ApiConnectionError(text)
    return SolarHubApiError(text)


def local_iso(moment: datetime, tz: tzinfo) -> str:
    """``2018-01-01T00:00:00``: ``moment`` as wall time in ``tz`` (a naive one is taken as such)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _object_ids(object_ids: Iterable[int]) -> str:
    return ",".join(str(object_id) for object_id in dict.fromkeys(int(i) for i in object_ids))


# ---- the client ------------------------------------------------------------------------------


class TigoClient:
    """Talks to the Tigo cloud for one account; the ``aiohttp.ClientSession`` belongs to the caller.

    ``clock`` (aware UTC ``datetime``) decides token renewal, stamps rate-limit observations and
    drops CSV rows dated in the future; tests inject a simulated one.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        username: str,
        password: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        request_timeout: float = 30.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """Prepare the client; no I/O happens before the first call."""
        self._http = session
        self._credentials = _Credentials(username=username, password=password)
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._clock = clock
        self._login_lock = asyncio.Lock()
        self._token: TigoToken | None = None
        self._rate_limit: RateLimit | None = None
        self._config_updates: dict[int, str] = {}

    def __repr__(self) -> str:
        """Show the endpoint and token state, never the credentials or the token."""
        return f"TigoClient(base_url={self._base_url!r}, token_expires={self.token_expires})"

    @property
    def base_url(self) -> str:
        """The API root this client talks to, ending in ``/``."""
        return self._base_url

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate-limit headers of the latest response that carried any (errors included)."""
        return self._rate_limit

    @property
    def token_expires(self) -> datetime | None:
        """When the current token expires, ``None`` without one."""
        return self._token.expires if self._token is not None else None

    def config_update(self, system_id: int) -> str | None:
        """The latest ``X-System-Config-Update`` seen for a system, raw (compare it for change)."""
        return self._config_updates.get(system_id)

    # ---- authentication ------------------------------------------------------------------

    async def login(self) -> TigoToken:
        """Log in now (also to check credentials): 401 bad credentials, 403 no Premium account."""
        async with self._login_lock:
            return await self._login_locked()

    async def logout(self) -> None:
        """Invalidate the token and forget it; errors of the logout call are ignored."""
        async with self._login_lock:
            token, self._token = self._token, None
            if token is None:
                return
            try:
                await self._exchange(_LOGOUT, None, token=token)
            except SolarHubApiError as err:  # the token is forgotten either way
                _LOGGER.debug("Ignoring failed Tigo logout: %s", err)

    async def _login_locked(self) -> TigoToken:
        body = await self._exchange(_LOGIN, None, basic=self._credentials.basic())
        token = parse_token(parse_json(body))
        self._token = token
        _LOGGER.debug("Logged in to the Tigo cloud; the token expires at %s", token.expires)
        return token

    def _usable(self, token: TigoToken | None) -> bool:
        return token is not None and token.expires - self._clock() >= RENEW_BEFORE

    async def _current_token(self) -> tuple[TigoToken, bool]:
        """A token with time left, and whether this call had to log in to get it."""
        token = self._token
        if token is not None and self._usable(token):
            return token, False
        async with self._login_lock:  # single flight: waiting calls find the new token
            token = self._token
            if token is not None and self._usable(token):
                return token, False
            if token is not None:
                _LOGGER.debug("Tigo token expires at %s, renewing it", token.expires)
            return await self._login_locked(), True

    async def _replace_token(self, rejected: TigoToken) -> TigoToken:
        """A new token after ``rejected`` got a 401, shared with calls that got one too."""
        async with self._login_lock:
            token = self._token
            if token is not None and token is not rejected and self._usable(token):
                return token
            if token is rejected:
                self._token = None
            return await self._login_locked()

    def _forget(self, token: TigoToken) -> None:
        if self._token is token:
            self._token = None

    # ---- HTTP ----------------------------------------------------------------------------

    async def _exchange(
        self,
        path: str,
        params: _Params | None,
        *,
        token: TigoToken | None = None,
        basic: str | None = None,
        system_id: int | None = None,
        json_answer: bool = True,
        max_body: int = MAX_JSON_BODY,
    ) -> bytes:
        """One GET; returns the body of a success, raises the mapped error otherwise."""
        headers: dict[str, str] = {"Accept": "application/json"} if json_answer else {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.auth}"
        elif basic is not None:
            headers["Authorization"] = basic

        def observe(response_headers: Mapping[str, str]) -> None:
            if (rate_limit := parse_rate_limit(response_headers, self._clock())) is not None:
                self._rate_limit = rate_limit
            config_update = response_headers.get("X-System-Config-Update")
            if system_id is not None and config_update is not None:
                self._config_updates[system_id] = config_update

        def map_failure(failure: Failure) -> SolarHubApiError:
            return status_error(
                failure.method,
                failure.path,
                failure.status,
                failure.body,
                retry_after=failure.headers.get("Retry-After"),
                reset=failure.headers.get("X-Rate-Limit-Reset"),
                now=self._clock(),
            )

        answer = await exchange(
            self._http,
            "GET",
            self._base_url + path,
            path=path,
            peer="the Tigo cloud",
            client_timeout=self._timeout,
            status_error=map_failure,
            params=params,
            headers=headers,
            max_body=max_body,
            observe=observe,
        )
        return answer.body

    async def _call(
        self,
        path: str,
        params: _Params | None = None,
        *,
        system_id: int | None = None,
        json_answer: bool = True,
        max_body: int = MAX_JSON_BODY,
    ) -> bytes:
        """A call with the token: log in or renew first if needed, log in again once on 401."""

        async def call(token: TigoToken) -> bytes:
            return await self._exchange(
                path,
                params,
                token=token,
                system_id=system_id,
                json_answer=json_answer,
                max_body=max_body,
            )

        return await with_relogin(
            current=self._current_token, renew=self._replace_token, forget=self._forget, call=call
        )

    async def _json(
        self, path: str, params: _Params | None = None, *, system_id: int | None = None
    ) -> Any:
        return parse_json(await self._call(path, params, system_id=system_id))

    async def _pages[T](
        self,
        path: str,
        params: _Params,
        parse: Callable[[object], list[T]],
        key: Callable[[T], int],
        *,
        system_id: int | None = None,
    ) -> list[T]:
        """Every page (``page`` from 1, ``limit``) until a short or empty one.

        A page that brings nothing new (a server ignoring ``page``) ends the paging too.
        """
        items: dict[int, T] = {}
        for page in range(1, MAX_PAGES + 1):
            batch = parse(
                await self._json(
                    path, {**params, "page": page, "limit": PAGE_SIZE}, system_id=system_id
                )
            )
            new = {key(item): item for item in batch if key(item) not in items}
            items.update(new)
            if len(batch) < PAGE_SIZE or not new:
                break
        else:
            _LOGGER.warning("GET %s: stopped after %s pages of %s", path, MAX_PAGES, PAGE_SIZE)
        return list(items.values())

    async def _csv(
        self, path: str, params: _Params, system_id: int, parse: _CsvParser, tz: tzinfo
    ) -> CsvSeries:
        """Fetch a CSV series and parse it; a large one off the event loop, in an executor."""
        body = await self._call(
            path, params, system_id=system_id, json_answer=False, max_body=MAX_CSV_BODY
        )
        now = self._clock()
        if len(body) <= CSV_INLINE_LIMIT:
            return parse(decode_text(body, path), tz, now=now)
        return await asyncio.get_running_loop().run_in_executor(
            None, partial(_decode_and_parse, body, path, parse, tz, now)
        )

    # ---- API -----------------------------------------------------------------------------

    async def get_systems(self) -> list[TigoSystem]:
        """``GET systems``, every page."""
        return await self._pages("systems", {}, parse_systems, lambda s: s.system_id)

    async def get_system(self, system_id: int) -> TigoSystem:
        """``GET systems/view?id=``."""
        raw = await self._json("systems/view", {"id": system_id}, system_id=system_id)
        return parse_system(raw)

    async def get_layout(self, system_id: int) -> SystemLayout:
        """``GET systems/layout?id=``: inverters, MPPTs, strings and panels."""
        raw = await self._json("systems/layout", {"id": system_id}, system_id=system_id)
        return parse_layout(raw)

    async def get_objects(self, system_id: int) -> list[TigoObject]:
        """``GET objects/system``: the object ids data can be asked for."""
        raw = await self._json("objects/system", {"system_id": system_id}, system_id=system_id)
        return parse_objects(raw)

    async def get_object_types(self) -> list[ObjectType]:
        """``GET objects/types``."""
        return parse_object_types(await self._json("objects/types"))

    async def get_sources(self, system_id: int) -> list[TigoSource]:
        """``GET sources/system``: gateways / Cloud Connects and their data sets."""
        raw = await self._json("sources/system", {"system_id": system_id}, system_id=system_id)
        return parse_sources(raw)

    async def get_summary(self, system_id: int) -> Summary:
        """``GET data/summary``."""
        raw = await self._json("data/summary", {"system_id": system_id}, system_id=system_id)
        return parse_summary(raw)

    async def get_aggregate(
        self,
        system_id: int,
        start: datetime,
        end: datetime,
        *,
        tz: tzinfo,
        param: str = "Pin",
        level: str = "min",
        object_ids: Iterable[int] | None = None,
        header: str = "id",
    ) -> CsvSeries:
        """``GET data/aggregate``: one column per object (``header="id"``) or key, times in ``tz``.

        ``start``/``end`` go out as wall time in ``tz``; an empty ``object_ids`` asks for nothing.
        """
        params: _Params = {
            "system_id": system_id,
            "start": local_iso(start, tz),
            "end": local_iso(end, tz),
            "level": level,
            "param": param,
            "header": header,
        }
        if object_ids is not None:
            if not (ids := _object_ids(object_ids)):
                return CsvSeries(columns={})
            params["object_ids"] = ids
        return await self._csv("data/aggregate", params, system_id, parse_aggregate_csv, tz)

    async def get_combined(
        self,
        system_id: int,
        start: datetime,
        end: datetime,
        *,
        tz: tzinfo,
        level: str = "hour",
        object_ids: Iterable[int] | None = None,
    ) -> CsvSeries:
        """``GET data/combined``: per object, the sum of its children (system level by default)."""
        params: _Params = {
            "system_id": system_id,
            "start": local_iso(start, tz),
            "end": local_iso(end, tz),
            "level": level,
        }
        if object_ids is not None:
            if not (ids := _object_ids(object_ids)):
                return CsvSeries(columns={})
            params["object_ids"] = ids
        return await self._csv("data/combined", params, system_id, parse_combined_csv, tz)

    async def get_alerts(
        self,
        system_id: int,
        *,
        language: str = "EN",
        start_added: datetime | None = None,
        end_added: datetime | None = None,
    ) -> list[Alert]:
        """``GET alerts/system``, every page; the filters are sent as ISO 8601 as given."""
        params: _Params = {"system_id": system_id, "language": language}
        if start_added is not None:
            params["start_added"] = start_added.isoformat(timespec="seconds")
        if end_added is not None:
            params["end_added"] = end_added.isoformat(timespec="seconds")
        return await self._pages(
            "alerts/system", params, parse_alerts, lambda a: a.alert_id, system_id=system_id
        )

    async def get_alert_types(self, language: str = "EN") -> list[AlertType]:
        """``GET alerts/types`` in one of DE, EL, EN, ES, FR, IT, JP, KO."""
        return parse_alert_types(await self._json("alerts/types", {"language": language}))
