"""JugglerEmbedding: sync and async, query and document, batches, and one space per object."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from juggler import AllProvidersFailedError, Juggler
from juggler.testing import ProviderSimulator, Scenario
from llamaindex_juggler import EmbeddingSpaceError, JugglerEmbedding, ModelsUsedEvent

from .conftest import DOWN, EMBED, Recorder


def answered_by(recorder: Recorder) -> list[list[str]]:
    """Per embedding request: the providers tried, in order."""
    return [[a["provider"] for a in e.models_used] for e in recorder.events.of(ModelsUsedEvent)]


def test_is_a_base_embedding(embedding: JugglerEmbedding) -> None:
    assert isinstance(embedding, BaseEmbedding)
    assert embedding.model_name == "nvidia/BAAI/bge-base-en-v1.5"


def test_query_embedding_falls_back(embedding: JugglerEmbedding, recorder: Recorder) -> None:
    vector = embedding.get_query_embedding("what do cats eat?")
    assert len(vector) > 0 and all(isinstance(x, float) for x in vector)
    assert answered_by(recorder) == [["nvidia", "together"]]


def test_text_embedding_falls_back(embedding: JugglerEmbedding, recorder: Recorder) -> None:
    embedding.get_text_embedding("cats eat fish")
    assert answered_by(recorder) == [["nvidia", "together"]]


def test_a_batch_is_one_request_in_input_order(
    embedding: JugglerEmbedding, recorder: Recorder
) -> None:
    texts = ["one", "two", "three"]
    batch = embedding.get_text_embedding_batch(texts)
    assert batch == [embedding.get_text_embedding(t) for t in texts]
    assert answered_by(recorder)[0] == ["nvidia", "together"]


async def test_async_query_and_texts_fall_back(
    embedding: JugglerEmbedding, recorder: Recorder
) -> None:
    query = await embedding.aget_query_embedding("cats")
    texts = await embedding.aget_text_embedding_batch(["cats", "dogs"])
    single = await embedding.aget_text_embedding("dogs")
    assert len(query) == len(single) == len(texts[0])
    assert answered_by(recorder) == [["nvidia", "together"]] * 3


def test_the_space_is_fixed_by_the_first_answer(embedding: JugglerEmbedding) -> None:
    assert embedding.space is None
    embedding.get_query_embedding("x")
    assert embedding.space == "bge-base-en-v1.5"


def test_queries_and_documents_are_told_apart(make_juggler: Callable[..., Juggler]) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body["input_type"])
        data = [
            {"object": "embedding", "index": i, "embedding": [0.1, 0.2]}
            for i, _ in enumerate(body["input"])
        ]
        return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"]})

    embedding = JugglerEmbedding(juggler=make_juggler(handler, embed=["nvidia/nv-embedqa-e5-v5"]))
    embedding.get_query_embedding("a question")
    embedding.get_text_embedding("a passage")
    assert seen == ["query", "passage"]  # NVIDIA's spelling of document


def test_every_target_down_raises_with_models_used(
    simulator: ProviderSimulator, recorder: Recorder
) -> None:
    embedding = JugglerEmbedding(
        targets=EMBED[:1], providers=simulator.providers_config(), env={}, retries=0
    )
    try:
        with pytest.raises(AllProvidersFailedError) as caught:
            embedding.get_query_embedding("x")
        assert caught.value.models_used[0].status_code == 503
        (event,) = recorder.events.of(ModelsUsedEvent)
        assert event.success is False
    finally:
        embedding.close()


# ----- the embedding-space rule -----


@pytest.fixture
def two_spaces() -> Iterator[tuple[ProviderSimulator, Juggler]]:
    """A chain that may cross spaces: bge first (healthy for now), then OpenAI's model."""
    with ProviderSimulator({"together": Scenario(), "openai": Scenario()}) as sim:
        j = Juggler(
            embed=["together/BAAI/bge-base-en-v1.5", "openai/text-embedding-3-small"],
            providers=sim.providers_config(),
            env={},
            allow_cross_space=True,
            retries=0,
            circuit_breaker=False,
        )
        yield sim, j
        j.close()


def test_a_later_answer_from_another_space_is_refused(
    two_spaces: tuple[ProviderSimulator, Juggler],
) -> None:
    sim, j = two_spaces
    embedding = JugglerEmbedding(juggler=j)
    embedding.get_text_embedding("indexed with bge")
    sim.set_scenario("together", DOWN)
    with pytest.raises(EmbeddingSpaceError, match="cannot share an index") as caught:
        embedding.get_query_embedding("answered by openai")
    assert (caught.value.expected, caught.value.got) == (
        "bge-base-en-v1.5",
        "text-embedding-3-small",
    )


async def test_crossing_spaces_is_allowed_when_asked_but_never_silently(
    two_spaces: tuple[ProviderSimulator, Juggler],
) -> None:
    sim, j = two_spaces
    embedding = JugglerEmbedding(juggler=j, allow_cross_space=True)
    await embedding.aget_text_embedding("indexed with bge")
    sim.set_scenario("together", DOWN)
    with pytest.warns(UserWarning, match="switched embedding space .* 'text-embedding-3-small'"):
        assert await embedding.aget_query_embedding("answered by openai")
    assert embedding.space == "bge-base-en-v1.5"  # still the space of the first answer


def test_targets_in_two_spaces_need_allow_cross_space(simulator: ProviderSimulator) -> None:
    with pytest.raises(ValueError, match="allow_cross_space"):
        JugglerEmbedding(
            targets=["together/BAAI/bge-base-en-v1.5", "openai/text-embedding-3-small"],
            providers=simulator.providers_config(),
            env={},
        )
