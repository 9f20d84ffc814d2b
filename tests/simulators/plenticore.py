"""Simulator of the KOSTAL PLENTICORE plus / PIKO IQ local REST API (base path ``/api/v1``).

It implements the server side of the protocol on its own (SCRAM-SHA-256 login finished by one
AES-256-GCM step, sessions with roles, process data, settings with per-role access, events) so that
tests of the client exercise the real wire format, and it simulates a plausible installation on a
:class:`SimClock`.

Sign conventions (as on real units):

- ``devices:local`` ``Grid_P`` > 0 means power drawn *from* the grid (import), < 0 means feed-in.
- ``devices:local:battery`` ``P`` (and ``I``) > 0 means discharging, < 0 means charging.
- ``devices:local:ac`` ``P`` is the inverter's AC output; it turns negative only while the battery
  is charged from the grid (``Battery:ManualCharge``).
- ``HomeOwn_P`` = ``HomePv_P`` + ``HomeBat_P`` (the home's consumption covered by the installation).
- ``Statistic:Yield`` is the inverter's AC output (PV to home + battery to home + feed-in), so
  feed-in energy = Yield - EnergyHomePv - EnergyHomeBat, as users of real units compute it.

Energy is conserved, counter by counter (``EnergyDischargeGrid`` is always 0 here):

- on the DC side, the strings' energy = ``EnergyChargePv`` + (PV's AC share) / efficiency, where
  PV's AC share = ``EnergyHomePv`` + PV feed-in = ``Yield`` - ``EnergyHomeBat``;
- ``EnergyHome`` = ``EnergyHomePv`` + ``EnergyHomeBat`` + ``EnergyHomeGrid``; grid import =
  ``EnergyHomeGrid`` + ``EnergyChargeGrid`` (AC, what the grid delivered);
- ``EnergyDischarge`` is what the battery delivered on the AC side (= ``EnergyHomeBat`` +
  ``EnergyDischargeGrid``); the battery's content changes by ``EnergyChargePv`` +
  ``EnergyChargeGrid`` x efficiency - ``EnergyDischarge`` / efficiency and stays within
  [0, capacity];
- the lifetime (Total) counters include the charge of what the battery held when the simulation
  began (as PV energy charged before), so the battery never delivered more than it was charged.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import hashlib
import hmac
import math
import secrets
from typing import TYPE_CHECKING, Any, ClassVar, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.constants import PLENTICORE_MASTER_KEY, PLENTICORE_PASSWORD, PLENTICORE_SERVICE_CODE

from . import SimClock
from .server import ApiError, LoopbackSimulator, truncated_json
from .sun import Sky, seed_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aiohttp.typedefs import Handler

__all__ = [
    "EFFICIENCY",
    "FAULT_KINDS",
    "PlenticoreConfig",
    "PlenticoreSimulator",
    "ScramCredentials",
    "SimClock",
    "auth_message",
    "decrypt_payload",
    "derive_credentials",
    "protocol_key",
    "recover_client_key",
    "server_signature",
]

API: Final = "/api/v1"
FAULT_KINDS: Final = frozenset({"timeout", "401", "503", "500", "malformed"})

# --------------------------------------------------------------------------------------------------
# SCRAM-SHA-256, server side (pure functions, checked against the vendor notes' test vector)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScramCredentials:
    """What the inverter stores per user: never the password itself."""

    salt: bytes
    rounds: int
    stored_key: bytes
    server_key: bytes


def derive_credentials(password: str, salt: bytes, rounds: int) -> ScramCredentials:
    """Derive StoredKey and ServerKey from a password (PBKDF2-HMAC-SHA256)."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds, 32)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return ScramCredentials(salt, rounds, hashlib.sha256(client_key).digest(), server_key)


def auth_message(
    username: str, client_nonce: str, server_nonce: str, salt: str, rounds: int
) -> bytes:
    """The SCRAM AuthMessage; nonces and salt as the base64 text that travelled on the wire."""
    return (
        f"n={username},r={client_nonce},r={server_nonce},s={salt},i={rounds},c=biws,r={server_nonce}"
    ).encode()


def recover_client_key(creds: ScramCredentials, message: bytes, proof: bytes) -> bytes | None:
    """ClientKey = proof XOR HMAC(StoredKey, AuthMessage); None unless its SHA256 is StoredKey."""
    signature = hmac.digest(creds.stored_key, message, "sha256")
    if len(proof) != len(signature):
        return None
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    if not hmac.compare_digest(hashlib.sha256(client_key).digest(), creds.stored_key):
        return None
    return client_key


def server_signature(creds: ScramCredentials, message: bytes) -> bytes:
    """The signature proving to the client that the server knows its ServerKey."""
    return hmac.digest(creds.server_key, message, "sha256")


def protocol_key(creds: ScramCredentials, message: bytes, client_key: bytes) -> bytes:
    """The AES-256 key of the create_session step."""
    return hmac.digest(creds.stored_key, b"Session Key" + message + client_key, "sha256")


def decrypt_payload(key: bytes, iv: bytes, tag: bytes, payload: bytes) -> bytes | None:
    """AES-256-GCM decryption without associated data (any IV length); None if it fails."""
    try:
        return AESGCM(key).decrypt(iv, payload + tag, None)
    except InvalidTag, ValueError:
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


@dataclass
class PlenticoreConfig:
    """The simulated inverter: credentials, identity, firmware quirks and the installation."""

    password: str = PLENTICORE_PASSWORD
    master_key: str = PLENTICORE_MASTER_KEY
    service_code: str = PLENTICORE_SERVICE_CODE
    rounds: int = 29000
    serial: str = "90342ABC00123"
    product_name1: str = "PLENTICORE plus"
    product_name2: str = "10"
    sw_version: str = "01.26.09454"
    api_version: str = "0.2.0"
    version_ioc: str = "01.46"
    version_mc: str = "01.61"
    hostname: str = "scb"
    has_battery: bool = True
    # Older firmware: scb:network's hostname setting is "Hostname" (no "Network:Hostname").
    legacy_hostname: bool = False
    string_count: int = 3
    lock_after: int = 5  # failed logins in a row before /auth/start answers 403 for that user
    lock_seconds: float = 600.0  # simulated time the lock lasts
    timezone: str = "Europe/Berlin"
    # Firmware 02.20+/G3: GET /settings/{module}/{a,b} with several ids answers 500.
    multi_get_500: bool = True
    hang_seconds: float = 30.0  # wall time a "timeout" fault holds the request
    latitude: float = 51.0
    longitude: float = 10.0
    peak_power_w: float = 10_000.0  # kWp of the PV generator, shared by the strings
    battery_capacity_wh: float = 10_000.0
    battery_max_power_w: float = 5_000.0
    battery_soc: float = 50.0  # state of charge at the local midnight the simulation starts from
    battery_cycles: float = 120.0  # full cycles before the simulation started
    # Days simulated before the start day, so month, year and lifetime counters differ from the
    # day's; 0 keeps start-up instant (tests), the runner simulates since 1 January.
    history_days: int = 0

    def __post_init__(self) -> None:
        """Refuse configurations no inverter could have."""
        if not 1 <= self.string_count <= 9:
            raise ValueError("string_count must be between 1 and 9")
        if self.rounds < 1 or self.lock_after < 1:
            raise ValueError("rounds and lock_after must be positive")
        ZoneInfo(self.timezone)


# --------------------------------------------------------------------------------------------------
# The installation: instantaneous power flows and energy counters on the simulated clock
# --------------------------------------------------------------------------------------------------

EFFICIENCY: Final = 0.97  # DC/AC conversion efficiency
_STEP_SECONDS: Final = 60.0  # integration step
_MAX_STEPS: Final = 20_000  # per clock jump; larger jumps integrate in coarser steps
_PERIODS: Final = ("Day", "Month", "Year", "Total")
_STRING_ORIENTATION: Final = (-1.0, 1.0, 0.0, -0.5, 0.5)  # east (-) / west (+) tilt of each string

STATE_FEED_IN: Final = 6
STATE_STANDBY: Final = 10


@dataclass(frozen=True, slots=True)
class _Flows:
    """Power flows at one instant in W; ``grid_to_bat`` on the AC side, the battery's on DC."""

    strings: tuple[float, ...]
    string_volts: tuple[float, ...]
    home: float
    home_pv: float
    home_bat: float
    home_grid: float
    pv_to_bat: float
    grid_to_bat: float
    discharge: float
    feed_in: float

    @property
    def dc(self) -> float:
        return sum(self.strings)

    @property
    def grid(self) -> float:
        """Grid_P: > 0 import, < 0 feed-in."""
        return self.home_grid + self.grid_to_bat - self.feed_in

    @property
    def battery(self) -> float:
        """Battery P: > 0 discharge, < 0 charge."""
        return self.discharge - self.pv_to_bat - self.grid_to_bat * EFFICIENCY

    @property
    def ac_output(self) -> float:
        """Everything the inverter delivers on its AC side."""
        return self.home_pv + self.home_bat + self.feed_in

    @property
    def running(self) -> bool:
        return self.dc > 5.0 or self.discharge > 0.0 or self.grid_to_bat > 0.0


def _gauss(x: float, mu: float, sigma: float) -> float:
    return math.exp(-0.5 * ((x - mu) / sigma) ** 2)


class _Counters:
    """Energy counters per period; Day/Month/Year restart at local midnight / month / year."""

    def __init__(self, names: Iterable[str], start: date) -> None:
        self._names = tuple(names)
        self.values: dict[str, dict[str, float]] = {
            p: dict.fromkeys(self._names, 0.0) for p in _PERIODS
        }
        self._day = start

    def roll(self, today: date) -> None:
        """Reset the periods that ended before ``today``."""
        if today == self._day:
            return
        if today.year != self._day.year:
            self.values["Year"] = dict.fromkeys(self._names, 0.0)
        if (today.year, today.month) != (self._day.year, self._day.month):
            self.values["Month"] = dict.fromkeys(self._names, 0.0)
        self.values["Day"] = dict.fromkeys(self._names, 0.0)
        self._day = today

    def add(self, name: str, wh: float) -> None:
        for period in self.values.values():
            period[name] += wh


class _Plant:
    """The simulated installation behind the inverter."""

    def __init__(self, config: PlenticoreConfig, settings: _Settings, now: datetime) -> None:
        """Start at the local midnight before ``now`` and integrate up to it (plausible Day)."""
        self._config = config
        self._settings = settings
        self._tz = ZoneInfo(config.timezone)
        # The shared sun under a clear sky: the tests count on a sunny day, whatever the date.
        self._sky = Sky(config.latitude, config.longitude, seed_of(config.serial), cloud_cover=0.0)
        n = config.string_count
        weights = [1.0 - 0.12 * i for i in range(n)]
        self._string_peak = tuple(config.peak_power_w * w / sum(weights) for w in weights)
        self.soc = config.battery_soc
        first_day = now.astimezone(self._tz).date() - timedelta(days=config.history_days)
        midnight = datetime.combine(first_day, time(), tzinfo=self._tz)
        self._counters = _Counters(self.counter_names(), midnight.date())
        if config.has_battery:
            self._charged_before(self.soc / 100 * config.battery_capacity_wh)
        self._last = midnight.astimezone(UTC)
        self.advance(now)

    def counter_names(self) -> list[str]:
        names = ["EnergyHome", "EnergyHomePv", "EnergyHomeGrid", "Yield"]
        names += [f"EnergyPv{i + 1}" for i in range(self._config.string_count)]
        if self._config.has_battery:
            names += ["EnergyHomeBat", "EnergyChargePv", "EnergyChargeGrid"]
            names += ["EnergyDischarge", "EnergyDischargeGrid"]
        return names

    def _charged_before(self, wh: float) -> None:
        """Book what the battery holds at the start as PV energy charged before (Total only)."""
        total = self._counters.values["Total"]
        total["EnergyChargePv"] += wh
        for i, peak in enumerate(self._string_peak):
            total[f"EnergyPv{i + 1}"] += wh * peak / self._config.peak_power_w

    # -- time --------------------------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        """Integrate the counters from the last call to ``now``, split at local midnights."""
        if now <= self._last:
            self._last = now  # the clock went back: counters stay, integration resumes from here
            return
        step = timedelta(
            seconds=max(_STEP_SECONDS, (now - self._last).total_seconds() / _MAX_STEPS)
        )
        t = self._last
        while t < now:
            local_day = t.astimezone(self._tz).date()
            self._counters.roll(local_day)
            end = min(t + step, now, self._next_midnight(local_day))
            self._integrate(t, end)
            t = end
        self._counters.roll(now.astimezone(self._tz).date())
        self._last = now

    def _next_midnight(self, local_day: date) -> datetime:
        return datetime.combine(local_day + timedelta(days=1), time(), tzinfo=self._tz).astimezone(
            UTC
        )

    def _integrate(self, start: datetime, end: datetime) -> None:
        seconds = (end - start).total_seconds()
        f = self.flows(start + (end - start) / 2, seconds)
        hours = seconds / 3600
        add = self._counters.add
        add("EnergyHome", f.home * hours)
        add("EnergyHomePv", f.home_pv * hours)
        add("EnergyHomeGrid", f.home_grid * hours)
        add("Yield", f.ac_output * hours)
        for i, power in enumerate(f.strings):
            add(f"EnergyPv{i + 1}", power * hours)
        if self._config.has_battery:
            add("EnergyHomeBat", f.home_bat * hours)
            add("EnergyChargePv", f.pv_to_bat * hours)
            add("EnergyChargeGrid", f.grid_to_bat * hours)
            add("EnergyDischarge", f.home_bat * hours)  # delivered on the AC side
            add("EnergyDischargeGrid", 0.0)
            stored = (f.pv_to_bat + f.grid_to_bat * EFFICIENCY - f.discharge) * hours
            self.soc = min(
                100.0, max(0.0, self.soc + stored / self._config.battery_capacity_wh * 100)
            )

    # -- physics -----------------------------------------------------------------------------------

    def _pv(self, t: datetime) -> tuple[tuple[float, ...], tuple[float, ...]]:
        epoch = t.timestamp()
        lit = self._sky.sunlit(epoch)
        if lit is None:
            zeros = (0.0,) * self._config.string_count
            return zeros, zeros
        sun, irradiance = lit
        hour_angle = sun.hour_angle
        powers: list[float] = []
        volts: list[float] = []
        for i, peak in enumerate(self._string_peak):
            orientation = _STRING_ORIENTATION[i % len(_STRING_ORIENTATION)]
            facing = max(0.0, 1.0 + 0.15 * orientation * math.sin(hour_angle))
            ripple = 1.0 - 0.04 * (0.5 + 0.5 * math.sin(epoch / 420 + i))
            powers.append(peak * irradiance * facing * ripple)
            volts.append(610.0 - 70.0 * irradiance - 12.0 * i)
        return tuple(powers), tuple(volts)

    def _home(self, t: datetime) -> float:
        local = t.astimezone(self._tz)
        h = local.hour + local.minute / 60 + local.second / 3600
        base = 320.0 + 60.0 * math.sin(2 * math.pi * t.timestamp() / 1500)
        return (
            base
            + 900 * _gauss(h, 7.0, 0.6)
            + 450 * _gauss(h, 12.5, 0.9)
            + 1300 * _gauss(h, 19.0, 1.4)
        )

    def flows(self, t: datetime, seconds: float = _STEP_SECONDS) -> _Flows:
        """The flows at ``t`` for the current SoC, limited so ``seconds`` cannot overshoot it."""
        cfg = self._config
        strings, volts = self._pv(t)
        home = self._home(t)
        dc = sum(strings)
        pv_to_bat = grid_to_bat = discharge = 0.0
        manual = (
            cfg.has_battery and self._settings.value("devices:local", "Battery:ManualCharge") == "1"
        )
        to_watts = (
            cfg.battery_capacity_wh / 100 * 3600 / seconds
        )  # W that move the SoC by 1 % in `seconds`
        if cfg.has_battery:
            charge_limit = min(cfg.battery_max_power_w, max(0.0, 100.0 - self.soc) * to_watts)
            pv_to_bat = min(max(0.0, dc - home / EFFICIENCY), charge_limit)
            if manual:
                grid_to_bat = (charge_limit - pv_to_bat) / EFFICIENCY
        pv_ac = (dc - pv_to_bat) * EFFICIENCY
        home_pv = min(home, pv_ac)
        if cfg.has_battery and not manual and home >= self._min_home_consumption():
            available = max(0.0, self.soc - self._min_soc()) * to_watts
            discharge = min((home - home_pv) / EFFICIENCY, cfg.battery_max_power_w, available)
        home_bat = discharge * EFFICIENCY
        return _Flows(
            strings=strings,
            string_volts=volts,
            home=home,
            home_pv=home_pv,
            home_bat=home_bat,
            home_grid=max(0.0, home - home_pv - home_bat),
            pv_to_bat=pv_to_bat,
            grid_to_bat=grid_to_bat,
            discharge=discharge,
            feed_in=pv_ac - home_pv,
        )

    def _min_soc(self) -> float:
        return float(self._settings.value("devices:local", "Battery:MinSoc"))

    def _min_home_consumption(self) -> float:
        return float(self._settings.value("devices:local", "Battery:MinHomeComsumption"))

    # -- process data ------------------------------------------------------------------------------

    def process_data(self, now: datetime) -> dict[str, dict[str, tuple[str, float]]]:
        """Every module's values at ``now`` as ``module -> id -> (unit, value)``."""
        self.advance(now)
        f = self.flows(now)
        data = {
            "devices:local": self._local(f),
            "devices:local:ac": self._ac(f, now),
        }
        for i, (power, volts) in enumerate(zip(f.strings, f.string_volts, strict=True)):
            data[f"devices:local:pv{i + 1}"] = {
                "I": ("A", power / volts if volts else 0.0),
                "P": ("W", power),
                "U": ("V", volts),
            }
        if self._config.has_battery:
            data["devices:local:battery"] = self._battery(f)
        data["scb:statistic:EnergyFlow"] = self._statistics()
        return data

    def _local(self, f: _Flows) -> dict[str, tuple[str, float]]:
        values: dict[str, tuple[str, float]] = {
            "Inverter:State": ("", STATE_FEED_IN if f.running else STATE_STANDBY),
            "Dc_P": ("W", f.dc),
            "Grid_P": ("W", f.grid),
            "HomeGrid_P": ("W", f.home_grid),
            "HomeOwn_P": ("W", f.home_pv + f.home_bat),
            "HomePv_P": ("W", f.home_pv),
            "Home_P": ("W", f.home),
            "EM_State": ("", 0),
        }
        if self._config.has_battery:
            values["HomeBat_P"] = ("W", f.home_bat)
            values["PV2Bat_P"] = ("W", f.pv_to_bat)
            values["Bat2Grid_P"] = ("W", 0.0)
        return dict(sorted(values.items()))

    def _ac(self, f: _Flows, now: datetime) -> dict[str, tuple[str, float]]:
        ac = f.ac_output - f.grid_to_bat
        epoch = now.timestamp()
        values: dict[str, tuple[str, float]] = {
            "CosPhi": ("", 1.0 if f.running else 0.0),
            "Frequency": ("Hz", 50.0 + 0.02 * math.sin(epoch / 97)),
            "P": ("W", ac),
        }
        for phase, share in enumerate((0.34, 0.33, 0.33), start=1):
            volts = 230.0 + 2.5 * math.sin(epoch / 151 + phase)
            values[f"L{phase}_P"] = ("W", ac * share)
            values[f"L{phase}_U"] = ("V", volts)
            values[f"L{phase}_I"] = ("A", abs(ac * share) / volts)
        return dict(sorted(values.items()))

    def _battery(self, f: _Flows) -> dict[str, tuple[str, float]]:
        volts = 330.0 + 0.7 * self.soc
        discharged = self._counters.values["Total"]["EnergyDischarge"]
        cycles = math.floor(
            self._config.battery_cycles + discharged / self._config.battery_capacity_wh
        )
        return {
            "Cycles": ("", cycles),
            "I": ("A", f.battery / volts),
            "P": ("W", f.battery),
            "SoC": ("%", round(self.soc)),
            "U": ("V", volts),
        }

    def _statistics(self) -> dict[str, tuple[str, float]]:
        values: dict[str, tuple[str, float]] = {}
        for period, counters in self._counters.values.items():
            own = counters["EnergyHomePv"] + counters.get("EnergyHomeBat", 0.0)
            values[f"Statistic:Autarky:{period}"] = ("%", _percent(own, counters["EnergyHome"]))
            values[f"Statistic:OwnConsumptionRate:{period}"] = (
                "%",
                _percent(own, counters["Yield"]),
            )
            for name, wh in counters.items():
                values[f"Statistic:{name}:{period}"] = ("Wh", wh)
        return dict(sorted(values.items()))


def _percent(part: float, whole: float) -> float:
    return min(100.0, 100.0 * part / whole) if whole > 0 else 0.0


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


class _Role(StrEnum):
    USER = "user"
    MASTER = "master"


_ME_ROLE: Final = {_Role.USER: "USER", _Role.MASTER: "INSTALLER"}

_INT_RANGES: Final = {
    "byte": (0, 255),
    "uint8": (0, 255),
    "uint16": (0, 65535),
    "uint32": (0, 2**32 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
}


@dataclass(frozen=True, slots=True)
class _SettingSpec:
    id: str
    type: str
    unit: str | None = None
    min: str | None = None
    max: str | None = None
    default: str | None = None
    writer: _Role | None = None  # the lowest role that may write it; None: read-only for everyone

    def access(self, role: _Role) -> str:
        return "readwrite" if self.writable_by(role) else "readonly"

    def writable_by(self, role: _Role) -> bool:
        return self.writer is not None and (self.writer is _Role.USER or role is _Role.MASTER)

    def describe(self, role: _Role) -> dict[str, Any]:
        return {
            "id": self.id,
            "unit": self.unit,
            "type": self.type,
            "min": self.min,
            "max": self.max,
            "default": self.default,
            "access": self.access(role),
        }

    def check(self, value: object) -> str | None:
        """Why ``value`` may not be written, or None."""
        if not isinstance(value, str):
            return f"{self.id}: values are strings"
        if self.type == "string":
            return None
        if self.type == "bool":
            return None if value in ("0", "1") else f"{self.id}: expected 0 or 1"
        try:
            number = float(value) if self.type == "float" else int(value)
        except ValueError:
            return f"{self.id}: {value!r} is not a valid {self.type}"
        low, high = _INT_RANGES.get(self.type, (-math.inf, math.inf))
        if self.min is not None:
            low = max(low, float(self.min))
        if self.max is not None:
            high = min(high, float(self.max))
        if not math.isfinite(number) or not low <= number <= high:
            return f"{self.id}: {value} out of range [{self.min}, {self.max}]"
        return None


def _bool_setting(setting_id: str, writer: _Role | None = _Role.USER) -> _SettingSpec:
    return _SettingSpec(setting_id, "bool", default="0", writer=writer)


def _readonly(setting_id: str, type_: str = "string") -> _SettingSpec:
    return _SettingSpec(setting_id, type_)


def _initial_settings(cfg: PlenticoreConfig) -> dict[str, list[tuple[_SettingSpec, str]]]:
    """Every module's settings with their starting values."""
    n = cfg.string_count
    local: list[tuple[_SettingSpec, str]] = []
    if cfg.has_battery:
        local += [
            (_SettingSpec("Battery:MinSoc", "byte", "%", "5", "100", "5", _Role.USER), "5"),
            (
                _SettingSpec(
                    "Battery:MinHomeComsumption", "uint32", "W", "50", "38000", "50", _Role.USER
                ),
                "50",
            ),
            (_SettingSpec("Battery:Strategy", "uint32", None, "1", "2", "1", _Role.USER), "1"),
            (_bool_setting("Battery:ManualCharge", _Role.MASTER), "0"),
            (_bool_setting("Battery:SmartBatteryControl:Enable"), "1"),
            (_bool_setting("Battery:TimeControl:Enable"), "0"),
            (_bool_setting("EnergyMgmt:AcStorage"), "0"),
            (_readonly("Battery:Type", "uint32"), "4"),
        ]
    local += [
        (
            _SettingSpec(
                "Generator:ShadowMgmt:Enable", "uint16", None, "0", str(2**n - 1), "0", _Role.USER
            ),
            "0",
        ),
        (_readonly("Properties:StringCnt", "uint16"), str(n)),
    ]
    # String 3 (index 2) cannot do shadow management, to exercise the client's filtering.
    local += [
        (_readonly(f"Properties:String{i}Features", "uint32"), "0" if i == 2 else "1")
        for i in range(n)
    ]
    local += [
        (_readonly("Properties:SerialNo"), cfg.serial),
        (_readonly("Properties:VersionIOC"), cfg.version_ioc),
        (_readonly("Properties:VersionMC"), cfg.version_mc),
        (_readonly("Branding:ProductName1"), cfg.product_name1),
        (_readonly("Branding:ProductName2"), cfg.product_name2),
    ]
    hostname_id = "Hostname" if cfg.legacy_hostname else "Network:Hostname"
    network = [(_SettingSpec(hostname_id, "string", writer=_Role.USER), cfg.hostname)]
    return {"devices:local": local, "scb:network": network}


class _Settings:
    """Setting descriptions and current values per module."""

    def __init__(self, cfg: PlenticoreConfig) -> None:
        initial = _initial_settings(cfg)
        self.specs = {m: {spec.id: spec for spec, _ in items} for m, items in initial.items()}
        self.values = {m: {spec.id: value for spec, value in items} for m, items in initial.items()}

    def spec(self, module_id: str, setting_id: str) -> _SettingSpec:
        return self.specs[module_id][setting_id]

    def value(self, module_id: str, setting_id: str) -> str:
        return self.values[module_id][setting_id]

    def hostname(self) -> str:
        network = self.values["scb:network"]
        return network.get("Network:Hostname") or network.get("Hostname", "")


# --------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------

# Illustrative codes and texts (English, German) for the localisation of POST /events/latest;
# not KOSTAL's catalogue.
_EVENT_TEXTS: Final[dict[int, tuple[str, str, str, str]]] = {
    3010: (
        "Insulation fault",
        "The insulation resistance of the PV generator is too low. Have the installation checked.",
        "Isolationsfehler",
        "Der Isolationswiderstand des PV-Generators ist zu niedrig. Lassen Sie die Anlage prüfen.",
    ),
    5014: (
        "Grid frequency out of range",
        "The inverter left the grid; it reconnects when the frequency is back in range.",
        "Netzfrequenz außerhalb des zulässigen Bereichs",
        "Der Wechselrichter hat sich vom Netz getrennt; er schaltet zu, wenn die Frequenz stimmt.",
    ),
    6005: (
        "Battery communication error",
        "The inverter cannot reach the battery management system.",
        "Kommunikationsfehler Batterie",
        "Der Wechselrichter erreicht das Batteriemanagementsystem nicht.",
    ),
    6107: (
        "Energy meter not detected",
        "No energy meter answers on the inverter's meter interface.",
        "Energiezähler nicht erkannt",
        "An der Zählerschnittstelle des Wechselrichters antwortet kein Energiezähler.",
    ),
    7012: (
        "Overtemperature, output reduced",
        "The inverter reduces its output until it has cooled down.",
        "Übertemperatur, Leistung reduziert",
        "Der Wechselrichter reduziert seine Leistung, bis er abgekühlt ist.",
    ),
}


@dataclass(slots=True)
class _Event:
    code: int
    category: str
    group: str
    description: str
    long_description: str
    start: datetime
    end: datetime | None = None

    def to_json(self, language: str) -> dict[str, Any]:
        description, long_description = self.description, self.long_description
        if language.lower().startswith("de") and self.code in _EVENT_TEXTS:
            _, _, description, long_description = _EVENT_TEXTS[self.code]
        return {
            "code": self.code,
            "category": self.category,
            "group": self.group,
            "description": description,
            "long_description": long_description,
            "start_time": _iso(self.start),
            "end_time": _iso(self.end) if self.end else None,
            "is_active": self.end is None,
        }


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _User:
    name: _Role
    secret: str
    creds: ScramCredentials | None = None
    failures: int = 0
    locked_until: datetime | None = None


@dataclass(slots=True)
class _Transaction:
    user: _User
    message: bytes
    token: str | None = None  # set once /auth/finish succeeded
    client_key: bytes = b""


def _json_response(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _read_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError as err:
        raise ApiError(400, "Input payload validation failed") from err


def _field(body: object, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise ApiError(400, f"Input payload validation failed: '{name}' is a required property")
    return value


def _decode(body: object, name: str) -> bytes:
    try:
        return base64.b64decode(_field(body, name, str), validate=True)
    except binascii.Error as err:
        raise ApiError(400, f"Input payload validation failed: '{name}' is not base64") from err


def _string_list(item: object, name: str) -> list[str]:
    values = _field(item, name, list)
    if not all(isinstance(v, str) for v in values):
        raise ApiError(400, f"Input payload validation failed: '{name}' must list strings")
    return list(values)


def _list_body(body: object) -> list[Any]:
    if not isinstance(body, list):
        raise ApiError(400, "Input payload validation failed: expected a list")
    return body


_FAULT_MESSAGES: Final = {
    "401": "Unauthorized: no valid session",
    "500": "Internal Server Error",
    "503": "Internal communication error",
}


class PlenticoreSimulator(LoopbackSimulator[PlenticoreConfig]):
    """A PLENTICORE plus on ``127.0.0.1``: protocol, data on a :class:`SimClock`, fault switches.

    Observation: ``requests`` counts "METHOD /api/v1/path"; ``logins``/``failed_logins`` count
    logins; ``active_sessions`` is the number of live sessions. Control: ``restart``, ``fail_next``,
    ``raise_event``/``clear_event``, ``remove_process_data``, ``set_setting``.

    Fault kinds: "timeout", "401", "500", "503" (error answers) and "malformed" (the answer's JSON
    cut short, with status 200). Sessions survive ``stop``, as over a network outage.
    """

    fault_kinds: ClassVar[frozenset[str]] = FAULT_KINDS
    fault_messages: ClassVar[Mapping[str, str]] = _FAULT_MESSAGES

    def __init__(
        self, config: PlenticoreConfig | None = None, clock: SimClock | None = None
    ) -> None:
        super().__init__(config or PlenticoreConfig(), clock)
        self.logins = 0
        self.failed_logins = 0
        self._users = {
            _Role.USER: _User(_Role.USER, self.config.password),
            _Role.MASTER: _User(_Role.MASTER, self.config.master_key),
        }
        self._transactions: dict[str, _Transaction] = {}
        self._sessions: dict[str, _Role] = {}
        self._events: list[_Event] = []
        self._removed: set[tuple[str, str]] = set()
        self._settings = _Settings(self.config)
        self._plant = _Plant(self.config, self._settings, self.clock.now())

    # -- observation and control -------------------------------------------------------------------

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    def restart(self) -> None:
        """A power cycle: sessions and logins in progress end; changed ``config`` secrets apply."""
        self._sessions.clear()
        self._transactions.clear()
        self._sync_credentials()

    def set_password(self, password: str, username: str = "user") -> None:
        """Change a password (``"user"``) or Master Key (``"master"``) now; sessions stay."""
        if _Role(username) is _Role.USER:
            self.config.password = password
        else:
            self.config.master_key = password
        self._sync_credentials()

    def lock(self, username: str = "user") -> None:
        """Lock a user as too many failed logins would, for ``config.lock_seconds``."""
        until = self.clock.now() + timedelta(seconds=self.config.lock_seconds)
        self._users[_Role(username)].locked_until = until

    def raise_event(
        self,
        code: int,
        description: str,
        *,
        category: str = "error",
        group: str = "Inverter",
        long_description: str = "",
    ) -> None:
        """Start an event (active until cleared); a code that is already active is left as it is."""
        if any(e.code == code and e.end is None for e in self._events):
            return
        event = _Event(code, category, group, description, long_description, self.clock.now())
        self._events.append(event)

    def clear_event(self, code: int) -> None:
        """End every active occurrence of ``code``."""
        now = self.clock.now()
        for event in self._events:
            if event.code == code and event.end is None:
                event.end = now

    def remove_process_data(self, module_id: str, data_id: str) -> None:
        """Make a process-data id disappear, from the listing and from the values."""
        self.process_value(module_id, data_id)  # KeyError when it does not exist
        self._removed.add((module_id, data_id))

    def set_setting(self, module_id: str, setting_id: str, value: str) -> None:
        """Write a setting directly, without access or range checks."""
        self._settings.spec(module_id, setting_id)
        self._plant.advance(self.clock.now())
        self._settings.values[module_id][setting_id] = value

    def setting(self, module_id: str, setting_id: str) -> str:
        return self._settings.value(module_id, setting_id)

    def process_value(self, module_id: str, data_id: str) -> float:
        """The value a request would see now (KeyError when the module or id does not exist)."""
        if (module_id, data_id) in self._removed:
            raise KeyError(f"{module_id}/{data_id} was removed")
        return float(self._plant.process_data(self.clock.now())[module_id][data_id][1])

    # -- plumbing ----------------------------------------------------------------------------------

    def _starting(self) -> None:
        """The first start derives the SCRAM keys."""
        self._sync_credentials()

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await request.read()  # like a real server: the body is consumed whatever the answer
        return await self._answer(request, handler)

    def _error_response(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return web.json_response({"message": message}, status=status, headers=headers)

    def _malformed(self, response: web.StreamResponse) -> web.StreamResponse:
        return truncated_json(response, stub=b'{"message": ', status=200)

    def _sync_credentials(self) -> None:
        """Derive SCRAM keys (a new salt) for every user whose secret is new or changed."""
        secrets_now = {_Role.USER: self.config.password, _Role.MASTER: self.config.master_key}
        for role, user in self._users.items():
            if user.creds is None or user.secret != secrets_now[role]:
                user.secret = secrets_now[role]
                user.creds = derive_credentials(
                    user.secret, secrets.token_bytes(12), self.config.rounds
                )

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_routes(
            [
                web.get(f"{API}/info/version", self._info_version),
                web.post(f"{API}/auth/start", self._auth_start),
                web.post(f"{API}/auth/finish", self._auth_finish),
                web.post(f"{API}/auth/create_session", self._auth_create_session),
                web.post(f"{API}/auth/logout", self._auth_logout),
                web.get(f"{API}/auth/me", self._auth_me),
                web.get(f"{API}/modules", self._modules),
                web.get(f"{API}/processdata", self._processdata_list),
                web.post(f"{API}/processdata", self._processdata_post),
                web.get(f"{API}/processdata/{{moduleid}}", self._processdata_module),
                web.get(f"{API}/processdata/{{moduleid}}/{{ids}}", self._processdata_module),
                web.get(f"{API}/settings", self._settings_list),
                web.post(f"{API}/settings", self._settings_read),
                web.put(f"{API}/settings", self._settings_write),
                web.get(f"{API}/settings/{{moduleid}}", self._settings_module),
                web.get(f"{API}/settings/{{moduleid}}/{{ids}}", self._settings_module),
                web.get(f"{API}/events/latest", self._events_latest),
                web.post(f"{API}/events/latest", self._events_latest),
                web.post(f"{API}/system/reboot", self._system_reboot),
                web.post(f"{API}/system/factorysettings", self._system_factory),
            ]
        )

    def _session_id(self, request: web.Request) -> str | None:
        scheme, _, session_id = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Session" or session_id not in self._sessions:
            return None
        return session_id

    def _role(self, request: web.Request) -> _Role:
        session_id = self._session_id(request)
        if session_id is None:
            raise ApiError(401, "Unauthorized: no valid session")
        return self._sessions[session_id]

    # -- /info, /auth ------------------------------------------------------------------------------

    async def _info_version(self, request: web.Request) -> web.Response:
        return _json_response(
            {
                "name": "PUCK RESTful API",
                "hostname": self._settings.hostname(),
                "api_version": self.config.api_version,
                "sw_version": self.config.sw_version,
            }
        )

    async def _auth_start(self, request: web.Request) -> web.Response:
        body = await _read_json(request)
        name = _field(body, "username", str)
        client_nonce = _decode(body, "nonce")
        if not client_nonce:
            raise ApiError(400, "Input payload validation failed: empty nonce")
        user = self._users.get(_Role(name)) if name in _Role else None
        if user is None or user.creds is None:
            raise ApiError(400, "Invalid user")
        now = self.clock.now()
        if user.locked_until is not None and now < user.locked_until:
            raise ApiError(403, "User is locked")
        user.locked_until = None
        server_nonce = _b64(client_nonce + secrets.token_bytes(12))
        salt = _b64(user.creds.salt)
        message = auth_message(name, body["nonce"], server_nonce, salt, user.creds.rounds)
        transaction_id = _b64(secrets.token_bytes(32))
        self._transactions[transaction_id] = _Transaction(user, message)
        self._prune_transactions()
        return _json_response(
            {
                "nonce": server_nonce,
                "transactionId": transaction_id,
                "salt": salt,
                "rounds": user.creds.rounds,
            }
        )

    def _prune_transactions(self, keep: int = 64) -> None:
        while len(self._transactions) > keep:
            del self._transactions[next(iter(self._transactions))]

    async def _auth_finish(self, request: web.Request) -> web.Response:
        body = await _read_json(request)
        transaction_id = _field(body, "transactionId", str)
        proof = _decode(body, "proof")
        transaction = self._transactions.get(transaction_id)
        if transaction is None or transaction.token is not None:
            raise ApiError(400, "Invalid authentication transaction")
        user = transaction.user
        assert user.creds is not None
        client_key = recover_client_key(user.creds, transaction.message, proof)
        if client_key is None:
            del self._transactions[transaction_id]
            self._login_failed(user)
            raise ApiError(400, "Authentication failed")
        transaction.client_key = client_key
        transaction.token = secrets.token_hex(16)
        signature = server_signature(user.creds, transaction.message)
        return _json_response({"token": transaction.token, "signature": _b64(signature)})

    async def _auth_create_session(self, request: web.Request) -> web.Response:
        body = await _read_json(request)
        transaction = self._transactions.pop(_field(body, "transactionId", str), None)
        iv, tag, payload = _decode(body, "iv"), _decode(body, "tag"), _decode(body, "payload")
        if transaction is None or transaction.token is None:
            raise ApiError(400, "Invalid authentication transaction")
        user = transaction.user
        assert user.creds is not None
        key = protocol_key(user.creds, transaction.message, transaction.client_key)
        plain = decrypt_payload(key, iv, tag, payload)
        if plain is None:
            raise ApiError(400, "Invalid authentication transaction: payload does not decrypt")
        token, _, code = plain.decode("utf-8", "replace").partition(":")
        if token != transaction.token or (user.name is _Role.USER and plain != token.encode()):
            raise ApiError(400, "Invalid authentication transaction: wrong token")
        if user.name is _Role.MASTER and not hmac.compare_digest(
            code.encode(), self.config.service_code.encode()
        ):
            self._login_failed(user)
            raise ApiError(400, "Invalid service code")
        user.failures = 0
        self.logins += 1
        session_id = secrets.token_hex(32)
        self._sessions[session_id] = user.name
        return _json_response({"sessionId": session_id})

    def _login_failed(self, user: _User) -> None:
        self.failed_logins += 1
        user.failures += 1
        if user.failures >= self.config.lock_after:
            user.failures = 0
            user.locked_until = self.clock.now() + timedelta(seconds=self.config.lock_seconds)

    async def _auth_logout(self, request: web.Request) -> web.Response:
        session_id = self._session_id(request)
        if session_id is not None:
            del self._sessions[session_id]
        return _json_response(None)

    async def _auth_me(self, request: web.Request) -> web.Response:
        session_id = self._session_id(request)
        if session_id is None:
            me: dict[str, Any] = {
                "role": "NONE",
                "anonymous": True,
                "authenticated": False,
                "active": False,
            }
        else:
            role = _ME_ROLE[self._sessions[session_id]]
            me = {"role": role, "anonymous": False, "authenticated": True, "active": True}
        return _json_response({**me, "locked": False, "permissions": []})

    # -- /modules, /processdata --------------------------------------------------------------------

    def _module_types(self) -> dict[str, str]:
        modules = {"devices:local": "device", "devices:local:ac": "device:ac"}
        if self.config.has_battery:
            modules["devices:local:battery"] = "device:battery"
        modules |= {
            f"devices:local:pv{i + 1}": "device:pv" for i in range(self.config.string_count)
        }
        modules |= {
            "scb:event": "event",
            "scb:network": "config",
            "scb:statistic:EnergyFlow": "statistic",
        }
        return modules

    async def _modules(self, request: web.Request) -> web.Response:
        self._role(request)
        return _json_response([{"id": m, "type": t} for m, t in self._module_types().items()])

    def _process_data(self) -> dict[str, dict[str, tuple[str, float]]]:
        data = self._plant.process_data(self.clock.now())
        return {
            m: {i: v for i, v in values.items() if (m, i) not in self._removed}
            for m, values in data.items()
        }

    async def _processdata_list(self, request: web.Request) -> web.Response:
        self._role(request)
        data = self._process_data()
        return _json_response(
            [{"moduleid": m, "processdataids": list(ids)} for m, ids in data.items()]
        )

    async def _processdata_post(self, request: web.Request) -> web.Response:
        self._role(request)
        body = _list_body(await _read_json(request))
        wanted = [
            (_field(item, "moduleid", str), _string_list(item, "processdataids")) for item in body
        ]
        data = self._process_data()
        return _json_response([_process_answer(data, module_id, ids) for module_id, ids in wanted])

    async def _processdata_module(self, request: web.Request) -> web.Response:
        self._role(request)
        ids = request.match_info.get("ids")
        wanted = ids.split(",") if ids else []
        return _json_response(
            [_process_answer(self._process_data(), request.match_info["moduleid"], wanted)]
        )

    # -- /settings ---------------------------------------------------------------------------------

    async def _settings_list(self, request: web.Request) -> web.Response:
        role = self._role(request)
        return _json_response(
            [
                {"moduleid": m, "settings": [spec.describe(role) for spec in specs.values()]}
                for m, specs in self._settings.specs.items()
            ]
        )

    def _setting_values(self, module_id: str, ids: list[str]) -> list[dict[str, str]]:
        values = self._settings.values.get(module_id)
        if values is None:
            raise ApiError(404, f"Module {module_id} not found")
        missing = [i for i in ids if i not in values]
        if missing:
            raise ApiError(404, f"Setting {missing[0]} not found in module {module_id}")
        return [{"id": i, "value": values[i]} for i in ids or values]

    async def _settings_read(self, request: web.Request) -> web.Response:
        self._role(request)
        body = _list_body(await _read_json(request))
        wanted = [
            (_field(item, "moduleid", str), _string_list(item, "settingids")) for item in body
        ]
        return _json_response(
            [{"moduleid": m, "settings": self._setting_values(m, ids)} for m, ids in wanted]
        )

    async def _settings_module(self, request: web.Request) -> web.Response:
        self._role(request)
        ids = request.match_info.get("ids")
        wanted = ids.split(",") if ids else []
        if len(wanted) > 1 and self.config.multi_get_500:
            raise ApiError(500, "Internal Server Error")
        return _json_response(self._setting_values(request.match_info["moduleid"], wanted))

    async def _settings_write(self, request: web.Request) -> web.Response:
        role = self._role(request)
        body = _list_body(await _read_json(request))
        writes: list[tuple[str, str, Any]] = []
        for item in body:
            module_id = _field(item, "moduleid", str)
            for setting in _field(item, "settings", list):
                writes.append((module_id, _field(setting, "id", str), setting.get("value")))
        self._check_writes(role, writes)
        self._plant.advance(self.clock.now())  # the time before the write ran with the old values
        for module_id, setting_id, value in writes:
            self._settings.values[module_id][setting_id] = value
        answer: dict[str, list[dict[str, str]]] = {}
        for module_id, setting_id, value in writes:
            answer.setdefault(module_id, []).append({"id": setting_id, "value": value})
        return _json_response([{"moduleid": m, "settings": s} for m, s in answer.items()])

    def _check_writes(self, role: _Role, writes: list[tuple[str, str, Any]]) -> None:
        """All or nothing: 404 unknown id, 403 not writable by the role, 400 invalid value."""
        specs: list[tuple[_SettingSpec, Any]] = []
        for module_id, setting_id, value in writes:
            spec = self._settings.specs.get(module_id, {}).get(setting_id)
            if spec is None:
                raise ApiError(404, f"Setting {setting_id} not found in module {module_id}")
            specs.append((spec, value))
        for spec, _ in specs:
            if not spec.writable_by(role):
                raise ApiError(403, f"Access denied: {spec.id} is read-only for this user")
        for spec, value in specs:
            problem = spec.check(value)
            if problem is not None:
                raise ApiError(400, f"Invalid value: {problem}")

    # -- /events, /system --------------------------------------------------------------------------

    async def _events_latest(self, request: web.Request) -> web.Response:
        self._role(request)
        language, limit = "en-gb", 10
        if request.method == "POST":
            body = await _read_json(request)
            if not isinstance(body, dict):
                raise ApiError(400, "Input payload validation failed")
            language = body.get("language", language)
            limit = body.get("max", limit)
            if not isinstance(language, str) or not isinstance(limit, int) or limit < 0:
                raise ApiError(400, "Input payload validation failed: language or max")
        order = sorted(enumerate(self._events), key=lambda p: (p[1].start, p[0]), reverse=True)
        newest_first = [event for _, event in order]
        return _json_response([event.to_json(language) for event in newest_first[:limit]])

    async def _system_reboot(self, request: web.Request) -> web.Response:
        if self._role(request) is not _Role.MASTER:
            raise ApiError(403, "Forbidden: reboot needs the installer")
        self.restart()
        return _json_response(None)

    async def _system_factory(self, request: web.Request) -> web.Response:
        self._role(request)
        raise ApiError(403, "Forbidden: restoring factory settings is not allowed through this API")


def _process_answer(
    data: dict[str, dict[str, tuple[str, float]]], module_id: str, ids: list[str]
) -> dict[str, Any]:
    """One module's entry of a process-data answer (all ids when ``ids`` is empty)."""
    values = data.get(module_id)
    if values is None:
        raise ApiError(404, f"Module {module_id} not found")
    missing = [i for i in ids if i not in values]
    if missing:
        raise ApiError(404, f"Process data {missing[0]} not found in module {module_id}")
    return {
        "moduleid": module_id,
        "processdata": [_process_value(i, *values[i]) for i in ids or values],
    }


def _process_value(data_id: str, unit: str, value: float) -> dict[str, Any]:
    return {
        "id": data_id,
        "unit": unit,
        "value": value if isinstance(value, int) else round(value, 4),
    }
