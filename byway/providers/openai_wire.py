"""The parts of OpenAI-style Chat Completions answers that Byway reads, as msgspec structs.

Decoding into these is one pass in C with no intermediate dicts; fields Byway doesn't read are skipped.
The types are loose where providers disagree (numbers as floats, arguments as objects, content as a
list of typed chunks) so that a provider's variation is not a decoding error. ``cost`` is a ``Decimal``
decoded from the number's own text, so no precision is lost through a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from byway.core import Usage


class WireFunction(msgspec.Struct):
    name: str | None = None
    arguments: Any = None  # JSON text; some servers send the object itself


class WireToolCall(msgspec.Struct):
    index: int | None = None
    id: str | None = None
    function: WireFunction | None = None


class WireMessage(msgspec.Struct):
    """A full ``message`` or a stream ``delta``."""

    content: str | list[Any] | None = None  # Mistral: a list of text/thinking chunks
    refusal: str | None = None
    tool_calls: list[WireToolCall] | None = None
    reasoning_content: str | None = None  # DeepSeek
    reasoning: str | None = None  # OpenRouter, Groq, Ollama, Together, ...


class WireChoice(msgspec.Struct):
    index: int | None = 0
    message: WireMessage | None = None
    delta: WireMessage | None = None
    finish_reason: str | None = None
    logprobs: Any = None


class WirePromptDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None  # OpenRouter, for providers that bill cache writes


class WireCompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class WireUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: WirePromptDetails | None = None
    completion_tokens_details: WireCompletionDetails | None = None
    prompt_cache_hit_tokens: int | None = None  # DeepSeek
    cost: Decimal | None = None  # OpenRouter: what the call cost, USD

    def to_usage(self) -> Usage:
        prompt = self.prompt_tokens_details
        cached = (prompt.cached_tokens if prompt else None) or self.prompt_cache_hit_tokens or 0
        completion = self.completion_tokens_details
        reasoning = (completion.reasoning_tokens if completion else None) or 0
        prompt_tokens, output = self.prompt_tokens or 0, self.completion_tokens or 0
        if reasoning and self.total_tokens == prompt_tokens + output + reasoning:
            # xAI counts reasoning apart from ``completion_tokens`` (its total adds the three) and bills it as
            # output; OpenAI's ``completion_tokens`` already includes it.
            output += reasoning
        return Usage(
            input_tokens=prompt_tokens,
            output_tokens=output,
            cached_tokens=cached,
            cache_write_tokens=(prompt.cache_write_tokens if prompt else None) or 0,
            reasoning_tokens=reasoning,
            provider_cost=self.cost,
        )


class WireGroq(msgspec.Struct):
    usage: WireUsage | None = None


class WireCompletion(msgspec.Struct):
    """A whole completion or one stream chunk."""

    id: str | None = None
    model: str | None = None
    created: int | float | None = None
    choices: list[WireChoice] | None = None
    usage: WireUsage | None = None
    x_groq: WireGroq | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    error: Any = None  # an error reported in place of (or inside) an answer

    def wire_usage(self) -> WireUsage | None:
        if self.usage is not None:
            return self.usage
        return self.x_groq.usage if self.x_groq is not None else None

    def first_choice(self) -> WireChoice | None:
        for choice in self.choices or ():
            if not choice.index:
                return choice
        return None


completion_decoder = msgspec.json.Decoder(WireCompletion)


def chunk_texts(content: list[Any]) -> tuple[str, str]:
    """(thinking, text) out of a Mistral-style content list:
    ``[{"type": "thinking", "thinking": [{"type": "text", "text": ...}]}, {"type": "text", "text": ...}]``."""
    thinking: list[str] = []
    text: list[str] = []
    for chunk in content:
        if not isinstance(chunk, dict):
            continue
        kind = chunk.get("type")
        if kind == "text":
            text.append(str(chunk.get("text") or ""))
        elif kind == "thinking":
            inner = chunk.get("thinking")
            if isinstance(inner, str):
                thinking.append(inner)
            elif isinstance(inner, list):
                thinking.extend(str(c.get("text") or "") for c in inner if isinstance(c, dict))
    return "".join(thinking), "".join(text)


def arguments_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return msgspec.json.encode(arguments).decode()
