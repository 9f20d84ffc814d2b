"""Enphase OAuth2 at run time: the entry's token getter against the simulator's token endpoint.

Expired access tokens are refreshed silently and the rotated refresh token is stored (the old
one is refused by the simulator); a refused refresh starts reauth; a transient failure is a
connection error to retry, not a reauth.
"""

from __future__ import annotations

from datetime import timedelta
import time
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.exceptions import ConfigEntryAuthFailed, OAuth2TokenRequestReauthError
from homeassistant.helpers import config_entry_oauth2_flow
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.solarhub import application_credentials, config_flow  # noqa: F401
from custom_components.solarhub.api.enlighten.client import EnlightenV4Client
from custom_components.solarhub.api.errors import ApiConnectionError, AuthenticationError
from custom_components.solarhub.const import (
    CONF_API_VERSION,
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
)
from custom_components.solarhub.vendors.enlighten.oauth import (
    ENPHASE_AUTHORIZE_URL,
    ENPHASE_TOKEN_URL,
    EnphaseOAuth2Implementation,
    async_token_getter,
    authorization_server,
)
from custom_components.solarhub.vendors.enlighten.options import CONF_PLAN
from tests.simulators.enlighten import EnlightenSimulator

from .oauth_helpers import AUTH_DOMAIN, REDIRECT_URI, add_credential, v4_url

DAY = 86_400


def _implementation(
    hass: HomeAssistant, simulator: EnlightenSimulator
) -> EnphaseOAuth2Implementation:
    config = simulator.config
    return EnphaseOAuth2Implementation(
        hass,
        AUTH_DOMAIN,
        ClientCredential(config.client_id, config.client_secret),
        authorization_server(v4_url(simulator)),
    )


async def _signed_in_entry(
    hass: HomeAssistant, simulator: EnlightenSimulator, http: aiohttp.ClientSession
) -> MockConfigEntry:
    """An entry (added, not set up) holding tokens from a real authorize and code exchange."""
    await add_credential(hass, simulator)
    query = {"response_type": "code", "client_id": simulator.config.client_id}
    url = URL(f"{simulator.url}/oauth/authorize").with_query(
        {**query, "redirect_uri": REDIRECT_URI, "state": "s"}
    )
    async with http.get(url, allow_redirects=False) as answer:
        code = URL(answer.headers["Location"]).query["code"]
    token = await _implementation(hass, simulator).async_resolve_external_data(
        {"code": code, "state": {"redirect_uri": REDIRECT_URI}}
    )
    token["expires_at"] = time.time() + int(token["expires_in"])
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"enlighten_v4_{token['enl_uid']}",
        data={
            CONF_VENDOR: "enlighten",
            CONF_API_VERSION: "v4",
            CONF_API_KEY: simulator.config.v4_api_key,
            CONF_PLAN: "watt",
            CONF_SYSTEMS: [1001],
            CONF_BASE_URL: v4_url(simulator),
            "auth_implementation": AUTH_DOMAIN,
            "token": token,
        },
    )
    entry.add_to_hass(hass)
    return entry


def _expire(simulator: EnlightenSimulator, freezer: FrozenDateTimeFactory) -> None:
    """A day and a minute later on both clocks: the access token has run out everywhere."""
    freezer.tick(timedelta(seconds=DAY + 60))
    simulator.clock.advance(DAY + 60)


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"].get("entry_id") == entry.entry_id
    ]


def test_the_authorization_server_is_enphase_unless_the_entry_names_another() -> None:
    enphase = authorization_server(None)
    assert (enphase.authorize_url, enphase.token_url) == (ENPHASE_AUTHORIZE_URL, ENPHASE_TOKEN_URL)
    assert authorization_server("https://api.enphaseenergy.com/api/v4/") == enphase
    other = authorization_server("http://127.0.0.1:8767/api/v4")
    assert other.authorize_url == "http://127.0.0.1:8767/oauth/authorize"
    assert other.token_url == "http://127.0.0.1:8767/oauth/token"


async def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_stored(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    old = dict(entry.data["token"])
    refreshes: list[None] = []
    token = await async_token_getter(hass, entry, on_refresh=lambda: refreshes.append(None))
    assert await token() == old["access_token"]  # still valid: no request
    assert (enlighten.oauth.refreshes, refreshes) == (0, [])

    _expire(enlighten, freezer)
    new_access = await token()
    assert new_access != old["access_token"]
    assert enlighten.oauth.refreshes == 1
    assert len(refreshes) == 1  # the ledger hears of the refresh
    stored = entry.data["token"]
    assert stored["access_token"] == new_access
    assert stored["refresh_token"] != old["refresh_token"]
    assert stored["refresh_token"] in enlighten.oauth.refresh_tokens
    assert stored["expires_at"] > time.time() + DAY - 120
    assert _reauth_flows(hass, entry) == []

    # Enphase (the simulator) no longer takes the old refresh token.
    with pytest.raises(OAuth2TokenRequestReauthError):
        await _implementation(hass, enlighten).async_refresh_token(old)
    # The new access token works on the API.
    client = EnlightenV4Client(http, enlighten.config.v4_api_key, token, base_url=v4_url(enlighten))
    assert [s.system_id for s in await client.get_systems()] == list(enlighten.systems)


async def test_a_revoked_refresh_token_starts_reauth(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    token = await async_token_getter(hass, entry)
    enlighten.oauth.revoke_refresh_tokens()
    _expire(enlighten, freezer)
    with pytest.raises(AuthenticationError):
        await token()
    await hass.async_block_till_done()
    (flow,) = _reauth_flows(hass, entry)
    assert flow["step_id"] == "reauth_enlighten_v4"


async def test_a_rotated_out_refresh_token_starts_reauth(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Another copy refreshed first (e.g. a restored backup): the stored refresh token is dead."""
    entry = await _signed_in_entry(hass, enlighten, http)
    await _implementation(hass, enlighten).async_refresh_token(dict(entry.data["token"]))
    token = await async_token_getter(hass, entry)
    _expire(enlighten, freezer)
    with pytest.raises(AuthenticationError):
        await token()
    await hass.async_block_till_done()
    assert len(_reauth_flows(hass, entry)) == 1


@pytest.mark.parametrize("fault", ["500", "503"])
async def test_a_transient_token_failure_is_retried_not_reauthed(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
    fault: str,
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    old = dict(entry.data["token"])
    token = await async_token_getter(hass, entry)
    _expire(enlighten, freezer)
    enlighten.fail_next(fault, path="/oauth/token")
    with pytest.raises(ApiConnectionError):
        await token()
    await hass.async_block_till_done()
    assert _reauth_flows(hass, entry) == []
    assert entry.data["token"] == old
    assert await token() != old["access_token"]  # the next try refreshes


async def test_an_unreadable_token_answer_is_a_connection_error(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The simulator rotated the refresh token but its answer was spoilt: retry, no reauth yet."""
    entry = await _signed_in_entry(hass, enlighten, http)
    token = await async_token_getter(hass, entry)
    _expire(enlighten, freezer)
    enlighten.fail_next("malformed", path="/oauth/token")
    with pytest.raises(ApiConnectionError):
        await token()
    await hass.async_block_till_done()
    assert _reauth_flows(hass, entry) == []


async def test_a_wrong_client_secret_on_refresh_starts_reauth(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    token = await async_token_getter(hass, entry)
    enlighten.config.client_secret = "rotated-in-the-developer-portal"
    _expire(enlighten, freezer)
    with pytest.raises(AuthenticationError):
        await token()
    await hass.async_block_till_done()
    assert len(_reauth_flows(hass, entry)) == 1


async def test_a_deleted_application_credential_asks_for_reauth(
    hass: HomeAssistant, enlighten: EnlightenSimulator, http: aiohttp.ClientSession
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "auth_implementation": "deleted_app"}
    )
    with pytest.raises(ConfigEntryAuthFailed):
        await async_token_getter(hass, entry)


async def test_the_credentials_dialog_names_the_redirect_uri(hass: HomeAssistant) -> None:
    placeholders = await application_credentials.async_get_description_placeholders(hass)
    assert placeholders["redirect_url"] == "<your Home Assistant address>/auth/external/callback"
    await async_process_ha_core_config(hass, {"external_url": "https://solar.example.org"})
    placeholders = await application_credentials.async_get_description_placeholders(hass)
    assert placeholders == {
        "redirect_url": "https://solar.example.org/auth/external/callback",
        "developer_url": "https://developer-v4.enphase.com",
    }
    hass.config.components.add("my")
    placeholders = await application_credentials.async_get_description_placeholders(hass)
    assert placeholders["redirect_url"] == "https://my.home-assistant.io/redirect/oauth"


async def test_the_platform_serves_enphase_with_basic_auth(hass: HomeAssistant) -> None:
    server = await application_credentials.async_get_authorization_server(hass)
    assert server.token_url == ENPHASE_TOKEN_URL
    implementation = await application_credentials.async_get_auth_implementation(
        hass, AUTH_DOMAIN, ClientCredential("id", "secret")
    )
    assert isinstance(implementation, EnphaseOAuth2Implementation)
    assert implementation.authorize_url == ENPHASE_AUTHORIZE_URL
    assert implementation.at(None).token_url == ENPHASE_TOKEN_URL


async def test_an_implementation_from_elsewhere_serves_its_tokens(
    hass: HomeAssistant, enlighten: EnlightenSimulator, http: aiohttp.ClientSession
) -> None:
    entry = await _signed_in_entry(hass, enlighten, http)
    config_entry_oauth2_flow.async_register_implementation(
        hass,
        DOMAIN,
        config_entry_oauth2_flow.LocalOAuth2Implementation(
            hass, "elsewhere", "id", "secret", "https://auth.example/a", "https://auth.example/t"
        ),
    )
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "auth_implementation": "elsewhere"}
    )
    token = await async_token_getter(hass, entry)
    assert await token() == entry.data["token"]["access_token"]
