"""``POST /v1/embeddings`` through a real ``byway serve``, called with the official openai SDK."""

from __future__ import annotations

import json
from decimal import Decimal

import openai
import pytest

from byway.mock.openai_embeddings import vector
from tests.e2e.conftest import Gateway
from tests.e2e.test_chat_completions import AUTH, raw


@pytest.mark.parametrize("model", ["oa:text-embedding-3-small", "az:text-embedding-3-small"])
def test_float_vectors_match_the_provider_exactly(gateway: Gateway, model: str) -> None:
    response = gateway.client().embeddings.with_raw_response.create(
        model=model, input=["the cat sat", "on the mat"], encoding_format="float", dimensions=8)
    result = response.parse()
    assert [d.index for d in result.data] == [0, 1]
    for item, text in zip(result.data, ["the cat sat", "on the mat"], strict=True):
        assert item.embedding == pytest.approx(list(vector("text-embedding-3-small", text, 8)), abs=0)
    assert result.usage.prompt_tokens == 3 + 3  # ceil(len/4) per input in the mock
    assert response.headers["x-byway-provider"] == model.split(":")[0]
    assert response.headers["x-byway-model"] == "text-embedding-3-small"
    assert Decimal(response.headers["x-byway-cost-usd"]) == Decimal("0.02") * 6 / 1_000_000


def test_sdk_default_base64_decodes_to_the_same_vector(gateway: Gateway) -> None:
    result = gateway.client().embeddings.create(model="oa:text-embedding-3-small", input="hello world")
    assert len(result.data) == 1
    assert result.data[0].embedding == pytest.approx(list(vector("text-embedding-3-small", "hello world", 1536)),
                                                     abs=0)


def test_provider_without_embeddings_is_a_clear_400(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gateway.client().embeddings.create(model="an:claude-3-5-haiku-latest", input="x")
    error = info.value.body
    assert isinstance(error, dict)
    assert error["code"] == "embeddings_not_supported"
    assert "has no embeddings API" in error["message"]


def test_token_id_input_is_refused_clearly(gateway: Gateway) -> None:
    status, _, body = raw(gateway, "POST", "/v1/embeddings",
                          json.dumps({"model": "oa:text-embedding-3-small", "input": [1, 2, 3]}).encode(), AUTH)
    assert status == 400
    assert json.loads(body)["error"]["param"] == "input"


def test_upstream_errors_and_unknown_models(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError):
        gateway.client().embeddings.create(model="nosuch:text-embedding-3-small", input="x")
    with pytest.raises(openai.InternalServerError) as info:  # 502: the only target answered 500
        gateway.client().embeddings.create(model="broken:text-embedding-3-small", input="x")
    assert info.value.status_code == 502
