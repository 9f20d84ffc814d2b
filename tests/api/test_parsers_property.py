"""Every answer parser of every client raises nothing but its error family (issue 9, item 1).

:data:`CASES` is the registry: one line per parser, naming the recorded answers it reads. The
answers are recorded from the simulators over loopback (:data:`RECORDERS`: one function per
vendor, driving its client and keeping every body it received, keyed ``"<vendor> <METHOD>
<path>"``). Hypothesis then feeds each parser random JSON, real answers with random parts
replaced, and byte-level damage (cuts, deep nesting, lone surrogates, huge numbers).

To add a vendor: a recorder in :data:`RECORDERS` and one :class:`Case` line per parser.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import re
from types import ModuleType
from typing import Any, Final
from unittest.mock import patch
from zoneinfo import ZoneInfo

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from yarl import URL

from custom_components.solarhub.api import http
from custom_components.solarhub.api.errors import SolarHubApiError
from custom_components.solarhub.api.plenticore import client as p
from custom_components.solarhub.api.plenticore.client import PlenticoreClient
from custom_components.solarhub.api.shapes import error_message, parse_json
from custom_components.solarhub.api.tigo import client as tigo
from custom_components.solarhub.api.tigo.client import TigoClient
from custom_components.solarhub.api.tigo.csv import parse_aggregate_csv, parse_combined_csv
from tests.simulators import SimClock
from tests.simulators.plenticore import PlenticoreConfig, PlenticoreSimulator
from tests.simulators.tigo import TigoConfig, TigoSimulator

pytestmark = pytest.mark.usefixtures("socket_enabled")

NOON: Final = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)
BERLIN: Final = ZoneInfo("Europe/Berlin")
EXAMPLES: Final = 2000

type Answers = dict[str, list[bytes]]
type Recorder = Callable[[aiohttp.ClientSession], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Case:
    """A parser of whole answer bodies and the key of the recorded answers it reads."""

    answers: str
    parse: Callable[[bytes], object]


def _json[T](parser: Callable[[object], T]) -> Callable[[bytes], T]:
    return lambda body: parser(parse_json(body))


def _csv[T](parser: Callable[[str, ZoneInfo], T]) -> Callable[[bytes], T]:
    return lambda body: parser(tigo.decode_text(body, "csv"), BERLIN)


CASES: Final[list[Case]] = [
    Case("plenticore GET /api/v1/info/version", _json(p.parse_version)),
    Case("plenticore POST /api/v1/auth/start", _json(p.parse_auth_challenge)),
    Case("plenticore POST /api/v1/auth/finish", _json(p.parse_auth_finish)),
    Case("plenticore POST /api/v1/auth/create_session", _json(p.parse_session_id)),
    Case("plenticore GET /api/v1/processdata", _json(p.parse_process_data_ids)),
    Case("plenticore POST /api/v1/processdata", _json(p.parse_process_data)),
    Case("plenticore GET /api/v1/settings", _json(p.parse_settings_meta)),
    Case("plenticore POST /api/v1/settings", _json(p.parse_setting_values)),
    Case("plenticore POST /api/v1/events/latest", _json(p.parse_events)),
    Case("plenticore errors", error_message),
    Case("tigo GET /api/v3/users/login", _json(tigo.parse_token)),
    Case("tigo GET /api/v3/systems", _json(tigo.parse_systems)),
    Case("tigo GET /api/v3/systems/view", _json(tigo.parse_system)),
    Case("tigo GET /api/v3/systems/layout", _json(tigo.parse_layout)),
    Case("tigo GET /api/v3/objects/system", _json(tigo.parse_objects)),
    Case("tigo GET /api/v3/sources/system", _json(tigo.parse_sources)),
    Case("tigo GET /api/v3/data/summary", _json(tigo.parse_summary)),
    Case("tigo GET /api/v3/alerts/system", _json(tigo.parse_alerts)),
    Case(
        "tigo GET /api/v3/data/aggregate",
        _csv(lambda text, tz: parse_aggregate_csv(text, tz, now=NOON)),
    ),
    Case(
        "tigo GET /api/v3/data/combined",
        _csv(lambda text, tz: parse_combined_csv(text, tz, now=NOON)),
    ),
    Case("tigo errors", error_message),
]


# ---- recording real answers ------------------------------------------------------------------


@contextlib.contextmanager
def _recording(vendor: str, module: ModuleType, answers: Answers) -> Iterator[None]:
    """Keep every body ``module``'s client receives, under ``"<vendor> <METHOD> <path>"``."""

    async def exchange(
        session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
    ) -> http.Answer:
        mapper: http.StatusMapper = kwargs.pop("status_error")

        def status_error(failure: http.Failure) -> SolarHubApiError:
            answers[f"{vendor} errors"].append(failure.body)
            return mapper(failure)

        answer = await http.exchange(session, method, url, status_error=status_error, **kwargs)
        answers[f"{vendor} {method} {URL(url).path}"].append(answer.body)
        return answer

    with patch.object(module, "exchange", exchange):
        yield


async def _record_plenticore(http: aiohttp.ClientSession) -> None:
    sim = PlenticoreSimulator(PlenticoreConfig(rounds=1000), SimClock.fixed(NOON))
    await sim.start()
    try:
        client = PlenticoreClient(http, sim.host)
        await client.get_version()
        await client.login(sim.config.password)
        listed = await client.get_process_data_ids()
        await client.get_process_data(listed)
        meta = await client.get_settings_meta()
        readable = {
            module: [sid for sid, setting in settings.items() if "read" in setting.access]
            for module, settings in meta.items()
        }
        await client.get_setting_values(readable)
        await client.get_events()
        sim.raise_event(5014, "Insulation fault", long_description="Check the PV generator")
        sim.raise_event(6019, "Grid frequency", category="warning")
        sim.clear_event(6019)
        await client.get_events()
        with contextlib.suppress(SolarHubApiError):
            await client.get_process_data({"devices:nowhere": ["X"]})
        with contextlib.suppress(SolarHubApiError):
            await client.set_setting_values("devices:local", {"Nothing:Here": "1"})
        await client.logout()
    finally:
        await sim.stop()


async def _record_tigo(http: aiohttp.ClientSession) -> None:
    cfg = TigoConfig()
    sim = TigoSimulator(cfg, SimClock.fixed(NOON))
    await sim.start()
    try:
        client = TigoClient(
            http, cfg.username, cfg.password, base_url=sim.base_url, clock=sim.clock.now
        )
        systems = await client.get_systems()
        system_id = systems[0].system_id
        await client.get_system(system_id)
        await client.get_layout(system_id)
        await client.get_objects(system_id)
        await client.get_sources(system_id)
        await client.get_summary(system_id)
        await client.get_aggregate(system_id, NOON - timedelta(hours=1), NOON, tz=BERLIN)
        await client.get_combined(system_id, NOON - timedelta(hours=12), NOON, tz=BERLIN)
        await client.get_alerts(system_id)
        sim.raise_alert(system_id, 106, message="Module 2 is not reporting")
        await client.get_alerts(system_id)
        with contextlib.suppress(SolarHubApiError):
            await client.get_system(1)
        await TigoClient(http, cfg.username, "wrong", base_url=sim.base_url).login()
    except SolarHubApiError:
        pass  # the wrong password, last: its answer is recorded
    finally:
        await sim.stop()


# vendor: (what drives its client against its simulator, the client's module)
RECORDERS: Final[dict[str, tuple[Recorder, ModuleType]]] = {
    "plenticore": (_record_plenticore, p),
    "tigo": (_record_tigo, tigo),
}


async def _record() -> Answers:
    answers: Answers = defaultdict(list)
    for vendor, (record, module) in RECORDERS.items():
        with _recording(vendor, module, answers):
            async with aiohttp.ClientSession() as session:
                await record(session)
    return answers


# ---- what hypothesis feeds the parsers ------------------------------------------------------

_HOSTILE_TEXT = st.sampled_from(
    ["\ud800", "", " ", "0000-00-00 00:00:00", "2026-06-21T10:00:00+02:00", "9" * 5000, "-7"]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | _HOSTILE_TEXT
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12) | _HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
_NUMBER = re.compile(rb"-?[0-9]+(\.[0-9]+)?")


def _paths(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in a decoded answer (itself included)."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


def _replace(node: object, path: tuple[object, ...], value: object | None, delete: bool) -> object:
    """``node`` with the value at ``path`` replaced by ``value``, or deleted."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copy = dict(node)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(copy[head], rest, value, delete)
        return copy
    assert isinstance(node, list)
    assert isinstance(head, int)
    items = list(node)
    if delete and not rest:
        del items[head]
    else:
        items[head] = _replace(items[head], rest, value, delete)
    return items


@st.composite
def _mutated(draw: st.DrawFn, body: bytes) -> bytes:
    """A real answer, damaged at the JSON level (if it is JSON) and then at the byte level."""
    try:
        tree: object = json.loads(body)
    except ValueError:
        tree = None
    else:
        for _ in range(draw(st.integers(1, 3))):
            paths = _paths(tree)
            path = paths[draw(st.integers(0, len(paths) - 1))]
            delete = draw(st.booleans()) and bool(path)
            tree = _replace(tree, path, None if delete else draw(_JSON), delete)
        body = json.dumps(tree).encode()
    match draw(st.integers(0, 5)):
        case 0:  # cut short
            body = body[: draw(st.integers(0, len(body)))]
        case 1:  # nesting far deeper than any decoder's recursion
            at = draw(st.integers(0, len(body)))
            body = body[:at] + b"[" * 100_000 + body[at:]
        case 2:  # a number of more digits than int() reads
            body = _NUMBER.sub(b"7" * 5000, body, count=1)
        case 3:  # bytes that are no UTF-8
            at = draw(st.integers(0, len(body)))
            body = body[:at] + draw(st.binary(min_size=1, max_size=4)) + body[at:]
        case _:
            pass
    return body


def _inputs(answers: Answers) -> st.SearchStrategy[tuple[Case, bytes]]:
    def for_case(case: Case) -> st.SearchStrategy[tuple[Case, bytes]]:
        samples = answers[case.answers]
        real = st.sampled_from(samples).flatmap(_mutated)
        random = _JSON.map(lambda value: json.dumps(value).encode())
        return st.tuples(st.just(case), real | random)

    return st.sampled_from(CASES).flatmap(for_case)


async def test_every_parser_raises_only_its_error_family() -> None:
    answers = await _record()
    missing = [case.answers for case in CASES if not answers.get(case.answers)]
    assert not missing, f"no recorded answers for {missing}"
    for case in CASES:  # the real answers themselves parse
        if not case.answers.endswith("errors"):
            for body in answers[case.answers]:
                case.parse(body)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_inputs(answers))
    def parse(case_and_body: tuple[Case, bytes]) -> None:
        case, body = case_and_body
        with contextlib.suppress(SolarHubApiError):
            case.parse(body)

    parse()
