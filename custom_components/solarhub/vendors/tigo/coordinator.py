"""A Tigo system's cadences: live values (with the hourly statistics import) and alerts.

Live values cost three requests per cycle whatever the system's size: the gateways (check-ins and
the newest uploaded minute), the summary, and one minute-level ``data/aggregate`` of panel power
without ``object_ids``. Voltage, current and RSSI add one request each, only while an entity for
them is enabled. The pace drops when the account's rate-limit headers run low.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import logging
from typing import TYPE_CHECKING, override

from homeassistant.util import dt as dt_util

from ...api.tigo.models import Alert, Summary, TigoSource
from ...coordinator import NewItems, SolarHubCoordinator
from ...problems import Listing
from ...statistics import EnergyStatistic, StatisticsImporter
from .history import TigoHistory
from .topology import Topology, build_topology

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ...api.tigo.client import TigoClient
    from ...runtime import SolarHubConfigEntry

_LOGGER = logging.getLogger(__name__)

REPORTING_WINDOW = timedelta(minutes=30)  # a gateway that checked in within this is reporting
# Panel values older than the newest minute by more than this are stale.
READING_WINDOW = timedelta(minutes=10)
# The cloud is 10-40 minutes late; a newest minute older than this is the dusk's, not live data.
FRESH_DATA = timedelta(minutes=60)
TOPOLOGY_MAX_AGE = timedelta(days=1)
BACKFILL_DAYS = 7  # local days of history imported into statistics on the first run
ACTIVE_ALERT_WINDOW = timedelta(hours=24)
ALERT_HISTORY = timedelta(days=30)
# Alert languages the cloud offers; others fall back to English.
ALERT_LANGUAGES = {
    "de": "DE",
    "el": "EL",
    "en": "EN",
    "es": "ES",
    "fr": "FR",
    "it": "IT",
    "ja": "JP",
    "ko": "KO",
}


@dataclass(frozen=True, slots=True)
class LiveData:
    """One cycle of a system's live values."""

    summary: Summary
    sources: tuple[TigoSource, ...]
    readings: Mapping[tuple[str, int], float]  # (param, panel object id) -> newest value
    data_minute: datetime | None  # the newest minute the cloud has from the panels
    reporting: bool  # a gateway checked in recently
    skipped_rows: int = 0

    def panel_value(self, param: str, object_id: int) -> float | None:
        """A panel's newest value; at night a reporting system's panels produce 0 W and 0 A."""
        if (value := self.readings.get((param, object_id))) is not None:
            return value
        return 0.0 if self.reporting and param in ("Pin", "Iin") else None

    def group_power(self, object_ids: Collection[int]) -> float | None:
        """The summed power of a string or inverter."""
        if not self.reporting:
            return None
        return round(sum(self.panel_value("Pin", oid) or 0.0 for oid in object_ids), 1)


def newest_panel_minute(sources: tuple[TigoSource, ...]) -> datetime | None:
    """The newest minute of panel data any gateway has uploaded."""
    minutes = [
        data_set.last_min
        for source in sources
        for data_set in source.sets
        if data_set.last_min is not None and data_set.set_name.lower().startswith("panel")
    ]
    return max(minutes, default=None)


class TigoLiveCoordinator(SolarHubCoordinator[LiveData]):
    """Summary, gateways and panel values of one system; imports complete hours as they come."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: TigoClient,
        *,
        topology: Topology,
        tz: tzinfo,
        interval: timedelta,
        statistic: EnergyStatistic | None,
    ) -> None:
        super().__init__(hass, entry, name=f"{topology.system.name} live", update_interval=interval)
        self.client = client
        self.topology = topology
        self.tz = tz
        self.base_interval = interval
        self.statistic = statistic
        self.importer = (
            None
            if statistic is None
            else StatisticsImporter(
                hass,
                TigoHistory(client, topology, tz=tz, statistic=statistic, now=dt_util.utcnow()),
                tz=tz,
                backfill_days=BACKFILL_DAYS,
            )
        )
        self._config_update = client.config_update(topology.system.system_id)
        self._topology_read = dt_util.utcnow()

    @property
    def system_id(self) -> int:
        """The Tigo system id."""
        return self.topology.system.system_id

    def wanted_params(self) -> frozenset[str]:
        """Pin always; Vin, Iin and RSSI while an entity showing them is enabled."""
        return frozenset({"Pin", *(p for p in self.requested() if isinstance(p, str))})

    @override
    async def _fetch(self) -> LiveData:
        now = dt_util.utcnow()
        sources = tuple(await self.client.get_sources(self.system_id))
        summary = await self.client.get_summary(self.system_id)
        data_minute = newest_panel_minute(sources)
        reporting = any(
            s.last_checkin is not None and now - s.last_checkin <= REPORTING_WINDOW for s in sources
        )
        readings: dict[tuple[str, int], float] = {}
        skipped = 0
        panel_ids = self.topology.panel_object_ids
        # After sunset the panels upload nothing and the newest minute stays at dusk: no request,
        # the panels of a reporting system read 0 W until data flows again.
        fresh = data_minute is not None and now - data_minute <= FRESH_DATA
        end = data_minute or now
        for param in sorted(self.wanted_params()) if fresh else ():
            series = await self.client.get_aggregate(
                self.system_id, end - READING_WINDOW, end, tz=self.tz, param=param, level="min"
            )
            skipped += series.skipped_rows
            for column in series.columns:
                if not column.isdigit() or int(column) not in panel_ids:
                    continue
                point = series.latest(column)
                if point is not None and end - point[0] <= READING_WINDOW:
                    readings[(param, int(column))] = point[1]
        if skipped:
            _LOGGER.debug("%s: skipped %d unreadable rows", self.name, skipped)
        if data_minute is not None and self.importer is not None:
            # Every minute up to the newest is uploaded; a failed import never fails the poll.
            await self.importer.async_import(data_minute + timedelta(minutes=1))
        self._pace()
        await self._reload_if_layout_changed(now, sources)
        return LiveData(
            summary=summary,
            sources=sources,
            readings=readings,
            data_minute=data_minute,
            reporting=reporting,
            skipped_rows=skipped,
        )

    def _pace(self) -> None:
        """Slow down while the account's request budget runs low; resume when it recovers."""
        interval = self.base_interval
        limit = self.client.rate_limit
        if limit is not None and limit.limit and limit.remaining is not None:
            share = limit.remaining / limit.limit
            if share < 0.05 and limit.reset_seconds:
                interval = max(interval, timedelta(seconds=limit.reset_seconds))
            elif share < 0.25:
                interval = interval * 2
        if interval != self.update_interval:
            _LOGGER.info("%s: polling every %s (rate limit %s)", self.name, interval, limit)
            self.update_interval = interval

    async def _reload_if_layout_changed(
        self, now: datetime, sources: tuple[TigoSource, ...]
    ) -> None:
        """Read the layout again when it may have changed; rebuild the entities if it did.

        It may have changed when ``X-System-Config-Update`` moved (a replaced optimizer, new
        labels), and once a day in case a change went unannounced. Two requests; the entry
        reloads only when devices or panels really differ.
        """
        current = self.client.config_update(self.system_id)
        announced = None not in (current, self._config_update) and current != self._config_update
        if current is not None:
            self._config_update = current
        if not announced and now - self._topology_read <= TOPOLOGY_MAX_AGE:
            return
        self._topology_read = now
        layout = await self.client.get_layout(self.system_id)
        objects = await self.client.get_objects(self.system_id)
        fresh = build_topology(self.topology.system, layout, objects, list(sources))
        if fresh.signature() != self.topology.signature():
            _LOGGER.info("%s: the system's layout changed, reloading", self.name)
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)


# The system's recent alerts, and the ones that appeared since the last cycle.
type AlertsData = Listing[Alert]


class TigoAlertsCoordinator(SolarHubCoordinator[AlertsData]):
    """Alerts of one system, in Home Assistant's language where the cloud has it."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: TigoClient,
        *,
        topology: Topology,
        interval: timedelta,
    ) -> None:
        super().__init__(
            hass, entry, name=f"{topology.system.name} alerts", update_interval=interval
        )
        self.client = client
        self.system_id = topology.system.system_id
        self._new = NewItems(hass, f"{entry.entry_id}_{self.system_id}_alerts")

    @override
    async def _fetch(self) -> AlertsData:
        now = dt_util.utcnow()
        language = ALERT_LANGUAGES.get(self.hass.config.language.split("-")[0].lower(), "EN")
        alerts = await self.client.get_alerts(
            self.system_id, language=language, start_added=now - ALERT_HISTORY
        )
        new = self._new.pick(alerts, lambda alert: alert.alert_id)
        active = tuple(
            sorted(
                (a for a in alerts if now - a.added <= ACTIVE_ALERT_WINDOW),
                key=lambda a: a.added,
                reverse=True,
            )
        )
        return Listing(active=active, new=new)
