"""`JugglerRerank`: a LangChain document compressor that reranks with fallback.

It works on its own or inside ``ContextualCompressionRetriever``. Each call opens a child
chain run through the ``callbacks`` it is given, so tracers see a ``JugglerRerank`` run whose
outputs (and metadata) hold ``models_used``; the returned documents carry
``metadata["relevance_score"]`` and ``metadata["models_used"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import Field

from juggler import Capability, RerankResponse

from ._construct import JugglerBacked
from ._convert import models_used_dicts
from ._tracing import arerank_run, rerank_run, tag_run

__all__ = ["JugglerRerank"]


class JugglerRerank(JugglerBacked, BaseDocumentCompressor):
    """Rerank documents through a chain of rerank targets.

    ```python
    rerank = JugglerRerank(
        targets=["cohere/rerank-v3.5", "jina/jina-reranker-v2-base-multilingual"], top_n=3
    )
    docs = rerank.compress_documents(documents, "what is juggler?")
    docs[0].metadata["relevance_score"], docs[0].metadata["models_used"]
    ```

    Attributes:
        top_n: how many documents to keep (None keeps them all, reordered).
        last_models_used: the attempts of the last call, as plain dicts.
    """

    capability: ClassVar[Capability] = Capability.RERANK

    top_n: int | None = Field(default=3, gt=0)
    last_models_used: list[dict[str, Any]] = Field(default_factory=list, exclude=True)

    def _params(self) -> dict[str, Any]:
        targets = self.call_targets()
        return {"targets": targets} if targets is not None else {}

    def _documents(self, documents: Sequence[Document], response: RerankResponse) -> list[Document]:
        used = models_used_dicts(response.models_used)
        self.last_models_used = used
        out = []
        for index, score in zip(response.indices, response.scores, strict=True):
            original = documents[index]
            metadata = {**original.metadata, "relevance_score": score, "models_used": used}
            out.append(original.model_copy(update={"metadata": metadata}))
        return out

    @staticmethod
    def _outputs(response: RerankResponse, documents: list[Document]) -> dict[str, Any]:
        return {
            "documents": documents,
            "provider": response.provider,
            "model": response.model,
            "models_used": models_used_dicts(response.models_used),
        }

    def compress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """The ``top_n`` most relevant documents, best first, each with its score."""
        if not documents:
            return []
        with rerank_run(callbacks, type(self).__name__, query, len(documents)) as run:
            response = self.client.rerank(
                query, list(documents), self.top_n, text_of=_text, **self._params()
            )
            out = self._documents(documents, response)
            tag_run(run, response.models_used, response.provider, response.model)
            run.on_chain_end(self._outputs(response, out))
        return out

    async def acompress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> Sequence[Document]:
        """Async :meth:`compress_documents`, on Juggler's async API (no thread hop)."""
        if not documents:
            return []
        async with arerank_run(callbacks, type(self).__name__, query, len(documents)) as run:
            response = await self.client.arerank(
                query, list(documents), self.top_n, text_of=_text, **self._params()
            )
            out = self._documents(documents, response)
            tag_run(run, response.models_used, response.provider, response.model)
            await run.on_chain_end(self._outputs(response, out))
        return out


def _text(document: Document) -> str:
    return document.page_content
