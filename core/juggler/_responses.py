"""Public answers. Each behaves like its natural Python type and carries ``models_used``.

* ``ChatResponse`` is a ``str``; ``EmbeddingResponse`` a ``list`` of vectors;
  ``RerankResponse`` a ``list`` of documents, best first; ``TranscriptionResponse`` a ``str``;
  ``SpeechResponse`` is ``bytes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from juggler._attempts import ModelAttempt, total_cost
from juggler._types import ToolCall, Usage

__all__ = [
    "ChatResponse",
    "EmbeddingResponse",
    "RerankResponse",
    "SpeechResponse",
    "TranscriptionResponse",
    "winner_of",
]


def _rebuild(cls: type, value: Any, state: dict[str, Any]) -> Any:
    """Unpickle / copy a str- or bytes-based answer without calling its keyword-only __new__."""
    base = str if issubclass(cls, str) else bytes
    obj: Any = base.__new__(cls, value)
    obj.__dict__.update(state)
    return obj


def _reduce(self: Any) -> tuple[Any, ...]:
    base = str if isinstance(self, str) else bytes
    return (_rebuild, (type(self), base(self), dict(self.__dict__)))


def winner_of(
    models_used: Sequence[ModelAttempt], provider: str | None = None
) -> ModelAttempt | None:
    """The attempt whose answer was returned: the successful one (outcome ``success`` or
    ``cache_hit``), of ``provider`` when given. ``models_used`` lists attempts in the order
    they started, so the answer's attempt is usually not ``models_used[0]``."""
    answered = [a for a in models_used if a.success]
    mine = [a for a in answered if provider is None or a.provider == provider]
    chosen = mine or answered
    return chosen[-1] if chosen else None


class _Answer:
    """Fields every answer has: who answered, how long it took, and every attempt.

    ``winner`` (alias ``answered_by``) is the :class:`ModelAttempt` whose answer this is;
    ``models_used`` lists every attempt in start order, failures first.
    """

    provider: str
    model: str
    latency_ms: float
    models_used: list[ModelAttempt]
    cached: bool

    @property
    def winner(self) -> ModelAttempt | None:
        """The attempt that produced this answer (outcome ``success`` or ``cache_hit``).
        Use it, not ``models_used[0]``, which is the first attempt, often a failure."""
        return winner_of(self.models_used, self.provider)

    @property
    def answered_by(self) -> ModelAttempt | None:
        """Alias of :attr:`winner`."""
        return self.winner

    def _set_meta(
        self,
        provider: str,
        model: str,
        latency_ms: float,
        models_used: Sequence[ModelAttempt],
        cached: bool,
    ) -> None:
        self.provider = provider
        self.model = model
        self.latency_ms = latency_ms
        self.models_used = list(models_used)
        self.cached = cached

    @property
    def cost_usd(self) -> float | None:
        """What this call cost in US dollars: the sum of ``cost_usd`` over ``models_used``,
        failed, hedged and cancelled attempts included; None when no attempt had a known price."""
        return total_cost(self.models_used)


class ChatResponse(str, _Answer):
    """The answer text (a ``str``), plus provider, model, usage, tool calls and models_used."""

    content: str
    usage: Usage
    finish_reason: str | None
    tool_calls: list[ToolCall]
    raw: Any

    def __new__(
        cls,
        content: str,
        *,
        provider: str,
        model: str,
        latency_ms: float = 0.0,
        usage: Usage | None = None,
        finish_reason: str | None = None,
        tool_calls: Sequence[ToolCall] = (),
        models_used: Sequence[ModelAttempt] = (),
        cached: bool = False,
        raw: Any = None,
    ) -> ChatResponse:
        self = super().__new__(cls, content)
        self.content = content
        self.usage = usage or Usage()
        self.finish_reason = finish_reason
        self.tool_calls = list(tool_calls)
        self.raw = raw
        self._set_meta(provider, model, latency_ms, models_used, cached)
        return self

    __reduce__ = _reduce  # copy, deepcopy and pickle keep every field

    def __repr__(self) -> str:
        return (
            f"ChatResponse({str.__repr__(self)}, provider={self.provider!r}, model={self.model!r},"
            f" attempts={len(self.models_used)})"
        )


class EmbeddingResponse(list[list[float]], _Answer):
    """Vectors in input order (a ``list``), plus dimensions, space, usage and models_used."""

    dimensions: int
    usage: Usage
    space: str

    def __init__(
        self,
        vectors: list[list[float]],
        *,
        provider: str,
        model: str,
        space: str,
        latency_ms: float = 0.0,
        usage: Usage | None = None,
        models_used: Sequence[ModelAttempt] = (),
        cached: bool = False,
    ) -> None:
        super().__init__(vectors)
        self.dimensions = len(vectors[0]) if vectors else 0
        self.usage = usage or Usage()
        self.space = space
        self._set_meta(provider, model, latency_ms, models_used, cached)


class RerankResponse(list[Any], _Answer):
    """The documents, best first (a ``list``), plus ``scores`` and input ``indices``."""

    scores: list[float]
    indices: list[int]
    usage: Usage

    def __init__(
        self,
        documents: list[Any],
        *,
        scores: list[float],
        indices: list[int],
        provider: str,
        model: str,
        latency_ms: float = 0.0,
        usage: Usage | None = None,
        models_used: Sequence[ModelAttempt] = (),
        cached: bool = False,
    ) -> None:
        super().__init__(documents)
        self.scores = scores
        self.indices = indices
        self.usage = usage or Usage()
        self._set_meta(provider, model, latency_ms, models_used, cached)


class TranscriptionResponse(str, _Answer):
    """The transcript (a ``str``), plus language, duration in seconds and segments."""

    text: str
    language: str | None
    duration: float | None
    segments: list[dict[str, Any]] | None

    def __new__(
        cls,
        text: str,
        *,
        provider: str,
        model: str,
        language: str | None = None,
        duration: float | None = None,
        segments: list[dict[str, Any]] | None = None,
        latency_ms: float = 0.0,
        models_used: Sequence[ModelAttempt] = (),
        cached: bool = False,
    ) -> TranscriptionResponse:
        self = super().__new__(cls, text)
        self.text = text
        self.language = language
        self.duration = duration
        self.segments = segments
        self._set_meta(provider, model, latency_ms, models_used, cached)
        return self

    __reduce__ = _reduce


class SpeechResponse(bytes, _Answer):
    """The audio (``bytes``; ``len()`` is the byte count), its MIME type and models_used."""

    content_type: str

    def __new__(
        cls,
        audio: bytes,
        *,
        content_type: str,
        provider: str,
        model: str,
        latency_ms: float = 0.0,
        models_used: Sequence[ModelAttempt] = (),
        cached: bool = False,
    ) -> SpeechResponse:
        self = super().__new__(cls, audio)
        self.content_type = content_type
        self._set_meta(provider, model, latency_ms, models_used, cached)
        return self

    __reduce__ = _reduce

    @property
    def audio_data(self) -> bytes:
        """The raw audio bytes."""
        return bytes(self)

    def write_to_file(self, path: str | Path) -> Path:
        """Write the audio to ``path`` and return it."""
        target = Path(path)
        target.write_bytes(self)
        return target

    def __repr__(self) -> str:
        return (
            f"SpeechResponse({len(self)} bytes, {self.content_type!r}, provider={self.provider!r},"
            f" model={self.model!r})"
        )
