"""Embedding fallback stays inside one embedding space unless crossing is asked for."""

from __future__ import annotations

import json

import httpx
import pytest

from juggler import InvalidRequestError, Juggler, Target


def test_an_explicit_chain_that_mixes_spaces_is_refused_and_says_why():
    with pytest.raises(InvalidRequestError, match="cannot share an index"):
        Juggler(embed=["openai/text-embedding-3-small", "cohere/embed-english-v3.0"], env={})


def test_the_same_weights_from_two_providers_are_one_space():
    juggler = Juggler(
        embed=["together/BAAI/bge-base-en-v1.5", "nvidia/baai/bge-base-en-v1.5"],
        env={},
    )
    assert [t.provider for t in juggler.chain("embed")] == ["together", "nvidia"]


def test_an_explicit_space_joins_targets_the_caller_knows_are_the_same():
    juggler = Juggler(
        embed=[
            Target(provider="openai", model="text-embedding-3-small", space="mine"),
            Target(provider="mistral", model="mistral-embed", space="mine"),
        ],
        env={},
    )
    assert len(juggler.chain("embed")) == 2


def test_a_discovered_chain_keeps_only_the_first_space():
    juggler = Juggler(env={"OPENAI_API_KEY": "a", "VOYAGE_API_KEY": "b", "MISTRAL_API_KEY": "c"})
    assert [t.provider for t in juggler.chain("embed")] == ["mistral"]


def test_crossing_spaces_is_an_opt_in_and_the_answer_says_which_space_answered():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.openai.com":
            return httpx.Response(503, json={"error": {"message": "down"}})
        body = json.loads(request.content)
        data = [{"index": i, "embedding": [0.5, 0.5]} for i in range(len(body["input"]))]
        return httpx.Response(200, json={"data": data, "model": body["model"]})

    juggler = Juggler(
        embed=["openai/text-embedding-3-small", "mistral/mistral-embed"],
        providers={"openai": {"api_key": "a"}, "mistral": {"api_key": "b"}},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        allow_cross_space=True,
        env={},
        retries=0,
    )
    response = juggler.embed(["hello"])
    assert response.space == "mistral-embed"
    assert [a.provider for a in response.models_used] == ["openai", "mistral"]
    juggler.close()
