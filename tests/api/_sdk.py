"""The official OpenAI and Anthropic SDKs wired to an in-process handler (no network at all)."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import httpx2
import openai

Handler = Callable[[httpx2.Request], httpx2.Response]


def openai_client(handler: Handler) -> openai.OpenAI:
    transport = httpx2.MockTransport(handler)
    return openai.OpenAI(api_key="byw-test", base_url="http://gateway.test/v1", max_retries=0,
                         http_client=httpx2.Client(transport=transport))


def anthropic_client(handler: Handler) -> anthropic.Anthropic:
    transport = httpx2.MockTransport(handler)
    return anthropic.Anthropic(api_key="byw-test", base_url="http://gateway.test", max_retries=0,
                               http_client=httpx2.Client(transport=transport))
