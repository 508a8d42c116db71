"""The Anthropic adapter on recorded real traffic (pydantic-ai cassettes): responses, errors, request shapes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    ImagePart,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
)
from byway.providers.anthropic import AnthropicAdapter
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from tests.vectors import Interaction, cassette, cassettes

ADAPTER = AnthropicAdapter(spec_for(ProviderType.ANTHROPIC))
PROVIDER = ProviderConfig(provider_type=ProviderType.ANTHROPIC, name="anthropic", api_key="k")
STOPS = {"end_turn": "end", "tool_use": "tool_calls", "max_tokens": "length", "stop_sequence": "stop_sequence",
         "refusal": "refusal", "pause_turn": "pause"}


def _messages_calls(*folders_patterns: tuple[str, str]) -> list[tuple[str, Interaction]]:
    out = []
    for folder, pattern in folders_patterns:
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                uri = item.request.uri
                if "api.anthropic.com/v1/messages" in uri and "count_tokens" not in uri:
                    out.append((f"{tape.name}#{n}", item))
    return out


CALLS = _messages_calls(("test_anthropic", "*.yaml"), ("test_tool_choice_matrix", "*anthropic*"),
                        ("test_anthropic_mid_conversation_system", "*.yaml"),
                        ("test_model_name_suggestions", "*anthropic*"))
ANSWERS = [(n, i) for n, i in CALLS if i.response.status == 200 and i.response.json is not None]


def parse(item: Interaction):
    return ADAPTER.parse_chat(PROVIDER, item.response.body_bytes())


def test_enough_recorded_answers() -> None:
    assert len(ANSWERS) >= 80


# -- every recorded answer, field by field ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "item"), ANSWERS, ids=[n for n, _ in ANSWERS])
def test_recorded_answer(name: str, item: Interaction) -> None:
    recorded = item.response.json
    response = parse(item)
    assert response.id == recorded["id"] and response.model == recorded["model"]
    blocks = recorded["content"]
    assert [p.text for p in response.parts if isinstance(p, TextPart)] == [
        b["text"] for b in blocks if b["type"] == "text"]
    assert [(c.id, c.name, msgspec.json.decode(c.arguments)) for c in response.tool_calls] == [
        (b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
    assert [(p.text, p.signature, p.redacted) for p in response.parts if isinstance(p, ThinkingPart)] == [
        (b.get("thinking", ""), b.get("signature") or b.get("data"), b["type"] == "redacted_thinking")
        for b in blocks if b["type"] in ("thinking", "redacted_thinking")]
    assert response.stop_reason == STOPS[recorded["stop_reason"]]
    usage = recorded["usage"]
    read, written = usage.get("cache_read_input_tokens") or 0, usage.get("cache_creation_input_tokens") or 0
    assert response.usage.input_tokens == usage["input_tokens"] + read + written
    assert (response.usage.cached_tokens, response.usage.cache_write_tokens) == (read, written)
    assert response.usage.output_tokens == usage["output_tokens"]
    assert response.extra_family == "anthropic"
    assert response.extra is not None and response.extra["usage"] == usage
    canonical = {"text", "tool_use", "thinking", "redacted_thinking"}
    native = any(b["type"] not in canonical or b.get("citations") for b in blocks)
    assert ("content" in response.extra) == native


def test_cache_read_usage() -> None:
    item = cassette("test_anthropic", "test_anthropic_cache_real_api").interactions[0]
    response = parse(item)
    assert response.text.startswith("# What is Python?\n\nPython is a high-level, interpreted programming language")
    assert response.usage.input_tokens == 1114
    assert response.usage.cached_tokens == 1111
    assert response.usage.cache_write_tokens == 0
    assert response.usage.output_tokens == 406
    assert response.extra["usage"]["service_tier"] == "standard"
    assert response.stop_reason == "end" and response.stop_sequence is None


def test_parallel_tool_calls() -> None:
    response = parse(cassette("test_anthropic", "test_multiple_parallel_tool_calls").interactions[0])
    assert [(c.name, msgspec.json.decode(c.arguments)["name"]) for c in response.tool_calls] == [
        ("retrieve_entity_info", "Alice"), ("retrieve_entity_info", "Bob"),
        ("retrieve_entity_info", "Charlie"), ("retrieve_entity_info", "Daisy")]
    assert response.tool_calls[0].id == "toolu_0167cfEnoQaPviGdVXA95zcu"
    assert response.tool_calls[0].arguments == '{"name":"Alice"}'
    assert response.stop_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (423, 202)


def test_thinking_then_text_then_tool_call() -> None:
    response = parse(cassette("test_anthropic", "test_anthropic_tool_with_thinking").interactions[0])
    thinking, text, call = response.parts
    assert isinstance(thinking, ThinkingPart) and thinking.signature.startswith("EqEECkYICxgCKkAo3UA4WwDbB8ihhpyk")
    assert thinking.text.startswith('The user is asking about the largest city in "the user country".')
    assert isinstance(text, TextPart) and text.text.startswith("I'll help you find the largest city in your country.")
    assert call == ToolCallPart(id="toolu_01YGzqpRE16Vricda3Aqcejo", name="get_user_country", arguments="{}")


def test_redacted_thinking_answer() -> None:
    response = parse(cassette("test_anthropic", "test_anthropic_model_thinking_part_redacted").interactions[0])
    redacted = response.parts[0]
    assert isinstance(redacted, ThinkingPart) and redacted.redacted and redacted.text == ""
    assert redacted.signature.startswith("EvgFCkYIBxgCKkBmxKtCnM3xlr1zpw0Ik4FY0bnznKLdj7THnWO4")
    assert response.text.startswith("I notice that your message appears to contain a command or trigger phrase")


def test_tool_choice_matrix_required() -> None:
    response = parse(cassette("test_tool_choice_matrix", "test_tool_choice_matrix[required-anthropic]")
                     .interactions[0])
    [call] = response.tool_calls
    assert call.name == "get_weather"
    assert msgspec.json.decode(call.arguments) == {"city": "Paris"}
    assert response.stop_reason == "tool_calls"


def test_server_tool_blocks_are_kept_for_anthropic_clients() -> None:
    response = parse(cassette("test_anthropic", "test_anthropic_web_search_tool").interactions[0])
    kinds = [b["type"] for b in response.extra["content"]]
    assert kinds[:3] == ["thinking", "server_tool_use", "web_search_tool_result"]
    assert response.tool_calls == []
    assert response.stop_reason == "end"
    assert response.text  # the cited text blocks, joined


def test_native_structured_output_text() -> None:
    response = parse(cassette("test_anthropic", "test_anthropic_native_output_decimal_strict").interactions[0])
    assert msgspec.json.decode(response.text) == {"amount": 12.34}
    assert "stop_details" not in response.extra


# -- recorded errors ----------------------------------------------------------------------------------------------


def _error(folder: str, name: str):
    item = cassette(folder, name).interactions[0]
    return ADAPTER.parse_error(PROVIDER, item.response.status, item.response.headers, item.response.body_bytes())


def test_unknown_model_is_model_not_found() -> None:
    error = _error("test_model_name_suggestions", "test_model_name_suggestion[anthropic]")
    assert isinstance(error, UpstreamModelNotFoundError)
    assert (error.status, error.code, error.upstream_status) == (404, "model_not_found", 404)
    assert error.message == "anthropic: model: claude-sonet-4-5"
    assert error.provider == "anthropic" and not error.retryable


def test_count_tokens_unknown_model() -> None:
    error = _error("test_anthropic", "test_anthropic_count_tokens_error")
    assert isinstance(error, UpstreamModelNotFoundError)
    assert "claude-does-not-exist" in error.message


def test_unsupported_setting_is_invalid_request() -> None:
    error = _error("test_anthropic", "test_anthropic_explicit_effort_xhigh_unsupported_model_errors")
    assert isinstance(error, UpstreamInvalidRequestError)
    assert error.status == 400 and error.code == "invalid_request_error"
    assert "does not support effort level 'xhigh'" in error.message


# -- what we send has the shape Anthropic accepted ----------------------------------------------------------------

_BODY_FIELDS = {"model", "messages", "system", "max_tokens", "temperature", "top_p", "stop_sequences", "metadata",
                "tools", "tool_choice", "stream"}


def _part(block: dict[str, Any]) -> Part:
    kind = block["type"]
    if kind == "text":
        return TextPart(block["text"])
    if kind == "image":
        source = block["source"]
        if source["type"] == "url":
            return ImagePart(url=source["url"])
        return ImagePart(data=source["data"], media_type=source["media_type"])
    if kind == "tool_use":
        return ToolCallPart(id=block["id"], name=block["name"], arguments=msgspec.json.encode(block["input"]).decode())
    if kind == "thinking":
        return ThinkingPart(text=block["thinking"], signature=block["signature"])
    if kind == "redacted_thinking":
        return ThinkingPart(signature=block["data"], redacted=True)
    raise AssertionError(f"no canonical form for {kind}")


def _content(value: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": value}] if isinstance(value, str) else value


def canonical_request(body: dict[str, Any]) -> ChatRequest:
    """A recorded Anthropic body as the canonical request an Anthropic client codec would make of it."""
    messages: list[Message] = []
    system = body.get("system")
    if system:
        messages.extend(Message(role="system", parts=[TextPart(b["text"])]) for b in _content(system))
    for turn in body["messages"]:
        parts: list[Part] = []
        for block in _content(turn["content"]):
            if block["type"] == "tool_result":
                result = [_part(b) for b in _content(block.get("content", []))]
                messages.append(Message(role="tool", parts=[ToolResultPart(
                    tool_call_id=block["tool_use_id"], content=result, is_error=block.get("is_error", False))]))
            else:
                parts.append(_part(block))
        if parts:
            messages.append(Message(role=turn["role"], parts=parts))
    choice = body.get("tool_choice")
    mode = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}[choice["type"]] if choice else None
    extra = {k: v for k, v in body.items() if k not in _BODY_FIELDS}
    return ChatRequest(
        model=body["model"], messages=messages, max_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"), top_p=body.get("top_p"), stop=body.get("stop_sequences"),
        user=(body.get("metadata") or {}).get("user_id"), stream=body.get("stream", False),
        tools=[Tool(name=t["name"], description=t.get("description"), parameters=t["input_schema"])
               for t in body.get("tools", [])] or None,
        tool_choice=ToolChoice(mode=mode, name=choice.get("name")) if choice else None,
        parallel_tool_calls=False if choice and choice.get("disable_parallel_tool_use") else None,
        extra=extra or None, extra_family="anthropic" if extra else None,
    )


def normalized(body: dict[str, Any]) -> dict[str, Any]:
    """Spellings Anthropic treats alike made one: string content as a text block, a lone text tool result as a
    string, ``is_error: false`` left out, consecutive same-role turns merged."""
    out = dict(body)
    if "system" in out:
        out["system"] = _content(out["system"])
    turns: list[dict[str, Any]] = []
    for turn in body["messages"]:
        blocks = []
        for block in _content(turn["content"]):
            if block["type"] == "tool_result":
                block = {k: v for k, v in block.items() if not (k == "is_error" and v is False)}
                content = block.get("content")
                if isinstance(content, list) and len(content) == 1 and content[0]["type"] == "text":
                    block["content"] = content[0]["text"]
            blocks.append(block)
        if turns and turns[-1]["role"] == turn["role"]:
            turns[-1]["content"] = turns[-1]["content"] + blocks
        else:
            turns.append({"role": turn["role"], "content": blocks})
    out["messages"] = turns
    return out


def _shape_cases() -> list[tuple[str, dict[str, Any]]]:
    canonical_blocks = {"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"}
    cases = []
    for name, item in CALLS:
        body = item.request.body
        blocks = [b for m in body["messages"] for b in _content(m["content"])]
        blocks += [b for r in blocks if r["type"] == "tool_result" for b in _content(r.get("content", []))]
        if any(m["role"] not in ("user", "assistant") for m in body["messages"]):
            continue  # inline system turns: we hoist them instead
        if any(b["type"] not in canonical_blocks or "cache_control" in b for b in blocks):
            continue  # server tool blocks, documents, cache breakpoints: no canonical form
        if any(set(t) - {"name", "description", "input_schema"} for t in body.get("tools", [])):
            continue  # server tools, strict or deferred tools are not canonical tools
        if isinstance(body.get("system"), list) and any("cache_control" in b for b in body["system"]):
            continue
        cases.append((name, body))
    return cases


SHAPES = _shape_cases()


def test_enough_request_shapes() -> None:
    assert len(SHAPES) >= 40


@pytest.mark.parametrize(("name", "recorded"), SHAPES, ids=[n for n, _ in SHAPES])
def test_request_has_the_recorded_shape(name: str, recorded: dict[str, Any]) -> None:
    call = ADAPTER.chat_call(PROVIDER, canonical_request(recorded))
    assert call.url == "https://api.anthropic.com/v1/messages"
    assert normalized(msgspec.json.decode(call.body)) == normalized(recorded)
