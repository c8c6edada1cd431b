"""`JugglerEmbeddings`: LangChain embeddings with fallback, and the embedding-space rule.

Vectors from two different models cannot share an index. Juggler already keeps one call's
fallback inside one embedding space; this class also keeps *every* call on the same object
in one space: if a later call is answered from another space than the earlier ones, it
raises :class:`EmbeddingSpaceError` instead of handing back vectors that would silently
corrupt the index (with ``allow_cross_space=True`` it warns and records the switch).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, NamedTuple

from langchain_core.embeddings import Embeddings
from pydantic import Field, PrivateAttr

from juggler import Capability, EmbeddingResponse, EmbeddingSpaceError, InvalidRequestError
from juggler._adapters import SpaceGuard

from ._construct import JugglerBacked
from ._convert import models_used_dicts
from ._tracing import embedding_run, finish_embedding_run

__all__ = ["EmbeddingResult", "EmbeddingSpaceError", "JugglerEmbeddings"]


def _last_var() -> ContextVar[EmbeddingResponse | None]:
    return ContextVar("juggler_embeddings_last", default=None)


class JugglerEmbeddings(JugglerBacked, Embeddings):
    """Embeddings that fall back along a chain of provider/model targets.

    ```python
    emb = JugglerEmbeddings(targets=["together/BAAI/bge-base-en-v1.5",
                                     "selfhosted/BAAI/bge-base-en-v1.5"])
    vectors = emb.embed_documents(["a", "b"])
    answer = emb.embed_documents_with_info(["a", "b"])   # per call: no shared state
    answer.vectors, answer.models_used
    emb.space              # the embedding space every call so far was answered from
    ```

    Each call's ``models_used`` also goes into its LangSmith run (metadata and outputs).
    ``last_models_used`` is the last call made *in the current thread or task* (a context
    variable, so concurrent calls never read each other's attempts); prefer the
    ``*_with_info`` methods, which return it with the vectors.

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

    space: str | None = Field(default=None, exclude=True)
    space_switches: list[dict[str, Any]] = Field(default_factory=list, exclude=True)

    # Per thread / asyncio task: two concurrent calls never see each other's answer.
    _last: ContextVar[EmbeddingResponse | None] = PrivateAttr(default_factory=_last_var)
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
        self._last.set(response)
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
        return self._embed_info(texts, input_type, name).vectors

    async def _aembed(self, texts: Sequence[str], input_type: str, name: str) -> list[list[float]]:
        if not texts:
            return []
        return (await self._aembed_info(texts, input_type, name)).vectors

    def _embed_info(self, texts: Sequence[str], input_type: str, name: str) -> EmbeddingResult:
        with embedding_run(name, texts, input_type) as run:
            response = self.client.embed(list(texts), **self._params(input_type))
            finish_embedding_run(
                run,
                response.models_used,
                self._outputs(response),
                response.provider,
                response.model,
            )
        return EmbeddingResult(self._accept(response), response)

    async def _aembed_info(
        self, texts: Sequence[str], input_type: str, name: str
    ) -> EmbeddingResult:
        with embedding_run(name, texts, input_type) as run:
            response = await self.client.aembed(list(texts), **self._params(input_type))
            finish_embedding_run(
                run,
                response.models_used,
                self._outputs(response),
                response.provider,
                response.model,
            )
        return EmbeddingResult(self._accept(response), response)

    def embed_documents_with_info(self, texts: list[str]) -> EmbeddingResult:
        """:meth:`embed_documents`, returning the vectors with this call's ``models_used``."""
        _check_texts(texts)
        return self._embed_info(texts, "document", "JugglerEmbeddings.embed_documents")

    def embed_query_with_info(self, text: str) -> EmbeddingResult:
        """:meth:`embed_query` (one vector in ``.vectors``) with this call's ``models_used``."""
        _check_text(text)
        return self._embed_info([text], "query", "JugglerEmbeddings.embed_query")

    async def aembed_documents_with_info(self, texts: list[str]) -> EmbeddingResult:
        """Async :meth:`embed_documents_with_info`."""
        _check_texts(texts)
        return await self._aembed_info(texts, "document", "JugglerEmbeddings.aembed_documents")

    async def aembed_query_with_info(self, text: str) -> EmbeddingResult:
        """Async :meth:`embed_query_with_info`."""
        _check_text(text)
        return await self._aembed_info([text], "query", "JugglerEmbeddings.aembed_query")

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
        """The full :class:`juggler.EmbeddingResponse` of the last call made in the current
        thread or asyncio task (None before one)."""
        return self._last.get()

    @property
    def last_models_used(self) -> list[dict[str, Any]]:
        """``models_used`` of the last call made in the current thread or asyncio task.

        Per context, so concurrent calls cannot read each other's attempts; a call made in
        another thread or task (``abatch``, ``asyncio.gather``) is not seen here: use the
        ``*_with_info`` methods or the call's LangSmith run for those.
        """
        response = self._last.get()
        return models_used_dicts(response.models_used) if response is not None else []


class EmbeddingResult(NamedTuple):
    """One embeddings call: the vectors, and the answer they came from."""

    vectors: list[list[float]]
    response: EmbeddingResponse

    @property
    def models_used(self) -> list[dict[str, Any]]:
        """Every attempt of this call, as plain dicts."""
        return models_used_dicts(self.response.models_used)

    @property
    def provider(self) -> str:
        """The provider that answered."""
        return self.response.provider

    @property
    def model(self) -> str:
        """The model that answered."""
        return self.response.model


def _check_texts(texts: Any) -> None:
    if not texts:
        raise InvalidRequestError("embed_documents_with_info needs at least one text")


def _check_text(text: Any) -> None:
    if not isinstance(text, str):
        raise InvalidRequestError(f"embed_query takes a string, got {type(text).__name__}")
