"""Requests carrying more than the canonical model holds: what to keep for an Anthropic upstream.

Anthropic clients send things with no canonical place: annotations on blocks
(``cache_control``, ``citations``), flags on tools (``defer_loading``), blocks and
tools only Anthropic understands (documents, server tools and their results,
compaction), and top-level fields (``mcp_servers``, ``context_management``...).

``prune`` splits such a request (decoded as plain JSON values) in two:

- the canonical view: the same body with unknown keys dropped and every
  Anthropic-only block or tool replaced by an empty text block / placeholder
  tool (so positions, and the paths in error messages, stay those the client
  sent); the positions replaced are in ``Native.skipped`` and are left out of
  the canonical request;
- ``Native.verbatim``: each section that lost something, exactly as sent (and the
  conversation when it has ``system`` turns, which the adapter would hoist, and the tools
  when one is ``strict``, which the adapter leaves out for older models). It
  travels in ``ChatRequest.extra``, and the Anthropic adapter sends it in place
  of its own rendering, so an Anthropic upstream receives what the client wrote.

Annotations are optimisations other providers may lose. Anthropic-only blocks,
tools and fields change what the model sees or can do; ``Native.reasons`` lists
them, and a request with any reason is refused (400) for other providers.
"""

from __future__ import annotations

from typing import Any

from byway.api import _anthropic_wire as w

_STAND_IN_BLOCK = {"type": "text", "text": ""}
_STAND_IN_TOOL = {"name": "anthropic_tool", "input_schema": {}}
_CANONICAL_BLOCKS = {**w.USER_BLOCKS, **w.ASSISTANT_BLOCKS}
# Block types only Anthropic interprets (server tools and their results, MCP, documents...).
_NATIVE_BLOCKS = frozenset({"document", "search_result", "container_upload", "compaction", "tool_reference",
                            "tool_addition"})
_NATIVE_SUFFIXES = ("_tool_use", "_tool_result")
_NATIVE_SOURCES = frozenset({"file"})
# Top-level fields that change what the model can do; dropping them would change the answer.
_NATIVE_FIELDS = ("mcp_servers", "container")


def is_native_block(kind: str) -> bool:
    return kind in _NATIVE_BLOCKS or kind.endswith(_NATIVE_SUFFIXES)


class Native:
    """What ``prune`` found: positions left out, why only Anthropic can serve it, sections kept as sent."""

    __slots__ = ("reasons", "skipped", "verbatim")

    def __init__(self) -> None:
        self.skipped: set[str] = set()
        self.reasons: list[tuple[str, str]] = []  # (field path, what it is)
        self.verbatim: dict[str, Any] = {}

    def stand_in(self, path: str, what: str, placeholder: dict[str, Any]) -> dict[str, Any]:
        self.skipped.add(path)
        self.reasons.append((path, what))
        return dict(placeholder)


def _keep(obj: dict[str, Any], known: frozenset[str]) -> tuple[dict[str, Any], bool]:
    if obj.keys() <= known:
        return obj, False
    return {k: v for k, v in obj.items() if k in known}, True


def prune(body: Any) -> tuple[Any, Native]:
    """The canonical view of ``body`` and what it left out (see the module docstring)."""
    native = Native()
    if not isinstance(body, dict):
        return body, native  # the typed conversion says what is wrong with it
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "messages":
            pruned, changed = _messages(value, native)
        elif key == "system":
            pruned, changed = _blocks(value, "system", {"text": w.USER_BLOCKS["text"]}, native)
        elif key == "tools":
            pruned, changed = _tools(value, native)
        elif key == "tool_choice":
            pruned, changed = _tagged(value, w.CHOICES)
        elif key == "metadata":
            pruned, changed = _keep(value, w.METADATA_FIELDS) if isinstance(value, dict) else (value, False)
        elif key in w.REQUEST_FIELDS:
            pruned, changed = value, False
        else:
            _top_level(key, value, native)
            continue
        out[key] = pruned
        if changed:
            native.verbatim[key] = value
    if "tools" in native.verbatim and "tool_choice" in body:
        native.verbatim["tool_choice"] = body["tool_choice"]  # it may name a tool only the verbatim list has
    if "messages" in native.verbatim and "system" not in native.verbatim and _has_system_turns(body["messages"]):
        # The adapter hoists system turns into the top-level list; the verbatim conversation has them in place.
        native.verbatim["system"] = body.get("system", [])
    return out, native


def _has_system_turns(messages: Any) -> bool:
    return isinstance(messages, list) and any(isinstance(m, dict) and m.get("role") == "system" for m in messages)


def _top_level(key: str, value: Any, native: Native) -> None:
    native.verbatim[key] = value
    if key in _NATIVE_FIELDS:
        native.reasons.append((key, f"the '{key}' field"))


def _messages(value: Any, native: Native) -> tuple[Any, bool]:
    if not isinstance(value, list):
        return value, False
    changed = False
    out: list[Any] = []
    for i, message in enumerate(value):
        if isinstance(message, dict):
            message, dropped = _keep(message, w.MESSAGE_FIELDS)
            content = message.get("content")
            blocks, altered = _blocks(content, f"messages.{i}.content", _CANONICAL_BLOCKS, native)
            if altered:
                message = {**message, "content": blocks}
            changed = changed or dropped or altered or message.get("role") == "system"
        out.append(message)
    return out, changed


def _blocks(content: Any, where: str, known: dict[str, frozenset[str]], native: Native) -> tuple[Any, bool]:
    if not isinstance(content, list):
        return content, False
    changed = False
    out: list[Any] = []
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if isinstance(kind, str) and kind in known:
            block, altered = _block(block, kind, known, f"{where}.{j}", native)
            changed = changed or altered
        elif isinstance(kind, str) and is_native_block(kind):
            block = native.stand_in(f"{where}.{j}", f"a '{kind}' block", _STAND_IN_BLOCK)
            changed = True
        out.append(block)  # anything else: the typed conversion names the problem
    return out, changed


def _block(block: dict[str, Any], kind: str, known: dict[str, frozenset[str]], path: str,
           native: Native) -> tuple[dict[str, Any], bool]:
    block, changed = _keep(block, known[kind])
    source = block.get("source")
    if isinstance(source, dict):
        source_kind = source.get("type")
        if source_kind in _NATIVE_SOURCES:
            return native.stand_in(path, f"an image with a '{source_kind}' source", _STAND_IN_BLOCK), True
        pruned, altered = _tagged(source, w.SOURCES)
        if altered:
            block, changed = {**block, "source": pruned}, True
    if kind == "tool_result":
        results, altered = _blocks(block.get("content"), f"{path}.content", w.RESULT_BLOCKS, native)
        if altered:
            block, changed = {**block, "content": results}, True
    return block, changed


def _tagged(value: Any, known: dict[str, frozenset[str]]) -> tuple[Any, bool]:
    if isinstance(value, dict):
        kind = value.get("type")
        fields = known.get(kind) if isinstance(kind, str) else None
        if fields is not None:
            return _keep(value, fields)
    return value, False


def _tools(value: Any, native: Native) -> tuple[Any, bool]:
    if not isinstance(value, list):
        return value, False
    changed = False
    out: list[Any] = []
    for k, tool in enumerate(value):
        if isinstance(tool, dict):
            kind = tool.get("type")
            if kind is None or kind == "custom":
                changed = changed or tool.get("strict") is not None
                tool, dropped = _keep(tool, w.TOOL_FIELDS)
                changed = changed or dropped
            elif isinstance(kind, str):
                tool = native.stand_in(f"tools.{k}", f"Anthropic's '{kind}' tool", _STAND_IN_TOOL)
                changed = True
        out.append(tool)
    return out, changed
