"""What the Gemini and Vertex mocks answer to ``generateContent`` and ``streamGenerateContent``.

A whole answer is one ``GenerateContentResponse``: ``candidates[0].content.parts`` (a ``thought`` part when
thoughts are asked for, the text, then each function call whole, the first signed with a ``thoughtSignature``
when the model reasons; else the text is signed, see ``Answer.text_part``), ``finishReason`` (``STOP``, also
for function calls, with a ``finishMessage`` saying so; ``MAX_TOKENS`` when cut), ``usageMetadata``
(``tokens`` rules: ``candidatesTokenCount`` leaves the reasoning out, ``thoughtsTokenCount`` holds it,
prompts over 1024 tokens report ``cachedContentTokenCount``), ``modelVersion`` and ``responseId``.
Vertex adds ``createTime``, ``trafficType`` and ids on function calls, as Vertex does.

A stream sends ``data: <GenerateContentResponse>`` events separated by ``\\r\\n\\r\\n`` (thought words, then text
words, one per chunk, function calls together in the last), each with running usage; the last carries the
``finishReason``. Without ``alt=sse`` the chunks are answered as one JSON array, as Gemini does.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import msgspec
from aiohttp import web

from byway.mock import tokens
from byway.mock.brain import Reply, respond
from byway.mock.gemini_wire import GenerateRequest
from byway.mock.sse import EventStream
from byway.mock.state import fault_of, state_of

_PIECE = re.compile(r"\s*\S+|\s+")
HEADERS = {"Vary": "Origin, X-Origin, Referer", "Server-Timing": "gfet4t7; dur=1"}
_CALLS_MESSAGE = "Model generated function call(s)."

Json = dict[str, Any]


def json_response(body: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), content_type="application/json", charset="UTF-8",
                        headers=HEADERS)


def signature(seed: str) -> str:
    """A deterministic stand-in for Gemini's opaque thought signatures."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest() * 3).decode()


def finish_reason(reply: Reply) -> str:
    return "MAX_TOKENS" if reply.finish == "length" else "STOP"


class Answer:
    """One reply rendered in Gemini's (or Vertex's) shapes."""

    def __init__(self, req: GenerateRequest, reply: Reply, response_id: str, call_ids: list[str],
                 *, vertex: bool) -> None:
        self.req = req
        self.reply = reply
        self.response_id = response_id
        self.call_ids = call_ids
        self.vertex = vertex

    def usage(self, candidates: int | None = None, thoughts: int | None = None) -> Json:
        reply = self.reply
        thoughts = reply.reasoning_tokens if thoughts is None else thoughts
        candidates = reply.completion_tokens - reply.reasoning_tokens if candidates is None else candidates
        images = tokens.PER_IMAGE * self.req.images
        meta: Json = {"promptTokenCount": reply.prompt_tokens}
        if candidates:
            meta["candidatesTokenCount"] = candidates
            meta["candidatesTokensDetails"] = [{"modality": "TEXT", "tokenCount": candidates}]
        meta["totalTokenCount"] = reply.prompt_tokens + candidates + thoughts
        details = [{"modality": "TEXT", "tokenCount": reply.prompt_tokens - images}]
        if images:
            details.append({"modality": "IMAGE", "tokenCount": images})
        meta["promptTokensDetails"] = details
        if thoughts:
            meta["thoughtsTokenCount"] = thoughts
        if reply.cached_tokens:
            meta["cachedContentTokenCount"] = reply.cached_tokens
            meta["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": reply.cached_tokens}]
        if self.vertex:
            meta["trafficType"] = "ON_DEMAND"
        return meta

    def call_parts(self) -> list[Json]:
        parts = []
        for k, call in enumerate(self.reply.tool_calls):
            function: Json = {"name": call.name, "args": call.input}
            if self.vertex:
                function["id"] = self.call_ids[k]
            part: Json = {"functionCall": function}
            if k == 0 and self.reply.reasoning:
                part["thoughtSignature"] = signature(self.reply.reasoning)
            parts.append(part)
        return parts

    def text_part(self, text: str, signed: bool) -> Json:
        """A text part, signed (when ``signed``) if a Gemini 3 model, or a model given tools or asked for its
        thoughts, reasons: Gemini signs the text when no function call carries the signature (in a stream, the
        last text chunk)."""
        part: Json = {"text": text}
        reply, req = self.reply, self.req
        if signed and reply.reasoning and not reply.tool_calls and (
                "gemini-3" in req.ask.model or req.ask.tools or req.include_thoughts):
            part["thoughtSignature"] = signature(reply.reasoning)
        return part

    def parts(self) -> list[Json]:
        reply = self.reply
        parts: list[Json] = []
        if self.req.include_thoughts and reply.reasoning:
            parts.append({"text": reply.reasoning, "thought": True})
        if reply.text:
            parts.append(self.text_part(reply.text, signed=True))
        return parts + self.call_parts()

    def candidate(self, parts: list[Json], index: int, finish: str | None) -> Json:
        content: Json = {"parts": parts, "role": "model"} if parts else {"role": "model"}
        candidate: Json = {"content": content}
        if finish is not None:
            candidate["finishReason"] = finish
            if self.reply.tool_calls:
                candidate["finishMessage"] = _CALLS_MESSAGE
        if not self.vertex:
            candidate["index"] = index
        return candidate

    def envelope(self, candidates: list[Json], usage: Json) -> Json:
        body: Json = {"candidates": candidates, "usageMetadata": usage, "modelVersion": self.req.ask.model,
                      "responseId": self.response_id}
        if self.vertex:
            body["createTime"] = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        return body

    def whole(self) -> Json:
        parts = self.parts()
        finish = finish_reason(self.reply)
        candidates = [self.candidate(parts, i, finish) for i in range(self.req.candidates)]
        return self.envelope(candidates, self.usage())

    def chunks(self) -> Iterator[Json]:
        reply = self.reply
        pieces: list[Json] = []
        if self.req.include_thoughts and reply.reasoning:
            pieces += [{"text": p, "thought": True} for p in _PIECE.findall(reply.reasoning)]
        words = _PIECE.findall(reply.text)
        pieces += [self.text_part(p, signed=n == len(words) - 1) for n, p in enumerate(words)]
        calls = self.call_parts()
        thought_text = text = ""
        last = len(pieces) - (0 if calls else 1)
        for n, piece in enumerate(pieces):
            if piece.get("thought"):
                thought_text += piece["text"]
            else:
                text += piece["text"]
            if n == last:
                break
            shown = tokens.text_tokens(len(thought_text)) if self.req.include_thoughts else None
            usage = self.usage(candidates=tokens.text_tokens(len(text)), thoughts=shown)
            yield self.envelope([self.candidate([piece], 0, None)], usage)
        final = calls if calls else [pieces[last]] if pieces else [{"text": ""}]
        yield self.envelope([self.candidate(final, 0, finish_reason(reply))], self.usage())


async def answer(request: web.Request, req: GenerateRequest, *, stream: bool, vertex: bool) -> web.StreamResponse:
    """Reply to a checked request, whole or streamed."""
    reply = respond(req.ask)
    ids = state_of(request).ids
    response_id = ids.make("", 23)
    call_ids = [ids.make("", 8).lower() for _ in reply.tool_calls]
    rendered = Answer(req, reply, response_id, call_ids, vertex=vertex)
    if not stream:
        return json_response(rendered.whole())
    if request.query.get("alt") != "sse":
        return json_response(list(rendered.chunks()))
    events = EventStream(request, fault_of(request), HEADERS)
    await events.open()
    for chunk in rendered.chunks():
        await events.send(b"data: " + msgspec.json.encode(chunk) + b"\r\n\r\n")
    return await events.close()
