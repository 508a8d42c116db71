"""Streamed equals non-streamed in the usage ledger: for every provider type, the same exchange through
``byway serve``, streamed and not, from both client APIs, leaves usage records with identical tokens and
cost."""

from __future__ import annotations

import pytest

from tests.conformance.conftest import MASTER_KEY, Clients
from tests.conformance.matrix import ROWS, Row
from tests.usage_records import wait_for

PROMPT = "Write three short sentences about the sea"
TOKENS = ("tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "reasoning_tokens")


def _openai(clients: Clients, row: Row, stream: bool) -> str:
    body = {"model": f"{row.name}:{row.model}", "max_tokens": 60, "stream": stream,
            "messages": [{"role": "user", "content": PROMPT}]}
    with clients.openai._client.stream("POST", clients.url + "/v1/chat/completions", json=body,
                                       headers={"authorization": f"Bearer {MASTER_KEY}"}) as answer:
        answer.read()
        assert answer.status_code == 200, answer.text
        return answer.headers["x-byway-request-id"]


def _anthropic(clients: Clients, row: Row, stream: bool) -> str:
    body = {"model": f"{row.name}:{row.model}", "max_tokens": 60, "stream": stream,
            "messages": [{"role": "user", "content": PROMPT}]}
    with clients.openai._client.stream("POST", clients.url + "/v1/messages", json=body,
                                       headers={"x-api-key": MASTER_KEY}) as answer:
        answer.read()
        assert answer.status_code == 200, answer.text
        return answer.headers["x-byway-request-id"]


@pytest.mark.parametrize("api", ["openai", "anthropic"])
@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_streamed_and_not_record_the_same_tokens_and_cost(clients: Clients, row: Row, api: str) -> None:
    send = _openai if api == "openai" else _anthropic
    plain, streamed = send(clients, row, False), send(clients, row, True)
    found = wait_for(clients.work, {plain, streamed})
    one, other = found[plain], found[streamed]
    assert (one["stream"], other["stream"]) == (False, True)
    assert one["estimated"] is other["estimated"] is False  # every family reports usage, streamed too
    assert [one[t] for t in TOKENS] == [other[t] for t in TOKENS]
    assert one["tokens_in"] > 0 and one["tokens_out"] > 0
    assert one["cost"] == other["cost"]
    assert one["provider"] == other["provider"] == row.name
