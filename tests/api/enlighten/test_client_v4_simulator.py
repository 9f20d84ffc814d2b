"""The v4 client against the Enlighten simulator's /api/v4 and OAuth2, over loopback.

The token getter here does what Home Assistant's ``OAuth2Session.async_ensure_token_valid``
does: the authorization-code grant once, then a refresh (Basic auth) when the token has expired.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.solarhub.api.enlighten.client import EnlightenV4Client
from custom_components.solarhub.api.enlighten.errors import KeyClientMismatchError
from custom_components.solarhub.api.errors import (
    AuthenticationError,
    RateLimitedError,
    RatePeriod,
)
from tests.simulators import SimClock
from tests.simulators.enlighten import EnlightenConfig, EnlightenSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

NOON = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)
VIENNA = ZoneInfo("Europe/Vienna")
REDIRECT = "https://example.invalid/auth/external/callback"


class Tokens:
    """A stand-in for OAuth2Session.async_ensure_token_valid against the simulator."""

    def __init__(self, http: aiohttp.ClientSession, sim: EnlightenSimulator) -> None:
        self.http = http
        self.sim = sim
        self.access = ""
        self.refresh = ""
        self.expires_at = datetime.min.replace(tzinfo=UTC)
        self.calls = 0

    async def _grant(self, **params: str) -> None:
        cfg = self.sim.config
        basic = base64.b64encode(f"{cfg.client_id}:{cfg.client_secret}".encode()).decode()
        async with self.http.post(
            f"{self.sim.url}/oauth/token",
            params=params,
            headers={"Authorization": f"Basic {basic}"},
        ) as response:
            response.raise_for_status()
            body = await response.json()
        self.access, self.refresh = body["access_token"], body["refresh_token"]
        self.expires_at = self.sim.clock.now() + timedelta(seconds=body["expires_in"])

    async def login(self) -> None:
        query = {
            "response_type": "code",
            "client_id": self.sim.config.client_id,
            "redirect_uri": REDIRECT,
            "state": "s",
        }
        async with self.http.get(
            f"{self.sim.url}/oauth/authorize", params=query, allow_redirects=False
        ) as response:
            code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
        await self._grant(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)

    async def __call__(self) -> str:
        self.calls += 1
        if self.sim.clock.now() >= self.expires_at:
            await self._grant(grant_type="refresh_token", refresh_token=self.refresh)
        return self.access


@pytest.fixture
def clock() -> SimClock:
    return SimClock.fixed(NOON)


@pytest.fixture
async def sim(clock: SimClock) -> AsyncIterator[EnlightenSimulator]:
    config = EnlightenConfig(v4_minute_limit=1000, v4_month_limit=100_000)
    async with EnlightenSimulator(config, clock) as simulator:
        yield simulator


@pytest.fixture
async def tokens(http: aiohttp.ClientSession, sim: EnlightenSimulator) -> Tokens:
    source = Tokens(http, sim)
    await source.login()
    return source


def client_for(
    http: aiohttp.ClientSession, sim: EnlightenSimulator, tokens: Tokens, key: str | None = None
) -> EnlightenV4Client:
    return EnlightenV4Client(
        http,
        key or sim.config.v4_api_key,
        tokens,
        base_url=f"{sim.url}/api/v4",
        clock=sim.clock.now,
    )


async def test_systems_summary_and_devices(
    http: aiohttp.ClientSession, sim: EnlightenSimulator, tokens: Tokens
) -> None:
    client = client_for(http, sim, tokens)
    systems = await client.get_systems(page_size=2)
    assert [s.system_id for s in systems] == [1001, 1002, 1003]
    assert sim.usage(sim.config.v4_api_key).total == 2  # two pages of two
    assert (systems[1].name, systems[1].city, systems[1].timezone) == (
        "Weinberg",
        "Wien",
        "Europe/Vienna",
    )
    site = await client.get_summary(1002)
    assert site.battery_capacity_wh == 10_080
    assert site.battery_charge_w is not None
    plain = await client.get_summary(1001)
    assert (plain.battery_capacity_wh, plain.battery_charge_w) == (None, None)
    devices = await client.get_devices(1002)
    assert len(devices.micros) == 24
    assert devices.has_battery
    assert {m.measurement_type for m in devices.meters} == {"production", "net-consumption"}
    assert [m.config_type for m in devices.meters if m.config_type] == ["Net"]
    assert devices.gateways[0].serial_number == "122100020002"
    bare = await client.get_devices(1001)
    assert (bare.meters, bare.encharges, bare.has_battery) == ((), (), False)


async def test_telemetry_equals_the_truth_and_empty_is_nothing_newer(
    http: aiohttp.ClientSession, sim: EnlightenSimulator, tokens: Tokens
) -> None:
    client = client_for(http, sim, tokens)
    midnight = datetime(2026, 6, 21, tzinfo=VIENNA)
    summary = await client.get_summary(1002)
    assert summary.last_interval_end_at is not None
    last = summary.last_interval_end_at
    micro = await client.get_production_intervals(1002, midnight)
    assert [(i.end_at, i.energy_wh) for i in micro.intervals] == [
        (end, float(wh)) for end, wh in sim.truth_intervals(1002, midnight, last)
    ]
    meter = await client.get_meter_intervals(1002, midnight)
    assert [(i.end_at, i.energy_wh) for i in meter.intervals] == [
        (end, float(wh)) for end, wh in sim.truth_meter_intervals(1002, midnight, last)
    ]
    flows = sim.truth_flows(1002, midnight, last)
    consumption = await client.get_consumption_meter(1002, midnight)
    imported = await client.get_energy_import(1002, midnight)
    exported = await client.get_energy_export(1002, midnight)  # nested in the answer
    battery = await client.get_battery_telemetry(1002, midnight)
    assert [i.energy_wh for i in consumption.intervals] == [f.consumption for f in flows]
    assert [i.energy_wh for i in imported.intervals] == [f.imported for f in flows]
    assert [i.energy_wh for i in exported.intervals] == [f.exported for f in flows]
    assert [(b.charge_wh, b.discharge_wh) for b in battery.intervals] == [
        (f.charge, f.discharge) for f in flows
    ]
    # nothing newer: an empty list; a site without meters: empty too
    assert (await client.get_production_micro(1002, last)).intervals == ()
    assert (await client.get_energy_export(1002, last)).intervals == ()
    assert (await client.get_consumption_meter(1001, midnight)).intervals == ()


async def test_daily_series_and_latest(
    http: aiohttp.ClientSession, sim: EnlightenSimulator, tokens: Tokens
) -> None:
    client = client_for(http, sim, tokens)
    yesterday = datetime(2026, 6, 20, tzinfo=VIENNA)
    start = yesterday.date() - timedelta(days=2)
    production = await client.get_energy_lifetime(1002, start_date=start)
    assert production.end_date == yesterday.date()
    assert production.values[-1] == sim.truth_day(1002, yesterday.date())
    flows = sim.truth_flows(1002, yesterday, yesterday + timedelta(days=1))
    consumption = await client.get_consumption_lifetime(1002, start_date=start)
    charge, discharge = await client.get_battery_lifetime(1002, start_date=start)
    imported = await client.get_import_lifetime(1002, start_date=start)
    exported = await client.get_export_lifetime(1002, start_date=start)
    assert consumption.values[-1] == sum(f.consumption for f in flows)
    assert charge.values[-1] == sum(f.charge for f in flows)
    assert discharge.values[-1] == sum(f.discharge for f in flows)
    assert imported.values[-1] == sum(f.imported for f in flows)
    assert exported.values[-1] == sum(f.exported for f in flows)
    assert (await client.get_consumption_lifetime(1001)).values == ()  # no meters
    latest = await client.get_latest_telemetry(1002)
    assert {r.name for r in latest.readings} >= {"production", "consumption"}
    assert any(r.group == "encharges" and r.soc_percent is not None for r in latest.readings)


async def test_key_mismatch_429_and_tokens(
    http: aiohttp.ClientSession, sim: EnlightenSimulator, tokens: Tokens, clock: SimClock
) -> None:
    with pytest.raises(KeyClientMismatchError):
        await client_for(http, sim, tokens, key=sim.config.foreign_api_keys[0]).get_systems()
    with pytest.raises(AuthenticationError) as wrong:
        await client_for(http, sim, tokens, key="not-a-key").get_systems()
    assert not isinstance(wrong.value, KeyClientMismatchError)
    client = client_for(http, sim, tokens)
    # the token expires: the getter refreshes it, the call goes through with the new one
    clock.advance(timedelta(days=1, minutes=1))
    old_refresh = tokens.refresh
    await client.get_summary(1001)
    assert tokens.refresh != old_refresh
    assert tokens.access not in repr(client)
    # a refresh refused (refresh tokens revoked): AuthenticationError, not a connection error
    sim.oauth.revoke_refresh_tokens()
    clock.advance(timedelta(days=1, minutes=1))
    with pytest.raises(AuthenticationError) as refused:
        await client.get_summary(1001)
    assert "could not be refreshed" in str(refused.value)
    # 429: the period is not said
    await tokens.login()
    sim.config.v4_minute_limit = 0
    with pytest.raises(RateLimitedError) as limited:
        await client.get_summary(1001)
    assert limited.value.period is RatePeriod.UNKNOWN
    assert "Usage limit exceeded" in str(limited.value)
