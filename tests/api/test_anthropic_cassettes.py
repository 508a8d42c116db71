"""Every Messages request body recorded from real Anthropic traffic (pydantic-ai cassettes) decodes, and nothing
in it is lost: built again for Anthropic it is the body the client sent, field by field, and its canonical form
(what any other provider gets) holds every text, image, tool call, tool result and thinking block."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from byway.api.anthropic_messages import decode
from byway.core import ImagePart, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from byway.providers.anthropic_request import JSON_TOOL, build_body
from tests.vectors import Interaction, cassettes

FOLDERS = (("test_anthropic", "*.yaml"), ("test_tool_choice_matrix", "*anthropic*"),
           ("test_anthropic_mid_conversation_system", "*.yaml"), ("test_model_name_suggestions", "*anthropic*"))


def _recorded() -> list[tuple[str, Interaction]]:
    out = []
    for folder, pattern in FOLDERS:
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                uri = item.request.uri
                if "api.anthropic.com/v1/messages" in uri and "count_tokens" not in uri:
                    out.append((f"{tape.name}#{n}", item))
    return out


RECORDED = _recorded()
IDS = [name for name, _ in RECORDED]
CANONICAL_BLOCKS = {"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"}


def test_enough_recorded_requests() -> None:
    assert len(RECORDED) >= 130


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _same_meaning(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` in the one form of each thing Anthropic accepts in several: string content as a text block,
    ``is_error``/``disable_parallel_tool_use`` false as absent, consecutive turns of one role as one turn."""
    out = dict(body)
    if isinstance(out.get("system"), str):
        out["system"] = _blocks(out["system"])
    if out.get("system") == []:
        del out["system"]  # sent when the conversation holds the system turns: the same as none
    merged: list[dict[str, Any]] = []
    for message in out["messages"]:
        blocks = [{k: v for k, v in b.items() if not (k == "is_error" and v is False)}
                  for b in _blocks(message["content"])]
        if merged and merged[-1]["role"] == message["role"] and message["role"] != "system":
            merged[-1]["content"] = merged[-1]["content"] + blocks
        else:
            merged.append({**message, "content": blocks})
    out["messages"] = merged
    choice = out.get("tool_choice")
    if isinstance(choice, dict) and choice.get("disable_parallel_tool_use") is False:
        out["tool_choice"] = {k: v for k, v in choice.items() if k != "disable_parallel_tool_use"}
    return out


@pytest.mark.parametrize(("name", "item"), RECORDED, ids=IDS)
def test_rebuilt_for_anthropic_field_by_field(name: str, item: Interaction) -> None:
    sent = item.request.body
    request = decode(msgspec.json.encode(sent)).request
    assert request.extra_family == "anthropic"
    rebuilt = _same_meaning(build_body(request))
    original = _same_meaning(sent)
    fmt = (sent.get("output_config") or {}).get("format") or sent.get("output_format")
    if fmt is not None:  # structured output is asked of Anthropic through the adapter's JSON tool
        assert request.response_format is not None and request.response_format.schema == fmt["schema"]
        (tool,) = rebuilt.pop("tools")
        assert (tool["name"], tool["input_schema"]) == (JSON_TOOL, fmt["schema"])
        assert tool["description"].startswith("Give your answer by calling this tool")
        assert rebuilt.pop("tool_choice") == {"type": "tool", "name": JSON_TOOL}
        original.pop("output_format", None)
        config = {k: v for k, v in original.pop("output_config", {}).items() if k != "format"}
        if config:
            original["output_config"] = config
    assert sorted(rebuilt) == sorted(original)
    for field in original:
        assert rebuilt[field] == original[field], field


def _canonical_view(sent: dict[str, Any]) -> dict[str, list[Any]]:
    """What of ``sent`` the canonical model holds, read straight from the JSON (independently of the codec)."""
    view: dict[str, list[Any]] = {"system": [], "text": [], "images": [], "calls": [], "results": [], "thinking": []}
    view["system"] = [b["text"] for b in _blocks(sent.get("system") or []) if b["type"] == "text" and b["text"]]
    for message in sent["messages"]:
        for block in _blocks(message["content"]):
            kind = block["type"]
            if message["role"] == "system":
                if kind == "text" and block["text"]:
                    view["system"].append(block["text"])
            elif kind == "text":
                view["text"].append(block["text"])
            elif kind == "image":
                view["images"].append(block["source"].get("url") or block["source"].get("data"))
            elif kind == "tool_use":
                view["calls"].append((block["id"], block["name"], block["input"]))
            elif kind == "tool_result":
                content = block.get("content")
                texts = [c["text"] for c in _blocks(content) if c["type"] == "text"] if content else []
                view["results"].append((block["tool_use_id"], texts, bool(block.get("is_error"))))
            elif kind == "thinking":
                view["thinking"].append((block["thinking"], block["signature"]))
            elif kind == "redacted_thinking":
                view["thinking"].append(("", block["data"]))
    return view


@pytest.mark.parametrize(("name", "item"), RECORDED, ids=IDS)
def test_canonical_request_holds_every_portable_block(name: str, item: Interaction) -> None:
    sent = item.request.body
    decoded = decode(msgspec.json.encode(sent))
    request = decoded.request
    view: dict[str, list[Any]] = {k: [] for k in _canonical_view(sent)}
    for message in request.messages:
        for part in message.parts:
            if message.role == "system":
                view["system"].append(part.text)  # type: ignore[union-attr]
            elif isinstance(part, TextPart):
                if part.text or message.role != "user" or len(message.parts) > 1:
                    view["text"].append(part.text)
            elif isinstance(part, ImagePart):
                view["images"].append(part.url or part.data)
            elif isinstance(part, ToolCallPart):
                view["calls"].append((part.id, part.name, msgspec.json.decode(part.arguments)))
            elif isinstance(part, ToolResultPart):
                view["results"].append((part.tool_call_id, [p.text for p in part.content if isinstance(p, TextPart)],
                                        part.is_error))
            elif isinstance(part, ThinkingPart):
                view["thinking"].append((part.text, part.signature))
    expected = _canonical_view(sent)
    native = [b for m in sent["messages"] for b in _blocks(m["content"]) if b["type"] not in CANONICAL_BLOCKS]
    assert view == expected
    reasons = {path for path, _ in decoded.anthropic_only}
    assert bool(native) <= bool(reasons)
    server_tools = [t for t in sent.get("tools") or [] if t.get("type") not in (None, "custom")]
    assert [t.name for t in request.tools or []] == [t["name"] for t in sent.get("tools") or []
                                                      if t.get("type") in (None, "custom")]
    assert {f"tools.{k}" for k, t in enumerate(sent.get("tools") or []) if t in server_tools} <= reasons


def test_a_recorded_conversation_in_canonical_form() -> None:
    (item,) = [i for n, i in RECORDED if n == "test_anthropic_tool_with_thinking#1"]
    request = decode(msgspec.json.encode(item.request.body)).request
    roles = [m.role for m in request.messages]
    assert roles == ["user", "assistant", "tool"]
    thinking, text, call = request.messages[1].parts
    assert isinstance(thinking, ThinkingPart) and thinking.signature and thinking.signature.startswith("EqEE")
    assert isinstance(text, TextPart) and text.text.startswith("I'll help you find the largest city")
    assert call == ToolCallPart(id="toolu_01YGzqpRE16Vricda3Aqcejo", name="get_user_country", arguments="{}")
    (result,) = request.messages[2].parts
    assert result == ToolResultPart(tool_call_id="toolu_01YGzqpRE16Vricda3Aqcejo", content=[TextPart("Mexico")],
                                    name="get_user_country")
    assert request.extra == {"thinking": {"budget_tokens": 3000, "type": "enabled"}}
    assert request.max_tokens == 4096 and not decode(msgspec.json.encode(item.request.body)).anthropic_only


def test_recorded_server_tools_are_anthropic_only() -> None:
    (item,) = [i for n, i in RECORDED if n == "test_anthropic_web_search_tool#0"]
    decoded = decode(msgspec.json.encode(item.request.body))
    assert decoded.anthropic_only[0][0] == "tools.0" and "web_search" in decoded.anthropic_only[0][1]
    assert decoded.request.tools is None
    assert decoded.request.extra is not None and decoded.request.extra["tools"] == item.request.body["tools"]
