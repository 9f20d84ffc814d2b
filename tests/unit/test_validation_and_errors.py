"""Pure pieces: setting validation, and the coordinator's translation of client errors."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ServiceValidationError
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.solarhub.api.errors import (
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    RateLimitedError,
    SolarHubApiError,
)
from custom_components.solarhub.api.plenticore.models import SettingMeta
from custom_components.solarhub.const import DOMAIN
from custom_components.solarhub.coordinator import SolarHubCoordinator
from custom_components.solarhub.vendors.plenticore.coordinator import validate_setting


def _meta(type_: str, low: str | None = None, high: str | None = None) -> SettingMeta:
    return SettingMeta(
        id="X", unit=None, type=type_, access="readwrite", min=low, max=high, default=None
    )


@pytest.mark.parametrize(
    ("meta", "value"),
    [
        (_meta("bool"), "0"),
        (_meta("bool"), "1"),
        (_meta("uint32", "5", "100"), "5"),
        (_meta("uint32", "5", "100"), "100"),
        (_meta("float", "0.5", "1.5"), "1.25"),
        (_meta("int16"), "-40"),
        (_meta("string"), "anything"),
    ],
)
def test_valid_values_pass(meta: SettingMeta, value: str) -> None:
    validate_setting(meta, value)


@pytest.mark.parametrize(
    ("meta", "value", "key"),
    [
        (_meta("bool"), "2", "setting_invalid"),
        (_meta("uint32", "5", "100"), "4", "setting_out_of_range"),
        (_meta("uint32", "5", "100"), "101", "setting_out_of_range"),
        (_meta("uint32", "5", "100"), "7.5", "setting_invalid"),
        (_meta("float", "0.5", "1.5"), "2", "setting_out_of_range"),
        (_meta("float"), "fast", "setting_invalid"),
    ],
)
def test_invalid_values_raise_translated_errors(meta: SettingMeta, value: str, key: str) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        validate_setting(meta, value)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == key


class _Failing(SolarHubCoordinator[int]):
    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry, error: Exception) -> None:
        super().__init__(hass, entry, name="test", update_interval=timedelta(seconds=10))  # type: ignore[arg-type]
        self.error = error

    async def _fetch(self) -> int:
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected", "key"),
    [
        (AuthenticationError("refused"), ConfigEntryAuthFailed, "authentication_failed"),
        (RateLimitedError("slow down", 120), UpdateFailed, "rate_limited"),
        (MalformedResponseError("cut short"), UpdateFailed, "malformed_response"),
        (ApiConnectionError("timeout"), UpdateFailed, "communication_error"),
        (SolarHubApiError("other"), UpdateFailed, "communication_error"),
    ],
)
async def test_client_errors_become_home_assistant_errors(
    hass: HomeAssistant, error: Exception, expected: type[Exception], key: str
) -> None:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    coordinator = _Failing(hass, entry, error)
    with pytest.raises(expected) as raised:
        await coordinator._async_update_data()
    assert raised.value.translation_key == key  # type: ignore[attr-defined]
    if isinstance(error, RateLimitedError):
        assert raised.value.retry_after == 120  # type: ignore[attr-defined]
