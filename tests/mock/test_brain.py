"""The shared behaviour rules, checked directly (no HTTP)."""

from __future__ import annotations

import msgspec

from byway.mock import tokens
from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn, place_words, prompt_tokens, respond
from byway.mock.schema_sample import sample

WEATHER = Tool(name="get_weather", description="Weather for a city",
               schema={"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                       "required": ["city"]})
TIME = Tool(name="get_time", description="", schema={"type": "object", "properties": {"zone": {"type": "string"}}})


def user(text: str) -> Turn:
    return Turn(role="user", content=[text])


def test_echo_reply_and_exact_token_counts() -> None:
    reply = respond(Ask(model="m", turns=[Turn(role="system", content=["Be brief."]), user("Hello there")]))
    assert reply.text == "Echo: Hello there"
    assert reply.finish == "stop"
    # 3 priming + (4 + ceil(9/4)=3) system + (4 + ceil(11/4)=3) user
    assert reply.prompt_tokens == 3 + 7 + 7
    assert reply.completion_tokens == 5  # ceil(17 / 4)
    assert reply.cached_tokens == 0


def test_images_are_described_in_order() -> None:
    turn = Turn(role="user", content=["Compare", Image(media_type="image/png", size=68),
                                      Image(url="https://example.com/cat.jpg")])
    reply = respond(Ask(model="m", turns=[turn]))
    assert reply.text == "Echo: Compare [image image/png 68 bytes] [image https://example.com/cat.jpg]"
    assert reply.prompt_tokens == 3 + 4 + 2 + 2 * tokens.PER_IMAGE


def test_place_words_skip_sentence_starts() -> None:
    assert place_words("What is the weather in Paris and in Lyon? Berlin too, I think.") == ["Paris", "Lyon"]
    assert place_words("Rome is lovely") == []


def test_tool_call_takes_the_place_from_user_text() -> None:
    reply = respond(Ask(model="m", turns=[user("Weather in Oslo please")], tools=[WEATHER, TIME]))
    assert reply.finish == "tool_calls"
    assert [(c.name, c.input) for c in reply.tool_calls] == [("get_weather", {"city": "Oslo"})]
    assert reply.tool_calls[0].arguments == '{"city":"Oslo"}'
    assert reply.text == ""
    assert reply.completion_tokens == tokens.text_tokens(len("get_weather") + len('{"city":"Oslo"}'))


def test_both_makes_two_calls_and_forced_choice_wins() -> None:
    both = respond(Ask(model="m", turns=[user("Weather and time in Rome, both")], tools=[WEATHER, TIME]))
    assert [c.name for c in both.tool_calls] == ["get_weather", "get_time"]
    assert both.tool_calls[1].input == {"zone": "example"}
    forced = respond(Ask(model="m", turns=[user("Paris and Madrid, both")], tools=[TIME, WEATHER],
                         tool_choice="forced", forced_tool="get_weather"))
    # "Paris" begins the text, so Madrid is the only place word; the forced tool is called twice
    assert [(c.name, c.input["city"]) for c in forced.tool_calls] == [("get_weather", "Madrid")] * 2
    single = respond(Ask(model="m", turns=[user("In Paris and Madrid, both")], tools=[WEATHER]))
    assert [c.input["city"] for c in single.tool_calls] == ["Paris", "Madrid"]
    serial = respond(Ask(model="m", turns=[user("In Paris and Madrid, both")], tools=[WEATHER], parallel=False))
    assert len(serial.tool_calls) == 1


def test_tool_choice_none_answers_with_text() -> None:
    reply = respond(Ask(model="m", turns=[user("Weather in Oslo")], tools=[WEATHER], tool_choice="none"))
    assert reply.tool_calls == []
    assert reply.text == "Echo: Weather in Oslo"


def test_tool_results_are_quoted_by_tool_name() -> None:
    turns = [user("Weather?"), Turn(role="assistant", tool_calls=[ToolCall("c1", "get_weather", "{}"),
                                                                  ToolCall("c2", "get_time", "{}")]),
             Turn(role="tool", tool_results=[ToolResult("c1", "Sunny")]),
             Turn(role="tool", tool_results=[ToolResult("c2", "noon")])]
    reply = respond(Ask(model="m", turns=turns, tools=[WEATHER, TIME]))
    assert reply.tool_calls == []
    assert reply.text == "Tool results: get_weather: Sunny; get_time: noon"
    # a forcing tool choice calls again, as the real APIs do
    forced = respond(Ask(model="m", turns=turns, tools=[WEATHER, TIME], tool_choice="required"))
    assert [c.name for c in forced.tool_calls] == ["get_weather"]


def test_json_mode_with_and_without_schema() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"], "additionalProperties": False}
    with_schema = respond(Ask(model="m", turns=[user("json please")], json_mode=True, json_schema=schema))
    assert msgspec.json.decode(with_schema.text) == {"city": "Paris", "population": 1}
    bare = respond(Ask(model="m", turns=[user("json please")], json_mode=True))
    assert msgspec.json.decode(bare.text) == {"reply": "Echo: json please"}


def test_stop_sequence_then_max_tokens() -> None:
    stopped = respond(Ask(model="m", turns=[user("one two three")], stop=["zzz", " two"]))
    assert (stopped.text, stopped.finish, stopped.stop_sequence) == ("Echo: one", "stop", " two")
    assert stopped.completion_tokens == 3
    cut = respond(Ask(model="m", turns=[user("one two three")], max_tokens=2))
    assert (cut.text, cut.finish, cut.stop_sequence, cut.completion_tokens) == ("Echo: on", "length", None, 2)


def test_reasoning_counts_inside_the_completion() -> None:
    reply = respond(Ask(model="m", turns=[user("hi")], reasoning=True))
    assert reply.reasoning == "Considering: hi"
    assert reply.reasoning_tokens == 4
    assert reply.completion_tokens == 4 + 2  # "Echo: hi" is 8 characters


def test_long_prompts_report_a_cached_prefix() -> None:
    assert [tokens.cached_prefix(n) for n in (10, 1024, 1025, 2048, 2049)] == [0, 0, 1024, 1024, 2048]
    long_text = "x" * 4 * 1500
    reply = respond(Ask(model="m", turns=[user(long_text)]))
    assert reply.prompt_tokens == 3 + 4 + 1500
    assert reply.cached_tokens == 1024


def test_prompt_counts_tools_and_tool_turns() -> None:
    ask = Ask(model="m", turns=[user("hi"), Turn(role="assistant", tool_calls=[ToolCall("c", "f", "{}")])],
              tools=[TIME])
    schema_chars = len(msgspec.json.encode(TIME.schema))
    assert prompt_tokens(ask) == 3 + (4 + 1) + (4 + 1) + 8 + tokens.text_tokens(len("get_time") + schema_chars)


def test_schema_sampler_rules() -> None:
    schema = {
        "type": "object",
        "properties": {
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "when": {"type": "string", "format": "date"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "count": {"type": "integer", "minimum": 5},
            "ratio": {"type": "number"},
            "ok": {"type": "boolean"},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
            "home": {"$ref": "#/$defs/Place"},
            "optional": {"type": "string"},
        },
        "required": ["unit", "when", "tags", "count", "ratio", "ok", "maybe", "home"],
        "$defs": {"Place": {"type": "object", "properties": {"town": {"type": "string"}}, "required": ["town"]}},
    }
    assert sample(schema, place="Quito") == {
        "unit": "celsius", "when": "2024-01-01", "tags": ["example", "example"], "count": 5, "ratio": 1.5,
        "ok": True, "maybe": 1, "home": {"town": "Quito"}}
    assert sample({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}) == {"a": "example"}
