"""Pure parsers and helpers of the PLENTICORE client, on good and malformed input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.solarhub.api.errors import (
    AccountLockedError,
    ApiConnectionError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SolarHubApiError,
    UnsupportedDeviceError,
)
from custom_components.solarhub.api.plenticore import client as p
from custom_components.solarhub.api.plenticore.models import (
    InverterEvent,
    Module,
    ProcessValue,
    SettingMeta,
    UserInfo,
    VersionInfo,
)
from custom_components.solarhub.api.shapes import error_message, parse_json

# ---- base URL and JSON ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("scb", "http://scb/api/v1"),
        ("inverter.local", "http://inverter.local/api/v1"),
        ("192.168.1.5", "http://192.168.1.5/api/v1"),
        (" 192.168.1.5:8080 ", "http://192.168.1.5:8080/api/v1"),
        ("fe80::1", "http://[fe80::1]/api/v1"),
        ("[fe80::1]:8080", "http://[fe80::1]:8080/api/v1"),
        ("http://scb", "http://scb/api/v1"),  # pasted from the browser
        ("HTTP://192.168.1.5:8080/", "http://192.168.1.5:8080/api/v1"),
    ],
)
def test_base_url(host: str, url: str) -> None:
    assert p.base_url(host) == url


def test_normalize_host() -> None:
    assert p.normalize_host(" http://scb.local/ ") == "scb.local"
    assert p.normalize_host("192.168.1.5:8080") == "192.168.1.5:8080"


@pytest.mark.parametrize(
    "host", ["", "   ", "http://", "https://scb", "scb/api", "user@scb", "a b", "scb?x=1"]
)
def test_base_url_rejects_non_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        p.base_url(host)


def test_parse_json() -> None:
    assert parse_json(b'{"a": [1, 2]}') == {"a": [1, 2]}


@pytest.mark.parametrize("body", [b"<html>login</html>", b"", b"\xff\xfe", b"{"])
def test_parse_json_rejects_non_json(body: bytes) -> None:
    with pytest.raises(MalformedResponseError, match="not JSON"):
        parse_json(body)


def test_parse_json_shortens_long_bodies() -> None:
    with pytest.raises(MalformedResponseError) as err:
        parse_json(b"<html>" + b"x" * 5000)
    assert len(str(err.value)) < 300


# ---- version and user -----------------------------------------------------------------------

VERSION = {
    "sw_version": "01.26.09454",
    "name": "PUCK RESTful API",
    "api_version": "0.2.0",
    "hostname": "scb",
}


def test_parse_version() -> None:
    assert p.parse_version(VERSION) == VersionInfo(
        name="PUCK RESTful API", hostname="scb", api_version="0.2.0", sw_version="01.26.09454"
    )


def test_parse_version_tolerates_missing_name_and_hostname() -> None:
    version = p.parse_version({"sw_version": "1", "api_version": "0.2.0", "hostname": None})
    assert (version.name, version.hostname) == ("", "")


@pytest.mark.parametrize(
    "raw",
    [
        [VERSION],
        "PUCK",
        None,
        {"name": "some router"},
        {**VERSION, "sw_version": None},
        {key: value for key, value in VERSION.items() if key != "api_version"},
        {**VERSION, "api_version": 2},
    ],
)
def test_parse_version_rejects_other_devices(raw: object) -> None:
    with pytest.raises(UnsupportedDeviceError):
        p.parse_version(raw)


def test_parse_user_info() -> None:
    raw = {
        "role": "USER",
        "anonymous": False,
        "authenticated": True,
        "active": True,
        "locked": False,
        "permissions": ["read", "write"],
    }
    assert p.parse_user_info(raw) == UserInfo(
        role="USER",
        authenticated=True,
        anonymous=False,
        locked=False,
        active=True,
        permissions=("read", "write"),
    )


def test_parse_user_info_anonymous_with_few_fields() -> None:
    info = p.parse_user_info({"role": "NONE", "anonymous": True, "authenticated": False})
    assert info.role == "NONE"
    assert info.anonymous
    assert info.permissions == ()


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"anonymous": True, "authenticated": False},
        {"role": "USER", "anonymous": "no", "authenticated": True},
        {"role": "USER", "anonymous": False, "authenticated": True, "permissions": "all"},
        {"role": "USER", "anonymous": False, "authenticated": True, "permissions": [1]},
    ],
)
def test_parse_user_info_malformed(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="/auth/me"):
        p.parse_user_info(raw)


# ---- modules and process data ---------------------------------------------------------------


def test_parse_modules() -> None:
    raw = [
        {"id": "devices:local", "type": "device"},
        {"id": "devices:local:pv1", "type": "device:pv"},
    ]
    assert p.parse_modules(raw) == [
        Module(id="devices:local", type="device"),
        Module(id="devices:local:pv1", type="device:pv"),
    ]


@pytest.mark.parametrize("raw", [{}, [{"id": "x"}], [{"id": 1, "type": "t"}], ["devices:local"]])
def test_parse_modules_malformed(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="/modules"):
        p.parse_modules(raw)


def test_parse_process_data_ids() -> None:
    raw = [
        {"moduleid": "devices:local", "processdataids": ["Dc_P", "Grid_P"]},
        {"moduleid": "devices:local:pv1", "processdataids": []},
        {"moduleid": "devices:local", "processdataids": ["Home_P"]},
    ]
    assert p.parse_process_data_ids(raw) == {
        "devices:local": frozenset({"Dc_P", "Grid_P", "Home_P"}),
        "devices:local:pv1": frozenset(),
    }


@pytest.mark.parametrize(
    "raw",
    [
        {"devices:local": ["Dc_P"]},
        [{"moduleid": "devices:local"}],
        [{"moduleid": "devices:local", "processdataids": "Dc_P"}],
        [{"moduleid": "devices:local", "processdataids": [1]}],
        [{"processdataids": ["Dc_P"]}],
    ],
)
def test_parse_process_data_ids_malformed(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="GET /processdata"):
        p.parse_process_data_ids(raw)


def _process(module: str, *values: object) -> list[dict[str, Any]]:
    return [{"moduleid": module, "processdata": list(values)}]


def test_parse_process_data() -> None:
    raw = [
        {
            "moduleid": "devices:local",
            "processdata": [
                {"id": "Dc_P", "unit": "W", "value": 1234.5},
                {"id": "Inverter:State", "unit": "", "value": 6},
            ],
        },
        {"moduleid": "devices:local:battery", "processdata": [{"id": "SoC", "value": 80}]},
    ]
    data = p.parse_process_data(raw)
    assert data == {
        "devices:local": {
            "Dc_P": ProcessValue(id="Dc_P", unit="W", value=1234.5),
            "Inverter:State": ProcessValue(id="Inverter:State", unit="", value=6.0),
        },
        "devices:local:battery": {"SoC": ProcessValue(id="SoC", unit="", value=80.0)},
    }
    assert isinstance(data["devices:local"]["Inverter:State"].value, float)


def test_parse_process_data_leaves_out_non_finite_values() -> None:
    raw = json.loads(
        '[{"moduleid": "m", "processdata": [{"id": "a", "unit": "W", "value": NaN},'
        '{"id": "b", "unit": "W", "value": Infinity}, {"id": "c", "unit": "W", "value": 1}]}]'
    )
    assert p.parse_process_data(raw) == {"m": {"c": ProcessValue(id="c", unit="W", value=1.0)}}


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"moduleid": "m"}, "expected a list"),
        ([{"moduleid": "m"}], "expected a list, got NoneType"),
        ([{"processdata": []}], "'moduleid'"),
        (_process("m", {"id": "P", "unit": "W", "value": "12.5"}), "m/P is not a number"),
        (_process("m", {"id": "P", "unit": "W", "value": None}), "m/P is not a number"),
        (_process("m", {"id": "P", "unit": "W", "value": True}), "m/P is not a number"),
        (_process("m", {"id": "P", "unit": "W"}), "m/P is not a number"),
        (_process("m", {"unit": "W", "value": 1}), "'id'"),
        (_process("m", {"id": "P", "unit": 1, "value": 1}), "unit of m/P"),
        (_process("m", ["P", 1]), "expected an object"),
    ],
)
def test_parse_process_data_malformed(raw: object, match: str) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        p.parse_process_data(raw)


# ---- settings -------------------------------------------------------------------------------


def test_parse_settings_meta() -> None:
    raw = [
        {
            "moduleid": "devices:local",
            "settings": [
                {
                    "id": "Battery:MinSoc",
                    "unit": "%",
                    "type": "byte",
                    "access": "readwrite",
                    "min": "5",
                    "max": "100",
                    "default": None,
                },
                {"id": "Properties:SerialNo", "type": "string", "access": "readonly"},
                {
                    "id": "Battery:MinHomeComsumption",
                    "type": "float",
                    "access": "readwrite",
                    "unit": "W",
                    "min": 50,
                    "max": 38000.0,
                },
            ],
        }
    ]
    meta = p.parse_settings_meta(raw)["devices:local"]
    assert meta["Battery:MinSoc"] == SettingMeta(
        id="Battery:MinSoc",
        unit="%",
        type="byte",
        access="readwrite",
        min="5",
        max="100",
        default=None,
    )
    assert meta["Battery:MinSoc"].writable
    serial = meta["Properties:SerialNo"]
    assert (serial.unit, serial.min, serial.max, serial.default) == (None, None, None, None)
    assert not serial.writable
    consumption = meta["Battery:MinHomeComsumption"]
    assert (consumption.min, consumption.max) == ("50", "38000.0")


@pytest.mark.parametrize(
    "settings",
    [
        None,
        [{"id": "x", "access": "readonly"}],
        [{"id": "x", "type": "byte"}],
        [{"type": "byte", "access": "readonly"}],
        [{"id": "x", "type": "byte", "access": "readonly", "min": ["5"]}],
        [{"id": "x", "type": "byte", "access": "readonly", "max": True}],
    ],
)
def test_parse_settings_meta_malformed(settings: object) -> None:
    with pytest.raises(MalformedResponseError, match="GET /settings"):
        p.parse_settings_meta([{"moduleid": "devices:local", "settings": settings}])


def test_parse_setting_values() -> None:
    raw = [
        {
            "moduleid": "devices:local",
            "settings": [
                {"id": "Battery:MinSoc", "value": "15"},
                {"id": "Battery:Strategy", "value": "1"},
            ],
        },
        {"moduleid": "scb:network", "settings": [{"id": "Hostname", "value": "scb"}]},
    ]
    assert p.parse_setting_values(raw) == {
        "devices:local": {"Battery:MinSoc": "15", "Battery:Strategy": "1"},
        "scb:network": {"Hostname": "scb"},
    }


@pytest.mark.parametrize(
    "raw",
    [
        {"devices:local": {}},
        [{"moduleid": "devices:local"}],
        [{"moduleid": "devices:local", "settings": [{"id": "Battery:MinSoc", "value": 15}]}],
        [{"moduleid": "devices:local", "settings": [{"id": "Battery:MinSoc"}]}],
        [{"moduleid": "devices:local", "settings": [{"value": "15"}]}],
    ],
)
def test_parse_setting_values_malformed(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="POST /settings"):
        p.parse_setting_values(raw)


# ---- events ---------------------------------------------------------------------------------

EVENT = {
    "code": 5014,
    "category": "error",
    "group": "Grid",
    "description": "Grid frequency too high",
    "long_description": "The grid frequency exceeded the limit.",
    "start_time": "2026-05-01T09:29:14.537Z",
    "end_time": "2026-05-01T09:31:00Z",
    "is_active": False,
}


def test_parse_events() -> None:
    (event,) = p.parse_events([EVENT])
    assert event == InverterEvent(
        code=5014,
        category="error",
        group="Grid",
        description="Grid frequency too high",
        long_description="The grid frequency exceeded the limit.",
        start_time=datetime(2026, 5, 1, 9, 29, 14, 537000, tzinfo=UTC),
        end_time=datetime(2026, 5, 1, 9, 31, tzinfo=UTC),
        is_active=False,
    )
    assert event.key == "5014@2026-05-01T09:29:14.537000+00:00"


def test_parse_events_open_and_offset_times() -> None:
    ongoing = {**EVENT, "end_time": None, "is_active": True}
    absent = {key: value for key, value in EVENT.items() if key != "end_time"}
    offset = {**EVENT, "start_time": "2026-05-01T11:29:14+02:00"}
    naive = {**EVENT, "start_time": "2026-05-01T09:29:14"}
    events = p.parse_events([ongoing, absent, offset, naive])
    assert [event.end_time for event in events[:2]] == [None, None]
    assert events[2].start_time == datetime(2026, 5, 1, 9, 29, 14, tzinfo=UTC)
    assert events[2].start_time.utcoffset() == timedelta(hours=2)
    assert events[3].start_time == datetime(2026, 5, 1, 9, 29, 14, tzinfo=UTC)


def test_parse_events_tolerates_missing_texts() -> None:
    raw = {key: value for key, value in EVENT.items() if "description" not in key}
    (event,) = p.parse_events([{**raw, "group": None}])
    assert (event.group, event.description, event.long_description) == ("", "", "")


def test_parse_events_empty() -> None:
    assert p.parse_events([]) == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"code": "5014"}, "'code'"),
        ({"code": True}, "'code'"),
        ({"category": None}, "'category'"),
        ({"start_time": "yesterday"}, "ISO 8601"),
        ({"start_time": None}, "'start_time'"),
        ({"end_time": 1714555860}, "'end_time'"),
        ({"is_active": "yes"}, "'is_active'"),
    ],
)
def test_parse_events_malformed(change: dict[str, object], match: str) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        p.parse_events([{**EVENT, **change}])


def test_parse_events_not_a_list() -> None:
    with pytest.raises(MalformedResponseError, match="/events/latest"):
        p.parse_events({"events": [EVENT]})


# ---- login answers --------------------------------------------------------------------------

CHALLENGE = {
    "nonce": "AAECAwQFBgcICQoLoKGio6Slpqeoqaqr",
    "transactionId": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
    "salt": "EBESExQVFhcYGRob",
    "rounds": 29000,
}


def test_parse_auth_challenge() -> None:
    challenge = p.parse_auth_challenge(CHALLENGE)
    assert challenge.server_nonce == bytes(range(12)) + bytes(range(0xA0, 0xAC))
    assert challenge.salt == bytes(range(0x10, 0x1C))
    assert challenge.transaction_id == CHALLENGE["transactionId"]
    assert challenge.rounds == 29000


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"nonce": "%%%"}, "'nonce' is not base64"),
        ({"salt": None}, "'salt'"),
        ({"transactionId": 7}, "'transactionId'"),
        ({"rounds": "29000"}, "'rounds'"),
        ({"rounds": True}, "'rounds'"),
        ({"rounds": 0}, "out of range"),
        ({"rounds": p.MAX_ROUNDS + 1}, "out of range"),
    ],
)
def test_parse_auth_challenge_malformed(change: dict[str, object], match: str) -> None:
    with pytest.raises(MalformedResponseError, match=match):
        p.parse_auth_challenge({**CHALLENGE, **change})


def test_parse_auth_finish() -> None:
    token, signature = p.parse_auth_finish({"token": "abc", "signature": "AAEC"})
    assert (token, signature) == ("abc", b"\x00\x01\x02")
    with pytest.raises(MalformedResponseError, match="'signature'"):
        p.parse_auth_finish({"token": "abc", "signature": "AA=C"})
    with pytest.raises(MalformedResponseError, match="'token'"):
        p.parse_auth_finish({"signature": "AAEC"})


def test_parse_session_id() -> None:
    assert p.parse_session_id({"sessionId": "ab" * 32}) == "ab" * 32
    for raw in ({"sessionId": ""}, {"sessionId": None}, {}, ["ab"]):
        with pytest.raises(MalformedResponseError, match="/auth/create_session"):
            p.parse_session_id(raw)


# ---- errors ---------------------------------------------------------------------------------


def test_error_message() -> None:
    assert error_message(b'{"message": "Module not found"}') == "'Module not found'"
    assert error_message(b"") == "(no message)"
    assert error_message(b"<h1>Bad Gateway</h1>") == "'<h1>Bad Gateway</h1>'"
    assert error_message(b'{"message": 3}') == "'{\"message\": 3}'"


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("POST", "/auth/start", 400, AuthenticationError),
        ("POST", "/auth/finish", 400, AuthenticationError),
        ("POST", "/auth/create_session", 400, AuthenticationError),
        ("POST", "/auth/finish", 401, AuthenticationError),
        ("POST", "/auth/start", 403, AccountLockedError),
        ("POST", "/auth/finish", 403, AccountLockedError),
        ("PUT", "/settings", 403, PermissionDeniedError),
        ("POST", "/system/reboot", 403, PermissionDeniedError),
        ("POST", "/processdata", 404, NotFoundError),
        ("GET", "/modules", 429, RateLimitedError),
        ("GET", "/modules", 500, ApiConnectionError),
        ("GET", "/modules", 502, ApiConnectionError),
        ("POST", "/processdata", 503, ApiConnectionError),
        ("PUT", "/settings", 400, SolarHubApiError),
        ("PUT", "/settings", 409, SolarHubApiError),
    ],
)
def test_status_error(method: str, path: str, status: int, error: type[Exception]) -> None:
    exc = p.status_error(method, path, status, b'{"message": "some reason"}')
    assert type(exc) is error
    assert str(exc) == f"{method} {path} answered HTTP {status}: 'some reason'"


def test_status_error_401_on_a_session_call_is_an_authentication_error() -> None:
    exc = p.status_error("GET", "/modules", 401, b"")
    assert isinstance(exc, AuthenticationError)
    assert "HTTP 401" in str(exc)


def test_status_error_rate_limit_keeps_retry_after() -> None:
    exc = p.status_error("GET", "/modules", 429, b"", "120")
    assert isinstance(exc, RateLimitedError)
    assert exc.retry_after == 120.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, p.DEFAULT_RETRY_AFTER),
        ("30", 30.0),
        ("2.5", 2.5),
        ("-5", 0.0),
        ("soon", p.DEFAULT_RETRY_AFTER),
        ("nan", p.DEFAULT_RETRY_AFTER),
        ("Fri, 01 May 2026 12:01:30 GMT", 90.0),
        ("Fri, 01 May 2026 11:59:00 GMT", 0.0),
        ("Fri, 01 May 2026 12:00:10 -0000", 10.0),  # no zone given: taken as UTC
    ],
)
def test_parse_retry_after(value: str | None, seconds: float) -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert p.parse_retry_after(value, now=now) == seconds


def test_module_request_drops_duplicates_and_empty_modules() -> None:
    body = p._module_request(
        {"devices:local": ["Dc_P", "Grid_P", "Dc_P"], "devices:local:pv1": [], "x": iter(["P"])},
        "processdataids",
    )
    assert body == [
        {"moduleid": "devices:local", "processdataids": ["Dc_P", "Grid_P"]},
        {"moduleid": "x", "processdataids": ["P"]},
    ]
