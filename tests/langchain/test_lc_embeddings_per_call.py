"""Each embeddings call reports its own models_used: concurrent calls never read another
call's attempts (the old ``last_models_used`` was shared instance state)."""

from __future__ import annotations

import asyncio
import threading

import lc_support

from langchain_juggler import JugglerEmbeddings


def _providers(used: list[dict]) -> list[str]:
    return [a["provider"] for a in used]


def test_with_info_returns_the_vectors_and_this_calls_models_used(
    embeddings: JugglerEmbeddings,
) -> None:
    answer = embeddings.embed_documents_with_info(["alpha", "beta"])
    assert len(answer.vectors) == 2
    assert _providers(answer.models_used) == ["together", "selfhosted"]
    assert answer.provider == "selfhosted"


async def test_concurrent_calls_each_get_their_own_models_used() -> None:
    # Two objects sharing one Juggler would be the same; here one object, two chains:
    # the per-call targets differ, so a shared slot would mix them up.
    emb = JugglerEmbeddings(**lc_support.embed_params())
    try:
        healthy, both = await asyncio.gather(
            emb.aembed_query_with_info("alpha"),
            emb.aembed_documents_with_info(["beta", "gamma"]),
        )
        assert _providers(healthy.models_used) == ["together", "selfhosted"]
        assert len(both.vectors) == 2 and len(healthy.vectors) == 1
        assert healthy.response is not both.response
    finally:
        emb.close()


def test_last_models_used_is_per_thread(embeddings: JugglerEmbeddings) -> None:
    embeddings.embed_query("alpha")
    seen: list[list[dict]] = []
    worker = threading.Thread(target=lambda: seen.append(embeddings.last_models_used))
    worker.start()
    worker.join()
    assert seen == [[]]  # another thread made no call: it sees none, not ours
    assert _providers(embeddings.last_models_used) == ["together", "selfhosted"]
