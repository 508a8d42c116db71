"""The usage ledger: journal on the request path, batches into the database behind it, replay at start."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from byway.accounting.journal import Journal, JournalFiles
from byway.accounting.ledger import Ledger, claim_journal, orphaned_journals, release
from byway.core.usage_record import UsageRecord
from byway.server.ledger_writer import WriterProcess
from byway.store import Store, upgrade


def _record(n: int) -> UsageRecord:
    return UsageRecord(request_id=f"req_{n:06d}", created_at=1_700_000_000.0 + n, user_id="u", key_id="k",
                       credential=None, provider="oa", model="gpt-4o-mini", endpoint="chat.completions",
                       stream=False, tokens_in=10, tokens_out=n, cost=Decimal(n) / 1000)


class Sink:
    def __init__(self) -> None:
        self.stored: list[UsageRecord] = []
        self.fail = 0

    async def __call__(self, batch: list[UsageRecord]) -> None:
        await asyncio.sleep(0)
        if self.fail:
            self.fail -= 1
            raise ConnectionError("database away")
        self.stored.extend(batch)


async def test_flush_stores_in_order_feeds_listeners_and_moves_the_checkpoint(tmp_path: Path) -> None:
    sink = Sink()
    seen: list[Sequence[UsageRecord]] = []
    ledger = Ledger(Journal(tmp_path), sink, interval=60)
    ledger.listeners.append(seen.append)
    await ledger.start()
    for n in range(5):
        ledger.record(_record(n))
    await ledger.flush()
    assert [r.request_id for r in sink.stored] == [f"req_{n:06d}" for n in range(5)]
    assert [len(b) for b in seen] == [5]
    assert list(Journal(tmp_path).pending()) == []  # nothing left to replay
    await ledger.close()


async def test_a_failed_write_is_retried_in_order(tmp_path: Path) -> None:
    sink = Sink()
    ledger = Ledger(Journal(tmp_path), sink, interval=60)
    await ledger.start()
    ledger.record(_record(1))
    sink.fail = 1
    with pytest.raises(ConnectionError):
        await ledger.flush()
    ledger.record(_record(2))
    await ledger.flush()
    assert [r.tokens_out for r in sink.stored] == [1, 2]
    await ledger.close()


async def test_the_background_writer_stores_without_being_asked(tmp_path: Path) -> None:
    sink = Sink()
    ledger = Ledger(Journal(tmp_path), sink, interval=0.05)
    await ledger.start()
    ledger.record(_record(7))
    for _ in range(100):
        if sink.stored:
            break
        await asyncio.sleep(0.02)
    assert [r.tokens_out for r in sink.stored] == [7]
    await ledger.close()


async def test_what_a_dead_process_journaled_is_replayed_once_into_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade(url)
    store = Store.open(url)
    try:
        first = Ledger(Journal(tmp_path / "j"), store.usage.insert, interval=60)
        await first.start()
        for n in range(3):
            first.record(_record(n))
        await first.flush()
        for n in range(3, 8):
            first.record(_record(n))  # journaled, never stored: the process "dies" here
        first.journal.close()
        # a crash between storing a batch and moving the checkpoint: the replay meets stored records again
        (tmp_path / "j" / "checkpoint").unlink()
        second = Ledger(Journal(tmp_path / "j"), store.usage.insert, interval=60)
        await second.start()
        assert await store.usage.count() == 8
        spent = await store.usage.spent(datetime(2000, 1, 1, tzinfo=UTC))
        assert spent["key:k"] == sum((Decimal(n) / 1000 for n in range(8)), Decimal(0))
        await second.close()
    finally:
        await store.close()


async def test_while_the_database_is_away_records_wait_in_the_journal_not_in_memory(tmp_path: Path) -> None:
    sink = Sink()
    seen: list[Sequence[UsageRecord]] = []
    ledger = Ledger(Journal(tmp_path), sink, interval=60, batch_size=4)
    ledger.listeners.append(seen.append)
    await ledger.start()
    sink.fail = 1
    for n in range(10):
        ledger.record(_record(n))
    with pytest.raises(ConnectionError):
        await ledger.flush()
    assert sum(len(b) for b in seen) == 10  # the listeners do not wait for the database
    assert ledger._fresh == []
    for n in range(10, 21):
        ledger.record(_record(n))
    await ledger.flush()
    assert [r.tokens_out for r in sink.stored] == list(range(21))
    assert list(Journal(tmp_path).pending()) == []
    await ledger.close()


class Refusing:
    """A sink that must not be used: the writer process stores, not the ledger's own process."""

    calls = 0

    async def __call__(self, batch: list[UsageRecord]) -> None:
        self.calls += 1
        raise AssertionError("stored in the gateway process")


async def _store(tmp_path: Path) -> tuple[str, Store]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade(url)
    return url, Store.open(url)


def _spawner(url: str, started: list[WriterProcess]) -> Callable[[Path], Awaitable[WriterProcess]]:
    """Starts real writer processes on the database at ``url``, keeping them in ``started``."""
    async def spawn(directory: Path) -> WriterProcess:
        started.append(await WriterProcess.start(directory, url, 0.05))
        return started[-1]
    return spawn


async def test_a_writer_process_stores_the_journal_and_flush_waits_for_it(tmp_path: Path) -> None:
    url, store = await _store(tmp_path)
    started: list[WriterProcess] = []
    spawn = _spawner(url, started)
    refusing = Refusing()
    ledger = Ledger(Journal(tmp_path / "j"), refusing, interval=0.05, spawn=spawn)
    try:
        await ledger.start()
        for n in range(50):
            ledger.record(_record(n))
        await ledger.flush()  # returns once the writer process has stored everything recorded so far
        assert await store.usage.count() == 50
        for n in range(50, 60):
            ledger.record(_record(n))
        for _ in range(200):  # and it stores on its own, without being asked
            if await store.usage.count() == 60:
                break
            await asyncio.sleep(0.02)
        assert await store.usage.count() == 60
        assert refusing.calls == 0
        await ledger.close()
        assert not started[0].alive()
    finally:
        await store.close()


async def test_a_writer_process_that_dies_is_replaced(tmp_path: Path) -> None:
    url, store = await _store(tmp_path)
    started: list[WriterProcess] = []
    spawn = _spawner(url, started)
    ledger = Ledger(Journal(tmp_path / "j"), store.usage.insert, interval=0.05, spawn=spawn)
    try:
        await ledger.start()
        os.kill(started[0].pid, signal.SIGKILL)
        for _ in range(200):
            if len(started) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(started) == 2 and started[1].alive()
        for n in range(5):
            ledger.record(_record(n))
        await ledger.flush()
        assert await store.usage.count() == 5
        await ledger.close()
    finally:
        await store.close()


async def test_the_writer_process_drains_and_ends_when_its_gateway_is_gone(tmp_path: Path) -> None:
    url, store = await _store(tmp_path)
    journal = Journal(tmp_path / "j")
    writer = await WriterProcess.start(journal.directory, url, 3600)  # never on its own interval
    try:
        for n in range(7):
            journal.append(_record(n))
        await writer.stop()  # closes its stdin, as the gateway's death does
        assert not writer.alive()
        assert await store.usage.count() == 7
        assert list(JournalFiles(journal.directory).pending()) == []
    finally:
        journal.close()
        await store.close()


def test_each_process_claims_its_own_journal_and_finds_the_orphans(tmp_path: Path) -> None:
    mine = claim_journal(tmp_path)
    other = claim_journal(tmp_path)
    assert mine.directory != other.directory
    (tmp_path / "7").mkdir()
    orphans = orphaned_journals(tmp_path)
    assert [j.directory.name for j, _ in orphans] == ["7"]  # the two held ones are not orphans
    for journal, lock in orphans:
        journal.close()
        release(lock)
    mine.close()
    other.close()


@pytest.mark.parametrize("sizes", [(1, 49, 50, 51, 499, 500, 84), (1234,), (3, 3, 3)])
async def test_batches_of_any_size_are_stored_once_each(tmp_path: Path, sizes: tuple[int, ...]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade(url)
    store = Store.open(url)
    try:
        records = [_record(n) for n in range(sum(sizes))]
        start = 0
        for size in sizes:
            await store.usage.insert(records[start:start + size])
            start += size
        await store.usage.insert(records[:60])  # a replay meets stored records: nothing twice
        assert await store.usage.count() == len(records)
        spent = await store.usage.spent(datetime(2000, 1, 1, tzinfo=UTC))
        assert spent["key:k"] == sum((r.cost for r in records), Decimal(0))
    finally:
        await store.close()


async def test_a_writer_without_its_database_keeps_the_records_in_the_journal_and_still_ends(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")
    for n in range(3):
        journal.append(_record(n))
    # nothing listens on port 1: every attempt to store fails, and the writer backs off
    writer = await WriterProcess.start(journal.directory, "postgresql://byway:secret@127.0.0.1:1/byway", 0.05)
    try:
        await asyncio.sleep(1.0)
        assert writer.alive()
        started = asyncio.get_running_loop().time()
        await writer.stop()  # ends at once, backing off or not
        assert asyncio.get_running_loop().time() - started < 1.5
        assert [r.tokens_out for b in JournalFiles(journal.directory).pending() for r in b.records] == [0, 1, 2]
    finally:
        journal.close()
