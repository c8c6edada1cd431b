"""Embeddings over the OpenAI wire format (openai, mistral, together, nvidia), batching, and
embedding fallback.

OpenAI and Mistral cassettes were converted from real recordings (OpenAI answers base64
float32, as its SDK asks; Mistral answers float lists). Together and NVIDIA embeddings were
never recorded: their cassettes are built from the vendors' documented shapes and say so.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import CATALOG, AllProvidersFailedError, Juggler, ModelNotFoundError, Target

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def recorded_vectors(path: str) -> list[list[float]]:
    """The vectors in a cassette's answer; base64 ones decoded independently with ``struct``."""
    data = yaml.safe_load((CASSETTES / path).read_text())
    body = json.loads(data["interactions"][0]["response"]["body"]["string"])
    out = []
    for row in sorted(body["data"], key=lambda r: r["index"]):
        value = row["embedding"]
        if isinstance(value, str):
            raw = base64.b64decode(value)
            value = list(struct.unpack(f"<{len(raw) // 4}f", raw))
        out.append(value)
    return out


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    """The JSON bodies the test's Juggler sent."""
    return []


@pytest.fixture
def embedder(sent: list[dict[str, Any]]) -> Iterator[Callable[..., Juggler]]:
    """``embedder("openai/text-embedding-3-small")``: a one-target embedding Juggler."""
    made: list[Juggler] = []

    async def spy(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    def make(target: str) -> Juggler:
        provider = target.split("/", 1)[0]
        j = Juggler(
            embed=[target],
            providers={provider: {"api_key": "test"}},
            http_client=httpx.AsyncClient(event_hooks={"request": [spy]}),
            env={},
        )
        made.append(j)
        return j

    yield make
    for j in made:
        j.close()


# ----- replayed answers -----


def test_openai_base64_vectors_are_decoded_exactly(
    cassette: Any, embedder: Any, sent: list[Any]
) -> None:
    with cassette.use_cassette("openai/embeddings_query.yaml"):
        r = embedder("openai/text-embedding-3-small").embed(["Hello, world!"])
    assert sent[0]["encoding_format"] == "base64"  # what the OpenAI SDK asks for
    assert r.dimensions == 1536
    assert list(r) == recorded_vectors("openai/embeddings_query.yaml")
    assert r.model == "text-embedding-3-small"


async def test_openai_dimensions_are_sent_and_honoured(
    cassette: Any, embedder: Any, sent: list[Any]
) -> None:
    with cassette.use_cassette("openai/embeddings_dimensions.yaml"):
        r = await embedder("openai/text-embedding-3-small").aembed("hello world", dimensions=512)
    assert sent[0]["dimensions"] == 512
    assert r.dimensions == 512
    assert r[0] == recorded_vectors("openai/embeddings_dimensions.yaml")[0]
    assert r.usage.input_tokens == 2


def test_openai_unknown_model_is_recorded_as_model_not_found(cassette: Any, embedder: Any) -> None:
    with (
        cassette.use_cassette("openai/embeddings_error.yaml"),
        pytest.raises(AllProvidersFailedError) as info,
    ):
        embedder("openai/nonexistent").embed("Hello, world!")
    (attempt,) = info.value.models_used
    assert (attempt.error_type, attempt.status_code) == (ModelNotFoundError.__name__, 404)


def test_mistral_float_vectors_and_usage(cassette: Any, embedder: Any, sent: list[Any]) -> None:
    with cassette.use_cassette("mistral/embeddings.yaml"):
        r = embedder("mistral/mistral-embed").embed("Tell me a joke about OpenTelemetry")
    assert sent[0]["encoding_format"] == "float"
    assert r.dimensions == 1024
    assert list(r) == recorded_vectors("mistral/embeddings.yaml")
    assert r.usage.input_tokens == 10


def test_mistral_dimensions_travel_as_output_dimension(
    cassette: Any, embedder: Any, sent: list[Any]
) -> None:
    with cassette.use_cassette("mistral/embeddings.yaml"):
        embedder("mistral/codestral-embed").embed("x", dimensions=256)
    assert sent[0]["output_dimension"] == 256
    assert "dimensions" not in sent[0]  # Mistral's schema forbids unknown fields


def test_together_embeddings(cassette: Any, embedder: Any) -> None:
    with cassette.use_cassette("together/embeddings.yaml"):
        r = embedder("together/BAAI/bge-base-en-v1.5").embed(["Hello", "World"])
    assert len(r) == 2 and r.dimensions == 768
    assert list(r) == recorded_vectors("together/embeddings.yaml")


def test_nvidia_embeddings_send_input_type_passage_or_query(
    cassette: Any, embedder: Any, sent: list[Any]
) -> None:
    j = embedder("nvidia/nvidia/nv-embedqa-e5-v5")
    with cassette.use_cassette("nvidia/embeddings.yaml"):
        r = j.embed(["Hello", "World"], input_type="document")
    with cassette.use_cassette("nvidia/embeddings.yaml"):
        j.embed(["Hello", "World"], input_type="query")
    assert [s["input_type"] for s in sent] == ["passage", "query"]
    assert r.dimensions == 1024
    assert list(r) == recorded_vectors("nvidia/embeddings.yaml")


# ----- the done-when check, sync and async -----


def test_embed_hello_world_gives_two_vectors_and_dimensions(cassette: Any, embedder: Any) -> None:
    with cassette.use_cassette("together/embeddings.yaml"):
        r = embedder("together/BAAI/bge-base-en-v1.5").embed(["Hello", "World"])
    assert len(r) == 2
    assert r.dimensions == len(r[0]) == len(r[1])
    assert [a.provider for a in r.models_used] == ["together"]


async def test_aembed_hello_world_gives_two_vectors_and_dimensions(
    cassette: Any, embedder: Any
) -> None:
    with cassette.use_cassette("nvidia/embeddings.yaml"):
        r = await embedder("nvidia/nvidia/nv-embedqa-e5-v5").aembed(["Hello", "World"])
    assert len(r) == 2 and r.dimensions == 1024
    assert r.models_used[0].success


# ----- batching to the provider's limit -----


def embeddings_answer(request: httpx.Request) -> httpx.Response:
    """An OpenAI-shaped answer whose vector for text ``tN`` is ``[N, N]``, rows reversed."""
    texts = json.loads(request.content)["input"]
    rows = [{"index": i, "embedding": [float(t[1:])] * 2} for i, t in enumerate(texts)]
    return httpx.Response(200, json={"data": rows[::-1], "usage": {"prompt_tokens": len(texts)}})


async def test_five_texts_with_a_limit_of_two_take_three_requests_in_order(
    make_juggler: Any,
) -> None:
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        batches.append(json.loads(request.content)["input"])
        return embeddings_answer(request)

    j = make_juggler(handler, embed=["openai/text-embedding-3-small"])
    provider = j.providers["openai"]
    provider.spec = provider.spec.model_copy(update={"embed_batch_limit": 2})
    r = await j.aembed([f"t{i}" for i in range(5)])
    assert batches == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    assert list(r) == [[float(i)] * 2 for i in range(5)]
    assert r.usage.input_tokens == 5


@pytest.mark.parametrize(
    ("provider", "limit"),
    [("openai", 2048), ("cohere", 96), ("voyage", 128), ("jina", 2048), ("mistral", 256)],
)
def test_catalogue_batch_limits_are_the_documented_ones(provider: str, limit: int) -> None:
    assert CATALOG[provider].embed_batch_limit == limit


# ----- fallback -----


async def test_embed_falls_back_to_the_same_model_on_another_provider(make_juggler: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "integrate.api.nvidia.com":
            return httpx.Response(503, json={"error": {"message": "overloaded"}})
        return embeddings_answer(request)

    # The same weights served by two vendors share the space "bge-m3": fallback stays in it.
    j = make_juggler(handler, embed=["nvidia/baai/bge-m3", "together/BAAI/bge-m3"], retries=0)
    r = await j.aembed(["t1", "t2"])
    assert list(r) == [[1.0, 1.0], [2.0, 2.0]]
    assert r.provider == "together"
    assert r.space == "bge-m3"
    assert [(a.provider, a.success, a.status_code) for a in r.models_used] == [
        ("nvidia", False, 503),
        ("together", True, 200),
    ]


def test_embed_all_fail_raises_with_every_attempt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": "boom"}})

    j = Juggler(
        embed=[
            Target(provider="openai", model="text-embedding-3-small", space="s"),
            Target(provider="mistral", model="mistral-embed", space="s"),
        ],
        providers={"openai": {"api_key": "test"}, "mistral": {"api_key": "test"}},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        env={},
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.embed("hi")
    j.close()
    assert [(a.provider, a.error_type) for a in info.value.models_used] == [
        ("openai", "ServerError"),
        ("mistral", "ServerError"),
    ]
