"""Application credentials: the client id and secret of the owner's Enphase developer app (v4).

Enphase issues them per app (developer-v4.enphase.com); the app's redirect URI must be the one
Home Assistant sends, shown in the credentials dialog by
:func:`async_get_description_placeholders`.
"""

from __future__ import annotations

from homeassistant.components.application_credentials import (
    AuthorizationServer,
    ClientCredential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import (
    AUTH_CALLBACK_PATH,
    MY_AUTH_CALLBACK_PATH,
)
from homeassistant.helpers.network import NoURLAvailableError, get_url

from .vendors.enlighten.oauth import EnphaseOAuth2Implementation, authorization_server

DEVELOPER_URL = "https://developer-v4.enphase.com"


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Enphase's authorize and token URLs."""
    return authorization_server(None)


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> EnphaseOAuth2Implementation:
    """An implementation whose token requests carry the client as HTTP Basic, as Enphase wants."""
    return EnphaseOAuth2Implementation(hass, auth_domain, credential, authorization_server(None))


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """The redirect URI to register with the Enphase app, and where apps are made."""
    if "my" in hass.config.components:
        redirect = MY_AUTH_CALLBACK_PATH
    else:
        try:
            redirect = get_url(hass, allow_ip=True, prefer_external=True) + AUTH_CALLBACK_PATH
        except NoURLAvailableError:
            redirect = f"<your Home Assistant address>{AUTH_CALLBACK_PATH}"
    return {"redirect_url": redirect, "developer_url": DEVELOPER_URL}
