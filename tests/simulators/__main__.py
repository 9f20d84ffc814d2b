"""Run a vendor simulator on 127.0.0.1 until Ctrl-C / SIGTERM.

Usage: ``python -m tests.simulators plenticore [--port N] [--password P] [--master-key K] ...``
or ``python -m tests.simulators tigo [--port N] [--username U] [--password P] [--no-premium] ...``
or ``python -m tests.simulators enlighten [--port N] [--api-key K] [--user-id U] ...``.
Each vendor is one sub-command, registered in ``VENDORS`` with its options and a start function.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import signal
import sys
from typing import Protocol

from tests.simulators import SimClock
from tests.simulators.enlighten import EnlightenConfig, EnlightenSimulator
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator
from tests.simulators.tigo import TigoConfig, TigoSimulator


class Running(Protocol):
    """A started simulator."""

    async def stop(self) -> None:
        """Stop serving."""


@dataclass(frozen=True, slots=True)
class Vendor:
    """One sub-command: its help text, its options and how to start it (returns it and a banner)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    start: Callable[[argparse.Namespace], Awaitable[tuple[Running, list[str]]]]


def _plenticore_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = PlenticoreConfig()
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    parser.add_argument("--password", default=defaults.password, help="owner password")
    parser.add_argument("--master-key", default=defaults.master_key, help="installer Master Key")
    parser.add_argument("--service-code", default=defaults.service_code, help="installer code")
    parser.add_argument("--strings", type=int, default=defaults.string_count, help="DC strings")
    parser.add_argument("--no-battery", action="store_true", help="an inverter without battery")
    parser.add_argument(
        "--legacy-hostname", action="store_true", help="old firmware: 'Hostname' setting"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="run the simulated clock this many times faster"
    )


async def _start_plenticore(args: argparse.Namespace) -> tuple[Running, list[str]]:
    config = PlenticoreConfig(
        password=args.password,
        master_key=args.master_key,
        service_code=args.service_code,
        string_count=args.strings,
        has_battery=not args.no_battery,
        legacy_hostname=args.legacy_hostname,
        history_days=datetime.now(UTC).timetuple().tm_yday - 1,  # since 1 January
    )
    simulator = PlenticoreSimulator(config, SimClock.real(speed=args.speed))
    await simulator.start(args.port)
    banner = [
        f"KOSTAL PLENTICORE simulator on {simulator.url} (API {simulator.url}/api/v1)",
        f"  owner:     user 'user', password {config.password!r}",
        f"  installer: user 'master', Master Key {config.master_key!r}, "
        f"service code {config.service_code!r}",
    ]
    return simulator, banner


def _tigo_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TigoConfig()
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    parser.add_argument("--username", default=defaults.username, help="account e-mail")
    parser.add_argument("--password", default=defaults.password, help="account password")
    parser.add_argument(
        "--no-premium", action="store_true", help="an account without Premium: login answers 403"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=defaults.rate_limit,
        help="requests per hour and account before 429",
    )
    parser.add_argument(
        "--token-minutes",
        type=float,
        default=defaults.token_lifetime.total_seconds() / 60,
        help="lifetime of a login token in minutes",
    )
    parser.add_argument(
        "--upload-lag",
        type=float,
        default=defaults.upload_lag.total_seconds() / 60,
        help="minutes before minute data becomes visible",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=defaults.history_days,
        help="days of data before the start",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="run the simulated clock this many times faster"
    )


async def _start_tigo(args: argparse.Namespace) -> tuple[Running, list[str]]:
    config = TigoConfig(
        username=args.username,
        password=args.password,
        premium=not args.no_premium,
        rate_limit=args.rate_limit,
        token_lifetime=timedelta(minutes=args.token_minutes),
        upload_lag=timedelta(minutes=args.upload_lag),
        history_days=args.history_days,
    )
    simulator = TigoSimulator(config, SimClock.real(speed=args.speed))
    await simulator.start(args.port)
    premium = "Premium" if config.premium else "no Premium: login answers 403"
    systems = ", ".join(
        f"{s.system_id} {s.name!r} ({s.panel_count} panels)" for s in simulator.systems
    )
    banner = [
        f"Tigo Energy cloud API v3 simulator on {simulator.url} (API {simulator.base_url})",
        f"  account:   user {config.username!r}, password {config.password!r} ({premium})",
        f"  systems:   {systems}",
    ]
    return simulator, banner


def _enlighten_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = EnlightenConfig()
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    parser.add_argument("--api-key", default=defaults.api_key, help="v2 API key")
    parser.add_argument("--user-id", default=defaults.user_id, help="v2 user id")
    parser.add_argument(
        "--minute-limit", type=int, default=None, help="requests per minute and key (v2 and v4)"
    )
    parser.add_argument(
        "--month-limit", type=int, default=None, help="requests per month and key (v2 and v4)"
    )
    parser.add_argument("--client-id", default=defaults.client_id, help="v4 OAuth2 client id")
    parser.add_argument(
        "--client-secret", default=defaults.client_secret, help="v4 OAuth2 client secret"
    )
    parser.add_argument("--v4-api-key", default=defaults.v4_api_key, help="v4 application key")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="run the simulated clock this many times faster"
    )


async def _start_enlighten(args: argparse.Namespace) -> tuple[Running, list[str]]:
    defaults = EnlightenConfig()
    config = EnlightenConfig(
        api_key=args.api_key,
        user_id=args.user_id,
        minute_limit=args.minute_limit or defaults.minute_limit,
        month_limit=args.month_limit or defaults.month_limit,
        v4_minute_limit=args.minute_limit or defaults.v4_minute_limit,
        v4_month_limit=args.month_limit or defaults.v4_month_limit,
        client_id=args.client_id,
        client_secret=args.client_secret,
        v4_api_key=args.v4_api_key,
    )
    simulator = EnlightenSimulator(config, SimClock.real(speed=args.speed))
    await simulator.start(args.port)
    systems = ", ".join(
        f"{s.system_id} {s.spec.name!r} ({s.spec.connection_type})"
        for s in simulator.systems.values()
    )
    banner = [
        f"Enphase Enlighten simulator on {simulator.url} (API v2 {simulator.base_url})",
        f"  v2:      key {config.api_key!r}, user_id {config.user_id!r}, "
        f"{config.minute_limit}/min, {config.month_limit}/month",
        f"  v4:      {simulator.url}/api/v4, key {config.v4_api_key!r}, OAuth2 "
        f"{simulator.url}/oauth/authorize + /oauth/token, client {config.client_id!r} / "
        f"{config.client_secret!r}, {config.v4_minute_limit}/min, {config.v4_month_limit}/month",
        f"  systems: {systems}",
    ]
    return simulator, banner


VENDORS: dict[str, Vendor] = {
    "plenticore": Vendor(
        help="KOSTAL PLENTICORE plus / PIKO IQ local REST API",
        add_arguments=_plenticore_arguments,
        start=_start_plenticore,
    ),
    "tigo": Vendor(
        help="Tigo Energy cloud REST API v3",
        add_arguments=_tigo_arguments,
        start=_start_tigo,
    ),
    "enlighten": Vendor(
        help="Enphase Enlighten Systems API v2 and Monitoring API v4 (OAuth2)",
        add_arguments=_enlighten_arguments,
        start=_start_enlighten,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per vendor."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulators",
        description="Serve a vendor simulator on 127.0.0.1 until Ctrl-C or SIGTERM.",
    )
    commands = parser.add_subparsers(dest="vendor", required=True, metavar="VENDOR")
    for name, vendor in VENDORS.items():
        vendor.add_arguments(commands.add_parser(name, help=vendor.help))
    return parser


async def serve(args: argparse.Namespace) -> None:
    """Start the chosen simulator and keep it up until SIGINT or SIGTERM."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    running, banner = await VENDORS[args.vendor].start(args)
    try:
        print("\n".join([*banner, "Press Ctrl-C to stop."]), flush=True)
        await stopping.wait()
    finally:
        await running.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m tests.simulators``."""
    args = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
