"""Canonical stream events.

A provider stream decodes into these; a client codec encodes them into its
own wire format. ``index`` is the position of the part being built in the
final response's ``parts`` list, so a consumer knows which part a delta
extends and when a new part begins.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core.response import StopReason
from byway.core.usage import Usage


class StreamStart(msgspec.Struct, tag="start", frozen=True):
    id: str
    model: str
    created: int = 0


class TextDelta(msgspec.Struct, tag="text_delta", frozen=True):
    index: int
    text: str


class ThinkingDelta(msgspec.Struct, tag="thinking_delta", frozen=True):
    index: int
    text: str = ""
    signature: str | None = None
    redacted: bool = False


class ToolCallStart(msgspec.Struct, tag="tool_call_start", frozen=True):
    index: int
    id: str
    name: str


class ToolCallDelta(msgspec.Struct, tag="tool_call_delta", frozen=True):
    index: int
    arguments: str  # a fragment of the arguments' JSON text


class RefusalDelta(msgspec.Struct, tag="refusal_delta", frozen=True):
    text: str


class UsageReport(msgspec.Struct, tag="usage", frozen=True):
    """Usage so far; later reports supersede earlier figures (see ``Usage.merge``)."""

    usage: Usage


class Finish(msgspec.Struct, tag="finish", frozen=True):
    stop_reason: StopReason
    stop_sequence: str | None = None
    extra: dict[str, Any] | None = None


StreamEvent = (
    StreamStart | TextDelta | ThinkingDelta | ToolCallStart | ToolCallDelta | RefusalDelta | UsageReport | Finish
)
