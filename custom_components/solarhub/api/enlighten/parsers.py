"""Pure readers of the Enlighten answers (v2 and v4): wire format -> :mod:`.models`.

Every time is read whether it comes as Unix epoch (the default; a digit string too) or as
ISO 8601 (``datetime_format=iso8601``); dates as ``YYYY-mm-dd``, an ISO time or an epoch.
Unknown fields are ignored, as the v2 document asks. Anything else raises
:class:`~..errors.MalformedResponseError` only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
import math
import re
from typing import TYPE_CHECKING, Final

from ..errors import MalformedResponseError
from ..shapes import (
    as_dict,
    as_list,
    excerpt,
    int_field,
    loads,
    malformed,
    optional_str_field,
    parse_json,
    shown,
)
from .models import (
    BatteryInterval,
    BatterySeries,
    DailyEnergy,
    Device,
    EnergyInterval,
    EnlightenSystem,
    IntervalSeries,
    LatestReading,
    LatestTelemetry,
    MeterReading,
    MonthlyProduction,
    SystemDevices,
    SystemMeta,
    SystemSummary,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

FIVE_MINUTES: Final = timedelta(minutes=5)
FIFTEEN_MINUTES: Final = timedelta(minutes=15)

_DIGITS: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_JSONP: Final = re.compile(rb"\s*[A-Za-z_$][\w$.]*\s*\((.*)\)\s*;?\s*", re.DOTALL)
_HALF_DAY: Final = timedelta(hours=12)

type _Obj = Mapping[str, object]


# ---- scalars ---------------------------------------------------------------------------------


def decode_json(body: bytes) -> object:
    """A JSON body, also when wrapped in a JSONP ``callback(...)``."""
    try:
        return parse_json(body)
    except MalformedResponseError:
        if (match := _JSONP.fullmatch(body)) is None:
            raise
        try:
            return loads(match.group(1))
        except ValueError as err:
            raise MalformedResponseError(f"the answer is not JSON: {excerpt(body)}") from err


def _epoch(seconds: float, key: str, what: str) -> datetime:
    if not math.isfinite(seconds):
        raise malformed(what, f"{key!r} is not a time: {shown(seconds)}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise malformed(what, f"{key!r} is out of range: {shown(seconds)}") from err


def _number_or_none(value: object) -> float | None:
    """``value`` as a finite number (digit strings too), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def parse_moment(value: object, key: str, what: str) -> datetime | None:
    """A time as epoch seconds or ISO 8601 -> aware UTC; ``None`` when null or empty."""
    if value is None or value == "":
        return None
    number = _number_or_none(value)
    if number is not None:
        return _epoch(number, key, what)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as err:
            raise malformed(what, f"{key!r} is not a time: {shown(value)}") from err
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    raise malformed(what, f"{key!r} is not a time: {shown(value)}")


def parse_day(value: object, key: str, what: str, tz: tzinfo | None = None) -> date | None:
    """A date as ``YYYY-mm-dd``, as ISO time (its local date) or as epoch of local midnight.

    An epoch is read in ``tz`` (the system's zone); without it, as the nearest UTC midnight,
    which is right for every zone from UTC-12 to UTC+11:59.
    """
    if value is None or value == "":
        return None
    number = _number_or_none(value)
    if number is not None:
        moment = _epoch(number, key, what)
        if tz is not None:
            return moment.astimezone(tz).date()
        try:
            return (moment + _HALF_DAY).date()
        except OverflowError as err:
            raise malformed(what, f"{key!r} is out of range: {shown(value)}") from err
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
            )
        except ValueError as err:
            raise malformed(what, f"{key!r} is not a date: {shown(value)}") from err
    raise malformed(what, f"{key!r} is not a date: {shown(value)}")


def _time(obj: _Obj, key: str, what: str) -> datetime:
    moment = parse_moment(obj.get(key), key, what)
    if moment is None:
        raise malformed(what, f"{key!r} is missing")
    return moment


def _optional_time(obj: _Obj, key: str, what: str) -> datetime | None:
    return parse_moment(obj.get(key), key, what)


def _number(obj: _Obj, key: str, what: str) -> float:
    number = _number_or_none(obj.get(key))
    if number is None:
        raise malformed(what, f"{key!r} should be a number, got {shown(obj.get(key))}")
    return number


def _optional_number(obj: _Obj, key: str, what: str) -> float | None:
    """A number, ``None`` when null or absent (v4 sends -1 for "use the summary": kept)."""
    return None if obj.get(key) in (None, "") else _number(obj, key, what)


def _id(obj: _Obj, key: str, what: str) -> int:
    """An id; v4 is not known to send them as numbers only, so digit strings are tolerated."""
    try:
        return int_field(obj, key, what, digit_strings=True)
    except ValueError as err:  # a digit string beyond int()'s length limit
        raise malformed(what, f"{key!r} is not an id") from err


def _optional_id(obj: _Obj, key: str, what: str) -> int | None:
    return None if obj.get(key) in (None, "") else _id(obj, key, what)


def _optional_count(obj: _Obj, key: str, what: str) -> int | None:
    number = _optional_number(obj, key, what)
    if number is None:
        return None
    if not number.is_integer():
        raise malformed(what, f"{key!r} should be a count, got {shown(obj.get(key))}")
    return int(number)


def _text(obj: _Obj, key: str, what: str) -> str | None:
    """A string (numbers as text), ``None`` when null, absent or empty."""
    return optional_str_field(obj, key, what) or None


def _list(obj: _Obj, key: str, what: str) -> list[object]:
    """A list, empty when null or absent ("absent keys = no such devices")."""
    value = obj.get(key)
    return [] if value is None else as_list(value, f"{what} ({key})")


def _objects(obj: _Obj, key: str, what: str) -> list[dict[str, object]]:
    return [as_dict(item, f"{what} ({key})") for item in _list(obj, key, what)]


def _flat_objects(obj: _Obj, key: str, what: str) -> list[dict[str, object]]:
    """Objects of a list, one level of nested lists flattened (v4's export example nests them)."""
    items: list[dict[str, object]] = []
    for item in _list(obj, key, what):
        if isinstance(item, list):
            items.extend(as_dict(inner, f"{what} ({key})") for inner in item)
        else:
            items.append(as_dict(item, f"{what} ({key})"))
    return items


def _series(obj: _Obj, key: str, what: str, *, drop_trailing_zeros: bool) -> tuple[float, ...]:
    """A daily Wh series; with ``drop_trailing_zeros``, the days not reported yet dropped."""
    values = []
    for index, item in enumerate(_list(obj, key, what)):
        number = _number_or_none(item)
        if number is None:
            raise malformed(what, f"{key}[{index}] should be a number, got {shown(item)}")
        values.append(number)
    while drop_trailing_zeros and values and values[-1] == 0:
        values.pop()
    return tuple(values)


def _system_id(obj: _Obj, what: str) -> int | None:
    return _optional_id(obj, "system_id", what)


# ---- shared pieces ---------------------------------------------------------------------------


def parse_meta(raw: object, what: str) -> SystemMeta | None:
    """The ``meta`` object; ``None`` when absent."""
    if raw is None:
        return None
    obj = as_dict(raw, f"{what} (meta)")
    return SystemMeta(
        status=_text(obj, "status", what),
        last_report_at=_optional_time(obj, "last_report_at", what),
        last_energy_at=_optional_time(obj, "last_energy_at", what),
        operational_at=_optional_time(obj, "operational_at", what),
    )


def _references(obj: _Obj, what: str) -> tuple[str, ...]:
    refs = []
    for item in _list(obj, "other_references", what):
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise malformed(what, f"'other_references' should list strings, got {shown(item)}")
        refs.append(str(item))
    return tuple(refs)


def _system(obj: _Obj, what: str) -> EnlightenSystem:
    meta = parse_meta(obj.get("meta"), what)
    name = _text(obj, "system_name", what) or _text(obj, "name", what) or ""
    return EnlightenSystem(
        system_id=_id(obj, "system_id", what),
        name=name,
        public_name=_text(obj, "system_public_name", what) or _text(obj, "public_name", what),
        timezone=_text(obj, "timezone", what),
        status=(meta.status if meta is not None and meta.status else None)
        or _text(obj, "status", what),
        country=_text(obj, "country", what),
        state=_text(obj, "state", what),
        city=_text(obj, "city", what),
        postal_code=_text(obj, "postal_code", what),
        connection_type=_text(obj, "connection_type", what),
        reference=_text(obj, "reference", what),
        other_references=_references(obj, what),
        meta=meta,
    )


def _address(obj: dict[str, object], what: str) -> dict[str, object]:
    """v4 nests the location in ``address``; lift its fields beside the others."""
    address = obj.get("address")
    if address is None:
        return obj
    lifted: dict[str, object] = dict(as_dict(address, f"{what} (address)"))
    if "postal_code" not in lifted and "postal" in lifted:
        lifted["postal_code"] = lifted["postal"]
    return {**lifted, **{key: value for key, value in obj.items() if value is not None}}


def parse_summary(raw: object, what: str = "summary") -> SystemSummary:
    """``summary`` of v2 and v4 (v4 adds the battery fields)."""
    obj = as_dict(raw, what)
    return SystemSummary(
        system_id=_id(obj, "system_id", what),
        current_power=_number(obj, "current_power", what),
        energy_today=_number(obj, "energy_today", what),
        energy_lifetime=_number(obj, "energy_lifetime", what),
        last_report_at=_optional_time(obj, "last_report_at", what),
        last_interval_end_at=_optional_time(obj, "last_interval_end_at", what),
        operational_at=_optional_time(obj, "operational_at", what),
        modules=_optional_count(obj, "modules", what),
        size_w=_optional_number(obj, "size_w", what),
        source=_text(obj, "source", what),
        status=_text(obj, "status", what),
        summary_date=parse_day(obj.get("summary_date"), "summary_date", what),
        battery_charge_w=_optional_number(obj, "battery_charge_w", what),
        battery_discharge_w=_optional_number(obj, "battery_discharge_w", what),
        battery_capacity_wh=_optional_number(obj, "battery_capacity_wh", what),
    )


def _intervals(
    items: Iterable[_Obj], energy_keys: tuple[str, ...], what: str
) -> tuple[EnergyInterval, ...]:
    """Intervals sorted by end, a repeated end kept once (the later one)."""
    by_end: dict[datetime, EnergyInterval] = {}
    for item in items:
        key = next((key for key in energy_keys if item.get(key) is not None), energy_keys[0])
        end_at = _time(item, "end_at", what)
        by_end[end_at] = EnergyInterval(
            end_at=end_at,
            energy_wh=_number(item, key, what),
            power_w=_optional_number(item, "powr", what),
            devices_reporting=_optional_count(item, "devices_reporting", what),
        )
    return tuple(by_end[end] for end in sorted(by_end))


def parse_interval_series(
    raw: object, what: str, energy_keys: tuple[str, ...], length: timedelta
) -> IntervalSeries:
    """Any interval answer: ``{"system_id", "total_devices"?, "meta"?, "intervals": [...]}``.

    ``energy_keys`` names the interval's energy field, alternatives after the documented one.
    """
    obj = as_dict(raw, what)
    return IntervalSeries(
        system_id=_system_id(obj, what),
        length=length,
        intervals=_intervals(_flat_objects(obj, "intervals", what), energy_keys, what),
        total_devices=_optional_count(obj, "total_devices", what),
        meta=parse_meta(obj.get("meta"), what),
    )


def empty_series(system_id: int, length: timedelta) -> IntervalSeries:
    """The answer "nothing newer" (v2's 422 past the last interval)."""
    return IntervalSeries(system_id=system_id, length=length, intervals=())


def _daily(obj: _Obj, what: str, key: str, *, production: bool) -> DailyEnergy:
    return DailyEnergy(
        system_id=_system_id(obj, what),
        start_date=parse_day(obj.get("start_date"), "start_date", what),
        values=_series(obj, key, what, drop_trailing_zeros=production),
        meter_start_date=parse_day(obj.get("meter_start_date"), "meter_start_date", what),
        micro_production=_series(obj, "micro_production", what, drop_trailing_zeros=True),
        meter_production=_series(obj, "meter_production", what, drop_trailing_zeros=True),
        meta=parse_meta(obj.get("meta"), what),
    )


def parse_energy_lifetime(raw: object, what: str = "energy_lifetime") -> DailyEnergy:
    """``energy_lifetime`` of v2 and v4: the merged ``production`` series.

    With ``production=all`` also the micro and meter series.
    """
    return _daily(as_dict(raw, what), what, "production", production=True)


# ---- v2 --------------------------------------------------------------------------------------


def parse_systems_page(raw: object) -> tuple[list[EnlightenSystem], str | None]:
    """One page of v2 ``systems``: the systems and the ``next`` cursor (``None`` at the end)."""
    what = "systems"
    obj = as_dict(raw, what)
    systems = [_system(item, what) for item in _objects(obj, "systems", what)]
    return systems, _text(obj, "next", what)


def parse_stats(raw: object) -> IntervalSeries:
    """v2 ``stats``: 5-minute microinverter intervals (``enwh``, ``powr``)."""
    return parse_interval_series(raw, "stats", ("enwh",), FIVE_MINUTES)


def parse_rgm_stats(raw: object) -> IntervalSeries:
    """v2 ``rgm_stats``: 15-minute revenue-grade meter intervals (``wh_del``)."""
    return parse_interval_series(raw, "rgm_stats", ("wh_del", "enwh"), FIFTEEN_MINUTES)


def _device(
    obj: _Obj, what: str, *, serial_keys: tuple[str, ...] = ("serial_number", "sn")
) -> Device:
    serial = next((text for key in serial_keys if (text := _text(obj, key, what))), None)
    if serial is None:
        raise malformed(what, f"a device without serial number: keys {sorted(obj)[:10]}")
    active = obj.get("active")
    return Device(
        serial_number=serial,
        device_id=_optional_id(obj, "envoy_id", what) or _optional_id(obj, "id", what),
        name=_text(obj, "name", what),
        model=_text(obj, "model", what),
        part_number=_text(obj, "part_number", what) or _text(obj, "sku", what),
        manufacturer=_text(obj, "manufacturer", what),
        status=_text(obj, "status", what),
        last_report_at=_optional_time(obj, "last_report_at", what),
        config_type=_text(obj, "config_type", what),
        measurement_type=_text(obj, "measurement_type", what),
        active=active if isinstance(active, bool) else None,
    )


def parse_envoys(raw: object) -> tuple[Device, ...]:
    """v2 ``envoys``: the system's active Envoys."""
    what = "envoys"
    obj = as_dict(raw, what)
    return tuple(_device(item, what) for item in _objects(obj, "envoys", what))


def parse_inventory(raw: object) -> SystemDevices:
    """v2 ``inventory``; a device kind the system lacks is absent from the answer."""
    what = "inventory"
    obj = as_dict(raw, what)
    return SystemDevices(
        system_id=_system_id(obj, what),
        micros=tuple(_device(item, what) for item in _objects(obj, "inverters", what)),
        meters=tuple(_device(item, what) for item in _objects(obj, "meters", what)),
        gateways=tuple(_device(item, what) for item in _objects(obj, "envoys", what)),
    )


def merge_envoys(inventory: SystemDevices, envoys: tuple[Device, ...]) -> SystemDevices:
    """The inventory with its gateways taken from ``envoys`` (which have status and reports)."""
    known = {envoy.serial_number for envoy in envoys}
    rest = tuple(device for device in inventory.gateways if device.serial_number not in known)
    return SystemDevices(
        system_id=inventory.system_id,
        micros=inventory.micros,
        meters=inventory.meters,
        gateways=envoys + rest,
    )


def parse_monthly_production(raw: object) -> MonthlyProduction:
    """v2 ``monthly_production`` (deprecated)."""
    what = "monthly_production"
    obj = as_dict(raw, what)
    return MonthlyProduction(
        system_id=_id(obj, "system_id", what),
        start_date=parse_day(obj.get("start_date"), "start_date", what),
        end_date=parse_day(obj.get("end_date"), "end_date", what),
        production_wh=_number(obj, "production_wh", what),
        meter_readings=tuple(
            MeterReading(
                serial_number=_text(item, "serial_number", what) or "",
                start=_number(item, "start", what),
                end=_number(item, "end", what),
            )
            for item in _objects(obj, "meter_readings", what)
        ),
        meta=parse_meta(obj.get("meta"), what),
    )


# ---- v4 --------------------------------------------------------------------------------------


def parse_v4_systems_page(raw: object) -> tuple[list[EnlightenSystem], int | None]:
    """One page of v4 ``systems``: the systems and ``total`` (``None`` when not sent)."""
    what = "systems"
    obj = as_dict(raw, what)
    systems = [_system(_address(item, what), what) for item in _objects(obj, "systems", what)]
    return systems, _optional_count(obj, "total", what)


_DEVICE_GROUPS: Final = ("micros", "meters", "gateways", "q_relays", "acbs", "encharges")


def parse_devices(raw: object) -> SystemDevices:
    """v4 ``devices``: groups in ``devices`` (or, tolerated, at the top level)."""
    what = "devices"
    obj = as_dict(raw, what)
    groups: _Obj = as_dict(obj["devices"], what) if isinstance(obj.get("devices"), dict) else obj
    found = {
        group: tuple(_device(item, f"{what} ({group})") for item in _objects(groups, group, what))
        for group in _DEVICE_GROUPS
    }
    # An older spelling of the IQ Gateways, tolerated.
    if not found["gateways"]:
        found["gateways"] = tuple(_device(item, what) for item in _objects(groups, "envoys", what))
    return SystemDevices(system_id=_system_id(obj, what), **found)


def parse_production_micro(raw: object) -> IntervalSeries:
    """v4 ``telemetry/production_micro``: 5-minute intervals (``enwh``, ``powr``)."""
    return parse_interval_series(raw, "telemetry/production_micro", ("enwh",), FIVE_MINUTES)


def parse_production_meter(raw: object) -> IntervalSeries:
    """v4 ``telemetry/production_meter``: 15-minute intervals (``wh_del``)."""
    return parse_interval_series(
        raw, "telemetry/production_meter", ("wh_del", "enwh"), FIFTEEN_MINUTES
    )


def parse_consumption_meter(raw: object) -> IntervalSeries:
    """v4 ``telemetry/consumption_meter``: 15-minute intervals (``enwh``)."""
    return parse_interval_series(
        raw, "telemetry/consumption_meter", ("enwh", "wh_del"), FIFTEEN_MINUTES
    )


def parse_energy_import(raw: object) -> IntervalSeries:
    """v4 ``energy_import_telemetry``: 15-minute intervals (``wh_imported``)."""
    return parse_interval_series(
        raw, "energy_import_telemetry", ("wh_imported", "enwh"), FIFTEEN_MINUTES
    )


def parse_energy_export(raw: object) -> IntervalSeries:
    """v4 ``energy_export_telemetry``: 15-minute intervals (``wh_exported``), nesting tolerated."""
    return parse_interval_series(
        raw, "energy_export_telemetry", ("wh_exported", "enwh"), FIFTEEN_MINUTES
    )


def _nested_number(obj: _Obj, key: str, inner: str, what: str) -> float | None:
    """``obj[key][inner]`` (``{"charge": {"enwh": 5}}``), or ``obj[key]`` when a plain number."""
    value = obj.get(key)
    if value is None or isinstance(value, int | float | str):
        return _optional_number(obj, key, what)
    return _optional_number(as_dict(value, f"{what} ({key})"), inner, what)


def parse_battery_telemetry(raw: object) -> BatterySeries:
    """v4 ``telemetry/battery``: 15-minute charge, discharge and state of charge."""
    what = "telemetry/battery"
    obj = as_dict(raw, what)
    by_end: dict[datetime, BatteryInterval] = {}
    for item in _flat_objects(obj, "intervals", what):
        end_at = _time(item, "end_at", what)
        by_end[end_at] = BatteryInterval(
            end_at=end_at,
            charge_wh=_nested_number(item, "charge", "enwh", what),
            discharge_wh=_nested_number(item, "discharge", "enwh", what),
            soc_percent=_nested_number(item, "soc", "percent", what),
            devices_reporting=_optional_count(item, "devices_reporting", what),
        )
    return BatterySeries(
        system_id=_system_id(obj, what),
        length=FIFTEEN_MINUTES,
        intervals=tuple(by_end[end] for end in sorted(by_end)),
    )


def parse_daily_series(raw: object, what: str, *keys: str) -> DailyEnergy:
    """A v4 ``*_lifetime`` daily series, the values under the first of ``keys`` present.

    Zeros are kept: a day without grid import or battery use is real (the "trailing zeros = not
    reported" rule is the production series'); ``meta.last_energy_at`` says what was reported.
    """
    obj = as_dict(raw, what)
    key = next((key for key in keys if key in obj), keys[0])
    return _daily(obj, what, key, production=False)


def parse_battery_lifetime(raw: object) -> tuple[DailyEnergy, DailyEnergy]:
    """v4 ``battery_lifetime``: the daily ``charge`` and ``discharge`` series."""
    what = "battery_lifetime"
    return (
        parse_daily_series(raw, what, "charge"),
        parse_daily_series(raw, what, "discharge"),
    )


def parse_latest_telemetry(raw: object) -> LatestTelemetry:
    """v4 ``latest_telemetry``: ``{"devices": {"meters": [...], "encharges": [...]}}``."""
    what = "latest_telemetry"
    obj = as_dict(raw, what)
    groups = as_dict(obj.get("devices") or {}, f"{what} (devices)")
    readings = []
    for group in sorted(groups):
        for item in _objects(groups, group, what):
            readings.append(
                LatestReading(
                    group=group,
                    name=_text(item, "name", what),
                    channel=_optional_count(item, "channel", what),
                    serial_number=_text(item, "serial_number", what),
                    power_w=_optional_number(item, "power", what),
                    last_report_at=_optional_time(item, "last_report_at", what),
                    soc_percent=_nested_number(item, "soc", "percent", what),
                )
            )
    return LatestTelemetry(system_id=_system_id(obj, what), readings=tuple(readings))
