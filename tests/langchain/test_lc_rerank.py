"""JugglerRerank on the simulator: fallback, top_n, scores and models_used on documents."""

from __future__ import annotations

import lc_support
from langchain_core.documents import Document
from lc_support import RecordingTracer

from juggler import Juggler
from langchain_juggler import JugglerRerank

DOCS = [
    Document(page_content="Bananas are yellow fruit.", metadata={"id": 1}),
    Document(page_content="Juggler routes LLM calls across providers.", metadata={"id": 2}),
    Document(page_content="Fallback keeps LLM calls reliable.", metadata={"id": 3}),
    Document(page_content="Paris is in France.", metadata={"id": 4}),
]
QUERY = "how does juggler keep LLM calls reliable?"


def test_compress_documents_keeps_top_n_best_first(rerank: JugglerRerank) -> None:
    out = rerank.compress_documents(DOCS, QUERY)
    assert len(out) == 3
    scores = [d.metadata["relevance_score"] for d in out]
    assert scores == sorted(scores, reverse=True)
    assert {d.metadata["id"] for d in out} <= {1, 2, 3, 4}


def test_documents_carry_models_used_and_keep_their_metadata(rerank: JugglerRerank) -> None:
    out = rerank.compress_documents(DOCS, QUERY)
    used = out[0].metadata["models_used"]
    assert [(a["provider"], a["outcome"]) for a in used] == [
        ("voyage", "error"),
        ("jina", "success"),
    ]
    assert "id" in out[0].metadata
    assert "relevance_score" not in DOCS[0].metadata  # inputs are not mutated
    assert rerank.last_models_used == used


async def test_acompress_documents_uses_the_async_api(rerank: JugglerRerank) -> None:
    out = await rerank.acompress_documents(DOCS, QUERY)
    assert len(out) == 3
    assert out[0].metadata["models_used"][-1]["provider"] == "jina"


def test_top_n_none_keeps_every_document_reordered() -> None:
    rr = JugglerRerank(top_n=None, **lc_support.rerank_params())
    assert len(rr.compress_documents(DOCS, QUERY)) == len(DOCS)
    rr.close()


def test_no_documents_means_no_call(rerank: JugglerRerank) -> None:
    assert rerank.compress_documents([], QUERY) == []


def test_the_callbacks_given_see_a_child_run_with_models_used(
    rerank: JugglerRerank, tracer: RecordingTracer
) -> None:
    rerank.compress_documents(DOCS, QUERY, callbacks=[tracer])
    (run,) = tracer.find("chain")
    assert run.name == "JugglerRerank"
    assert run.outputs is not None
    assert [a["provider"] for a in run.outputs["models_used"]] == ["voyage", "jina"]
    assert run.metadata["models_used"] == run.outputs["models_used"]
    assert run.metadata["ls_provider"] == "jina"  # the reranker that answered


async def test_async_callbacks_see_the_child_run_too(
    rerank: JugglerRerank, tracer: RecordingTracer
) -> None:
    await rerank.acompress_documents(DOCS, QUERY, callbacks=[tracer])
    (run,) = tracer.find("chain")
    assert run.outputs is not None and len(run.outputs["models_used"]) == 2


def test_a_shared_juggler_serves_rerank_too() -> None:
    shared = Juggler(rerank=lc_support.RERANK, providers=lc_support.providers(), env={})
    rr = JugglerRerank(juggler=shared, top_n=1)
    assert len(rr.compress_documents(DOCS, QUERY)) == 1
    shared.close()
