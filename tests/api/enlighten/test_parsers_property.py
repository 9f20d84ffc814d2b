"""Every Enlighten parser, fed random JSON and damaged real answers, raises only its error family.

The same machinery as tests/api/test_parsers_property.py (its recorder, damage and random JSON),
for the Enlighten clients: the answers are recorded from the simulator's v2 and v4 over loopback.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
import contextlib
from datetime import UTC, date, datetime, timedelta
import json
from typing import Final

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.solarhub.api.enlighten import parsers as ep, transport
from custom_components.solarhub.api.enlighten.client import EnlightenV2Client, EnlightenV4Client
from custom_components.solarhub.api.errors import SolarHubApiError
from tests.api.enlighten.test_client_v4_simulator import Tokens
from tests.api.test_parsers_property import _JSON, Answers, Case, _mutated, _recording
from tests.simulators import SimClock
from tests.simulators.enlighten import EnlightenConfig, EnlightenSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

NOON: Final = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)
MIDNIGHT: Final = datetime(2026, 6, 20, 22, 0, tzinfo=UTC)
EXAMPLES: Final = 1500
V2: Final = "enlighten GET /api/v2/systems"
V4: Final = "enlighten GET /api/v4/systems"


def _json[T](parser: Callable[[object], T]) -> Callable[[bytes], T]:
    return lambda body: parser(ep.decode_json(body))


def _error(body: bytes) -> object:
    return [
        transport.status_error("/x", status, body, NOON) for status in (401, 409, 422, 429, 500)
    ]


CASES: Final[list[Case]] = [
    Case(V2, _json(ep.parse_systems_page)),
    Case(f"{V2}/1002/summary", _json(ep.parse_summary)),
    Case(f"{V2}/1002/stats", _json(ep.parse_stats)),
    Case(f"{V2}/1002/rgm_stats", _json(ep.parse_rgm_stats)),
    Case(f"{V2}/1002/energy_lifetime", _json(ep.parse_energy_lifetime)),
    Case(f"{V2}/1002/envoys", _json(ep.parse_envoys)),
    Case(f"{V2}/1002/inventory", _json(ep.parse_inventory)),
    Case(V4, _json(ep.parse_v4_systems_page)),
    Case(f"{V4}/1002/summary", _json(ep.parse_summary)),
    Case(f"{V4}/1002/devices", _json(ep.parse_devices)),
    Case(f"{V4}/1002/telemetry/production_micro", _json(ep.parse_production_micro)),
    Case(f"{V4}/1002/telemetry/production_meter", _json(ep.parse_production_meter)),
    Case(f"{V4}/1002/telemetry/consumption_meter", _json(ep.parse_consumption_meter)),
    Case(f"{V4}/1002/telemetry/battery", _json(ep.parse_battery_telemetry)),
    Case(f"{V4}/1002/energy_import_telemetry", _json(ep.parse_energy_import)),
    Case(f"{V4}/1002/energy_export_telemetry", _json(ep.parse_energy_export)),
    Case(f"{V4}/1002/energy_lifetime", _json(ep.parse_energy_lifetime)),
    Case(f"{V4}/1002/battery_lifetime", _json(ep.parse_battery_lifetime)),
    Case(
        f"{V4}/1002/consumption_lifetime",
        _json(lambda raw: ep.parse_daily_series(raw, "c", "consumption")),
    ),
    Case(f"{V4}/1002/latest_telemetry", _json(ep.parse_latest_telemetry)),
    Case("enlighten errors", _error),
]


async def _record(http: aiohttp.ClientSession) -> None:
    config = EnlightenConfig(minute_limit=1000, v4_minute_limit=1000, v4_month_limit=100_000)
    sim = EnlightenSimulator(config, SimClock.fixed(NOON))
    await sim.start()
    try:
        v2 = EnlightenV2Client(
            http, config.api_key, config.user_id, base_url=sim.base_url, clock=sim.clock.now
        )
        await v2.get_systems()
        await v2.get_summary(1002)
        await v2.get_stats(1002, MIDNIGHT)
        await v2.get_stats(1002, NOON + timedelta(hours=1))  # 422: nothing newer
        await v2.get_rgm_stats(1002, MIDNIGHT, NOON)
        await v2.get_energy_lifetime(1002, start_date=date(2026, 6, 1), production_all=True)
        await v2.get_devices(1002)
        with contextlib.suppress(SolarHubApiError):
            await v2.get_monthly_production(1002, date(2026, 5, 1))  # errorCode 7
        tokens = Tokens(http, sim)
        await tokens.login()
        v4 = EnlightenV4Client(
            http, config.v4_api_key, tokens, base_url=f"{sim.url}/api/v4", clock=sim.clock.now
        )
        await v4.get_systems()
        await v4.get_summary(1002)
        await v4.get_devices(1002)
        for get in (
            v4.get_production_micro,
            v4.get_production_meter,
            v4.get_consumption_meter,
            v4.get_energy_import,
            v4.get_energy_export,
        ):
            await get(1002, MIDNIGHT)
        await v4.get_battery_telemetry(1002, MIDNIGHT)
        await v4.get_energy_lifetime(1002, start_date=date(2026, 6, 1))
        await v4.get_battery_lifetime(1002, start_date=date(2026, 6, 1))
        await v4.get_consumption_lifetime(1002, start_date=date(2026, 6, 1))
        await v4.get_latest_telemetry(1002)
        config.minute_limit = config.v4_minute_limit = 0
        for call in (v2.get_summary(1002), v4.get_summary(1002)):  # the 409 and 429 bodies
            with contextlib.suppress(SolarHubApiError):
                await call
    finally:
        await sim.stop()


async def test_every_enlighten_parser_raises_only_its_error_family() -> None:
    answers: Answers = defaultdict(list)
    with _recording("enlighten", transport, answers):
        async with aiohttp.ClientSession() as session:
            await _record(session)
    missing = [case.answers for case in CASES if not answers.get(case.answers)]
    assert not missing, f"no recorded answers for {missing}"
    for case in CASES:  # the real answers themselves parse
        for body in answers[case.answers]:
            case.parse(body)

    def for_case(case: Case) -> st.SearchStrategy[tuple[Case, bytes]]:
        real = st.sampled_from(answers[case.answers]).flatmap(_mutated)
        random = _JSON.map(lambda value: json.dumps(value).encode())
        return st.tuples(st.just(case), real | random)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.sampled_from(CASES).flatmap(for_case))
    def parse(case_and_body: tuple[Case, bytes]) -> None:
        case, body = case_and_body
        with contextlib.suppress(SolarHubApiError):
            case.parse(body)

    parse()
