"""The Enlighten v4 config flow end to end: OAuth2 against the simulator, key, plan, systems.

Every token request goes to the simulator's ``/oauth/token`` (HTTP Basic checked, codes single
use) over loopback HTTP; the authorize hop is the simulator's real redirect.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.solarhub.api.enlighten.client import EnlightenV4Client
from custom_components.solarhub.const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_SYSTEMS,
    CONF_VENDOR,
    DOMAIN,
)
from custom_components.solarhub.vendors.enlighten.flow_v4 import ENLIGHTEN_V4, unique_id
from custom_components.solarhub.vendors.enlighten.options import (
    CONF_API_VERSION,
    CONF_HISTORY_IMPORT,
    CONF_PER_MINUTE,
    CONF_PER_MONTH,
    CONF_PLAN,
)
from tests.simulators.enlighten import EnlightenConfig, EnlightenSimulator
from tests.simulators.enlighten_v4 import TokenAnswer

from .oauth_helpers import (
    AUTH_DOMAIN,
    REDIRECT_URI,
    ClientFactory,
    add_credential,
    authorize,
    signed_in,
    start_v4,
    v4_url,
)

pytestmark = pytest.mark.usefixtures("current_request_with_host")

FOREIGN_KEY = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"  # EnlightenConfig.foreign_api_keys


async def _configure(hass: HomeAssistant, result: dict[str, Any], data: Any) -> dict[str, Any]:
    return dict(await hass.config_entries.flow.async_configure(result["flow_id"], data))


async def _through_key_and_plan(
    hass: HomeAssistant, enlighten: EnlightenSimulator, result: dict[str, Any], **plan: Any
) -> dict[str, Any]:
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    assert result["step_id"] == f"{ENLIGHTEN_V4}_plan", result
    result = await _configure(hass, result, {CONF_PLAN: "watt", **plan})
    assert result["step_id"] == "systems"
    return result


async def _create(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> ConfigEntry:
    await add_credential(hass, enlighten)
    result = await signed_in(hass, enlighten, http, hass_client_no_auth)
    result = await _through_key_and_plan(hass, enlighten, result)
    result = await _configure(hass, result, {CONF_SYSTEMS: ["1001"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


async def test_whole_flow_creates_a_v4_entry_that_sets_up(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    await add_credential(hass, enlighten)
    result = await start_v4(hass, enlighten)
    url = URL(result["url"])
    assert str(url.with_query(None)) == f"{enlighten.url}/oauth/authorize"
    assert url.query["client_id"] == enlighten.config.client_id
    assert url.query["response_type"] == "code"
    result = await authorize(hass, http, hass_client_no_auth, result)
    assert result["step_id"] == f"{ENLIGHTEN_V4}_api_key"
    assert enlighten.oauth.token_requests == 1  # the code, exchanged with HTTP Basic

    result = await _through_key_and_plan(hass, enlighten, result)
    offered = result["data_schema"].schema[CONF_SYSTEMS].config["options"]
    assert [o["value"] for o in offered] == [str(s) for s in enlighten.systems]
    result = await _configure(hass, result, {CONF_SYSTEMS: ["1001", "1002"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_VENDOR] == "enlighten"
    assert data[CONF_API_VERSION] == "v4"
    assert data[CONF_API_KEY] == enlighten.config.v4_api_key
    assert data[CONF_PLAN] == "watt"
    assert data[CONF_SYSTEMS] == [1001, 1002]
    assert data[CONF_BASE_URL] == v4_url(enlighten)
    assert data["auth_implementation"] == AUTH_DOMAIN
    token = data["token"]
    assert token["access_token"] in enlighten.oauth.access_tokens
    assert token["refresh_token"] in enlighten.oauth.refresh_tokens
    assert token["enl_uid"] == enlighten.config.enl_uid
    entry = result["result"]
    assert entry.unique_id == unique_id(enlighten.config.enl_uid)
    assert "Enlighten" in entry.title
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED  # the runtime's v4 client uses the token getter


async def test_by_default_the_flow_signs_in_with_enphase(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    await add_credential(hass, enlighten)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert ENLIGHTEN_V4 in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENLIGHTEN_V4}
    )
    assert result["step_id"] == ENLIGHTEN_V4
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_ADVANCED: {}})
    assert result["type"] is FlowResultType.EXTERNAL_STEP, result
    url = URL(result["url"])
    assert str(url.with_query(None)) == "https://api.enphaseenergy.com/oauth/authorize"
    assert url.query["redirect_uri"] == REDIRECT_URI
    assert "scope" not in url.query


async def test_without_credentials_the_flow_asks_for_them(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENLIGHTEN_V4}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_ADVANCED: {}})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


async def test_an_invalid_address_is_an_error(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    await add_credential(hass, enlighten)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENLIGHTEN_V4}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADVANCED: {CONF_BASE_URL: "ftp://nowhere"}}
    )
    assert result["errors"] == {"base": "invalid_base_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADVANCED: {CONF_BASE_URL: "https://api.enphaseenergy.com/api/v4/"}}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith("https://api.enphaseenergy.com/oauth/authorize?")


async def test_denied_consent_aborts_with_its_reason(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    await add_credential(hass, enlighten)
    enlighten.config.refuse_consent = True
    result = await authorize(hass, http, hass_client_no_auth, await start_v4(hass, enlighten))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "consent_denied_enlighten"
    assert result["description_placeholders"] == {"error": "access_denied"}
    assert enlighten.oauth.token_requests == 0


async def test_a_wrong_client_secret_aborts_with_its_reason(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    await add_credential(hass, enlighten, client_secret="not-the-secret")
    result = await authorize(hass, http, hass_client_no_auth, await start_v4(hass, enlighten))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "client_refused_enlighten"
    assert enlighten.oauth.token_requests == 1


@pytest.mark.parametrize(
    ("fault", "reason"), [("500", "oauth_failed"), ("malformed", "oauth_failed")]
)
async def test_a_failing_token_endpoint_aborts(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
    fault: str,
    reason: str,
) -> None:
    await add_credential(hass, enlighten)
    enlighten.fail_next(fault, path="/oauth/token")
    result = await authorize(hass, http, hass_client_no_auth, await start_v4(hass, enlighten))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"access_token": "a", "refresh_token": "r", "expires_in": 86400}, "oauth_error"),
        (["not", "a", "token"], "oauth_failed"),
    ],
)
async def test_a_token_without_user_or_shape_aborts(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
    body: object,
    reason: str,
) -> None:
    """No ``enl_uid`` (nothing to tell users apart) or no JSON object: no entry."""
    await add_credential(hass, enlighten)
    real = enlighten.oauth.token

    def token(*args: Any) -> TokenAnswer:
        answer = real(*args)
        return TokenAnswer(answer.status, body)  # type: ignore[arg-type]

    with patch.object(enlighten.oauth, "token", token):
        result = await authorize(hass, http, hass_client_no_auth, await start_v4(hass, enlighten))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (FOREIGN_KEY, {CONF_API_KEY: "key_client_mismatch_enlighten"}),
        ("0123456789abcdef0123456789abcdef", {CONF_API_KEY: "invalid_auth_enlighten"}),
    ],
)
async def test_a_refused_key_is_a_field_error_then_the_right_one_passes(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
    key: str,
    error: dict[str, str],
) -> None:
    await add_credential(hass, enlighten)
    result = await signed_in(hass, enlighten, http, hass_client_no_auth)
    result = await _configure(hass, result, {CONF_API_KEY: key})
    assert result["step_id"] == f"{ENLIGHTEN_V4}_api_key"
    assert result["errors"] == error
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    assert result["step_id"] == f"{ENLIGHTEN_V4}_plan"


@pytest.mark.parametrize(
    "enlighten_config", [EnlightenConfig(v4_minute_limit=1, count_token_requests=True)]
)
async def test_429_at_the_key_check_is_throttled_on_the_key(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    """The code exchange spent the minute's one request: the key check meets Enphase's 429."""
    await add_credential(hass, enlighten)
    result = await signed_in(hass, enlighten, http, hass_client_no_auth)
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    assert result["step_id"] == f"{ENLIGHTEN_V4}_api_key"
    assert result["errors"] == {CONF_API_KEY: "throttled_enlighten_v4"}
    enlighten.clock.advance(61)
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    assert result["step_id"] == f"{ENLIGHTEN_V4}_plan"


@pytest.mark.parametrize(
    ("fault", "error"), [("503", "cannot_connect"), ("malformed", "unexpected_response")]
)
async def test_key_check_faults_are_base_errors(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
    fault: str,
    error: str,
) -> None:
    await add_credential(hass, enlighten)
    result = await signed_in(hass, enlighten, http, hass_client_no_auth)
    enlighten.fail_next(fault, path="/api/v4/systems")
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    assert result["errors"] == {"base": error}


async def test_a_user_without_systems_cannot_be_added(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    """Canned: the simulator always has systems (a narrow edge case)."""
    await add_credential(hass, enlighten)
    result = await signed_in(hass, enlighten, http, hass_client_no_auth)
    with patch.object(EnlightenV4Client, "get_systems", return_value=[]):
        result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    assert result["errors"] == {"base": "no_systems_enlighten"}


async def test_a_custom_plan_keeps_its_limits(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    await add_credential(hass, enlighten)
    result = await signed_in(hass, enlighten, http, hass_client_no_auth)
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    defaults = {str(k): k.default() for k in result["data_schema"].schema if k.default}
    assert defaults[CONF_PER_MONTH] == 1000  # the v4 Watt month, not v2's
    result = await _configure(
        hass, result, {CONF_PLAN: "custom", CONF_PER_MINUTE: 20, CONF_PER_MONTH: 5000}
    )
    result = await _configure(hass, result, {CONF_SYSTEMS: ["1003"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PLAN] == "custom"
    assert (result["data"][CONF_PER_MINUTE], result["data"][CONF_PER_MONTH]) == (20, 5000)


async def test_the_same_enphase_user_twice_is_refused(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=unique_id(enlighten.config.enl_uid)).add_to_hass(hass)
    await add_credential(hass, enlighten)
    result = await authorize(hass, http, hass_client_no_auth, await start_v4(hass, enlighten))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured_enlighten"


async def _reauth_flow(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_REAUTH, "entry_id": entry.entry_id}, data=entry.data
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == f"reauth_{ENLIGHTEN_V4}"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    return dict(result)


async def test_reauth_signs_in_again_for_the_same_user(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    entry = await _create(hass, enlighten, http, hass_client_no_auth)
    old = dict(entry.data["token"])
    result = await _reauth_flow(hass, entry)
    assert result["url"].startswith(f"{enlighten.url}/oauth/authorize?")  # the entry's server
    result = await authorize(hass, http, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    token = entry.data["token"]
    assert token["refresh_token"] != old["refresh_token"]
    assert token["refresh_token"] in enlighten.oauth.refresh_tokens
    assert entry.data[CONF_API_KEY] == enlighten.config.v4_api_key  # the rest is kept


async def test_reauth_as_another_user_is_refused(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    entry = await _create(hass, enlighten, http, hass_client_no_auth)
    old = dict(entry.data["token"])
    result = await _reauth_flow(hass, entry)
    enlighten.config.enl_uid = "7654321"
    result = await authorize(hass, http, hass_client_no_auth, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "different_user_enlighten_v4"
    assert entry.data["token"] == old


async def test_reconfigure_walks_again_and_updates_the_entry(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    entry = await _create(hass, enlighten, http, hass_client_no_auth)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    result = await authorize(hass, http, hass_client_no_auth, dict(result))
    assert result["step_id"] == f"{ENLIGHTEN_V4}_api_key"
    result = await _configure(hass, result, {CONF_API_KEY: enlighten.config.v4_api_key})
    result = await _configure(hass, result, {CONF_PLAN: "kilowatt"})
    ticked = result["data_schema"].schema[CONF_SYSTEMS]
    assert ticked is not None
    result = await _configure(hass, result, {CONF_SYSTEMS: ["1001", "1003"]})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PLAN] == "kilowatt"
    assert entry.data[CONF_SYSTEMS] == [1001, 1003]
    assert entry.data[CONF_BASE_URL] == v4_url(enlighten)


async def test_options_of_a_v4_entry(
    hass: HomeAssistant,
    enlighten: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> None:
    entry = await _create(hass, enlighten, http, hass_client_no_auth)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PER_MINUTE: 10, CONF_PER_MONTH: 1000, CONF_HISTORY_IMPORT: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_HISTORY_IMPORT] == 0


async def test_an_implementation_from_elsewhere_is_used_as_it_is(
    hass: HomeAssistant, enlighten: EnlightenSimulator
) -> None:
    """An OAuth2 implementation not from our platform keeps its own server."""
    config_entry_oauth2_flow.async_register_implementation(
        hass,
        DOMAIN,
        config_entry_oauth2_flow.LocalOAuth2Implementation(
            hass, "elsewhere", "id", "secret", "https://auth.example/authorize", "https://x/t"
        ),
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENLIGHTEN_V4}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADVANCED: {CONF_BASE_URL: v4_url(enlighten)}}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith("https://auth.example/authorize?")
