"""The package's public names: a sorted, complete ``__all__``."""

from __future__ import annotations

import llamaindex_juggler
from juggler import JugglerError


def test_all_is_sorted_and_importable() -> None:
    names = llamaindex_juggler.__all__
    assert names == sorted(names)
    assert all(hasattr(llamaindex_juggler, n) for n in names)


def test_every_public_name_is_in_all() -> None:
    public = {n for n in vars(llamaindex_juggler) if not n.startswith("_")}
    modules = {"embeddings", "llms", "postprocessor"}
    assert public - modules == set(llamaindex_juggler.__all__)


def test_the_space_error_is_a_juggler_error() -> None:
    assert issubclass(llamaindex_juggler.EmbeddingSpaceError, JugglerError)


async def test_aclose_closes_a_juggler_the_object_built_but_not_a_shared_one():
    from juggler import Juggler
    from llamaindex_juggler import JugglerLLM

    shared = Juggler(chat=["groq/llama-3.1-8b-instant"], env={"GROQ_API_KEY": "k"})
    borrowed = JugglerLLM(juggler=shared)
    await borrowed.aclose()
    assert borrowed.juggler is shared
    own = JugglerLLM(targets=["groq/llama-3.1-8b-instant"], env={"GROQ_API_KEY": "k"})
    await own.aclose()
    shared.close()
