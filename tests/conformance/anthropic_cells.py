"""The matrix's cells for a client of ``/v1/messages`` (the official anthropic SDK)."""

from __future__ import annotations

import json

import anthropic
import pytest

from tests.conformance.common import (
    ASK_WEATHER,
    HELLO,
    IMAGE_ANSWER,
    IMAGE_PROMPT,
    PERSON_SCHEMA,
    PNG_B64,
    SUNNY,
    SYSTEM,
    TOOL_ARGS,
    WEATHER_SCHEMA,
    check_weather_args,
)
from tests.conformance.matrix import Row

TOOL = {"name": "get_weather", "description": "Current weather in a city", "input_schema": WEATHER_SCHEMA}
GREETING = [{"role": "user", "content": HELLO}]


def _model(row: Row) -> str:
    return f"{row.name}:{row.model}"


def text(client: anthropic.Anthropic, row: Row) -> None:
    raw = client.messages.with_raw_response.create(model=_model(row), system=SYSTEM, messages=GREETING,  # type: ignore[arg-type]
                                                   max_tokens=50)
    message = raw.parse()
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Echo: " + HELLO  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert raw.headers["x-byway-provider"] == row.name


def stream(client: anthropic.Anthropic, row: Row) -> None:
    with client.messages.stream(model=_model(row), system=SYSTEM, messages=GREETING, max_tokens=50) as s:  # type: ignore[arg-type]
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == "Echo: " + HELLO
    assert final.stop_reason == "end_turn"
    assert final.content[0].text == "Echo: " + HELLO  # type: ignore[union-attr]


def _tool_use(message: anthropic.types.Message) -> anthropic.types.ToolUseBlock:
    uses = [b for b in message.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather"]
    return uses[0]


def tools(client: anthropic.Anthropic, row: Row) -> None:
    message = client.messages.create(model=_model(row), max_tokens=200, tools=[TOOL],  # type: ignore[list-item]
                                     messages=[{"role": "user", "content": ASK_WEATHER}])
    assert message.stop_reason == "tool_use"
    use = _tool_use(message)
    assert use.id
    check_weather_args(use.input)  # type: ignore[arg-type]


def stream_tools(client: anthropic.Anthropic, row: Row) -> None:
    with client.messages.stream(model=_model(row), max_tokens=200, tools=[TOOL],  # type: ignore[list-item]
                                messages=[{"role": "user", "content": ASK_WEATHER}]) as s:
        deltas = [e for e in s if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
        final = s.get_final_message()
    assert deltas, "the tool input arrives as input_json_delta events"
    assert final.stop_reason == "tool_use"
    check_weather_args(_tool_use(final).input)  # type: ignore[arg-type]


def tool_results(client: anthropic.Anthropic, row: Row) -> None:
    message = client.messages.create(model=_model(row), max_tokens=200, tools=[TOOL], messages=[  # type: ignore[list-item]
        {"role": "user", "content": ASK_WEATHER},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_w1", "name": "get_weather",
                                           "input": json.loads(TOOL_ARGS)}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_w1", "content": SUNNY}]}])
    answer = "".join(b.text for b in message.content if b.type == "text")
    assert SUNNY in answer and "get_weather" in answer
    assert message.stop_reason == "end_turn"


def image(client: anthropic.Anthropic, row: Row) -> None:
    message = client.messages.create(model=_model(row), max_tokens=200, messages=[{"role": "user", "content": [
        {"type": "text", "text": IMAGE_PROMPT},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}}]}])
    assert message.content[0].text == IMAGE_ANSWER  # type: ignore[union-attr]


def json_mode(client: anthropic.Anthropic, row: Row) -> None:
    message = client.messages.create(
        model=_model(row), max_tokens=200, messages=[{"role": "user", "content": "Describe a person."}],
        extra_body={"output_format": {"type": "json_schema", "schema": PERSON_SCHEMA}})
    person = json.loads("".join(b.text for b in message.content if b.type == "text"))
    assert isinstance(person["name"], str) and isinstance(person["age"], int)


def stop_max(client: anthropic.Anthropic, row: Row) -> None:
    stopped = client.messages.create(model=_model(row), max_tokens=50, messages=GREETING,  # type: ignore[arg-type]
                                     stop_sequences=["there"])
    assert stopped.content[0].text == "Echo: Hello "  # type: ignore[union-attr]
    # providers that do not say which stop sequence matched report an ordinary end of turn
    assert stopped.stop_reason in ("stop_sequence", "end_turn")
    if stopped.stop_reason == "stop_sequence":
        assert stopped.stop_sequence == "there"
    cut = client.messages.create(model=_model(row), max_tokens=2, messages=GREETING)  # type: ignore[arg-type]
    assert cut.stop_reason == "max_tokens"


def usage(client: anthropic.Anthropic, row: Row) -> None:
    message = client.messages.create(model=_model(row), system=SYSTEM, messages=GREETING, max_tokens=50)  # type: ignore[arg-type]
    # the mocks' shared token rule: prompt 3 + (4 + 3) + (4 + 3), answer ceil(17 / 4)
    assert (message.usage.input_tokens, message.usage.output_tokens) == (17, 5)
    with client.messages.stream(model=_model(row), system=SYSTEM, messages=GREETING, max_tokens=50) as s:  # type: ignore[arg-type]
        final = s.get_final_message()
    assert (final.usage.input_tokens, final.usage.output_tokens) == (17, 5)


def errors(client: anthropic.Anthropic, row: Row) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(model=f"{row.name}:no-such-model", max_tokens=10, messages=GREETING)  # type: ignore[arg-type]
    assert row.name in str(missing.value)
    if row.type != "ollama":  # Ollama takes no key, so none can be refused
        with pytest.raises(anthropic.APIStatusError) as refused:
            client.messages.create(model=f"{row.name}-badkey:{row.model}", max_tokens=10, messages=GREETING)  # type: ignore[arg-type]
        assert refused.value.status_code == 502
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model=f"{row.name}-limited:{row.model}", max_tokens=10, messages=GREETING)  # type: ignore[arg-type]
    assert limited.value.response.headers["retry-after"] == "3"


CELLS = {"text": text, "stream": stream, "tools": tools, "stream_tools": stream_tools, "tool_results": tool_results,
         "image": image, "json": json_mode, "stop_max": stop_max, "usage": usage, "errors": errors}
