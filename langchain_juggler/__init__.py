"""LangChain adapters for Juggler: a chat model, embeddings and a reranker with fallback.

Each one is built from ``targets=[...]`` (plus any Juggler option) or from ``juggler=`` an
existing :class:`juggler.Juggler`, and reports ``models_used`` in LangChain's metadata,
callbacks and traces.
"""

from .chat_models import ChatJuggler
from .embeddings import EmbeddingResult, EmbeddingSpaceError, JugglerEmbeddings
from .rerank import JugglerRerank

__all__ = [
    "ChatJuggler",
    "EmbeddingResult",
    "EmbeddingSpaceError",
    "JugglerEmbeddings",
    "JugglerRerank",
]
