"""Shared fixtures: our integration loaded in place of the plugin's own ``custom_components``."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

import custom_components.solarhub  # noqa: F401  (import before Home Assistant's loader looks)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: Any) -> Generator[None]:
    """Let Home Assistant load custom_components/solarhub in every test."""
    return (yield)


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: Any) -> None:
    """Simulators listen on 127.0.0.1; connections anywhere else stay blocked by the plugin."""
