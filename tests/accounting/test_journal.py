"""The usage journal: appends survive a SIGKILL, replay reads them back in order, torn lines are skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from byway.accounting.journal import Journal, Position
from byway.core.usage_record import AttemptRecord, UsageRecord


def record(n: int, cost: str | None = "0.0000123") -> UsageRecord:
    return UsageRecord(request_id=f"req_{n}", created_at=1_700_000_000.0 + n, user_id="u1", key_id="k1",
                       credential=None, provider="oa", model="gpt-4o-mini", endpoint="chat.completions",
                       stream=n % 2 == 0, tokens_in=17, tokens_out=5, cached_tokens=0,
                       cost=Decimal(cost) if cost else None, latency_ms=12.5,
                       attempts=(AttemptRecord("oa", "gpt-4o-mini", 200, 12.0),))


def test_records_come_back_exactly_in_order_and_the_checkpoint_moves(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for n in range(5):
        journal.append(record(n, cost=None if n == 3 else "0.0000123"))
    [batch] = list(journal.pending())
    assert batch.records == [record(n, cost=None if n == 3 else "0.0000123") for n in range(5)]
    assert batch.records[0].cost == Decimal("0.0000123")  # exact, through a decimal string
    journal.commit(batch.end)
    assert [b.records for b in journal.pending()] == []
    journal.append(record(5))
    assert [r.request_id for b in journal.pending() for r in b.records] == ["req_5"]


def test_batches_segments_and_cleanup(tmp_path: Path) -> None:
    journal = Journal(tmp_path, max_segment_bytes=1200)
    for n in range(20):
        journal.append(record(n))
    assert len(list(tmp_path.glob("usage-*.jsonl"))) > 3
    batches = list(journal.pending(batch_size=6))
    assert [len(b.records) for b in batches] == [6, 6, 6, 2]
    assert [r.request_id for b in batches for r in b.records] == [f"req_{n}" for n in range(20)]
    journal.commit(batches[1].end)
    assert [r.request_id for b in journal.pending(batch_size=100) for r in b.records] == \
        [f"req_{n}" for n in range(12, 20)]
    journal.commit(batches[-1].end)
    assert len(list(tmp_path.glob("usage-*.jsonl"))) == 1  # finished segments are deleted


def test_a_torn_last_line_is_skipped_and_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(record(0))
    journal.close()
    segment = next(tmp_path.glob("usage-*.jsonl"))
    with open(segment, "ab") as f:
        f.write(b'{"request_id":"req_torn","created_at":')  # a crash mid-write
    assert [r.request_id for b in Journal(tmp_path).pending() for r in b.records] == ["req_0"]
    reopened = Journal(tmp_path)
    reopened.append(record(1))
    assert [r.request_id for b in reopened.pending() for r in b.records] == ["req_0", "req_1"]
    assert oct(segment.stat().st_mode & 0o777) == "0o600"


def test_checkpoint_survives_a_restart(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for n in range(3):
        journal.append(record(n))
    first = next(journal.pending(batch_size=2))
    journal.commit(first.end)
    assert Journal(tmp_path).checkpoint() == first.end
    assert isinstance(first.end, Position)
    assert [r.request_id for b in Journal(tmp_path).pending() for r in b.records] == ["req_2"]


_WRITER = """
import sys
from decimal import Decimal
from byway.accounting.journal import Journal
from byway.core.usage_record import UsageRecord
journal = Journal(sys.argv[1])
n = 0
while True:
    journal.append(UsageRecord(request_id=f"req_{n}", created_at=0.0, user_id=None, key_id=None, credential=None,
                               provider="oa", model="m", endpoint="chat.completions", stream=False, tokens_in=1,
                               tokens_out=1, cost=Decimal("0.5")))
    print(n, flush=True)  # the answer is "delivered" only after its record was appended
    n += 1
"""


def test_sigkill_loses_no_record_that_was_acknowledged(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acknowledged = -1
    deadline = time.time() + 10
    while acknowledged < 2000 and time.time() < deadline:
        acknowledged = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    ids = [r.request_id for b in Journal(tmp_path).pending(batch_size=10_000) for r in b.records]
    assert len(ids) >= acknowledged + 1
    assert ids[:acknowledged + 1] == [f"req_{n}" for n in range(acknowledged + 1)]
    assert len(set(ids)) == len(ids)
