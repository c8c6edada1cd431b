"""Wire-neutral requests and results passed between the engine and the provider modules.

Requests use the OpenAI chat shape for messages and tools, because most vendors speak it and
the others convert from it in their own module. These are plain dataclasses: they sit on the
hot path and are validated once, in ``_validate``, before the engine sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from juggler._types import ToolCall, Usage

__all__ = [
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "EmbedRequest",
    "EmbedResult",
    "RerankRequest",
    "RerankResult",
    "SpeakRequest",
    "SpeechResult",
    "ToolCallDelta",
    "TranscribeRequest",
    "TranscriptionResult",
]


@dataclass(slots=True)
class ChatRequest:
    """A chat call, in OpenAI chat-completions shapes (messages, tools, tool_choice)."""

    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    reasoning_effort: str | None = None
    user: str | None = None
    # Extra HTTP headers (never auth headers); they do not change the answer, so no cache key.
    headers: dict[str, str] = field(default_factory=dict)
    extra_body: dict[str, Any] = field(default_factory=dict)

    def cache_fields(self) -> dict[str, Any]:
        """Everything that changes the answer, for cache keys."""
        return {
            "messages": self.messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "stop": self.stop,
            "tools": self.tools,
            "tool_choice": self.tool_choice,
            "response_format": self.response_format,
            "seed": self.seed,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "reasoning_effort": self.reasoning_effort,
            "user": self.user,
            "extra_body": self.extra_body,
        }


@dataclass(slots=True)
class ChatResult:
    """One provider's complete chat answer."""

    content: str
    model: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    raw: Any = None


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a streamed tool call; fragments with the same index belong together."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class ChatDelta:
    """One streamed event from a provider: text, tool-call fragments, usage or the end."""

    text: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None


@dataclass(slots=True)
class EmbedRequest:
    """Texts to embed. ``input_type`` is ``"document"`` or ``"query"`` where vendors care."""

    texts: list[str]
    input_type: str | None = None
    dimensions: int | None = None


@dataclass(slots=True)
class EmbedResult:
    """Vectors in input order."""

    vectors: list[list[float]]
    model: str
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class RerankRequest:
    """A query and the document texts to order."""

    query: str
    documents: list[str]
    top_k: int | None = None


@dataclass(slots=True)
class RerankResult:
    """(index into the input, relevance score) pairs, best first."""

    ranking: list[tuple[int, float]]
    model: str
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class TranscribeRequest:
    """Audio bytes with a file name (the extension tells the format) and a MIME type."""

    audio: bytes
    filename: str
    content_type: str
    language: str | None = None
    prompt: str | None = None


@dataclass(slots=True)
class TranscriptionResult:
    """Text, with language, duration and segments where the provider returns them."""

    text: str
    model: str
    language: str | None = None
    duration: float | None = None
    segments: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class SpeakRequest:
    """Text to speak, with an optional voice and the audio format wanted."""

    text: str
    voice: str | None = None
    format: str = "mp3"
    speed: float | None = None


@dataclass(slots=True)
class SpeechResult:
    """Audio bytes and their MIME type."""

    audio: bytes
    content_type: str
    model: str
