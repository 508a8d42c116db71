"""A Gemini ``GenerateContentResponse`` as a canonical ``ChatResponse``; the wire structs and the mappings
(stop reasons, usage, tool-call ids, thought signatures) the stream decoder shares.

Choices made:

- Only the first candidate is read (requests ask for one).
- Adjacent text parts become one ``TextPart``; adjacent thought parts (``thought: true``) one ``ThinkingPart``,
  a run of thoughts ending at the part that carries a ``thoughtSignature``.
- A ``functionCall`` becomes a ``ToolCallPart`` with Gemini's ``id`` when it gives one, else a generated
  ``call_…`` id; its ``args`` are passed on as the JSON text Gemini wrote.
- A ``thoughtSignature`` on a function call (Gemini 2.5 and later; Gemini 3 refuses the next turn without it)
  has no canonical field of its own: it travels on an empty ``ThinkingPart`` placed just before the call, and
  ``gemini_request`` attaches it to that call again. Signatures Byway hands out carry the ``gemini:`` prefix so
  that only Gemini's own signatures are ever sent back to Gemini. Signatures on plain text parts are optional
  for Gemini and are dropped.
- ``finishReason`` ``STOP`` with function calls is ``tool_calls``; ``MAX_TOKENS`` is ``length``; the safety
  family (``SAFETY``, ``RECITATION``, ``BLOCKLIST``, ``PROHIBITED_CONTENT``, ``SPII``, ...) is
  ``content_filter``; a prompt refused outright (``promptFeedback.blockReason``, no candidates) is
  ``content_filter`` with no parts.
- Usage: ``promptTokenCount`` (+ ``toolUsePromptTokenCount``) is the input, cached tokens included;
  ``candidatesTokenCount`` + ``thoughtsTokenCount`` is the output; ``thoughtsTokenCount`` is the reasoning;
  ``cachedContentTokenCount`` is the cached part of the input.
"""

from __future__ import annotations

import uuid
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
from byway.providers.gemini_errors import error_in_stream

SIGNATURE_PREFIX = "gemini:"

_FILTERED = frozenset({
    "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR",
})
_FAILED = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS",
                     "MISSING_THOUGHT_SIGNATURE"})


class WireFunctionCall(msgspec.Struct):
    name: str = ""
    args: msgspec.Raw = msgspec.Raw()
    id: str | None = None


class WirePart(msgspec.Struct, rename="camel"):
    text: str | None = None
    thought: bool = False
    thought_signature: str | None = None
    function_call: WireFunctionCall | None = None


class WireContent(msgspec.Struct):
    parts: list[WirePart] = msgspec.field(default_factory=list)
    role: str | None = None


class WireCandidate(msgspec.Struct, rename="camel"):
    content: WireContent | None = None
    finish_reason: str | None = None
    finish_message: str | None = None
    grounding_metadata: dict[str, Any] | None = None
    index: int = 0


class WireUsage(msgspec.Struct, rename="camel"):
    prompt_token_count: int = 0
    candidates_token_count: int = 0
    thoughts_token_count: int = 0
    cached_content_token_count: int = 0
    tool_use_prompt_token_count: int = 0

    def to_usage(self) -> Usage:
        return Usage(input_tokens=self.prompt_token_count + self.tool_use_prompt_token_count,
                     output_tokens=self.candidates_token_count + self.thoughts_token_count,
                     cached_tokens=self.cached_content_token_count, reasoning_tokens=self.thoughts_token_count)


class WirePromptFeedback(msgspec.Struct, rename="camel"):
    block_reason: str | None = None
    block_reason_message: str | None = None


class WireResponse(msgspec.Struct, rename="camel"):
    candidates: list[WireCandidate] = msgspec.field(default_factory=list)
    usage_metadata: WireUsage | None = None
    model_version: str = ""
    response_id: str = ""
    prompt_feedback: WirePromptFeedback | None = None
    error: dict[str, Any] | None = None  # an error object inside a 200 answer or stream

    def first(self) -> WireCandidate | None:
        return self.candidates[0] if self.candidates else None

    def blocked(self) -> bool:
        """The prompt itself was refused: a block reason and no candidates."""
        feedback = self.prompt_feedback
        return not self.candidates and feedback is not None and bool(feedback.block_reason)


_RESPONSE = msgspec.json.Decoder(WireResponse)


def decode_response(provider: str, body: bytes) -> WireResponse:
    try:
        response = _RESPONSE.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable answer ({exc})", provider=provider,
                                       upstream_status=200) from exc
    if response.error is not None:
        raise error_in_stream(provider, response.error)
    return response


def stop_reason(finish: str | None, tool_calls: bool) -> StopReason | None:
    if finish is None:
        return None
    if finish == "MAX_TOKENS":
        return "length"
    if finish in _FILTERED:
        return "content_filter"
    if finish in _FAILED:
        return "error"
    return "tool_calls" if tool_calls else "end"


def new_call_id() -> str:
    """For function calls Gemini gives no id (every model before Gemini 3, and most after)."""
    return f"call_{uuid.uuid4().hex[:24]}"


def call_arguments(call: WireFunctionCall) -> str:
    """The call's ``args`` as JSON text (``{}`` when Gemini sent none)."""
    raw = bytes(call.args).strip()
    return raw.decode() if raw and raw != b"null" else "{}"


def signature(value: str | None) -> str | None:
    """A Gemini thought signature in the form Byway hands out."""
    return SIGNATURE_PREFIX + value if value else None


def parse_generate(provider: str, body: bytes) -> ChatResponse:
    """The canonical response for a ``generateContent`` answer body."""
    response = decode_response(provider, body)
    candidate = response.first()
    parts = candidate_parts(candidate) if candidate is not None else []
    has_calls = any(isinstance(p, ToolCallPart) for p in parts)
    extra: dict[str, Any] = {}
    if response.blocked():
        reason: StopReason | None = "content_filter"
        feedback = response.prompt_feedback
        extra["prompt_feedback"] = {"block_reason": feedback.block_reason,
                                    "block_reason_message": feedback.block_reason_message}
    else:
        reason = stop_reason(candidate.finish_reason if candidate else None, has_calls)
    if candidate is not None:
        if candidate.finish_reason:
            extra["finish_reason"] = candidate.finish_reason
        if candidate.finish_message:
            extra["finish_message"] = candidate.finish_message
        if candidate.grounding_metadata:
            extra["grounding_metadata"] = candidate.grounding_metadata
    usage = response.usage_metadata
    return ChatResponse(
        id=response.response_id,
        model=response.model_version,
        parts=parts,
        stop_reason=reason,
        usage=usage.to_usage() if usage is not None else Usage(),
        extra=extra or None,
        extra_family="gemini" if extra else None,
    )


def candidate_parts(candidate: WireCandidate) -> list[Part]:
    """Canonical parts, merged as described in the module docstring."""
    content = candidate.content
    if content is None:
        return []
    out: list[Part] = []
    text: list[str] | None = None  # the text run being built
    thought: list[str] | None = None  # the thought run being built

    def close_runs() -> None:
        nonlocal text, thought
        if text is not None:
            out.append(TextPart("".join(text)))
            text = None
        if thought is not None:
            out.append(ThinkingPart(text="".join(thought)))
            thought = None

    for part in content.parts:
        call = part.function_call
        if call is not None:
            close_runs()
            if part.thought_signature:
                out.append(ThinkingPart(signature=signature(part.thought_signature)))
            out.append(ToolCallPart(id=call.id or new_call_id(), name=call.name, arguments=call_arguments(call)))
        elif part.thought:
            if not part.text and not part.thought_signature:
                continue
            if text is not None:
                close_runs()
            thought = thought if thought is not None else []
            thought.append(part.text or "")
            if part.thought_signature:
                out.append(ThinkingPart(text="".join(thought), signature=signature(part.thought_signature)))
                thought = None
        elif part.text:
            if thought is not None:
                close_runs()
            text = text if text is not None else []
            text.append(part.text)
    close_runs()
    return out
