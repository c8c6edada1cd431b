"""`JugglerEmbeddings`: LangChain embeddings with fallback, and the embedding-space rule.

Vectors from two different models cannot share an index. Juggler already keeps one call's
fallback inside one embedding space; this class also keeps *every* call on the same object
in one space: if a later call is answered from another space than the earlier ones, it
raises :class:`EmbeddingSpaceError` instead of handing back vectors that would silently
corrupt the index (with ``allow_cross_space=True`` it warns and records the switch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from langchain_core.embeddings import Embeddings
from pydantic import Field, PrivateAttr

from juggler import Capability, EmbeddingResponse, EmbeddingSpaceError, InvalidRequestError
from juggler._adapters import SpaceGuard

from ._construct import JugglerBacked
from ._convert import models_used_dicts
from ._tracing import embedding_run, finish_embedding_run

__all__ = ["EmbeddingSpaceError", "JugglerEmbeddings"]


class JugglerEmbeddings(JugglerBacked, Embeddings):
    """Embeddings that fall back along a chain of provider/model targets.

    ```python
    emb = JugglerEmbeddings(targets=["together/BAAI/bge-base-en-v1.5",
                                     "selfhosted/BAAI/bge-base-en-v1.5"])
    vectors = emb.embed_documents(["a", "b"])
    emb.last_models_used   # the attempts of the last call, as plain dicts
    emb.space              # the embedding space every call so far was answered from
    ```

    Documents are embedded with ``input_type="document"`` and queries with ``"query"``
    (vendors that distinguish them, such as Cohere and Voyage, need it).

    Attributes:
        dimensions: ask for vectors of this size, where the model supports it.
        allow_cross_space: let the chain cross embedding spaces, and let later calls be
            answered from another space than earlier ones (warned about and recorded in
            ``space_switches``). Off by default: an index is never silently filled from
            two models.
    """

    capability: ClassVar[Capability] = Capability.EMBED

    dimensions: int | None = None
    allow_cross_space: bool = False

    last_models_used: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    space: str | None = Field(default=None, exclude=True)
    space_switches: list[dict[str, Any]] = Field(default_factory=list, exclude=True)

    _last_response: EmbeddingResponse | None = PrivateAttr(default=None)
    _guard: SpaceGuard = PrivateAttr(default_factory=lambda: SpaceGuard("this JugglerEmbeddings"))

    def _implied_options(self) -> dict[str, Any]:
        # Juggler's own chain check needs to know when crossing spaces was chosen.
        return {"allow_cross_space": True} if self.allow_cross_space else {}

    def _params(self, input_type: str) -> dict[str, Any]:
        params: dict[str, Any] = {"input_type": input_type, "dimensions": self.dimensions}
        targets = self.call_targets()
        if targets is not None:
            params["targets"] = targets
        return params

    def _accept(self, response: EmbeddingResponse) -> list[list[float]]:
        """Record the call, and enforce the embedding-space rule."""
        self._last_response = response
        self.last_models_used = models_used_dicts(response.models_used)
        guard = self._guard
        if self.space is not None and self.space != guard.current:  # ``space=`` pins it
            guard.current = self.space
        previous = guard.current
        if guard.admit(response, allow_cross_space=self.allow_cross_space):
            switch = {"from": previous, "to": response.space, "model": response.model}
            self.space_switches.append(switch)
        self.space = guard.current
        return [list(v) for v in response]

    @staticmethod
    def _outputs(response: EmbeddingResponse) -> dict[str, Any]:
        return {
            "count": len(response),
            "dimensions": response.dimensions,
            "provider": response.provider,
            "model": response.model,
            "space": response.space,
        }

    def _embed(self, texts: Sequence[str], input_type: str, name: str) -> list[list[float]]:
        if not texts:
            return []
        with embedding_run(name, texts, input_type) as run:
            response = self.client.embed(list(texts), **self._params(input_type))
            finish_embedding_run(run, response.models_used, self._outputs(response))
        return self._accept(response)

    async def _aembed(self, texts: Sequence[str], input_type: str, name: str) -> list[list[float]]:
        if not texts:
            return []
        with embedding_run(name, texts, input_type) as run:
            response = await self.client.aembed(list(texts), **self._params(input_type))
            finish_embedding_run(run, response.models_used, self._outputs(response))
        return self._accept(response)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (``input_type="document"``), in input order."""
        return self._embed(texts, "document", "JugglerEmbeddings.embed_documents")

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (``input_type="query"``)."""
        _check_text(text)
        return self._embed([text], "query", "JugglerEmbeddings.embed_query")[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents`, on Juggler's async API."""
        return await self._aembed(texts, "document", "JugglerEmbeddings.aembed_documents")

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`, on Juggler's async API."""
        _check_text(text)
        return (await self._aembed([text], "query", "JugglerEmbeddings.aembed_query"))[0]

    @property
    def last_response(self) -> EmbeddingResponse | None:
        """The last call's full :class:`juggler.EmbeddingResponse` (usage, latency, ...)."""
        return self._last_response


def _check_text(text: Any) -> None:
    if not isinstance(text, str):
        raise InvalidRequestError(f"embed_query takes a string, got {type(text).__name__}")
