"""The usage journal: a local append-only file that makes every usage record durable the moment the
request ends, with no database round trip on the request path.

Each record is one line of JSON appended with a single ``write`` to a file opened ``O_APPEND``: once the
call returns the bytes are the kernel's, so a gateway killed with SIGKILL (not a power cut: no fsync
per record) loses nothing it recorded. A writer (``JournalFiles``: it may be another process, which only
reads) takes what was appended since the last checkpoint in batches, stores them in the database, and then
moves the checkpoint; on start the same reading replays whatever an earlier process had not yet stored. A
line cut short by a crash mid-write is skipped (it never reached the end of a request). Segments roll over
at ``max_segment_bytes`` and are deleted once fully checkpointed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import msgspec

from byway.core.usage_record import UsageRecord

MAX_SEGMENT_BYTES = 64 * 1024 * 1024
_SEGMENT = "usage-{:08d}.jsonl"
_CHECKPOINT = "checkpoint"
_ENCODER = msgspec.json.Encoder(decimal_format="string")
_DECODER = msgspec.json.Decoder(UsageRecord)


class Position(msgspec.Struct, frozen=True, order=True):
    segment: int
    offset: int


class Batch(msgspec.Struct, frozen=True):
    records: list[UsageRecord]
    end: Position  # checkpoint here once the records are stored


class JournalFiles:
    """A journal directory as its reader sees it: the checkpoint, what lies beyond it, moving it on. Any
    number of processes may read and commit one journal (a record stored twice is stored once); a commit
    that lands after a later one only makes the next reading go over stored records again."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def checkpoint(self) -> Position:
        try:
            segment, offset = (self.directory / _CHECKPOINT).read_text().split()
            return Position(int(segment), int(offset))
        except (FileNotFoundError, ValueError):
            return Position(self._segments()[0] if self._segments() else 1, 0)

    def pending(self, batch_size: int = 500) -> Iterator[Batch]:
        """Records appended after the checkpoint, in order, ``batch_size`` at a time."""
        start = self.checkpoint()
        records: list[UsageRecord] = []
        end = start
        for segment in self._segments():
            if segment < start.segment:
                continue
            offset = start.offset if segment == start.segment else 0
            with open(self.directory / _SEGMENT.format(segment), "rb") as f:
                f.seek(offset)
                for line in f:
                    if not line.endswith(b"\n"):
                        break  # a line still being written, or cut by a crash: not complete
                    offset += len(line)
                    end = Position(segment, offset)
                    try:
                        records.append(_DECODER.decode(line))
                    except msgspec.DecodeError:
                        continue  # a torn line followed by later appends: skip it
                    if len(records) >= batch_size:
                        yield Batch(records, end)
                        records = []
        if records or end != start:
            yield Batch(records, end)

    def commit(self, position: Position) -> None:
        """Everything before ``position`` is stored: move the checkpoint and drop finished segments."""
        temporary = self.directory / f"{_CHECKPOINT}.{os.getpid()}.tmp"
        temporary.write_text(f"{position.segment} {position.offset}")
        os.replace(temporary, self.directory / _CHECKPOINT)
        for segment in self._segments():
            if segment < position.segment:  # read to its end, and the appending has moved on
                (self.directory / _SEGMENT.format(segment)).unlink(missing_ok=True)

    # --- files ---------------------------------------------------------------------------------------------

    def _segments(self) -> list[int]:
        found = []
        for path in self.directory.glob("usage-*.jsonl"):
            try:
                found.append(int(path.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return sorted(found)


class Journal(JournalFiles):
    """The journal of one process, which appends to it (and may read it as well)."""

    def __init__(self, directory: Path | str, *, max_segment_bytes: int = MAX_SEGMENT_BYTES) -> None:
        super().__init__(directory)
        self.max_segment_bytes = max_segment_bytes
        segments = self._segments()
        self._segment = segments[-1] if segments else 1
        self._fd = self._open(self._segment)
        self._size = os.fstat(self._fd).st_size
        if self._size and not self._ends_with_newline():
            # a crash cut the last line short: end it, so the next record starts a line of its own
            self._size += os.write(self._fd, b"\n")

    def _ends_with_newline(self) -> bool:
        with open(self.directory / _SEGMENT.format(self._segment), "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    # --- the request path ---------------------------------------------------------------------------------

    def append(self, record: UsageRecord) -> None:
        """Make ``record`` durable against a process crash: one ``write`` of one line."""
        line = _ENCODER.encode(record) + b"\n"
        if self._size + len(line) > self.max_segment_bytes and self._size > 0:
            self._roll()
        written = os.write(self._fd, line)
        if written != len(line):  # a short write to a regular file means the disk is full
            raise OSError(f"usage journal: wrote {written} of {len(line)} bytes")
        self._size += written

    def end(self) -> Position:
        """Where the journal ends now: once the checkpoint is here, everything appended so far is stored."""
        return Position(self._segment, self._size)

    def close(self) -> None:
        os.close(self._fd)

    def _open(self, segment: int) -> int:
        return os.open(self.directory / _SEGMENT.format(segment), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _roll(self) -> None:
        os.close(self._fd)
        self._segment += 1
        self._fd = self._open(self._segment)
        self._size = 0
