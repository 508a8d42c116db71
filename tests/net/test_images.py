"""Fetching image URLs for providers that take bytes: the guard, the limits, the inlining."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from byway.core import ChatRequest, ImagePart, InvalidRequestError, Message, TextPart, ToolResultPart
from byway.providers.images import ImageFetcher, has_remote_images, sniff
from byway.providers.netguard import BlockedAddressError, check_url, is_public

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


async def _png(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="image/png")


async def _octets(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="application/octet-stream")


async def _html(request: web.Request) -> web.Response:
    return web.Response(text="<html>no</html>", content_type="text/html")


async def _big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "image/png"})
    await response.prepare(request)
    for _ in range(64):  # no content-length: the limit must bite while reading
        await response.write(b"\x00" * 1024)
    return response


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(body=PNG, content_type="image/png")


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/img.png")


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def _missing(request: web.Request) -> web.Response:
    return web.Response(status=404, text="gone")


@pytest.fixture
async def images() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/img.png", _png)
    app.router.add_get("/octets", _octets)
    app.router.add_get("/page", _html)
    app.router.add_get("/big", _big)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/loop", _loop)
    app.router.add_get("/missing", _missing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _request(*parts: ImagePart | TextPart | ToolResultPart) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message(role="user", parts=list(parts))])


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                                     "224.0.0.1", "2002:7f00:1::1", "not-an-ip"])
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_global_addresses_are_public(address: str) -> None:
    assert is_public(address)


@pytest.mark.parametrize("url", ["http://127.0.0.1/x.png", "http://[::1]/x.png", "http://169.254.169.254/latest/",
                                 "https://10.0.0.5/a.jpg", "http://[::ffff:10.0.0.1]/"])
def test_check_url_refuses_literal_private_hosts(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, param="messages")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "http:///nohost"])
def test_check_url_refuses_other_schemes_and_hostless_urls(url: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        check_url(url, param="messages")
    assert info.value.status == 400


def test_check_url_leaves_names_to_the_resolver() -> None:
    assert check_url("https://example.com/cat.png", param="messages") == "example.com"


def test_sniff_knows_the_formats_providers_take() -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff(b"GIF89a...") == "image/gif"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"<html>") is None


async def test_inline_replaces_every_url_once_and_keeps_other_parts(images: str) -> None:
    fetcher = ImageFetcher(allow_private=True)
    try:
        url = images + "/img.png"
        result = ToolResultPart(tool_call_id="c1", content=[TextPart("see"), ImagePart(url=url)])
        request = _request(TextPart("look"), ImagePart(url=url, detail="high"), result,
                           ImagePart(data="AAAA", media_type="image/gif"))
        assert has_remote_images(request)
        inlined = await fetcher.inline(request)
        parts = inlined.messages[0].parts
        assert parts[0] == TextPart("look")
        assert parts[1] == ImagePart(data=base64.b64encode(PNG).decode(), media_type="image/png", detail="high")
        assert isinstance(parts[2], ToolResultPart)
        assert parts[2].content[1] == ImagePart(data=base64.b64encode(PNG).decode(), media_type="image/png")
        assert parts[3] == ImagePart(data="AAAA", media_type="image/gif")
        assert not has_remote_images(inlined)
        assert request.messages[0].parts[1].url == url  # the original is untouched
    finally:
        await fetcher.close()


async def test_media_type_is_sniffed_when_the_server_says_octet_stream(images: str) -> None:
    fetcher = ImageFetcher(allow_private=True)
    try:
        part = await fetcher.fetch(images + "/octets")
        assert part.media_type == "image/png"
    finally:
        await fetcher.close()


async def test_redirects_are_followed(images: str) -> None:
    fetcher = ImageFetcher(allow_private=True)
    try:
        part = await fetcher.fetch(images + "/redirect")
        assert base64.b64decode(part.data or "") == PNG
    finally:
        await fetcher.close()


@pytest.mark.parametrize(("path", "message"), [
    ("/page", "is not an image"),
    ("/missing", "answered 404"),
    ("/loop", "more than 3 redirects"),
])
async def test_bad_answers_are_clear_400s(images: str, path: str, message: str) -> None:
    fetcher = ImageFetcher(allow_private=True)
    try:
        with pytest.raises(InvalidRequestError) as info:
            await fetcher.fetch(images + path)
        assert message in info.value.message
        assert info.value.status == 400 and info.value.code == "image_fetch_failed"
    finally:
        await fetcher.close()


async def test_size_limit_bites_while_reading(images: str) -> None:
    fetcher = ImageFetcher(allow_private=True, max_bytes=10_000)
    tiny = ImageFetcher(allow_private=True, max_bytes=10)
    try:
        with pytest.raises(InvalidRequestError, match="over the limit of 10000 bytes"):
            await fetcher.fetch(images + "/big")
        with pytest.raises(InvalidRequestError, match="48 bytes is over the limit of 10"):  # declared length
            await tiny.fetch(images + "/img.png")
    finally:
        await fetcher.close()
        await tiny.close()


async def test_timeout(images: str) -> None:
    fetcher = ImageFetcher(allow_private=True, timeout=0.3)
    try:
        with pytest.raises(InvalidRequestError, match=r"within 0\.3 s"):
            await fetcher.fetch(images + "/slow")
    finally:
        await fetcher.close()


async def test_guard_refuses_loopback_by_ip_and_by_name(images: str) -> None:
    fetcher = ImageFetcher()
    try:
        with pytest.raises(BlockedAddressError):
            await fetcher.fetch(images + "/img.png")
        port = images.rsplit(":", 1)[1]
        with pytest.raises(BlockedAddressError, match="localhost resolves to a private"):
            await fetcher.fetch(f"http://localhost:{port}/img.png")
    finally:
        await fetcher.close()
