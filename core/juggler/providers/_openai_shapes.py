"""OpenAI-shaped answers, read once for every wire that uses them: usage (with cached
tokens), embedding rows (floats or base64), message text and tool calls. The OpenAI wire and
the vendors that copy its shapes (Voyage, Jina, Cohere v2's tool calls) share these readers."""

from __future__ import annotations

import array
import base64
import json
import sys
from typing import Any

from juggler._exceptions import InvalidResponseError
from juggler._types import ToolCall, Usage
from juggler.providers._shapes import OpenAIEmbeddings
from juggler.providers.base import BaseProvider
from juggler.providers.types import EmbedResult

__all__ = [
    "array_of_floats",
    "decode_vector",
    "embeddings_result",
    "ordered_vectors",
    "parse_tool_arguments",
    "text_of",
    "tool_calls_of",
    "usage_from_openai",
]


def usage_from_openai(raw: Any) -> Usage | None:
    """Usage from an OpenAI-shaped ``usage`` object (None when absent), with the cached
    prompt tokens of ``prompt_tokens_details.cached_tokens`` (or DeepSeek's
    ``prompt_cache_hit_tokens``)."""
    if not isinstance(raw, dict):
        return None
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if cached is None:
        cached = raw.get("prompt_cache_hit_tokens")
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    return Usage.of(prompt, completion, raw.get("total_tokens"), cached=cached)


def decode_vector(value: Any) -> list[float]:
    """An embedding as floats: a JSON list, or base64 of little-endian float32 (OpenAI, Voyage)."""
    if isinstance(value, str):
        raw = base64.b64decode(value, validate=True)
        if len(raw) % 4:
            raise ValueError(f"base64 embedding of {len(raw)} bytes is not float32")
        return list(array_of_floats(raw))
    if not isinstance(value, list):
        raise TypeError(f"embedding is a {type(value).__name__}, not a list")
    return [float(x) for x in value]


def ordered_vectors(rows: Any, count: int, *, by_index: bool = True) -> list[list[float]]:
    """``[{index, embedding}]`` (or bare vectors when ``by_index`` is False) as vectors in input
    order; raises ``ValueError`` when the count is not the one asked for."""
    if not isinstance(rows, list):
        raise TypeError(f"expected a list of embeddings, got {type(rows).__name__}")
    if by_index:
        rows = [row["embedding"] for row in sorted(rows, key=lambda row: row.get("index", 0))]
    vectors = [decode_vector(v) for v in rows]
    if len(vectors) != count:
        raise ValueError(f"asked for {count} vectors, got {len(vectors)}")
    return vectors


def embeddings_result(provider: BaseProvider, body: Any, count: int, model: str) -> EmbedResult:
    """An OpenAI-shaped embeddings answer (``data[{index, embedding}]``, ``usage``), as spoken
    by OpenAI, Voyage and Jina, as an EmbedResult; a bad shape is an InvalidResponseError."""
    OpenAIEmbeddings.model_validate(body)
    try:
        vectors = ordered_vectors(body["data"], count)
    except (KeyError, TypeError, ValueError) as exc:
        raise provider._error(
            InvalidResponseError, f"unexpected embeddings answer: {exc!r}", model
        ) from exc
    usage = body.get("usage") or {}
    return EmbedResult(
        vectors=vectors,
        model=body.get("model") or model,
        usage=Usage.of(
            usage.get("prompt_tokens", usage.get("total_tokens")), None, usage.get("total_tokens")
        ),
    )


def array_of_floats(raw: bytes) -> array.array[float]:
    """Little-endian float32 bytes as an array of Python floats."""
    values = array.array("f", raw)
    if sys.byteorder != "little":  # pragma: no cover - the wire is little-endian
        values.byteswap()
    return values


def text_of(content: Any) -> str:
    """The answer text of a message or delta ``content``.

    Usually a string; Mistral's reasoning models (magistral) send a list of blocks, of which
    only the ``text`` ones are answer text (``thinking`` blocks are not).
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text") or "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


def parse_tool_arguments(text: str | dict[str, Any] | None) -> Any:
    """Tool-call arguments arrive as a JSON string; an empty string means no arguments.
    Valid JSON that is not an object (NVIDIA nemotron-parse sends an array) is kept as it
    came; only text that is not JSON at all raises (ValueError)."""
    if isinstance(text, dict):
        return text
    if not text or not text.strip():
        return {}
    return json.loads(text)


def tool_calls_of(raw: Any) -> list[ToolCall]:
    """OpenAI-shaped ``tool_calls`` (``[{id, function: {name, arguments}}]``, as OpenAI and
    Cohere v2 send them) as ToolCalls; raises KeyError/TypeError/ValueError on a bad shape."""
    return [
        ToolCall(
            id=tc.get("id") or f"call_{i}",
            name=tc["function"]["name"],
            arguments=parse_tool_arguments(tc["function"].get("arguments")),
        )
        for i, tc in enumerate(raw or [])
    ]
