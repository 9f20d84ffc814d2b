"""Fixtures the simulator tests share (the HTTP session ``http`` comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.constants import NOON
from tests.simulators import SimClock


@pytest.fixture
def clock() -> SimClock:
    """A clock standing at :data:`NOON` until a test moves it."""
    return SimClock.fixed(NOON)
