"""JugglerEmbeddings on the simulator: fallback, last_models_used, the embedding-space rule."""

from __future__ import annotations

import lc_support
import pytest

from juggler import AllProvidersFailedError, Juggler
from langchain_juggler import EmbeddingSpaceError, JugglerEmbeddings


def test_embed_documents_falls_back_and_keeps_input_order(embeddings: JugglerEmbeddings) -> None:
    vectors = embeddings.embed_documents(["alpha", "beta", "gamma"])
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1
    assert vectors[0] == embeddings.embed_documents(["alpha"])[0]
    used = embeddings.last_models_used
    assert [(a["provider"], a["outcome"]) for a in used] == [
        ("together", "error"),
        ("selfhosted", "success"),
    ]


def test_embed_query_returns_one_vector(embeddings: JugglerEmbeddings) -> None:
    vector = embeddings.embed_query("what is juggler?")
    assert isinstance(vector, list) and isinstance(vector[0], float)
    assert embeddings.last_response is not None
    assert embeddings.last_response.provider == "selfhosted"


async def test_async_embeddings_use_the_async_api(embeddings: JugglerEmbeddings) -> None:
    docs = await embeddings.aembed_documents(["alpha", "beta"])
    query = await embeddings.aembed_query("alpha")
    assert len(docs) == 2 and len(query) == len(docs[0])
    assert embeddings.last_models_used[-1]["provider"] == "selfhosted"


def test_documents_and_queries_are_sent_with_their_input_type(
    embeddings: JugglerEmbeddings,
) -> None:
    embeddings.embed_query("q")
    assert embeddings.last_response is not None
    # The simulator serves both; the space is the shared weights' name.
    assert embeddings.space == "bge-base-en-v1.5"


def test_an_empty_document_list_makes_no_call(embeddings: JugglerEmbeddings) -> None:
    assert embeddings.embed_documents([]) == []
    assert embeddings.last_models_used == []


def _cross_space(allow: bool) -> JugglerEmbeddings:
    # Two different models: fallback from the first to the second crosses spaces.
    return JugglerEmbeddings(
        targets=["openai/text-embedding-3-small", "selfhosted/BAAI/bge-base-en-v1.5"],
        providers=lc_support.providers(),
        env={},
        allow_cross_space=allow,
    )


def test_a_later_answer_from_another_space_is_refused() -> None:
    sim = lc_support.simulator()
    # The shared Juggler may cross spaces; this object's index still may not.
    shared = Juggler(
        embed=["openai/text-embedding-3-small", "selfhosted/BAAI/bge-base-en-v1.5"],
        providers=lc_support.providers(),
        env={},
        allow_cross_space=True,
    )
    emb = JugglerEmbeddings(juggler=shared)
    emb.embed_documents(["indexed with openai"])
    assert emb.space == "text-embedding-3-small"
    sim.set_scenario("openai", lc_support.DOWN)
    try:
        with pytest.raises(EmbeddingSpaceError, match="cannot share an index") as info:
            emb.embed_query("answered by bge")
    finally:
        sim.set_scenario("openai", lc_support.Scenario())
    assert info.value.expected == "text-embedding-3-small"
    assert info.value.got == "bge-base-en-v1.5"
    assert [a.provider for a in info.value.models_used] == ["openai", "selfhosted"]


def test_allow_cross_space_warns_and_records_the_switch() -> None:
    sim = lc_support.simulator()
    emb = _cross_space(allow=True)
    emb.embed_documents(["indexed with openai"])
    sim.set_scenario("openai", lc_support.DOWN)
    try:
        with pytest.warns(UserWarning, match="switched embedding space"):
            emb.embed_query("answered by bge")
    finally:
        sim.set_scenario("openai", lc_support.Scenario())
    assert emb.space_switches == [
        {
            "from": "text-embedding-3-small",
            "to": "bge-base-en-v1.5",
            "model": "BAAI/bge-base-en-v1.5",
        }
    ]


def test_a_chain_across_spaces_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="cannot share an index"):
        _cross_space(allow=False)


def test_when_every_target_fails_the_error_carries_models_used() -> None:
    emb = JugglerEmbeddings(
        targets=["together/BAAI/bge-base-en-v1.5"],
        providers=lc_support.providers(),
        env={},
        max_retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        emb.embed_query("x")
    assert info.value.models_used[0].status_code == 503
