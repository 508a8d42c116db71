"""Fetching images given by URL for providers that take image bytes only (Gemini, Bedrock, Ollama).

The URL comes from the client, so the fetch is guarded: http(s) only, no private or
link-local addresses (see ``netguard``) unless the operator allows them, a size limit
read as the bytes arrive, a total timeout and a bounded number of redirects, each one
checked again. A failure is the client's problem: a 400 that says what went wrong.
"""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import urljoin

import aiohttp
import msgspec

from byway.core import ChatRequest, ImagePart, InvalidRequestError, Message, ToolResultPart
from byway.providers.netguard import GuardedResolver, check_url

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 10.0
MAX_REDIRECTS = 3
_PARAM = "messages"
# leading bytes of the formats providers accept, for servers that send no useful content-type
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class ImageFetchError(InvalidRequestError):
    def __init__(self, message: str) -> None:
        super().__init__(message, param=_PARAM, code="image_fetch_failed")


def has_remote_images(request: ChatRequest) -> bool:
    return any(url for url in _urls(request.messages))


def _urls(messages: list[Message]) -> list[str]:
    found = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, ImagePart) and part.data is None and part.url:
                found.append(part.url)
            elif isinstance(part, ToolResultPart):
                found.extend(p.url for p in part.content if isinstance(p, ImagePart) and p.data is None and p.url)
    return found


def sniff(data: bytes) -> str | None:
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ImageFetcher:
    """Owns its own connection pool (with the guarded resolver); ``close()`` it at shutdown."""

    def __init__(self, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT, allow_private: bool = False) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = None if self.allow_private else GuardedResolver()
            connector = aiohttp.TCPConnector(resolver=resolver, limit=32)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                                  timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def inline(self, request: ChatRequest) -> ChatRequest:
        """``request`` with every image URL replaced by the image's bytes (each URL fetched once)."""
        urls = list(dict.fromkeys(_urls(request.messages)))
        if not urls:
            return request
        fetched = dict(zip(urls, await asyncio.gather(*(self.fetch(u) for u in urls)), strict=True))
        messages = [_inline_message(m, fetched) for m in request.messages]
        return msgspec.structs.replace(request, messages=messages)

    async def fetch(self, url: str) -> ImagePart:
        try:
            return await asyncio.wait_for(self._fetch(url), self.timeout)
        except TimeoutError:
            raise ImageFetchError(f"image {_short(url)}: no complete answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as e:
            raise ImageFetchError(f"image {_short(url)}: cannot fetch ({type(e).__name__}: {e})") from None

    async def _fetch(self, url: str) -> ImagePart:
        session = self._get_session()
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allow_private:
                check_url(url, param=_PARAM)
            async with session.get(url, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status != 200:
                    raise ImageFetchError(f"image {_short(url)}: the server answered {response.status}")
                declared = response.content_length
                if declared is not None and declared > self.max_bytes:
                    raise ImageFetchError(f"image {_short(url)}: {declared} bytes is over the limit of "
                                          f"{self.max_bytes}")
                data = bytearray()
                async for chunk in response.content.iter_any():
                    data.extend(chunk)
                    if len(data) > self.max_bytes:
                        raise ImageFetchError(f"image {_short(url)}: over the limit of {self.max_bytes} bytes")
                media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if not media_type.startswith("image/"):
                    media_type = sniff(bytes(data)) or ""
                if not media_type:
                    raise ImageFetchError(f"image {_short(url)}: the answer is not an image")
                return ImagePart(data=base64.b64encode(data).decode("ascii"), media_type=media_type)
        raise ImageFetchError(f"image {_short(url)}: more than {MAX_REDIRECTS} redirects")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _inline_message(message: Message, fetched: dict[str, ImagePart]) -> Message:
    if not any(isinstance(p, ImagePart | ToolResultPart) for p in message.parts):
        return message
    parts = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            parts.append(_inline_part(part, fetched))
        elif isinstance(part, ToolResultPart):
            content = [_inline_part(p, fetched) if isinstance(p, ImagePart) else p for p in part.content]
            parts.append(msgspec.structs.replace(part, content=content))
        else:
            parts.append(part)
    return msgspec.structs.replace(message, parts=parts)


def _inline_part(part: ImagePart, fetched: dict[str, ImagePart]) -> ImagePart:
    if part.data is not None or not part.url:
        return part
    return msgspec.structs.replace(fetched[part.url], detail=part.detail)


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."
