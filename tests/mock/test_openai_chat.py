"""OpenAI Chat Completions mock, driven by the official ``openai`` SDK."""

from __future__ import annotations

import base64
import json

import openai
import pydantic
import pytest

from byway.mock import MockServer

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                   "required": ["city", "unit"]}}}
TIME_TOOL = {"type": "function", "function": {
    "name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}},
                                       "required": ["zone"]}}}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)


def test_text_completion_shape_and_usage(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there"}])
    assert raw.headers["x-request-id"].startswith("req_")
    reply = raw.parse()
    assert reply.id.startswith("chatcmpl-") and len(reply.id) == len("chatcmpl-") + 29
    assert reply.object == "chat.completion"
    assert reply.model == "gpt-4o-mini"
    choice = reply.choices[0]
    assert (choice.message.role, choice.message.content, choice.finish_reason) == (
        "assistant", "Echo: Hello there", "stop")
    assert choice.message.tool_calls is None
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (10, 5, 15)
    assert reply.usage.prompt_tokens_details.cached_tokens == 0
    assert reply.usage.completion_tokens_details.reasoning_tokens == 0


def test_stream_chunks_and_usage_chunk(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there"}], stream=True,
        stream_options={"include_usage": True}))
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: Hello there"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None and (last.usage.prompt_tokens, last.usage.completion_tokens) == (10, 5)
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage_chunk(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_stream_helper_final_completion(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Oslo?"}],
                                     tools=[WEATHER_TOOL], stream_options={"include_usage": True}) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in kinds
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo", "unit": "c"}
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.completion_tokens > 0


def test_tool_call_with_parsed_arguments(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is the weather in Lisbon?"}],
        tools=[WEATHER_TOOL, TIME_TOOL])
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.id.startswith("call_") and len(call.id) == 29
    assert (call.type, call.function.name) == ("function", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Lisbon", "unit": "c"}


def test_streamed_tool_calls_arrive_as_fragments(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather and time in Kyiv, both"}],
        tools=[WEATHER_TOOL, TIME_TOOL], stream=True))
    calls: dict[int, dict[str, str]] = {}
    fragments = 0
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id:
                assert entry["arguments"] == ""  # id and name come before any argument text
                entry["id"], entry["name"] = delta.id, delta.function.name
            if delta.function.arguments:
                fragments += 1
                assert len(delta.function.arguments) <= 5
                entry["arguments"] += delta.function.arguments
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": "Kyiv", "unit": "c"}
    assert json.loads(calls[1]["arguments"]) == {"zone": "example"}
    assert fragments > 4
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_forced_and_disabled_tool_choice(oai: openai.OpenAI) -> None:
    forced = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_time"}})
    assert [c.function.name for c in forced.choices[0].message.tool_calls] == ["get_time"]
    off = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}], tools=[WEATHER_TOOL],
        tool_choice="none")
    assert off.choices[0].message.tool_calls is None
    assert off.choices[0].message.content == "Echo: hello"


def test_tool_result_round_trip(oai: openai.OpenAI) -> None:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris and Rome, both"}]
    first = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
    calls = first.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    for call, answer in zip(calls, ["Sunny, 24C", "Rain, 17C"], strict=True):
        messages.append({"role": "tool", "tool_call_id": call.id, "content": answer})
    second = oai.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Tool results: get_weather: Sunny, 24C; get_weather: Rain, 17C"


def test_images_data_url_and_http_url(oai: openai.OpenAI) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    reply = oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}}]}])
    assert reply.choices[0].message.content == (
        "Echo: What are these? [image image/png 68 bytes] [image https://example.com/cat.jpg]")
    # 3 + 4 + ceil(15/4)=4 + 2 images x 85
    assert reply.usage is not None and reply.usage.prompt_tokens == 3 + 4 + 4 + 170


def test_json_object_and_json_schema(oai: openai.OpenAI) -> None:
    obj = oai.chat.completions.create(model="gpt-4o-mini", response_format={"type": "json_object"},
                                      messages=[{"role": "user", "content": "Answer in JSON: hi"}])
    assert json.loads(obj.choices[0].message.content) == {"reply": "Echo: Answer in JSON: hi"}

    class City(pydantic.BaseModel):
        name: str
        country: str
        population: int
        landmarks: list[str]

    parsed = oai.chat.completions.parse(model="gpt-4o-mini", response_format=City,
                                        messages=[{"role": "user", "content": "Describe a city"}])
    city = parsed.choices[0].message.parsed
    assert city == City(name="example", country="Paris", population=1, landmarks=["example"])


def test_stop_sequence_and_max_tokens(oai: openai.OpenAI) -> None:
    stopped = oai.chat.completions.create(model="gpt-4o-mini", stop=[" two"],
                                          messages=[{"role": "user", "content": "one two three"}])
    assert (stopped.choices[0].message.content, stopped.choices[0].finish_reason) == ("Echo: one", "stop")
    cut = oai.chat.completions.create(model="gpt-4o-mini", max_tokens=2,
                                      messages=[{"role": "user", "content": "one two three"}])
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == ("Echo: on", "length")
    assert cut.usage is not None and cut.usage.completion_tokens == 2
    streamed = list(oai.chat.completions.create(model="gpt-4o-mini", max_completion_tokens=2, stream=True,
                                                messages=[{"role": "user", "content": "one two three"}]))
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == "Echo: on"
    assert streamed[-1].choices[0].finish_reason == "length"


def test_reasoning_model_tokens(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(model="o3-mini", max_completion_tokens=100,
                                        messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Echo: hi"
    assert reply.usage is not None
    assert reply.usage.completion_tokens_details.reasoning_tokens == 4  # "Considering: hi"
    assert reply.usage.completion_tokens == 4 + 2
    with pytest.raises(openai.BadRequestError) as err:
        oai.chat.completions.create(model="o3-mini", max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    assert err.value.code == "unsupported_parameter"
    assert err.value.param == "max_tokens"


def test_long_prompt_reports_cached_tokens(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "x" * 4 * 2000}, {"role": "user", "content": "hi"}])
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 3 + (4 + 2000) + (4 + 1)
    assert reply.usage.prompt_tokens_details.cached_tokens == 1024


def test_several_choices(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(model="gpt-4o-mini", n=2, messages=[{"role": "user", "content": "hi"}])
    assert [c.index for c in reply.choices] == [0, 1]
    assert {c.message.content for c in reply.choices} == {"Echo: hi"}
    assert reply.usage is not None and reply.usage.completion_tokens == 2 * 2


def test_models_list_and_retrieve(oai: openai.OpenAI) -> None:
    ids = [m.id for m in oai.models.list()]
    assert "gpt-4o-mini" in ids and "text-embedding-3-small" in ids
    assert oai.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("no-such-model")


async def test_async_client_stream(mock: MockServer) -> None:
    client = openai.AsyncOpenAI(base_url=mock.url + "/openai/v1", api_key="sk-test", max_retries=0)
    stream = await client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                  messages=[{"role": "user", "content": "async hello"}])
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    await client.close()
    assert text == "Echo: async hello"
