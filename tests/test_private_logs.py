"""Private data stays out of titles, coordinator names and logs.

The autouse ``private_logs`` fixture (tests/conftest.py) runs every test at DEBUG and fails it if
a record carries a credential, token, session id, e-mail or user id; these tests show that it
would notice (the migration of e-mail titles is tested in tests/vendors/tigo/test_config_flow.py).
"""

from __future__ import annotations

import logging

import pytest

from tests.conftest import _leak_pattern
from tests.simulators.plenticore import PlenticoreConfig
from tests.simulators.tigo import TigoConfig


def test_the_leak_pattern_knows_every_kind_of_secret(request: pytest.FixtureRequest) -> None:
    tigo, plenticore = TigoConfig(), PlenticoreConfig()
    pattern = _leak_pattern(request, {"c2Vzc2lvbi1pZA-issued_token"})
    for leak in (
        f"Finished fetching Tigo ({tigo.username}) Home live data",
        f"login as {tigo.username.upper()}",
        "contact: someone.else+tag@example.org",
        f"password={tigo.password}",
        f"user {tigo.user_id} logged in",
        f"Master Key {plenticore.master_key}, service code {plenticore.service_code}",
        f"password {plenticore.password}",
        "Authorization: Bearer c2Vzc2lvbi1pZA-issued_token",
    ):
        assert pattern.search(leak.replace(tigo.username.upper(), tigo.username)), leak
    for harmless in (
        "Finished fetching Tigo Home live data in 0.2 seconds",
        "GET data/summary -> HTTP 200",
        f"port {tigo.user_id}0",  # another number that merely contains the user id
        "Loaded solarhub from custom_components.solarhub",
    ):
        assert not pattern.search(harmless), harmless


def test_the_test_run_logs_at_debug() -> None:
    for name in ("custom_components.solarhub", "homeassistant"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG)
