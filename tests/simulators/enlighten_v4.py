"""The parts of the Enlighten v4 simulator that stand alone: OAuth2 and a site's energy flows.

:class:`OAuthAuthority` is the authorization server (``/oauth/authorize``, ``/oauth/token``):
single-use authorization codes bound to their ``redirect_uri``, access tokens expiring after a
day, refresh tokens rotating on every refresh (the old one refused from then on). It knows
nothing of HTTP beyond the parameters and the ``Authorization`` header.

:class:`EnergyFlows` is what a site with meters and a battery does with its production in each
15-minute quarter: a home load takes what it needs; a surplus charges the battery (up to its
rate and capacity, 95 % into the store) and the rest is exported; a deficit discharges the
battery (down to a 10 % reserve) and the rest is imported. All in whole Wh, so per quarter
``production + imported + discharge == consumption + exported + charge`` holds exactly.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import hashlib
import itertools
import math
from typing import Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

__all__ = ["EnergyFlows", "Flow", "OAuthAuthority", "OAuthClient", "TokenAnswer", "home_load_w"]

QUARTER: Final = 900


# --------------------------------------------------------------------------------------------------
# OAuth2
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The registered application: its credentials, the user behind the grants, lifetimes."""

    client_id: str
    client_secret: str
    enl_uid: str
    access_lifetime: float
    refresh_lifetime: float
    refuse_consent: bool = False


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """The token endpoint's status and JSON body."""

    status: int
    body: dict[str, object]


@dataclass(slots=True)
class _Code:
    redirect_uri: str
    expires_at: float


class OAuthAuthority:
    """Issues and checks tokens on a clock (``now`` returns epoch seconds)."""

    code_lifetime: Final = 600.0

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._serial = itertools.count(1)
        self._codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, float] = {}  # token -> expiry
        self.refresh_tokens: dict[str, float] = {}  # live refresh token -> expiry
        self.retired_refresh_tokens: set[str] = set()
        self.authorizations = 0
        self.token_requests = 0
        self.refreshes = 0

    def _secret(self, kind: str) -> str:
        raw = hashlib.sha256(f"{kind}:{next(self._serial)}:{self._now()}".encode()).digest()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    # -- authorize -----------------------------------------------------------------------------

    def authorize(self, query: Mapping[str, str], client: OAuthClient) -> tuple[int, str]:
        """(status, redirect location or error text) for ``GET /oauth/authorize``."""
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != client.client_id or not redirect_uri:
            return 400, "invalid_client"
        state = {"state": query["state"]} if "state" in query else {}
        sep = "&" if "?" in redirect_uri else "?"
        if query.get("response_type") != "code":
            error = {"error": "unsupported_response_type", **state}
            return 302, f"{redirect_uri}{sep}{urlencode(error)}"
        if client.refuse_consent:
            error = {
                "error": "access_denied",
                "error_description": "User denied access",
                **state,
            }
            return 302, f"{redirect_uri}{sep}{urlencode(error)}"
        code = self._secret("code")[:12]
        self._codes[code] = _Code(redirect_uri, self._now() + self.code_lifetime)
        self.authorizations += 1
        return 302, f"{redirect_uri}{sep}{urlencode({'code': code, **state})}"

    # -- token ---------------------------------------------------------------------------------

    def token(
        self, authorization: str | None, params: Mapping[str, str], client: OAuthClient
    ) -> TokenAnswer:
        """The answer to ``POST /oauth/token`` (parameters from the query and the form body)."""
        self.token_requests += 1
        if authorization != _basic(client.client_id, client.client_secret):
            return _oauth_error(401, "invalid_client", "Bad client credentials")
        grant = params.get("grant_type")
        now = self._now()
        if grant == "authorization_code":
            code = self._codes.pop(params.get("code", ""), None)  # single use
            if code is None or code.expires_at < now:
                return _oauth_error(400, "invalid_grant", "Invalid authorization code")
            if params.get("redirect_uri") != code.redirect_uri:
                return _oauth_error(400, "invalid_grant", "Redirect URI mismatch.")
        elif grant == "refresh_token":
            old = params.get("refresh_token", "")
            expiry = self.refresh_tokens.pop(old, None)
            if expiry is None or expiry < now:
                return _oauth_error(400, "invalid_grant", "Invalid refresh token")
            self.retired_refresh_tokens.add(old)
            self.refreshes += 1
        else:
            return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
        access, refresh = self._secret("access"), self._secret("refresh")
        self.access_tokens[access] = now + client.access_lifetime
        self.refresh_tokens[refresh] = now + client.refresh_lifetime
        return TokenAnswer(
            200,
            {
                "access_token": access,
                "token_type": "bearer",
                "refresh_token": refresh,
                "expires_in": int(client.access_lifetime) - 1,
                "scope": "read write",
                "enl_uid": client.enl_uid,
                "enl_cid": client.client_id[-6:],
                "enl_password_last_changed": "1700000000",
                "is_internal_app": False,
                "app_type": "partner",
                "jti": self._secret("jti")[:36],
            },
        )

    def access_valid(self, token: str) -> bool:
        expiry = self.access_tokens.get(token)
        return expiry is not None and expiry > self._now()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (a refresh is needed)."""
        now = self._now()
        self.access_tokens = dict.fromkeys(self.access_tokens, now)

    def revoke_refresh_tokens(self) -> None:
        """Every live refresh token is refused from now on (a new authorization is needed)."""
        self.retired_refresh_tokens |= set(self.refresh_tokens)
        self.refresh_tokens.clear()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _oauth_error(status: int, error: str, description: str) -> TokenAnswer:
    return TokenAnswer(status, {"error": error, "error_description": description})


# --------------------------------------------------------------------------------------------------
# Energy flows of a site with meters (and perhaps a battery)
# --------------------------------------------------------------------------------------------------


def _gauss(x: float, mu: float, sigma: float) -> float:
    return math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def home_load_w(t: float, tz: ZoneInfo, base_w: float) -> float:
    """The home's power at epoch ``t``: a base with morning, noon and evening peaks (local time)."""
    local = datetime.fromtimestamp(t, tz)
    h = local.hour + local.minute / 60 + local.second / 3600
    base = base_w + 60.0 * math.sin(2 * math.pi * t / 1500)
    return (
        base + 900 * _gauss(h, 7.0, 0.6) + 450 * _gauss(h, 12.5, 0.9) + 1300 * _gauss(h, 19.0, 1.4)
    )


@dataclass(frozen=True, slots=True)
class Flow:
    """One quarter's energies (Wh) and the battery's state of charge at its end."""

    end_at: int
    production: int
    consumption: int
    imported: int
    exported: int
    charge: int
    discharge: int
    soc_percent: int | None  # None: no battery in this quarter


class EnergyFlows:
    """The quarters of a site from ``first_end`` on, computed in order and cached.

    ``production(end_at)`` gives a quarter's production in Wh. The battery (``capacity_wh`` > 0)
    starts half full; :meth:`remove_battery` takes it away from a moment on.
    """

    def __init__(
        self,
        first_end: int,
        production: Callable[[int], int],
        tz: ZoneInfo,
        base_w: float,
        capacity_wh: int,
        *,
        max_rate_w: float = 5000.0,
        reserve: float = 0.10,
        efficiency: float = 0.95,
    ) -> None:
        self.first_end = first_end - first_end % QUARTER + (QUARTER if first_end % QUARTER else 0)
        self._production = production
        self._tz = tz
        self._base_w = base_w
        self.capacity_wh = capacity_wh
        self._rate_wh = int(max_rate_w * QUARTER / 3600)
        self._reserve_wh = reserve * capacity_wh
        self._efficiency = efficiency
        self.battery_removed_at: int | None = None
        self._flows: list[Flow] = []
        self._stored: list[float] = []  # Wh in the battery after each quarter

    def has_battery(self, end_at: int) -> bool:
        return self.capacity_wh > 0 and (
            self.battery_removed_at is None or end_at - QUARTER < self.battery_removed_at
        )

    def remove_battery(self, at: int) -> None:
        """No battery in quarters that end after ``at``; cached quarters after it are redone."""
        self.battery_removed_at = at
        keep = max(0, (at - self.first_end) // QUARTER + 1)
        del self._flows[keep:]
        del self._stored[keep:]

    def flow(self, end_at: int) -> Flow | None:
        """The quarter ending at ``end_at`` (a multiple of 900), None before the first."""
        if end_at < self.first_end:
            return None
        index = (end_at - self.first_end) // QUARTER
        while len(self._flows) <= index:
            self._step()
        return self._flows[index]

    def flows(self, after: int, until: int) -> list[Flow]:
        """The quarters ending in ``(after, until]``."""
        first = max(self.first_end, after - after % QUARTER + QUARTER)
        found = (self.flow(q) for q in range(first, until + 1, QUARTER))
        return [f for f in found if f is not None]

    def _step(self) -> None:
        end_at = self.first_end + len(self._flows) * QUARTER
        stored = self._stored[-1] if self._stored else self.capacity_wh / 2
        production = self._production(end_at)
        consumption = round(home_load_w(end_at - QUARTER / 2, self._tz, self._base_w) / 4)
        charge = discharge = imported = exported = 0
        battery = self.has_battery(end_at)
        surplus = production - consumption
        if surplus >= 0:
            if battery:
                room = math.floor((self.capacity_wh - stored) / self._efficiency)
                charge = max(0, min(surplus, self._rate_wh, room))
            exported = surplus - charge
        else:
            if battery:
                available = math.floor(stored - self._reserve_wh)
                discharge = max(0, min(-surplus, self._rate_wh, available))
            imported = -surplus - discharge
        if battery:
            stored += charge * self._efficiency - discharge
        else:
            stored = 0.0
        soc = round(100 * stored / self.capacity_wh) if battery else None
        self._stored.append(stored)
        self._flows.append(
            Flow(end_at, production, consumption, imported, exported, charge, discharge, soc)
        )
