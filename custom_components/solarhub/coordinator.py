"""The coordinator base every vendor uses: it turns client errors into Home Assistant's."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterable
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, override

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util.hass_dict import HassKey

from .api.errors import (
    AccountLockedError,
    AuthenticationError,
    MalformedResponseError,
    RateLimitedError,
    SolarHubApiError,
)
from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .runtime import SolarHubConfigEntry

_LOGGER = logging.getLogger(__name__)

_SEEN: HassKey[dict[str, set[Hashable]]] = HassKey(f"{DOMAIN}_seen")


class SolarHubCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Poll one vendor cadence; subclasses implement ``_fetch``."""

    config_entry: SolarHubConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        *,
        name: str,
        update_interval: timedelta | None,
    ) -> None:
        """Create a coordinator that only notifies listeners when the data changed.

        ``update_interval`` None: the vendor pushes data (``async_set_updated_data``).
        """
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{entry.title} {name}",
            update_interval=update_interval,
            always_update=False,
        )
        self._first_poll_done = False

    @property
    def first_poll_done(self) -> bool:
        """Whether a poll succeeded; before it, no entity exists to say what it needs."""
        return self._first_poll_done

    def requested(self) -> frozenset[Hashable]:
        """The data points the listening entities asked for (their contexts, united)."""
        return frozenset(
            point
            for context in self.async_contexts()
            if isinstance(context, frozenset)
            for point in context
        )

    @abstractmethod
    async def _fetch(self) -> DataT:
        """Fetch fresh data from the vendor's client."""

    @override
    async def _async_update_data(self) -> DataT:
        try:
            data = await self._fetch()
        except AccountLockedError as err:
            # A lock lapses by itself (it can hit a silent re-login after a restart): retry
            # after it, keeping the credentials; only a refused login means a wrong password.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="account_locked",
                retry_after=err.retry_after,
            ) from err
        except AuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="authentication_failed"
            ) from err
        except RateLimitedError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": str(round(err.retry_after))},
                retry_after=err.retry_after,
            ) from err
        except MalformedResponseError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="malformed_response",
                translation_placeholders={"error": str(err)},
            ) from err
        except SolarHubApiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        self._first_poll_done = True
        return data


class NewItems:
    """Which listed events or alerts are new: the first listing is history, later ones are news.

    Remembered in ``hass.data`` under ``name``, so reloading an entry (new options, a changed
    layout) neither misses nor repeats one; after a restart the first listing is history again.
    ``name`` starts with the entry id and ``_``: :func:`forget_entry` drops it with the entry.
    """

    def __init__(self, hass: HomeAssistant, name: str) -> None:
        """Remember per ``name``, e.g. ``f"{entry_id}_events"``."""
        self._store = hass.data.setdefault(_SEEN, {})
        self._name = name

    def pick[T](self, items: Iterable[T], key: Callable[[T], Hashable]) -> tuple[T, ...]:
        """The items not listed before, in the order given."""
        items = tuple(items)
        keys = {key(item) for item in items}
        seen = self._store.get(self._name)
        if seen is None:
            self._store[self._name] = keys
            return ()
        new = tuple(item for item in items if key(item) not in seen)
        seen |= keys
        return new


def forget_entry(hass: HomeAssistant, entry_id: str) -> None:
    """Drop what the entry's :class:`NewItems` remembered (call when the entry is removed)."""
    if (store := hass.data.get(_SEEN)) is None:
        return
    for name in [name for name in store if name.startswith(f"{entry_id}_")]:
        del store[name]
