"""The coordinator base every vendor uses: it turns client errors into Home Assistant's."""

from __future__ import annotations

from abc import abstractmethod
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, override

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api.errors import (
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


class SolarHubCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Poll one vendor cadence; subclasses implement ``_fetch``."""

    config_entry: SolarHubConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SolarHubConfigEntry,
        *,
        name: str,
        update_interval: timedelta,
    ) -> None:
        """Create a coordinator that only notifies listeners when the data changed."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{entry.title} {name}",
            update_interval=update_interval,
            always_update=False,
        )

    @abstractmethod
    async def _fetch(self) -> DataT:
        """Fetch fresh data from the vendor's client."""

    @override
    async def _async_update_data(self) -> DataT:
        try:
            return await self._fetch()
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
