"""The Voyage AI wire format: embeddings and rerank.

``POST /embeddings`` takes ``input``, ``model``, ``input_type`` (query/document) and
``output_dimension``; vectors come back base64-encoded float32 (what Voyage's SDK asks for,
and what the recordings hold). ``POST /rerank`` takes ``query``, ``documents`` and ``top_k``
and answers ``data[{index, relevance_score}]``. Errors are ``{"detail": "..."}``.
"""

from __future__ import annotations

from typing import Any

from juggler._types import Usage
from juggler.providers._shapes import RerankAnswer
from juggler.providers.base import BaseProvider
from juggler.providers.openai import embeddings_result
from juggler.providers.types import EmbedRequest, EmbedResult, RerankRequest, RerankResult

__all__ = ["VoyageProvider"]


class VoyageProvider(BaseProvider):
    """Voyage embeddings and rerank."""

    wire = "voyage"

    def embed_payload(self, model: str, request: EmbedRequest) -> dict[str, Any]:
        """The JSON body of ``POST /embeddings``."""
        payload: dict[str, Any] = {
            "input": request.texts,
            "model": model,
            "encoding_format": "base64",  # the only value Voyage's schema allows
        }
        if request.input_type:
            payload["input_type"] = request.input_type  # "query" or "document", as Voyage says
        if request.dimensions is not None:
            payload["output_dimension"] = request.dimensions
        return payload

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """Embed one batch; vectors are put back in input order by ``index``."""
        body = await self.post_json("/embeddings", self.embed_payload(model, request), model=model)
        return embeddings_result(self, body, len(request.texts), model)

    def rerank_payload(self, model: str, request: RerankRequest) -> dict[str, Any]:
        """The JSON body of ``POST /rerank``."""
        payload: dict[str, Any] = {
            "query": request.query,
            "documents": request.documents,
            "model": model,
        }
        if request.top_k is not None:
            payload["top_k"] = request.top_k
        return payload

    async def rerank(self, model: str, request: RerankRequest) -> RerankResult:
        """Order the documents by relevance to the query."""
        body = await self.post_json("/rerank", self.rerank_payload(model, request), model=model)
        RerankAnswer.model_validate(body)
        ranking = self.parse_ranking(
            body.get("data"), "relevance_score", len(request.documents), model
        )
        usage = body.get("usage") or {}
        return RerankResult(
            ranking=ranking,
            model=body.get("model") or model,
            usage=Usage.of(usage.get("total_tokens"), None),
        )
