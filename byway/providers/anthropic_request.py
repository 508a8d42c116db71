"""The canonical ``ChatRequest`` as an Anthropic Messages request body.

Choices made where the two formats differ:

- ``system`` and ``developer`` turns, wherever they sit in the conversation, become
  the top-level ``system`` list of text blocks, in order.
- ``tool`` turns are user turns of ``tool_result`` blocks; consecutive turns of the
  same role are merged (Anthropic wants user and assistant to alternate), and in a
  merged user turn the tool results go first, as Anthropic requires.
- A tool call whose ``arguments`` are not a JSON object is refused with
  ``InvalidRequestError`` naming the message: replacing it with ``{}`` would rewrite
  history the model then reasons about; empty arguments do mean ``{}``.
- Thinking parts go back only when signed (Anthropic rejects unsigned thinking).
- ``max_tokens`` is required by Anthropic. Without one: 4096 for the Claude 2 and
  Claude 3 (haiku/sonnet/opus) families, whose ceiling that is, else 8192; raised
  above a thinking budget when one is set.
- ``temperature`` is clamped to Anthropic's range 0..1 (OpenAI allows up to 2).
- ``reasoning_effort`` (an OpenAI client's) becomes extended thinking with a token
  budget (low 1024, medium 4096, high 16384); temperature and top_p are then left
  out, as Anthropic accepts neither with thinking.
- ``response_format`` json_schema / json_object: Messages has no equivalent that
  every Claude model accepts, so the answer is asked for as a call to a tool named
  ``JSON_TOOL`` whose ``input_schema`` is the schema (``{"type": "object"}`` for
  json_object), forced with ``tool_choice`` (or, with thinking on, which forbids a
  forced tool, requested by a system line). Parsing turns that call back into the
  answer's JSON text. ``Tool.strict`` is not forwarded (older models reject it).
- ``request.extra`` from an Anthropic client is merged over the body (except
  ``model`` and ``stream``), so fields such as ``top_k`` or ``thinking`` pass through.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from byway.providers.gemini_response import SIGNATURE_PREFIX as GEMINI_SIGNATURE

JSON_TOOL = "byway_json_response"
"""The tool a JSON-mode answer is requested through; parsing turns its call back into text."""

DEFAULT_MAX_TOKENS = 8192
_SMALL_MAX_TOKENS = 4096
_SMALL_MODELS = ("claude-2", "claude-instant", "claude-3-haiku", "claude-3-sonnet", "claude-3-opus")
_EFFORT_BUDGET = {"low": 1024, "medium": 4096, "high": 16384}
_MIN_THINKING_BUDGET = 1024

# Base64 openings of the image formats Anthropic accepts, for inline images without a media type.
_IMAGE_MAGIC = (("/9j/", "image/jpeg"), ("iVBORw0KGgo", "image/png"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))

Block = dict[str, Any]


def default_max_tokens(model: str) -> int:
    return _SMALL_MAX_TOKENS if model.startswith(_SMALL_MODELS) else DEFAULT_MAX_TOKENS


def build_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body (as a dict) of ``POST /v1/messages`` for ``request``."""
    system, messages = convert_messages(request.messages)
    extra = request.extra if request.extra_family == "anthropic" else None
    body: dict[str, Any] = {"model": request.model, "max_tokens": 0, "messages": messages}

    thinking_budget = _budget_of(extra.get("thinking") if extra else None)
    effort_thinking = False
    if thinking_budget is None and not (extra and "thinking" in extra):
        thinking_budget = _EFFORT_BUDGET.get(request.reasoning_effort or "")
        effort_thinking = thinking_budget is not None
    body["max_tokens"] = _max_tokens(request, thinking_budget, effort_thinking)
    if effort_thinking:
        budget = min(thinking_budget or 0, body["max_tokens"] - 1)
        if budget >= _MIN_THINKING_BUDGET:
            body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        else:
            effort_thinking = False
    thinking_on = effort_thinking or _thinking_enabled(extra)

    if not effort_thinking:
        if request.temperature is not None:
            body["temperature"] = min(max(request.temperature, 0.0), 1.0)
        if request.top_p is not None:
            body["top_p"] = request.top_p
    if request.stop:
        stops = [s for s in request.stop if s]
        if stops:
            body["stop_sequences"] = stops
    if request.user:
        body["metadata"] = {"user_id": request.user}

    tools = [tool_block(t) for t in request.tools] if request.tools else []
    choice = tool_choice_block(request.tool_choice, request.parallel_tool_calls) if tools else None
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        tools.append(json_tool_block(fmt))
        choice, instruction = _json_choice(choice, has_client_tools=len(tools) > 1, thinking=thinking_on,
                                           parallel=request.parallel_tool_calls)
        if instruction:
            system.append({"type": "text", "text": instruction})
    if system:
        body["system"] = system
    if tools:
        body["tools"] = tools
    if choice is not None:
        body["tool_choice"] = choice
    body["stream"] = request.stream
    if extra:
        for key, value in extra.items():
            if key not in ("model", "stream"):
                body[key] = value
    return body


def _budget_of(thinking: Any) -> int | None:
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        return budget if isinstance(budget, int) else None
    return None


def _thinking_enabled(extra: dict[str, Any] | None) -> bool:
    thinking = extra.get("thinking") if extra else None
    return isinstance(thinking, dict) and thinking.get("type", "disabled") != "disabled"


def _max_tokens(request: ChatRequest, budget: int | None, from_effort: bool) -> int:
    if request.max_tokens:
        return request.max_tokens
    default = default_max_tokens(request.model)
    if budget is not None and (from_effort or budget >= default):
        return budget + default
    return default


# -- messages --------------------------------------------------------------------------------------------------


def convert_messages(messages: list[Message]) -> tuple[list[Block], list[Block]]:
    """``(system blocks, messages)``: instructions hoisted, roles merged to alternate."""
    system: list[Block] = []
    out: list[Block] = []
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.extend({"type": "text", "text": p.text} for p in message.parts
                          if isinstance(p, TextPart) and p.text.strip())
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [b for b in (_block(p, index) for p in message.parts) if b is not None]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        if turn["role"] == "user":
            _tool_results_first(turn["content"])
    if out and out[-1]["role"] == "assistant":
        _trim_prefill(out)
    return system, out


def _tool_results_first(blocks: list[Block]) -> None:
    seen_other = False
    for block in blocks:
        if block["type"] != "tool_result":
            seen_other = True
        elif seen_other:
            blocks.sort(key=lambda b: b["type"] != "tool_result")  # stable: keeps each group's order
            return


def _trim_prefill(out: list[Block]) -> None:
    """Anthropic rejects a final assistant turn (a prefill) ending in whitespace."""
    content = out[-1]["content"]
    last = content[-1]
    if last["type"] == "text":
        text = last["text"].rstrip()
        if text:
            content[-1] = {"type": "text", "text": text}
        else:
            content.pop()
            if not content:
                out.pop()


def _block(part: Part, index: int) -> Block | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text} if part.text.strip() else None
    if isinstance(part, ToolCallPart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": _tool_input(part, index)}
    if isinstance(part, ToolResultPart):
        return _tool_result(part)
    if isinstance(part, ImagePart):
        return image_block(part)
    if isinstance(part, ThinkingPart):
        if not part.signature or part.signature.startswith(GEMINI_SIGNATURE):
            return None  # unsigned reasoning, or Gemini's own signature carried for a later Gemini turn
        if part.redacted:
            return {"type": "redacted_thinking", "data": part.signature}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    return None


def _tool_input(part: ToolCallPart, index: int) -> dict[str, Any]:
    text = part.arguments
    if not text or text.isspace():
        return {}
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequestError(
            f"messages[{index}]: the arguments of tool call {part.id!r} ({part.name}) are not a JSON object; "
            "Anthropic needs a tool call's input as an object",
            param=f"messages[{index}].tool_calls",
        )
    return value


def _tool_result(part: ToolResultPart) -> Block:
    block: Block = {"type": "tool_result", "tool_use_id": part.tool_call_id}
    content = part.content
    if len(content) == 1 and isinstance(content[0], TextPart):
        if content[0].text:
            block["content"] = content[0].text
    elif content:
        blocks = [b for b in (_block(p, 0) for p in content) if b is not None]
        if blocks:
            block["content"] = blocks
    if part.is_error:
        block["is_error"] = True
    return block


def image_block(part: ImagePart) -> Block:
    data, media_type = part.data, part.media_type
    url = part.url or ""
    if data is None and url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = media_type or header[5:].split(";", 1)[0] or None
    if data is not None:
        if not media_type:
            media_type = next((m for magic, m in _IMAGE_MAGIC if data.startswith(magic)), "image/png")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


# -- tools -----------------------------------------------------------------------------------------------------


def tool_block(tool: Tool) -> Block:
    schema = tool.parameters
    if "type" not in schema:
        schema = {"type": "object", **schema}
    block: Block = {"name": tool.name}
    if tool.description is not None:
        block["description"] = tool.description
    block["input_schema"] = schema
    return block


def tool_choice_block(choice: ToolChoice | None, parallel: bool | None) -> Block | None:
    if choice is None:
        block: Block | None = {"type": "auto"} if parallel is False else None
    elif choice.mode == "none":
        return {"type": "none"}
    elif choice.mode == "required":
        block = {"type": "any"}
    elif choice.mode == "tool":
        block = {"type": "tool", "name": choice.name}
    else:
        block = {"type": "auto"}
    if block is not None and parallel is False:
        block["disable_parallel_tool_use"] = True
    return block


def json_tool_block(fmt: ResponseFormat) -> Block:
    schema = fmt.schema if fmt.type == "json_schema" and fmt.schema else {"type": "object"}
    kind = schema.get("type")
    if kind is None:
        schema = {"type": "object", **schema}
    elif kind != "object":
        raise InvalidRequestError(
            f"response_format: Anthropic models can only be held to a JSON schema whose root is an object, "
            f"not {kind!r}", param="response_format")
    what = f"matching the schema '{fmt.name}'" if fmt.name else "matching the input schema"
    description = "Give your answer by calling this tool: its input is the whole answer, a JSON object " + what
    if fmt.description:
        description += f" ({fmt.description})"
    return {"name": JSON_TOOL, "description": description + ".", "input_schema": schema}


def _json_choice(choice: Block | None, *, has_client_tools: bool, thinking: bool,
                 parallel: bool | None) -> tuple[Block | None, str | None]:
    """The tool_choice (and any system line) that makes the model answer through ``JSON_TOOL``."""
    instruction = f"Give your final answer by calling the {JSON_TOOL} tool, never as plain text."
    if thinking:  # Anthropic forbids a forced tool while thinking
        return {"type": "auto"}, instruction
    if has_client_tools and choice is not None and choice["type"] in ("any", "tool"):
        return choice, instruction
    if has_client_tools and (choice is None or choice["type"] == "auto"):
        block: Block = {"type": "auto"}
        if parallel is False:
            block["disable_parallel_tool_use"] = True
        return block, instruction
    return {"type": "tool", "name": JSON_TOOL}, None
