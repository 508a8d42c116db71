"""A conversation with a system prompt, two images, two tool calls and their two results loses nothing on
its way to any provider and back: sent with the openai and the anthropic SDK through ``byway serve``, read
back out of the request each provider's mock received, and answered with both results quoted."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conformance.common import PNG
from tests.conformance.conftest import Clients
from tests.conformance.matrix import CLIENTS, ROWS, Row
from tests.conformance.readers import Seen, reader_for

GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
SYSTEM = "You are a weather bot."
ASK = "Compare Berlin and Tokyo."
CALLS = [("get_weather", {"city": "Berlin"}), ("get_time", {"city": "Tokyo"})]
RESULTS = [("get_weather", "Sunny"), ("get_time", "12:00")]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _openai(clients: Clients, model: str) -> str:
    b64 = {PNG: base64.b64encode(PNG).decode(), GIF: base64.b64encode(GIF).decode()}
    completion = clients.openai.chat.completions.create(
        model=model,
        tools=[{"type": "function", "function": {"name": name, "parameters": SCHEMA}} for name, _ in CALLS],
        messages=[
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": [
                {"type": "text", "text": ASK},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64[PNG]}"}},
                {"type": "image_url", "image_url": {"url": f"data:image/gif;base64,{b64[GIF]}"}}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(CALLS)]},
            *({"role": "tool", "tool_call_id": f"call_{i}", "content": text} for i, (_, text) in enumerate(RESULTS)),
        ])
    return completion.choices[0].message.content or ""


def _anthropic(clients: Clients, model: str) -> str:
    message = clients.anthropic.messages.create(
        model=model, max_tokens=300, system=SYSTEM,
        tools=[{"name": name, "input_schema": SCHEMA} for name, _ in CALLS],  # type: ignore[misc]
        messages=[
            {"role": "user", "content": [
                {"type": "text", "text": ASK},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": base64.b64encode(PNG).decode()}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/gif",
                                             "data": base64.b64encode(GIF).decode()}}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
                                              for i, (name, args) in enumerate(CALLS)]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": text}
                                         for i, (_, text) in enumerate(RESULTS)]},
        ])
    return "".join(b.text for b in message.content if b.type == "text")


def _received(clients: Clients) -> tuple[str, dict[str, Any]]:
    last = clients.mock.requests()[-1]
    return last["path"], last["body"]


@pytest.mark.parametrize("client_api", CLIENTS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_every_part_reaches_the_provider_and_the_answer_quotes_both_results(clients: Clients, row: Row,
                                                                            client_api: str) -> None:
    model = f"{row.name}:{row.model}"
    answer = _openai(clients, model) if client_api == "openai" else _anthropic(clients, model)
    path, body = _received(clients)
    seen: Seen = reader_for(path)(body)
    assert seen.system == [SYSTEM]
    assert seen.texts == [ASK]
    assert seen.images == [PNG, GIF]
    assert seen.calls == CALLS
    assert [name for name, _ in seen.results] == [name for name, _ in RESULTS]
    for (_, got), (_, want) in zip(seen.results, RESULTS, strict=True):
        assert want in got
    assert "get_weather: Sunny" in answer and "get_time: 12:00" in answer
