"""Reading a conversation back out of the request a provider received, in each wire format.

Each reader turns a recorded provider request body into the same plain summary, so a round
trip test can compare what the client sent with what reached the provider, part by part.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, NamedTuple


class Seen(NamedTuple):
    system: list[str]
    texts: list[str]  # user text parts
    images: list[bytes]  # decoded image bytes, in order
    calls: list[tuple[str, dict[str, Any]]]  # (tool name, arguments)
    results: list[tuple[str, str]]  # (tool name, result as text)


def _data_url(url: str) -> bytes:
    head, _, data = url.partition(",")
    assert head.startswith("data:") and head.endswith(";base64"), url[:40]
    return base64.b64decode(data)


def _texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    return json.dumps(content)


def openai(body: dict[str, Any]) -> Seen:
    seen = Seen([], [], [], [], [])
    names: dict[str, str] = {}
    for m in body["messages"]:
        content = m.get("content")
        if m["role"] in ("system", "developer"):
            seen.system.append(content if isinstance(content, str) else "".join(p["text"] for p in content))
        elif m["role"] == "user":
            for p in [{"type": "text", "text": content}] if isinstance(content, str) else content:
                if p["type"] == "text":
                    seen.texts.append(p["text"])
                elif p["type"] == "image_url":
                    seen.images.append(_data_url(p["image_url"]["url"]))
        elif m["role"] == "assistant":
            for call in m.get("tool_calls") or []:
                names[call["id"]] = call["function"]["name"]
                seen.calls.append((call["function"]["name"], json.loads(call["function"]["arguments"])))
        elif m["role"] == "tool":
            seen.results.append((names[m["tool_call_id"]], _texts(content)))
    return seen


def anthropic(body: dict[str, Any]) -> Seen:
    system = body.get("system") or []
    seen = Seen([system] if isinstance(system, str) else [b["text"] for b in system], [], [], [], [])
    names: dict[str, str] = {}
    for m in body["messages"]:
        content = m["content"]
        for b in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            if b["type"] == "text" and m["role"] == "user":
                seen.texts.append(b["text"])
            elif b["type"] == "image":
                seen.images.append(base64.b64decode(b["source"]["data"]))
            elif b["type"] == "tool_use":
                names[b["id"]] = b["name"]
                seen.calls.append((b["name"], b["input"]))
            elif b["type"] == "tool_result":
                seen.results.append((names[b["tool_use_id"]], _texts(b["content"])))
    return seen


def gemini(body: dict[str, Any]) -> Seen:
    instruction = body.get("systemInstruction") or {"parts": []}
    seen = Seen([p["text"] for p in instruction["parts"]], [], [], [], [])
    for c in body["contents"]:
        for p in c["parts"]:
            if "text" in p and c["role"] == "user" and not p.get("thought"):
                seen.texts.append(p["text"])
            elif "inlineData" in p:
                seen.images.append(base64.b64decode(p["inlineData"]["data"]))
            elif "functionCall" in p:
                seen.calls.append((p["functionCall"]["name"], p["functionCall"].get("args", {})))
            elif "functionResponse" in p:
                seen.results.append((p["functionResponse"]["name"], _texts(p["functionResponse"]["response"])))
    return seen


def bedrock(body: dict[str, Any]) -> Seen:
    seen = Seen([b["text"] for b in body.get("system", []) if "text" in b], [], [], [], [])
    names: dict[str, str] = {}
    for m in body["messages"]:
        for b in m["content"]:
            if "text" in b and m["role"] == "user":
                seen.texts.append(b["text"])
            elif "image" in b:
                seen.images.append(base64.b64decode(b["image"]["source"]["bytes"]))
            elif "toolUse" in b:
                names[b["toolUse"]["toolUseId"]] = b["toolUse"]["name"]
                seen.calls.append((b["toolUse"]["name"], b["toolUse"]["input"]))
            elif "toolResult" in b:
                result = b["toolResult"]
                seen.results.append((names[result["toolUseId"]], _texts(result["content"])))
    return seen


def ollama(body: dict[str, Any]) -> Seen:
    seen = Seen([], [], [], [], [])
    for m in body["messages"]:
        if m["role"] == "system":
            seen.system.append(m["content"])
        elif m["role"] == "user":
            if m.get("content"):
                seen.texts.append(m["content"])
            seen.images.extend(base64.b64decode(i) for i in m.get("images") or [])
        elif m["role"] == "assistant":
            seen.calls.extend((c["function"]["name"], c["function"]["arguments"]) for c in m.get("tool_calls") or [])
        elif m["role"] == "tool":
            seen.results.append((m.get("tool_name", ""), m["content"]))
    return seen


# the mock path a family's chat request arrives at (fault prefixes are already removed) -> its reader
READERS: dict[str, Callable[[dict[str, Any]], Seen]] = {
    # Cohere v2's chat messages have OpenAI's shape (roles, image_url parts, tool_calls, tool_call_id)
    "/anthropic/v1/messages": anthropic, "/cohere/v2/chat": openai, "/ollama/api/chat": ollama,
}


def reader_for(path: str) -> Callable[[dict[str, Any]], Seen]:
    if path in READERS:
        return READERS[path]
    if path.startswith(("/gemini/", "/vertex/")):
        return gemini
    if path.startswith("/bedrock/"):
        return bedrock
    assert path.endswith("/chat/completions"), path
    return openai
