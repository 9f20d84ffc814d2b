"""An Enlighten system's data, pushed by the key's scheduler; and the account's budget figures.

Neither coordinator polls: the key's :class:`~.scheduler.KeyAccount` decides every request and
each system's :class:`EnlightenSystemCoordinator` (its worker) performs the ones for its system,
then hands the result to the entities with ``async_set_updated_data``. So the entities stay
thin and a disabled entity never costs a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
import logging
from typing import TYPE_CHECKING, Final, override

from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util

from ...api.enlighten.client import EnlightenClient, EnlightenV2Client
from ...api.enlighten.errors import UnknownUserError
from ...api.enlighten.models import (
    EnergyInterval,
    EnlightenSystem,
    SystemDevices,
    SystemStatus,
    SystemSummary,
)
from ...api.errors import AuthenticationError
from ...const import DOMAIN
from ...coordinator import SolarHubCoordinator
from ...statistics import HOUR, StatisticsImporter, async_last_imported, backfill_start
from .cache import devices_to_json, system_to_json
from .history import BACKFILL_DAYS, EnlightenHistory, Reading
from .planner import Action, BudgetStatus, RequestKind

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ...runtime import SolarHubConfigEntry
    from .scheduler import KeyAccount

_LOGGER = logging.getLogger(__name__)

# An Envoy whose last report is older than this many cadences (plus the slack) has stopped.
SILENT_CADENCES = 2
SILENT_SLACK = timedelta(minutes=30)
ISSUE_V2_REFUSED = "enlighten_v2_key_refused"
PROBLEMS = tuple(status.value for status in SystemStatus if status is not SystemStatus.NORMAL)
# The keys of a v4 battery's entities (they exist while the site's devices list a battery).
BATTERY_KEYS: Final = ("battery_power", "battery_capacity", "battery_soc")


# A flow's newest quarter from the statistics requests stands for the present this long; older
# (on small plans statistics come once a day) the sensor is unavailable rather than wrong.
RECENT_READING = timedelta(minutes=90)


@dataclass(frozen=True, slots=True)
class SystemData:
    """What a system's entities show: the newest summary and everything around it."""

    system: EnlightenSystem
    devices: SystemDevices
    summary: SystemSummary | None
    lifetime_wh: float | None  # lifetime plus today, never lower than before
    cadence: timedelta  # the Envoy's learned upload cadence
    at: datetime  # when this data was handed over
    summary_at: datetime | None = None  # when the summary was fetched
    daylight: bool = True  # ``at`` lies in the system's (learned) daylight window
    new_problem: str | None = None  # the problem status the system just changed into
    # v4: the newest quarter's mean power of each site flow, the battery's state of charge
    latest: Mapping[str, Reading] = field(default_factory=dict)

    def recent(self, key: str) -> float | None:
        """A ``latest`` value while it is recent: an old quarter is not today's power."""
        reading = self.latest.get(key)
        if reading is None or self.at - reading.at > RECENT_READING:
            return None
        return reading.value

    def silent(self, report: datetime | None) -> bool:
        """Whether a report is older than two cadences (with slack) when the summary came."""
        if report is None or self.summary_at is None:
            return True
        return self.summary_at - report > self.cadence * SILENT_CADENCES + SILENT_SLACK

    @property
    def reporting(self) -> bool:
        """Whether the Envoy still reported at the last summary."""
        return self.summary is not None and not self.silent(self.summary.last_report_at)

    @property
    def current_power(self) -> float | None:
        """The summary's power; 0 W when no new interval is due (night), not the dusk value.

        0 W while the Envoy's reports carry no new interval, and at night once the last
        interval is older than a cadence (no summary is spent on the dark). Unknown (the
        entity unavailable) when the Envoy no longer reports.
        """
        summary = self.summary
        if summary is None or not self.reporting:
            return None
        report, interval = summary.last_report_at, summary.last_interval_end_at
        if interval is None or (report is not None and report - interval > self.cadence):
            return 0.0
        if not self.daylight and self.at - interval > self.cadence:
            return 0.0
        return summary.current_power

    @property
    def status(self) -> str | None:
        """The summary's status where it is one the document lists."""
        status = self.summary.status if self.summary is not None else None
        return status if status in SystemStatus.__members__.values() else None


class EnlightenSystemCoordinator(SolarHubCoordinator[SystemData]):
    """One system: performs the scheduler's actions for it and pushes the outcome."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        client: EnlightenClient,
        account: KeyAccount,
        *,
        system: EnlightenSystem,
        devices: SystemDevices,
        tz: tzinfo,
    ) -> None:
        super().__init__(hass, entry, name=system.name, update_interval=None)
        self.client = client
        self.account = account
        self.system = system
        self.devices = devices
        self.tz = tz
        self.summary: SystemSummary | None = None
        self.summary_at: datetime | None = None
        self.latest: dict[str, Reading] = {}
        self.importers: dict[str, tuple[StatisticsImporter, EnlightenHistory]] = {}
        lifetime = account.cache["lifetime"].get(str(system.system_id))
        self.lifetime_wh: float | None = (
            float(lifetime) if isinstance(lifetime, int | float) else None
        )
        self.data = self._build()

    @property
    def system_id(self) -> int:
        """The Enlighten system id."""
        return self.system.system_id

    def add_series(
        self, endpoint: str, importer: StatisticsImporter, history: EnlightenHistory
    ) -> None:
        """A statistics series this system imports (``endpoint``: the planner's name for it)."""
        self.importers[endpoint] = (importer, history)

    def on_intervals(self, intervals: list[EnergyInterval]) -> None:
        """Intervals fetched for statistics teach the planner the system's daylight."""
        self.account.planner.record_intervals(
            self.system_id, [(i.end_at, i.energy_wh) for i in intervals]
        )

    # -- the scheduler's side --------------------------------------------------------------------

    def cost(self, action: Action) -> int:
        """How many requests ``action`` sends: a statistics action one chunk (and the days once)."""
        if action.kind is RequestKind.INVENTORY:
            return self.client.devices_requests
        if action.kind is RequestKind.STATISTICS and action.endpoint in self.importers:
            history = self.importers[action.endpoint][1]
            return 2 if history.with_days and not history.imported else 1
        return 1

    async def async_perform(self, action: Action) -> None:
        """Send the action's request(s); raise the client's errors (the scheduler handles them)."""
        match action.kind:
            case RequestKind.SYSTEMS:
                await self._async_systems()
            case RequestKind.INVENTORY:
                await self._async_devices()
            case RequestKind.SUMMARY:
                await self._async_summary()
            case RequestKind.STATISTICS:
                await self._async_statistics(action)
            case _:
                # The daily history is part of the first statistics import: a planned one-shot
                # history request has nothing left to do (and costs nothing).
                if action.endpoint is not None:
                    self.account.planner.systems[self.system_id].history.discard(action.endpoint)

    async def _async_systems(self) -> None:
        systems = await self.client.get_systems()
        self.account.cache["systems"] = {str(s.system_id): system_to_json(s) for s in systems}
        for system in systems:
            if system.system_id == self.system_id:
                self.system = system

    async def _async_devices(self) -> None:
        devices = await self.client.get_devices(self.system_id)
        self.account.cache["devices"][str(self.system_id)] = devices_to_json(devices)
        before = {g.serial_number for g in self.devices.gateways}
        # Only v4 has battery entities and series; a v2 re-read may list part of the devices.
        v4 = not isinstance(self.client, EnlightenV2Client)
        had_battery, self.devices = v4 and self.devices.has_battery, devices
        if had_battery and not devices.has_battery:
            _LOGGER.info("%s: its battery is gone, reloading without it", self.name)
            self._remove_battery_entities()
        elif {g.serial_number for g in devices.gateways} != before:
            _LOGGER.info("%s: its Envoys changed, reloading", self.name)
        elif v4 and devices.has_battery and not had_battery:
            _LOGGER.info("%s: it has a battery now, reloading", self.name)
        else:
            return
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    def _remove_battery_entities(self) -> None:
        """A battery that left the site's devices takes its entities along (no orphans)."""
        registry = er.async_get(self.hass)
        prefix = f"enlighten_system_{self.system_id}_"
        for entity in er.async_entries_for_config_entry(registry, self.config_entry.entry_id):
            if entity.unique_id.removeprefix(prefix) in BATTERY_KEYS:
                registry.async_remove(entity.entity_id)

    async def _async_summary(self) -> None:
        now = dt_util.utcnow()
        summary = await self.client.get_summary(self.system_id)
        self.account.planner.record_summary(
            self.system_id,
            now,
            last_report_at=summary.last_report_at,
            last_interval_end_at=summary.last_interval_end_at,
        )
        previous = self.summary.status if self.summary is not None else None
        self.summary, self.summary_at = summary, now
        # energy_lifetime excludes today; at midnight today resets before yesterday is in it.
        total = summary.lifetime_total
        if self.lifetime_wh is None or total > self.lifetime_wh:
            self.lifetime_wh = total
            self.account.cache["lifetime"][str(self.system_id)] = total
        problem = summary.status if summary.status in PROBLEMS else None
        self.async_set_updated_data(
            self._build(
                new_problem=problem if previous is not None and problem != previous else None
            )
        )

    async def _async_statistics(self, action: Action) -> None:
        if action.endpoint is None or action.endpoint not in self.importers or action.end is None:
            return
        importer, history = self.importers[action.endpoint]
        newest = self.account.planner.systems[self.system_id].last_interval_end
        until = action.end if newest is None else min(action.end, newest)
        # One request per action: the importer continues from the stored series' end.
        last = await async_last_imported(self.hass, history.statistic)
        since = (
            last.start + HOUR
            if last is not None
            else backfill_start(dt_util.utcnow(), self.tz, BACKFILL_DAYS)
        )
        until = max(min(until, since + history.chunk), since)
        asked = action.end
        history.reset()
        if history.contiguous:  # a missing quarter is "not yet": import only what is there
            covered = await history.async_prefetch(since, since + history.chunk)
            v4 = not isinstance(self.client, EnlightenV2Client)
            if v4 and (covered is None or covered < since + HOUR):
                # No new hour up to the newest interval (a battery gone): that range is done,
                # not due again at once (no storm). The next import still starts from the
                # stored series' end, so data uploaded late is not lost.
                asked = until
            until = min(until, covered or since)
        await importer.async_import(until)
        if history.failure is not None:
            raise history.failure
        history.imported = True
        fetched = history.fetched_until
        self.account.planner.record_statistics(
            self.system_id,
            action.endpoint,
            requested_end=asked,
            fetched_until=until if fetched is None else max(fetched, until),
        )

    def async_push(self) -> None:
        """Hand the entities the current data (availability moves with time)."""
        self.async_set_updated_data(self._build())

    def async_auth_failed(self, err: AuthenticationError) -> None:
        """Reauth; a v2 key Enphase refuses also gets the repair issue about moving to v4."""
        if isinstance(self.client, EnlightenV2Client) and not isinstance(err, UnknownUserError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{ISSUE_V2_REFUSED}_{self.config_entry.entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_V2_REFUSED,
                learn_more_url="https://developer-v4.enphase.com/docs/quickstart.html",
            )
        self.config_entry.async_start_reauth(self.hass)

    def _build(self, *, new_problem: str | None = None) -> SystemData:
        state = self.account.planner.systems.get(self.system_id)
        now = dt_util.utcnow()
        return SystemData(
            system=self.system,
            devices=self.devices,
            summary=self.summary,
            lifetime_wh=self.lifetime_wh,
            cadence=state.cadence.cadence if state is not None else timedelta(minutes=15),
            at=now,
            summary_at=self.summary_at,
            daylight=state is None or now in state.daylight.window(now),
            new_problem=new_problem,
            latest=dict(self.latest),
        )

    @override
    async def _fetch(self) -> SystemData:
        """A refresh asks nothing of Enlighten: the scheduler decides every request."""
        return replace(self._build(), new_problem=None)


class EnlightenBudgetCoordinator(SolarHubCoordinator[BudgetStatus]):
    """The key's budget figures, refreshed after every run of its scheduler."""

    def __init__(
        self, hass: HomeAssistant, entry: SolarHubConfigEntry, account: KeyAccount
    ) -> None:
        super().__init__(hass, entry, name="budget", update_interval=None)
        self.account = account
        self.data = account.status()

    def async_push(self) -> None:
        """The figures after the scheduler's latest run."""
        self.async_set_updated_data(self.account.status())

    @override
    async def _fetch(self) -> BudgetStatus:
        return self.account.status()
