"""Walking Enphase's OAuth2 against the simulator: credentials, the authorize hop, the callback.

The authorize URL is the simulator's real ``/oauth/authorize`` (it redirects with ``code`` and
``state``, or ``error``); the redirect lands on Home Assistant's own ``/auth/external/callback``
(``hass_client_no_auth``), which resumes the flow; the token request then goes to the
simulator's ``/oauth/token`` over loopback HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from yarl import URL

from custom_components.solarhub.const import CONF_ADVANCED, CONF_BASE_URL, DOMAIN
from custom_components.solarhub.vendors.enlighten.flow_v4 import ENLIGHTEN_V4
from tests.simulators.enlighten import EnlightenSimulator

AUTH_DOMAIN = "enphase_app"
REDIRECT_URI = "https://example.com/auth/external/callback"  # current_request_with_host

type ClientFactory = Callable[[], Awaitable[TestClient[Any, Any]]]


def v4_url(simulator: EnlightenSimulator) -> str:
    """The simulator's v4 API address, as the advanced field takes it."""
    return f"{simulator.url}/api/v4"


async def add_credential(
    hass: HomeAssistant, simulator: EnlightenSimulator, *, client_secret: str | None = None
) -> None:
    """The Enphase app's client id and secret as application credentials."""
    assert await async_setup_component(hass, "application_credentials", {})
    config = simulator.config
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(config.client_id, client_secret or config.client_secret, "Enphase app"),
        AUTH_DOMAIN,
    )


async def start_v4(hass: HomeAssistant, simulator: EnlightenSimulator) -> dict[str, Any]:
    """Menu, then the first form with its advanced address at the simulator: the external step."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENLIGHTEN_V4}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == ENLIGHTEN_V4
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADVANCED: {CONF_BASE_URL: v4_url(simulator)}}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP, result
    return dict(result)


async def authorize(
    hass: HomeAssistant,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
    result: dict[str, Any],
) -> dict[str, Any]:
    """Follow the external step: the simulator's authorize, then Home Assistant's callback."""
    url = URL(result["url"])
    assert url.query["redirect_uri"] == REDIRECT_URI
    async with http.get(url, allow_redirects=False) as answer:
        assert answer.status == 302
        location = URL(answer.headers["Location"])
    assert str(location.with_query(None)) == REDIRECT_URI
    client = await hass_client_no_auth()
    callback = await client.get(location.path_qs)
    assert callback.status == 200
    return dict(await hass.config_entries.flow.async_configure(result["flow_id"]))


async def signed_in(
    hass: HomeAssistant,
    simulator: EnlightenSimulator,
    http: aiohttp.ClientSession,
    hass_client_no_auth: ClientFactory,
) -> dict[str, Any]:
    """A v4 flow that has passed OAuth2: it asks for the API key."""
    result = await authorize(hass, http, hass_client_no_auth, await start_v4(hass, simulator))
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == f"{ENLIGHTEN_V4}_api_key"
    return result
