"""The Enlighten parsers: every answer of v2 and v4, in epoch and ISO 8601, and hostile input.

The sample answers are the v2 document's own (../shared/seeds/enphase-enlighten-systems-api-v2.txt)
and the v4 shapes of ../shared/vendors/enlighten.md.
"""

from __future__ import annotations

from collections.abc import Callable
import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.solarhub.api.enlighten import parsers as p
from custom_components.solarhub.api.enlighten.models import (
    Device,
    EnergyInterval,
    SystemDevices,
    SystemMeta,
    SystemStatus,
)
from custom_components.solarhub.api.errors import MalformedResponseError

PACIFIC = ZoneInfo("America/Los_Angeles")
META = {
    "status": "normal",
    "last_report_at": 1445619615,
    "last_energy_at": 1445619033,
    "operational_at": 1357023600,
}


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso(seconds: int, tz: ZoneInfo = PACIFIC) -> str:
    return datetime.fromtimestamp(seconds, tz).isoformat()


# ---- times and dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [1430809200, 1430809200.0, "1430809200", "2015-05-05T00:00:00-07:00", "2015-05-05T07:00:00Z"],
)
def test_moments_in_every_format(value: object) -> None:
    assert p.parse_moment(value, "t", "x") == datetime(2015, 5, 5, 7, 0, tzinfo=UTC)


def test_a_moment_without_offset_is_utc_and_null_is_none() -> None:
    assert p.parse_moment("2015-05-05T07:00:00", "t", "x") == datetime(2015, 5, 5, 7, tzinfo=UTC)
    assert p.parse_moment(None, "t", "x") is None
    assert p.parse_moment("", "t", "x") is None


@pytest.mark.parametrize(
    "value", [True, "soon", [1], {"a": 1}, float("inf"), float("nan"), 10**20, "2015-13-45T00:00"]
)
def test_bad_moments_raise_the_error_family(value: object) -> None:
    with pytest.raises(MalformedResponseError):
        p.parse_moment(value, "t", "x")


def test_days_in_every_format() -> None:
    day = date(2015, 5, 5)
    assert p.parse_day("2015-05-05", "d", "x") == day
    assert p.parse_day("2015-05-05T00:00:00-07:00", "d", "x") == day  # the local date
    assert p.parse_day(1430809200, "d", "x") == day  # Pacific midnight, nearest UTC midnight
    berlin_midnight = int(datetime(2015, 5, 5, tzinfo=ZoneInfo("Europe/Berlin")).timestamp())
    assert p.parse_day(berlin_midnight, "d", "x") == day
    assert p.parse_day(berlin_midnight, "d", "x", ZoneInfo("Europe/Berlin")) == day
    assert p.parse_day(None, "d", "x") is None
    for bad in ("05/05/2015", "2015-02-30", True, [2015]):
        with pytest.raises(MalformedResponseError):
            p.parse_day(bad, "d", "x")


def test_jsonp_is_unwrapped_and_garbage_is_malformed() -> None:
    assert p.decode_json(b'my_method(\n  {"systems": []}\n)') == {"systems": []}
    assert p.decode_json(b'{"a": 1}') == {"a": 1}
    deep = b"[" * 100_000 + b"]" * 100_000
    for body in (b"<html>", b"cb(<html>)", b"\xff\xfe", b"", deep, b"cb(" + deep + b")"):
        with pytest.raises(MalformedResponseError):
            p.decode_json(body)


# ---- v2 --------------------------------------------------------------------------------------

SYSTEMS: dict[str, Any] = {
    "systems": [
        {
            "system_id": 67,
            "system_name": "Eich Residence",
            "system_public_name": "Eich Residence",
            "status": "normal",
            "timezone": "America/Los_Angeles",
            "country": "US",
            "state": "CA",
            "city": "Sebastopol",
            "postal_code": "95472",
            "connection_type": "ethernet",
            "meta": META,
        },
        {
            "system_id": 72,
            "system_name": "Sample Residence",
            "system_public_name": "Sample Residence",
            "status": "normal",
            "timezone": "America/Los_Angeles",
            "reference": "ACME-1",
            "other_references": ["X-2", 3],
            "meta": {**META, "status": "comm"},
            "a_field_added_later": {"x": 1},
        },
    ],
    "next": "4e7a453d0a",
}


def test_systems_page() -> None:
    systems, cursor = p.parse_systems_page(SYSTEMS)
    assert cursor == "4e7a453d0a"
    first, second = systems
    assert (first.system_id, first.name, first.timezone, first.city) == (
        67,
        "Eich Residence",
        "America/Los_Angeles",
        "Sebastopol",
    )
    assert first.meta == SystemMeta(
        status="normal",
        last_report_at=utc(1445619615),
        last_energy_at=utc(1445619033),
        operational_at=utc(1357023600),
    )
    # meta.status replaces the deprecated top-level status
    assert second.status == SystemStatus.COMM
    assert (second.reference, second.other_references) == ("ACME-1", ("X-2", "3"))
    assert second.connection_type is None
    _, cursor = p.parse_systems_page({"systems": []})
    assert cursor is None


def test_systems_page_in_iso8601_equals_epoch() -> None:
    iso_answer = copy.deepcopy(SYSTEMS)
    for system in iso_answer["systems"]:
        system["meta"] = {
            key: iso(value) if isinstance(value, int) else value
            for key, value in system["meta"].items()
        }
    assert p.parse_systems_page(iso_answer) == p.parse_systems_page(SYSTEMS)


SUMMARY: dict[str, Any] = {
    "current_power": 3322,
    "energy_lifetime": 19050353,
    "energy_today": 25639,
    "last_interval_end_at": 1380632400,
    "last_report_at": 1380632791,
    "modules": 31,
    "operational_at": 1201362300,
    "size_w": 5250,
    "source": "microinverters",
    "status": "normal",
    "summary_date": "2014-01-06",
    "system_id": 123,
}


def test_summary_epoch_and_iso() -> None:
    summary = p.parse_summary(SUMMARY)
    assert summary.current_power == 3322
    assert summary.energy_lifetime == 19050353
    assert summary.lifetime_total == 19050353 + 25639
    assert summary.last_report_at == utc(1380632791)
    assert summary.last_interval_end_at == utc(1380632400)
    assert (summary.modules, summary.size_w, summary.source) == (31, 5250, "microinverters")
    assert summary.summary_date == date(2014, 1, 6)
    assert summary.battery_capacity_wh is None
    as_iso = SUMMARY | {
        "last_interval_end_at": iso(1380632400),
        "last_report_at": iso(1380632791),
        "operational_at": iso(1201362300),
        "summary_date": "2014-01-06T00:00:00-08:00",
    }
    assert p.parse_summary(as_iso) == summary


def test_v4_summary_battery_fields() -> None:
    raw = SUMMARY | {
        "battery_charge_w": 1200,
        "battery_discharge_w": 0,
        "battery_capacity_wh": 10080,
        "system_id": "123",
    }
    del raw["summary_date"]
    summary = p.parse_summary(raw)
    assert (summary.battery_charge_w, summary.battery_discharge_w) == (1200, 0)
    assert summary.battery_capacity_wh == 10080
    assert (summary.system_id, summary.summary_date) == (123, None)


STATS: dict[str, Any] = {
    "system_id": 1765,
    "total_devices": 31,
    "meta": META,
    "intervals": [
        {"end_at": 1381496400, "powr": 173, "enwh": 14, "devices_reporting": 27},
        {"end_at": 1381496700, "powr": 258, "enwh": 22, "devices_reporting": 31},
        {"end_at": 1381497000, "powr": 308, "enwh": 26, "devices_reporting": 31},
        {"end_at": 1381497300, "powr": 386, "enwh": 32, "devices_reporting": 31},
        {"end_at": 1381497600, "powr": 476, "enwh": 40, "devices_reporting": 31},
    ],
}


def test_stats() -> None:
    series = p.parse_stats(STATS)
    assert series.length == timedelta(minutes=5)
    assert (series.system_id, series.total_devices) == (1765, 31)
    assert series.intervals[0] == EnergyInterval(
        end_at=utc(1381496400), energy_wh=14, power_w=173, devices_reporting=27
    )
    assert sum(interval.energy_wh for interval in series.intervals) == 134
    assert series.last_end == utc(1381497600)
    iso_answer = copy.deepcopy(STATS)
    for interval in iso_answer["intervals"]:
        interval["end_at"] = iso(interval["end_at"])
    iso_answer["meta"] = {key: iso(v) if isinstance(v, int) else v for key, v in META.items()}
    assert p.parse_stats(iso_answer) == series


def test_stats_sorted_deduplicated_and_empty() -> None:
    shuffled = {"intervals": [*reversed(STATS["intervals"]), STATS["intervals"][0]]}
    series = p.parse_stats(shuffled)
    assert [i.end_at for i in series.intervals] == [utc(i["end_at"]) for i in STATS["intervals"]]
    empty = p.parse_stats({"system_id": 1765, "total_devices": 0, "intervals": []})
    assert (empty.intervals, empty.last_end) == ((), None)
    assert p.parse_stats({"system_id": 1}).intervals == ()  # no microinverters


def test_rgm_stats() -> None:
    raw = {
        "system_id": 1765,
        "total_devices": 1,
        "meta": META,
        "intervals": [
            {"end_at": 1384122700, "wh_del": 0, "devices_reporting": 1},
            {"end_at": 1384123600, "wh_del": 15, "devices_reporting": 1},
        ],
    }
    series = p.parse_rgm_stats(raw)
    assert series.length == timedelta(minutes=15)
    assert [(i.energy_wh, i.power_w) for i in series.intervals] == [(0, None), (15, None)]


def test_energy_lifetime_drops_trailing_zeros() -> None:
    raw = {
        "system_id": 66,
        "start_date": "2013-01-01",
        "meter_start_date": "2013-01-04",
        "production": [15422, 0, 17118, 909, 4970, 0, 0, 0],
        "micro_production": [15422, 0, 17118, 913, 4975, 0, 0],
        "meter_production": [0, 0, 11388, 909, 4970, 0],
        "meta": META,
    }
    series = p.parse_energy_lifetime(raw)
    assert series.values == (15422, 0, 17118, 909, 4970)  # a zero inside stays
    assert series.micro_production == (15422, 0, 17118, 913, 4975)
    assert series.meter_production == (0, 0, 11388, 909, 4970)
    assert series.meter_start_date == date(2013, 1, 4)
    assert series.end_date == date(2013, 1, 5)
    assert series.days()[1] == (date(2013, 1, 2), 0)
    never = p.parse_energy_lifetime({"system_id": 9, "start_date": None, "production": []})
    assert (never.values, never.days(), never.end_date) == ((), [], None)
    iso_dates = raw | {"start_date": "2013-01-01T00:00:00-08:00"}
    assert p.parse_energy_lifetime(iso_dates).start_date == date(2013, 1, 1)


def test_envoys_and_inventory() -> None:
    envoys = p.parse_envoys(
        {
            "system_id": 67,
            "envoys": [
                {
                    "envoy_id": 512,
                    "last_report_at": 1308008107,
                    "name": "Envoy 010731000003",
                    "part_number": "800-00002-r00",
                    "serial_number": "010731000003",
                    "status": "normal",
                },
                {
                    "envoy_id": 841,
                    "last_report_at": None,
                    "name": "Envoy 010814000001",
                    "part_number": "910-10000-r01",
                    "serial_number": "010814000001",
                    "status": "comm",
                },
            ],
        }
    )
    assert envoys[0] == Device(
        serial_number="010731000003",
        device_id=512,
        name="Envoy 010731000003",
        part_number="800-00002-r00",
        status="normal",
        last_report_at=utc(1308008107),
    )
    assert envoys[1].last_report_at is None
    inventory = p.parse_inventory(
        {
            "system_id": 1765,
            "inverters": [
                {"sn": "123456789123", "model": "M215"},
                {"sn": "123455589199", "model": "M215"},
            ],
            "meters": [{"sn": "999111222333", "manufacturer": "GE", "model": "I-210+"}],
            "envoys": [{"sn": "010731000003"}, {"sn": "010799999999"}],
        }
    )
    assert [d.serial_number for d in inventory.micros] == ["123456789123", "123455589199"]
    assert inventory.meters[0].manufacturer == "GE"
    merged = p.merge_envoys(inventory, envoys)
    assert [g.serial_number for g in merged.gateways] == [
        "010731000003",
        "010814000001",
        "010799999999",
    ]
    assert merged.micros == inventory.micros
    # absent keys = no such devices
    assert p.parse_inventory({"system_id": 1}) == SystemDevices(system_id=1)


def test_monthly_production() -> None:
    month = p.parse_monthly_production(
        {
            "system_id": 66,
            "start_date": "2011-07-01",
            "end_date": "2011-07-31",
            "production_wh": 208435,
            "meter_readings": [{"serial_number": "123123123123", "start": 196077, "end": 404512}],
            "meta": META,
        }
    )
    assert (month.start_date, month.end_date) == (date(2011, 7, 1), date(2011, 7, 31))
    assert month.production_wh == 208435
    assert month.meter_readings[0].end - month.meter_readings[0].start == 208435


# ---- v4 --------------------------------------------------------------------------------------


def test_v4_systems_page_with_address() -> None:
    systems, total = p.parse_v4_systems_page(
        {
            "total": 2,
            "current_page": 1,
            "size": 10,
            "count": 1,
            "items": "systems",
            "systems": [
                {
                    "system_id": 698905955,
                    "name": "Home",
                    "public_name": "Residential System",
                    "timezone": "Europe/Berlin",
                    "address": {"city": "Köln", "state": None, "country": "DE", "postal_code": "5"},
                    "connection_type": "wifi",
                    "status": "micro",
                    "energy_lifetime": -1,
                    "energy_today": -1,
                    "system_size": -1,
                    "last_report_at": 1700000000,
                    "operational_at": 1600000000,
                }
            ],
        }
    )
    assert total == 2
    (system,) = systems
    assert (system.system_id, system.name, system.public_name) == (
        698905955,
        "Home",
        "Residential System",
    )
    assert (system.city, system.country, system.postal_code, system.status) == (
        "Köln",
        "DE",
        "5",
        "micro",
    )


def test_v4_devices() -> None:
    devices = p.parse_devices(
        {
            "system_id": 7,
            "total_devices": 5,
            "items": "devices",
            "devices": {
                "micros": [
                    {
                        "id": 1,
                        "serial_number": "482200000001",
                        "model": "IQ8M",
                        "sku": "IQ8MC-72-M-INT",
                        "status": "normal",
                        "last_report_at": "2024-01-01T10:00:00+01:00",
                        "active": True,
                    }
                ],
                "meters": [
                    {"serial_number": "1220EIM1", "config_type": "Net", "model": "CT"},
                    {"serial_number": "1220EIM2", "config_type": "Total", "model": "CT"},
                ],
                "gateways": [{"serial_number": "122000000001", "sku": "SC100G-M230ROW"}],
                "encharges": [{"serial_number": "ENC1", "model": "IQ Battery 5P"}],
                "unknown_group": [{"whatever": 1}],
            },
        }
    )
    assert devices.micros[0].part_number == "IQ8MC-72-M-INT"
    assert devices.micros[0].last_report_at == datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert devices.micros[0].active is True
    assert [m.config_type for m in devices.meters] == ["Net", "Total"]
    assert devices.gateways[0].serial_number == "122000000001"
    assert devices.has_battery
    assert (devices.q_relays, devices.acbs) == ((), ())
    # tolerated: groups at the top level
    flat = p.parse_devices({"system_id": 7, "micros": [{"serial_number": "M1"}]})
    assert [d.serial_number for d in flat.micros] == ["M1"]
    assert not flat.has_battery


@pytest.mark.parametrize(
    ("parse", "key"),
    [
        (p.parse_production_meter, "wh_del"),
        (p.parse_consumption_meter, "enwh"),
        (p.parse_energy_import, "wh_imported"),
        (p.parse_energy_export, "wh_exported"),
    ],
)
def test_v4_meter_telemetry(parse: Callable[[object], Any], key: str) -> None:
    items = [
        {"end_at": 1700000900 + 900 * i, key: 10 * i, "devices_reporting": 1} for i in range(3)
    ]
    series = parse({"system_id": 7, "granularity": "day", "intervals": items})
    assert series.length == timedelta(minutes=15)
    assert [i.energy_wh for i in series.intervals] == [0, 10, 20]
    assert parse({"system_id": 7, "intervals": []}).intervals == ()  # nothing newer
    # the export example nests the intervals as a list inside a list
    nested = parse({"system_id": 7, "intervals": [items]})
    assert nested.intervals == series.intervals


def test_v4_production_micro() -> None:
    series = p.parse_production_micro(
        {
            "system_id": 7,
            "granularity": "day",
            "total_devices": 20,
            "start_date": "2024-01-01",
            "intervals": [{"end_at": 1700000300, "devices_reporting": 20, "powr": 600, "enwh": 50}],
        }
    )
    assert series.length == timedelta(minutes=5)
    assert series.intervals[0].power_w == 600


def test_v4_battery_telemetry() -> None:
    series = p.parse_battery_telemetry(
        {
            "system_id": 7,
            "intervals": [
                {
                    "end_at": 1700000900,
                    "charge": {"enwh": 120, "devices_reporting": 1},
                    "discharge": {"enwh": 0, "devices_reporting": 1},
                    "soc": {"percent": 54, "devices_reporting": 1},
                },
                {"end_at": 1700001800, "charge": 30, "discharge": None, "soc": "55"},
            ],
        }
    )
    first, second = series.intervals
    assert (first.charge_wh, first.discharge_wh, first.soc_percent) == (120, 0, 54)
    assert (second.charge_wh, second.discharge_wh, second.soc_percent) == (30, None, 55)
    assert series.last_end == utc(1700001800)


def test_v4_daily_series() -> None:
    consumption = p.parse_daily_series(
        {"system_id": 7, "start_date": "2024-01-01", "consumption": [5000, 6000, 0]},
        "consumption_lifetime",
        "consumption",
    )
    assert consumption.values == (5000, 6000, 0)  # zeros kept outside production
    charge, discharge = p.parse_battery_lifetime(
        {"system_id": 7, "start_date": "2024-01-01", "charge": [1, 2], "discharge": [3, 0]}
    )
    assert (charge.values, discharge.values) == ((1, 2), (3, 0))
    imported = p.parse_daily_series(
        {"start_date": 1704063600, "energy_import": [7]}, "x", "import", "energy_import"
    )
    assert (imported.values, imported.start_date) == ((7,), date(2024, 1, 1))


def test_v4_latest_telemetry() -> None:
    latest = p.parse_latest_telemetry(
        {
            "system_id": 7,
            "devices": {
                "meters": [
                    {"name": "production", "channel": 1, "power": 4000, "last_report_at": 1},
                    {"name": "consumption", "channel": 2, "power": 1200, "last_report_at": 1},
                ],
                "encharges": [
                    {"serial_number": "ENC1", "power": -300, "last_report_at": 2, "soc": 61}
                ],
            },
        }
    )
    by_name = {r.name or r.serial_number: r for r in latest.readings}
    assert by_name["production"].power_w == 4000
    assert by_name["ENC1"].group == "encharges"
    assert by_name["ENC1"].soc_percent == 61
    assert p.parse_latest_telemetry({"system_id": 7}).readings == ()


# ---- hostile input ---------------------------------------------------------------------------

PARSERS: list[tuple[Callable[[object], object], object]] = [
    (p.parse_systems_page, SYSTEMS),
    (p.parse_v4_systems_page, {"systems": SYSTEMS["systems"], "total": 2}),
    (p.parse_summary, SUMMARY),
    (p.parse_stats, STATS),
    (p.parse_rgm_stats, {"intervals": [{"end_at": 1, "wh_del": 2}]}),
    (p.parse_energy_lifetime, {"start_date": "2013-01-01", "production": [1, 2]}),
    (p.parse_envoys, {"envoys": [{"serial_number": "1", "last_report_at": 5}]}),
    (p.parse_inventory, {"inverters": [{"sn": "1"}], "meters": [{"sn": "2"}]}),
    (p.parse_monthly_production, {"system_id": 1, "production_wh": 5, "meter_readings": []}),
    (p.parse_devices, {"devices": {"micros": [{"serial_number": "1"}]}}),
    (p.parse_production_micro, STATS),
    (p.parse_energy_export, {"intervals": [[{"end_at": 1, "wh_exported": 1}]]}),
    (p.parse_battery_telemetry, {"intervals": [{"end_at": 1, "charge": {"enwh": 1}}]}),
    (p.parse_battery_lifetime, {"charge": [1], "discharge": [2]}),
    (p.parse_latest_telemetry, {"devices": {"meters": [{"power": 1}]}}),
]

DEEP: list[object] = []
for _ in range(3000):
    DEEP = [DEEP]

HOSTILE: list[object] = [
    None,
    [],
    "text",
    7,
    True,
    {"system_id": "x"},
    {"system_id": True},
    {"system_id": "9" * 5000},
]


def _mutations(raw: object) -> list[object]:
    """``raw`` with each leaf in turn replaced by hostile values, and each container emptied."""
    out: list[object] = []

    def walk(node: object, replace: Callable[[object], object]) -> None:
        for bad in ("x", None, [], {}, -1e400, True, "2015-99-99", DEEP, 10**30, "\ud800"):
            out.append(replace(bad))
        if isinstance(node, dict):
            for key in node:
                walk(node[key], lambda value, k=key, n=node: replace({**n, k: value}))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(
                    item,
                    lambda value, i=index, n=node: replace([*n[:i], value, *n[i + 1 :]]),
                )

    walk(raw, lambda value: value)
    return out


@pytest.mark.parametrize(("parse", "sample"), PARSERS)
def test_hostile_input_only_raises_the_error_family(
    parse: Callable[[object], object], sample: object
) -> None:
    parse(sample)  # the sample itself is fine
    cases = [*HOSTILE, *_mutations(sample)]
    raised = 0
    for case in cases:
        try:
            parse(case)
        except MalformedResponseError:
            raised += 1
    assert raised > 0
