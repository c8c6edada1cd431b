"""The Jina AI wire format: embeddings and rerank.

``POST /embeddings`` takes ``model``, ``input``, ``task`` (``retrieval.query`` /
``retrieval.passage``) and ``dimensions``, and answers OpenAI-like ``data[{index,
embedding}]``. ``POST /rerank`` takes ``model``, ``query``, ``documents`` and ``top_n`` and
answers ``results[{index, relevance_score}]``. Errors are ``{"detail": "..."}``.

No recorded Jina traffic exists in the shared wire corpus; these shapes follow Jina's
published API reference (see the cassettes' header comments).
"""

from __future__ import annotations

from typing import Any

from juggler._types import Usage
from juggler.providers._shapes import RerankAnswer
from juggler.providers.base import BaseProvider
from juggler.providers.openai import embeddings_result
from juggler.providers.types import EmbedRequest, EmbedResult, RerankRequest, RerankResult

__all__ = ["JinaProvider"]

_TASKS = {"query": "retrieval.query", "document": "retrieval.passage"}


class JinaProvider(BaseProvider):
    """Jina embeddings and rerank."""

    wire = "jina"

    def embed_payload(self, model: str, request: EmbedRequest) -> dict[str, Any]:
        """The JSON body of ``POST /embeddings``."""
        payload: dict[str, Any] = {
            "model": model,
            "input": request.texts,
            "embedding_type": "float",
        }
        if request.input_type:
            payload["task"] = _TASKS[request.input_type]
        if request.dimensions is not None:
            payload["dimensions"] = request.dimensions
        return payload

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """Embed one batch; vectors are put back in input order by ``index``."""
        body = await self.post_json("/embeddings", self.embed_payload(model, request), model=model)
        return embeddings_result(self, body, len(request.texts), model)

    def rerank_payload(self, model: str, request: RerankRequest) -> dict[str, Any]:
        """The JSON body of ``POST /rerank``."""
        payload: dict[str, Any] = {
            "model": model,
            "query": request.query,
            "documents": request.documents,
            "return_documents": False,  # we hold the documents; don't ship them back
        }
        if request.top_k is not None:
            payload["top_n"] = request.top_k
        return payload

    async def rerank(self, model: str, request: RerankRequest) -> RerankResult:
        """Order the documents by relevance to the query."""
        body = await self.post_json("/rerank", self.rerank_payload(model, request), model=model)
        RerankAnswer.model_validate(body)
        ranking = self.parse_ranking(
            body.get("results"), "relevance_score", len(request.documents), model
        )
        usage = body.get("usage") or {}
        return RerankResult(
            ranking=ranking,
            model=body.get("model") or model,
            usage=Usage.of(usage.get("prompt_tokens"), None, usage.get("total_tokens")),
        )
