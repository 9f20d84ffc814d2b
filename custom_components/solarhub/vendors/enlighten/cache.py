"""The systems list and each system's devices as JSON, for the key's Store (pure).

A restart then costs no request to learn what the account knew; anything unreadable in the
store is treated as not cached (the planner fetches it again).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from ...api.enlighten.models import Device, EnlightenSystem, SystemDevices, SystemMeta

_DEVICE_GROUPS = ("micros", "meters", "gateways", "q_relays", "acbs", "encharges")


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return _json_dict(value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def _json_dict(value: dict[str, Any]) -> dict[str, Any]:
    return {key: _jsonable(item) for key, item in value.items()}


def system_to_json(system: EnlightenSystem) -> dict[str, Any]:
    """A system of the systems list as JSON."""
    return _json_dict(asdict(system))


def system_from_json(data: object) -> EnlightenSystem | None:
    """A cached system, or None when the entry is unusable."""
    if not isinstance(data, dict):
        return None
    try:
        meta = data.get("meta")
        return EnlightenSystem(
            system_id=int(data["system_id"]),
            name=str(data["name"]),
            public_name=data.get("public_name"),
            timezone=data.get("timezone"),
            status=data.get("status"),
            country=data.get("country"),
            state=data.get("state"),
            city=data.get("city"),
            postal_code=data.get("postal_code"),
            connection_type=data.get("connection_type"),
            reference=data.get("reference"),
            other_references=tuple(data.get("other_references") or ()),
            meta=None
            if not isinstance(meta, dict)
            else SystemMeta(
                status=meta.get("status"),
                last_report_at=_when(meta.get("last_report_at")),
                last_energy_at=_when(meta.get("last_energy_at")),
                operational_at=_when(meta.get("operational_at")),
            ),
        )
    except KeyError, TypeError, ValueError:
        return None


def devices_to_json(devices: SystemDevices) -> dict[str, Any]:
    """A system's devices as JSON."""
    return _json_dict(asdict(devices))


def _device(data: object) -> Device | None:
    if not isinstance(data, dict) or not isinstance(data.get("serial_number"), str):
        return None
    known = {field.name for field in fields(Device)}
    values = {key: value for key, value in data.items() if key in known}
    values["last_report_at"] = _when(values.get("last_report_at"))
    try:
        return Device(**values)
    except TypeError:
        return None


def devices_from_json(data: object) -> SystemDevices | None:
    """Cached devices, or None when the entry is unusable."""
    if not isinstance(data, dict):
        return None
    groups: dict[str, tuple[Device, ...]] = {}
    for group in _DEVICE_GROUPS:
        items = data.get(group) or []
        if not isinstance(items, list):
            return None
        groups[group] = tuple(d for item in items if (d := _device(item)) is not None)
    system_id = data.get("system_id")
    return SystemDevices(system_id=system_id if isinstance(system_id, int) else None, **groups)
