"""The mock's event-stream encoder, checked by botocore's decoder and against Bedrock's recorded bytes."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from byway.mock import eventstream
from tests.vectors import cassettes

RECORDED = [(f"{t.name}#{n}", i.response.raw) for t in cassettes("test_bedrock") for n, i in enumerate(t.interactions)
            if i.response.is_stream and "bedrock-runtime" in i.request.uri]


def decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(m.headers, m.payload) for m in buffer]


def test_event_round_trips_through_botocore() -> None:
    data = eventstream.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Héllo ✓"}, "p": "ab"})
    ((headers, payload),) = decode(data)
    assert headers == {":event-type": "contentBlockDelta", ":content-type": "application/json",
                       ":message-type": "event"}
    assert json.loads(payload) == {"contentBlockIndex": 0, "delta": {"text": "Héllo ✓"}, "p": "ab"}
    assert int.from_bytes(data[:4], "big") == len(data)


def test_exception_message() -> None:
    ((headers, payload),) = decode(eventstream.exception("throttlingException", "Too many tokens, please wait."))
    assert headers == {":exception-type": "throttlingException", ":content-type": "application/json",
                       ":message-type": "exception"}
    assert json.loads(payload) == {"message": "Too many tokens, please wait."}


def test_many_messages_fed_byte_by_byte() -> None:
    data = b"".join(eventstream.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": str(n)}})
                    for n in range(20))
    buffer = EventStreamBuffer()
    texts = []
    for at in range(len(data)):
        buffer.add_data(data[at:at + 1])
        texts.extend(json.loads(m.payload)["delta"]["text"] for m in buffer)
    assert texts == [str(n) for n in range(20)]


@pytest.mark.parametrize("offset", [5, 9, 20, -2])
def test_both_checksums_are_real(offset: int) -> None:
    data = bytearray(eventstream.event("messageStop", {"stopReason": "end_turn"}))
    data[offset] ^= 0x01  # in the prelude (checked by the prelude CRC) or after it (the message CRC)
    with pytest.raises(ChecksumMismatch):
        decode(bytes(data))


@pytest.mark.parametrize(("name", "data"), RECORDED, ids=[n for n, _ in RECORDED])
def test_recorded_messages_re_encode_byte_for_byte(name: str, data: bytes) -> None:
    """Each message Bedrock sent, taken apart by botocore and written again by the mock, is the same bytes."""
    messages = decode(data)
    assert len(messages) > 3
    rebuilt = b"".join(eventstream.encode_message({k: str(v) for k, v in headers.items()}, payload)
                       for headers, payload in messages)
    assert rebuilt == data
