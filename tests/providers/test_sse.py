"""SSE framing: the single-``data:``-line shortcut reads events exactly as the general splitter does."""

from __future__ import annotations

import pytest

from byway.providers.sse import SSESplitter, events_in
from tests.vectors import stream_capture_paths

RUNS = [
    b'data: {"a":1}\n\n',
    b'data: {"a":1}\n\ndata: [DONE]\n\n',
    b"data:{\"no\":\"space\"}\n\n",
    b": keep-alive\n\ndata: x\n\n",
    b"event: message_start\ndata: {\"type\":\"message_start\"}\n\n",
    b"data: first line\ndata: second line\n\n",
    b"id: 7\ndata: with an id\n\n",
    b"data: \n\n",
]


@pytest.mark.parametrize("run", RUNS)
def test_events_in_reads_like_the_splitter(run: bytes) -> None:
    assert events_in(run) == SSESplitter().feed(run)


def test_events_in_reads_recorded_streams_like_the_splitter() -> None:
    checked = 0
    for path in stream_capture_paths():
        body = path.read_bytes()
        if b"\r" in body:
            continue  # events_in takes what feed_whole answers: plain "\n\n" separators only
        whole = body[:body.rfind(b"\n\n") + 2]
        assert events_in(whole) == SSESplitter().feed(whole), path
        checked += 1
    assert checked >= 10
