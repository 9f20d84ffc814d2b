"""Typed models returned by the PLENTICORE client."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


class Role(StrEnum):
    """Login roles of the inverter's API."""

    USER = "user"  # the owner, password set in the web UI
    MASTER = "master"  # the installer: Master Key from the type label plus service code


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionInfo:
    """``GET /info/version`` (no session needed)."""

    name: str
    hostname: str
    api_version: str
    sw_version: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ProcessValue:
    """One process-data value of ``POST /processdata``."""

    id: str
    unit: str
    value: float


@dataclass(frozen=True, kw_only=True, slots=True)
class SettingMeta:
    """One setting as described by ``GET /settings``.

    ``access`` is as seen by the logged-in role: ``readwrite`` or ``readonly``.
    ``min``/``max``/``default`` are strings on the wire and stay ``None`` when absent.
    """

    id: str
    unit: str | None
    type: str
    access: str
    min: str | None
    max: str | None
    default: str | None

    @property
    def writable(self) -> bool:
        """Whether the logged-in role may write this setting."""
        return self.access == "readwrite"


@dataclass(frozen=True, kw_only=True, slots=True)
class InverterEvent:
    """One entry of ``POST /events/latest``."""

    code: int
    category: str
    group: str
    description: str
    long_description: str
    start_time: datetime
    end_time: datetime | None
    is_active: bool

    @property
    def key(self) -> str:
        """A stable identity for one occurrence of an event."""
        return f"{self.code}@{self.start_time.isoformat()}"


# moduleid -> id -> value, the shape of every multi-module answer.
type ProcessData = dict[str, dict[str, ProcessValue]]
type SettingsMeta = dict[str, dict[str, SettingMeta]]
type SettingValues = dict[str, dict[str, str]]
