"""One Enlighten API key in Home Assistant: its planner, its Store, and the loop that spends it.

Every entry and system using a key shares one :class:`KeyAccount` (``hass.data``, by a hash of
the key: the key itself is never a name, a log line or a file name). The account persists the
planner (ledger included), the systems list, each system's devices and its lifetime total in a
``Store``, so a restart or reload neither forgets what was spent nor costs a request to learn
what it knew. Its loop asks the planner for the next action, sleeps until then (a point-in-time
listener, so Home Assistant's clock and tests' ``async_fire_time_changed`` drive it), lets the
system's worker perform it and records the outcome:

- 409 / 429: the key stops until the period's end exactly (v4: the planner infers the period);
  a spent month raises a repair issue saying when polling resumes. No reauth, no retry storm.
- an authentication failure: the worker starts a reauth and leaves the plan.
- anything else (errorCode 7, 5xx, timeouts, malformed answers): logged once, the last data is
  kept, the key pauses a little (5 minutes, doubling up to an hour) before its next request.

Every request of the key, whoever sends it (the statistics importer's chunk and daily history,
a v4 token refresh, setup), first passes the account's gate (:meth:`KeyAccount.async_gate`):
a request that does not fit the minute cap is not sent, and its action waits in the loop until
the ledger has room, so no minute ever holds more than the cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
import hashlib
import logging
from typing import TYPE_CHECKING, Any, Final, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ...api.errors import AuthenticationError, RateLimitedError, RatePeriod, SolarHubApiError
from ...const import DOMAIN
from .ledger import Period
from .planner import Action, BudgetStatus, Planner, RequestKind

if TYPE_CHECKING:
    from ...api.enlighten.transport import RequestRecord
    from .plans import Plan

_LOGGER = logging.getLogger(__name__)

STORE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0  # seconds
FIRST_BACKOFF: Final = timedelta(minutes=5)
MAX_BACKOFF: Final = timedelta(hours=1)
MAX_ACTIONS_PER_RUN: Final = 25
MINUTE: Final = timedelta(seconds=60)
PUSH_EVERY: Final = timedelta(minutes=5)
REFUSED_BY_LIMIT: Final = frozenset({409, 429})
ISSUE_BUDGET: Final = "enlighten_budget_exhausted"

_ACCOUNTS: HassKey[dict[str, KeyAccount]] = HassKey(f"{DOMAIN}_enlighten_keys")
_PERIODS: Final = {RatePeriod.MINUTE: Period.MINUTE, RatePeriod.MONTH: Period.MONTH}
_INVENTORY: Final = frozenset({"inventory", "envoys", "devices"})
_HISTORY_SUFFIX: Final = "_lifetime"


class BudgetDeferredError(SolarHubApiError):
    """Not sent: the key's minute cap, a block or a spent month stops it (planned again)."""


def key_hash(api_key: str) -> str:
    """A short stable name for an API key (store key, device identifier, issue id)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def request_kind(endpoint: str) -> RequestKind:
    """The planner's kind of a request the client sent, by its endpoint."""
    if endpoint == "systems":
        return RequestKind.SYSTEMS
    if endpoint == "summary":
        return RequestKind.SUMMARY
    if endpoint in _INVENTORY:
        return RequestKind.INVENTORY
    if endpoint.endswith(_HISTORY_SUFFIX):
        return RequestKind.HISTORY
    if endpoint in ("stats", "rgm_stats") or "telemetry" in endpoint:
        return RequestKind.STATISTICS
    return RequestKind.OTHER


class SystemWorker(Protocol):
    """What the account needs from a system: perform an action, refresh, give up on auth."""

    @property
    def system_id(self) -> int:
        """The Enlighten system id."""

    def cost(self, action: Action) -> int:
        """How many requests the action sends (v2 devices: two; a statistics catch-up: more)."""

    async def async_perform(self, action: Action) -> None:
        """Send the action's request(s) and take in the answer; raise the client's errors."""

    def async_push(self) -> None:
        """Hand fresh data to the entities (budget figures, availability by time)."""

    def async_auth_failed(self, err: AuthenticationError) -> None:
        """The credentials were refused: start a reauth."""


class KeyAccount:
    """The planner, persistence and request loop of one API key."""

    def __init__(
        self,
        hass: HomeAssistant,
        name: str,
        store: Store[dict[str, Any]],
        stored: dict[str, Any],
        plan: Plan,
    ) -> None:
        """Restore what the store held (``stored``), planning on ``plan``."""
        self.hass = hass
        self.name = name
        self.store = store
        self.planner = Planner.from_dict(stored.get("planner"), plan, dt_util.utcnow())
        self.cache: dict[str, dict[str, Any]] = {
            part: dict(stored.get(part) or {})
            for part in ("systems", "devices", "lifetime", "status")
        }
        self.workers: dict[int, SystemWorker] = {}
        self.listeners: list[Callable[[], None]] = []  # told after every run (budget sensors)
        self._timer: CALLBACK_TYPE | None = None
        self._task: asyncio.Task[None] | None = None
        self._not_before: datetime | None = None
        self._backoff = FIRST_BACKOFF
        self._failing = False
        self._exhausted_logged = False

    # -- membership --------------------------------------------------------------------------

    def attach(
        self,
        worker: SystemWorker,
        *,
        statistics: Sequence[str],
        inventory: Sequence[str],
        statistics_from: datetime | None,
    ) -> None:
        """Plan for a system of an entry using this key."""
        self.workers[worker.system_id] = worker
        self.planner.add_system(
            worker.system_id,
            statistics=statistics,
            inventory=inventory,
            statistics_from=statistics_from,
        )

    async def async_detach(self, system_ids: Sequence[int]) -> None:
        """An entry unloads: stop planning for its systems; the last one out saves and stops."""
        for system_id in system_ids:
            self.workers.pop(system_id, None)
            self.planner.remove_system(system_id)
        if self.workers:
            return
        self._cancel_timer()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        await self.store.async_save(self._data())
        self.hass.data[_ACCOUNTS].pop(self.name, None)

    # -- what workers and the client report -----------------------------------------------------

    @callback
    def on_request(self, record: RequestRecord) -> None:
        """Every request Enphase counts goes into the ledger (pages and failures included).

        A request refused for a limit (v2 409, v4 429) is not counted by Enphase, so not here
        either: counting it made a run of refusals look like a spent month. A 503 ("too many
        concurrent requests", sent "instead of a 409 in extreme cases") is counted: the document
        does not say it is free, and counting one Enphase did not count costs one request of the
        month, while not counting one it did could take the key past its month. A request with
        no answer (timeout, connection error) may have reached Enphase: counted too.
        """
        if record.status in REFUSED_BY_LIMIT:
            return
        kind = request_kind(record.endpoint)
        endpoint = None if kind in (RequestKind.SYSTEMS, RequestKind.SUMMARY) else record.endpoint
        self.planner.record_request(record.at, kind, system_id=record.system_id, endpoint=endpoint)
        self.save()

    async def async_gate(self) -> None:
        """Let one more request of this key go now, or raise :class:`BudgetDeferredError`.

        The request goes only if it fits the minute cap and no block or spent month stops the
        key; else it is not sent and the action it belongs to is planned again for the moment
        the ledger allows (the loop waits on Home Assistant's clock, never inside a request).
        The loop starts an action only when all of it fits the minute (``SystemWorker.cost``),
        so a deferral is the exception: a request the action did not announce (a v4 token
        refresh) or someone else's request on the same key meanwhile.
        """
        now = dt_util.utcnow()
        if (at := self.planner.allowed_at(now)) > now:
            raise BudgetDeferredError(f"the key's budget allows the next request at {at}")

    async def async_token_refresh(self) -> None:
        """A v4 token refresh is about to be sent: wait for room, then count it."""
        await self.async_gate()
        self.planner.record_request(dt_util.utcnow(), RequestKind.TOKEN)
        self.save()

    def save(self) -> None:
        """Save soon (the ledger, what was learned, the caches)."""
        self.store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        return {"planner": self.planner.to_dict(), **self.cache}

    def status(self) -> BudgetStatus:
        """The figures of the budget sensors."""
        return self.planner.status(dt_util.utcnow())

    # -- the loop ------------------------------------------------------------------------------

    @callback
    def async_schedule(self) -> None:
        """Plan the next wake-up (or run now when something is due)."""
        self._cancel_timer()
        if not self.workers or (self._task is not None and not self._task.done()):
            return
        now = dt_util.utcnow()
        action = self.planner.next_action(now)
        at = now + PUSH_EVERY if action is None else action.at
        if self._not_before is not None:
            at = max(at, self._not_before)
        if at <= now:
            self._task = self.hass.async_create_task(self._async_run(), f"{DOMAIN} enlighten")
        else:
            # Wake at least every few minutes: entities move with time (0 W at dusk) for free.
            self._timer = async_track_point_in_utc_time(
                self.hass, self._wake, min(at, now + PUSH_EVERY)
            )

    @callback
    def _wake(self, now: datetime) -> None:
        self._timer = None
        action = self.planner.next_action(now)
        if action is None or action.at > now:
            self._push()
        self.async_schedule()

    def _push(self) -> None:
        for worker in list(self.workers.values()):
            worker.async_push()
        for listener in list(self.listeners):
            listener()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    async def _async_run(self) -> None:
        """Perform every action that is due, one after another (never two at once)."""
        previous: Action | None = None
        for _ in range(MAX_ACTIONS_PER_RUN):
            now = dt_util.utcnow()
            action = self.planner.next_action(now)
            if action is None or action.at > now or not self.workers:
                break
            if self._not_before is not None and now < self._not_before:
                break
            if action == previous:  # nothing moved: never spin
                self._not_before = now + timedelta(minutes=1)
                break
            previous = action
            if (room := self._room_at(now, self._worker(action).cost(action))) > now:
                self._not_before = room  # the whole action must fit in the minute
                break
            await self._async_perform(action)
        self._task = None
        self._update_issue()
        self._push()
        self.save()
        self.async_schedule()

    def _worker(self, action: Action) -> SystemWorker:
        system_id = action.system_id
        worker = self.workers.get(system_id) if system_id is not None else None
        return worker if worker is not None else next(iter(self.workers.values()))

    def _room_at(self, now: datetime, cost: int) -> datetime:
        """When the last 60 s leave room for ``cost`` more requests under the minute cap."""
        horizon = now - MINUTE
        recent = sorted(moment for moment in self.planner.ledger.recent if moment > horizon)
        excess = len(recent) + cost - self.planner.plan.minute_cap
        if excess <= 0 or excess > len(recent):
            return now
        return recent[excess - 1] + MINUTE

    async def _async_perform(self, action: Action) -> None:
        worker = self._worker(action)
        try:
            await worker.async_perform(action)
        except RateLimitedError as err:
            self.record_rate_limited(err)
        except BudgetDeferredError:
            self._not_before = self.planner.allowed_at(dt_util.utcnow())
        except AuthenticationError as err:
            for system in [s for s, w in self.workers.items() if w is worker]:
                self.workers.pop(system)
                self.planner.remove_system(system)
            worker.async_auth_failed(err)
        except SolarHubApiError as err:
            self._failed(action, err)
        else:
            self._succeeded()

    def record_rate_limited(self, err: RateLimitedError) -> None:
        """A 409 / 429: the key waits until the period ends (the issue follows on the next run)."""
        now = dt_util.utcnow()
        resume = self.planner.record_rate_limited(
            now,
            period=_PERIODS.get(err.period),
            period_end=err.period_end,
            limit=err.limit,
        )
        if self.planner.status(now).exhausted_until is None:
            _LOGGER.info("Enlighten asked to slow down; the next request waits until %s", resume)

    def _update_issue(self) -> None:
        """A repair issue while the month is spent, saying when polling resumes; gone after."""
        until = self.planner.status(dt_util.utcnow()).exhausted_until
        if until is None:
            if self._exhausted_logged:
                self._exhausted_logged = False
                ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_BUDGET}_{self.name}")
            return
        if not self._exhausted_logged:
            _LOGGER.warning(
                "The Enlighten API key's monthly budget is spent; polling resumes at %s", until
            )
            self._exhausted_logged = True
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_BUDGET}_{self.name}",
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_BUDGET,
            translation_placeholders={
                "resumes": dt_util.as_local(until).strftime("%Y-%m-%d %H:%M")
            },
        )

    def _failed(self, action: Action, err: SolarHubApiError) -> None:
        log = _LOGGER.debug if self._failing else _LOGGER.warning
        log("Enlighten %s request failed, keeping the last data: %s", action.kind, err)
        self._failing = True
        self._not_before = dt_util.utcnow() + self._backoff
        self._backoff = min(MAX_BACKOFF, self._backoff * 2)

    def _succeeded(self) -> None:
        if self._failing:
            _LOGGER.info("Enlighten answers again")
        self._failing = False
        self._not_before = None
        self._backoff = FIRST_BACKOFF


def existing_account(hass: HomeAssistant, api_key: str) -> KeyAccount | None:
    """The key's account when an entry using it is set up (a flow's probe counts into it)."""
    return hass.data.get(_ACCOUNTS, {}).get(key_hash(api_key))


async def async_account(hass: HomeAssistant, api_key: str, plan: Plan) -> KeyAccount:
    """The account of ``api_key``, loaded from its store on first use."""
    accounts = hass.data.setdefault(_ACCOUNTS, {})
    name = key_hash(api_key)
    if (account := accounts.get(name)) is not None:
        return account
    store: Store[dict[str, Any]] = Store(hass, STORE_VERSION, f"{DOMAIN}.enlighten_{name}")
    stored = await store.async_load() or {}
    if (account := accounts.get(name)) is None:  # another entry may have loaded it meanwhile
        account = accounts[name] = KeyAccount(hass, name, store, stored, plan)
    return account
