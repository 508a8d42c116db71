"""What the mock says: one deterministic behaviour shared by every provider family.

Each family decodes its wire request into an ``Ask`` and encodes the ``Reply`` back. Rules,
checked in this order:

1. Tools are offered, tool choice is not ``none`` and the last turn is a user message — or tool
   results, when the choice forces a call (OpenAI ``required`` or a named function, Anthropic
   ``any`` or ``tool``: the real APIs then call again): the reply calls a tool, the forced one,
   else the first offered. When the user text contains the word
   "both" or "several" (and parallel calls are allowed) it makes two calls: the first two tools,
   or the one tool (forced or alone) twice. Arguments are sampled from the tool's JSON schema
   (``schema_sample``); a place-like string property takes a capitalised word of the user text that
   does not begin a sentence (the first such word for the first call, the next for the second),
   else "Paris".
2. The conversation ends with tool results (OpenAI ``tool`` messages, Anthropic ``tool_result``
   blocks): the reply is text quoting them, ``"Tool results: get_weather: Sunny; ..."``, naming
   each result by the tool call it answers.
3. JSON mode: a ``json_schema`` response format answers a sample of the schema; a bare JSON
   object mode answers ``{"reply": "Echo: <text>"}``.
4. Otherwise the reply is ``"Echo: "`` followed by the last user message: its text parts and
   images in order, joined by spaces, an image described as ``[image image/png 68 bytes]`` (media
   type and decoded size, for data URLs and base64 sources) or ``[image <url>]``.

When reasoning is asked for (OpenAI reasoning models, Anthropic extended thinking) the reply also
carries the reasoning text ``"Considering: <user text>"``. Stop sequences cut the text at the
earliest match; ``max_tokens`` then truncates reasoning and text (not tool calls) to fit, with
finish ``length``. Token counts follow ``tokens``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from byway.mock import tokens
from byway.mock.schema_sample import sample

_WORD = re.compile(r"[A-Za-z][\w'-]*")
_SEVERAL = re.compile(r"\b(both|several)\b", re.IGNORECASE)
_SENTENCE_END = ".!?"
_DEFAULT_PLACE = "Paris"


@dataclass(frozen=True, slots=True)
class Image:
    media_type: str | None = None
    size: int | None = None
    url: str | None = None

    def describe(self) -> str:
        if self.url is not None:
            return f"[image {self.url}]"
        return f"[image {self.media_type} {self.size} bytes]"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text


@dataclass(frozen=True, slots=True)
class ToolResult:
    call_id: str
    content: str


@dataclass(slots=True)
class Turn:
    role: str  # system | user | assistant | tool
    content: list[str | Image] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)

    def text(self) -> str:
        return " ".join(p if isinstance(p, str) else p.describe() for p in self.content)


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(slots=True)
class Ask:
    model: str
    turns: list[Turn]
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"  # auto | none | required | forced
    forced_tool: str | None = None
    parallel: bool = True
    json_mode: bool = False
    json_schema: dict[str, Any] | None = None
    stop: list[str] = field(default_factory=list)
    max_tokens: int | None = None
    reasoning: bool = False


@dataclass(frozen=True, slots=True)
class PlannedCall:
    name: str
    arguments: str  # compact JSON text
    input: dict[str, Any]


@dataclass(slots=True)
class Reply:
    text: str
    reasoning: str
    tool_calls: list[PlannedCall]
    finish: str  # stop | length | tool_calls
    stop_sequence: str | None
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_tokens: int


def respond(ask: Ask) -> Reply:
    """The deterministic reply to ``ask``."""
    user_text = _last_user_text(ask.turns)
    reasoning = f"Considering: {user_text}" if ask.reasoning else ""
    calls: list[PlannedCall] = []
    results = _trailing_results(ask.turns)
    if _calls_tools(ask, bool(results)):
        calls = _plan_calls(ask, user_text)
        text = ""
    elif results:
        text = "Tool results: " + "; ".join(results)
    elif ask.json_mode:
        value = sample(ask.json_schema) if ask.json_schema is not None else {"reply": f"Echo: {user_text}"}
        text = msgspec.json.encode(value).decode()
    else:
        text = f"Echo: {user_text}"
    finish = "tool_calls" if calls else "stop"
    stop_sequence = None
    if not calls:
        text, stop_sequence = _apply_stop(text, ask.stop)
        if ask.max_tokens is not None:
            reasoning, text, cut = _fit(reasoning, text, ask.max_tokens)
            finish = "length" if cut else finish
            stop_sequence = None if cut else stop_sequence
    reasoning_tokens = tokens.text_tokens(len(reasoning)) if reasoning else 0
    completion = tokens.text_tokens(len(text)) + reasoning_tokens
    completion += sum(tokens.text_tokens(len(c.name) + len(c.arguments)) for c in calls)
    prompt = prompt_tokens(ask)
    return Reply(text=text, reasoning=reasoning, tool_calls=calls, finish=finish, stop_sequence=stop_sequence,
                 prompt_tokens=prompt, completion_tokens=completion, reasoning_tokens=reasoning_tokens,
                 cached_tokens=tokens.cached_prefix(prompt))


def prompt_tokens(ask: Ask) -> int:
    """The prompt size of ``ask`` under the rules in ``tokens``."""
    total = tokens.PRIMING
    for turn in ask.turns:
        chars = sum(len(p) for p in turn.content if isinstance(p, str))
        chars += sum(len(c.name) + len(c.arguments) for c in turn.tool_calls)
        chars += sum(len(r.content) for r in turn.tool_results)
        images = sum(1 for p in turn.content if isinstance(p, Image))
        total += tokens.PER_MESSAGE + tokens.text_tokens(chars) + tokens.PER_IMAGE * images
    for tool in ask.tools:
        chars = len(tool.name) + len(tool.description) + len(msgspec.json.encode(tool.schema))
        total += tokens.PER_TOOL + tokens.text_tokens(chars)
    return total


def place_words(text: str) -> list[str]:
    """Capitalised words of ``text`` that do not begin a sentence, in order."""
    words = []
    for match in _WORD.finditer(text):
        word = match.group()
        before = text[:match.start()].rstrip()
        if not before or before[-1] in _SENTENCE_END or not word[0].isupper() or word == "I":
            continue
        words.append(word)
    return words


def _last_user_text(turns: list[Turn]) -> str:
    for turn in reversed(turns):
        if turn.role == "user" and turn.content:
            return turn.text()
    return ""


def _trailing_results(turns: list[Turn]) -> list[str]:
    """``name: content`` for each tool result in the trailing run of turns that carry results."""
    names = {call.id: call.name for turn in turns for call in turn.tool_calls}
    run: list[Turn] = []
    for turn in reversed(turns):
        if not turn.tool_results:
            break
        run.append(turn)
    return [f"{names.get(r.call_id, r.call_id)}: {r.content}" for turn in reversed(run) for r in turn.tool_results]


def _calls_tools(ask: Ask, after_results: bool) -> bool:
    """Whether to call: tools offered and allowed, after a user message, or after tool results when forced."""
    if not ask.tools or ask.tool_choice == "none" or not ask.turns:
        return False
    if after_results:
        return ask.tool_choice in ("required", "forced")
    return ask.turns[-1].role == "user"


def _plan_calls(ask: Ask, user_text: str) -> list[PlannedCall]:
    if ask.forced_tool is not None:
        chosen = [t for t in ask.tools if t.name == ask.forced_tool][:1]
    else:
        chosen = ask.tools[:1]
    if ask.parallel and _SEVERAL.search(user_text):
        chosen = ask.tools[:2] if ask.forced_tool is None and len(ask.tools) > 1 else chosen * 2
    places = place_words(user_text) or [_DEFAULT_PLACE]
    calls = []
    for k, tool in enumerate(chosen):
        value = sample(tool.schema, place=places[k % len(places)])
        args = value if isinstance(value, dict) else {}
        calls.append(PlannedCall(name=tool.name, arguments=msgspec.json.encode(args).decode(), input=args))
    return calls


def _apply_stop(text: str, stops: list[str]) -> tuple[str, str | None]:
    best: tuple[int, str] | None = None
    for stop in stops:
        at = text.find(stop) if stop else -1
        if at >= 0 and (best is None or at < best[0]):
            best = (at, stop)
    if best is None:
        return text, None
    return text[:best[0]], best[1]


def _fit(reasoning: str, text: str, max_tokens: int) -> tuple[str, str, bool]:
    """Truncate reasoning, then text, to ``max_tokens``; say whether anything was cut."""
    cut = False
    reasoning_tokens = tokens.text_tokens(len(reasoning))
    if reasoning_tokens > max_tokens:
        reasoning, reasoning_tokens, cut = reasoning[:tokens.chars_for_tokens(max_tokens)], max_tokens, True
    budget = max_tokens - reasoning_tokens
    if tokens.text_tokens(len(text)) > budget:
        text, cut = text[:tokens.chars_for_tokens(budget)], True
    return reasoning, text, cut
