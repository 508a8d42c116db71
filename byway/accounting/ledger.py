"""The usage ledger: every record is made durable in the local journal on the request path, and stored in
the database in batches behind it.

``record`` costs one ``write`` and a list append. Storing is ``drain``: read what the journal holds beyond
its checkpoint, store it in batches (the database ignores a record it already has, by request id, so a
crash between storing and checkpointing costs nothing), move the checkpoint. A ledger given a ``spawn``
leaves the draining to a writer process of its own, so the database work costs the event loop nothing;
without one it drains every ``interval`` seconds itself. Either way, every ``interval`` seconds the records
recorded since are handed to the listeners (statistics, metrics), and on start whatever an earlier process
journaled but never stored is stored first. If the database is away, nothing piles up in memory: the
records wait in the journal.

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
from typing import Protocol

from byway.accounting.journal import Journal, JournalFiles
from byway.core.usage_record import UsageRecord

log = logging.getLogger("byway.ledger")

Sink = Callable[[list[UsageRecord]], Awaitable[None]]
Listener = Callable[[Sequence[UsageRecord]], None]
_LOCK = "lock"
_MAX_SLOTS = 256
_POLL = 0.005


async def drain(journal: JournalFiles, sink: Sink, batch_size: int = 1000) -> None:
    """Store what ``journal`` holds beyond its checkpoint, batch by batch, moving the checkpoint after each."""
    for batch in journal.pending(batch_size):
        if batch.records:
            await sink(batch.records)
        journal.commit(batch.end)


class Writer(Protocol):
    """A process that drains the ledger's journal on its own."""

    def alive(self) -> bool: ...

    def wake(self) -> None:
        """Drain now rather than at the next interval."""

    async def stop(self) -> None:
        """Drain once more and end."""


Spawn = Callable[[Path], Awaitable[Writer]]


class Ledger:
    def __init__(self, journal: Journal, sink: Sink, *, interval: float = 0.2, batch_size: int = 1000,
                 spawn: Spawn | None = None, flush_timeout: float = 5.0) -> None:
        self.journal = journal
        self.sink = sink
        self.interval = interval
        self.batch_size = batch_size
        self.flush_timeout = flush_timeout
        self.listeners: list[Listener] = []
        self._fresh: list[UsageRecord] = []  # recorded, not yet handed to the listeners
        self._spawn = spawn
        self._writer: Writer | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # --- the request path ---------------------------------------------------------------------------------

    def record(self, record: UsageRecord) -> None:
        self.journal.append(record)
        self._fresh.append(record)

    # --- behind it -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Store what the journal holds beyond its checkpoint, then store in the background."""
        async with self._lock:
            await drain(self.journal, self.sink, self.batch_size)
        if self._spawn is not None:
            self._writer = await self._spawn(self.journal.directory)
        self._task = asyncio.create_task(self._run(), name="usage-ledger")

    def publish(self) -> None:
        """Hand the records recorded since the last call to the listeners."""
        fresh = self._fresh
        if not fresh:
            return
        self._fresh = []
        for listener in self.listeners:
            try:
                listener(fresh)
            except Exception:
                log.exception("usage ledger: a listener failed")

    async def flush(self) -> None:
        """Return once everything recorded so far is stored and the listeners have seen it."""
        self.publish()
        end = self.journal.end()
        writer = self._writer
        if writer is not None and writer.alive():
            writer.wake()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.flush_timeout
            while self.journal.checkpoint() < end:
                if loop.time() > deadline or not writer.alive():
                    break  # store them from here instead
                await asyncio.sleep(_POLL)
            else:
                return
        async with self._lock:
            await drain(self.journal, self.sink, self.batch_size)

    async def replay(self, journal: JournalFiles) -> None:
        """Store what another journal (one left by a process that is gone) holds beyond its checkpoint."""
        async with self._lock:
            await drain(journal, self.sink, self.batch_size)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.stop()
        try:
            await self.flush()
        except Exception as e:  # what is not stored stays in the journal for the next start
            log.warning("usage ledger: could not store the last records (%s); they are kept in the journal", e)
        self.journal.close()

    async def _run(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        respawn_at = 0.0
        while True:
            await asyncio.sleep(self.interval)
            self.publish()
            try:
                writer = self._writer
                if self._spawn is not None and (writer is None or not writer.alive()) and loop.time() >= respawn_at:
                    log.warning("usage ledger: the writer process is gone; starting another")
                    self._writer = None
                    respawn_at = loop.time() + 30.0  # one that dies at once is not restarted in a loop
                    self._writer = await self._spawn(self.journal.directory)
                if self._writer is None or not self._writer.alive():
                    async with self._lock:
                        await drain(self.journal, self.sink, self.batch_size)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:
                failures += 1
                log.warning("usage ledger: storing records failed (%s); retrying", type(e).__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))


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
