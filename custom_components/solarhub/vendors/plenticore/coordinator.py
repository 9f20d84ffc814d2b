"""The PLENTICORE's three cadences: live process data, settings and events.

Process data and settings each take one request per cycle for every enabled entity: entities
pass the (module, id) pairs they show as their coordinator context; a coordinator fetches the union.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
import logging
import re
from typing import TYPE_CHECKING, override

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from ...api.errors import NotFoundError, SolarHubApiError
from ...api.plenticore.models import InverterEvent, SettingMeta, SettingsMeta
from ...const import DOMAIN
from ...coordinator import NewItems, SolarHubCoordinator
from ...problems import Listing

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ...api.plenticore.client import PlenticoreClient
    from ...runtime import SolarHubConfigEntry
    from .derived import DerivedValue

_LOGGER = logging.getLogger(__name__)

type DataPoint = tuple[str, str]  # (module id, process-data or setting id)


def _group(points: Iterable[DataPoint]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for module_id, data_id in sorted(points):
        grouped.setdefault(module_id, []).append(data_id)
    return grouped


class _PollingCoordinator[DataT](SolarHubCoordinator[DataT]):
    """Fetches the data points its listeners asked for; everything known before any listener."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: PlenticoreClient,
        *,
        name: str,
        update_interval: timedelta,
        known: Iterable[DataPoint],
    ) -> None:
        super().__init__(hass, entry, name=name, update_interval=update_interval)
        self.client = client
        self.known = frozenset(known)

    def wanted(self) -> frozenset[DataPoint]:
        """The known data points the enabled entities request (``requested``)."""
        return frozenset(point for point in self.requested() if point in self.known)


@dataclass(frozen=True, slots=True)
class LiveData:
    """Process data of one cycle, derived values included."""

    values: Mapping[DataPoint, float]

    def get(self, point: DataPoint) -> float | None:
        """The value of one data point, or None when the inverter did not report it."""
        return self.values.get(point)


class ProcessDataCoordinator(_PollingCoordinator[LiveData]):
    """Live values in one ``POST /processdata`` per cycle."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: PlenticoreClient,
        *,
        update_interval: timedelta,
        known: Iterable[DataPoint],
        derived: Iterable[DerivedValue],
    ) -> None:
        super().__init__(
            hass, entry, client, name="process", update_interval=update_interval, known=known
        )
        self._derived = tuple(derived)
        self._totals: dict[DataPoint, float] = {}

    @override
    async def _fetch(self) -> LiveData:
        wanted = self.wanted()
        try:
            raw = await self.client.get_process_data(_group(wanted))
        except NotFoundError:
            # An id vanished (e.g. a module removed by a firmware update): re-list and ask again.
            listed = await self.client.get_process_data_ids()
            self.known = frozenset(
                (module, data_id)
                for module, data_id in self.known
                if data_id in listed.get(module, ())
            )
            _LOGGER.info("%s: the inverter no longer lists some data points", self.name)
            raw = await self.client.get_process_data(_group(wanted & self.known))
        values: dict[DataPoint, float] = {
            (module_id, data_id): value.value
            for module_id, module_values in raw.items()
            for data_id, value in module_values.items()
        }
        for derived in self._derived:
            if (value := derived.compute(values)) is None:
                continue
            if derived.monotonic:
                # Counters read in one request can still tick apart by a few Wh; a lifetime total
                # that steps back would look like a meter reset to the Energy dashboard.
                value = max(value, self._totals.get(derived.point, value))
                self._totals[derived.point] = value
            values[derived.point] = value
        return LiveData(values)


class SettingsCoordinator(_PollingCoordinator[Mapping[DataPoint, str]]):
    """Setting values in one ``POST /settings`` per cycle, and validated writes."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: PlenticoreClient,
        *,
        update_interval: timedelta,
        known: Iterable[DataPoint],
        meta: SettingsMeta,
    ) -> None:
        super().__init__(
            hass, entry, client, name="settings", update_interval=update_interval, known=known
        )
        self.meta = meta

    @override
    async def _fetch(self) -> Mapping[DataPoint, str]:
        wanted = self.wanted()
        if not wanted:
            return {}
        raw = await self.client.get_setting_values(_group(wanted))
        return {
            (module_id, setting_id): value
            for module_id, settings in raw.items()
            for setting_id, value in settings.items()
        }

    async def async_write(self, module_id: str, values: Mapping[str, str]) -> None:
        """Validate every value against the inverter's own limits, write them together, refresh."""
        for setting_id, value in values.items():
            validate_setting(self.meta[module_id][setting_id], value)
        await self.async_run(
            lambda: self.client.set_setting_values(module_id, values), ", ".join(values)
        )
        await self.async_refresh()  # read back now: the next write may build on this value

    async def async_run(self, action: Callable[[], Awaitable[None]], what: str) -> None:
        """Carry out a user's action; a failure becomes a translated error naming it."""
        try:
            await action()
        except SolarHubApiError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="action_failed",
                translation_placeholders={"action": what, "error": str(err)},
            ) from err


_INTEGER_TYPES = frozenset({"byte", "uint8", "int8", "uint16", "int16", "uint32", "int32"})
_INTEGER = re.compile(r"-?[0-9]{1,20}", re.ASCII)  # bounded: int() refuses 4,300+ digits
_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", re.ASCII)


def validate_setting(meta: SettingMeta, value: str) -> None:
    """Raise a translated error, before anything is written, if the inverter would refuse it."""
    if meta.type == "bool":
        if value not in ("0", "1"):
            raise _invalid(meta, value)
        return
    if meta.type not in _INTEGER_TYPES and meta.type != "float":
        return
    # Plain ASCII decimals only: int() and float() also take other scripts' digits, spaces,
    # underscores, signs, exponents and "nan", none of which the inverter reads.
    if not (_INTEGER if meta.type in _INTEGER_TYPES else _DECIMAL).fullmatch(value):
        raise _invalid(meta, value)
    number = int(value) if meta.type in _INTEGER_TYPES else float(value)
    low = float(meta.min) if meta.min not in (None, "") else None
    high = float(meta.max) if meta.max not in (None, "") else None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="setting_out_of_range",
            translation_placeholders={
                "setting": meta.id,
                "value": value,
                "min": meta.min or "",
                "max": meta.max or "",
            },
        )


def _invalid(meta: SettingMeta, value: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="setting_invalid",
        translation_placeholders={"setting": meta.id, "value": value},
    )


# The inverter's active events, and the ones that appeared since the last cycle.
type EventsData = Listing[InverterEvent]


class EventsCoordinator(SolarHubCoordinator[EventsData]):
    """The latest inverter events, in Home Assistant's language."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: PlenticoreClient,
        *,
        update_interval: timedelta,
    ) -> None:
        super().__init__(hass, entry, name="events", update_interval=update_interval)
        self.client = client
        self._new = NewItems(hass, f"{entry.entry_id}_events")

    @override
    async def _fetch(self) -> EventsData:
        language = "de-de" if self.hass.config.language.startswith("de") else "en-gb"
        events = await self.client.get_events(language=language)
        new = self._new.pick(events, lambda event: event.key)
        return Listing(active=tuple(e for e in events if e.is_active), new=new)
