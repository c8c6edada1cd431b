"""The capability-specific pieces of each call: the embedding operation (batched to the
provider's limit) and the public answers built from a routed result. Kept out of the façade
so ``_juggler`` stays a thin list of public methods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from juggler._policy.cost import Units
from juggler._responses import (
    ChatResponse,
    EmbeddingResponse,
    RerankResponse,
    SpeechResponse,
    TranscriptionResponse,
)
from juggler._routing.accounting import Metered
from juggler._routing.plan import space_of
from juggler._routing.record import Routed
from juggler._types import Target, Usage
from juggler.providers.base import BaseProvider
from juggler.providers.types import (
    ChatResult,
    EmbedRequest,
    EmbedResult,
    RerankResult,
    SpeechResult,
    TranscriptionResult,
)

__all__ = [
    "chat_response",
    "embed_op",
    "embedding_response",
    "rerank_response",
    "speech_response",
    "transcription_response",
]


def embed_op(request: EmbedRequest) -> Callable[[BaseProvider, Target], Awaitable[EmbedResult]]:
    """Embed ``request`` on one target, split into the provider's batch size, in order."""

    async def op(provider: BaseProvider, target: Target) -> EmbedResult:
        size = provider.spec.embed_batch_limit
        vectors: list[list[float]] = []
        result: EmbedResult | None = None
        tokens = 0
        for start in range(0, len(request.texts), size):
            part = EmbedRequest(
                request.texts[start : start + size], request.input_type, request.dimensions
            )
            result = await provider.embed(target.model, part)
            vectors.extend(result.vectors)
            tokens += result.usage.input_tokens or 0
        assert result is not None
        return EmbedResult(vectors, result.model, Usage.of(tokens or None, None))

    return op


def rerank_meter(result: RerankResult) -> Metered:
    """A rerank is billed per search (and, by some vendors, per token)."""
    return result.usage, Units(searches=1), result.model


def transcription_meter(result: TranscriptionResult) -> Metered:
    """A transcription is billed by the audio's length."""
    return None, Units(audio_seconds=result.duration) if result.duration else None, None


def speech_meter(text: str) -> Callable[[SpeechResult], Metered]:
    """Speech is billed by the characters of its input."""
    return lambda _result: (None, Units(characters=len(text)), None)


def _meta(routed: Routed[Any]) -> dict[str, Any]:
    return {
        "provider": routed.target.provider,
        "latency_ms": routed.latency_ms,
        "models_used": routed.attempts,
        "cached": routed.cached,
    }


def chat_response(routed: Routed[ChatResult]) -> ChatResponse:
    """The public chat answer."""
    r = routed.result
    return ChatResponse(
        r.content,
        model=r.model or routed.target.model,
        usage=r.usage,
        finish_reason=r.finish_reason,
        tool_calls=r.tool_calls,
        raw=r.raw,
        **_meta(routed),
    )


def embedding_response(routed: Routed[EmbedResult]) -> EmbeddingResponse:
    """The public embeddings answer."""
    return EmbeddingResponse(
        routed.result.vectors,
        model=routed.target.model,
        space=space_of(routed.target),
        usage=routed.result.usage,
        **_meta(routed),
    )


def rerank_response(
    routed: Routed[RerankResult], documents: Sequence[Any], top_k: int | None
) -> RerankResponse:
    """The caller's own documents, best first, with scores and input indices."""
    ranking = sorted(routed.result.ranking, key=lambda pair: -pair[1])
    if top_k is not None:
        ranking = ranking[:top_k]
    docs = list(documents)
    return RerankResponse(
        [docs[i] for i, _ in ranking],
        scores=[s for _, s in ranking],
        indices=[i for i, _ in ranking],
        model=routed.target.model,
        usage=routed.result.usage,
        **_meta(routed),
    )


def transcription_response(routed: Routed[TranscriptionResult]) -> TranscriptionResponse:
    """The public transcript."""
    r = routed.result
    return TranscriptionResponse(
        r.text,
        model=routed.target.model,
        language=r.language,
        duration=r.duration,
        segments=r.segments,
        **_meta(routed),
    )


def speech_response(routed: Routed[SpeechResult]) -> SpeechResponse:
    """The public audio answer."""
    r = routed.result
    return SpeechResponse(
        r.audio, content_type=r.content_type, model=routed.target.model, **_meta(routed)
    )
