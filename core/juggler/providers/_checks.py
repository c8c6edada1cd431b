"""What a usable answer looks like, whatever the wire: the last check before the engine.

Every wire parses its own shapes; these checks then refuse what no caller could use (vectors of
mixed or zero length, a rerank index twice or outside the input, a transcript that is not
text, a ``model`` or ``finish_reason`` that is not a string, an HTML page served as audio).
Each raises :class:`AnswerShapeError`, which the provider boundary turns into an
``InvalidResponseError`` carrying the HTTP status, so the engine falls over to the next target.
"""

from __future__ import annotations

import math
from typing import Any

from juggler._types import ToolCall, Usage
from juggler.providers.types import (
    ChatDelta,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    RerankRequest,
    RerankResult,
    SpeechResult,
    ToolCallDelta,
    TranscriptionResult,
)

__all__ = [
    "AnswerShapeError",
    "check_answer",
    "check_delta",
    "ranking_pairs",
]

# Content types that are never audio: a captive portal or a gateway's error page.
_NOT_AUDIO = ("text/", "application/json", "application/xml", "application/xhtml")


class AnswerShapeError(ValueError):
    """An answer parsed, but is not one a caller could use."""


def _fail(message: str) -> AnswerShapeError:
    return AnswerShapeError(message)


def _optional_str(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise _fail(f"{name} is a {type(value).__name__}, not a string")


def _check_usage(usage: Any) -> None:
    if usage is None:
        return
    if not isinstance(usage, Usage):
        raise _fail(f"usage is a {type(usage).__name__}")
    for name in ("input_tokens", "output_tokens", "total_tokens"):
        value = getattr(usage, name)
        if value is not None and (isinstance(value, bool) or not 0 <= value < 2**53):
            raise _fail(f"usage.{name} is {value!r}")


def _check_chat(result: ChatResult) -> None:
    if not isinstance(result.content, str):
        raise _fail(f"content is a {type(result.content).__name__}, not a string")
    if not isinstance(result.model, str) or not result.model:
        raise _fail(f"model is {result.model!r}, not a model name")
    _optional_str("finish_reason", result.finish_reason)
    if not isinstance(result.tool_calls, list) or not all(
        isinstance(c, ToolCall) for c in result.tool_calls
    ):
        raise _fail("tool_calls are not tool calls")
    _check_usage(result.usage)


def check_delta(delta: Any) -> None:
    """Refuse a streamed delta no caller could use (raises AnswerShapeError)."""
    if not isinstance(delta, ChatDelta):
        raise _fail(f"stream produced a {type(delta).__name__}")
    if not isinstance(delta.text, str):
        raise _fail(f"delta text is a {type(delta.text).__name__}, not a string")
    _optional_str("finish_reason", delta.finish_reason)
    _optional_str("model", delta.model)
    for call in delta.tool_calls:
        if (
            not isinstance(call, ToolCallDelta)
            or isinstance(call.index, bool)
            or not isinstance(call.index, int)
            or not 0 <= call.index < 1024
            or not isinstance(call.arguments, str)
        ):
            raise _fail("malformed tool-call fragment")
        _optional_str("tool call id", call.id)
        _optional_str("tool call name", call.name)
    _check_usage(delta.usage)


def _check_embed(result: EmbedResult, request: EmbedRequest) -> None:
    vectors = result.vectors
    if not isinstance(vectors, list) or len(vectors) != len(request.texts):
        got = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
        raise _fail(f"asked for {len(request.texts)} vectors, got {got}")
    sizes = {len(v) if isinstance(v, list) else -1 for v in vectors}
    if len(sizes) != 1 or min(sizes) <= 0:
        raise _fail(f"vectors of mixed or zero length: {sorted(sizes)[:4]}")
    for vector in vectors:
        for x in vector:
            if isinstance(x, bool) or not isinstance(x, float | int) or not math.isfinite(x):
                raise _fail(f"embedding value {x!r} is not a finite number")
    _optional_str("model", result.model)
    _check_usage(result.usage)


def _check_rerank(result: RerankResult, request: RerankRequest) -> None:
    n = len(request.documents)
    seen: set[int] = set()
    if not isinstance(result.ranking, list) or len(result.ranking) > n:
        raise _fail("more rerank results than documents")
    for pair in result.ranking:
        index, score = pair
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise _fail(f"rerank index {index!r} is outside the {n} documents")
        if index in seen:
            raise _fail(f"rerank index {index} appears twice")
        seen.add(index)
        if (
            isinstance(score, bool)
            or not isinstance(score, float | int)
            or not math.isfinite(score)
        ):
            raise _fail(f"rerank score {score!r} is not a finite number")
    _optional_str("model", result.model)
    _check_usage(result.usage)


def _check_transcription(result: TranscriptionResult) -> None:
    if not isinstance(result.text, str):
        raise _fail(f"transcript is a {type(result.text).__name__}, not a string")
    _optional_str("language", result.language)
    duration = result.duration
    if duration is not None and (not math.isfinite(duration) or duration < 0):
        raise _fail(f"duration {duration!r} is not a length of time")
    if result.segments is not None and not isinstance(result.segments, list):
        raise _fail("segments are not a list")


def _check_speech(result: SpeechResult) -> None:
    if not isinstance(result.audio, bytes) or not result.audio:
        raise _fail("empty audio answer")
    content_type = (result.content_type or "").lower()
    if content_type.startswith(_NOT_AUDIO):
        raise _fail(f"expected audio, got {content_type!r}")
    head = result.audio[:64].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{")):
        raise _fail("expected audio, got a document")


def check_answer(result: Any, request: Any) -> None:
    """Refuse a complete answer no caller could use (raises AnswerShapeError)."""
    if isinstance(result, ChatResult):
        _check_chat(result)
    elif isinstance(result, EmbedResult):
        _check_embed(result, request)
    elif isinstance(result, RerankResult):
        _check_rerank(result, request)
    elif isinstance(result, TranscriptionResult):
        _check_transcription(result)
    elif isinstance(result, SpeechResult):
        _check_speech(result)
    else:
        raise _fail(f"provider returned a {type(result).__name__}")


def ranking_pairs(rows: Any, score_key: str, n_documents: int) -> list[tuple[int, float]]:
    """Rerank rows ``[{index, <score_key>}]`` as (index, score) pairs, best first. Raises
    ``TypeError`` / ``ValueError`` on a malformed row or an index outside the input (the
    provider boundary turns them into an InvalidResponseError with the HTTP status)."""
    if not isinstance(rows, list):
        raise TypeError(f"expected a list of rerank results, got {type(rows).__name__}")
    pairs = []
    for row in rows:
        if not isinstance(row, dict) or "index" not in row or score_key not in row:
            raise ValueError(f"rerank row without index and {score_key}: {str(row)[:60]!r}")
        index, score = row["index"], row[score_key]
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"rerank index {index!r} is not an integer")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise TypeError(f"rerank score {score!r} is not a number")
        if not 0 <= index < n_documents:
            raise ValueError("rerank index out of range")
        pairs.append((index, float(score)))
    return sorted(pairs, key=lambda pair: -pair[1])
