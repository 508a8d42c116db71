"""The Bedrock adapter on recorded real Converse traffic (pydantic-ai cassettes): every answer field by field,
the recorded errors, and request building against the request bodies Bedrock accepted."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec
import pytest
import yarl

from byway.core import (
    ChatRequest,
    ImagePart,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UpstreamModelNotFoundError,
)
from byway.providers.bedrock import BedrockAdapter
from byway.providers.bedrock_request import build_body
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from tests.vectors import Interaction, cassettes

ADAPTER = BedrockAdapter(spec_for(ProviderType.BEDROCK))
PROVIDER = ProviderConfig(provider_type=ProviderType.BEDROCK, name="aws", aws_access_key_id="AKIDEXAMPLE",
                          aws_secret_access_key="secret", region="us-east-1")
STOPS = {"end_turn": "end", "tool_use": "tool_calls", "max_tokens": "length", "stop_sequence": "end"}


def _converse_calls() -> list[tuple[str, Interaction]]:
    out = []
    for folder, pattern in (("test_bedrock", "*.yaml"), ("test_tool_choice_matrix", "*bedrock*"),
                            ("test_model_name_suggestions", "*bedrock*")):
        for tape in cassettes(folder, pattern):
            for n, item in enumerate(tape.interactions):
                path = urlsplit(item.request.uri).path
                if "bedrock-runtime" in item.request.uri and path.endswith(("/converse", "/converse-stream")):
                    out.append((f"{tape.name}#{n}", item))
    return out


CALLS = _converse_calls()
ANSWERS = [(n, i) for n, i in CALLS if i.response.status == 200 and i.response.json is not None]
ERRORS = [(n, i) for n, i in CALLS if i.response.status >= 400]


def test_enough_recorded_traffic() -> None:
    assert len(ANSWERS) >= 80
    assert len(ERRORS) >= 3
    assert sum(1 for _, i in CALLS if i.response.is_stream) >= 8


# -- every recorded answer, field by field ------------------------------------------------------------------------


def _content(recorded: dict[str, Any]) -> list[dict[str, Any]]:
    return recorded["output"]["message"]["content"]


@pytest.mark.parametrize(("name", "item"), ANSWERS, ids=[n for n, _ in ANSWERS])
def test_recorded_answer(name: str, item: Interaction) -> None:
    recorded = item.response.json
    response = ADAPTER.parse_chat(PROVIDER, item.response.body_bytes())
    blocks = _content(recorded)
    assert response.text == "".join(b["text"] for b in blocks if "text" in b)
    assert [p.text for p in response.parts if isinstance(p, TextPart)] == [b["text"] for b in blocks if "text" in b]
    client_calls = [b["toolUse"] for b in blocks if "toolUse" in b and b["toolUse"].get("type") != "server_tool_use"]
    assert [(c.id, c.name, msgspec.json.decode(c.arguments)) for c in response.tool_calls] == [
        (c["toolUseId"], c["name"], c["input"]) for c in client_calls]
    reasoning = [b["reasoningContent"] for b in blocks if "reasoningContent" in b]
    assert [(p.text, p.signature, p.redacted) for p in response.parts if isinstance(p, ThinkingPart)] == [
        (r["reasoningText"]["text"], r["reasoningText"].get("signature"), False) if "reasoningText" in r
        else ("", r["redactedContent"], True) for r in reasoning]
    expected_stop = STOPS[recorded["stopReason"]]
    if expected_stop == "tool_calls" and not client_calls:
        expected_stop = "end"
    assert response.stop_reason == expected_stop
    usage = recorded["usage"]
    read, written = usage.get("cacheReadInputTokens", 0), usage.get("cacheWriteInputTokens", 0)
    assert response.usage.input_tokens == usage["inputTokens"] + read + written
    assert (response.usage.output_tokens, response.usage.cached_tokens, response.usage.cache_write_tokens) == (
        usage["outputTokens"], read, written)
    # Bedrock's own total confirms that inputTokens leaves the cached prompt out
    assert response.usage.total_tokens == usage["totalTokens"]
    assert (response.id, response.model, response.extra_family) == ("", "", "bedrock")


def test_server_tool_blocks_are_kept_raw_not_as_parts() -> None:
    (item,) = [i for n, i in ANSWERS if n == "test_bedrock_model_with_code_execution_tool#0"]
    response = ADAPTER.parse_chat(PROVIDER, item.response.body_bytes())
    assert [c.name for c in response.tool_calls] == ["final_result"]
    assert response.stop_reason == "tool_calls"
    raw = response.extra["content"]
    assert [b["toolUse"]["name"] for b in raw if "toolUse" in b] == ["nova_code_interpreter", "final_result"]
    assert raw[1]["toolResult"]["content"][0]["json"]["stdOut"] == "7006652"


def test_cache_answers_count_the_whole_prompt() -> None:
    (item,) = [i for n, i in ANSWERS if n == "test_bedrock_cache_messages_with_document_as_last_content#1"]
    usage = ADAPTER.parse_chat(PROVIDER, item.response.body_bytes()).usage
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens, usage.output_tokens) == (
        3 + 1712 + 236, 1712, 236, 121)


def test_a_document_that_is_not_an_object_in_additional_fields_is_kept() -> None:
    (item,) = [i for n, i in ANSWERS if n == "test_bedrock_model_other_parameters#0"]
    response = ADAPTER.parse_chat(PROVIDER, item.response.body_bytes())
    assert response.extra == {"additionalModelResponseFields": "test"}
    assert response.stop_reason == "length"


# -- recorded errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "item"), ERRORS, ids=[n for n, _ in ERRORS])
def test_recorded_error(name: str, item: Interaction) -> None:
    error = ADAPTER.parse_error(PROVIDER, item.response.status, item.response.headers, item.response.body_bytes())
    assert item.response.json == {"message": "The provided model identifier is invalid."}
    assert isinstance(error, UpstreamModelNotFoundError)
    assert (error.status, error.code, error.provider, error.upstream_status) == (404, "model_not_found", "aws", 400)
    assert "The provided model identifier is invalid." in error.message


# -- URLs ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "item"), CALLS, ids=[n for n, _ in CALLS])
def test_url_names_the_recorded_model_and_operation(name: str, item: Interaction) -> None:
    recorded = urlsplit(item.request.uri)
    operation = recorded.path.rsplit("/", 1)[1]
    model = unquote(recorded.path.split("/")[2])
    request = ChatRequest(model=model, messages=[Message(role="user", parts=[TextPart("hi")])],
                          stream=operation == "converse-stream")
    region = recorded.netloc.split(".")[1]  # bedrock-runtime.<region>.amazonaws.com
    call = ADAPTER.chat_call(msgspec.structs.replace(PROVIDER, region=region), request)
    ours = urlsplit(call.url)
    assert (ours.scheme, ours.netloc) == (recorded.scheme, recorded.netloc)
    assert unquote(ours.path) == unquote(recorded.path)
    # what the transport (aiohttp/yarl) puts on the wire is exactly the URL that was signed
    assert yarl.URL(call.url).raw_path == ours.path
    assert call.headers["accept"] == ("application/vnd.amazon.eventstream" if operation == "converse-stream"
                                      else "application/json")


def test_arn_model_ids_keep_their_slash_escaped() -> None:
    (item,) = [i for n, i in CALLS if n == "test_bedrock_inference_profile_converse#0"]
    model = unquote(urlsplit(item.request.uri).path.split("/")[2])
    assert model.startswith("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/")
    call = ADAPTER.chat_call(PROVIDER, ChatRequest(model=model, messages=[Message(role="user", parts=[TextPart("x")])]))
    segment = urlsplit(call.url).path.split("/")[2]
    assert "/" not in segment and "%2F" in segment
    assert yarl.URL(call.url).raw_path.split("/")[2] == segment


# -- request bodies: rebuild each recorded request canonically, build it again, compare -------------------------

_UNSUPPORTED_BLOCKS = {"document", "video", "cachePoint", "guardContent"}


def _parts(blocks: list[dict[str, Any]]) -> list[Part] | None:
    parts: list[Part] = []
    for block in blocks:
        (kind, value), = block.items()
        if kind in _UNSUPPORTED_BLOCKS:
            return None
        if kind == "text":
            parts.append(TextPart(value))
        elif kind == "image":
            parts.append(ImagePart(data=value["source"]["bytes"], media_type=f"image/{value['format']}"))
        elif kind == "toolUse":
            parts.append(ToolCallPart(id=value["toolUseId"], name=value["name"],
                                      arguments=msgspec.json.encode(value["input"]).decode()))
        elif kind == "toolResult":
            content = _parts(value["content"])
            if content is None or any(not isinstance(p, TextPart | ImagePart) for p in content):
                return None
            parts.append(ToolResultPart(tool_call_id=value["toolUseId"], content=content,  # type: ignore[arg-type]
                                        is_error=value.get("status") == "error"))
        elif kind == "reasoningContent":
            if "redactedContent" in value:
                parts.append(ThinkingPart(signature=value["redactedContent"], redacted=True))
            elif value["reasoningText"].get("signature"):
                parts.append(ThinkingPart(text=value["reasoningText"]["text"],
                                          signature=value["reasoningText"]["signature"]))
            else:
                return None  # unsigned reasoning is not sent back
        else:
            return None  # json tool results and other kinds have no canonical form
    return parts


def canonical(body: dict[str, Any], model: str) -> ChatRequest | None:
    """The canonical request that should build ``body``; None when it uses what the canonical form lacks."""
    messages: list[Message] = []
    system = [TextPart(b["text"]) for b in body.get("system", []) if "text" in b]
    if len(system) != len(body.get("system", [])):
        return None
    if system:
        messages.append(Message(role="system", parts=system))  # type: ignore[arg-type]
    for turn in body["messages"]:
        parts = _parts(turn["content"])
        if parts is None:
            return None
        only_results = all(isinstance(p, ToolResultPart) for p in parts)
        role = "assistant" if turn["role"] == "assistant" else "tool" if only_results else "user"
        messages.append(Message(role=role, parts=parts))
    request = ChatRequest(model=model, messages=messages)
    config = body.get("inferenceConfig", {})
    request.max_tokens = config.get("maxTokens")
    request.temperature = config.get("temperature")
    request.top_p = config.get("topP")
    request.stop = config.get("stopSequences")
    tools = body.get("toolConfig")
    if tools is not None:
        if any("toolSpec" not in t for t in tools["tools"]):
            return None  # cache points and server tools (Nova's code interpreter) have no canonical form
        request.tools = [Tool(name=t["toolSpec"]["name"], description=t["toolSpec"].get("description"),
                              parameters=t["toolSpec"]["inputSchema"]["json"]) for t in tools["tools"]]
        choice = tools.get("toolChoice")
        if choice is not None:
            (kind, value), = choice.items()
            request.tool_choice = ToolChoice(mode={"auto": "auto", "any": "required"}.get(kind, "tool"),
                                             name=value.get("name"))
    output = body.get("outputConfig")
    if output is not None:
        schema = output["textFormat"]["structure"]["jsonSchema"]
        request.response_format = ResponseFormat(type="json_schema", schema=msgspec.json.decode(schema["schema"]),
                                                 name=schema["name"], strict=True)
    extra = {k: v for k, v in body.items()
             if k not in ("messages", "system", "inferenceConfig", "toolConfig", "outputConfig")}
    if extra:
        request.extra, request.extra_family = extra, "bedrock"
    return request


def _normalised(body: dict[str, Any]) -> dict[str, Any]:
    """The recorded body as Byway writes it: no empty ``system`` list, tools' ``strict`` flags not forwarded, a
    tool result's ``status`` always given (Bedrock takes it as "success" when missing)."""
    out = dict(body)
    out["messages"] = [{**turn, "content": [
        {"toolResult": {"status": "success", **b["toolResult"]}} if "toolResult" in b else b for b in turn["content"]]}
        for turn in body["messages"]]
    if not out.get("system"):
        out.pop("system", None)
    out.setdefault("inferenceConfig", {})
    if "toolConfig" in out:
        tools = [{"toolSpec": {k: v for k, v in t["toolSpec"].items() if k != "strict"}} for t in out["toolConfig"]["tools"]]
        out["toolConfig"] = {**out["toolConfig"], "tools": tools}
    return out


def _rebuildable() -> list[tuple[str, dict[str, Any], ChatRequest]]:
    out = []
    for name, item in CALLS:
        body = item.request.body
        if not isinstance(body, dict):
            continue
        model = unquote(urlsplit(item.request.uri).path.split("/")[2])
        request = canonical(body, model)
        if request is not None:
            out.append((name, body, request))
    return out


REBUILDABLE = _rebuildable()


def test_most_recorded_requests_are_rebuilt() -> None:
    assert len(REBUILDABLE) >= 70


@pytest.mark.parametrize(("name", "body", "request_"), REBUILDABLE, ids=[n for n, _, _ in REBUILDABLE])
def test_request_body_matches_what_bedrock_accepted(name: str, body: dict[str, Any], request_: ChatRequest) -> None:
    assert build_body(request_) == _normalised(body)


def test_rebuilt_requests_cover_the_interesting_shapes() -> None:
    bodies = [msgspec.json.encode(b).decode() for _, b, _ in REBUILDABLE]
    for needle in ('"toolResult"', '"toolUse"', '"image"', '"reasoningContent"', '"redactedContent"', '"any":{}',
                   '"tool":{"name"', '"outputConfig"', '"guardrailConfig"', '"additionalModelRequestFields"', '"topP"',
                   '"maxTokens"', '"temperature"', '"status":"success"'):
        assert any(needle in b for b in bodies), needle
