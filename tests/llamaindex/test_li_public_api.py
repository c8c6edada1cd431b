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
