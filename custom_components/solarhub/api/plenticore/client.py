"""Async client for the local REST API of KOSTAL PLENTICORE plus / PIKO IQ inverters.

One client per inverter. Calls are serialized; a session dropped by an inverter restart is
re-established once, silently, with the stored credentials. The response parsers are pure
functions, so malformed answers are easy to test without a server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
import ipaddress
import logging
import math
import secrets
from typing import TYPE_CHECKING, Any, Final

import aiohttp

from ..errors import (
    AccountLockedError,
    ApiConnectionError,
    AuthenticationError,
    InvalidServiceCodeError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SessionRejectedError,
    SolarHubApiError,
    UnsupportedDeviceError,
)
from ..http import Failure, exchange, with_relogin
from ..shapes import (
    as_dict,
    as_list,
    datetime_field,
    error_message,
    excerpt,
    finite_float,
    int_field,
    is_text,
    loads,
    malformed,
    optional_str_field,
    parse_json,
    retry_after_seconds,
    shown,
    str_field,
)
from . import scram
from .models import (
    InverterEvent,
    Module,
    ProcessData,
    ProcessValue,
    Role,
    SettingMeta,
    SettingsMeta,
    SettingValues,
    UserInfo,
    VersionInfo,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_LOGGER = logging.getLogger(__name__)

NONCE_LENGTH: Final = 12
IV_LENGTH: Final = 12
# Real inverters use 29000; refuse absurd counts that would pin a CPU core for minutes.
MAX_ROUNDS: Final = 10_000_000
DEFAULT_RETRY_AFTER: Final = 60.0
# The inverter does not say how long a lock lasts; the ones seen last minutes.
LOCK_RETRY_AFTER: Final = 300.0

_AUTH_START: Final = "/auth/start"
_LOGIN_PATHS: Final = frozenset({_AUTH_START, "/auth/finish", "/auth/create_session"})


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthChallenge:
    """The answer of ``POST /auth/start``."""

    server_nonce: bytes
    transaction_id: str
    salt: bytes
    rounds: int


@dataclass(frozen=True, kw_only=True, slots=True)
class _Credentials:
    password: str = field(repr=False)
    service_code: str | None = field(repr=False)

    @property
    def role(self) -> Role:
        return Role.USER if self.service_code is None else Role.MASTER


# ---- pure helpers: wire format -> models ----------------------------------------------------


def normalize_host(host: str) -> str:
    """Accept a host name, an IPv4/IPv6 address or ``address:port``, also pasted as ``http://…/``.

    :class:`ValueError` for anything that cannot be a host.
    """
    host = host.strip()
    if host[:7].lower() == "http://":
        host = host[7:]
    host = host.rstrip("/")
    if not host or any(char in host for char in "/?#@ \t"):
        raise ValueError(f"not a host name or address: {host!r}")
    return host


def base_url(host: str) -> str:
    """``http://{host}/api/v1`` for a host as :func:`normalize_host` accepts it."""
    host = normalize_host(host)
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a name, an IPv4 address with a port, or an already bracketed IPv6 address
    return f"http://{host}/api/v1"


def _bool(obj: Mapping[str, object], key: str, what: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise malformed(what, f"{key!r} should be true or false, got {shown(value)}")
    return value


def _b64(obj: Mapping[str, object], key: str, what: str) -> bytes:
    text = str_field(obj, key, what)
    try:
        return scram.b64decode(text)
    except ValueError as err:
        raise malformed(what, f"{key!r} is not base64") from err


def _str_list(obj: Mapping[str, object], key: str, what: str) -> list[str]:
    values = obj.get(key)
    if not isinstance(values, list) or not all(
        isinstance(value, str) and is_text(value) for value in values
    ):
        raise malformed(what, f"{key!r} should be a list of strings, got {shown(values)}")
    return values


def parse_version(raw: object) -> VersionInfo:
    """``GET /info/version``; anything else than a PLENTICORE's answer is an unsupported device."""
    if not isinstance(raw, dict):
        raise UnsupportedDeviceError("the host's /api/v1/info/version answer is not a JSON object")
    sw_version, api_version = raw.get("sw_version"), raw.get("api_version")
    if not isinstance(sw_version, str) or not isinstance(api_version, str):
        raise UnsupportedDeviceError(
            "the host's /api/v1/info/version answer has no sw_version/api_version: not a PLENTICORE"
        )
    name, hostname = raw.get("name"), raw.get("hostname")
    return VersionInfo(
        name=name if isinstance(name, str) else "",
        hostname=hostname if isinstance(hostname, str) else "",
        api_version=api_version,
        sw_version=sw_version,
    )


def parse_user_info(raw: object) -> UserInfo:
    """``GET /auth/me``."""
    what = "/auth/me"
    obj = as_dict(raw, what)
    permissions = obj.get("permissions", [])
    if not isinstance(permissions, list) or not all(isinstance(item, str) for item in permissions):
        raise malformed(what, f"'permissions' should be a list of strings, got {permissions!r}")
    return UserInfo(
        role=str_field(obj, "role", what),
        authenticated=_bool(obj, "authenticated", what),
        anonymous=_bool(obj, "anonymous", what),
        locked=bool(obj.get("locked", False)),
        active=bool(obj.get("active", False)),
        permissions=tuple(permissions),
    )


def parse_modules(raw: object) -> list[Module]:
    """``GET /modules``."""
    what = "/modules"
    modules = []
    for item in as_list(raw, what):
        obj = as_dict(item, what)
        modules.append(Module(id=str_field(obj, "id", what), type=str_field(obj, "type", what)))
    return modules


def parse_process_data_ids(raw: object) -> dict[str, frozenset[str]]:
    """``GET /processdata``: module id -> process-data ids it offers."""
    what = "GET /processdata"
    result: dict[str, frozenset[str]] = {}
    for item in as_list(raw, what):
        obj = as_dict(item, what)
        module_id = str_field(obj, "moduleid", what)
        ids = frozenset(_str_list(obj, "processdataids", what))
        result[module_id] = result.get(module_id, frozenset()) | ids
    return result


def parse_process_data(raw: object) -> ProcessData:
    """``POST /processdata``.

    A value that is NaN or infinite (possible from the inverter's JSON encoder) is left out, so
    only that one reading is missing instead of the whole answer being rejected.
    """
    what = "POST /processdata"
    result: ProcessData = {}
    for item in as_list(raw, what):
        obj = as_dict(item, what)
        module_id = str_field(obj, "moduleid", what)
        values = result.setdefault(module_id, {})
        for entry in as_list(obj.get("processdata"), f"{what} ({module_id})"):
            value_obj = as_dict(entry, what)
            value_id = str_field(value_obj, "id", what)
            value = value_obj.get("value")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise malformed(what, f"{module_id}/{value_id} is not a number: {shown(value)}")
            if isinstance(value, float) and not math.isfinite(value):
                continue
            if (number := finite_float(value)) is None:
                raise malformed(what, f"{module_id}/{value_id} is too large: {shown(value)}")
            unit = value_obj.get("unit")
            if unit is not None and not (isinstance(unit, str) and is_text(unit)):
                raise malformed(what, f"unit of {module_id}/{value_id} is not text: {shown(unit)}")
            values[value_id] = ProcessValue(id=value_id, unit=unit or "", value=number)
    return result


def parse_settings_meta(raw: object) -> SettingsMeta:
    """``GET /settings``: module id -> setting id -> description."""
    what = "GET /settings"
    result: SettingsMeta = {}
    for item in as_list(raw, what):
        obj = as_dict(item, what)
        module_id = str_field(obj, "moduleid", what)
        settings = result.setdefault(module_id, {})
        for entry in as_list(obj.get("settings"), f"{what} ({module_id})"):
            meta = as_dict(entry, what)
            setting_id = str_field(meta, "id", what)
            settings[setting_id] = SettingMeta(
                id=setting_id,
                unit=optional_str_field(meta, "unit", what),
                type=str_field(meta, "type", what),
                access=str_field(meta, "access", what),
                min=optional_str_field(meta, "min", what),
                max=optional_str_field(meta, "max", what),
                default=optional_str_field(meta, "default", what),
            )
    return result


def parse_setting_values(raw: object) -> SettingValues:
    """``POST /settings``: module id -> setting id -> value (always a string on the wire)."""
    what = "POST /settings"
    result: SettingValues = {}
    for item in as_list(raw, what):
        obj = as_dict(item, what)
        module_id = str_field(obj, "moduleid", what)
        values = result.setdefault(module_id, {})
        for entry in as_list(obj.get("settings"), f"{what} ({module_id})"):
            setting = as_dict(entry, what)
            values[str_field(setting, "id", what)] = str_field(setting, "value", what)
    return result


def parse_events(raw: object) -> list[InverterEvent]:
    """``POST /events/latest``; ``end_time`` is ``None`` while an event lasts."""
    what = "/events/latest"
    events = []
    for item in as_list(raw, what):
        obj = as_dict(item, what)
        end_time = (
            datetime_field(obj, "end_time", what) if obj.get("end_time") is not None else None
        )
        events.append(
            InverterEvent(
                code=int_field(obj, "code", what),
                category=str_field(obj, "category", what),
                group=optional_str_field(obj, "group", what) or "",
                description=optional_str_field(obj, "description", what) or "",
                long_description=optional_str_field(obj, "long_description", what) or "",
                start_time=datetime_field(obj, "start_time", what),
                end_time=end_time,
                is_active=_bool(obj, "is_active", what),
            )
        )
    return events


def parse_auth_challenge(raw: object) -> AuthChallenge:
    """``POST /auth/start``."""
    what = "/auth/start"
    obj = as_dict(raw, what)
    rounds = int_field(obj, "rounds", what)
    if not 1 <= rounds <= MAX_ROUNDS:
        raise malformed(what, f"'rounds' out of range: {rounds}")
    return AuthChallenge(
        server_nonce=_b64(obj, "nonce", what),
        transaction_id=str_field(obj, "transactionId", what),
        salt=_b64(obj, "salt", what),
        rounds=rounds,
    )


def parse_auth_finish(raw: object) -> tuple[str, bytes]:
    """``POST /auth/finish``: the token and the server signature."""
    what = "/auth/finish"
    obj = as_dict(raw, what)
    return str_field(obj, "token", what), _b64(obj, "signature", what)


def parse_session_id(raw: object) -> str:
    """``POST /auth/create_session``."""
    what = "/auth/create_session"
    session_id = str_field(as_dict(raw, what), "sessionId", what)
    if not session_id:
        raise malformed(what, "empty 'sessionId'")
    return session_id


def parse_retry_after(
    value: str | None, default: float = DEFAULT_RETRY_AFTER, *, now: datetime | None = None
) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), else ``default``."""
    seconds = retry_after_seconds(value, now=now)
    return default if seconds is None else seconds


def _map_failure(failure: Failure) -> SolarHubApiError:
    return status_error(
        failure.method,
        failure.path,
        failure.status,
        failure.body,
        failure.headers.get("Retry-After"),
    )


def status_error(
    method: str, path: str, status: int, body: bytes, retry_after: str | None = None
) -> SolarHubApiError:
    """Map a non-success HTTP status of ``method path`` to the client's error."""
    text = f"{method} {path} answered HTTP {status}: {error_message(body)}"
    is_login = path in _LOGIN_PATHS
    if status == 401:
        if is_login:
            return AuthenticationError(text)
        # The session is gone (e.g. the inverter restarted): log in again.
        return SessionRejectedError(text)
    if status == 400 and path.startswith("/auth/"):
        return AuthenticationError(text)
    if status == 403:
        # /auth/start documents 403 as "user is locked"; a login has no permission to lack.
        if is_login:
            return AccountLockedError(text, parse_retry_after(retry_after, LOCK_RETRY_AFTER))
        return PermissionDeniedError(text)
    if status == 404:
        return NotFoundError(text)
    if status == 429:
        return RateLimitedError(text, parse_retry_after(retry_after))
    if status >= 500:
        return ApiConnectionError(text)
    return SolarHubApiError(text)


# ---- the client ------------------------------------------------------------------------------


class PlenticoreClient:
    """Talks to one inverter; the ``aiohttp.ClientSession`` belongs to the caller."""

    def __init__(
        self, session: aiohttp.ClientSession, host: str, *, request_timeout: float = 10.0
    ) -> None:
        """Prepare the client; no I/O happens before the first call."""
        self._http = session
        self._host = normalize_host(host)
        self._base_url = base_url(self._host)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._lock = asyncio.Lock()
        self._session_id: str | None = None
        self._role: Role | None = None
        self._credentials: _Credentials | None = None

    def __repr__(self) -> str:
        """Show the host and role, never the session or credentials."""
        return f"PlenticoreClient(host={self._host!r}, role={self._role})"

    @property
    def host(self) -> str:
        """The host this client talks to."""
        return self._host

    @property
    def role(self) -> Role | None:
        """The role of the current session, ``None`` when not logged in."""
        return self._role if self._session_id is not None else None

    @property
    def logged_in(self) -> bool:
        """Whether the client holds a session (it may have expired on the inverter's side)."""
        return self._session_id is not None

    # ---- authentication ------------------------------------------------------------------

    async def login(self, password: str, service_code: str | None = None) -> None:
        """Log in as the owner (password) or, with a service code, as the installer (Master Key).

        The credentials are kept for one silent re-login when the inverter drops the session.
        """
        credentials = _Credentials(password=password, service_code=service_code)
        async with self._lock:
            if self._session_id is not None:
                await self._logout_locked()
            self._credentials = None
            await self._login_locked(credentials)
            self._credentials = credentials

    async def logout(self) -> None:
        """End the session and forget the credentials; errors of the logout call are ignored."""
        async with self._lock:
            self._credentials = None
            await self._logout_locked()

    async def _logout_locked(self) -> None:
        session_id, self._session_id, self._role = self._session_id, None, None
        if session_id is None:
            return
        try:
            await self._exchange("POST", "/auth/logout", None, session_id=session_id)
        except SolarHubApiError as err:  # the session is forgotten either way
            _LOGGER.debug("Ignoring failed logout from %s: %s", self._host, err)

    async def _login_locked(self, credentials: _Credentials) -> str:
        self._session_id = self._role = None
        role = credentials.role
        client_nonce = secrets.token_bytes(NONCE_LENGTH)
        challenge = parse_auth_challenge(
            await self._json(
                "POST",
                _AUTH_START,
                {"username": role.value, "nonce": scram.b64encode(client_nonce)},
            )
        )
        nonce = challenge.server_nonce
        if len(nonce) <= len(client_nonce) or not nonce.startswith(client_nonce):
            raise AuthenticationError("the server nonce does not extend the client nonce")
        keys = await asyncio.get_running_loop().run_in_executor(
            None, scram.derive_keys, credentials.password, challenge.salt, challenge.rounds
        )
        message = scram.auth_message(
            username=role.value,
            client_nonce=client_nonce,
            server_nonce=nonce,
            salt=challenge.salt,
            rounds=challenge.rounds,
        )
        proof = scram.client_proof(keys, message)
        token, signature = parse_auth_finish(
            await self._json(
                "POST",
                "/auth/finish",
                {"transactionId": challenge.transaction_id, "proof": scram.b64encode(proof)},
            )
        )
        if not scram.verify_server_signature(keys, message, signature):
            raise AuthenticationError("server signature mismatch")
        iv = secrets.token_bytes(IV_LENGTH)
        sealed = scram.encrypt_session_payload(
            scram.protocol_key(keys, message),
            iv,
            scram.session_plaintext(token, credentials.service_code),
        )
        body = {
            "transactionId": challenge.transaction_id,
            "iv": scram.b64encode(iv),
            "tag": scram.b64encode(sealed.tag),
            "payload": scram.b64encode(sealed.ciphertext),
        }
        try:
            answer = await self._json("POST", "/auth/create_session", body)
        except AuthenticationError as err:
            if credentials.service_code is None or isinstance(err, AccountLockedError):
                raise
            # The server proved it knows the Master Key, so only the service code can be wrong.
            raise InvalidServiceCodeError(f"{err} (Master Key accepted, service code not)") from err
        session_id = parse_session_id(answer)
        self._session_id, self._role = session_id, role
        _LOGGER.debug("Logged in to %s as %s", self._host, role.value)
        return session_id

    async def _relogin_locked(self) -> str:
        """Log in with the stored credentials and return the session id.

        Refused credentials are forgotten (another try could lock the account); a lock is only
        temporary, so the credentials are kept for when it has expired.
        """
        if self._credentials is None:
            raise AuthenticationError("not logged in")
        try:
            return await self._login_locked(self._credentials)
        except AccountLockedError:
            raise
        except AuthenticationError:
            self._credentials = None
            raise

    # ---- HTTP ----------------------------------------------------------------------------

    async def _exchange(
        self, method: str, path: str, body: object, *, session_id: str | None = None
    ) -> bytes:
        """One request; returns the body of a success, raises the mapped error otherwise."""
        headers = {"Accept": "application/json"}
        if session_id is not None:
            headers["Authorization"] = f"Session {session_id}"
        answer = await exchange(
            self._http,
            method,
            self._base_url + path,
            path=path,
            peer=self._host,
            client_timeout=self._timeout,
            status_error=_map_failure,
            json=body,
            headers=headers,
        )
        return answer.body

    async def _json(self, method: str, path: str, body: object = None) -> Any:
        """Make a call without session (login, version) and decode its JSON."""
        return parse_json(await self._exchange(method, path, body))

    async def _session_call(self, method: str, path: str, body: object = None) -> bytes:
        """Make a call with the session: log in first if needed, re-login once on 401."""

        async def current() -> tuple[str, bool]:
            if self._session_id is not None:
                return self._session_id, False
            return await self._relogin_locked(), True

        async def renew(_rejected: str) -> str:
            _LOGGER.debug("Session on %s rejected, logging in again", self._host)
            return await self._relogin_locked()

        def forget(rejected: str) -> None:
            if self._session_id == rejected:
                self._session_id = self._role = None

        async def call(session_id: str) -> bytes:
            return await self._exchange(method, path, body, session_id=session_id)

        async with self._lock:
            return await with_relogin(current=current, renew=renew, forget=forget, call=call)

    async def _session_json(self, method: str, path: str, body: object = None) -> Any:
        return parse_json(await self._session_call(method, path, body))

    # ---- API -----------------------------------------------------------------------------

    async def get_version(self) -> VersionInfo:
        """``GET /info/version`` (no session); :class:`UnsupportedDeviceError` if no PLENTICORE."""
        async with self._lock:
            try:
                body = await self._exchange("GET", "/info/version", None)
            except ApiConnectionError, RateLimitedError:
                raise
            except SolarHubApiError as err:
                raise UnsupportedDeviceError(f"not a PLENTICORE: {err}") from err
        try:
            raw = loads(body)
        except ValueError as err:
            raise UnsupportedDeviceError(
                f"the host's /api/v1/info/version answer is not JSON: {excerpt(body)}"
            ) from err
        return parse_version(raw)

    async def get_me(self) -> UserInfo:
        """``GET /auth/me``: with the session when there is one, anonymously otherwise."""
        if self._credentials is None and self._session_id is None:
            async with self._lock:
                return parse_user_info(await self._json("GET", "/auth/me"))
        return parse_user_info(await self._session_json("GET", "/auth/me"))

    async def get_modules(self) -> list[Module]:
        """``GET /modules``."""
        return parse_modules(await self._session_json("GET", "/modules"))

    async def get_process_data_ids(self) -> dict[str, frozenset[str]]:
        """``GET /processdata``: the ids each module offers."""
        return parse_process_data_ids(await self._session_json("GET", "/processdata"))

    async def get_process_data(self, request: Mapping[str, Iterable[str]]) -> ProcessData:
        """Read values of many modules in one ``POST /processdata``."""
        body = _module_request(request, "processdataids")
        if not body:
            return {}
        return parse_process_data(await self._session_json("POST", "/processdata", body))

    async def get_settings_meta(self) -> SettingsMeta:
        """``GET /settings``: every setting with its type, range and access for this role."""
        return parse_settings_meta(await self._session_json("GET", "/settings"))

    async def get_setting_values(self, request: Mapping[str, Iterable[str]]) -> SettingValues:
        """Read settings of many modules in one ``POST /settings`` (02.20+ fails multi-id GETs)."""
        body = _module_request(request, "settingids")
        if not body:
            return {}
        return parse_setting_values(await self._session_json("POST", "/settings", body))

    async def set_setting_values(self, module_id: str, values: Mapping[str, str]) -> None:
        """Write settings of one module with ``PUT /settings``; values are strings on the wire."""
        if not values:
            return
        settings = [{"id": setting_id, "value": value} for setting_id, value in values.items()]
        await self._session_call(
            "PUT", "/settings", [{"moduleid": module_id, "settings": settings}]
        )

    async def get_events(
        self, language: str = "en-gb", max_events: int = 10
    ) -> list[InverterEvent]:
        """Read the latest events, described in ``language``."""
        body = {"language": language, "max": max_events}
        return parse_events(await self._session_json("POST", "/events/latest", body))

    async def reboot(self) -> None:
        """Restart the inverter; the credentials are kept to log in again when it is back."""
        await self._session_call("POST", "/system/reboot")
        self._session_id = self._role = None  # a restart drops every session


def _module_request(request: Mapping[str, Iterable[str]], ids_key: str) -> list[dict[str, object]]:
    """``[{"moduleid": ..., ids_key: [...]}]`` without duplicates or empty modules."""
    body: list[dict[str, object]] = []
    for module_id, ids in request.items():
        unique = list(dict.fromkeys(ids))
        if unique:
            body.append({"moduleid": module_id, ids_key: unique})
    return body
