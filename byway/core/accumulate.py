"""Build a ``ChatResponse`` out of stream events."""

from __future__ import annotations

from byway.core.events import (
    Finish,
    RefusalDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageReport,
)
from byway.core.parts import Part, TextPart, ThinkingPart, ToolCallPart
from byway.core.response import ChatResponse
from byway.core.usage import Usage


class Accumulator:
    """Feed it every event of a stream; ``response()`` is what a non-streamed call would have returned."""

    __slots__ = ("_kinds", "_pieces", "_tools", "created", "events", "id", "model", "refusal",
                 "signatures", "stop_reason", "stop_sequence", "usage")

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self._kinds: dict[int, str] = {}
        self._pieces: dict[int, list[str]] = {}
        self._tools: dict[int, tuple[str, str]] = {}
        self.signatures: dict[int, str] = {}
        self.refusal: list[str] = []
        self.usage = Usage()
        self.stop_reason = None
        self.stop_sequence: str | None = None
        self.events = 0

    def add(self, event: StreamEvent) -> None:
        self.events += 1
        match event:
            case TextDelta(index=i, text=t):
                self._kinds.setdefault(i, "text")
                self._pieces.setdefault(i, []).append(t)
            case ToolCallDelta(index=i, arguments=a):
                self._pieces.setdefault(i, []).append(a)
            case ToolCallStart(index=i, id=tid, name=name):
                self._kinds[i] = "tool"
                self._tools[i] = (tid, name)
                self._pieces.setdefault(i, [])
            case ThinkingDelta(index=i, text=t, signature=sig, redacted=red):
                self._kinds.setdefault(i, "redacted" if red else "thinking")
                self._pieces.setdefault(i, []).append(t)
                if sig:
                    self.signatures[i] = self.signatures.get(i, "") + sig
            case RefusalDelta(text=t):
                self.refusal.append(t)
            case UsageReport(usage=u):
                self.usage = self.usage.merge(u)
            case Finish(stop_reason=r, stop_sequence=s):
                self.stop_reason = r
                self.stop_sequence = s
            case StreamStart(id=rid, model=model, created=created):
                self.id, self.model, self.created = rid or self.id, model or self.model, created or self.created

    @property
    def output_text(self) -> str:
        """Everything generated so far as text (for estimating tokens)."""
        return "".join("".join(p) for p in self._pieces.values()) + "".join(self.refusal)

    def parts(self) -> list[Part]:
        out: list[Part] = []
        for i in sorted(self._kinds):
            kind, text = self._kinds[i], "".join(self._pieces.get(i, ()))
            if kind == "text":
                out.append(TextPart(text))
            elif kind == "tool":
                tid, name = self._tools[i]
                out.append(ToolCallPart(id=tid, name=name, arguments=text or "{}"))
            else:
                out.append(ThinkingPart(text=text, signature=self.signatures.get(i), redacted=kind == "redacted"))
        return out

    def response(self) -> ChatResponse:
        kwargs = {"created": self.created} if self.created else {}
        return ChatResponse(
            id=self.id,
            model=self.model,
            parts=self.parts(),
            stop_reason=self.stop_reason,
            stop_sequence=self.stop_sequence,
            refusal="".join(self.refusal) or None,
            usage=self.usage,
            **kwargs,
        )
