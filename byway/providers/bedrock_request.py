"""The canonical ``ChatRequest`` as a Bedrock Converse request body.

Choices made where the formats differ:

- ``system`` and ``developer`` turns become the top-level ``system`` list of ``{"text"}`` blocks.
- ``tool`` turns are user turns of ``toolResult`` blocks. Converse wants user and assistant turns to
  alternate, so consecutive turns of one role are merged; in a merged user turn the tool results go first,
  in an assistant turn the tool calls go last (after reasoning and text), as the Claude models behind
  Converse require. Blank text is left out (Converse refuses it) and a final assistant turn (a prefill)
  loses trailing whitespace.
- Images must be inline bytes (``inline_images``: the dispatcher fetches http(s) URLs first); a remaining
  URL is an ``InvalidRequestError``. ``format`` comes from the media type, else from the data's magic bytes.
- A tool result is ``{"toolResult": {"toolUseId", "content": [{"text"} | {"image"}], "status"}}``; an error
  result with no content gets the text "error", as Converse refuses an empty error result.
- Thinking goes back as ``reasoningContent`` only when signed (Claude refuses unsigned reasoning).
- ``temperature`` is clamped to 0..1, the range every Converse model accepts.
- Stop sequences: Converse says only that one matched (``stopReason: stop_sequence``), not which; Claude
  models are asked for it through ``additionalModelResponseFieldPaths: ["/stop_sequence"]``.
- ``tool_choice``: auto ``{"auto": {}}``, required ``{"any": {}}``, a named tool ``{"tool": {"name"}}``.
  Converse has no "none": the tools are left out — unless the conversation already holds tool calls or
  results, for which Converse demands a ``toolConfig``; then the tools stay and a system line asks for a
  text answer. Tool calls in the history with no tools offered at all get placeholder tool specs, for the
  same reason. ``parallel_tool_calls`` has no Converse equivalent and is dropped.
- ``response_format``: a strict ``json_schema`` for a model with Converse's own structured output (the
  Claude 4.5/4.6 family and GLM on Bedrock, see ``NATIVE_JSON_MODELS``) becomes ``outputConfig.textFormat``;
  otherwise, as in the Anthropic adapter, the answer is asked for as a forced call to the ``JSON_TOOL``
  tool whose input schema is the schema (``{"type": "object"}`` for ``json_object``), and parsing turns that
  call back into the answer's JSON text.
- ``reasoning_effort``: Claude models get extended thinking with a token budget (low 1024, medium 4096,
  high 16384; ``maxTokens`` raised above it, temperature and top_p left out); gpt-oss models get their own
  ``reasoning_effort`` field. Other models ignore it.
- ``request.extra`` (fields the client sent that have no canonical meaning): Converse's own top-level fields
  (``guardrailConfig``, ``performanceConfig``, ``promptVariables``, ``requestMetadata``, ``serviceTier``,
  ``additionalModelResponseFieldPaths``, ``outputConfig``) stay top-level; ``additionalModelRequestFields``
  is merged; ``top_k`` goes where the model family reads it (Claude ``top_k``, Nova ``inferenceConfig.topK``);
  OpenAI's ``service_tier`` (default/priority/flex) becomes ``serviceTier``; OpenAI-only fields no Bedrock
  model reads (penalties, logprobs, ...) are dropped; everything else goes into
  ``additionalModelRequestFields`` for the model to read.
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
from byway.providers.anthropic_request import JSON_TOOL, default_max_tokens

Block = dict[str, Any]

# Models with Converse's own structured output (AWS's structured-output guide; GLM seen in recorded traffic).
NATIVE_JSON_MODELS = ("anthropic.claude-sonnet-4-5", "anthropic.claude-haiku-4-5", "anthropic.claude-opus-4-5",
                      "anthropic.claude-opus-4-6", "anthropic.claude-sonnet-4-6", "zai.")
# Cross-region inference profile prefixes in front of a model id ("us.amazon.nova-micro-v1:0").
_GEO_PREFIXES = frozenset({"us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"})
_EFFORT_BUDGET = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384}
_MIN_THINKING_BUDGET = 1024
_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif",
                  "image/webp": "webp"}
_IMAGE_MAGIC = (("/9j/", "jpeg"), ("iVBORw0KGgo", "png"), ("R0lGOD", "gif"), ("UklGR", "webp"))
_TOP_LEVEL = frozenset({"guardrailConfig", "performanceConfig", "promptVariables", "requestMetadata",
                        "additionalModelResponseFieldPaths", "serviceTier", "outputConfig"})
_DROPPED = frozenset({"frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "store",
                      "modalities", "audio", "prediction", "web_search_options", "verbosity", "prompt_cache_key",
                      "prompt_cache_retention", "safety_identifier", "n", "model", "stream", "messages"})
_SERVICE_TIERS = ("default", "priority", "flex")
STOP_SEQUENCE_PATH = "/stop_sequence"
_NO_TOOLS_LINE = "Answer in text; do not call any tool in this turn."
_PLACEHOLDER_SCHEMA = {"type": "object", "properties": {}}


def base_model(model: str) -> str:
    """The foundation model id without a cross-region profile prefix (``us.amazon.x`` -> ``amazon.x``)."""
    head, dot, rest = model.partition(".")
    return rest if dot and head in _GEO_PREFIXES else model


def native_json(model: str) -> bool:
    return base_model(model).startswith(NATIVE_JSON_MODELS)


def _native_format(request: ChatRequest) -> bool:
    """Whether the response format goes as Converse's own ``outputConfig`` (else as the forced JSON tool)."""
    fmt = request.response_format
    return (fmt is not None and fmt.type == "json_schema" and bool(fmt.strict) and bool(fmt.schema)
            and native_json(request.model))


def build_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body (as a dict) of ``POST /model/{id}/converse`` (or ``/converse-stream``) for ``request``."""
    model = base_model(request.model)
    claude = model.startswith("anthropic.claude")
    system, messages = convert_messages(request.messages)
    body: dict[str, Any] = {"messages": messages}
    additional: dict[str, Any] = {}
    if request.extra:
        _take_extra(request.extra, model, body, additional)

    config: dict[str, Any] = {}
    budget = _EFFORT_BUDGET.get(request.reasoning_effort or "") if claude and "thinking" not in additional else None
    if request.max_tokens:
        config["maxTokens"] = request.max_tokens
        if budget is not None:
            budget = min(budget, request.max_tokens - 1)
            if budget < _MIN_THINKING_BUDGET:
                budget = None
    elif budget is not None:
        config["maxTokens"] = budget + default_max_tokens(model.removeprefix("anthropic."))
    if budget is not None:
        additional["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif request.reasoning_effort and model.startswith("openai.gpt-oss") and "reasoning_effort" not in additional:
        additional["reasoning_effort"] = "low" if request.reasoning_effort == "minimal" else request.reasoning_effort
    thinking = claude and _thinking_on(additional.get("thinking"))
    if not thinking:
        if request.temperature is not None:
            config["temperature"] = min(max(request.temperature, 0.0), 1.0)
        if request.top_p is not None:
            config["topP"] = request.top_p
    if request.stop:
        stops = [s for s in request.stop if s]
        if stops:
            config["stopSequences"] = stops
            if claude:
                _ask_for_stop_sequence(body)
    body["inferenceConfig"] = config

    tool_config = _tool_config(request, messages, system, thinking)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    if request.response_format is not None and _native_format(request):
        body["outputConfig"] = output_config(request.response_format)
    if system:
        body["system"] = system
    if additional:
        body["additionalModelRequestFields"] = additional
    return body


def _thinking_on(thinking: Any) -> bool:
    return isinstance(thinking, dict) and thinking.get("type", "disabled") != "disabled"


def _ask_for_stop_sequence(body: dict[str, Any]) -> None:
    """Have Claude's answer say which stop sequence ended it (Converse alone only says that one did)."""
    paths = body.get("additionalModelResponseFieldPaths")
    paths = list(paths) if isinstance(paths, list) else []
    if STOP_SEQUENCE_PATH not in paths:
        paths.append(STOP_SEQUENCE_PATH)
    body["additionalModelResponseFieldPaths"] = paths


def _take_extra(extra: dict[str, Any], model: str, body: dict[str, Any], additional: dict[str, Any]) -> None:
    for key, value in extra.items():
        if key in _TOP_LEVEL:
            body[key] = value
        elif key == "additionalModelRequestFields" and isinstance(value, dict):
            additional.update(value)
        elif key == "top_k":
            if model.startswith("amazon.nova"):
                additional.setdefault("inferenceConfig", {})["topK"] = value
            else:
                additional["top_k"] = value
        elif key == "service_tier":
            if value in _SERVICE_TIERS:
                body["serviceTier"] = {"type": value}
        elif key not in _DROPPED:
            additional[key] = value


# -- messages --------------------------------------------------------------------------------------------------


def convert_messages(messages: list[Message]) -> tuple[list[Block], list[Block]]:
    """``(system blocks, messages)``: instructions hoisted, roles merged to alternate."""
    system: list[Block] = []
    out: list[Block] = []
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.extend({"text": p.text} for p in message.parts if isinstance(p, TextPart) and p.text.strip())
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
            _order(turn["content"], lambda b: "toolResult" not in b)
        else:
            _order(turn["content"], lambda b: "toolUse" in b)
    if out and out[-1]["role"] == "assistant":
        _trim_prefill(out)
    return system, out


def _order(blocks: list[Block], late: Any) -> None:
    """Move the blocks ``late`` picks after the others, keeping each group's order (only when needed)."""
    seen_late = False
    for block in blocks:
        if late(block):
            seen_late = True
        elif seen_late:
            blocks.sort(key=late)  # stable
            return


def _trim_prefill(out: list[Block]) -> None:
    content = out[-1]["content"]
    last = content[-1]
    if "text" in last:
        text = last["text"].rstrip()
        if text:
            content[-1] = {"text": text}
        else:
            content.pop()
            if not content:
                out.pop()


def _block(part: Part, index: int) -> Block | None:
    if isinstance(part, TextPart):
        return {"text": part.text} if part.text.strip() else None
    if isinstance(part, ToolCallPart):
        return {"toolUse": {"toolUseId": part.id, "name": part.name, "input": _tool_input(part, index)}}
    if isinstance(part, ToolResultPart):
        return _tool_result(part, index)
    if isinstance(part, ImagePart):
        return image_block(part, f"messages[{index}]")
    if isinstance(part, ThinkingPart):
        if not part.signature:
            return None
        if part.redacted:
            return {"reasoningContent": {"redactedContent": part.signature}}
        return {"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}}
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
            "Bedrock needs a tool call's input as an object", param=f"messages[{index}].tool_calls")
    return value


def _tool_result(part: ToolResultPart, index: int) -> Block:
    content: list[Block] = []
    for item in part.content:
        if isinstance(item, TextPart):
            if item.text:
                content.append({"text": item.text})
        else:
            content.append(image_block(item, f"messages[{index}]"))
    if part.is_error and not content:
        content.append({"text": "error"})
    return {"toolResult": {"toolUseId": part.tool_call_id, "content": content,
                           "status": "error" if part.is_error else "success"}}


def image_block(part: ImagePart, where: str) -> Block:
    data, media_type = part.data, part.media_type
    url = part.url or ""
    if data is None and url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = media_type or header[5:].split(";", 1)[0] or None
    if data is None:
        raise InvalidRequestError(f"{where}: Bedrock takes images as inline data only, not by URL ({url[:100]})",
                                  param=where)
    fmt = _IMAGE_FORMATS.get((media_type or "").lower())
    if fmt is None:
        fmt = next((f for magic, f in _IMAGE_MAGIC if data.startswith(magic)), None)
    if fmt is None:
        raise InvalidRequestError(f"{where}: Bedrock takes png, jpeg, gif and webp images, not {media_type!r}",
                                  param=where)
    return {"image": {"format": fmt, "source": {"bytes": data}}}


# -- tools -----------------------------------------------------------------------------------------------------


def tool_spec(tool: Tool) -> Block:
    schema = tool.parameters
    if "type" not in schema:
        schema = {"type": "object", **schema}
    spec: Block = {"name": tool.name}
    if tool.description:
        spec["description"] = tool.description
    spec["inputSchema"] = {"json": schema}
    return {"toolSpec": spec}


def tool_choice_block(choice: ToolChoice | None) -> Block | None:
    if choice is None:
        return None
    if choice.mode == "required":
        return {"any": {}}
    if choice.mode == "tool":
        return {"tool": {"name": choice.name}}
    return {"auto": {}}


def json_tool_spec(fmt: ResponseFormat) -> Block:
    schema = fmt.schema if fmt.type == "json_schema" and fmt.schema else {"type": "object"}
    kind = schema.get("type")
    if kind is None:
        schema = {"type": "object", **schema}
    elif kind != "object":
        raise InvalidRequestError(
            f"response_format: this Bedrock model can only be held to a JSON schema whose root is an object, "
            f"not {kind!r}", param="response_format")
    what = f"matching the schema '{fmt.name}'" if fmt.name else "matching the input schema"
    description = "Give your answer by calling this tool: its input is the whole answer, a JSON object " + what
    if fmt.description:
        description += f" ({fmt.description})"
    return {"toolSpec": {"name": JSON_TOOL, "description": description + ".", "inputSchema": {"json": schema}}}


def output_config(fmt: ResponseFormat) -> Block:
    schema: Block = {"schema": msgspec.json.encode(fmt.schema).decode(), "name": fmt.name or "response"}
    if fmt.description:
        schema["description"] = fmt.description
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": schema}}}


def _history_tool_names(messages: list[Block]) -> list[str] | None:
    """Names of the tools called in the conversation; None when it holds no tool blocks at all."""
    names: list[str] = []
    found = False
    for turn in messages:
        for block in turn["content"]:
            if "toolUse" in block:
                found = True
                name = block["toolUse"]["name"]
                if name not in names:
                    names.append(name)
            elif "toolResult" in block:
                found = True
    return names if found else None


def _tool_config(request: ChatRequest, messages: list[Block], system: list[Block], thinking: bool) -> Block | None:
    specs = [tool_spec(t) for t in request.tools] if request.tools else []
    choice = request.tool_choice
    history = _history_tool_names(messages)
    choice_block: Block | None = None
    if choice is not None and choice.mode == "none":
        if history is None:
            specs = []
        elif specs:
            system.append({"text": _NO_TOOLS_LINE})
    elif specs:
        choice_block = tool_choice_block(choice)
    fmt = request.response_format
    if fmt is not None and fmt.type != "text" and not _native_format(request):
        has_client_tools = bool(specs)
        specs.append(json_tool_spec(fmt))
        forced_client = choice_block is not None and ("any" in choice_block or "tool" in choice_block)
        if thinking or (has_client_tools and not forced_client):
            choice_block = {"auto": {}}  # Claude forbids a forced tool while thinking
            system.append({"text": f"Give your final answer by calling the {JSON_TOOL} tool, never as plain text."})
        elif has_client_tools:
            system.append({"text": f"Give your final answer by calling the {JSON_TOOL} tool, never as plain text."})
        else:
            choice_block = {"tool": {"name": JSON_TOOL}}
    if not specs and history is not None:
        specs = [{"toolSpec": {"name": name, "description": "No longer offered; do not call it.",
                               "inputSchema": {"json": _PLACEHOLDER_SCHEMA}}} for name in history or ["unavailable"]]
    if not specs:
        return None
    config: Block = {"tools": specs}
    if choice_block is not None:
        config["toolChoice"] = choice_block
    return config
