"""Voyage AI and Jina AI, simulated: embeddings and rerank in each vendor's own shapes.

Voyage (``shared/wire/voyage``): ``POST /v1/embeddings`` → ``data[{object, embedding,
index}]`` (base64 float32 when ``encoding_format="base64"``), ``POST /v1/rerank`` →
``data[{relevance_score, index}]``; errors are ``{"detail": …}``.

Jina has no recording in ``shared/wire``; its shapes follow Jina's published API reference:
``POST /v1/embeddings`` → ``data[{object, index, embedding}]`` with ``usage.total_tokens``,
``POST /v1/rerank`` → ``results[{index, relevance_score, document}]``; errors are
``{"detail": …}``.
"""

from __future__ import annotations

from typing import Any

import juggler.testing._behaviour as model
from juggler.testing._server import Answer, Response
from juggler.testing.wires.base import (
    Call,
    WireFormat,
    document_texts,
    embedding_rows,
    json_answer,
    ranked_documents,
    retry_headers,
)

__all__ = ["JinaWire", "VoyageWire"]

# What Voyage lists in its "not supported" message (the simulator's own list, not Voyage's).
_VOYAGE_LISTED = (
    "voyage-3.5",
    "voyage-3.5-lite",
    "voyage-3-large",
    "voyage-code-3",
    "rerank-2.5",
    "rerank-2.5-lite",
)


class _DetailErrors(WireFormat):
    """Both vendors answer errors as FastAPI does: ``{"detail": "…"}``."""

    default_base_path = "/v1"

    def error(self, status: int, message: str, retry_after: float | None = None) -> Response:
        """``{"detail": message}``."""
        return json_answer({"detail": message}, status, retry_headers(status, retry_after))

    def error_in_200(self, call: Call) -> Answer:
        """``{"detail": …}`` with a 200: a body with no result in it."""
        return json_answer({"detail": "internal server error (simulated, inside a 200)"})


class VoyageWire(_DetailErrors):
    """Answers like Voyage AI."""

    name = "voyage"

    def model_not_found(self, model: str, call: Call) -> Response:
        """Voyage answers an unknown model with a 400, not a 404: "Model x is not supported.
        Supported models are [...]" (shared/wire/voyage/embeddings/pydantic-ai/
        TestVoyageAI.test_embed_error.yaml)."""
        kind = "rerank" if call.path.endswith("/rerank") else "embed"
        supported = sorted(
            m for m in _VOYAGE_LISTED if m.startswith("rerank") == (kind == "rerank")
        )
        return json_answer(
            {"detail": f"Model {model} is not supported. Supported models are {supported}."}, 400
        )

    def handle(self, call: Call) -> Answer | None:
        """``/embeddings`` and ``/rerank``."""
        body = call.body if isinstance(call.body, dict) else {}
        if call.path.endswith("/embeddings"):
            dims = int(body.get("output_dimension") or call.scenario.dimensions)
            data, tokens = embedding_rows(
                document_texts(body.get("input")), dims, body.get("encoding_format") == "base64"
            )
            return json_answer(
                {
                    "object": "list",
                    "data": data,
                    "model": call.model,
                    "usage": {"total_tokens": tokens},
                }
            )
        if call.path.endswith("/rerank"):
            docs, ranked = ranked_documents(body, "top_k")
            rows: list[dict[str, Any]] = []
            for i, s in ranked:
                row: dict[str, Any] = {"relevance_score": s, "index": i}
                if body.get("return_documents"):
                    row["document"] = docs[i]
                rows.append(row)
            tokens = model.count_tokens(str(body.get("query") or "")) + sum(
                model.count_tokens(d) for d in docs
            )
            return json_answer(
                {
                    "object": "list",
                    "data": rows,
                    "model": call.model,
                    "usage": {"total_tokens": tokens},
                }
            )
        return None


class JinaWire(_DetailErrors):
    """Answers like Jina AI."""

    name = "jina"

    def model_not_found(self, model: str, call: Call) -> Response:
        """404 ``{"detail": …}``: no recording of Jina's answer exists in shared/wire, so this
        is the FastAPI shape its other errors have, with OpenAI's status."""
        return json_answer({"detail": f"Model {model} not found (simulated)."}, 404)

    def handle(self, call: Call) -> Answer | None:
        """``/embeddings`` and ``/rerank``."""
        body = call.body if isinstance(call.body, dict) else {}
        if call.path.endswith("/embeddings"):
            dims = int(body.get("dimensions") or call.scenario.dimensions)
            data, tokens = embedding_rows(
                document_texts(body.get("input")), dims, body.get("embedding_type") == "base64"
            )
            return json_answer(
                {
                    "model": call.model,
                    "object": "list",
                    "usage": {"total_tokens": tokens, "prompt_tokens": tokens},
                    "data": data,
                }
            )
        if call.path.endswith("/rerank"):
            docs, ranked = ranked_documents(body, "top_n")
            keep = body.get("return_documents", True)
            results = []
            for i, s in ranked:
                row: dict[str, Any] = {"index": i, "relevance_score": s}
                if keep:
                    row["document"] = {"text": docs[i]}
                results.append(row)
            tokens = model.count_tokens(str(body.get("query") or "")) + sum(
                model.count_tokens(d) for d in docs
            )
            return json_answer(
                {"model": call.model, "usage": {"total_tokens": tokens}, "results": results}
            )
        return None
