"""pydantic models of the OpenAI-shaped answers, from the recorded traffic in shared/wire
(openai/chat_completions, groq, together, mistral, voyage and jina embeddings).

They describe only the fields the parsers read, with the types seen on the wire; unknown
fields are allowed (vendors add their own, e.g. Groq's ``x_groq``). A body that does not fit
raises pydantic's ``ValidationError``, which the provider boundary reports as an
``InvalidResponseError`` with the HTTP status (see ``base._checked_call``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

__all__ = ["OpenAIChatAnswer", "OpenAIChunk", "OpenAIEmbeddings", "OpenAIUsage"]

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
