"""The canonical chat response."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Literal

import msgspec

from byway.core.parts import Part, TextPart, ThinkingPart, ToolCallPart
from byway.core.usage import Usage

# Why generation stopped, in terms every provider maps onto:
#   end            the model finished its turn
#   stop_sequence  a caller-given stop sequence was produced (see ``stop_sequence``)
#   length         the token limit was reached
#   tool_calls     the model wants tools called
#   content_filter the provider's safety filter cut the answer
#   refusal        the model refused (OpenAI ``refusal``, Anthropic ``refusal``)
#   pause          the provider paused a long turn (Anthropic ``pause_turn``)
#   error          the provider reported an error as the stop reason
StopReason = Literal["end", "stop_sequence", "length", "tool_calls", "content_filter", "refusal", "pause", "error"]


class ChatResponse(msgspec.Struct, kw_only=True):
    id: str
    model: str
    parts: list[Part] = msgspec.field(default_factory=list)
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    refusal: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    created: int = msgspec.field(default_factory=lambda: int(time.time()))
    extra: dict[str, Any] | None = None  # family-native fields (system_fingerprint, logprobs, ...)
    extra_family: str | None = None
    provider: str | None = None  # set by the engine: the provider connection that answered
    cost: Decimal | None = None  # set by the engine: USD, None when the price is unknown
    estimated: bool = False  # set by the engine: the provider reported no usage, so ``usage`` is estimated

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def content(self) -> str:
        return self.text

    @property
    def thinking(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, ThinkingPart))

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if isinstance(p, ToolCallPart)]
