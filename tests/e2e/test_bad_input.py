"""Bad input never produces a 500 or a traceback: always a clear error in OpenAI's envelope."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import MASTER_KEY, Gateway
from tests.e2e.test_chat_completions import AUTH, raw

BODIES: list[tuple[bytes, int]] = [
    (b"", 400), (b"{", 400), (b"not json", 400), (b"[]", 400), (b"null", 400), (b'"text"', 400), (b"42", 400),
    (b"{}", 400), (b'{"model": "oa:gpt-4o-mini"}', 400), (b'{"messages": [{"role": "user", "content": "x"}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": []}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": "hello"}', 400),
    (b'{"model": 7, "messages": [{"role": "user", "content": "x"}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user"}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": 5}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "video"}]}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "tool", "content": "x"}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "temperature": 9}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "n": 3}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}',
     400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "image_url", '
     b'"image_url": {"url": "file:///etc/passwd"}}]}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": [{"type": "image_url", '
     b'"image_url": {"url": "data:image/png;base64,@@@"}}]}]}', 400),
    (b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "\xff\xfe"}]}', 400),
    (b"[" * 10000 + b"]" * 10000, 400),
    (b'{"model": "oa:", "messages": [{"role": "user", "content": "x"}]}', 404),
    (b'{"model": "oa:gpt-9", "messages": [{"role": "user", "content": "x"}]}', 404),
    (b'{"model": ":::", "messages": [{"role": "user", "content": "x"}]}', 404),
]


@pytest.mark.parametrize(("body", "status"), BODIES, ids=[f"body{i}" for i in range(len(BODIES))])
def test_malformed_bodies(gateway: Gateway, body: bytes, status: int):
    got, headers, data = raw(gateway, "POST", "/v1/chat/completions", body, AUTH)
    assert got == status, data
    error = json.loads(data)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and "Traceback" not in error["message"]
    assert headers["content-type"] == "application/json"
    assert headers["x-byway-request-id"].startswith("req_")


@pytest.mark.parametrize(("method", "path", "headers", "status"), [
    ("POST", "/v1/chat/completions", {"Authorization": "Basic abc"}, 401),
    ("POST", "/v1/chat/completions", {"Authorization": "Bearer"}, 401),
    ("POST", "/v1/chat/completions", {"Authorization": "Bearer " + MASTER_KEY + "x"}, 401),
    ("POST", "/v1/chat/completions", {"Authorization": "Bearer \u00e9\u00e8"}, 401),
    ("GET", "/v1/chat/completions", {"Authorization": "Bearer " + MASTER_KEY}, 405),
    ("DELETE", "/v1/models", {"Authorization": "Bearer " + MASTER_KEY}, 405),
    ("GET", "/v1/nothing-here", {"Authorization": "Bearer " + MASTER_KEY}, 404),
    ("GET", "/v1/models", {}, 401),
    ("POST", "/v1/chat/completions", {"Authorization": "Bearer " + MASTER_KEY, "Content-Type": "text/plain"}, 400),
])
def test_malformed_headers_methods_and_paths(gateway: Gateway, method: str, path: str, headers: dict, status: int):
    got, _, data = raw(gateway, method, path, b"" if method == "POST" else None,
                       {k: v.encode("latin-1").decode("latin-1") for k, v in headers.items()})
    assert got == status, data
    assert "error" in json.loads(data)


def test_oversized_body_is_413(gateway: Gateway):
    body = b'{"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "' + b"x" * (33 * 1024 * 1024) + \
        b'"}]}'
    got, _, data = raw(gateway, "POST", "/v1/chat/completions", body, AUTH)
    assert got == 413 and json.loads(data)["error"]["type"] == "invalid_request_error"


def test_gateway_log_has_no_traceback(gateway: Gateway):
    assert "Traceback" not in gateway.log.read_text()
