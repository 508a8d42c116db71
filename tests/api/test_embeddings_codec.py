"""The /v1/embeddings codec and the OpenAI-family adapter's embeddings translation."""

from __future__ import annotations

import base64
from array import array

import msgspec
import pytest

from byway.api import embeddings
from byway.core import EmbeddingRequest, EmbeddingResponse, InvalidRequestError, UpstreamUnavailableError, Usage
from byway.core.embeddings import vector_from_base64, vector_to_base64
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.registry import adapter_for


def test_string_input_becomes_one_text_and_unknown_fields_travel_as_extra() -> None:
    decoded = embeddings.decode_request(b'{"model": "oa:text-embedding-3-small", "input": "hello", '
                                        b'"dimensions": 8, "user": "u1", "truncate": "END"}')
    assert decoded.encoding_format == "float"
    assert decoded.request == EmbeddingRequest(model="oa:text-embedding-3-small", inputs=["hello"], dimensions=8,
                                               user="u1", extra={"truncate": "END"})


def test_list_input_base64_and_input_type() -> None:
    decoded = embeddings.decode_request(b'{"model": "m", "input": ["a", "b"], "encoding_format": "base64", '
                                        b'"input_type": "search_query"}')
    assert decoded.encoding_format == "base64"
    assert decoded.request.inputs == ["a", "b"]
    assert decoded.request.input_type == "search_query"


@pytest.mark.parametrize(("body", "param", "fragment"), [
    (b'{"input": "x"}', "model", "Missing required parameter: 'model'"),
    (b'{"model": "m"}', "input", "Missing required parameter: 'input'"),
    (b'{"model": "m", "input": []}', "input", "must not be empty"),
    (b'{"model": "m", "input": ["a", ""]}', "input[1]", "empty string"),
    (b'{"model": "m", "input": [1, 2, 3]}', "input", "token ids is not supported"),
    (b'{"model": "m", "input": [[1, 2], [3]]}', "input[0]", "token ids is not supported"),
    (b'{"model": "m", "input": "x", "encoding_format": "int8"}', "encoding_format", "encoding_format"),
    (b'{"model": "m", "input": "x", "dimensions": 0}', "dimensions", "at least 1"),
    (b'{"model": "", "input": "x"}', "model", "must not be empty"),
    (b'{"model": "m", "input": "x",', None, "parse the JSON body"),
    (b'[1]', None, "JSON object"),
])
def test_bad_bodies_are_400s_naming_the_field(body: bytes, param: str | None, fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        embeddings.decode_request(body)
    assert info.value.status == 400
    assert info.value.param == param
    assert fragment in info.value.message


def test_too_many_inputs() -> None:
    body = msgspec.json.encode({"model": "m", "input": ["x"] * 2049})
    with pytest.raises(InvalidRequestError, match="2049 items"):
        embeddings.decode_request(body)


def test_base64_is_little_endian_float32_and_round_trips() -> None:
    vector = [0.5, -0.25, 1.0, 3.0e-8]
    text = vector_to_base64(vector)
    assert base64.b64decode(text) == array("f", vector).tobytes()  # this machine is little-endian
    assert vector_from_base64(text) == [0.5, -0.25, 1.0, pytest.approx(3.0e-8)]


def test_encode_response_in_both_encodings() -> None:
    response = EmbeddingResponse(vectors=[[0.5, 0.25], [1.0, -1.0]], usage=Usage(input_tokens=7),
                                 model="text-embedding-3-small")
    floats = msgspec.json.decode(embeddings.encode_response(response, "float"))
    assert floats == {"object": "list", "model": "text-embedding-3-small",
                      "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]},
                               {"object": "embedding", "index": 1, "embedding": [1.0, -1.0]}],
                      "usage": {"prompt_tokens": 7, "total_tokens": 7}}
    packed = msgspec.json.decode(embeddings.encode_response(response, "base64"))
    assert [vector_from_base64(d["embedding"]) for d in packed["data"]] == [[0.5, 0.25], [1.0, -1.0]]


def test_openai_family_asks_base64_and_azure_names_the_deployment() -> None:
    request = EmbeddingRequest(model="text-embedding-3-small", inputs=["a"], dimensions=4, extra={"x": 1})
    oa = ProviderConfig(provider_type=ProviderType.OPENAI, api_key="sk-1")
    [call] = adapter_for(ProviderType.OPENAI).embeddings_calls(oa, request)
    assert call.url == "https://api.openai.com/v1/embeddings"
    assert call.headers["authorization"] == "Bearer sk-1"
    assert msgspec.json.decode(call.body or b"") == {"x": 1, "model": "text-embedding-3-small", "input": ["a"],
                                                     "encoding_format": "base64", "dimensions": 4}
    az = ProviderConfig(provider_type=ProviderType.AZURE, api_key="k", base_url="https://r.openai.azure.com")
    [call] = adapter_for(ProviderType.AZURE).embeddings_calls(az, request)
    assert call.url == ("https://r.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings"
                        "?api-version=2024-10-21")
    assert call.headers["api-key"] == "k"


def test_openai_family_parses_base64_and_float_answers_in_index_order() -> None:
    adapter = adapter_for(ProviderType.OPENAI)
    provider = ProviderConfig(provider_type=ProviderType.OPENAI)
    request = EmbeddingRequest(model="m", inputs=["a", "b"])
    body = msgspec.json.encode({"object": "list", "model": "m-2024", "usage": {"prompt_tokens": 3, "total_tokens": 3},
                                "data": [{"index": 1, "embedding": [1.0, 2.0]},
                                         {"index": 0, "embedding": vector_to_base64([0.5, 0.75])}]})
    response = adapter.parse_embeddings(provider, request, [body])
    assert response.vectors == [[0.5, 0.75], [1.0, 2.0]]
    assert response.usage.input_tokens == 3 and response.model == "m-2024" and not response.estimated
    with pytest.raises(UpstreamUnavailableError, match="1 embeddings for 2 inputs"):
        adapter.parse_embeddings(provider, request, [b'{"data": [{"index": 0, "embedding": [1.0]}]}'])


def test_anthropic_has_no_embeddings() -> None:
    provider = ProviderConfig(provider_type=ProviderType.ANTHROPIC)
    with pytest.raises(InvalidRequestError, match="has no embeddings API") as info:
        adapter_for(ProviderType.ANTHROPIC).embeddings_calls(provider, EmbeddingRequest(model="c", inputs=["a"]))
    assert info.value.code == "embeddings_not_supported"
