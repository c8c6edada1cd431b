"""Rerank for vendors that otherwise speak the OpenAI wire format (OpenAI itself has none).

Two dialects exist among them, chosen by the catalogue row's ``wire_options``:

* Cohere-like (Together, and the default): ``POST {base}/rerank`` with
  ``{model, query, documents, top_n}`` → ``results[{index, relevance_score}]``.
* NVIDIA retrieval (``nvidia_rerank``): ``POST {urls[rerank]}/{model}/reranking`` with
  ``{model, query: {text}, passages: [{text}]}`` → ``rankings[{index, logit}]``. A
  self-hosted NIM (a ``base_url`` other than the catalogue's) serves ``{base}/ranking``.
  NVIDIA scores are raw logits: they order the documents but are not probabilities.
"""

from __future__ import annotations

from typing import Any

from juggler._types import Capability, Usage
from juggler.providers._shapes import RerankAnswer
from juggler.providers.base import BaseProvider
from juggler.providers.types import RerankRequest, RerankResult

__all__ = ["CompatRerankMixin"]


class CompatRerankMixin(BaseProvider):
    """``rerank`` for OpenAI-family vendors that offer one (Together, NVIDIA)."""

    def rerank_url(self, model: str) -> str:
        """Where this vendor's rerank endpoint lives."""
        if "nvidia_rerank" not in self.spec.wire_options:
            return self.url("/rerank")
        hosted = self.spec.urls.get(Capability.RERANK)
        if hosted and self.base_url == self.spec.base_url.rstrip("/"):
            return f"{hosted.rstrip('/')}/{model}/reranking"
        return self.url("/ranking")  # a self-hosted NIM, or a test server

    def rerank_payload(self, model: str, request: RerankRequest) -> dict[str, Any]:
        """The JSON body of the rerank call, in this vendor's dialect."""
        if "nvidia_rerank" in self.spec.wire_options:
            return {
                "model": model,
                "query": {"text": request.query},
                "passages": [{"text": d} for d in request.documents],
            }
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
        body = await self.post_json(
            self.rerank_url(model), self.rerank_payload(model, request), model=model
        )
        RerankAnswer.model_validate(body)
        rows, score = (
            ("rankings", "logit")
            if "nvidia_rerank" in self.spec.wire_options
            else ("results", "relevance_score")
        )
        ranking = self.parse_ranking(body.get(rows), score, len(request.documents), model)
        usage = body.get("usage") or {}
        return RerankResult(
            ranking=ranking,
            model=body.get("model") or model,
            usage=Usage.of(usage.get("prompt_tokens"), None, usage.get("total_tokens")),
        )
