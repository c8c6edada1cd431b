"""The Voyage wire format, replayed from real recordings: embeddings (base64) and rerank.

``cassettes/voyage/*`` were converted from recordings in ``shared/wire/voyage`` (header
comments name them). Voyage sends vectors as base64 float32; the tests decode the recorded
bytes independently (``struct``) and compare.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import AllProvidersFailedError, Juggler

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def recorded_vectors(path: str) -> list[list[float]]:
    """The vectors in a cassette's answer, decoded from base64 with ``struct``."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body = json.loads(data["interactions"][0]["response"]["body"]["string"])
    out = []
    for row in body["data"]:
        raw = base64.b64decode(row["embedding"])
        out.append(list(struct.unpack(f"<{len(raw) // 4}f", raw)))
    return out


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    """The JSON bodies this test's Juggler sent."""
    return []


@pytest.fixture
def voyage(sent: list[dict[str, Any]]) -> Iterator[Juggler]:
    """A Juggler that embeds and reranks with Voyage, recording the request bodies."""

    async def spy(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    j = Juggler(
        embed=["voyage/voyage-3.5"],
        rerank=["voyage/rerank-2-lite"],
        providers={"voyage": {"api_key": "test"}},
        http_client=httpx.AsyncClient(event_hooks={"request": [spy]}),
        env={},
    )
    yield j
    j.close()


def test_documents_are_embedded_as_the_vectors_voyage_sent(
    cassette: Any, voyage: Juggler, sent: list[dict[str, Any]]
) -> None:
    with cassette.use_cassette("voyage/embeddings.yaml"):
        r = voyage.embed(["hello", "world"], input_type="document")
    assert len(r) == 2
    assert r.dimensions == 1024
    assert list(r) == recorded_vectors("voyage/embeddings.yaml")
    assert sent[0]["input_type"] == "document"
    assert sent[0]["encoding_format"] == "base64"
    assert r.models_used[0].success


async def test_query_embedding_async(cassette: Any, voyage: Juggler, sent: list[Any]) -> None:
    with cassette.use_cassette("voyage/embeddings_query.yaml"):
        r = await voyage.aembed("Hello, world!", input_type="query")
    assert sent[0]["input_type"] == "query"
    assert r[0] == recorded_vectors("voyage/embeddings_query.yaml")[0]
    assert r.usage.input_tokens is not None


def test_unsupported_model_is_a_400_model_not_found_carrying_voyages_detail(cassette: Any) -> None:
    j = Juggler(embed=["voyage/nonexistent"], providers={"voyage": {"api_key": "test"}}, env={})
    with (
        cassette.use_cassette("voyage/embeddings_error.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        j.embed("Hello, world!")
    j.close()
    (attempt,) = info.value.models_used
    assert attempt.error_type == "ModelNotFoundError"  # falls back, like a 404
    assert attempt.status_code == 400
    assert (attempt.error or "").startswith("Model nonexistent is not supported")


def test_rerank_orders_documents_by_voyage_scores(
    cassette: Any, voyage: Juggler, sent: list[dict[str, Any]]
) -> None:
    docs = [
        "Paris is the capital of France and is known for the Eiffel Tower.",
        "London is the capital of England and has Big Ben.",
        "Berlin is the capital of Germany.",
        "The capital of France is Paris, a beautiful city.",
    ]
    with cassette.use_cassette("voyage/rerank.yaml"):
        r = voyage.rerank("What is the capital of France?", docs, top_k=3)
    assert sent[0]["top_k"] == 3
    assert r.indices == [3, 0, 2]
    assert r.scores == [0.7421875, 0.69140625, 0.494140625]
    assert r[0] == docs[3]
    assert r.usage.input_tokens == 57


async def test_rerank_async_top_k_two(cassette: Any, voyage: Juggler) -> None:
    with cassette.use_cassette("voyage/rerank.yaml"):
        r = await voyage.arerank("query", ["doc1", "doc2", "doc3", "doc4"], top_k=2)
    assert r == ["doc4", "doc1"]
    assert r.scores == [0.7421875, 0.69140625]
