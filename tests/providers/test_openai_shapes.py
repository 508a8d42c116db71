"""The request the adapter builds for a recorded conversation has the shape the provider accepted.

Each recorded request body is read back into a canonical ``ChatRequest`` (a tiny reader written here),
built again by the adapter, and compared with what was recorded: the URL, the roles, every message's
fields, the tool definitions, tool calls and results, tool_choice and the token-limit field.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from byway.providers.catalog import SPECS
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.openai import OpenAIAdapter
from tests.vectors import Interaction, cassette

IGNORED_MESSAGE_KEYS = {"prefix"}  # Mistral's assistant-prefill flag; Byway never prefills


def _parts(content: Any) -> list[Any]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[Any] = []
    for item in content:
        if item["type"] == "text":
            parts.append(TextPart(item["text"]))
        elif item["type"] == "image_url":
            url = item["image_url"]["url"]
            detail = item["image_url"].get("detail")
            if url.startswith("data:"):
                head, data = url.split(",", 1)
                parts.append(ImagePart(data=data, media_type=head[5:].split(";")[0], detail=detail))
            else:
                parts.append(ImagePart(url=url, detail=detail))
    return parts


def canonical(body: dict[str, Any]) -> ChatRequest:
    """Read an OpenAI wire request into the canonical request (what the client codec will do)."""
    messages = []
    for m in body["messages"]:
        if m["role"] == "tool":
            text = m["content"] if isinstance(m["content"], str) else "".join(
                p["text"] for p in m["content"] if p["type"] == "text")
            messages.append(Message(role="tool", parts=[ToolResultPart(tool_call_id=m["tool_call_id"],
                                                                       content=[TextPart(text)])]))
            continue
        parts: list[Any] = []
        if m.get("reasoning_content"):
            parts.append(ThinkingPart(text=m["reasoning_content"]))
        parts.extend(_parts(m.get("content")))
        for call in m.get("tool_calls") or []:
            parts.append(ToolCallPart(id=call["id"], name=call["function"]["name"],
                                      arguments=call["function"]["arguments"]))
        messages.append(Message(role=m["role"], parts=parts, name=m.get("name")))
    tools = [Tool(name=t["function"]["name"], description=t["function"].get("description"),
                  parameters=t["function"]["parameters"], strict=t["function"].get("strict"))
             for t in body.get("tools") or []]
    choice = body.get("tool_choice")
    tool_choice = None
    if isinstance(choice, dict):
        tool_choice = ToolChoice(mode="tool", name=choice["function"]["name"])
    elif choice is not None:
        tool_choice = ToolChoice(mode="required" if choice == "any" else choice)
    fmt = body.get("response_format")
    response_format = None
    if fmt:
        schema = fmt.get("json_schema") or {}
        response_format = ResponseFormat(type=fmt["type"], name=schema.get("name"), schema=schema.get("schema"),
                                         strict=schema.get("strict"), description=schema.get("description"))
    return ChatRequest(
        model=body["model"], messages=messages, tools=tools or None, tool_choice=tool_choice,
        response_format=response_format, temperature=body.get("temperature"), top_p=body.get("top_p"),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"), stop=body.get("stop"),
        seed=body.get("seed"), user=body.get("user"), reasoning_effort=body.get("reasoning_effort"),
        stream=bool(body.get("stream")),
    )


def built(kind: ProviderType, item: Interaction) -> tuple[str, dict[str, Any]]:
    uri = item.request.uri.split("#")[0]
    base = uri.rsplit("/chat/completions", 1)[0]
    if kind is ProviderType.OLLAMA:  # Ollama's OpenAI-compatible API: its own adapter in OpenAI mode, /v1 appended
        provider = ProviderConfig(provider_type=kind, api_key="k", base_url=base.removesuffix("/v1"), api="openai")
        call = OllamaAdapter(SPECS[kind]).chat_call(provider, canonical(item.request.body))
    else:
        provider = ProviderConfig(provider_type=kind, api_key="k", base_url=base)
        call = OpenAIAdapter(SPECS[kind]).chat_call(provider, canonical(item.request.body))
    return call.url, msgspec.json.decode(call.body)


def _set(message: dict[str, Any]) -> set[str]:
    return {k for k, v in message.items() if v not in (None, [], "") and k not in IGNORED_MESSAGE_KEYS}


def assert_same_shape(ours: dict[str, Any], recorded: dict[str, Any]) -> None:
    assert [m["role"] for m in ours["messages"]] == [m["role"] for m in recorded["messages"]]
    for mine, theirs in zip(ours["messages"], recorded["messages"], strict=True):
        assert _set(mine) == _set(theirs), (mine, theirs)
        if "tool_call_id" in theirs:
            assert mine["tool_call_id"] == theirs["tool_call_id"]
            assert mine["content"] == theirs["content"]
        for a, b in zip(mine.get("tool_calls") or [], theirs.get("tool_calls") or [], strict=True):
            assert (a["id"], a["type"], a["function"]) == (b["id"], b["type"], b["function"])
        if isinstance(theirs.get("content"), list) and theirs["content"] and len(theirs["content"]) > 1:
            assert mine["content"] == theirs["content"]
    assert [t["function"] for t in ours.get("tools") or []] == [t["function"] for t in recorded.get("tools") or []]
    assert all(t["type"] == "function" for t in ours.get("tools") or [])  # Mistral's SDK leaves the default out
    for key in ("model", "tool_choice", "response_format", "stream", "stream_options", "top_p",
                "max_completion_tokens", "max_tokens", "temperature", "stop", "reasoning_effort", "user"):
        assert ours.get(key) == recorded.get(key), key


CASES = [
    (ProviderType.OPENAI, "test_tool_choice_matrix", "test_tool_choice_matrix[auto-openai]", 1),
    (ProviderType.OPENAI, "test_tool_choice_matrix", "test_tool_choice_matrix[required-openai]", 0),
    (ProviderType.OPENAI, "test_tool_choice_matrix", "test_tool_choice_matrix[list_single-openai]", 0),
    (ProviderType.OPENAI, "test_tool_choice_matrix", "test_tool_choice_matrix[tools_plus_output-openai]", 1),
    (ProviderType.GROQ, "test_tool_choice_matrix", "test_tool_choice_matrix[auto-groq]", 1),
    (ProviderType.GROQ, "test_tool_choice_matrix", "test_tool_choice_matrix[none-groq]", 0),
    (ProviderType.MISTRAL, "test_tool_choice_matrix", "test_tool_choice_matrix[auto-mistral]", 1),
    (ProviderType.MISTRAL, "test_tool_choice_matrix", "test_tool_choice_matrix[required-mistral]", 0),
    (ProviderType.HUGGINGFACE, "test_tool_choice_matrix", "test_tool_choice_matrix[required-huggingface]", 0),
    (ProviderType.OPENAI, "test_openai", "test_image_url_tool_response", 1),
    (ProviderType.OPENAI, "test_openai", "test_max_completion_tokens[gpt-4o-mini]", 0),
    (ProviderType.OPENAI, "test_openai", "test_openai_moderation_stream", 0),
    (ProviderType.OPENAI, "test_openai", "test_user_id", 0),
    (ProviderType.OPENAI, "test_openai", "test_openai_native_output", 1),
    (ProviderType.GROQ, "test_groq", "test_image_as_binary_content_tool_response", 1),
    (ProviderType.MISTRAL, "test_mistral", "test_image_as_binary_content_tool_response", 1),
    (ProviderType.DEEPSEEK, "test_deepseek", "test_deepseek_deferred_capability_with_thinking", 2),
    (ProviderType.DEEPSEEK, "test_deepseek", "test_deepseek_model_thinking_stream", 0),
    (ProviderType.OPENROUTER, "test_openrouter", "test_openrouter_streaming_reasoning", 0),
    (ProviderType.OPENROUTER, "test_openrouter", "test_openrouter_tool_calling", 0),
    (ProviderType.OLLAMA, "test_ollama", "test_ollama_local_native_output_uses_json_schema", 0),
]


@pytest.mark.parametrize(("kind", "folder", "name", "index"), CASES, ids=[c[2] for c in CASES])
def test_built_request_matches_the_recorded_shape(kind: ProviderType, folder: str, name: str, index: int) -> None:
    item = cassette(folder, name).interactions[index]
    url, ours = built(kind, item)
    assert url == item.request.uri.split("#")[0]
    assert_same_shape(ours, item.request.body)


def test_recorded_mistral_any_tool_choice_round_trips() -> None:
    item = cassette("test_tool_choice_matrix", "test_tool_choice_matrix[required-mistral]").interactions[0]
    assert item.request.body["tool_choice"] == "any"
    _, ours = built(ProviderType.MISTRAL, item)
    assert ours["tool_choice"] == "any"


def test_tool_image_goes_in_a_user_message_after_the_tool_answer_like_the_recording() -> None:
    """The recorded Groq exchange: the tool answers with text, the image follows as a user message."""
    item = cassette("test_groq", "test_image_as_binary_content_tool_response").interactions[1]
    recorded = item.request.body["messages"]
    image = recorded[3]["content"][1]["image_url"]["url"]
    head, data = image.split(",", 1)
    request = ChatRequest(model="m", messages=[
        Message(role="user", parts=[TextPart(recorded[0]["content"][0]["text"])]),
        Message(role="assistant", parts=[ToolCallPart(id="911ra51k8", name="get_image", arguments="{}")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="911ra51k8", content=[
            TextPart("See file 241a70."), ImagePart(data=data, media_type="image/jpeg")])]),
    ])
    provider = ProviderConfig(provider_type=ProviderType.GROQ, api_key="k")
    ours = msgspec.json.decode(OpenAIAdapter(SPECS[ProviderType.GROQ]).chat_call(provider, request).body)
    assert [m["role"] for m in ours["messages"]] == ["user", "assistant", "tool", "user"]
    assert ours["messages"][2] == recorded[2]
    assert ours["messages"][3]["content"] == [{"type": "image_url", "image_url": {"url": image}}]
    assert head == "data:image/jpeg;base64"
