"""The Jina wire format: embeddings and rerank.

No Jina traffic was ever recorded (shared/wire/PROVENANCE.md lists it as a gap), so
``cassettes/jina/*`` are built from Jina's published API reference and say so in their header
comments. The tests check the adapter reads those documented shapes and sends Jina's fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def recorded(path: str) -> dict[str, Any]:
    """The JSON body of a cassette's first answer."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body: dict[str, Any] = json.loads(data["interactions"][0]["response"]["body"]["string"])
    return body


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    """The JSON bodies this test's Juggler sent."""
    return []


@pytest.fixture
def jina(sent: list[dict[str, Any]]) -> Iterator[Juggler]:
    """A Juggler that embeds and reranks with Jina's catalogue defaults."""

    async def spy(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    j = Juggler(
        embed=["jina/jina-embeddings-v3"],
        rerank=["jina/jina-reranker-v2-base-multilingual"],
        providers={"jina": {"api_key": "test"}},
        http_client=httpx.AsyncClient(event_hooks={"request": [spy]}),
        env={},
    )
    yield j
    j.close()


def test_embed_gives_two_vectors_and_their_dimensions(
    cassette: Any, jina: Juggler, sent: list[dict[str, Any]]
) -> None:
    with cassette.use_cassette("jina/embeddings.yaml"):
        r = jina.embed(["Hello", "World"], input_type="document")
    expected = [row["embedding"] for row in recorded("jina/embeddings.yaml")["data"]]
    assert len(r) == 2 and r.dimensions == 1024
    assert list(r) == expected
    assert sent[0]["task"] == "retrieval.passage"
    assert sent[0]["input"] == ["Hello", "World"]
    assert r.usage.input_tokens == 8


async def test_query_embedding_uses_the_retrieval_query_task(
    cassette: Any, jina: Juggler, sent: list[dict[str, Any]]
) -> None:
    with cassette.use_cassette("jina/embeddings.yaml"):
        await jina.aembed(["Hello", "World"], input_type="query", dimensions=1024)
    assert sent[0]["task"] == "retrieval.query"
    assert sent[0]["dimensions"] == 1024


def test_rerank_gives_top_k_documents_and_scores(
    cassette: Any, jina: Juggler, sent: list[dict[str, Any]]
) -> None:
    with cassette.use_cassette("jina/rerank.yaml"):
        r = jina.rerank("query", ["doc1", "doc2", "doc3"], top_k=2)
    assert r == ["doc3", "doc1"]
    assert r.scores == [0.8783142566680908, 0.7624675869941711]
    assert r.indices == [2, 0]
    assert sent[0]["top_n"] == 2
    assert [(a.provider, a.success) for a in r.models_used] == [("jina", True)]


async def test_jina_detail_error_is_recorded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Invalid API key"})

    j = Juggler(
        embed=["jina/jina-embeddings-v3"],
        providers={"jina": {"api_key": "jina_secret1234567890"}},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        env={},
    )
    with pytest.raises(AllProvidersFailedError) as info:
        await j.aembed("x")
    j.close()
    (attempt,) = info.value.models_used
    assert attempt.error_type == "AuthenticationError"
    assert attempt.error == "Invalid API key"
    assert "jina_secret" not in repr(info.value)
