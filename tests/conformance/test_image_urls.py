"""Image URLs through ``byway serve``: providers that take bytes only get the image fetched by the gateway
(the conformance gateway allows the loopback mock as an image host); the others get the URL itself."""

from __future__ import annotations

import pytest

from byway.mock.app import PIXEL_PNG
from tests.conformance.conftest import Clients
from tests.conformance.matrix import ROWS, Row

INLINE = {"gemini", "vertex", "bedrock", "ollama"}  # the provider types whose adapters need bytes


@pytest.mark.parametrize("row", [r for r in ROWS if r.type != "deepseek"], ids=lambda r: r.name)
def test_image_url_reaches_the_model(clients: Clients, row: Row) -> None:
    url = clients.mock.url + "/_mock/pixel.png"
    completion = clients.openai.chat.completions.create(model=f"{row.name}:{row.model}", messages=[
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": url}}]}])
    answer = completion.choices[0].message.content
    if row.type in INLINE:
        assert answer == f"Echo: What is this? [image image/png {len(PIXEL_PNG)} bytes]"
    else:
        assert answer == f"Echo: What is this? [image {url}]"


def test_an_unfetchable_image_is_a_clear_400(clients: Clients) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as info:
        clients.openai.chat.completions.create(model="gemini:gemini-2.0-flash", messages=[
            {"role": "user", "content": [{"type": "image_url",
                                          "image_url": {"url": clients.mock.url + "/_mock/missing.png"}}]}])
    assert info.value.code == "image_fetch_failed"
    assert "answered 404" in info.value.message
