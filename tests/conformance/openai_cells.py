"""The matrix's cells for a client of ``/v1/chat/completions`` (the official openai SDK)."""

from __future__ import annotations

import json

import openai
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

TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
                                         "parameters": WEATHER_SCHEMA}}
GREETING = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": HELLO}]


def text(client: openai.OpenAI, row: Row) -> None:
    raw = client.chat.completions.with_raw_response.create(model=f"{row.name}:{row.model}", messages=GREETING,
                                                           max_tokens=50)
    completion = raw.parse()
    assert completion.choices[0].message.content == "Echo: " + HELLO
    assert completion.choices[0].finish_reason == "stop"
    assert raw.headers["x-byway-provider"] == row.name


def _stream_text(client: openai.OpenAI, row: Row, **kw: object) -> tuple[str, list[str], object]:
    chunks = list(client.chat.completions.create(model=f"{row.name}:{row.model}", stream=True,
                                                 stream_options={"include_usage": True}, **kw))  # type: ignore[call-overload]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    return text, finishes, chunks[-1].usage


def stream(client: openai.OpenAI, row: Row) -> None:
    text, finishes, usage = _stream_text(client, row, messages=GREETING, max_tokens=50)
    assert text == "Echo: " + HELLO
    assert finishes == ["stop"]
    assert usage is not None


def tools(client: openai.OpenAI, row: Row) -> None:
    completion = client.chat.completions.create(model=f"{row.name}:{row.model}", tools=[TOOL],  # type: ignore[list-item]
                                                messages=[{"role": "user", "content": ASK_WEATHER}])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    assert calls[0].id
    check_weather_args(json.loads(calls[0].function.arguments))


def stream_tools(client: openai.OpenAI, row: Row) -> None:
    calls: dict[int, dict[str, str]] = {}
    finishes = []
    for chunk in client.chat.completions.create(model=f"{row.name}:{row.model}", tools=[TOOL], stream=True,  # type: ignore[list-item]
                                                messages=[{"role": "user", "content": ASK_WEATHER}]):
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id:
                call["id"] = delta.id
            if delta.function and delta.function.name:
                call["name"] += delta.function.name
            if delta.function and delta.function.arguments:
                call["arguments"] += delta.function.arguments
        if choice.finish_reason:
            finishes.append(choice.finish_reason)
    assert finishes == ["tool_calls"]
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    assert calls[0]["id"]
    check_weather_args(json.loads(calls[0]["arguments"]))


def tool_results(client: openai.OpenAI, row: Row) -> None:
    completion = client.chat.completions.create(model=f"{row.name}:{row.model}", tools=[TOOL], messages=[  # type: ignore[list-item]
        {"role": "user", "content": ASK_WEATHER},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": TOOL_ARGS}}]},
        {"role": "tool", "tool_call_id": "call_w1", "content": SUNNY}])
    answer = completion.choices[0].message.content or ""
    assert SUNNY in answer and "get_weather" in answer
    assert completion.choices[0].finish_reason == "stop"


def image(client: openai.OpenAI, row: Row) -> None:
    completion = client.chat.completions.create(model=f"{row.name}:{row.model}", messages=[{"role": "user", "content": [
        {"type": "text", "text": IMAGE_PROMPT},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}]}])
    assert completion.choices[0].message.content == IMAGE_ANSWER


def json_mode(client: openai.OpenAI, row: Row) -> None:
    completion = client.chat.completions.create(
        model=f"{row.name}:{row.model}", messages=[{"role": "user", "content": "Describe a person."}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON_SCHEMA}})
    person = json.loads(completion.choices[0].message.content or "")
    assert isinstance(person["name"], str) and isinstance(person["age"], int)


def stop_max(client: openai.OpenAI, row: Row) -> None:
    model = f"{row.name}:{row.model}"
    stopped = client.chat.completions.create(model=model, messages=GREETING, stop=["there"])
    assert stopped.choices[0].message.content == "Echo: Hello "
    assert stopped.choices[0].finish_reason == "stop"
    cut = client.chat.completions.create(model=model, messages=GREETING, max_tokens=2)
    assert cut.choices[0].finish_reason == "length"
    assert len(cut.choices[0].message.content or "") <= 8


def usage(client: openai.OpenAI, row: Row) -> None:
    completion = client.chat.completions.create(model=f"{row.name}:{row.model}", messages=GREETING, max_tokens=50)
    assert completion.usage is not None
    # the mocks' shared token rule: prompt 3 + (4 + 3) + (4 + 3), answer ceil(17 / 4)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (17, 5)
    _, _, streamed = _stream_text(client, row, messages=GREETING, max_tokens=50)
    assert streamed is not None
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (17, 5)  # type: ignore[attr-defined]


def errors(client: openai.OpenAI, row: Row) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model=f"{row.name}:no-such-model", messages=GREETING)
    assert missing.value.code == "model_not_found"
    assert row.name in missing.value.message
    if row.type != "ollama":  # Ollama takes no key, so none can be refused
        with pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(model=f"{row.name}-badkey:{row.model}", messages=GREETING)
        assert refused.value.status_code == 502
        assert refused.value.code == "provider_auth_failed"
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=f"{row.name}-limited:{row.model}", messages=GREETING)
    assert limited.value.response.headers["retry-after"] == "3"


CELLS = {"text": text, "stream": stream, "tools": tools, "stream_tools": stream_tools, "tool_results": tool_results,
         "image": image, "json": json_mode, "stop_max": stop_max, "usage": usage, "errors": errors}
