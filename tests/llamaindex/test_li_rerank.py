"""JugglerRerank: top_n, scores on the nodes, models_used in metadata, a real async path."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

from juggler import AllProvidersFailedError
from juggler.testing import ProviderSimulator
from llamaindex_juggler import JugglerRerank, ModelsUsedEvent

from .conftest import RERANK, Recorder

TEXTS = ["cats sleep a lot", "dogs bark", "cats and dogs play together", "fish swim"]


@pytest.fixture
def nodes() -> list[NodeWithScore]:
    """Four retrieved nodes with retriever scores."""
    return [
        NodeWithScore(node=TextNode(text=t, metadata={"source": f"doc{i}"}), score=0.1 * i)
        for i, t in enumerate(TEXTS)
    ]


def test_is_a_node_postprocessor(rerank: JugglerRerank) -> None:
    assert isinstance(rerank, BaseNodePostprocessor)


def test_keeps_the_top_n_best_first_with_scores(
    rerank: JugglerRerank, nodes: list[NodeWithScore]
) -> None:
    out = rerank.postprocess_nodes(nodes, query_str="cats and dogs")
    assert [n.node.get_content() for n in out] == [TEXTS[2], TEXTS[0]]
    assert out[0].score is not None and out[1].score is not None
    assert out[0].score > out[1].score


def test_models_used_is_on_every_node(rerank: JugglerRerank, nodes: list[NodeWithScore]) -> None:
    out = rerank.postprocess_nodes(nodes, query_str="cats")
    for node in out:
        used = node.metadata["models_used"]
        assert [(a["provider"], a["outcome"]) for a in used] == [
            ("cohere", "error"),
            ("jina", "success"),
        ]


def test_models_used_stays_out_of_the_text_models_see(
    rerank: JugglerRerank, nodes: list[NodeWithScore]
) -> None:
    (best, _) = rerank.postprocess_nodes(nodes, query_str="cats")
    assert "models_used" not in best.node.get_content(metadata_mode=MetadataMode.LLM)
    assert "models_used" not in best.node.get_content(metadata_mode=MetadataMode.EMBED)
    assert "source" in best.node.get_content(metadata_mode=MetadataMode.LLM)


def test_the_retrieved_nodes_are_left_untouched(
    rerank: JugglerRerank, nodes: list[NodeWithScore]
) -> None:
    rerank.postprocess_nodes(nodes, query_str="cats")
    assert all("models_used" not in n.metadata for n in nodes)
    assert [n.score for n in nodes] == [0.0, 0.1, 0.2, pytest.approx(0.3)]


def test_keep_retrieval_score(juggler, nodes: list[NodeWithScore]) -> None:  # type: ignore[no-untyped-def]
    rerank = JugglerRerank(juggler=juggler, top_n=1, keep_retrieval_score=True)
    (best,) = rerank.postprocess_nodes(nodes, query_str="cats and dogs")
    assert best.metadata["retrieval_score"] == pytest.approx(0.2)


async def test_the_async_path_uses_no_thread(
    rerank: JugglerRerank,
    nodes: list[NodeWithScore],
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_threads(*args: object, **kwargs: object) -> None:
        raise AssertionError("the async rerank must not fall back to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    out = await rerank.apostprocess_nodes(nodes, QueryBundle("cats and dogs"))
    assert out[0].node.get_content() == TEXTS[2]
    (event,) = recorder.events.of(ModelsUsedEvent)
    assert recorder.spans.name_of(event.span_id) == "JugglerRerank._apostprocess_nodes"


def test_no_nodes_means_no_request(rerank: JugglerRerank, simulator: ProviderSimulator) -> None:
    before = simulator.total("jina")
    assert rerank.postprocess_nodes([], query_str="cats") == []
    assert simulator.total("jina") == before


def test_a_query_is_required(rerank: JugglerRerank, nodes: list[NodeWithScore]) -> None:
    with pytest.raises(ValueError, match="query"):
        rerank.postprocess_nodes(nodes)


def test_targets_and_options_build_the_chain(simulator: ProviderSimulator) -> None:
    rerank = JugglerRerank(
        targets=RERANK, top_n=1, providers=simulator.providers_config(), env={}, retries=0
    )
    try:
        assert rerank.targets == RERANK
        (best,) = rerank.postprocess_nodes(
            [NodeWithScore(node=TextNode(text=t)) for t in TEXTS], query_str="fish"
        )
        assert best.node.get_content() == "fish swim"
    finally:
        rerank.close()


async def test_every_target_down_raises_with_models_used(
    simulator: ProviderSimulator, nodes: list[NodeWithScore], recorder: Recorder
) -> None:
    down = JugglerRerank(
        targets=RERANK[:1], providers=simulator.providers_config(), env={}, retries=0
    )
    try:
        with pytest.raises(AllProvidersFailedError) as caught:
            await down.apostprocess_nodes(nodes, query_str="cats")
        assert caught.value.models_used[0].provider == "cohere"
        (event,) = recorder.events.of(ModelsUsedEvent)
        assert event.success is False
    finally:
        down.close()
