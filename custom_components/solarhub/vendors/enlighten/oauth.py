"""Enphase OAuth2: the token requests Enphase wants, and the access-token source of an entry.

Enphase's token endpoint takes the client credentials only as HTTP Basic
(``Authorization: Basic base64(client_id:client_secret)``); Home Assistant's
``LocalOAuth2Implementation`` sends them in the form body, so :class:`EnphaseOAuth2Implementation`
sends its own request. Each refresh answers a new refresh token; ``OAuth2Session`` stores the
whole answer in the entry, so the rotated refresh token is saved on every refresh.

Authorize and token URLs are Enphase's unless the entry (or the flow) names another Enlighten
v4 address (``base_url``, e.g. a simulator's ``http://127.0.0.1:8767/api/v4``): the OAuth2
server is then that address's origin, as it is for Enphase (``api.enphaseenergy.com``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging
from typing import TYPE_CHECKING, Any, Final, cast, override

import aiohttp
from homeassistant.components.application_credentials import (
    AuthImplementation,
    AuthorizationServer,
    ClientCredential,
)
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    OAuth2TokenRequestBaseError,
    OAuth2TokenRequestConnectionError,
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
    UnknownImplementationError,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    AbstractOAuth2Implementation,
    OAuth2Session,
    async_get_config_entry_implementation,
)
from yarl import URL

from ...api.enlighten.client import DEFAULT_V4_BASE_URL
from ...api.errors import ApiConnectionError, AuthenticationError
from ...const import CONF_BASE_URL, DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ...runtime import SolarHubConfigEntry

_LOGGER = logging.getLogger(__name__)

AUTHORIZE_PATH: Final = "/oauth/authorize"
TOKEN_PATH: Final = "/oauth/token"  # noqa: S105  (a path, not a secret)
ENPHASE_AUTHORIZE_URL: Final = "https://api.enphaseenergy.com/oauth/authorize"
ENPHASE_TOKEN_URL: Final = "https://api.enphaseenergy.com/oauth/token"  # noqa: S105
CONF_ENL_UID: Final = "enl_uid"
TOKEN_TIMEOUT: Final = 30.0

type TokenGetter = Callable[[], Awaitable[str]]


def authorization_server(base_url: str | None) -> AuthorizationServer:
    """Enphase's OAuth2 server, or the one at the origin of another v4 address."""
    if not base_url or base_url.rstrip("/") == DEFAULT_V4_BASE_URL:
        return AuthorizationServer(authorize_url=ENPHASE_AUTHORIZE_URL, token_url=ENPHASE_TOKEN_URL)
    origin = URL(base_url).origin()
    return AuthorizationServer(
        authorize_url=str(origin.with_path(AUTHORIZE_PATH)),
        token_url=str(origin.with_path(TOKEN_PATH)),
    )


class EnphaseOAuth2Implementation(AuthImplementation):
    """Application credentials whose token requests carry the client as HTTP Basic."""

    def __init__(
        self,
        hass: HomeAssistant,
        auth_domain: str,
        credential: ClientCredential,
        server: AuthorizationServer,
    ) -> None:
        """Keep the credential so :meth:`at` can point a copy at another server."""
        super().__init__(hass, auth_domain, credential, server)
        self.credential = credential

    def at(self, base_url: str | None) -> EnphaseOAuth2Implementation:
        """The same credential (same ``domain``, so the same entries) on ``base_url``'s server."""
        return EnphaseOAuth2Implementation(
            self.hass, self.domain, self.credential, authorization_server(base_url)
        )

    @override
    async def _async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """Refresh; the answer's new refresh token replaces the old one (Enphase rotates it)."""
        new_token = await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        )
        return {**token, **new_token}  # OAuth2Session refuses an answer without access token

    @override
    async def _token_request(self, data: dict[str, Any]) -> dict[str, Any]:
        """POST the grant as a form, the client as Basic auth; failures as Home Assistant's.

        400/401 (a refused code, client or refresh token) is ``OAuth2TokenRequestReauthError``;
        429 and 5xx are transient; no answer or no JSON is a connection error.
        """
        session = async_get_clientsession(self.hass)
        try:
            async with session.post(
                self.token_url,
                data=data,
                headers={
                    "Authorization": aiohttp.encode_basic_auth(self.client_id, self.client_secret),
                    "Accept": "application/json",
                },
                timeout=aiohttp.ClientTimeout(total=TOKEN_TIMEOUT),
                allow_redirects=False,
            ) as resp:
                if resp.status >= 400:
                    _LOGGER.debug("Enphase token request answered HTTP %s", resp.status)
                    refused = (
                        OAuth2TokenRequestTransientError
                        if resp.status == 429 or resp.status >= 500
                        else OAuth2TokenRequestReauthError
                    )
                    raise refused(
                        request_info=resp.request_info,
                        history=resp.history,
                        status=resp.status,
                        message=resp.reason or "token request failed",
                        headers=resp.headers,
                        domain=self.service_domain,
                    )
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            if isinstance(err, OAuth2TokenRequestBaseError):
                raise
            _LOGGER.debug("Enphase token request got no usable answer: %s", type(err).__name__)
            raise OAuth2TokenRequestConnectionError(domain=self.service_domain) from None
        if not isinstance(body, dict):
            raise OAuth2TokenRequestConnectionError(domain=self.service_domain)
        return cast(dict[str, Any], body)


async def async_entry_implementation(
    hass: HomeAssistant, entry: SolarHubConfigEntry
) -> AbstractOAuth2Implementation:
    """The entry's application credential, pointed at the entry's Enlighten address."""
    try:
        implementation = await async_get_config_entry_implementation(hass, entry)
    except UnknownImplementationError as err:
        # The application credential was deleted: reauth lets the user pick or add one.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="authentication_failed"
        ) from err
    if isinstance(implementation, EnphaseOAuth2Implementation):
        return implementation.at(entry.data.get(CONF_BASE_URL))
    return implementation


async def async_token_getter(
    hass: HomeAssistant,
    entry: SolarHubConfigEntry,
    *,
    on_refresh: Callable[[], Awaitable[None] | None] | None = None,
) -> TokenGetter:
    """The entry's access-token source for ``EnlightenV4Client(token=…)``.

    Each call returns a valid access token, refreshing it first when it is about to expire
    (``OAuth2Session`` saves the answer, the new refresh token included, in the entry). A
    refused refresh raises :class:`AuthenticationError` (Home Assistant starts the reauth
    flow); a transient failure raises :class:`ApiConnectionError` (retry, no reauth).
    ``on_refresh`` is called (and awaited, when it returns an awaitable) before a refresh is
    sent: the request ledger waits for room under the minute cap and counts it.
    """
    session = OAuth2Session(hass, entry, await async_entry_implementation(hass, entry))

    async def token() -> str:
        if on_refresh is not None and not session.valid_token:
            waiting = on_refresh()
            if waiting is not None:
                await waiting
        try:
            await session.async_ensure_token_valid()
        except OAuth2TokenRequestReauthError:
            raise AuthenticationError("Enphase refused the OAuth2 refresh token") from None
        except (OAuth2TokenRequestBaseError, aiohttp.ClientError, TimeoutError) as err:
            raise ApiConnectionError(
                f"the OAuth2 token could not be refreshed ({type(err).__name__})"
            ) from None
        return str(session.token["access_token"])

    return token
