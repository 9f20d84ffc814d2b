"""The demo's bootstrap: which entries it counts as present, and what its banner shows."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType
from typing import Any

import pytest


def _load() -> ModuleType:
    path = Path(__file__).parents[1] / "scripts" / "develop_bootstrap.py"
    spec = importlib.util.spec_from_file_location("develop_bootstrap", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bootstrap = _load()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("PLENTICORE plus (scb)", "plenticore"),
        ("Tigo Home, Garage", "tigo"),
        ("Enlighten Sonnenhof", "enlighten"),
        ("Enlighten Weinberg, Sonnenhof", "enlighten"),
    ],
)
def test_vendor_is_told_by_the_title_our_flows_give(title: str, expected: str) -> None:
    """An Enlighten or Tigo entry must not count as the PLENTICORE, or that is never re-added."""
    assert bootstrap.vendor({"title": title}) == expected


def _sensor(entity_id: str, model: str, state: str, device_class: str | None) -> dict[str, Any]:
    attributes = {"device_class": device_class} if device_class else {}
    return {"entity_id": entity_id, "model": model, "state": state, "attributes": attributes}


def test_enlighten_examples_are_the_systems_power_solar_first() -> None:
    account = "Enlighten API account"
    sensors = [
        _sensor("sensor.enlighten_sonnenhof_requests_this_month", account, "13", None),
        _sensor("sensor.enlighten_sonnenhof_next_poll", account, "unknown", "timestamp"),
        _sensor("sensor.sonnenhof_battery_power", "Enlighten system", "-884", "power"),
        _sensor("sensor.sonnenhof_solar_power", "Enlighten system", "600", "power"),
    ]
    assert [s["entity_id"] for s in bootstrap.examples(sensors)] == [
        "sensor.sonnenhof_solar_power",
        "sensor.sonnenhof_battery_power",
    ]


def test_banner_shows_no_unit_after_a_state_that_is_not_a_reading() -> None:
    sensor = _sensor("sensor.weinberg_battery_state_of_charge", "x", "unavailable", "battery")
    sensor["attributes"]["unit_of_measurement"] = "%"
    sensor["entry_id"] = "e1"
    lines = bootstrap.describe([{"entry_id": "e1", "title": "Enlighten Weinberg"}], [sensor])
    assert lines[-1] == "    sensor.weinberg_battery_state_of_charge: unavailable"
