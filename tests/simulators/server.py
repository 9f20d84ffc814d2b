"""What every vendor simulator shares: an aiohttp server on loopback and its fault switches.

:class:`LoopbackSimulator` owns the lifecycle (``start``/``stop``, ``async with``), the address
(``port``, ``host``, ``url``), the request counter and the fault queue of ``fail_next``. A vendor
subclass adds its routes and says what its errors look like, what "malformed" does to an answer
and what (if anything) happens around each request.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections import Counter
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Protocol, Self

from aiohttp import web

from . import SimClock

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from aiohttp.typedefs import Handler, Middleware

__all__ = ["LOOPBACK", "ApiError", "LoopbackSimulator", "SimulatorConfig", "truncated_json"]

LOOPBACK: Final = "127.0.0.1"


class SimulatorConfig(Protocol):
    """What the shared plumbing reads from a vendor's configuration."""

    @property
    def hang_seconds(self) -> float:
        """Wall time a "timeout" fault holds the request."""


class ApiError(Exception):
    """Raised by a route handler: answered with the vendor's error shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def truncated_json(
    response: web.StreamResponse,
    *,
    stub: bytes,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The same answer with its JSON cut in half (a strict prefix of an object is never valid).

    A body too short to halve is replaced by ``stub`` (an unfinished object); ``status`` defaults
    to the answer's own.
    """
    body = response.body if isinstance(response, web.Response) else None
    raw = bytes(body) if isinstance(body, bytes | bytearray) else b""
    text = raw[: len(raw) // 2] if len(raw) >= 2 else stub
    return web.Response(
        body=text,
        status=response.status if status is None else status,
        headers=headers,
        content_type="application/json",
    )


@dataclass(slots=True)
class _Fault:
    kind: str
    count: int
    path: str | None


class LoopbackSimulator[ConfigT: SimulatorConfig](ABC):
    """A vendor API served on ``127.0.0.1``, with ``config``, a :class:`SimClock` and faults.

    Observation: ``requests`` counts "METHOD /path" of every request that arrived. Control:
    ``fail_next``. Subclasses set ``fault_kinds`` (with "timeout" and "malformed", every kind is
    an HTTP status answered with ``fault_messages[kind]``), add their routes in ``_add_routes``
    and give their error shape (``_error_response``) and their meaning of "malformed"
    (``_malformed``).
    """

    fault_kinds: ClassVar[frozenset[str]] = frozenset({"timeout", "malformed"})
    fault_messages: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: ConfigT, clock: SimClock | None = None) -> None:
        self.config = config
        self.clock = clock or SimClock.real()
        self.requests: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._release: asyncio.Event | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1 (``port`` 0: any free one)."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._starting()
        self._release = asyncio.Event()
        app = web.Application(middlewares=[self._middleware()])
        self._add_routes(app)
        # Keep-alive long enough that a test jumping the loop clock never races a server-side close.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, keepalive_timeout=86400)
        await runner.setup()
        try:
            await web.TCPSite(runner, LOOPBACK, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving (the state survives, as over a network outage); ``start`` may follow."""
        if self._runner is None:
            return
        if self._release is not None:
            self._release.set()  # let hanging "timeout" requests finish
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("simulator not started")
        return self._port

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # -- faults ------------------------------------------------------------------------------------

    def fail_next(self, kind: str, count: int = 1, path: str | None = None) -> None:
        """Answer the next ``count`` requests (with a path ending in ``path``) with a fault.

        Kinds (``fault_kinds``): "timeout" (hold the request ``config.hang_seconds`` of wall
        time, then answer normally), "malformed" (the answer spoilt, see the vendor's class), and
        HTTP statuses such as "500" (error answers in the vendor's shape).
        """
        if kind not in self.fault_kinds:
            raise ValueError(
                f"unknown fault kind {kind!r}, expected one of {sorted(self.fault_kinds)}"
            )
        if count < 1:
            raise ValueError("count must be positive")
        self._faults.append(_Fault(kind, count, path))

    # -- what vendors provide ----------------------------------------------------------------------

    def _starting(self) -> None:  # noqa: B027  (a hook: most vendors need nothing here)
        """Called by ``start`` before the server is set up."""

    @abstractmethod
    def _add_routes(self, app: web.Application) -> None:
        """Register the vendor's routes."""

    @abstractmethod
    def _error_response(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        """An error answer in the vendor's shape."""

    @abstractmethod
    def _malformed(self, response: web.StreamResponse) -> web.StreamResponse:
        """What a "malformed" fault makes of an answer."""

    def _http_error(self, err: web.HTTPException) -> web.Response:
        """The answer to an aiohttp HTTP exception (unknown route, wrong method, ...)."""
        return self._error_response(err.status, err.reason)

    def _fault_response(self, kind: str) -> web.StreamResponse:
        """The answer to a status fault such as "503"."""
        return self._error_response(int(kind), self.fault_messages[kind])

    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The answer to a counted request; vendors wrap ``_answer`` in what they add around it."""
        return await self._answer(request, handler)

    # -- plumbing ----------------------------------------------------------------------------------

    def _middleware(self) -> Middleware:
        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.requests[f"{request.method} {request.path}"] += 1
            return await self._serve(request, handler)

        return middleware

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The handler's answer with the next fault for this path applied, errors in shape."""
        fault = self._take_fault(request.path)
        if fault == "timeout":
            await self._hang()
        elif fault is not None and fault != "malformed":
            return self._fault_response(fault)
        try:
            response = await handler(request)
        except ApiError as err:
            response = self._error_response(err.status, err.message, err.headers)
        except web.HTTPException as err:
            response = self._http_error(err)
        return self._malformed(response) if fault == "malformed" else response

    def _take_fault(self, path: str) -> str | None:
        for fault in self._faults:
            if fault.path is None or path.endswith(fault.path):
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
                return fault.kind
        return None

    async def _hang(self) -> None:
        assert self._release is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), self.config.hang_seconds)
