"""`JugglerEmbedding`: a LlamaIndex BaseEmbedding that embeds through Juggler's embed chain.

Queries are sent with ``input_type="query"`` and texts with ``"document"`` (providers that
distinguish them need it). ``models_used`` is reported as a :class:`ModelsUsedEvent`
dispatched inside the call's span, because LlamaIndex's ``EmbeddingEndEvent`` has no field
for it. One object never mixes embedding spaces: vectors from two different models cannot
share an index, so a call answered from another space than earlier calls raises
:class:`EmbeddingSpaceError` unless ``allow_cross_space=True`` (then it warns).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr

from juggler import (
    AllProvidersFailedError,
    Capability,
    EmbeddingResponse,
    EmbeddingSpaceError,
    Juggler,
    Target,
)
from juggler._adapters import SpaceGuard

from ._construct import OwnsJuggler, adapter_juggler
from ._events import dispatch_models_used

__all__ = ["EmbeddingSpaceError", "JugglerEmbedding"]

DEFAULT_BATCH = 96  # LlamaIndex's 10 would mean ten times the requests; Juggler splits further


class JugglerEmbedding(OwnsJuggler, BaseEmbedding):
    """LlamaIndex embeddings with fallback across an embed chain.

    ``JugglerEmbedding(targets=["voyage/voyage-3.5", ...], providers=...)`` or
    ``JugglerEmbedding(juggler=j)``. ``space`` is the embedding space of this object's
    vectors, fixed by its first answer.
    """

    targets: list[str] = Field(default_factory=list, description="The embed chain, in order.")
    dimensions: int | None = Field(default=None, gt=0, description="Output dimensions, if set.")
    allow_cross_space: bool = Field(
        default=False, description="Accept vectors from another space after fallback."
    )

    _juggler: Juggler = PrivateAttr()
    _owns: bool = PrivateAttr(default=False)
    _guard: SpaceGuard = PrivateAttr(default_factory=lambda: SpaceGuard("this JugglerEmbedding"))

    def __init__(
        self,
        targets: Sequence[str | Target] | None = None,
        *,
        juggler: Juggler | None = None,
        **kwargs: Any,
    ) -> None:
        own, built, owns = adapter_juggler(
            "JugglerEmbedding",
            Capability.EMBED,
            targets,
            juggler,
            kwargs,
            type(self).model_fields,
            # the core must let the chain cross spaces too
            implied={"allow_cross_space": True} if kwargs.get("allow_cross_space") else None,
        )
        chain = built.chain(Capability.EMBED)
        own.setdefault("model_name", str(chain[0]))
        own.setdefault("embed_batch_size", DEFAULT_BATCH)
        super().__init__(targets=[str(t) for t in chain], **own)  # type: ignore[call-arg]
        self._juggler = built
        self._owns = owns

    @classmethod
    def class_name(cls) -> str:
        """Class name used in LlamaIndex payloads."""
        return "JugglerEmbedding"

    @property
    def space(self) -> str | None:
        """The embedding space of this object's vectors (None before the first call)."""
        return self._guard.first

    # ----- sync -----

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([query], "query")[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([text], "document")[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(texts, "document")

    # ----- async (Juggler's async API, no thread) -----

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([query], "query"))[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([text], "document"))[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed(texts, "document")

    # ----- shared -----

    def _embed(self, texts: list[str], input_type: str) -> list[Embedding]:
        try:
            answer = self._juggler.embed(texts, input_type=input_type, dimensions=self.dimensions)
        except AllProvidersFailedError as exc:
            dispatch_models_used("embedding", exc.models_used, success=False)
            raise
        return self._accept(answer)

    async def _aembed(self, texts: list[str], input_type: str) -> list[Embedding]:
        try:
            answer = await self._juggler.aembed(
                texts, input_type=input_type, dimensions=self.dimensions
            )
        except AllProvidersFailedError as exc:
            dispatch_models_used("embedding", exc.models_used, success=False)
            raise
        return self._accept(answer)

    def _accept(self, answer: EmbeddingResponse) -> list[Embedding]:
        """Report models_used, then enforce one embedding space per object."""
        dispatch_models_used(
            "embedding", answer.models_used, provider=answer.provider, model=answer.model
        )
        # Another space than earlier answers: refused, or (allow_cross_space) warned about.
        self._guard.admit(answer, allow_cross_space=self.allow_cross_space)
        return [list(v) for v in answer]
