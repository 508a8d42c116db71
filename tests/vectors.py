"""Loader for the recorded provider traffic in ``shared/vectors``.

The vectors live next to the repository (``<repo>/../shared/vectors``); set ``BYWAY_VECTORS`` to point elsewhere.
Cassettes are VCR YAML files recorded by pydantic-ai's test suite; stream captures are raw SSE byte streams.

    from tests.vectors import cassette, stream_captures

    tape = cassette("test_groq", "test_request_simple_success")
    first = tape.interactions[0]
    first.request.body["model"], first.response.status, first.response.json["choices"]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CASSETTES = "pydantic-ai-cassettes"
OPENAI_STREAMS = "openai-python-stream-captures"
ANTHROPIC_STREAMS = "anthropic-sdk-stream-fixtures"


def vectors_dir() -> Path:
    """The root of the recorded vectors (``BYWAY_VECTORS`` overrides the default location)."""
    override = os.environ.get("BYWAY_VECTORS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "vectors"


def _headers(raw: dict[str, Any] | None) -> dict[str, str]:
    """VCR stores each header as a list of values; keep the first, with a lower-case name."""
    out: dict[str, str] = {}
    for name, value in (raw or {}).items():
        if isinstance(value, list):
            value = value[0] if value else ""
        out[str(name).lower()] = str(value)
    return out


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def _maybe_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    uri: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body (``parsed_body``, or ``body`` decoded as JSON), or None
    raw: bytes  # the body bytes when the cassette stored them as a string, else b""


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    status: int
    headers: dict[str, str]
    json: Any  # ``parsed_body`` (or ``body.string`` when it is JSON), else None
    raw: bytes  # ``body.string`` as bytes (SSE text, JSON text, binary event streams); b"" with only parsed_body

    def body_bytes(self) -> bytes:
        """The response body as bytes: the recorded string, or the parsed JSON re-encoded."""
        if self.raw:
            return self.raw
        return msgspec.json.encode(self.json) if self.json is not None else b""

    @property
    def is_stream(self) -> bool:
        return self.json is None and bool(self.raw)


@dataclass(frozen=True, slots=True)
class Interaction:
    request: RecordedRequest
    response: RecordedResponse


@dataclass(frozen=True, slots=True)
class Cassette:
    path: Path
    interactions: list[Interaction]

    @property
    def name(self) -> str:
        return self.path.stem


def _request(raw: dict[str, Any]) -> RecordedRequest:
    body_raw = b""
    if "parsed_body" in raw:
        body = raw["parsed_body"]
    elif isinstance(raw.get("body"), dict | list):  # some cassettes store the body already as YAML
        body = raw["body"]
    else:
        body_raw = _as_bytes(raw.get("body"))
        body = _maybe_json(body_raw)
    return RecordedRequest(
        method=str(raw.get("method", "")).upper(),
        uri=str(raw.get("uri", "")),
        headers=_headers(raw.get("headers")),
        body=body,
        raw=body_raw,
    )


def _response(raw: dict[str, Any]) -> RecordedResponse:
    status = raw.get("status") or {}
    code = int(status.get("code", 0)) if isinstance(status, dict) else int(status)
    body_raw = b""
    if "parsed_body" in raw:
        parsed = raw["parsed_body"]
    else:
        body = raw.get("body")
        body_raw = _as_bytes(body.get("string") if isinstance(body, dict) else body)
        parsed = _maybe_json(body_raw)
    return RecordedResponse(status=code, headers=_headers(raw.get("headers")), json=parsed, raw=body_raw)


@cache
def load_cassette(path: Path) -> Cassette:
    with path.open("rb") as fh:
        data = yaml.load(fh, Loader=_Loader)  # same as yaml.safe_load, with the C loader when present
    interactions = [
        Interaction(request=_request(item.get("request") or {}), response=_response(item.get("response") or {}))
        for item in (data or {}).get("interactions") or []
    ]
    return Cassette(path=path, interactions=interactions)


def cassette(folder: str, name: str) -> Cassette:
    """A pydantic-ai cassette by folder and file stem, e.g. ``cassette("test_openai", "test_extra_headers")``."""
    stem = name[:-5] if name.endswith(".yaml") else name
    return load_cassette(vectors_dir() / CASSETTES / folder / f"{stem}.yaml")


def cassettes(folder: str, pattern: str = "*.yaml") -> list[Cassette]:
    """Every cassette in a folder whose file name matches ``pattern``, sorted by name."""
    return [load_cassette(p) for p in sorted((vectors_dir() / CASSETTES / folder).glob(pattern))]


def stream_capture_paths(folder: str = OPENAI_STREAMS, suffix: str = ".bin") -> list[Path]:
    """The verbatim stream files of a captures folder (OpenAI ``*.bin`` or Anthropic ``*.txt``)."""
    return sorted(p for p in (vectors_dir() / folder).iterdir() if p.name.endswith(suffix))


def stream_capture(name: str, folder: str = OPENAI_STREAMS) -> bytes:
    """One capture's bytes; ``name`` may omit the extension or be a unique prefix of the file name."""
    base = vectors_dir() / folder
    exact = base / name
    if exact.is_file():
        return exact.read_bytes()
    matches = sorted(p for p in base.iterdir() if p.name.startswith(name) and p.name != "LICENSE")
    if len(matches) != 1:
        raise FileNotFoundError(f"{len(matches)} captures in {base} match {name!r}")
    return matches[0].read_bytes()


def anthropic_fixture(name: str) -> bytes:
    """An Anthropic SDK stream fixture (``anthropic-sdk-stream-fixtures/<name>.txt``)."""
    return stream_capture(name, folder=ANTHROPIC_STREAMS)
