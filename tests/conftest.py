"""Shared fixtures: our integration loaded instead of the plugin's ``custom_components``; HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import Any
from unittest.mock import PropertyMock, patch

import aiohttp
import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

import custom_components.solarhub  # noqa: F401  (import before Home Assistant's loader looks)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load custom_components/solarhub in every test.

    A test that wants the recorder gets it first: it must exist before ``hass`` is created.
    """
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: Any) -> None:
    """Simulators listen on 127.0.0.1; connections anywhere else stay blocked by the plugin."""


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client session, for tests that talk to simulators or canned servers."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, as Home Assistant core's own test fixture does."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (registry ids and times left out)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
