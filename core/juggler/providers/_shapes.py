"""pydantic models of the wires' answers, from the recorded traffic in shared/wire
(openai, groq, together, mistral, anthropic, google, cohere, voyage, jina).

They describe only the fields the parsers read, with the types seen on the wire; unknown
fields are allowed (vendors add their own, e.g. Groq's ``x_groq``). A body that does not fit
raises pydantic's ``ValidationError``, which the provider boundary reports as an
``InvalidResponseError`` with the HTTP status (see ``base._checked_call``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

__all__ = [
    "AnthropicEvent",
    "AnthropicMessage",
    "CohereChatAnswer",
    "CohereEmbeddings",
    "GeminiResponse",
    "OpenAIChatAnswer",
    "OpenAIChunk",
    "OpenAIEmbeddings",
    "OpenAIUsage",
    "RerankAnswer",
]

Count = Annotated[StrictInt, Field(ge=0)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class OpenAIUsage(_Shape):
    """``usage``: token counts, each a non-negative integer when present."""

    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    total_tokens: Count | None = None


class _Function(_Shape):
    name: StrictStr | None = None
    arguments: StrictStr | dict[str, Any] | None = None


class _ToolCall(_Shape):
    id: StrictStr | None = None
    index: Count | None = None
    function: _Function | None = None


class _Message(_Shape):
    # Usually a string; Mistral's reasoning models send a list of blocks.
    content: StrictStr | list[Any] | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(_Shape):
    index: Count = 0
    message: _Message | None = None
    delta: _Message | None = None
    finish_reason: StrictStr | None = None


class OpenAIChatAnswer(_Shape):
    """``POST /chat/completions`` without streaming: at least one choice."""

    model: StrictStr | None = None
    choices: Annotated[list[_Choice], Field(min_length=1)]
    usage: OpenAIUsage | None = None


class OpenAIChunk(_Shape):
    """One streamed ``chat.completion.chunk`` (the usage-only last chunk has no choices)."""

    model: StrictStr | None = None
    choices: list[_Choice] | None = None
    usage: OpenAIUsage | None = None


class _Embedding(_Shape):
    index: Count = 0
    # A list of floats, or base64 of little-endian float32 (encoding_format=base64).
    embedding: list[StrictFloat | StrictInt] | StrictStr


class OpenAIEmbeddings(_Shape):
    """``POST /embeddings`` (OpenAI, Voyage, Jina): one row per input, in any order."""

    model: StrictStr | None = None
    data: list[_Embedding]
    usage: OpenAIUsage | None = None


# ----- Anthropic Messages (shared/wire/anthropic) -----


class AnthropicUsage(_Shape):
    """Messages ``usage``: input, cache and output token counts."""

    input_tokens: Count | None = None
    output_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None


class _AnthropicBlock(_Shape):
    type: StrictStr
    text: StrictStr | None = None
    id: StrictStr | None = None
    name: StrictStr | None = None


class AnthropicMessage(_Shape):
    """``POST /v1/messages`` without streaming."""

    model: StrictStr | None = None
    content: list[_AnthropicBlock]
    stop_reason: StrictStr | None = None
    usage: AnthropicUsage | None = None


class _AnthropicStart(_Shape):
    model: StrictStr | None = None
    usage: AnthropicUsage | None = None


class _AnthropicDelta(_Shape):
    type: StrictStr | None = None
    text: StrictStr | None = None
    partial_json: StrictStr | None = None
    stop_reason: StrictStr | None = None


class AnthropicEvent(_Shape):
    """One streamed Messages event (message_start, content_block_*, message_delta, ...)."""

    type: StrictStr | None = None
    index: Count | None = None
    message: _AnthropicStart | None = None
    content_block: _AnthropicBlock | None = None
    delta: _AnthropicDelta | None = None
    usage: AnthropicUsage | None = None


# ----- Gemini generateContent (shared/wire/google) -----


class GeminiUsage(_Shape):
    """``usageMetadata`` token counts."""

    promptTokenCount: Count | None = None  # the wire's own name
    candidatesTokenCount: Count | None = None
    thoughtsTokenCount: Count | None = None
    totalTokenCount: Count | None = None


class _GeminiContent(_Shape):
    parts: list[dict[str, Any]] | None = None


class _GeminiCandidate(_Shape):
    content: _GeminiContent | None = None
    finishReason: StrictStr | None = None


class GeminiResponse(_Shape):
    """A GenerateContentResponse, whole or one streamed chunk."""

    candidates: list[_GeminiCandidate] | None = None
    usageMetadata: GeminiUsage | None = None
    modelVersion: StrictStr | None = None


# ----- Cohere v2 (shared/wire/cohere) -----


class _CohereMessage(_Shape):
    content: list[dict[str, Any]] | None = None
    tool_calls: list[_ToolCall] | None = None


class CohereChatAnswer(_Shape):
    """``POST /v2/chat`` without streaming."""

    message: _CohereMessage
    finish_reason: StrictStr | None = None


class _CohereFloats(_Shape):
    float: list[list[StrictFloat | StrictInt]]


class CohereEmbeddings(_Shape):
    """``POST /v2/embed`` with ``embedding_types: ["float"]``."""

    embeddings: _CohereFloats


# ----- rerank rows (Cohere, Jina, Voyage, Together, NVIDIA) -----


class RerankAnswer(_Shape):
    """A rerank answer: a list of rows under one of the vendors' keys."""

    results: list[dict[str, Any]] | None = None
    data: list[dict[str, Any]] | None = None
    rankings: list[dict[str, Any]] | None = None
    model: StrictStr | None = None
