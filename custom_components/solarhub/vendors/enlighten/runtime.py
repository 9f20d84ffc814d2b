"""Setting up an Enlighten config entry: one client, the key's shared account, a worker per system.

The systems list and devices come from the key's Store when it has them, so a restart costs no
request; only what is missing is fetched, within the key's budget. From then on the key's
scheduler (:mod:`.scheduler`) decides every request.

v4 needs an OAuth2 access token per request: :func:`async_token_getter` builds the token source
from the entry (the seam to ``vendors/enlighten/oauth.py``, written with the OAuth2 flow).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
import importlib
import logging
import math
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.enlighten.client import (
    DEFAULT_V2_BASE_URL,
    DEFAULT_V4_BASE_URL,
    EnlightenClient,
    EnlightenV2Client,
    EnlightenV4Client,
)
from ...api.enlighten.models import SystemDevices
from ...api.errors import AuthenticationError, RateLimitedError, SolarHubApiError
from ...const import CONF_BASE_URL, CONF_SYSTEMS, DOMAIN
from ...devices import Identifier, register_devices
from ...entity import EntitySpec, expect_requests
from ...statistics import HOUR, StatisticsImporter, async_last_imported, backfill_start
from .cache import devices_from_json, devices_to_json, system_from_json, system_to_json
from .coordinator import EnlightenBudgetCoordinator, EnlightenSystemCoordinator
from .entities import (
    account_device,
    budget_entities,
    devices,
    system_entities,
)
from .history import BACKFILL_DAYS, EnlightenHistory, sources, statistic_for
from .options import EnlightenOptions
from .plans import ApiVersion
from .scheduler import BudgetDeferredError, KeyAccount, async_account

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ...runtime import SolarHubConfigEntry

_LOGGER = logging.getLogger(__name__)

CONF_USER_ID: Final = "user_id"
REQUEST_TIMEOUT: Final = 30.0

TO_REDACT = {
    CONF_API_KEY,
    CONF_USER_ID,
    "serial_number",
    "serial",
    "city",
    "postal_code",
    "state",
    "reference",
    "other_references",
    "public_name",
    "name",
    "title",
}

type TokenGetter = Callable[[], Awaitable[str]]


async def async_token_getter(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    *,
    on_refresh: Callable[[], Awaitable[None]] | None = None,
) -> TokenGetter:
    """The entry's v4 access-token source, from ``vendors/enlighten/oauth.py``.

    That module defines ``async_token_getter(hass, entry, *, on_refresh=None)``: an async
    callable returning a valid access token (``OAuth2Session.async_ensure_token_valid`` behind
    it) that awaits ``on_refresh`` before each refresh it sends (the key's ledger).
    """
    oauth = importlib.import_module(f"{__package__}.oauth")
    getter: TokenGetter = await oauth.async_token_getter(hass, entry, on_refresh=on_refresh)
    return getter


class EnlightenRuntime:
    """A set-up Enlighten entry: its client, the key's account, a coordinator per system."""

    def __init__(
        self, entry: SolarHubConfigEntry, client: EnlightenClient, account: KeyAccount
    ) -> None:
        """Start with no systems; ``async_setup_enlighten`` adds them."""
        self.entry = entry
        self.client = client
        self.account = account
        self.systems: dict[int, EnlightenSystemCoordinator] = {}
        self.budget = EnlightenBudgetCoordinator(account.hass, entry, account)
        self.specs: list[EntitySpec[Any]] = list(budget_entities(self.budget, entry.entry_id))

    async def async_diagnostics(self) -> dict[str, Any]:
        """The budget, each system's summary and devices; keys, ids and places redacted."""
        systems = {
            str(index): {
                "system": asdict(coordinator.system),
                "summary": asdict(coordinator.summary) if coordinator.summary else None,
                "devices": devices_to_json(coordinator.devices),
                "series": sorted(coordinator.importers),
                "planner": self.account.planner.systems[system_id].to_dict()
                if system_id in self.account.planner.systems
                else None,
            }
            for index, (system_id, coordinator) in enumerate(self.systems.items())
        }
        status = self.account.status()
        plan = self.account.planner.plan
        return async_redact_data(
            {
                "api": self.client.api_version,
                "plan": {  # not asdict: its "name" key would be redacted with the systems' names
                    "plan": plan.name,
                    "per_minute": plan.per_minute,
                    "per_month": plan.per_month,
                },
                "budget": asdict(status),
                "requests_by_kind": dict(self.account.planner.ledger.by_kind),
                "systems": systems,
            },
            TO_REDACT | {"system_id"},
        )

    async def async_shutdown(self) -> None:
        """Leave the key's account (the last entry out saves it and stops its timer)."""
        if self.budget.async_push in self.account.listeners:
            self.account.listeners.remove(self.budget.async_push)
        await self.account.async_detach(list(self.systems))


def _client(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    account: KeyAccount,
    token: TokenGetter | None,
) -> EnlightenClient:
    session = async_get_clientsession(hass)
    base_url = entry.data.get(CONF_BASE_URL)
    if token is not None:
        return EnlightenV4Client(
            session,
            entry.data[CONF_API_KEY],
            token,
            base_url=base_url or DEFAULT_V4_BASE_URL,
            request_timeout=REQUEST_TIMEOUT,
            on_request=account.on_request,
            gate=account.async_gate,
        )
    return EnlightenV2Client(
        session,
        entry.data[CONF_API_KEY],
        entry.data[CONF_USER_ID],
        base_url=base_url or DEFAULT_V2_BASE_URL,
        request_timeout=REQUEST_TIMEOUT,
        on_request=account.on_request,
        gate=account.async_gate,
    )


async def _async_known(
    account: KeyAccount,
    client: EnlightenClient,
    system_ids: list[int],
    fetched_at: dict[int, datetime],
) -> dict[int, tuple[Any, SystemDevices]]:
    """Each chosen system and its devices: from the store, else (within the budget) fetched.

    ``fetched_at`` learns when devices were fetched here (the planner then waits its interval).
    """
    now = dt_util.utcnow()

    def allowed() -> None:
        if (at := account.planner.allowed_at(now)) > now:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="enlighten_waiting",
                translation_placeholders={"until": dt_util.as_local(at).isoformat()},
            )

    systems = {sid: system_from_json(account.cache["systems"].get(str(sid))) for sid in system_ids}
    if any(system is None for system in systems.values()):
        allowed()
        listed = await client.get_systems()
        account.cache["systems"] = {str(s.system_id): system_to_json(s) for s in listed}
        systems = {s.system_id: s for s in listed if s.system_id in system_ids}
    known: dict[int, tuple[Any, SystemDevices]] = {}
    for system_id in system_ids:
        if (system := systems.get(system_id)) is None:
            _LOGGER.warning("Enlighten no longer lists a chosen system; it is left out")
            continue
        found = devices_from_json(account.cache["devices"].get(str(system_id)))
        if found is None:
            allowed()
            found = await client.get_devices(system_id)
            account.cache["devices"][str(system_id)] = devices_to_json(found)
            fetched_at[system_id] = now
        known[system_id] = (system, found)
    account.save()
    return known


async def _statistics_from(
    hass: HomeAssistant, coordinator: EnlightenSystemCoordinator, history: EnlightenHistory
) -> datetime:
    """Where the planner starts a series: the stored series' end, or the first run's backfill."""
    last = await async_last_imported(hass, history.statistic)
    if last is not None:
        return last.start + HOUR
    return backfill_start(dt_util.utcnow(), coordinator.tz, BACKFILL_DAYS)


async def async_setup_enlighten(
    hass: HomeAssistant, entry: SolarHubConfigEntry
) -> EnlightenRuntime:
    """Join the key's account, know the chosen systems (stored or fetched), start planning."""
    options = EnlightenOptions.from_entry(entry)
    account = await async_account(hass, entry.data[CONF_API_KEY], options.plan)
    account.planner.plan = options.plan
    v4 = options.plan.api is ApiVersion.V4
    token = (
        await async_token_getter(hass, entry, on_refresh=account.async_token_refresh)
        if v4
        else None
    )
    client = _client(hass, entry, account, token)
    runtime = EnlightenRuntime(entry, client, account)
    try:
        fetched_at: dict[int, datetime] = {}
        known = await _async_known(
            account, client, [int(s) for s in entry.data[CONF_SYSTEMS]], fetched_at
        )
    except AuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="authentication_failed"
        ) from err
    except (RateLimitedError, BudgetDeferredError) as err:
        if isinstance(err, RateLimitedError):
            account.record_rate_limited(err)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="enlighten_waiting",
            translation_placeholders={
                "until": dt_util.as_local(account.planner.allowed_at(dt_util.utcnow())).isoformat()
            },
        ) from err
    except SolarHubApiError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    with_statistics = "recorder" in hass.config.components
    listed: list[tuple[DeviceInfo, Identifier | None]] = [
        (account_device(entry.entry_id, entry.title), None)
    ]
    for system_id, (system, found) in known.items():
        tz = (
            await dt_util.async_get_time_zone(system.timezone or "")
            or dt_util.get_default_time_zone()
        )
        coordinator = EnlightenSystemCoordinator(
            hass, entry, client, account, system=system, devices=found, tz=tz
        )
        series: list[str] = []
        starts: list[datetime] = []
        if with_statistics:
            site = sources(
                client,
                system_id,
                metered=_metered(found, v4=v4),
                consumption=v4 and _has_consumption(found),
                battery=v4 and found.has_battery,
                latest=coordinator.latest,
            )
            for source in site:
                if options.series is not None and source.series.value not in options.series:
                    continue
                history = EnlightenHistory(
                    source,
                    statistic_for(system_id, system.name, source.series),
                    tz=tz,
                    with_days=options.history_import,
                    on_intervals=coordinator.on_intervals,
                )
                importer = StatisticsImporter(hass, history, tz=tz, backfill_days=BACKFILL_DAYS)
                coordinator.add_series(source.endpoint, importer, history)
                series.append(source.endpoint)
                starts.append(await _statistics_from(hass, coordinator, history))
        account.attach(
            coordinator,
            statistics=series,
            inventory=("inventory", "envoys") if not v4 else ("devices",),
            statistics_from=min(starts, default=None),
        )
        if (fetched := fetched_at.get(system_id)) is not None:
            account.planner.systems[system_id].inventory = dict.fromkeys(
                account.planner.systems[system_id].inventory, fetched
            )
        _guess_daylight(hass, account, system_id, tz)
        runtime.systems[system_id] = coordinator
        runtime.specs += system_entities(coordinator, v4=v4)
        listed += devices(coordinator.data)
    register_devices(hass, entry, listed)
    expect_requests(hass, entry, runtime.specs)
    account.listeners.append(runtime.budget.async_push)
    account.async_schedule()
    return runtime


def _metered(found: SystemDevices, *, v4: bool) -> bool:
    """Whether solar energy comes from a production meter (v2 rgm / v4 production meter)."""
    if not v4:
        return bool(found.meters)
    return any(
        (meter.measurement_type or "production").startswith("production") for meter in found.meters
    )


def _has_consumption(found: SystemDevices) -> bool:
    return any(
        meter.config_type is not None or "consumption" in (meter.measurement_type or "")
        for meter in found.meters
    )


def _guess_daylight(
    hass: HomeAssistant, account: KeyAccount, system_id: int, tz: ZoneInfo | Any
) -> None:
    """The sun at the system: the planner's first guess of its daylight (learned from then on).

    Enlighten does not say where a system is. In Home Assistant's own zone its location is the
    guess; elsewhere the longitude follows the zone's standard offset (15 degrees an hour).
    """
    now = dt_util.now(tz)
    longitude = hass.config.longitude
    if str(tz) != hass.config.time_zone:
        standard = (now.utcoffset() or timedelta()) - (now.dst() or timedelta())
        longitude = standard / timedelta(hours=1) * 15
    if (times := sun_times(hass.config.latitude, longitude, now.date())) is not None:
        account.planner.set_sun(system_id, *times)


def sun_times(latitude: float, longitude: float, day: date) -> tuple[datetime, datetime] | None:
    """Sunrise and sunset (UTC) to within about 20 minutes; None on a polar day or night."""
    declination = math.radians(23.44) * math.sin(
        2 * math.pi * (284 + day.timetuple().tm_yday) / 365
    )
    cos_hour = -math.tan(math.radians(latitude)) * math.tan(declination)
    if not -1 < cos_hour < 1:
        return None
    half_day = timedelta(hours=math.degrees(math.acos(cos_hour)) / 15)
    noon = datetime.combine(day, time(12), tzinfo=UTC) - timedelta(hours=longitude / 15)
    return noon - half_day, noon + half_day
