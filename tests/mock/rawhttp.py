"""Plain HTTP requests with the standard library, for what the SDKs will not send (no key,
broken JSON) and for looking at raw answers."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import msgspec


class Raw:
    """A plain HTTP answer: status, headers and body (decoded when JSON)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.text = body.decode()
        self.json: Any = msgspec.json.decode(body) if self.headers.get("content-type", "").startswith(
            "application/json") else None


def raw_request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                method: str | None = None) -> Raw:
    """Send a request with the standard library (no SDK), error statuses included."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Raw(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        return Raw(err.code, dict(err.headers), err.read())


def post_json(url: str, payload: Any, headers: dict[str, str] | None = None) -> Raw:
    return raw_request(url, msgspec.json.encode(payload), {"Content-Type": "application/json", **(headers or {})})
