"""What the simulator tests share: the runner in a child process (moments: tests/constants.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import signal
import sys

__all__ = ["simulator_process"]


@contextlib.asynccontextmanager
async def simulator_process(*args: str, lines: int = 4) -> AsyncIterator[list[str]]:
    """``python -m tests.simulators *args`` in a child process; yields its first banner lines.

    On leaving, the process gets SIGTERM and must exit with status 0.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.simulators",
        *args,
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    assert process.stdout is not None
    try:
        yield [
            (await asyncio.wait_for(process.stdout.readline(), 60)).decode() for _ in range(lines)
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
