"""Messages and the canonical chat request."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from byway.core.parts import Part, TextPart, ToolCallPart

Role = Literal["system", "developer", "user", "assistant", "tool"]


class Message(msgspec.Struct, frozen=True):
    """One turn of a conversation.

    ``system`` and ``developer`` turns carry instructions; ``tool`` turns carry
    ``ToolResultPart`` answers; ``assistant`` turns may carry text, thinking
    and tool calls.
    """

    role: Role
    parts: list[Part]
    name: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if isinstance(p, ToolCallPart)]


class Tool(msgspec.Struct, frozen=True):
    """A function the model may call; ``parameters`` is a JSON schema."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ToolChoice(msgspec.Struct, frozen=True):
    """``auto``: the model decides; ``none``: no tools; ``required``: some tool;
    ``tool``: the tool named ``name``."""

    mode: Literal["auto", "none", "required", "tool"]
    name: str | None = None


class ResponseFormat(msgspec.Struct, frozen=True):
    type: Literal["text", "json_object", "json_schema"]
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None
    description: str | None = None


class ChatRequest(msgspec.Struct, kw_only=True):
    """The canonical chat request every client codec produces and every adapter consumes.

    ``model`` is the provider's own model name once routing has resolved it
    (before that, whatever the client asked for). ``extra`` holds fields of the
    client's wire format that have no canonical meaning; an adapter of the same
    wire family forwards them, others ignore them.
    """

    model: str
    messages: list[Message]
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    stream: bool = False
    include_usage: bool = False  # the client asked for usage at the end of a stream
    reasoning_effort: str | None = None
    extra: dict[str, Any] | None = None
    extra_family: str | None = None  # the wire family ``extra`` came from ("openai", "anthropic")
