"""OpenAI embeddings mock through the SDK: base64 (the SDK's default) and float agree exactly."""

from __future__ import annotations

import math

import openai
import pytest

from byway.mock import MockServer
from tests.mock.rawhttp import post_json


def test_default_base64_and_float_encodings_agree(oai: openai.OpenAI, mock: MockServer) -> None:
    mock.reset()
    via_base64 = oai.embeddings.create(model="text-embedding-3-small", input=["hello world", "bye"])
    sent = [r["body"] for r in mock.requests() if r["path"] == "/openai/v1/embeddings"]
    assert sent[-1]["encoding_format"] == "base64"  # what the SDK asks for when not told
    via_float = oai.embeddings.create(model="text-embedding-3-small", input=["hello world", "bye"],
                                      encoding_format="float")
    assert [d.index for d in via_base64.data] == [0, 1]
    for a, b in zip(via_base64.data, via_float.data, strict=True):
        assert len(a.embedding) == 1536
        assert a.embedding == b.embedding
        assert math.isclose(math.sqrt(sum(x * x for x in a.embedding)), 1.0, rel_tol=1e-5)
    assert via_base64.data[0].embedding != via_base64.data[1].embedding
    # ceil(11/4) + ceil(3/4)
    assert (via_float.usage.prompt_tokens, via_float.usage.total_tokens) == (4, 4)
    assert via_float.model == "text-embedding-3-small"


def test_embeddings_are_deterministic_and_sized(oai: openai.OpenAI) -> None:
    one = oai.embeddings.create(model="text-embedding-3-large", input="same text", dimensions=64)
    two = oai.embeddings.create(model="text-embedding-3-large", input="same text", dimensions=64)
    assert len(one.data[0].embedding) == 64
    assert one.data[0].embedding == two.data[0].embedding
    tokens = oai.embeddings.create(model="text-embedding-3-small", input=[[1, 2, 3, 4, 5]], encoding_format="float")
    assert tokens.usage.prompt_tokens == 5


def test_embedding_errors(oai: openai.OpenAI, mock: MockServer) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        oai.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=8)
    assert err.value.param == "dimensions"
    with pytest.raises(openai.NotFoundError) as missing:
        oai.embeddings.create(model="no-such-embedder", input="x")
    assert missing.value.code == "model_not_found"
    empty = post_json(mock.url + "/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": []},
                      {"Authorization": "Bearer sk-x"})
    assert empty.status == 400
    assert empty.json["error"]["type"] == "invalid_request_error"
