"""No body, however broken, makes decode_request raise anything but InvalidRequestError."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from byway.api.openai_chat import decode_request
from byway.core import ChatRequest, InvalidRequestError

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

RICH: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "French."}]},
        {"role": "user", "name": "al", "content": [
            {"type": "text", "text": "Look"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        ]},
        {"role": "assistant", "content": None, "reasoning_content": "hmm",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        {"role": "assistant", "content": [{"type": "text", "text": "Done"}, {"type": "refusal", "refusal": "no"}]},
    ],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d", "strict": True,
                                                "parameters": {"type": "object", "properties": {"a": {}}}}}],
    "tool_choice": {"type": "function", "function": {"name": "f"}},
    "parallel_tool_calls": True,
    "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
    "temperature": 0.5, "top_p": 0.5, "max_tokens": 9, "max_completion_tokens": 10, "stop": ["x"], "seed": 1,
    "user": "u", "metadata": {"k": "v"}, "stream": True, "stream_options": {"include_usage": True},
    "reasoning_effort": "low", "n": 1, "frequency_penalty": 0.1, "logit_bias": {"1": 2},
}
RICH_BYTES = msgspec.json.encode(RICH)

ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, 2**64, -(2**64), "", "x", "data:", [], [None], {}, {"a": None},
                         [[[]]], {"type": None}, {"role": "user"}, "\u0000", "\U0001f600"]


def test_rich_body_is_valid() -> None:
    req = decode_request(RICH_BYTES)
    assert len(req.messages) == 6 and req.tools and req.extra == {"frequency_penalty": 0.1, "logit_bias": {"1": 2}}


# -- a battery of hand-made malformed bodies, each must be refused --------------------------------------------------

def _m(*messages: Any, **fields: Any) -> bytes:
    return msgspec.json.encode({"model": "m", "messages": list(messages)} | fields)


U = {"role": "user", "content": "x"}
BATTERY: list[bytes] = [
    b"", b" ", b"\n", b"{", b"}", b"[", b"{}", b"[]", b"[{}]", b"null", b"true", b"0", b"-", b"1e999", b'"model"',
    b"{'model': 'm'}", b'{"model": "m",}', b'{"model": "m" "messages": []}', b'{"model": m}', b"{model: 1}",
    b'{"model": "m", "messages": [', b'{"model": "m", "messages": [{"role": "user", "content": "x"}]',
    b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}}', b'{"model": "m", "messages": [] } x',
    b"\xef\xbb\xbf{}", b"\x00", b"\xc3\x28", b'{"model": "\xff", "messages": []}', b'{"model": "\\x41"}',
    b'{"model": "\\udc00", "messages": []}', b'{"model": NaN}', b'{"model": Infinity}', b'{"a": 01}',
    b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 1e400}',
    b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1e2}',
    b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "seed": 99999999999999999999999}',
    _m(), _m(None), _m([]), _m("user"), _m({}), _m({"role": None, "content": "x"}), _m({"role": 1, "content": "x"}),
    _m({"role": "User", "content": "x"}), _m({"role": "user", "content": {}}), _m({"role": "user", "content": [1]}),
    _m({"role": "user", "content": [None]}), _m({"role": "user", "content": [{"type": 1}]}),
    _m({"role": "user", "content": [{"type": "image_url", "image_url": {"url": 1}}]}),
    _m({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "javascript:alert(1)"}}]}),
    _m({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,***"}}]}),
    _m({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://a", "detail": 1}}]}),
    _m({"role": "assistant", "content": 1}), _m({"role": "assistant", "tool_calls": [None]}),
    _m({"role": "assistant", "tool_calls": [{"id": 1, "function": {"name": "f"}}]}),
    _m({"role": "assistant", "function_call": {"arguments": "{}"}}), _m({"role": "assistant", "refusal": 1}),
    _m({"role": "assistant", "reasoning_content": []}), _m({"role": "tool", "tool_call_id": None, "content": "x"}),
    _m({"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url", "image_url": {"url": "https://a"}}]}),
    _m({"role": "function", "content": "x"}), _m({"role": "function", "name": "f", "content": "x"}),
    _m({"role": "system", "content": None}), _m({"role": "developer", "content": []}),
    _m(U, model=None), _m(U, model=[]), _m(U, tools=[None]), _m(U, tools=[{"type": "function", "function": None}]),
    _m(U, tool_choice="tool"), _m(U, tool_choice={"type": "function", "function": {"name": ""}}),
    _m(U, functions={}), _m(U, function_call={"name": None}), _m(U, response_format={}),
    _m(U, response_format={"type": "json_schema", "json_schema": None}), _m(U, temperature=None, top_p=-1),
    _m(U, max_tokens=-(2**70)), _m(U, stop=[None]), _m(U, metadata=[]), _m(U, metadata={"a": None}),
    _m(U, stream=None, stream_options=[]), _m(U, n=3), _m(U, n=-1), _m(U, seed=1.0), _m(U, user=0),
]


def test_battery_is_large() -> None:
    assert len(BATTERY) >= 60
    assert len(set(BATTERY)) == len(BATTERY)


@pytest.mark.parametrize("body", BATTERY, ids=range(len(BATTERY)))
def test_battery_each_refused(body: bytes) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_request(body)
    _check_error(info.value)


def _check_error(err: InvalidRequestError) -> None:
    assert err.status == 400 and isinstance(err.message, str) and err.message
    assert err.param is None or (isinstance(err.param, str) and err.param and not err.param.startswith(("$", ".")))


def _decode_or_refuse(body: bytes) -> ChatRequest | None:
    try:
        return decode_request(body)
    except InvalidRequestError as err:
        _check_error(err)
        return None


def test_every_truncation_is_refused() -> None:
    for end in range(len(RICH_BYTES)):
        with pytest.raises(InvalidRequestError):
            decode_request(RICH_BYTES[:end])


# -- swapping every value of the rich body for odd values ------------------------------------------------------------

def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from _paths(value, (*path, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def test_every_value_swapped_for_odd_values() -> None:
    paths = list(_paths(RICH))
    assert len(paths) > 80
    refused = 0
    for path in paths:
        for odd in ODD_VALUES:
            doc = copy.deepcopy(RICH)
            _set(doc, path, odd)
            if _decode_or_refuse(msgspec.json.encode(doc)) is None:
                refused += 1
    assert refused > len(paths)  # most swaps break something


# -- a seeded random mutator -----------------------------------------------------------------------------------------

def _mutate_tree(rng: random.Random, doc: Any) -> Any:
    paths = list(_paths(doc))
    path = rng.choice(paths)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = rng.randrange(6)
    if action == 0:
        del parent[key]
    elif action == 1:
        parent[key] = rng.choice(ODD_VALUES)
    elif action == 2:
        parent[key] = [parent[key]]
    elif action == 3:
        parent[key] = {"type": parent[key]} if rng.random() < 0.5 else {str(key): parent[key]}
    elif action == 4 and isinstance(parent, dict):
        parent[rng.choice(["role", "type", "content", "x", "url", "name", "model", ""])] = rng.choice(ODD_VALUES)
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(rng.choice(parent)))
    return doc


def _mutate_bytes(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        action = rng.randrange(5)
        if action == 0 and data:
            del data[at:at + rng.randint(1, 8)]
        elif action == 1:
            data[at:at] = bytes([rng.randrange(256)])
        elif action == 2 and data:
            data[min(at, len(data) - 1)] = rng.choice(b'{}[]",:0 \\-e.tn\x00\xff')
        elif action == 3:
            start = rng.randrange(len(data) + 1)
            data[at:at] = data[start:start + rng.randint(1, 40)]
        else:
            data[at:at] = rng.choice([b'"', b"\\u", b"\\ud83d", b"[", b"{", b"null", b",", b"1e9999"])
    return bytes(data)


def test_seeded_random_mutations() -> None:
    rng = random.Random(20240917)
    accepted = refused = 0
    for i in range(4000):
        if i % 2:
            doc = copy.deepcopy(RICH)
            for _ in range(rng.randint(1, 3)):
                if not isinstance(doc, (dict, list)) or not doc:
                    break
                doc = _mutate_tree(rng, doc)
            body = msgspec.json.encode(doc)
        else:
            body = _mutate_bytes(rng, RICH_BYTES)
        if _decode_or_refuse(body) is None:
            refused += 1
        else:
            accepted += 1
    assert refused > 1000 and accepted > 100  # the mutator explores both sides of the boundary
