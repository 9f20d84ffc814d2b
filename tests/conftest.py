"""Shared fixtures: our integration loaded instead of the plugin's ``custom_components``; HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import fields, is_dataclass
import logging
import re
import secrets
from types import ModuleType
from typing import Any
from unittest.mock import PropertyMock, patch

import aiohttp
import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

import custom_components.solarhub  # noqa: F401  (import before Home Assistant's loader looks)
from tests.simulators import plenticore as plenticore_simulator, tigo as tigo_simulator


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


# -- private logs ---------------------------------------------------------------------------------

# Fields of a simulator's config that must never reach a log line (any vendor's simulator).
PRIVATE_FIELDS = frozenset(
    {"password", "master_key", "service_code", "username", "email", "user_id", "api_key"}
    | {"client_secret", "v4_api_key"}  # Enlighten v4: the app's secret and key
)
SIMULATOR_MODULES: tuple[ModuleType, ...] = (plenticore_simulator, tigo_simulator)
DEFAULT_CONFIGS = (plenticore_simulator.PlenticoreConfig(), tigo_simulator.TigoConfig())
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
WATCHED_LOGGERS = ("custom_components.solarhub", "homeassistant")


class _IssuedSecrets:
    """The simulators' ``secrets`` module, remembering every token and session id it hands out."""

    def __init__(self, issued: set[str]) -> None:
        self._issued = issued

    def __getattr__(self, name: str) -> Any:
        return getattr(secrets, name)

    def token_hex(self, nbytes: int | None = None) -> str:
        return self._remember(secrets.token_hex(nbytes))

    def token_urlsafe(self, nbytes: int | None = None) -> str:
        return self._remember(secrets.token_urlsafe(nbytes))

    def _remember(self, value: str) -> str:
        self._issued.add(value)
        return value


class _Records(logging.Handler):
    """Keeps every record; formatting waits until the test is over."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _private_values(config: object) -> set[str]:
    if not is_dataclass(config) or isinstance(config, type):
        return set()
    values = (getattr(config, f.name) for f in fields(config) if f.name in PRIVATE_FIELDS)
    return {str(v) for v in values if v is not None and len(str(v)) >= 4}


def _leak_pattern(request: pytest.FixtureRequest, issued: set[str]) -> re.Pattern[str]:
    private = set(issued)
    for value in (*DEFAULT_CONFIGS, *request.node.funcargs.values()):
        private |= _private_values(value) | _private_values(getattr(value, "config", None))
    words = "|".join(re.escape(v) for v in sorted(private, key=len, reverse=True))
    return re.compile(rf"(?<![0-9A-Za-z])(?:{words})(?![0-9A-Za-z])|{EMAIL}")


def _text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


@pytest.fixture(autouse=True)
def private_logs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log at DEBUG; after the test no record may carry a credential, token, e-mail or user id.

    The secrets are the simulators' configured credentials and identities (defaults and the
    test's own configs) and every token and session id the simulators issued during the test.
    """
    issued: set[str] = set()
    for module in SIMULATOR_MODULES:
        monkeypatch.setattr(module, "secrets", _IssuedSecrets(issued))
    handler = _Records()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    pattern = _leak_pattern(request, issued)
    leaks = [
        f"{record.name}: {match.group()!r} in {_text(record)[:300]!r}"
        for record in handler.records
        if (match := pattern.search(_text(record)))
    ]
    if leaks:
        pytest.fail(f"{len(leaks)} log records carry private data:\n" + "\n".join(leaks[:20]))
