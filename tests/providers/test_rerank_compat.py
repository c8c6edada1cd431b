"""Rerank for OpenAI-family vendors (Together, NVIDIA), the done-when rerank check, and
rerank fallback.

``together/rerank.yaml`` wraps a real Together answer body in the spec's envelope;
``nvidia/rerank.yaml`` is built from NVIDIA's documented reranking API (never recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from juggler import AllProvidersFailedError, Juggler


@pytest.fixture
def sent() -> list[httpx.Request]:
    """The requests the test's Juggler sent."""
    return []


@pytest.fixture
def reranker(sent: list[httpx.Request]) -> Iterator[Any]:
    """``reranker("together/Salesforce/Llama-Rank-v1")``: a one-target rerank Juggler."""
    made: list[Juggler] = []

    async def spy(request: httpx.Request) -> None:
        sent.append(request)

    def make(target: str, **config: Any) -> Juggler:
        provider = target.split("/", 1)[0]
        j = Juggler(
            rerank=[target],
            providers={provider: {"api_key": "test", **config}},
            http_client=httpx.AsyncClient(event_hooks={"request": [spy]}),
            env={},
        )
        made.append(j)
        return j

    yield make
    for j in made:
        j.close()


def test_together_rerank_reads_results_and_sends_top_n(
    cassette: Any, reranker: Any, sent: list[httpx.Request]
) -> None:
    docs = [f"doc {i}" for i in range(6)]
    with cassette.use_cassette("together/rerank.yaml"):
        r = reranker("together/Salesforce/Llama-Rank-v1").rerank("talk about rain", docs, top_k=2)
    assert r.indices == [0, 5]
    assert r.scores == [0.6475887154399037, 0.6323295373206566]
    assert r == ["doc 0", "doc 5"]
    assert r.usage.input_tokens == 2966
    body = json.loads(sent[0].content)
    assert (body["top_n"], body["return_documents"]) == (2, False)
    assert sent[0].url == "https://api.together.xyz/v1/rerank"


def test_nvidia_rerank_posts_passages_to_the_model_path_and_reads_logits(
    cassette: Any, reranker: Any, sent: list[httpx.Request]
) -> None:
    with cassette.use_cassette("nvidia/rerank.yaml"):
        r = reranker("nvidia/nvidia/nv-rerankqa-mistral-4b-v3").rerank(
            "query", ["doc1", "doc2", "doc3"], top_k=2
        )
    assert r == ["doc2", "doc3"]
    assert r.scores == [0.7646484375, -2.3203125]  # raw logits, best first
    assert str(sent[0].url) == (
        "https://ai.api.nvidia.com/v1/retrieval/nvidia/nv-rerankqa-mistral-4b-v3/reranking"
    )
    assert json.loads(sent[0].content) == {
        "model": "nvidia/nv-rerankqa-mistral-4b-v3",
        "query": {"text": "query"},
        "passages": [{"text": "doc1"}, {"text": "doc2"}, {"text": "doc3"}],
    }


async def test_self_hosted_nim_reranks_at_base_url_ranking() -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(200, json={"rankings": [{"index": 0, "logit": 1.5}]})

    j = Juggler(
        rerank=["nvidia/nvidia/nv-rerankqa-mistral-4b-v3"],
        providers={"nvidia": {"api_key": "test", "base_url": "http://nim.local:8000/v1"}},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        env={},
    )
    r = await j.arerank("q", ["only doc"])
    j.close()
    assert urls == ["http://nim.local:8000/v1/ranking"]
    assert r == ["only doc"] and r.scores == [1.5]


# ----- the done-when check, sync and async -----


def test_rerank_query_three_docs_top_two(cassette: Any, reranker: Any) -> None:
    with cassette.use_cassette("jina/rerank.yaml"):
        r = reranker("jina/jina-reranker-v2-base-multilingual").rerank(
            "query", ["doc1", "doc2", "doc3"], top_k=2
        )
    assert len(r) == 2 and len(r.scores) == 2
    assert r.scores == sorted(r.scores, reverse=True)
    assert r.models_used[0].success


async def test_arerank_query_three_docs_top_two(cassette: Any, reranker: Any) -> None:
    with cassette.use_cassette("nvidia/rerank.yaml"):
        r = await reranker("nvidia/nvidia/nv-rerankqa-mistral-4b-v3").arerank(
            "query", ["doc1", "doc2", "doc3"], top_k=2
        )
    assert len(r) == 2 and len(r.scores) == 2
    assert [a.provider for a in r.models_used] == ["nvidia"]


def test_rerank_keeps_the_callers_own_objects(cassette: Any, reranker: Any) -> None:
    docs = [{"text": "doc1", "id": 1}, {"text": "doc2", "id": 2}, {"text": "doc3", "id": 3}]
    with cassette.use_cassette("jina/rerank.yaml"):
        r = reranker("jina/jina-reranker-v2-base-multilingual").rerank("query", docs, top_k=2)
    assert [d["id"] for d in r] == [3, 1]


# ----- fallback -----


async def test_rerank_falls_back_from_cohere_to_voyage(make_juggler: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.cohere.com":
            return httpx.Response(500, json={"message": "internal error"})
        return httpx.Response(200, json={"data": [{"index": 1, "relevance_score": 0.9}]})

    j = make_juggler(handler, rerank=["cohere/rerank-v3.5", "voyage/rerank-2.5"], retries=0)
    r = await j.arerank("q", ["a", "b"])
    assert r == ["b"] and r.provider == "voyage"
    assert [(a.provider, a.success, a.status_code) for a in r.models_used] == [
        ("cohere", False, 500),
        ("voyage", True, 200),
    ]


def test_rerank_all_fail_lists_every_attempt(make_juggler: Any) -> None:
    j = make_juggler(
        lambda request: httpx.Response(401, json={"message": "invalid api token"}),
        rerank=["cohere/rerank-v3.5", "together/Salesforce/Llama-Rank-v1", "jina/jina-reranker-v2"],
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.rerank("q", ["a", "b"])
    assert [(a.provider, a.error_type) for a in info.value.models_used] == [
        ("cohere", "AuthenticationError"),
        ("together", "AuthenticationError"),
        ("jina", "AuthenticationError"),
    ]


async def test_an_out_of_range_index_is_an_invalid_answer(make_juggler: Any) -> None:
    j = make_juggler(
        lambda request: httpx.Response(
            200, json={"results": [{"index": 7, "relevance_score": 0.5}]}
        ),
        rerank=["together/Salesforce/Llama-Rank-v1"],
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        await j.arerank("q", ["a", "b"])
    assert info.value.models_used[0].error_type == "InvalidResponseError"
