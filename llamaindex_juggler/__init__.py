"""LlamaIndex adapters for Juggler: an LLM, an embedding model and a reranker with fallback.

``pip install "juggler[llamaindex]"``. Every answer's ``models_used`` reaches LlamaIndex:
``ChatResponse.additional_kwargs["models_used"]`` (and ``LLMChatEndEvent``), node metadata
after reranking, and :class:`ModelsUsedEvent` for every component.
"""

from ._events import ModelsUsedEvent
from .embeddings import EmbeddingSpaceError, JugglerEmbedding
from .llms import JugglerLLM
from .postprocessor import JugglerRerank

__all__ = [
    "EmbeddingSpaceError",
    "JugglerEmbedding",
    "JugglerLLM",
    "JugglerRerank",
    "ModelsUsedEvent",
]
