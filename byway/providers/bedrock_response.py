"""A Bedrock Converse response as a canonical ``ChatResponse``.

Converse answers carry neither an id nor the model: both are left empty for the engine and the client
codecs to fill in. Usage: Bedrock's ``inputTokens`` leaves out the prompt tokens read from or written to
the prompt cache (``totalTokens`` = input + output + cacheRead + cacheWrite in every recorded answer), so
the canonical ``input_tokens``, the whole prompt, adds them back. Bedrock reports no reasoning tokens.

Content blocks without a canonical form (server tool calls such as Nova's code interpreter, their results,
citations...) produce no parts; the answer's raw content is then kept in ``extra["content"]``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import (
    ChatResponse,
    Part,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.anthropic_request import JSON_TOOL

STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "stop_sequence": "stop_sequence",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}
SERVER_TOOL_USE = "server_tool_use"


class TokenUsage(msgspec.Struct):
    inputTokens: int = 0
    outputTokens: int = 0
    cacheReadInputTokens: int = 0
    cacheWriteInputTokens: int = 0


class _ToolUse(msgspec.Struct):
    toolUseId: str = ""
    name: str = ""
    input: msgspec.Raw = msgspec.Raw(b"{}")
    type: str | None = None


class _ReasoningText(msgspec.Struct):
    text: str = ""
    signature: str | None = None


class _Reasoning(msgspec.Struct):
    reasoningText: _ReasoningText | None = None
    redactedContent: str | None = None


class _Block(msgspec.Struct):
    text: str | None = None
    toolUse: _ToolUse | None = None
    reasoningContent: _Reasoning | None = None


class _Message(msgspec.Struct):
    content: list[_Block] = msgspec.field(default_factory=list)


class _Output(msgspec.Struct):
    message: _Message | None = None


class _Converse(msgspec.Struct):
    output: _Output | None = None
    stopReason: str | None = None
    usage: TokenUsage | None = None
    additionalModelResponseFields: Any = None  # a JSON document: usually an object, any value allowed
    metrics: dict[str, Any] | None = None
    trace: dict[str, Any] | None = None


_DECODER = msgspec.json.Decoder(_Converse)


def make_usage(usage: TokenUsage | None) -> Usage:
    if usage is None:
        return Usage()
    read, written = usage.cacheReadInputTokens, usage.cacheWriteInputTokens
    return Usage(input_tokens=usage.inputTokens + read + written, output_tokens=usage.outputTokens,
                 cached_tokens=read, cache_write_tokens=written)


def stop_reason(reason: str | None, real_tool_calls: bool, sequence: str | None = None) -> StopReason | None:
    """The canonical stop reason; ``tool_use`` with only the JSON-mode or server tools called is a plain end, and
    so is a ``stop_sequence`` stop that does not say which sequence (``stop_sequence`` promises to name it)."""
    if reason is None:
        return None
    if (reason == "tool_use" and not real_tool_calls) or (reason == "stop_sequence" and sequence is None):
        return "end"
    return STOP_REASONS.get(reason, "end")


def stop_sequence_of(fields: Any) -> str | None:
    """The stop sequence Claude names in ``additionalModelResponseFields`` (asked for by the request)."""
    value = fields.get("stop_sequence") if isinstance(fields, dict) else None
    return value if isinstance(value, str) else None


def compact(raw: msgspec.Raw) -> str:
    """A tool input as compact JSON text (``{}`` when missing)."""
    text = bytes(raw).strip()
    if not text or text == b"null":
        return "{}"
    return msgspec.json.encode(msgspec.json.decode(text)).decode()


def parse_converse(provider: str, body: bytes) -> ChatResponse:
    try:
        answer = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable response ({exc})", provider=provider,
                                       upstream_status=200) from exc
    parts: list[Part] = []
    real_tools = False
    native = False
    blocks = answer.output.message.content if answer.output and answer.output.message else []
    for block in blocks:
        if block.text is not None:
            parts.append(TextPart(block.text))
        elif block.toolUse is not None:
            use = block.toolUse
            if use.type == SERVER_TOOL_USE:
                native = True
            elif use.name == JSON_TOOL:
                parts.append(TextPart(compact(use.input)))
            else:
                real_tools = True
                parts.append(ToolCallPart(id=use.toolUseId, name=use.name, arguments=compact(use.input)))
        elif block.reasoningContent is not None:
            reasoning = block.reasoningContent
            if reasoning.reasoningText is not None:
                parts.append(ThinkingPart(text=reasoning.reasoningText.text,
                                          signature=reasoning.reasoningText.signature or None))
            elif reasoning.redactedContent is not None:
                parts.append(ThinkingPart(signature=reasoning.redactedContent, redacted=True))
        else:
            native = True
    extra: dict[str, Any] = {}
    fields = answer.additionalModelResponseFields
    if fields is not None:
        extra["additionalModelResponseFields"] = fields
    if answer.trace:
        extra["trace"] = answer.trace
    if native:
        extra["content"] = msgspec.json.decode(body)["output"]["message"]["content"]
    reason = stop_reason(answer.stopReason, real_tools, stop_sequence_of(fields))
    return ChatResponse(
        id="",
        model="",
        parts=parts,
        stop_reason=reason,
        stop_sequence=stop_sequence_of(fields) if reason == "stop_sequence" else None,
        usage=make_usage(answer.usage),
        extra=extra or None,
        extra_family="bedrock",
    )
