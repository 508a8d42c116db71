"""The usage ledger: every record is made durable in the local journal on the request path, and written
to the database in batches by a background task.

``record`` costs one ``write`` and a list append. The writer wakes every ``interval`` seconds (sooner
when a batch is full), stores what was recorded since in one transaction, hands the batch to the
listeners (statistics, metrics), and moves the journal's checkpoint. On start it first replays what an
earlier process journaled but never stored; the database ignores a record it already has (by request id),
so a crash between storing and checkpointing costs nothing. If the database stays away long enough for the
buffer to fill, the buffer is dropped and the writer catches up from the journal instead.

Several worker processes each claim a journal directory of their own (``claim_journal``); one left by a
process that is gone is drained by whoever starts next.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from byway.accounting.journal import Journal, Position
from byway.core.usage_record import UsageRecord

log = logging.getLogger("byway.ledger")

Sink = Callable[[list[UsageRecord]], Awaitable[None]]
Listener = Callable[[Sequence[UsageRecord]], None]
_LOCK = "lock"
_MAX_SLOTS = 256


class Ledger:
    def __init__(self, journal: Journal, sink: Sink, *, interval: float = 0.2, batch_size: int = 1000,
                 max_buffered: int = 100_000) -> None:
        self.journal = journal
        self.sink = sink
        self.interval = interval
        self.batch_size = batch_size
        self.max_buffered = max_buffered
        self.listeners: list[Listener] = []
        self._buffer: list[UsageRecord] = []
        self._end: Position | None = None
        self._overflowed = False
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.stored = 0  # records written to the database by this process (replays included)

    # --- the request path ---------------------------------------------------------------------------------

    def record(self, record: UsageRecord) -> None:
        end = self.journal.append(record)
        if self._overflowed:
            return  # the writer is reading the journal itself until it has caught up
        buffer = self._buffer
        buffer.append(record)
        self._end = end
        if len(buffer) >= self.batch_size:
            if len(buffer) >= self.max_buffered:
                log.warning("usage ledger: %d records wait for the database; continuing from the journal",
                            len(buffer))
                self._buffer = []
                self._overflowed = True
            self._wake.set()

    # --- the writer ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Replay what the journal holds beyond its checkpoint, then write in the background."""
        async with self._lock:
            await self._catch_up(self.journal)
        self._task = asyncio.create_task(self._run(), name="usage-ledger")

    async def flush(self) -> None:
        """Return once everything recorded so far is stored and the listeners have seen it."""
        async with self._lock:
            if self._overflowed:
                await self._catch_up(self.journal)
                return
            if not self._buffer:
                return
            batch, end = self._buffer, self._end
            self._buffer = []
            try:
                await self._store(batch)
            except BaseException:
                if not self._overflowed:
                    self._buffer[:0] = batch  # try again next time, in order
                raise
            if end is not None and not self._overflowed:
                self.journal.commit(end)

    async def replay(self, journal: Journal) -> None:
        """Store what another journal (one left by a process that is gone) holds beyond its checkpoint."""
        async with self._lock:
            await self._catch_up(journal)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.flush()
        except Exception as e:  # what is not stored stays in the journal for the next start
            log.warning("usage ledger: could not store the last records (%s); they are kept in the journal", e)
        self.journal.close()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:
                failures += 1
                log.warning("usage ledger: storing records failed (%s); retrying", type(e).__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))

    async def _store(self, batch: list[UsageRecord]) -> None:
        for start in range(0, len(batch), self.batch_size):
            await self.sink(batch[start:start + self.batch_size])
        self.stored += len(batch)
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception:
                log.exception("usage ledger: a listener failed")

    async def _catch_up(self, journal: Journal) -> None:
        """Store ``journal``'s records beyond its checkpoint, until a pass finds none. The last pass does
        not await, so nothing appended during the catching up is missed when buffering resumes."""
        while True:
            found = False
            for batch in journal.pending(self.batch_size):
                if batch.records:
                    found = True
                    await self._store(batch.records)
                journal.commit(batch.end)
            if not found:
                if journal is self.journal:
                    self._overflowed = False
                    self._end = None
                return


def claim_journal(directory: Path) -> Journal:
    """A journal directory under ``directory`` that no other live process holds (held until exit)."""
    directory.mkdir(parents=True, exist_ok=True)
    for slot in range(_MAX_SLOTS):
        path = directory / str(slot)
        if _try_lock(path) is not None:
            return Journal(path)
    raise RuntimeError(f"usage ledger: every journal slot in {directory} is held by a running process")


def orphaned_journals(directory: Path) -> list[tuple[Journal, int]]:
    """The journals under ``directory`` no live process holds, each locked for replay (release with
    ``release``)."""
    found = []
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        if path.is_dir() and path.name.isdigit():
            fd = _try_lock(path, keep=False)
            if fd is not None:
                found.append((Journal(path), fd))
    return found


def release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


_HELD: list[int] = []  # lock descriptors this process keeps for its lifetime


def _try_lock(path: Path, keep: bool = True) -> int | None:
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if keep:
        _HELD.append(fd)
    return fd
