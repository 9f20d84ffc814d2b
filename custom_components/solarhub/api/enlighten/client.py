"""Async clients for the Enphase Enlighten cloud: Systems API v2 and Monitoring API v4.

:class:`EnlightenClient` is the interface the planner and the coordinator use; it has two
transports, :class:`EnlightenV2Client` (``key`` and ``user_id`` in every query) and
:class:`EnlightenV4Client` (``key`` in every query, an OAuth2 Bearer token from an injected async
getter). Both return the models of :mod:`.models` and raise the error family of :mod:`..errors`
and :mod:`.errors`; neither ever retries (every request costs budget: the planner decides).
Requests are serialised per API key across every client in the process. The parsers are pure
functions in :mod:`.parsers`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import logging
from typing import TYPE_CHECKING, ClassVar, Final, Literal

import aiohttp

from ..errors import ApiConnectionError, AuthenticationError, SolarHubApiError
from .errors import InvalidDatesError
from .models import (
    BatterySeries,
    DailyEnergy,
    Device,
    EnlightenSystem,
    IntervalSeries,
    LatestTelemetry,
    MonthlyProduction,
    SystemDevices,
    SystemSummary,
)
from .parsers import (
    FIFTEEN_MINUTES,
    FIVE_MINUTES,
    decode_json,
    empty_series,
    merge_envoys,
    parse_battery_lifetime,
    parse_battery_telemetry,
    parse_consumption_meter,
    parse_daily_series,
    parse_devices,
    parse_energy_export,
    parse_energy_import,
    parse_energy_lifetime,
    parse_envoys,
    parse_inventory,
    parse_latest_telemetry,
    parse_monthly_production,
    parse_production_meter,
    parse_production_micro,
    parse_rgm_stats,
    parse_stats,
    parse_summary,
    parse_systems_page,
    parse_v4_systems_page,
)
from .transport import Query, RequestRecord, Transport, redact, utc_now

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

_LOGGER = logging.getLogger(__name__)

DEFAULT_V2_BASE_URL: Final = "https://api.enphaseenergy.com/api/v2"
DEFAULT_V4_BASE_URL: Final = "https://api.enphaseenergy.com/api/v4"
V2_MAX_PAGE_SIZE: Final = 1000
V4_MAX_PAGE_SIZE: Final = 100
MAX_PAGES: Final = 100

type TokenGetter = Callable[[], Awaitable[str]]
type Granularity = Literal["5mins", "15mins", "day", "week"]


def _epoch(moment: datetime) -> str:
    """Unix epoch seconds of an aware time, as the API expects times."""
    return str(int(moment.timestamp()))


def _day(day: date) -> str:
    return day.isoformat()


def _system_path(system_id: int, endpoint: str) -> str:
    return f"/systems/{int(system_id)}/{endpoint}"


# ---- the interface ---------------------------------------------------------------------------


class EnlightenClient(ABC):
    """One API key's view of Enlighten, whatever the API version.

    Class attributes tell the planner what one request returns: ``production_span`` (the most
    :meth:`get_production_intervals` covers), ``meter_span`` (:meth:`get_meter_intervals`) and
    ``devices_requests`` (how many requests :meth:`get_devices` costs).
    """

    api_version: ClassVar[Literal["v2", "v4"]]
    production_span: ClassVar[timedelta]
    meter_span: ClassVar[timedelta]
    devices_requests: ClassVar[int]

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        base_url: str,
        request_timeout: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        on_request: Callable[[RequestRecord], None] | None = None,
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Prepare the client; no I/O happens before the first call.

        ``on_request`` is told of every request sent (answered or not), so a ledger of the
        budget spent can count exactly what went out, pages included; ``gate`` is awaited
        before each of them (the budget's minute cap holds for every page and chunk).
        """
        self._api_key = _Secret(api_key)
        self._transport = Transport(
            session,
            base_url,
            lock_key=api_key,
            secrets=self._secrets,
            request_timeout=request_timeout,
            clock=clock,
            on_request=on_request,
            gate=gate,
        )

    def __repr__(self) -> str:
        """The endpoint only, never the key, the user id or the token."""
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The API root this client talks to, without a trailing ``/``."""
        return self._transport.base_url

    def _secrets(self) -> Sequence[str]:
        return (self._api_key.value,)

    @abstractmethod
    async def _auth(self, query: Query, headers: dict[str, str]) -> None:
        """Add this transport's credentials to a request."""

    async def _get(
        self,
        path: str,
        params: Iterable[tuple[str, str]] = (),
        *,
        endpoint: str,
        system_id: int | None = None,
    ) -> object:
        query: Query = list(params)
        headers: dict[str, str] = {}
        await self._auth(query, headers)
        body = await self._transport.get(
            path, query, headers, endpoint=endpoint, system_id=system_id
        )
        return decode_json(body)

    async def _intervals(
        self,
        path: str,
        params: Iterable[tuple[str, str]],
        parse: Callable[[object], IntervalSeries],
        *,
        endpoint: str,
        system_id: int,
        length: timedelta,
    ) -> IntervalSeries:
        """An interval call; 422 (asked past the last interval) is "nothing newer"."""
        try:
            raw = await self._get(path, params, endpoint=endpoint, system_id=system_id)
        except InvalidDatesError as err:
            _LOGGER.debug("%s of system %s: nothing newer (%s)", endpoint, system_id, err)
            return empty_series(system_id, length)
        return parse(raw)

    async def _daily(
        self,
        system_id: int,
        endpoint: str,
        start_date: date | None,
        end_date: date | None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> object:
        params = list(extra)
        if start_date is not None:
            params.append(("start_date", _day(start_date)))
        if end_date is not None:
            params.append(("end_date", _day(end_date)))
        return await self._get(
            _system_path(system_id, endpoint), params, endpoint=endpoint, system_id=system_id
        )

    # -- common to both versions --

    @abstractmethod
    async def get_systems(self) -> list[EnlightenSystem]:
        """Every system the credentials may read, all pages."""

    async def get_summary(
        self, system_id: int, *, summary_date: date | None = None
    ) -> SystemSummary:
        """``summary``: today's, or ``summary_date``'s (a future date -> InvalidDatesError).

        v4 adds the battery fields where the site has a battery.
        """
        params = [] if summary_date is None else [("summary_date", _day(summary_date))]
        raw = await self._get(
            _system_path(system_id, "summary"), params, endpoint="summary", system_id=system_id
        )
        return parse_summary(raw)

    @abstractmethod
    async def get_production_intervals(
        self, system_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> IntervalSeries:
        """5-minute microinverter intervals from ``start`` (at most ``production_span``)."""

    @abstractmethod
    async def get_meter_intervals(
        self, system_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> IntervalSeries:
        """15-minute production-meter intervals from ``start`` (at most ``meter_span``)."""

    async def get_energy_lifetime(
        self,
        system_id: int,
        *,
        start_date: date | None = None,
        end_date: date | None = None,
        production_all: bool = False,
    ) -> DailyEnergy:
        """``energy_lifetime``: daily production (Wh), trailing not-yet-reported zeros dropped.

        By default from the operational date to yesterday (or the last day reported);
        ``production_all`` adds the micro and meter series.
        """
        extra = [("production", "all")] if production_all else []
        raw = await self._daily(system_id, "energy_lifetime", start_date, end_date, extra)
        return parse_energy_lifetime(raw)

    async def get_rgm_stats(
        self, system_id: int, start_at: datetime | None = None, end_at: datetime | None = None
    ) -> IntervalSeries:
        """``rgm_stats``: 15-minute revenue-grade meter intervals (empty without a meter).

        At most a month of them on v2, 7 days on v4; 422 gives an empty series.
        """
        params = [("start_at", _epoch(start_at))] if start_at is not None else []
        if end_at is not None:
            params.append(("end_at", _epoch(end_at)))
        return await self._intervals(
            _system_path(system_id, "rgm_stats"),
            params,
            parse_rgm_stats,
            endpoint="rgm_stats",
            system_id=system_id,
            length=FIFTEEN_MINUTES,
        )

    @abstractmethod
    async def get_devices(self, system_id: int) -> SystemDevices:
        """The system's devices (costs ``devices_requests`` requests)."""


@dataclass(frozen=True, slots=True)
class _Secret:
    value: str = field(repr=False)


# ---- v2 --------------------------------------------------------------------------------------


class EnlightenV2Client(EnlightenClient):
    """Systems API v2: ``key`` and ``user_id`` as query parameters of every request."""

    api_version = "v2"
    production_span = timedelta(days=1)
    meter_span = timedelta(days=28)  # "more than one month returns one month": the shortest one
    devices_requests = 2

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        user_id: str,
        *,
        base_url: str = DEFAULT_V2_BASE_URL,
        request_timeout: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        on_request: Callable[[RequestRecord], None] | None = None,
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Prepare the client for one API key and user id."""
        self._user_id = _Secret(user_id)
        super().__init__(
            session,
            api_key,
            base_url=base_url,
            request_timeout=request_timeout,
            clock=clock,
            on_request=on_request,
            gate=gate,
        )

    def _secrets(self) -> Sequence[str]:
        return (self._api_key.value, self._user_id.value)

    async def _auth(self, query: Query, headers: dict[str, str]) -> None:
        query += [("key", self._api_key.value), ("user_id", self._user_id.value)]

    async def get_systems(
        self,
        *,
        system_id: int | None = None,
        system_name: str | None = None,
        status: Iterable[str] = (),
        reference: str | None = None,
        installer: str | None = None,
        connection_type: str | None = None,
        page_size: int = V2_MAX_PAGE_SIZE,
    ) -> list[EnlightenSystem]:
        """``systems``, every page via ``next``; the filters as the document names them."""
        filters: Query = [
            (name, str(value))
            for name, value in (
                ("system_id", system_id),
                ("system_name", system_name),
                ("reference", reference),
                ("installer", installer),
                ("connection_type", connection_type),
            )
            if value is not None
        ]
        statuses = list(status)
        if len(statuses) == 1:
            filters.append(("status", statuses[0]))
        else:
            filters += [("status[]", value) for value in statuses]
        limit = max(1, min(int(page_size), V2_MAX_PAGE_SIZE))
        systems: dict[int, EnlightenSystem] = {}
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = [*filters, ("limit", str(limit))]
            if cursor is not None:
                page.append(("next", cursor))
            batch, cursor = parse_systems_page(
                await self._get("/systems", page, endpoint="systems")
            )
            for system in batch:
                systems.setdefault(system.system_id, system)
            if not batch or cursor is None or cursor in seen:
                break
            seen.add(cursor)
        else:
            _LOGGER.warning("GET /systems: stopped after %s pages", MAX_PAGES)
        return list(systems.values())

    async def get_stats(
        self, system_id: int, start_at: datetime | None = None, end_at: datetime | None = None
    ) -> IntervalSeries:
        """``stats``: at most one day of 5-minute intervals, none in dark hours.

        Without ``start_at`` from midnight today (system time); 422 (past the last interval, or
        before production) gives an empty series.
        """
        params = [("start_at", _epoch(start_at))] if start_at is not None else []
        if end_at is not None:
            params.append(("end_at", _epoch(end_at)))
        return await self._intervals(
            _system_path(system_id, "stats"),
            params,
            parse_stats,
            endpoint="stats",
            system_id=system_id,
            length=FIVE_MINUTES,
        )

    async def get_production_intervals(
        self, system_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> IntervalSeries:
        """``stats`` (see :meth:`get_stats`)."""
        return await self.get_stats(system_id, start, end)

    async def get_meter_intervals(
        self, system_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> IntervalSeries:
        """``rgm_stats`` (see :meth:`get_rgm_stats`)."""
        return await self.get_rgm_stats(system_id, start, end)

    async def get_envoys(self, system_id: int) -> tuple[Device, ...]:
        """``envoys``: the active Envoys, with status and last report."""
        raw = await self._get(
            _system_path(system_id, "envoys"), endpoint="envoys", system_id=system_id
        )
        return parse_envoys(raw)

    async def get_inventory(self, system_id: int) -> SystemDevices:
        """``inventory``: micros (``inverters``), meters, Envoys; absent kinds are empty."""
        raw = await self._get(
            _system_path(system_id, "inventory"), endpoint="inventory", system_id=system_id
        )
        return parse_inventory(raw)

    async def get_devices(self, system_id: int) -> SystemDevices:
        """``inventory`` plus ``envoys`` (two requests): gateways with status and last report."""
        inventory = await self.get_inventory(system_id)
        return merge_envoys(inventory, await self.get_envoys(system_id))

    async def get_monthly_production(self, system_id: int, start_date: date) -> MonthlyProduction:
        """``monthly_production`` (deprecated; may answer TemporarilyUnavailableError)."""
        raw = await self._get(
            _system_path(system_id, "monthly_production"),
            [("start_date", _day(start_date))],
            endpoint="monthly_production",
            system_id=system_id,
        )
        return parse_monthly_production(raw)


# ---- v4 --------------------------------------------------------------------------------------


class EnlightenV4Client(EnlightenClient):
    """Monitoring API v4: ``key`` in every query and ``Authorization: Bearer <token>``.

    ``token`` returns a valid access token (Home Assistant's
    ``OAuth2Session.async_ensure_token_valid`` behind it); it is awaited before every request.
    A refusal of the token refresh (HTTP 400/401 from the token endpoint) becomes
    :class:`AuthenticationError`, any other failure of it :class:`ApiConnectionError`.
    """

    api_version = "v4"
    production_span = timedelta(days=7)  # production_micro, granularity "week"
    meter_span = timedelta(days=7)
    devices_requests = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        token: TokenGetter,
        *,
        base_url: str = DEFAULT_V4_BASE_URL,
        request_timeout: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        on_request: Callable[[RequestRecord], None] | None = None,
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Prepare the client for one API key and one user's tokens."""
        self._token_getter = token
        self._last_token = _Secret("")
        super().__init__(
            session,
            api_key,
            base_url=base_url,
            request_timeout=request_timeout,
            clock=clock,
            on_request=on_request,
            gate=gate,
        )

    def _secrets(self) -> Sequence[str]:
        return (self._api_key.value, self._last_token.value)

    async def _token(self) -> str:
        try:
            token = await self._token_getter()
        except SolarHubApiError:
            raise
        except aiohttp.ClientResponseError as err:
            text = f"the OAuth2 token could not be refreshed: HTTP {err.status}"
            if err.status in (400, 401):
                raise AuthenticationError(text) from None
            raise ApiConnectionError(text) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            detail = redact(str(err) or type(err).__name__, self._secrets())
            raise ApiConnectionError(
                f"the OAuth2 token could not be refreshed: {type(err).__name__}: {detail}"
            ) from None
        if not token:
            raise AuthenticationError("no OAuth2 access token")
        self._last_token = _Secret(token)
        return token

    async def _auth(self, query: Query, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {await self._token()}"
        query.append(("key", self._api_key.value))

    async def get_systems(
        self, *, page_size: int = V4_MAX_PAGE_SIZE, sort_by: str | None = None
    ) -> list[EnlightenSystem]:
        """``systems``, every page (``page`` from 1, ``size`` up to 100)."""
        size = max(1, min(int(page_size), V4_MAX_PAGE_SIZE))
        base: Query = [("size", str(size))]
        if sort_by is not None:
            base.append(("sort_by", sort_by))
        systems: dict[int, EnlightenSystem] = {}
        for page in range(1, MAX_PAGES + 1):
            raw = await self._get("/systems", [*base, ("page", str(page))], endpoint="systems")
            batch, total = parse_v4_systems_page(raw)
            new = [system for system in batch if system.system_id not in systems]
            systems.update((system.system_id, system) for system in new)
            if len(batch) < size or not new or (total is not None and len(systems) >= total):
                break
        else:
            _LOGGER.warning("GET /systems: stopped after %s pages", MAX_PAGES)
        return list(systems.values())

    async def get_devices(self, system_id: int) -> SystemDevices:
        """``devices``: micros, meters (``config_type``), gateways, q_relays, acbs, encharges."""
        raw = await self._get(
            _system_path(system_id, "devices"), endpoint="devices", system_id=system_id
        )
        return parse_devices(raw)

    async def _telemetry(
        self,
        system_id: int,
        *,
        endpoint: str,
        parse: Callable[[object], IntervalSeries],
        length: timedelta,
        start_at: datetime | None,
        granularity: Granularity,
    ) -> IntervalSeries:
        params: Query = [("granularity", granularity)]
        if start_at is not None:
            params.append(("start_at", _epoch(start_at)))
        return await self._intervals(
            _system_path(system_id, endpoint),
            params,
            parse,
            endpoint=endpoint,
            system_id=system_id,
            length=length,
        )

    async def get_production_micro(
        self, system_id: int, start_at: datetime | None = None, granularity: Granularity = "day"
    ) -> IntervalSeries:
        """``telemetry/production_micro``: 5-minute intervals, a day of them by default."""
        return await self._telemetry(
            system_id,
            endpoint="telemetry/production_micro",
            parse=parse_production_micro,
            length=FIVE_MINUTES,
            start_at=start_at,
            granularity=granularity,
        )

    async def get_production_meter(
        self, system_id: int, start_at: datetime | None = None, granularity: Granularity = "week"
    ) -> IntervalSeries:
        """``telemetry/production_meter``: 15-minute ``wh_del``, up to 7 days."""
        return await self._telemetry(
            system_id,
            endpoint="telemetry/production_meter",
            parse=parse_production_meter,
            length=FIFTEEN_MINUTES,
            start_at=start_at,
            granularity=granularity,
        )

    async def get_consumption_meter(
        self, system_id: int, start_at: datetime | None = None, granularity: Granularity = "week"
    ) -> IntervalSeries:
        """``telemetry/consumption_meter``: 15-minute home consumption, up to 7 days."""
        return await self._telemetry(
            system_id,
            endpoint="telemetry/consumption_meter",
            parse=parse_consumption_meter,
            length=FIFTEEN_MINUTES,
            start_at=start_at,
            granularity=granularity,
        )

    async def get_energy_import(
        self, system_id: int, start_at: datetime | None = None, granularity: Granularity = "week"
    ) -> IntervalSeries:
        """``energy_import_telemetry``: 15-minute grid import, up to 7 days."""
        return await self._telemetry(
            system_id,
            endpoint="energy_import_telemetry",
            parse=parse_energy_import,
            length=FIFTEEN_MINUTES,
            start_at=start_at,
            granularity=granularity,
        )

    async def get_energy_export(
        self, system_id: int, start_at: datetime | None = None, granularity: Granularity = "week"
    ) -> IntervalSeries:
        """``energy_export_telemetry``: 15-minute grid export, up to 7 days."""
        return await self._telemetry(
            system_id,
            endpoint="energy_export_telemetry",
            parse=parse_energy_export,
            length=FIFTEEN_MINUTES,
            start_at=start_at,
            granularity=granularity,
        )

    async def get_battery_telemetry(
        self, system_id: int, start_at: datetime | None = None, granularity: Granularity = "week"
    ) -> BatterySeries:
        """``telemetry/battery``: 15-minute charge, discharge and state of charge."""
        endpoint = "telemetry/battery"
        params: Query = [("granularity", granularity)]
        if start_at is not None:
            params.append(("start_at", _epoch(start_at)))
        try:
            raw = await self._get(
                _system_path(system_id, endpoint), params, endpoint=endpoint, system_id=system_id
            )
        except InvalidDatesError:
            return BatterySeries(system_id=system_id, length=FIFTEEN_MINUTES, intervals=())
        return parse_battery_telemetry(raw)

    async def get_production_intervals(
        self, system_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> IntervalSeries:
        """``telemetry/production_micro`` with granularity ``week`` (``end`` is not sent).

        ``week`` answers up to 7 days of 5-minute intervals from ``start`` in one request (the
        planner's v4 statistics span); ``day`` would cost one request per day of a catch-up.
        """
        return await self.get_production_micro(system_id, start, "week")

    async def get_meter_intervals(
        self, system_id: int, start: datetime | None = None, end: datetime | None = None
    ) -> IntervalSeries:
        """``telemetry/production_meter`` with granularity ``week`` (``end`` is not sent)."""
        return await self.get_production_meter(system_id, start)

    async def get_consumption_lifetime(
        self, system_id: int, *, start_date: date | None = None, end_date: date | None = None
    ) -> DailyEnergy:
        """``consumption_lifetime``: daily home consumption."""
        raw = await self._daily(system_id, "consumption_lifetime", start_date, end_date)
        return parse_daily_series(raw, "consumption_lifetime", "consumption")

    async def get_battery_lifetime(
        self, system_id: int, *, start_date: date | None = None, end_date: date | None = None
    ) -> tuple[DailyEnergy, DailyEnergy]:
        """``battery_lifetime``: daily (charge, discharge)."""
        raw = await self._daily(system_id, "battery_lifetime", start_date, end_date)
        return parse_battery_lifetime(raw)

    async def get_import_lifetime(
        self, system_id: int, *, start_date: date | None = None, end_date: date | None = None
    ) -> DailyEnergy:
        """``energy_import_lifetime``: daily grid import."""
        raw = await self._daily(system_id, "energy_import_lifetime", start_date, end_date)
        return parse_daily_series(raw, "energy_import_lifetime", "import", "energy_import")

    async def get_export_lifetime(
        self, system_id: int, *, start_date: date | None = None, end_date: date | None = None
    ) -> DailyEnergy:
        """``energy_export_lifetime``: daily grid export."""
        raw = await self._daily(system_id, "energy_export_lifetime", start_date, end_date)
        return parse_daily_series(raw, "energy_export_lifetime", "export", "energy_export")

    async def get_latest_telemetry(self, system_id: int) -> LatestTelemetry:
        """``latest_telemetry``: the last power of every meter and battery."""
        raw = await self._get(
            _system_path(system_id, "latest_telemetry"),
            endpoint="latest_telemetry",
            system_id=system_id,
        )
        return parse_latest_telemetry(raw)
