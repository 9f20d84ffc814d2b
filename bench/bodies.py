"""What oversized answers cost the client: peak extra memory and the longest event-loop stall.

Run with ``scripts/run python -m bench.bodies`` (``--case NAME`` for one case). Each case runs in
a fresh Python process, so its peak resident memory is its own, against a server in another
process that streams the body over loopback in 64 kB chunks (so the server holds no large
buffer). A ticker task on the client's loop wakes every 5 ms; the longest gap beyond that is
the stall. The clients are used through their public calls only, so the same file measures
older code as well.

Cases:
- ``error-50MB`` / ``error-200MB``: a PLENTICORE ``GET /info/version`` answered HTTP 500 with an
  HTML-like body of that size (words and white space, as proxies' error pages are);
- ``tigo-csv-200MB``: a Tigo ``data/aggregate`` answer of that size;
- ``tigo-csv-12MB``: one below the client's cap, parsed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from typing import Final
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

MB: Final = 1024 * 1024
CHUNK: Final = 64 * 1024
TICK: Final = 0.005
BERLIN: Final = ZoneInfo("Europe/Berlin")
NOON: Final = datetime(2026, 6, 21, 10, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Case:
    """One oversized answer: what the server sends, and which client call reads it."""

    name: str
    size: int
    kind: str  # "error" or "csv"


CASES: Final = (
    Case("error-50MB", 50 * MB, "error"),
    Case("error-200MB", 200 * MB, "error"),
    Case("tigo-csv-200MB", 200 * MB, "csv"),
    Case("tigo-csv-12MB", 12 * MB, "csv"),
)


def _error_chunk() -> bytes:
    line = b"<p>Service unavailable: the upstream did not answer, try again later.</p>\n"
    return (line * (CHUNK // len(line) + 1))[:CHUNK]


def _csv_rows(start: datetime) -> AsyncIterator[bytes]:
    """Minute rows of 20 panels from ``start``, as ``data/aggregate`` sends them."""

    async def rows() -> AsyncIterator[bytes]:
        yield b"Datetime," + ",".join(str(i) for i in range(1, 21)).encode() + b"\n"
        minute = 0
        while True:
            lines = []
            for _ in range(200):
                stamp = (start + timedelta(minutes=minute)).strftime("%Y/%m/%d %H:%M:%S")
                lines.append(stamp + "," + ",".join(["251.25"] * 20))
                minute += 1
            yield ("\n".join(lines) + "\n").encode()

    return rows()


def _serve(case: Case, port: multiprocessing.SimpleQueue[int]) -> None:
    """The server process: stream ``case.size`` bytes, then end the answer."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("users/login"):
            expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
            return web.json_response(
                {"user": {"user_id": 1, "auth": "T", "expires": expires, "user_type": "Basic"}}
            )
        status = 500 if case.kind == "error" else 200
        response = web.StreamResponse(status=status)
        response.content_type = "text/html" if case.kind == "error" else "text/csv"
        await response.prepare(request)
        sent = 0
        with contextlib.suppress(ConnectionError):
            if case.kind == "error":
                chunk = _error_chunk()
                while sent < case.size:
                    await response.write(chunk)
                    sent += len(chunk)
            else:
                # The last full row that fits, so the answer stays valid CSV.
                async for rows in _csv_rows(datetime(2020, 1, 1)):
                    if sent + len(rows) > case.size:
                        break
                    await response.write(rows)
                    sent += len(rows)
            await response.write_eof()
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _client_call(case: Case, host: str) -> str:
    # Imported here, so that the baseline memory already holds them.
    from custom_components.solarhub.api.errors import SolarHubApiError
    from custom_components.solarhub.api.plenticore.client import PlenticoreClient
    from custom_components.solarhub.api.tigo.client import TigoClient

    async with aiohttp.ClientSession() as session:
        try:
            if case.kind == "error":
                await PlenticoreClient(session, host, request_timeout=600).get_version()
                return "no error"
            client = TigoClient(
                session, "u", "p", base_url=f"http://{host}/api/v3/", request_timeout=600
            )
            series = await client.get_aggregate(
                1, datetime(2020, 1, 1), datetime(2021, 1, 1), tz=BERLIN
            )
            return f"parsed {sum(len(v) for v in series.columns.values())} values"
        except SolarHubApiError as err:
            return f"{type(err).__name__}: {str(err)[:90]}"


async def _measure(case: Case, host: str) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    longest = 0.0
    running = True

    async def ticker() -> None:
        nonlocal longest
        while running:
            before = loop.time()
            await asyncio.sleep(TICK)
            longest = max(longest, loop.time() - before - TICK)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    outcome = await _client_call(case, host)
    seconds = time.monotonic() - started
    running = False
    await ticking
    return {"outcome": outcome, "seconds": round(seconds, 2), "stall_s": round(longest, 3)}


def run_case(case: Case) -> dict[str, object]:
    """Run one case in this process (a fresh one) and return its figures."""
    import custom_components.solarhub.api.plenticore.client
    import custom_components.solarhub.api.tigo.client  # noqa: F401

    ctx = multiprocessing.get_context("spawn")
    port: multiprocessing.SimpleQueue[int] = ctx.SimpleQueue()
    server = ctx.Process(target=_serve, args=(case, port), daemon=True)
    server.start()
    try:
        host = f"127.0.0.1:{port.get()}"
        baseline = _rss_kib()
        figures = asyncio.run(_measure(case, host))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        server.terminate()
        server.join()
    return {"case": case.name, "extra_MB": round((peak - baseline) / 1024), **figures}


def main() -> None:
    """Run every case (each in a child process) or, with ``--case``, one here."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[case.name for case in CASES])
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(next(c for c in CASES if c.name == args.case))))
        return
    print(f"{'case':<16} {'extra MB':>9} {'stall s':>8} {'time s':>7}  outcome")
    for case in CASES:
        child = subprocess.run(  # noqa: S603 (our own interpreter and case names)
            [sys.executable, "-m", "bench.bodies", "--case", case.name],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"{row['case']:<16} {row['extra_MB']:>9} {row['stall_s']:>8} {row['seconds']:>7}"
            f"  {row['outcome']}"
        )


if __name__ == "__main__":
    main()
