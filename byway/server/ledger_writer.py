"""The usage writer: a process ``byway serve`` starts beside each worker to store the worker's usage journal
in the database, so storing costs the worker's event loop nothing but the journal append.

It drains the journal (``accounting.ledger.drain``) every ``interval`` seconds, and at once when the worker
writes a byte to its stdin (a flush: the usage API reads what was just recorded). When its stdin closes,
because the worker is stopping or has died, it drains once more and ends; anything it could not store stays
in the journal for the next start. It ignores SIGINT: Ctrl-C reaches the whole process group, and the
worker decides when it ends.

    python -m byway.server.ledger_writer JOURNAL_DIR INTERVAL   (the database URL in BYWAY_LEDGER_DATABASE_URL)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from byway.accounting.journal import JournalFiles
from byway.accounting.ledger import drain

log = logging.getLogger("byway.ledger")

URL_VARIABLE = "BYWAY_LEDGER_DATABASE_URL"
# How long a stopping worker gives its writer to finish. A writer still busy after that (one still starting
# up, a slow database) is killed: the worker stores what is left itself, so shutting down stays quick.
STOP_SECONDS = 2.0


class WriterProcess:
    """The worker's handle on its writer process (``accounting.ledger.Writer``)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls, journal_dir: Path, database_url: str, interval: float) -> WriterProcess:
        env = {**os.environ, URL_VARIABLE: database_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "byway.server.ledger_writer", str(journal_dir), repr(interval),
            stdin=asyncio.subprocess.PIPE, env=env)
        return cls(process)

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.returncode is None

    def wake(self) -> None:
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.write(b"!")

    async def stop(self) -> None:
        stdin = self._process.stdin
        if stdin is not None:
            stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), STOP_SECONDS)
        except TimeoutError:
            try:
                self._process.kill()
            except ProcessLookupError:  # it ended just now
                pass
            await self._process.wait()


async def run(directory: Path, database_url: str, interval: float) -> None:
    from byway.store.database import create_engine
    from byway.store.usage import UsageRepo

    journal = JournalFiles(directory)
    engine = create_engine(database_url)
    usage = UsageRepo(engine)
    loop = asyncio.get_running_loop()
    told = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(told), sys.stdin)
    failures = 0
    try:
        while True:
            wait = interval if not failures else min(30.0, 0.5 * 2 ** min(failures, 6))  # backing off
            try:
                said: bytes | None = await asyncio.wait_for(told.read(4096), wait)
            except TimeoutError:
                said = None
            ending = said == b""
            try:
                await drain(journal, usage.insert)
                failures = 0
            except Exception as e:
                failures += 1
                reason = str(e).splitlines()[0][:200] if str(e) else ""
                log.warning("usage ledger: storing records failed (%s: %s); they wait in the journal",
                            type(e).__name__, reason)
            if ending:
                return
    finally:
        await engine.dispose()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="byway writer: %(message)s")
    directory, interval = Path(sys.argv[1]), float(sys.argv[2])
    database_url = os.environ.pop(URL_VARIABLE)
    asyncio.run(run(directory, database_url, interval))


if __name__ == "__main__":
    main()
